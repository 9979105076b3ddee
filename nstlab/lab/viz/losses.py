"""Loss plots: each layer's part of the loss over the steps, and whole runs compared."""

from __future__ import annotations

import math
import re

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from nstlab.lab.viz.layout import new_axes

# How each kind of loss is drawn: content solid and green, style dashed and purple-to-orange
# (shallow to deep), TV dotted grey, the total thick and black.
CONTENT_COLORMAP = "Greens"
STYLE_COLORMAP = "plasma"
TV_COLOR = "0.45"
TOTAL_COLOR = "black"
X_AXES = {"step": "step", "time": "time (s)"}


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
    fig, ax = new_axes(ax, (8.5, 4.5))
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
    fig, ax = new_axes(ax, (7.5, 4.2))
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
