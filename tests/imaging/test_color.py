"""Colour helpers: YIQ, luminance transfer, colour statistics matching, denoising."""

import numpy as np
import pytest

from nstlab.imaging import color


def smooth_image(seed, height=24, width=32, spread=0.15):
    """A mid-grey image with gentle colour variation (stays in gamut when recoloured)."""
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.35, 0.65, size=3)
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    waves = np.stack([np.sin(6 * x + k) * np.cos(4 * y - k) for k in range(3)], axis=-1)
    noise = rng.normal(scale=0.03, size=(height, width, 3))
    return np.clip(base + spread * waves + noise, 0, 1).astype(np.float32)


def total_variation(image):
    return (np.abs(np.diff(image, axis=0)).sum() + np.abs(np.diff(image, axis=1)).sum())


def test_rgb_yiq_round_trip_and_grey_has_no_colour():
    rng = np.random.default_rng(0)
    image = rng.uniform(size=(5, 7, 3)).astype(np.float32)
    yiq = color.rgb_to_yiq(image)
    assert yiq.shape == image.shape and yiq.dtype == np.float32
    np.testing.assert_allclose(color.yiq_to_rgb(yiq), image, atol=1e-5)
    grey = np.full((2, 2, 3), 0.4, np.float32)
    np.testing.assert_allclose(color.rgb_to_yiq(grey)[..., 1:], 0, atol=1e-6)
    np.testing.assert_allclose(color.rgb_to_yiq(grey)[..., 0], 0.4, atol=1e-6)


def test_luminance_is_the_y_channel():
    image = smooth_image(1)
    y = color.luminance(image)
    assert y.shape == image.shape[:2] and y.dtype == np.float32
    np.testing.assert_allclose(y, color.rgb_to_yiq(image)[..., 0], atol=1e-6)
    white = np.ones((1, 1, 3), np.float32)
    assert color.luminance(white)[0, 0] == pytest.approx(1.0, abs=1e-6)


def test_transfer_luminance_keeps_stylized_y_and_content_iq():
    stylized = smooth_image(2, spread=0.1)
    content = smooth_image(3, spread=0.1)
    out = color.transfer_luminance(stylized, content)
    assert out.shape == stylized.shape and out.dtype == np.float32
    out_yiq = color.rgb_to_yiq(out)
    np.testing.assert_allclose(out_yiq[..., 0], color.luminance(stylized), atol=2e-3)
    np.testing.assert_allclose(out_yiq[..., 1:], color.rgb_to_yiq(content)[..., 1:], atol=2e-3)


def test_transfer_luminance_resizes_the_content():
    stylized = smooth_image(4, 24, 32)
    content = smooth_image(5, 48, 64)
    out = color.transfer_luminance(stylized, content)
    assert out.shape == stylized.shape
    assert 0 <= out.min() and out.max() <= 1
    np.testing.assert_allclose(color.luminance(out), color.luminance(stylized), atol=0.05)


@pytest.mark.parametrize("mode", color.COLOR_MATCH_MODES)
def test_match_color_statistics_gives_the_reference_mean_and_covariance(mode):
    source = smooth_image(6, 20, 30)
    source[..., 0] *= 0.5  # a different colour cast from the reference
    reference = smooth_image(7, 40, 24, spread=0.2)
    out = color.match_color_statistics(source, reference, mode=mode, clip=False)
    assert out.shape == source.shape and out.dtype == np.float32
    pixels, ref = out.reshape(-1, 3), reference.reshape(-1, 3)
    np.testing.assert_allclose(pixels.mean(0), ref.mean(0), atol=1e-4)
    np.testing.assert_allclose(np.cov(pixels, rowvar=False), np.cov(ref, rowvar=False),
                               atol=2e-4)
    clipped = color.match_color_statistics(source, reference, mode=mode)
    assert 0 <= clipped.min() and clipped.max() <= 1


def test_match_color_statistics_modes_differ_and_unknown_mode_fails():
    source, reference = smooth_image(8), smooth_image(9, spread=0.25)
    chol = color.match_color_statistics(source, reference, "cholesky", clip=False)
    pca = color.match_color_statistics(source, reference, "pca", clip=False)
    assert not np.allclose(chol, pca)
    with pytest.raises(ValueError, match="mode"):
        color.match_color_statistics(source, reference, "lab")


def test_match_color_statistics_survives_a_flat_image():
    flat = np.full((8, 8, 3), 0.5, np.float32)
    out = color.match_color_statistics(flat, smooth_image(10))
    assert np.all(np.isfinite(out))


def test_shift_mean_color_moves_the_mean_and_keeps_the_differences():
    image = smooth_image(11, spread=0.1)  # about 0.5 +- 0.1: nothing clips
    style = smooth_image(12) * np.array([0.4, 0.6, 0.9], np.float32)
    tinted = color.shift_mean_color(image, style)
    assert tinted.dtype == np.float32 and tinted.shape == image.shape
    np.testing.assert_allclose(tinted.mean(axis=(0, 1)), style.mean(axis=(0, 1)), atol=1e-5)
    offset = tinted - image
    np.testing.assert_allclose(offset, np.broadcast_to(offset[:1, :1], offset.shape), atol=1e-6)


def test_shift_mean_color_mixes_several_targets_and_clips():
    image = np.full((4, 4, 3), 0.5, np.float32)
    dark, light = np.zeros((2, 2, 3), np.float32), np.ones((3, 3, 3), np.float32)
    np.testing.assert_allclose(color.shift_mean_color(image, [dark, light], [1, 3]), 0.75)
    np.testing.assert_allclose(color.shift_mean_color(image, [dark, light]), 0.5)
    image[0, 0] = 0.9
    assert color.shift_mean_color(image, light).max() == 1.0  # clipped, never above
    with pytest.raises(ValueError, match="one weight >= 0 per image"):
        color.shift_mean_color(image, [dark, light], [1])
    with pytest.raises(ValueError, match="one weight >= 0 per image"):
        color.shift_mean_color(image, [dark], [0])
    with pytest.raises(ValueError, match="RGB image"):
        color.shift_mean_color(image, np.zeros((4, 4)))


@pytest.mark.parametrize(("method", "strength"), [("bilateral", 0.2), ("median", 1.0)])
def test_denoise_lowers_total_variation(method, strength):
    rng = np.random.default_rng(11)
    clean = smooth_image(12, 32, 32, spread=0.2)
    noisy = np.clip(clean + rng.normal(scale=0.08, size=clean.shape), 0, 1).astype(np.float32)
    out = color.denoise(noisy, strength, method=method)
    assert out.shape == noisy.shape and out.dtype == np.float32
    assert total_variation(out) < 0.7 * total_variation(noisy)
    # ... and moves it towards the clean image.
    assert np.abs(out - clean).mean() < np.abs(noisy - clean).mean()


def test_denoise_strength_zero_is_identity_and_bilateral_keeps_edges():
    image = smooth_image(13)
    np.testing.assert_array_equal(color.denoise(image, 0), image)
    edge = np.zeros((16, 16, 3), np.float32)
    edge[:, 8:] = 1.0
    out = color.denoise(edge, 0.1)
    np.testing.assert_allclose(out, edge, atol=1e-3)  # a hard edge survives the bilateral
    with pytest.raises(ValueError):
        color.denoise(image, -1)


def test_linear_light_round_trip_and_blend():
    from nstlab.imaging.color import blend_linear_light, linear_to_srgb, srgb_to_linear

    values = np.linspace(0, 1, 101, dtype=np.float32).reshape(1, -1, 1).repeat(3, axis=-1)
    np.testing.assert_allclose(linear_to_srgb(srgb_to_linear(values)), values, atol=1e-5)
    black, white = np.zeros((2, 2, 3), np.float32), np.ones((2, 2, 3), np.float32)
    # Half the light of white is brighter than half its stored value.
    np.testing.assert_allclose(blend_linear_light(black, white, 0.5), 0.7354, atol=1e-3)
    np.testing.assert_array_equal(blend_linear_light(black, white, 0), black)
    np.testing.assert_array_equal(blend_linear_light(black, white, 1), white)
    with pytest.raises(ValueError, match="between 0 and 1"):
        blend_linear_light(black, white, 2)
    with pytest.raises(ValueError, match="differ in shape"):
        blend_linear_light(black, np.ones((3, 2, 3), np.float32), 0.5)
