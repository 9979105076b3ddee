"""The ratio x depth grid (Gatys et al. 2016, Fig. 4) on tiny images."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from nstlab.lab.tradeoff import RatioDepthGrid, _ratio_label, ratio_depth_grid


@pytest.fixture(scope="module")
def small_grid(request):
    photo = request.getfixturevalue("photo_64")
    painting = request.getfixturevalue("starry_64")
    grid, figure = ratio_depth_grid(photo, painting, ratios=[1, 1000],
                                    layer_sets=[["block1_conv1"],
                                                ["block1_conv1", "block2_conv1"]],
                                    size=40, steps=12)
    yield grid, figure
    plt.close(figure)


def test_grid_has_one_image_per_pair(small_grid):
    grid, _ = small_grid
    assert isinstance(grid, RatioDepthGrid)
    assert list(grid.rows) == ["block1", "block1..block2"]
    assert grid.ratios == [1.0, 1000.0]
    assert set(grid) == {(row, ratio) for row in grid.rows for ratio in grid.ratios}
    for image in grid.values():
        assert image.shape == grid.content.shape and image.dtype == np.float32
        assert 0.0 <= image.min() and image.max() <= 1.0
    assert list(grid.row("block1")) == [1.0, 1000.0]
    assert list(grid.column(1000.0)) == ["block1", "block1..block2"]


def test_more_style_weight_trades_content_for_style(small_grid):
    grid, _ = small_grid
    for row in grid.rows:
        much_style, little_style = grid.distances[row, 1.0], grid.distances[row, 1000.0]
        assert much_style["style"] < little_style["style"], row
        assert much_style["content"] > little_style["content"], row
        history = grid.histories[row, 1.0]
        assert len(history) == 12 and history.total[-1] < history.total[0]


def test_figure_is_labelled_by_rows_and_columns(small_grid):
    grid, figure = small_grid
    axes = [ax for ax in figure.axes if ax.images]
    assert len(axes) == 4
    assert [ax.get_title() for ax in axes[:2]] == ["α/β = 1e0", "α/β = 1e3"]
    assert [axes[0].get_ylabel(), axes[2].get_ylabel()] == ["block1", "block1..block2"]
    np.testing.assert_allclose(axes[1].images[0].get_array(), grid["block1", 1000.0])


def test_ratio_labels():
    assert _ratio_label(100.0) == "α/β = 1e2"
    assert _ratio_label(0.1) == "α/β = 1e-1"
    assert _ratio_label(30.0) == "α/β = 30"


@pytest.mark.parametrize("options, message", [
    ({"ratios": [0]}, "ratios must be positive"),
    ({"ratios": []}, "ratios must be positive"),
    ({"layer_sets": [[]]}, "non-empty set"),
    ({"init": "style"}, "init must be"),
])
def test_bad_options_are_named(photo_64, starry_64, options, message):
    with pytest.raises(ValueError, match=message):
        ratio_depth_grid(photo_64, starry_64, size=32, steps=1, **options)
