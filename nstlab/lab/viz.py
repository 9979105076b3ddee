"""Figures for looking inside style transfer: images, feature maps, Gram matrices, losses.

Every function draws one matplotlib figure and returns it (a ``matplotlib.figure.Figure``),
so you can save it with ``fig.savefig("name.png")``. In a notebook the figure appears below
the cell; end the line with ``;`` so that it does not appear a second time as the cell's
result. No function calls ``plt.show()``.

>>> nstlab.lab.viz.show_images({"photo": photo, "painting": painting})      # doctest: +SKIP
>>> nstlab.lab.viz.plot_layer_losses(result.history)                         # doctest: +SKIP
>>> nstlab.lab.viz.plot_layer_losses(result.history, share=True)             # doctest: +SKIP
>>> nstlab.lab.viz.show_feature_maps("vgg16", photo, "block3_conv1")         # doctest: +SKIP
>>> nstlab.lab.viz.show_gram(features["block2_conv1"])                       # doctest: +SKIP
>>> nstlab.lab.viz.plot_loss_curves({"adam": adam.history, "lbfgs": lbfgs.history}, x="time")
... # doctest: +SKIP
"""

from __future__ import annotations

import math
import re
import textwrap

import matplotlib.pyplot as plt
import numpy as np
from matplotlib import colors as mcolors
from matplotlib.ticker import MaxNLocator

__all__ = [
    "as_picture",
    "channel_order",
    "plot_layer_losses",
    "plot_loss_curves",
    "show_feature_maps",
    "show_gram",
    "show_images",
    "strongest_channels",
]

# How each kind of loss is drawn: content solid and green, style dashed and purple-to-orange
# (shallow to deep), TV dotted grey, the total thick and black.
CONTENT_COLORMAP = "Greens"
STYLE_COLORMAP = "plasma"
TV_COLOR = "0.45"
TOTAL_COLOR = "black"
X_AXES = {"step": "step", "time": "time (s)"}


# ------------------------------------------------------------------------------ image grids


def as_picture(image) -> np.ndarray:
    """One image as a NumPy array ``imshow`` can draw: (H, W), (H, W, 3) or (H, W, 4).

    A batch of one loses its batch axis, a single channel becomes grayscale (H, W), and
    RGB floats are clipped to [0, 1] (``imshow`` warns about values outside).
    """
    picture = np.asarray(image)
    if picture.ndim == 4 and picture.shape[0] == 1:
        picture = picture[0]
    if picture.ndim == 3 and picture.shape[-1] == 1:
        picture = picture[..., 0]
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot show an array of shape {picture.shape} as an image; expected "
                         "(H, W, 3), (1, H, W, 3) or a grayscale (H, W)")
    if picture.ndim == 3 and np.issubdtype(picture.dtype, np.floating):
        picture = np.clip(picture, 0.0, 1.0)  # RGB floats outside [0, 1] make imshow warn
    return picture


def _draw_picture(ax, picture: np.ndarray) -> None:
    """imshow with nstlab's conventions; grayscale in [0, 1] keeps that range."""
    if picture.ndim == 2:
        in_unit_range = picture.size and picture.min() >= 0 and picture.max() <= 1
        limits = {"vmin": 0.0, "vmax": 1.0} if in_unit_range else {}
        ax.imshow(picture, cmap="gray", **limits)
    else:
        ax.imshow(picture)
    ax.set_axis_off()


def _default_columns(count: int, most: int = 5) -> int:
    """Columns for ``count`` panels: one row up to ``most``, then rows as even as possible."""
    rows = math.ceil(count / most)
    return math.ceil(count / rows)


def _grid(count: int, ncols: int, panel_width: float, panel_height: float):
    """A figure with ``count`` panels in rows of ``ncols``; unused grid cells are removed."""
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(ncols * panel_width, nrows * panel_height))
    axes = list(axes.ravel())
    for ax in axes[count:]:
        fig.delaxes(ax)
    return fig, axes[:count]


def _images_and_titles(images, titles):
    if isinstance(images, dict):
        if titles is not None:
            raise ValueError("give titles either as the dict's keys or as titles=, not both")
        return list(images.values()), [str(t) for t in images]
    if not isinstance(images, list | tuple):
        array = np.asarray(images)  # one image, or a batch (N, H, W, 3)
        images = list(array) if array.ndim == 4 and array.shape[0] > 1 else [array]
    images = list(images)
    if titles is None:
        titles = [None] * len(images)
    titles = [titles] if isinstance(titles, str) else list(titles)
    if len(titles) != len(images):
        raise ValueError(f"got {len(titles)} titles for {len(images)} images")
    return images, titles


def show_images(images, titles=None, *, ncols=None, size=3.0, suptitle=None):
    """Show images side by side in a grid, each with its title above it.

    Parameters
    ----------
    images : list of images, or dict {title: image}
        Each image is an array or tensor (H, W, 3) in [0, 1] (or a batch of one,
        (1, H, W, 3); uint8 arrays and PIL images work too). A 2-D array (H, W) is drawn
        in grey; when its values lie in [0, 1] black is 0 and white is 1, otherwise the
        grey scale stretches from its minimum to its maximum.
    titles : list of str, optional
        One title per image (not needed with a dict).
    ncols : int, optional
        Images per row (default: up to 5 in one row, then balanced rows).
    size : float
        Width of each image in inches.
    suptitle : str, optional
        A title over the whole figure.

    Returns
    -------
    matplotlib.figure.Figure

    Example
    -------
    >>> show_images({"photo": photo, "style": painting}, suptitle="inputs")  # doctest: +SKIP
    """
    images, titles = _images_and_titles(images, titles)
    if not images:
        raise ValueError("no images to show")
    pictures = [as_picture(image) for image in images]
    aspect = max(p.shape[0] / p.shape[1] for p in pictures)
    title_room = 0.35 if any(titles) else 0.05
    ncols = ncols or _default_columns(len(pictures))
    fig, axes = _grid(len(pictures), ncols, size, size * aspect + title_room)
    width = max(10, int(size * 11))  # characters that fit over one image
    for ax, picture, title in zip(axes, pictures, titles, strict=True):
        _draw_picture(ax, picture)
        if title:
            ax.set_title(textwrap.fill(str(title), width), fontsize="medium")
    if suptitle:
        fig.suptitle(suptitle)
    return fig


# ---------------------------------------------------------------------------- loss plots


def _layer_depth(name: str, position: int):
    """Sort key: ``block3_conv2`` -> (3, 2); names without that pattern keep their order."""
    match = re.fullmatch(r"block(\d+)_conv(\d+)", name)
    return (int(match[1]), int(match[2]), position) if match else (math.inf, math.inf, position)


def _by_depth(names) -> list[str]:
    names = list(names)
    return sorted(names, key=lambda name: _layer_depth(name, names.index(name)))


def _shades(colormap: str, count: int, low: float, high: float) -> list:
    cmap = plt.get_cmap(colormap)
    if count == 1:
        return [cmap((low + high) / 2)]
    return [cmap(low + (high - low) * i / (count - 1)) for i in range(count)]


def _loss_series(history) -> list[dict]:
    """Every part of a history, in drawing order, with its label and line style."""
    series = []
    content = history.content
    for name, color in zip(_by_depth(content), _shades(CONTENT_COLORMAP, len(content), 0.55, 0.9),
                           strict=True):
        series.append({"label": f"content {name}", "layer": name, "kind": "content",
                       "values": content[name], "color": color, "linestyle": "-",
                       "linewidth": 2.0})
    style = history.style
    for name, color in zip(_by_depth(style), _shades(STYLE_COLORMAP, len(style), 0.0, 0.8),
                           strict=True):
        series.append({"label": f"style {name}", "layer": name, "kind": "style",
                       "values": style[name], "color": color, "linestyle": "--",
                       "linewidth": 1.8})
    series.append({"label": "tv", "layer": "tv", "kind": "tv", "values": history.tv,
                   "color": TV_COLOR, "linestyle": ":", "linewidth": 2.0})
    series.append({"label": "total", "layer": "total", "kind": "total", "values": history.total,
                   "color": TOTAL_COLOR, "linestyle": "-", "linewidth": 3.0})
    return series


def _matches(entry: dict, wanted: str) -> bool:
    wanted = wanted.strip().replace("/", " ")
    return wanted in (entry["layer"], entry["label"], entry["kind"])


def _select(series: list[dict], layers) -> list[dict]:
    if layers is None:
        return series
    wanted = [layers] if isinstance(layers, str) else list(layers)
    for name in wanted:
        if not any(_matches(entry, name) for entry in series):
            known = ", ".join(dict.fromkeys(entry["layer"] for entry in series))
            raise ValueError(f"no part {name!r} in this history; it has: {known} "
                             "(or 'content', 'style', 'content <layer>', 'style <layer>')")
    return [entry for entry in series if any(_matches(entry, name) for name in wanted)]


def _x_values(history, x: str) -> np.ndarray:
    if x not in X_AXES:
        raise ValueError(f"x must be 'step' or 'time', got {x!r}")
    return history.steps.astype(np.float64) if x == "step" else history.time


def _label_x(ax, x: str) -> None:
    ax.set_xlabel(X_AXES[x])
    if x == "step":  # no step 2.5
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(figsize=figsize, layout="constrained")


def _legend_outside(ax, handles=None, labels=None) -> None:
    """The legend to the right of the axes, where it never hides a line."""
    args = () if handles is None else (handles, labels)
    ax.legend(*args, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="small",
              frameon=False)


def _log_floor(arrays) -> float:
    """A positive value below every positive number in ``arrays`` (for a log axis)."""
    positive = [a[a > 0] for a in arrays if np.any(a > 0)]
    return float(min(p.min() for p in positive)) / 10 if positive else 1e-12


def _draw_lines(ax, x, series, marker) -> list[str]:
    """Draw each series on a log axis; return the labels of series that are never > 0."""
    floor = _log_floor([entry["values"] for entry in series])
    skipped = []
    for entry in series:
        values = entry["values"]
        if not np.any(values > 0):
            skipped.append(entry["label"])
            continue
        ax.plot(x, np.maximum(values, floor), label=entry["label"], color=entry["color"],
                linestyle=entry["linestyle"], linewidth=entry["linewidth"], marker=marker,
                zorder=3 if entry["kind"] == "total" else 2)
    ax.set_yscale("log")
    ax.set_ylabel("weighted loss (log scale)")
    return skipped


def _draw_shares(ax, x, series, all_parts) -> None:
    """Stacked areas: each part divided by the sum of all parts at that step."""
    parts = [np.maximum(entry["values"], 0.0) for entry in all_parts]
    summed = np.sum(parts, axis=0)
    safe = np.where(summed > 0, summed, 1.0)
    shares = [np.maximum(entry["values"], 0.0) / safe for entry in series]
    if len(x) == 1:  # one step: a narrow block instead of an invisible line
        half = 0.5 if x[0] >= 1 else max(abs(x[0]), 1e-3) * 0.1
        x = np.array([x[0] - half, x[0] + half])
        shares = [np.repeat(share, 2) for share in shares]
    polygons = ax.stackplot(x, *shares, labels=[entry["label"] for entry in series],
                            colors=[entry["color"] for entry in series],
                            edgecolor="white", linewidth=0.5)
    for polygon, entry in zip(polygons, series, strict=True):
        if entry["kind"] == "style":
            polygon.set_hatch("//")
            polygon.set_edgecolor((1, 1, 1, 0.6))
    ax.set_ylim(0, 1)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("share of the summed loss")


def plot_layer_losses(history, *, x="step", share=False, layers=None, ax=None, title=None):
    """Plot every part of the loss, layer by layer, over the optimisation.

    One line per content layer (solid, greens) and per style layer (dashed, purple for
    shallow layers to orange for deep ones), the total-variation loss (dotted grey) and the
    total (thick black), on a log scale: parts that differ a thousandfold still show.

    Parameters
    ----------
    history : History
        ``result.history`` from :func:`nstlab.stylize` (weighted losses per step).
    x : "step" or "time"
        Steps, or seconds since the start (to compare optimisers fairly).
    share : bool
        Instead of the losses, draw a stacked area chart of each part's share of the summed
        loss (the shares add up to 1 at every step): which layer dominates, and when. Style
        layers are hatched.
    layers : list of str, optional
        Draw only these: layer names (``"block1_conv1"``), ``"content"`` or ``"style"`` for a
        whole group, labels such as ``"style block1_conv1"``, ``"tv"``, ``"total"``. With
        ``share=True`` the shares stay fractions of the sum of all parts.
    ax : matplotlib Axes, optional
        Draw into these axes instead of a new figure.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Values that are 0 or negative at some steps are drawn at a small floor (a log scale has
    no 0); a part that is 0 at every step (e.g. TV with ``tv_weight=0``) is not drawn and a
    note says so.
    """
    xs = _x_values(history, x)
    fig, ax = _new_axes(ax, (8.5, 4.5))
    all_series = _loss_series(history)
    series = _select(all_series, layers)
    if share:
        series = [entry for entry in series if entry["kind"] != "total"]
        default_title = "Which part dominates: each part's share of the loss"
    else:
        default_title = "Loss per layer"
    ax.set_title(title if title is not None else default_title)
    _label_x(ax, x)
    ax.grid(True, alpha=0.3)
    ax.set_axisbelow(True)
    if len(xs) == 0 or not series:
        ax.text(0.5, 0.5, "nothing recorded yet" if len(xs) == 0 else "nothing selected",
                transform=ax.transAxes, ha="center", va="center", color="0.4")
        return fig
    if len(xs) == 1:
        ax.set_xticks(xs)  # one step: one tick, not a range of fractions
    if share:
        parts = [entry for entry in all_series if entry["kind"] != "total"]
        _draw_shares(ax, xs, series, parts)
        handles, labels = ax.get_legend_handles_labels()
        _legend_outside(ax, handles[::-1], labels[::-1])  # top of the legend = top of the stack
        return fig
    skipped = _draw_lines(ax, xs, series, marker="o" if len(xs) == 1 else None)
    _legend_outside(ax)
    if skipped:
        ax.text(0.01, 0.01, f"0 at every step, not drawn: {', '.join(skipped)}",
                transform=ax.transAxes, fontsize="small", color="0.35")
    return fig


def plot_loss_curves(histories, *, x="step", ax=None, title=None):
    """Compare runs: the total loss of each one on one log-scale plot.

    Parameters
    ----------
    histories : dict {name: History}
        For example ``{"adam": adam.history, "L-BFGS": lbfgs.history}``; a
        :class:`nstlab.Result` works in place of its history.
    x : "step" or "time"
        Use ``x="time"`` to compare optimisers whose steps cost different amounts (an L-BFGS
        step may evaluate the loss more than once).
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    The legend gives each run's final loss.
    """
    runs = {name: getattr(run, "history", run) for name, run in dict(histories).items()}
    if x not in X_AXES:
        raise ValueError(f"x must be 'step' or 'time', got {x!r}")
    fig, ax = _new_axes(ax, (7.5, 4.2))
    floor = _log_floor([h.total for h in runs.values() if len(h)])
    for index, (name, history) in enumerate(runs.items()):
        if not len(history):
            continue
        total = history.total
        ax.plot(_x_values(history, x), np.maximum(total, floor), color=f"C{index}",
                linewidth=2.0, marker="o" if len(total) == 1 else None,
                label=f"{name} (final {total[-1]:.3g})")
    ax.set_yscale("log")
    _label_x(ax, x)
    ax.set_ylabel("total loss (log scale)")
    ax.set_title(title if title is not None else "Total loss")
    ax.grid(True, which="both", alpha=0.25)
    if ax.lines:
        ax.legend(fontsize="small")
    return fig


# -------------------------------------------------------------------------- feature maps


def _layer_activations(extractor_or_backbone, image, layer: str) -> np.ndarray:
    """The activations of ``layer`` for one image, as a NumPy array (h, w, channels)."""
    from nstlab.engine.features import FeatureExtractor
    from nstlab.imaging.images import load_image

    if isinstance(extractor_or_backbone, str):
        extractor = FeatureExtractor([layer], extractor_or_backbone)
    else:
        extractor = extractor_or_backbone
        if layer not in extractor.layers:
            raise ValueError(
                f"this extractor computes {extractor.layers}, not {layer!r}; pass the backbone "
                f"name instead (e.g. {extractor.backbone!r}) to look at any layer")
    pixels = load_image(image)
    extractor.check_size(*pixels.shape[:2])
    return np.asarray(extractor(pixels[np.newaxis])[layer])[0]


def strongest_channels(activations: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``n`` channels with the largest mean activation, strongest first."""
    means = np.asarray(activations).reshape(-1, activations.shape[-1]).mean(axis=0)
    return np.argsort(-means, kind="stable")[:n]


def show_feature_maps(extractor_or_backbone, image, layer, n=16, *, ncols=8):
    """Show what one layer sees: the ``n`` channels of ``layer`` that fire most on ``image``.

    Each panel is one channel's activation map (yellow = strong, dark = zero), scaled to its
    own maximum; the title is the channel's index. Shallow layers respond to edges and
    colours at full detail, deep layers to larger patterns on a coarser grid.

    Parameters
    ----------
    extractor_or_backbone : FeatureExtractor or str
        An :class:`nstlab.FeatureExtractor` that computes ``layer``, or a backbone name such
        as ``"vgg16"``.
    image : image
        (H, W, 3) in [0, 1], or anything :func:`nstlab.load_image` takes.
    layer : str
        A Keras layer name, e.g. ``"block3_conv1"``.
    n : int
        How many channels to show (the ones with the largest mean activation).
    ncols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
    """
    activations = _layer_activations(extractor_or_backbone, image, layer)
    height, width, channels = activations.shape
    chosen = strongest_channels(activations, max(1, min(int(n), channels)))
    panel = 1.6
    fig, axes = _grid(len(chosen), ncols, panel, panel * height / width + 0.25)
    for ax, channel in zip(axes, chosen, strict=True):
        channel_map = activations[..., channel]
        ax.imshow(channel_map, cmap="viridis", vmin=0.0, vmax=max(float(channel_map.max()), 1e-6))
        ax.set_title(f"ch {channel}", fontsize="small")
        ax.set_axis_off()
    fig.suptitle(f"{layer}: the {len(chosen)} most active of its {channels} channels "
                 f"({height}x{width} each)")
    return fig


# ------------------------------------------------------------------------- Gram matrices

ORDERS = ("cluster", "strength", "none")


def _as_gram(gram_or_features) -> np.ndarray:
    array = np.asarray(gram_or_features, dtype=np.float64)
    if array.ndim == 4 and array.shape[0] == 1:
        array = array[0]
    if array.ndim == 3:
        from nstlab.engine.losses import gram_matrix

        return np.asarray(gram_matrix(array.astype(np.float32)), dtype=np.float64)
    if array.ndim == 2 and array.shape[0] == array.shape[1]:
        return array
    raise ValueError(f"expected a Gram matrix (C, C) or features (H, W, C) / (1, H, W, C), "
                     f"got shape {array.shape}")


def _similarities(gram: np.ndarray) -> np.ndarray:
    """``G[i, j] / sqrt(G[i, i] G[j, j])``: how alike two channels are, whatever their size."""
    scale = np.sqrt(np.abs(np.diag(gram)))
    scale = np.where(scale > 0, scale, 1.0)
    return gram / np.outer(scale, scale)


def _cluster_order(gram: np.ndarray) -> np.ndarray:
    """Leaves of a hierarchical clustering: channels that go with the same others sit together."""
    from scipy.cluster.hierarchy import leaves_list, linkage

    if len(gram) < 3:
        return np.arange(len(gram))
    profiles = _similarities(gram)  # row i: how channel i goes with every other channel
    return leaves_list(linkage(profiles, method="ward", optimal_ordering=True))


def channel_order(gram, order="cluster", max_channels=None) -> np.ndarray:
    """The channel indices :func:`show_gram` draws, in the order it draws them.

    Keeps the ``max_channels`` channels with the largest diagonal (their mean squared
    activation), then orders them: ``"cluster"`` puts channels that fire together next to
    each other (Ward clustering of each channel's row of cosine similarities), ``"strength"`` sorts
    by the diagonal, strongest first, ``"none"`` keeps the network's order.
    """
    gram = _as_gram(gram)
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    diagonal = np.diag(gram)
    keep = np.arange(len(gram))
    if max_channels is not None and len(keep) > max_channels:
        keep = np.sort(np.argsort(-diagonal, kind="stable")[:max_channels])
    if order == "strength":
        return keep[np.argsort(-diagonal[keep], kind="stable")]
    if order == "cluster":
        return keep[_cluster_order(gram[np.ix_(keep, keep)])]
    return keep


def show_gram(gram_or_features, *, order="cluster", ax=None, title=None, max_channels=128,
              normalize=False):
    """Draw a Gram matrix as a heat map: which channels fire together.

    Entry ``[i, j]`` is the average over positions of channel ``i`` times channel ``j``
    (:func:`nstlab.gram_matrix`). Bright squares along the diagonal after clustering are
    groups of channels that respond to the same texture.

    Parameters
    ----------
    gram_or_features : array or tensor
        A Gram matrix (C, C), or a layer's features (H, W, C) or (1, H, W, C), whose Gram
        matrix is then computed.
    order : "cluster", "strength" or "none"
        How to order the channels (see :func:`channel_order`).
    ax : matplotlib Axes, optional
    title : str, optional
    max_channels : int
        Show at most this many channels: the ones with the largest diagonal entries.
    normalize : bool
        Show ``G[i, j] / sqrt(G[i, i] G[j, j])`` instead (the cosine similarity of the two
        channels' maps, 1 on the diagonal): how alike two channels are, so weak channels show
        as clearly as strong ones.

    Returns
    -------
    matplotlib.figure.Figure

    Colours: for a Gram matrix (no negative entries) a square-root colour scale, so weaker
    pairs still show; for a matrix with negative entries (e.g. a difference of two Gram
    matrices) blue is negative, red positive and white 0.
    """
    gram = _as_gram(gram_or_features)
    indices = channel_order(gram, order, max_channels)
    shown = (_similarities(gram) if normalize else gram)[np.ix_(indices, indices)]
    fig, ax = _new_axes(ax, (5.6, 4.6))
    largest = float(np.abs(shown).max()) or 1.0
    if shown.min() < 0:
        image = ax.imshow(shown, cmap="RdBu_r", vmin=-largest, vmax=largest)
        scale = "0 = white"
    elif normalize:
        image = ax.imshow(shown, cmap="magma", vmin=0.0, vmax=1.0)
        scale = "1 = same pattern"
    else:
        image = ax.imshow(shown, cmap="magma", norm=mcolors.PowerNorm(0.5, 0.0, largest))
        scale = "square-root colour scale"
    colorbar = fig.colorbar(image, ax=ax, shrink=0.85)
    what = "cosine similarity of" if normalize else "mean product of"
    colorbar.set_label(f"{what} the two channels ({scale})", fontsize="small")
    how = {"cluster": "clustered", "strength": "strongest first", "none": "network order"}[order]
    if len(indices) <= 24:
        ax.set_xticks(range(len(indices)), [str(i) for i in indices], fontsize="x-small",
                      rotation=90)
        ax.set_yticks(range(len(indices)), [str(i) for i in indices], fontsize="x-small")
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel(f"channel ({how})")
    ax.set_ylabel("channel")
    if title is None:
        kind = "Normalised Gram matrix" if normalize else "Gram matrix"
        title = f"{kind}: {len(indices)} of {len(gram)} channels"
    ax.set_title(title)
    return fig
