"""The figures of nstlab.lab.viz: checked by what they contain, not only that they exist."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import nstlab  # noqa: E402
from nstlab.engine.history import History  # noqa: E402
from nstlab.lab import viz  # noqa: E402

DEFAULT_STYLE = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def run():
    photo = nstlab.imaging.data.generated_style("mosaic", 48)
    style = nstlab.imaging.data.generated_style("swirl", 48)
    return nstlab.stylize(photo, style, size=32, steps=5, progress=False)


@pytest.fixture(scope="module")
def extractor():
    return nstlab.FeatureExtractor(["block1_conv1"])


def image_axes(fig):
    return [ax for ax in fig.axes if ax.get_images()]


def labels_of(ax):
    return [line.get_label() for line in ax.get_lines()]


def tops_at_last_x(polygons):
    """Height of each stacked area at the largest x."""
    heights = []
    for polygon in polygons:
        vertices = polygon.get_paths()[0].vertices
        at_end = vertices[np.isclose(vertices[:, 0], vertices[:, 0].max()), 1]
        heights.append(at_end.max() - at_end.min())
    return heights


# ------------------------------------------------------------------------------ show_images


def test_show_images_titles_and_one_axes_per_image():
    rng = np.random.default_rng(0)
    images = [rng.random((8, 10, 3), dtype=np.float32) for _ in range(3)]
    fig = viz.show_images(images, ["a", "b", "c"], suptitle="three")
    axes = image_axes(fig)
    assert len(axes) == len(fig.axes) == 3
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    assert all(not ax.axison for ax in axes)
    np.testing.assert_array_equal(axes[1].get_images()[0].get_array(), images[1])
    assert fig._suptitle.get_text() == "three"


def test_show_images_takes_a_dict_batches_of_one_grayscale_and_tensors():
    import tensorflow as tf

    color = np.full((6, 6, 3), 0.5, np.float32)
    gray = np.linspace(0, 1, 36, dtype=np.float32).reshape(6, 6)
    fig = viz.show_images({"batch": color[np.newaxis], "gray": gray,
                           "tensor": tf.constant(color)})
    axes = image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["batch", "gray", "tensor"]
    assert axes[0].get_images()[0].get_array().shape == (6, 6, 3)
    gray_image = axes[1].get_images()[0]
    assert gray_image.get_cmap().name == "gray"
    assert gray_image.get_clim() == (0.0, 1.0)


def test_show_images_grid_drops_unused_cells_and_clips():
    images = [np.full((4, 4, 3), 1.5, np.float32)] * 7
    fig = viz.show_images(images, ncols=3)
    assert len(fig.axes) == 7
    rows = {round(ax.get_position().y0, 3) for ax in fig.axes}
    assert len(rows) == 3
    assert fig.axes[0].get_images()[0].get_array().max() == 1.0
    with pytest.raises(ValueError, match="titles"):
        viz.show_images(images, titles=["only one"])
    with pytest.raises(ValueError, match="shape"):
        viz.show_images([np.zeros((4, 4, 5))])


# ------------------------------------------------------------------------ plot_layer_losses


def test_layer_losses_of_a_real_run(run):
    history = run.history
    fig = viz.plot_layer_losses(history)
    ax = fig.axes[0]
    labels = labels_of(ax)
    assert len(ax.get_lines()) == 8
    assert labels == (["content block4_conv2"] + [f"style {name}" for name in DEFAULT_STYLE]
                      + ["tv", "total"])
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert all(any(name in label for label in legend)
               for name in ["block4_conv2", *DEFAULT_STYLE, "tv", "total"])
    assert ax.get_yscale() == "log"
    lines = dict(zip(labels, ax.get_lines(), strict=True))
    np.testing.assert_array_equal(lines["total"].get_xdata(), history.steps)
    np.testing.assert_allclose(lines["total"].get_ydata(), history.total)
    np.testing.assert_allclose(lines["style block2_conv1"].get_ydata(),
                               history.style["block2_conv1"])
    assert lines["total"].get_linewidth() > lines["style block1_conv1"].get_linewidth()
    assert lines["content block4_conv2"].get_linestyle() == "-"
    assert lines["style block1_conv1"].get_linestyle() == "--"
    # style layers get different colours, shallow to deep
    assert len({tuple(lines[f"style {n}"].get_color()) for n in DEFAULT_STYLE}) == 5


def test_layer_losses_against_time(run):
    ax = viz.plot_layer_losses(run.history, x="time").axes[0]
    for line in ax.get_lines():
        np.testing.assert_allclose(line.get_xdata(), run.history.time)
    assert "time" in ax.get_xlabel()
    with pytest.raises(ValueError, match="x must be"):
        viz.plot_layer_losses(run.history, x="epoch")


def test_layer_losses_share_is_a_stack_summing_to_one(run):
    ax = viz.plot_layer_losses(run.history, share=True).axes[0]
    polygons = ax.collections
    assert len(polygons) == 7  # 1 content + 5 style + tv, no total
    assert not ax.get_lines()
    assert ax.get_yscale() == "linear"
    assert sum(tops_at_last_x(polygons)) == pytest.approx(1.0, abs=1e-9)
    parts = run.history.parts()
    expected = parts["style/block1_conv1"][-1] / sum(v[-1] for v in parts.values())
    labels = [p.get_label() for p in polygons]
    assert tops_at_last_x(polygons)[labels.index("style block1_conv1")] == pytest.approx(expected)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "total" not in legend and legend[-1] == "content block4_conv2"


def test_layer_losses_filter(run):
    ax = viz.plot_layer_losses(run.history, layers=["block1_conv1", "total"]).axes[0]
    assert labels_of(ax) == ["style block1_conv1", "total"]
    ax = viz.plot_layer_losses(run.history, layers=["content", "tv"]).axes[0]
    assert labels_of(ax) == ["content block4_conv2", "tv"]
    with pytest.raises(ValueError, match="block9_conv9"):
        viz.plot_layer_losses(run.history, layers=["block9_conv9"])


def test_layer_losses_without_style_and_one_step():
    history = History(["block4_conv2"], [])
    history.append({"content/block4_conv2": 0.5, "tv": 0.0}, 2.0, 0.5)
    fig = viz.plot_layer_losses(history)
    ax = fig.axes[0]
    assert labels_of(ax) == ["content block4_conv2", "total"]  # tv is 0 at every step
    assert any("tv" in text.get_text() for text in ax.texts)  # ... and a note says so
    assert all(line.get_marker() == "o" for line in ax.get_lines())  # one point shows
    fig.canvas.draw()
    share = viz.plot_layer_losses(history, share=True).axes[0]
    assert len(share.collections) == 2
    assert sum(tops_at_last_x(share.collections)) == pytest.approx(1.0)
    share.figure.canvas.draw()


def test_layer_losses_without_content_and_non_positive_values():
    history = History([], ["block1_conv1"])
    for value in (3.0, 0.0, -1.0, 1.0):
        history.append({"style/block1_conv1": value, "tv": 1.0}, value + 1.0, 0.1)
    ax = viz.plot_layer_losses(history).axes[0]
    assert labels_of(ax) == ["style block1_conv1", "tv", "total"]
    style = ax.get_lines()[0].get_ydata()
    assert style.min() > 0 and style[0] == 3.0  # 0 and -1 are drawn at a small floor
    ax.figure.canvas.draw()
    share = viz.plot_layer_losses(history, share=True).axes[0]
    assert sum(tops_at_last_x(share.collections)) == pytest.approx(1.0)
    empty = viz.plot_layer_losses(History(["a"], ["b"])).axes[0]
    assert not empty.get_lines() and empty.texts


def test_layer_losses_draw_into_given_axes(run):
    fig, (left, right) = plt.subplots(1, 2)
    assert viz.plot_layer_losses(run.history, ax=right, title="mine") is fig
    assert right.get_title() == "mine" and not left.get_lines()


# ------------------------------------------------------------------------- plot_loss_curves


def test_loss_curves_compare_runs(run):
    other = History.from_dict(run.history.to_dict())
    other._time = [t * 2 for t in other._time]
    ax = viz.plot_loss_curves({"lbfgs": run, "slow": other}, x="time").axes[0]
    lines = ax.get_lines()
    assert [line.get_label().split(" ")[0] for line in lines] == ["lbfgs", "slow"]
    np.testing.assert_allclose(lines[1].get_xdata(), other.time)
    np.testing.assert_allclose(lines[0].get_ydata(), run.history.total)
    assert ax.get_yscale() == "log"


# ------------------------------------------------------------------------ show_feature_maps


def test_feature_maps_are_the_strongest_channels(extractor):
    image = nstlab.imaging.data.generated_style("mosaic", 32)
    activations = np.asarray(extractor(image)["block1_conv1"])[0]
    fig = viz.show_feature_maps(extractor, image, "block1_conv1", n=6, ncols=3)
    axes = image_axes(fig)
    assert len(axes) == len(fig.axes) == 6
    means = activations.mean(axis=(0, 1))
    expected = np.argsort(-means)[:6]
    assert [ax.get_title() for ax in axes] == [f"ch {c}" for c in expected]
    for ax, channel in zip(axes, expected, strict=True):
        np.testing.assert_allclose(ax.get_images()[0].get_array(), activations[..., channel])
    shown = [activations[..., c].mean() for c in expected]
    assert shown == sorted(shown, reverse=True)
    title = fig._suptitle.get_text()
    assert "block1_conv1" in title and "32x32" in title


def test_feature_maps_from_a_backbone_name_and_wrong_layer(extractor):
    image = nstlab.imaging.data.generated_style("swirl", 32)
    fig = viz.show_feature_maps("vgg16", image, "block1_conv2", n=3)
    assert len(image_axes(fig)) == 3
    with pytest.raises(ValueError, match="block2_conv1"):
        viz.show_feature_maps(extractor, image, "block2_conv1")


# -------------------------------------------------------------------------------- show_gram


def test_gram_heat_map_is_a_permutation_of_the_gram_matrix():
    rng = np.random.default_rng(3)
    features = rng.random((6, 7, 12)).astype(np.float32)
    gram = np.asarray(nstlab.gram_matrix(features))
    fig = viz.show_gram(features[np.newaxis])
    image = image_axes(fig)[0].get_images()[0]
    data = np.asarray(image.get_array())
    np.testing.assert_allclose(np.sort(data, axis=None), np.sort(gram, axis=None), rtol=1e-5)
    order = viz.channel_order(gram)
    assert sorted(order) == list(range(12))
    np.testing.assert_allclose(data, gram[np.ix_(order, order)], rtol=1e-5)
    np.testing.assert_allclose(np.diag(data), np.diag(gram)[order], rtol=1e-5)
    assert image.colorbar is not None
    assert len(fig.axes) == 2  # the heat map and its colour bar


def test_gram_order_and_max_channels():
    rng = np.random.default_rng(4)
    # two groups of channels that fire together, interleaved: 0, 2, 4, ... and 1, 3, 5, ...
    group = np.arange(10) % 2
    maps = rng.random((200, 2)) ** 4
    features = maps[:, group] * (1 + 0.05 * rng.random((200, 10)))
    gram = features.T @ features / 200
    clustered = viz.channel_order(gram, "cluster")
    assert len(set(group[clustered[:5]])) == 1  # the first five are one group
    np.testing.assert_array_equal(viz.channel_order(gram, "none"), np.arange(10))
    strongest = viz.channel_order(gram, "strength", max_channels=4)
    np.testing.assert_array_equal(strongest, np.argsort(-np.diag(gram))[:4])
    fig = viz.show_gram(gram, order="none", max_channels=4, title="four")
    ax = image_axes(fig)[0]
    kept = np.sort(np.argsort(-np.diag(gram))[:4])
    np.testing.assert_allclose(ax.get_images()[0].get_array(), gram[np.ix_(kept, kept)])
    assert ax.get_title() == "four"
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(i) for i in kept]
    with pytest.raises(ValueError, match="order"):
        viz.show_gram(gram, order="random")


def test_gram_differences_use_a_diverging_scale():
    difference = np.array([[1.0, -2.0], [-2.0, 0.5]])
    fig = viz.show_gram(difference)
    image = image_axes(fig)[0].get_images()[0]
    assert image.get_clim() == (-2.0, 2.0)
    normalized = viz.show_gram(np.array([[4.0, 1.0], [1.0, 1.0]]), normalize=True)
    data = image_axes(normalized)[0].get_images()[0].get_array()
    np.testing.assert_allclose(np.diag(data), [1.0, 1.0])
    np.testing.assert_allclose(data[0, 1], 0.5)
