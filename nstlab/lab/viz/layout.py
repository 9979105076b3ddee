"""The layout the figures share: a grid of panels, or one axes of a given size."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt


def default_columns(count: int, most: int = 5) -> int:
    """Columns for ``count`` panels: one row up to ``most``, then rows as even as possible."""
    rows = math.ceil(count / most)
    return math.ceil(count / rows)


def grid(count: int, ncols: int, panel_width: float, panel_height: float):
    """A figure with ``count`` panels in rows of ``ncols``; unused grid cells are removed."""
    ncols = max(1, min(ncols, count))
    nrows = math.ceil(count / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False, layout="constrained",
                             figsize=(ncols * panel_width, nrows * panel_height))
    axes = list(axes.ravel())
    for ax in axes[count:]:
        fig.delaxes(ax)
    return fig, axes[:count]


def new_axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    return plt.subplots(figsize=figsize, layout="constrained")
