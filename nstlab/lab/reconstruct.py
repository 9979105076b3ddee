"""What does a layer remember? Images rebuilt from one layer's content, or a few layers' style.

Gatys, Ecker & Bethge (2016), Fig. 1, look inside the network by running the optimisation of
style transfer with only *one* kind of loss, starting from white noise:

* **Content reconstructions** (:func:`content_reconstructions`): find an image whose
  features at one layer match the photo's, ``min_x mean((F_l(x) - F_l(photo))^2)``. From a
  shallow layer the photo comes back almost pixel for pixel; from deep layers only the
  arrangement of things survives, and colours and fine detail are free.
* **Style reconstructions** (:func:`style_reconstructions`): find an image whose Gram
  matrices match the painting's on a set of layers. With ``block1_conv1`` alone you get
  coloured grain a few pixels wide; each deeper layer added brings back larger structures of
  the painting's texture, but never its layout: a Gram matrix forgets *where*.

Both return ``(images, figure)``: a :class:`Reconstructions` dict ``{name: image}``, which
also keeps ``images.losses[name] == (loss at the noise start, loss of the result)`` and the
per-step histories, and a matplotlib figure with the original image first.

Settings, and why
-----------------
* The start is faint white noise around mid-grey (:func:`noise_image`), so whatever the
  loss ignores stays near grey rather than full-range noise.
* Average pooling (``pooling="avg"``), as Gatys et al. use for these pictures: it passes
  gradients to all four pixels of a 2x2 window (max pooling to one of them), so the
  optimisation from noise converges faster and deep reconstructions are less speckled.
* The loss is the content (or style) loss with weight 1 plus a tiny total variation
  (weight 1e-4), which removes pixel-level speckle without visibly smoothing. With a
  single loss term only the ratio of the two weights matters.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from nstlab.engine import losses
from nstlab.imaging.images import load_image, resize_image

__all__ = [
    "CONTENT_LAYERS",
    "Reconstructions",
    "content_reconstructions",
    "default_style_layer_sets",
    "layer_set_name",
    "noise_image",
    "style_reconstructions",
]

#: The layers of Fig. 1's content row (``conv1_2`` ... ``conv5_2`` in the paper).
CONTENT_LAYERS = (
    "block1_conv2",
    "block2_conv2",
    "block3_conv2",
    "block4_conv2",
    "block5_conv2",
)
TV_WEIGHT = 1e-4
POOLING = "avg"
NOISE_SPREAD = 0.1
DEFAULT_STEPS = 200


class Reconstructions(dict):
    """A dict ``{name: image (H, W, 3) float32 in [0, 1]}`` that also keeps the losses.

    Attributes
    ----------
    losses : dict name -> (start, end)
        The objective at the noise start and at the returned image.
    histories : dict name -> :class:`nstlab.History`
        The per-step losses of each optimisation run.
    original : np.ndarray
        The image the targets came from (after resizing).
    """

    def __init__(self, original: np.ndarray):
        super().__init__()
        self.original = original
        self.losses: dict[str, tuple[float, float]] = {}
        self.histories: dict = {}


def noise_image(shape, seed: int = 0, spread: float = NOISE_SPREAD) -> np.ndarray:
    """White noise around mid-grey: uniform in ``0.5 +- spread / 2``, float32 of ``shape``.

    ``spread=1`` is noise over the whole range [0, 1]. Faint noise is the usual start for
    reconstructions (jcjohnson/neural-style starts from Gaussian noise of std 0.001 around
    the mean colour): what the loss ignores then stays close to grey.
    """
    if not 0.0 <= spread <= 1.0:
        raise ValueError(f"spread must be in [0, 1], got {spread!r}")
    rng = np.random.default_rng(seed)
    return (0.5 + spread * (rng.uniform(0.0, 1.0, size=shape) - 0.5)).astype(np.float32)


def _prepare(image, size: int | None) -> np.ndarray:
    pixels = load_image(image)
    return pixels if size is None else resize_image(pixels, int(size))


def _run(objective, start, steps, optimizer, progress, name, result: Reconstructions):
    from nstlab.engine.optimize import optimize_pixels

    before = objective.evaluate(start)["total"]
    image, history, _ = optimize_pixels(objective, start, steps=steps, optimizer=optimizer,
                                        progress=progress)
    after = objective.evaluate(image)["total"]
    result[name] = image
    result.losses[name] = (before, after)
    result.histories[name] = history


def _figure(result: Reconstructions, original_title: str, ncols):
    from nstlab.lab.viz import show_images

    images = {original_title: result.original, **result}
    return show_images(images, ncols=ncols or len(images), size=2.4)


def content_reconstructions(
    content,
    layers: Sequence[str] = CONTENT_LAYERS,
    *,
    steps: int = DEFAULT_STEPS,
    size: int | None = None,
    backbone: str = "vgg16",
    seed: int = 0,
    optimizer: str = "lbfgs",
    pooling: str = POOLING,
    tv_weight: float = TV_WEIGHT,
    noise_spread: float = NOISE_SPREAD,
    progress: bool = False,
    ncols: int | None = None,
):
    """Rebuild ``content`` from white noise using one layer's features at a time.

    For each layer ``l`` this minimises that layer's content loss alone,
    ``mean((F_l(x) - F_l(content))^2)`` (plus a tiny total variation), over the pixels ``x``
    of an image that starts as faint white noise. It is the content row of Gatys et al.
    (2016), Fig. 1: shallow layers give the photo back almost exactly, deep layers keep where
    things are but not their pixels.

    Parameters
    ----------
    content : image
        A path, PIL image or array (H, W, 3) in [0, 1].
    layers : list of str
        The layers to rebuild from, one optimisation each (default ``block1_conv2`` ...
        ``block5_conv2``).
    steps : int
        Optimisation steps per layer; from noise L-BFGS needs about 200.
    size : int, optional
        Resize ``content`` so its longest side has this many pixels first. Each run costs
        about as much as style transfer at that size; 128 px is plenty to see the effect.
    backbone : "vgg16" or "vgg19"
    seed : int
        Seed of the noise start (the same noise for every layer).
    optimizer : "lbfgs" (default) or "adam"
    pooling : "avg" (default, as Gatys et al. for these pictures) or "max"
    tv_weight : float
        Weight of the total variation; the content loss has weight 1.
    noise_spread : float
        The start is uniform noise in ``0.5 +- noise_spread / 2`` (see :func:`noise_image`).
    progress : bool
        Show a progress bar for each run.
    ncols : int, optional
        Columns of the figure (default: all images in one row).

    Returns
    -------
    (images, figure)
        ``images`` is a :class:`Reconstructions` dict ``{layer: image}`` in the order of
        ``layers``; ``images.losses[layer]`` is ``(loss at the noise start, final loss)``.
        ``figure`` shows the original first, then one reconstruction per layer.

    Example
    -------
    >>> images, fig = content_reconstructions(photo, ["block1_conv2", "block4_conv2"],
    ...                                       size=128)                # doctest: +SKIP
    """
    layers = [layers] if isinstance(layers, str) else list(layers)
    if not layers:
        raise ValueError("give at least one layer to rebuild from")
    original = _prepare(content, size)
    result = Reconstructions(original)
    start = noise_image(original.shape, seed, noise_spread)
    for layer in layers:
        objective = losses.Objective(original, None, backbone=backbone, content_layers=[layer],
                                     content_weight=1.0, tv_weight=tv_weight, pooling=pooling)
        _run(objective, start, steps, optimizer, progress, layer, result)
    return result, _figure(result, "original", ncols)


def default_style_layer_sets() -> list[list[str]]:
    """``[[block1_conv1], [block1_conv1, block2_conv1], ...]``: Fig. 1's growing style sets."""
    layers = list(losses.DEFAULT_STYLE_LAYERS)
    return [layers[: k + 1] for k in range(len(layers))]


def layer_set_name(layers: Sequence[str]) -> str:
    """A short name for a set of style layers, for titles and dictionary keys.

    ``["block1_conv1", "block2_conv1"]`` -> ``"block1..block2"`` (a run of ``_conv1``
    layers), ``["block3_conv1"]`` -> ``"block3"``; any other set is joined by ``+``.
    """
    blocks = [int(name[5]) for name in layers if name.endswith("_conv1")]
    if blocks and len(blocks) == len(layers) and blocks == list(
            range(blocks[0], blocks[0] + len(blocks))):
        first, last = f"block{blocks[0]}", f"block{blocks[-1]}"
        return first if len(blocks) == 1 else f"{first}..{last}"
    return "+".join(layers)




def named_layer_sets(layer_sets=None) -> dict[str, list[str]]:
    """Sets of style layers by name: ``{"block1_conv1 + block2_conv1": [...], ...}``.

    ``layer_sets`` is a dict of names to layers (a name or a list), or a list of sets (each
    a layer name or a list, named by :func:`layer_set_name`); ``None`` gives
    :func:`default_style_layer_sets`. Raises ``ValueError`` when a set is empty.
    """
    if layer_sets is None:
        layer_sets = default_style_layer_sets()
    if isinstance(layer_sets, Mapping):
        named = {str(key): [value] if isinstance(value, str) else list(value)
                 for key, value in layer_sets.items()}
    else:
        named = {}
        for layers in layer_sets:
            layers = [layers] if isinstance(layers, str) else list(layers)
            named[layer_set_name(layers)] = layers
    if not named or not all(named.values()):
        raise ValueError("give at least one non-empty set of style layers")
    return named


def style_reconstructions(
    style,
    layer_sets=None,
    *,
    steps: int = DEFAULT_STEPS,
    size: int | None = None,
    backbone: str = "vgg16",
    seed: int = 0,
    optimizer: str = "lbfgs",
    pooling: str = POOLING,
    tv_weight: float = TV_WEIGHT,
    noise_spread: float = NOISE_SPREAD,
    progress: bool = False,
    ncols: int | None = None,
):
    """Synthesize textures from white noise that match ``style``'s Gram matrices.

    For each set of layers this minimises the style loss on those layers alone (the
    Gram matrices of :func:`nstlab.gram_matrix`, equal weights, plus a tiny total
    variation), starting from faint noise the size of the style image. It is the style row
    of Gatys et al. (2016), Fig. 1: the more (and deeper) layers, the larger the structures
    of the painting's texture that come back, but never the painting's layout.

    Parameters
    ----------
    style : image
        A path, PIL image or array (H, W, 3) in [0, 1].
    layer_sets : list of lists of str, or dict name -> list of str, optional
        Default (:func:`default_style_layer_sets`): ``[block1_conv1]``,
        ``[block1_conv1, block2_conv1]``, ... up to ``block5_conv1``, named ``"block1"``,
        ``"block1..block2"``, ... ``"block1..block5"``. Give a dict to choose the names.
    steps : int
        Optimisation steps per set.
    size : int, optional
        Resize ``style`` so its longest side has this many pixels first.
    backbone, seed, optimizer, pooling, noise_spread, progress, ncols
        As in :func:`content_reconstructions`.
    tv_weight : float
        Weight of the total variation; the style loss has weight 1.

    Returns
    -------
    (images, figure)
        ``images`` is a :class:`Reconstructions` dict ``{set name: image}``;
        ``images.losses[name]`` is ``(loss at the noise start, final loss)``. ``figure``
        shows the style image first, then one texture per set.
    """
    named = named_layer_sets(layer_sets)
    original = _prepare(style, size)
    result = Reconstructions(original)
    start = noise_image(original.shape, seed, noise_spread)
    for name, layers in named.items():
        objective = losses.Objective(None, original, backbone=backbone, style_layers=layers,
                                     style_weight=1.0, tv_weight=tv_weight, pooling=pooling)
        _run(objective, start, steps, optimizer, progress, name, result)
    return result, _figure(result, "style", ncols)
