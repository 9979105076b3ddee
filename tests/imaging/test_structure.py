"""The structure measure: SSIM of luminance at a quarter of the size."""

import numpy as np
from scipy import ndimage

from nstlab.imaging import color
from nstlab.imaging.images import resize_image
from nstlab.imaging.structure import structure_kept


def test_a_photo_keeps_all_of_its_own_structure(photo_64):
    assert structure_kept(photo_64, photo_64) == 1.0


def test_colour_alone_changes_nothing_and_noise_loses_the_structure(photo_64):
    recoloured = color.yiq_to_rgb(color.rgb_to_yiq(photo_64) * np.array([1.0, 0.0, 0.0]))
    assert structure_kept(np.clip(recoloured, 0, 1), photo_64) > 0.99
    noise = np.random.default_rng(0).random(photo_64.shape, dtype=np.float32)
    assert abs(structure_kept(noise, photo_64)) < 0.2


def test_fine_strokes_cost_less_than_lost_shapes(photo_path):
    from nstlab.imaging.images import load_image

    photo = load_image(photo_path, max_size=96)
    fine = np.clip(photo + 0.15 * np.sign(np.sin(np.arange(photo.shape[1]) * 2.5))[
        None, :, None], 0, 1).astype(np.float32)  # stripes 1-2 px wide
    blurred = ndimage.gaussian_filter(photo, sigma=(8, 8, 0))
    assert structure_kept(fine, photo) > structure_kept(blurred, photo)


def test_a_photo_of_another_size_is_resized_to_the_pictures(photo_64):
    larger = resize_image(photo_64, 96)
    assert structure_kept(photo_64, larger) > 0.95
