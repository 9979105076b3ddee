"""Tests for nstlab.imaging.generated: the style images drawn by code (swirl, mosaic)."""

import time

import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv

from nstlab.imaging.generated import GENERATED_STYLES, generated_style


@pytest.mark.parametrize("kind", GENERATED_STYLES)
def test_generated_style_shape_dtype_range(kind):
    for size in (16, 100):
        image = generated_style(kind, size=size)
        assert image.shape == (size, size, 3)
        assert image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1
        assert np.isfinite(image).all()


@pytest.mark.parametrize("kind", GENERATED_STYLES)
def test_generated_style_is_deterministic_per_seed(kind):
    a = generated_style(kind, size=64, seed=3)
    np.testing.assert_array_equal(a, generated_style(kind, size=64, seed=3))
    assert np.abs(a - generated_style(kind, size=64, seed=4)).mean() > 0.05


@pytest.mark.parametrize("kind", GENERATED_STYLES)
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_style_is_a_colourful_texture(kind, seed):
    image = generated_style(kind, size=256, seed=seed)
    gray = image.mean(-1)
    assert image.std() > 0.15  # strong contrast
    gy, gx = np.gradient(gray)
    assert np.hypot(gx, gy).mean() > 0.02  # fine strokes / edges
    # Structure at a larger scale too: 8x8 block averages still vary (white noise would not).
    assert gray.reshape(32, 8, 32, 8).mean(axis=(1, 3)).std() > 0.08
    hue, saturation, _ = np.moveaxis(rgb_to_hsv(image), -1, 0)
    colourful = saturation > 0.3
    assert colourful.mean() > 0.5
    bins = np.bincount((hue[colourful] * 12).astype(int) % 12, minlength=12) / hue.size
    assert (bins > 0.01).sum() >= 3  # several distinct hues


@pytest.mark.parametrize("size", [128, 256])
def test_the_swirl_tiles_seamlessly(size):
    image = generated_style("swirl", size=size)
    for axis in (0, 1):
        steps = np.abs(np.diff(image, axis=axis)).mean(axis=(1 - axis, 2))  # one per line
        seam = np.abs(image.take(0, axis) - image.take(-1, axis)).mean()
        assert seam <= steps.max()  # the wrap-around step is no bigger than the others


@pytest.mark.parametrize("kind", GENERATED_STYLES)
def test_generated_style_is_fast(kind):
    generated_style(kind, size=64)  # warm up
    start = time.perf_counter()
    generated_style(kind, size=512)
    # Typically well under a second; the margin is for busy CI machines.
    assert time.perf_counter() - start < 5


def test_generated_style_rejects_a_silly_size_and_an_unknown_kind():
    with pytest.raises(ValueError, match="size"):
        generated_style("swirl", size=2)
    with pytest.raises(ValueError, match="unknown generated style 'cubism'; choose one of: "
                                         "swirl, mosaic"):
        generated_style("cubism")
