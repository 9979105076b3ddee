"""Controls of Gatys et al. (2017): regions (guided Gram matrices), several styles."""

import numpy as np
import pytest

import nstlab
from nstlab.engine.losses import masked_gram_matrix
from nstlab.imaging import color


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
    with pytest.raises(ValueError, match="style_masks got 2 masks for 1 style images"):
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
    unscaled = nstlab.engine.backbones.build_vgg("vgg16", "block5_conv1", pooling="avg")(
        nstlab.preprocess(photo_64[None]))[-1]
    assert float(np.mean(unscaled)) < 0.5 * float(np.mean(with_max["block5_conv1"]))


def test_stylize_with_average_pooling(photo_64, starry_64):
    result = nstlab.stylize(photo_64, starry_64, size=48, steps=10, pooling="avg",
                            progress=False)
    style = result.history.style_total()
    assert np.all(np.isfinite(result.image)) and style[-1] < style[0] / 2


# --------------------------------------------------------------------------- colour control


@pytest.fixture(scope="module")
def colour_runs(request):
    """One plain run and one per preserve_color mode, same seed, 48 px, a few steps."""
    photo = request.getfixturevalue("photo_64")
    painting = request.getfixturevalue("starry_64")
    options = dict(size=48, steps=8, seed=0, progress=False)
    runs = {mode: nstlab.stylize(photo, painting, preserve_color=mode, **options)
            for mode in (None, "luminance", "histogram", "post")}
    runs["denoised"] = nstlab.stylize(photo, painting, denoise=0.2, **options)
    content = nstlab.resize_image(photo, 48)
    return runs, content


def _chrominance_error(image, content):
    return np.abs(color.rgb_to_yiq(image)[..., 1:] - color.rgb_to_yiq(content)[..., 1:]).mean()


def _colour_statistics_gap(image, content):
    pixels, reference = image.reshape(-1, 3), content.reshape(-1, 3)
    mean_gap = np.abs(pixels.mean(axis=0) - reference.mean(axis=0)).sum()
    cov_gap = np.abs(np.cov(pixels, rowvar=False) - np.cov(reference, rowvar=False)).sum()
    return mean_gap, cov_gap


def test_luminance_transfer_keeps_the_contents_chrominance(colour_runs):
    runs, content = colour_runs
    kept = _chrominance_error(runs["luminance"].image, content)
    plain = _chrominance_error(runs[None].image, content)
    assert kept < 0.01, kept  # only clipping to the RGB cube moves I and Q
    assert plain > 5 * kept, (plain, kept)
    # ... while the brightness is stylized: it differs from the photo's
    change = np.abs(color.luminance(runs["luminance"].image) - color.luminance(content)).mean()
    assert change > 0.02
    assert runs["luminance"].settings["preserve_color"] == "luminance"


def test_histogram_matching_brings_colour_mean_and_covariance_closer(colour_runs):
    runs, content = colour_runs
    matched_mean, matched_cov = _colour_statistics_gap(runs["histogram"].image, content)
    plain_mean, plain_cov = _colour_statistics_gap(runs[None].image, content)
    assert matched_mean < plain_mean and matched_cov < plain_cov


def test_post_is_the_plain_run_with_the_contents_colours(colour_runs):
    runs, content = colour_runs
    np.testing.assert_allclose(runs["post"].image,
                               color.transfer_luminance(runs[None].image, content), atol=1e-6)


def test_denoise_smooths_the_final_image(colour_runs):
    runs, _ = colour_runs
    np.testing.assert_allclose(runs["denoised"].image, color.denoise(runs[None].image, 0.2),
                               atol=1e-6)
    assert (nstlab.total_variation_loss(runs["denoised"].image[None])
            < nstlab.total_variation_loss(runs[None].image[None]))


def test_luminance_transfer_with_two_styles_and_two_scales(photo_64, starry_64):
    other = np.ascontiguousarray(starry_64[::-1])
    result = nstlab.stylize(photo_64, [starry_64, other], style_blend_weights=[1, 1],
                            preserve_color="luminance", size=48, scales=[32, 48], steps=2,
                            coarse_steps=1, progress=False)
    assert result.image.shape == (48, 41, 3)
    assert _chrominance_error(result.image, nstlab.resize_image(photo_64, 48)) < 0.01


def test_luminance_inputs_are_grey_and_matched():
    rng = np.random.default_rng(1)
    content = rng.uniform(0.5, 1.0, (20, 24, 3)).astype(np.float32)
    style = rng.uniform(0.0, 0.4, (16, 16, 3)).astype(np.float32)
    grey_content, [grey_style] = color.luminance_only_inputs(content, style)
    for grey in (grey_content, grey_style):
        assert np.allclose(grey[..., 0], grey[..., 1]) and np.allclose(grey[..., 1], grey[..., 2])
    y_content, y_style = color.luminance(content), grey_style[..., 0]
    assert y_style.mean() == pytest.approx(y_content.mean(), abs=1e-4)
    assert y_style.std() == pytest.approx(y_content.std(), rel=1e-3)
    assert grey_style.shape == style.shape


@pytest.mark.parametrize("options, message", [
    ({"preserve_color": "colour"}, "unknown preserve_color 'colour'; choose None or one of "
                                   "luminance, histogram, post"),
    ({"color_match_mode": "lab"}, "unknown color_match_mode 'lab'"),
    ({"denoise": -1.0}, "denoise must be a number >= 0"),
])
def test_bad_colour_options_are_named(photo_64, starry_64, options, message):
    with pytest.raises(ValueError, match=message):
        nstlab.stylize(photo_64, starry_64, size=32, steps=1, progress=False, **options)


# --------------------------------------------------------------------------- coarse style


def test_coarse_layers_take_their_targets_from_the_coarse_style(photo_64, starry_64):
    coarse = nstlab.imaging.data.generated_style("mosaic", 64)
    objective = nstlab.Objective(photo_64, starry_64, coarse_style=coarse)
    assert objective.coarse_layers == ["block3_conv1", "block4_conv1", "block5_conv1"]
    style_features = objective.extractor(starry_64)
    coarse_features = objective.extractor(coarse)
    for name in objective.style_layers:
        source = coarse_features if name in objective.coarse_layers else style_features
        np.testing.assert_allclose(objective.style_targets[name],
                                   nstlab.gram_matrix(source[name]), rtol=1e-5)


def test_coarse_style_changes_the_result(photo_64, starry_64):
    coarse = nstlab.imaging.data.generated_style("mosaic", 64)
    options = dict(size=48, steps=4, seed=0, progress=False)
    plain = nstlab.stylize(photo_64, starry_64, **options)
    mixed = nstlab.stylize(photo_64, starry_64, coarse_style=coarse,
                           coarse_layers=["block4_conv1", "block5_conv1"], **options)
    assert mixed.settings["coarse_style"] and mixed.image.shape == plain.image.shape
    assert np.abs(mixed.image - plain.image).mean() > 1e-3


def test_coarse_style_mistakes_are_named(photo_64, starry_64):
    with pytest.raises(ValueError, match="coarse_layers: .block4_conv2. is not a style layer"):
        nstlab.Objective(photo_64, starry_64, coarse_style=starry_64,
                         coarse_layers=["block4_conv2"])
    with pytest.raises(ValueError, match="cannot be combined with style_masks"):
        nstlab.Objective(photo_64, starry_64, coarse_style=starry_64,
                         style_masks=[np.ones(photo_64.shape[:2], np.float32)])
