"""Gram matrices drawn as heat maps, with channels ordered so that groups show."""

from __future__ import annotations

import numpy as np
from matplotlib import colors as mcolors

from nstlab.lab.viz.layout import new_axes

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
    fig, ax = new_axes(ax, (5.6, 4.6))
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
