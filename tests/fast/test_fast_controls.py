"""nstlab fast's controls: working resolution, strength and preserve_color."""

import numpy as np
import pytest

from nstlab.base.validators import OptionError
from nstlab.fast import FastStylizer
from nstlab.fast.controls import FAST_PRESERVE_COLOR, check_controls
from nstlab.imaging import color
from nstlab.imaging.images import resize_image
from nstlab.run.options import PRESERVE_COLOR


@pytest.fixture(scope="module")
def stylizer():
    return FastStylizer.load("starry_night")


@pytest.fixture(scope="module")
def photo(photo_path):
    from nstlab.imaging.images import load_image

    return load_image(photo_path, max_size=64)


@pytest.mark.parametrize(("given", "message"), [
    ({"size": 4}, "size must be a whole number >= 8"),
    ({"size": 20.5}, "size must be a whole number"),
    ({"strength": 1.5}, "strength must be between 0 and 1"),
    ({"strength": -0.1}, "strength must be a number >= 0"),
    ({"strength": "much"}, "strength must be a number"),
    ({"preserve_color": "histogram"}, "cannot apply it; use luminance or post"),
    ({"preserve_color": "sepia"}, "unknown preserve_color 'sepia'"),
])
def test_bad_controls_are_one_line_errors(given, message):
    with pytest.raises(OptionError, match=message) as caught:
        check_controls(**given)
    assert "\n" not in str(caught.value)


def test_the_modes_are_stylizes_that_apply():
    assert set(FAST_PRESERVE_COLOR) == set(PRESERVE_COLOR) - {"histogram"}


def test_size_is_the_working_resolution(stylizer, photo):
    picture = stylizer(photo, 32)
    assert picture.shape == photo.shape
    painted = stylizer(resize_image(photo, 32))
    np.testing.assert_allclose(picture, resize_image(painted, photo.shape[:2]), atol=1e-6)
    np.testing.assert_array_equal(stylizer(photo, max(photo.shape[:2])), stylizer(photo))


def test_strength_mixes_the_picture_with_the_photo(stylizer, photo):
    full = stylizer(photo)
    np.testing.assert_allclose(stylizer(photo, strength=0), photo, atol=1e-6)
    np.testing.assert_array_equal(stylizer(photo, strength=1), full)
    half = stylizer(photo, strength=0.5)
    np.testing.assert_allclose(half, color.blend_linear_light(photo, full, 0.5), atol=1e-6)
    assert 0 < np.abs(half - photo).mean() < np.abs(full - photo).mean()


def unclipped(*pictures):
    """Where no channel of any picture was clipped to 0 or 1 (there YIQ swaps are exact)."""
    return np.logical_and.reduce([((p > 0.01) & (p < 0.99)).all(-1) for p in pictures])


def test_post_keeps_the_photos_colours(stylizer, photo):
    picture = stylizer(photo, preserve_color="post")
    inside = unclipped(picture)
    assert inside.mean() > 0.8
    np.testing.assert_allclose(color.luminance(picture)[inside],
                               color.luminance(stylizer(photo))[inside], atol=1e-3)
    np.testing.assert_allclose(color.rgb_to_yiq(picture)[..., 1:][inside],
                               color.rgb_to_yiq(photo)[..., 1:][inside], atol=1e-3)


def test_luminance_shows_the_network_only_the_brightness(stylizer, photo):
    # Less saturated, the same luminance: a mix of the photo and its grey stays in gamut.
    paler = color.yiq_to_rgb(color.rgb_to_yiq(photo) * np.array([1.0, 0.3, 0.3]))
    first = stylizer(photo, preserve_color="luminance")
    second = stylizer(paler, preserve_color="luminance")
    inside = unclipped(first, second)
    assert inside.mean() > 0.8
    np.testing.assert_allclose(color.luminance(first)[inside],
                               color.luminance(second)[inside], atol=1e-3)
    assert not np.allclose(first, stylizer(photo, preserve_color="post"), atol=1e-2)
