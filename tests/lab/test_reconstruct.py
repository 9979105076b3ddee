"""Reconstructions from single layers (Gatys et al. 2016, Fig. 1) on tiny images."""

import numpy as np
import pytest

from nstlab.imaging.data import generated_style
from nstlab.lab.reconstruct import (
    Reconstructions,
    content_reconstructions,
    default_style_layer_sets,
    layer_set_name,
    style_reconstructions,
)


def _image_axes(figure):
    return [ax for ax in figure.axes if ax.images]


def test_content_reconstructions_lower_the_loss(photo_64):
    import matplotlib.pyplot as plt

    layers = ["block1_conv2", "block3_conv2"]
    images, figure = content_reconstructions(photo_64, layers, steps=6, size=40)
    assert isinstance(images, Reconstructions)
    assert list(images) == layers
    assert images.original.shape[:2] == (40, 34)
    for layer, image in images.items():
        assert image.shape == images.original.shape and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
        start, end = images.losses[layer]
        assert end < 0.5 * start, layer
        assert len(images.histories[layer]) == 6
    assert len(_image_axes(figure)) == len(layers) + 1
    plt.close(figure)


def test_content_reconstructions_start_from_the_same_noise(photo_64):
    import matplotlib.pyplot as plt

    first, fig1 = content_reconstructions(photo_64, "block1_conv1", steps=2, size=32, seed=3)
    again, fig2 = content_reconstructions(photo_64, ["block1_conv1"], steps=2, size=32, seed=3)
    np.testing.assert_allclose(first["block1_conv1"], again["block1_conv1"], atol=1e-6)
    assert first.losses["block1_conv1"][0] == pytest.approx(again.losses["block1_conv1"][0])
    plt.close(fig1)
    plt.close(fig2)


def test_style_reconstructions_lower_the_loss():
    import matplotlib.pyplot as plt

    style = generated_style("swirl", 32)
    sets = [["block1_conv1"], ["block1_conv1", "block2_conv1"]]
    images, figure = style_reconstructions(style, sets, steps=6)
    assert list(images) == ["block1", "block1..block2"]
    for name, image in images.items():
        assert image.shape == (32, 32, 3)
        start, end = images.losses[name]
        assert end < 0.5 * start, name
    assert len(_image_axes(figure)) == 3
    plt.close(figure)


def test_style_sets_can_be_named():
    import matplotlib.pyplot as plt

    images, figure = style_reconstructions(generated_style("mosaic", 32),
                                           {"fine": ["block1_conv1"]}, steps=2)
    assert list(images) == ["fine"]
    plt.close(figure)


def test_default_style_sets_grow_one_block_at_a_time():
    sets = default_style_layer_sets()
    assert sets[0] == ["block1_conv1"]
    assert sets[-1] == ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1",
                        "block5_conv1"]
    assert [layer_set_name(s) for s in sets] == ["block1", "block1..block2", "block1..block3",
                                            "block1..block4", "block1..block5"]
    assert layer_set_name(["block3_conv1"]) == "block3"
    assert layer_set_name(["block1_conv1", "block3_conv1"]) == "block1_conv1+block3_conv1"


def test_empty_layer_lists_are_refused(photo_64):
    with pytest.raises(ValueError, match="at least one"):
        content_reconstructions(photo_64, [])
    with pytest.raises(ValueError, match="at least one"):
        style_reconstructions(photo_64, [[]])
