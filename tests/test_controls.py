"""Controls of Gatys et al. (2017): regions (guided Gram matrices), several styles."""

import numpy as np
import pytest

import nstlab
from nstlab.losses import masked_gram_matrix


def test_masked_gram_of_a_full_mask_is_the_gram():
    rng = np.random.default_rng(0)
    features = rng.normal(size=(1, 6, 5, 4)).astype(np.float32)
    full = np.ones((1, 6, 5, 1), np.float32)
    np.testing.assert_allclose(masked_gram_matrix(features, full), nstlab.gram_matrix(features),
                               rtol=1e-5)
    left = np.zeros_like(full)
    left[:, :, :2] = 1
    np.testing.assert_allclose(masked_gram_matrix(features, left),
                               nstlab.gram_matrix(features[:, :, :2]), rtol=1e-5)


def test_mask_keeps_the_unmasked_half_close_to_the_content(photo_64, starry_64):
    mask = np.zeros(photo_64.shape[:2], np.float32)
    width = mask.shape[1]
    mask[:, : width // 2] = 1.0
    result = nstlab.stylize(photo_64, starry_64, size=None, steps=30, style_masks=[mask],
                            progress=False)
    change = np.abs(result.image - photo_64).mean(axis=(0, 2))
    left, right = change[: width // 2 - 4].mean(), change[width // 2 + 4:].mean()
    assert left > 1.4 * right  # deep layers see across the border, so the effect is soft


def test_masks_must_match_the_styles(photo_64, starry_64):
    with pytest.raises(ValueError, match="2 style masks for 1 style images"):
        nstlab.Objective(photo_64, starry_64, style_masks=[photo_64, photo_64])


def test_two_styles_weighted_one_to_zero_equal_the_first_alone(photo_64, starry_64):
    other = np.ascontiguousarray(starry_64[::-1, ::-1] * 0.6)
    options = dict(size=None, steps=5, seed=0, progress=False)
    alone = nstlab.stylize(photo_64, starry_64, **options)
    first_only = nstlab.stylize(photo_64, [starry_64, other], style_blend_weights=[1, 0],
                                **options)
    half = nstlab.stylize(photo_64, [starry_64, other], style_blend_weights=[0.5, 0.5],
                          **options)
    np.testing.assert_allclose(first_only.image, alone.image, atol=1e-5)
    assert np.abs(half.image - alone.image).mean() > 1e-3
    assert np.abs(half.image - nstlab.stylize(photo_64, other, **options).image).mean() > 1e-3


def test_average_pooling_is_rescaled_to_max_pooling_size(photo_64):
    layers = ["block1_conv1", "block3_conv1", "block5_conv1"]
    with_max = nstlab.FeatureExtractor(layers)(photo_64)
    with_avg = nstlab.FeatureExtractor(layers, pooling="avg")(photo_64)
    np.testing.assert_allclose(with_avg["block1_conv1"], with_max["block1_conv1"], rtol=1e-5)
    for name in layers[1:]:
        ratio = float(np.mean(with_avg[name])) / float(np.mean(with_max[name]))
        assert 0.5 < ratio < 2.0, (name, ratio)
    unscaled = nstlab.backbones.build_vgg("vgg16", "block5_conv1", pooling="avg")(
        nstlab.preprocess(photo_64[None]))[-1]
    assert float(np.mean(unscaled)) < 0.5 * float(np.mean(with_max["block5_conv1"]))


def test_stylize_with_average_pooling(photo_64, starry_64):
    result = nstlab.stylize(photo_64, starry_64, size=48, steps=10, pooling="avg",
                            progress=False)
    style = result.history.style_total()
    assert np.all(np.isfinite(result.image)) and style[-1] < style[0] / 2
