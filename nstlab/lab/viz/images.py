"""Images side by side (:func:`show_images`), and what can be drawn as one (:func:`as_picture`)."""

from __future__ import annotations

import textwrap

import numpy as np

from nstlab.lab.viz.layout import default_columns, grid


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
    ncols = ncols or default_columns(len(pictures))
    fig, axes = grid(len(pictures), ncols, size, size * aspect + title_room)
    width = max(10, int(size * 11))  # characters that fit over one image
    for ax, picture, title in zip(axes, pictures, titles, strict=True):
        _draw_picture(ax, picture)
        if title:
            ax.set_title(textwrap.fill(str(title), width), fontsize="medium")
    if suptitle:
        fig.suptitle(suptitle)
    return fig
