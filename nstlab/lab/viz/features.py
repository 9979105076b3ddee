"""Feature maps: what the strongest channels of one layer respond to in an image."""

from __future__ import annotations

import numpy as np

from nstlab.lab.viz.layout import grid


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
    fig, axes = grid(len(chosen), ncols, panel, panel * height / width + 0.25)
    for ax, channel in zip(axes, chosen, strict=True):
        channel_map = activations[..., channel]
        ax.imshow(channel_map, cmap="viridis", vmin=0.0, vmax=max(float(channel_map.max()), 1e-6))
        ax.set_title(f"ch {channel}", fontsize="small")
        ax.set_axis_off()
    fig.suptitle(f"{layer}: the {len(chosen)} most active of its {channels} channels "
                 f"({height}x{width} each)")
    return fig
