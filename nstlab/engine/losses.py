r"""The losses of neural style transfer, and the :class:`Objective` that combines them.

The convention (the one all of nstlab uses; notebook 04 derives it)
---------------------------------------------------------------------
For a layer with feature map :math:`F` of shape :math:`(HW, C)` (``H*W`` positions,
``C`` channels):

* Gram matrix: :math:`G = F^\top F / (HW)`, a :math:`C \times C` matrix of how often
  channels fire together, averaged over positions. It forgets *where* things are and
  keeps *which* features co-occur: texture, i.e. style.
* Content loss of a layer: :math:`\operatorname{mean}\big((F - P)^2\big)`, ``P`` the
  content image's features.
* Style loss of a layer: :math:`\operatorname{mean}\big((G - A)^2\big)`, ``A`` the style
  image's Gram matrix.
* Total variation: the sum of absolute differences between neighbouring pixels (pixels in
  [0, 1]), each raised to the power ``tv_power`` (1 by default: ``tf.image.total_variation``);
  small when the image is smooth.
* Luminance (optional, ``luminance_weight``, 0 by default): the mean squared difference of
  the picture's and the photo's luminance, each averaged over 4 x 4 pixel blocks
  (:func:`luminance_loss`): the photo's light and dark at a coarse scale, which a content
  loss on VGG features does not hold.
* Total: :math:`\alpha \sum_l w_l\,\mathrm{content}_l
  + \beta \sum_l v_l\,\mathrm{style}_l + \gamma\,\mathrm{tv} + \lambda\,\mathrm{luminance}`
  with ``content_weight`` :math:`\alpha`, ``style_weight`` :math:`\beta`, ``tv_weight``
  :math:`\gamma`, ``luminance_weight`` :math:`\lambda`, and per-layer weights
  :math:`w_l, v_l` that each sum to 1.

The TensorFlow tutorial divides the Gram matrix the same way, yet its weights (content
1e4, style 1e-2, TV 30, with VGG19 and content layer ``block5_conv2``) do not carry over:
the content loss grows with the square of the activations and the style loss with their
fourth power, so each network's activation scale sets its weights (Gatys et al. rescaled
VGG so that each filter's mean activation is 1). Others normalise differently again: the
PyTorch tutorial divides the Gram matrix by ``H*W*C``,
jcjohnson/neural-style by the number of elements of the layer and scales gradients, and
Gatys et al. use sums with a factor :math:`1/(4N^2M^2)`; their ``alpha``/``beta`` values do
not carry over to nstlab.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nstlab.base.validators import check_all_in, check_count, check_not_both, check_number
from nstlab.engine.defaults import (
    DEFAULT_CONTENT_LAYERS,
    DEFAULT_CONTENT_WEIGHT,
    DEFAULT_STYLE_LAYERS,
    DEFAULT_STYLE_WEIGHT,
    DEFAULT_TV_WEIGHT,
)
from nstlab.engine.features import FeatureExtractor
from nstlab.engine.history import part_name
from nstlab.imaging.color import RGB_TO_YIQ
from nstlab.imaging.structure import STRUCTURE_SCALE


def gram_matrix(features):
    """Gram matrix ``G = F^T F / (H*W)`` of a feature map.

    Parameters
    ----------
    features : tensor or array, shape (H, W, C) or (B, H, W, C)

    Returns
    -------
    tf.Tensor of shape (C, C) or (B, C, C): entry ``[i, j]`` is the mean over positions of
    channel ``i`` times channel ``j``.
    """
    features = tf.convert_to_tensor(features, dtype=tf.float32)
    batched = features.shape.rank == 4
    if not batched:
        features = features[tf.newaxis]
    shape = tf.shape(features)
    flat = tf.reshape(features, (shape[0], shape[1] * shape[2], shape[3]))
    positions = tf.cast(shape[1] * shape[2], tf.float32)
    gram = tf.matmul(flat, flat, transpose_a=True) / positions
    return gram if batched else gram[0]


def content_loss(features, target):
    """Mean squared difference between a layer's features and the content target's."""
    return tf.reduce_mean(tf.square(tf.convert_to_tensor(features) - target))


def style_loss(features, target_gram):
    """Mean squared difference between the Gram matrix of ``features`` and ``target_gram``."""
    return tf.reduce_mean(tf.square(gram_matrix(features) - target_gram))


#: The block side of :func:`luminance_loss`: the scale of
#: :func:`nstlab.imaging.structure.structure_kept`, at which brush strokes are averaged away
#: and the layout of light and dark remains.
LUMINANCE_SCALE = STRUCTURE_SCALE


def coarse_luminance(images, scale: int = LUMINANCE_SCALE):
    """The luminance of an image batch ``(N, H, W, 3)`` averaged over ``scale`` x ``scale``
    blocks: ``(N, H // scale, W // scale, 1)``."""
    images = tf.convert_to_tensor(images, tf.float32)
    luma = tf.reduce_sum(images * tf.constant(RGB_TO_YIQ[0], tf.float32), axis=-1,
                         keepdims=True)
    return tf.nn.avg_pool2d(luma, scale, scale, "VALID")


def luminance_loss(images, target, scale: int = LUMINANCE_SCALE):
    """Mean squared difference of the images' coarse luminance and ``target`` (the photo's
    :func:`coarse_luminance`).

    A content loss on VGG features ties a picture to the photo's edges, yet a picture can
    match them and still be much darker or lighter than the photo (a bright sky painted
    olive). This loss keeps the photo's light where it was, at the scale of faces and
    skies rather than of brush strokes. Notebook 09 (section 7) uses it for a fast network.
    """
    return tf.reduce_mean(tf.square(coarse_luminance(images, scale) - target))


def total_variation_loss(images, power: float = 1.0):
    r"""Total variation of an image or batch: how much neighbouring pixels differ.

    The sum of :math:`|a - b|^p` over every two pixels side by side or one above the other,
    in every channel, with ``p`` the ``power`` (at least 1, so that the gradient stays finite
    where neighbours are equal).

    * ``power=1`` (the default) is ``tf.image.total_variation``. A sharp edge costs no more
      than a gentle ramp of the same height, so minimising it removes grain and keeps
      edges sharp.
    * ``power=2`` sums squared differences, as jcjohnson/neural-style does. One large jump
      costs more than many small steps, so edges soften while faint grain costs little.
      Differences of pixels in [0, 1] are below 1, so the sum is smaller too: the same
      smoothing takes a larger ``tv_weight``.
    """
    images = tf.convert_to_tensor(images, tf.float32)
    if power == 1:
        return tf.reduce_sum(tf.image.total_variation(images))
    down = images[..., 1:, :, :] - images[..., :-1, :, :]
    across = images[..., :, 1:, :] - images[..., :, :-1, :]
    return tf.reduce_sum(tf.abs(down) ** power) + tf.reduce_sum(tf.abs(across) ** power)


def masked_gram_matrix(features, mask):
    """Gram matrix of the features inside a region: ``(F*m)^T (F*m) / sum(m)``.

    ``mask`` has shape (1, H, W, 1) (values in [0, 1]) at the resolution of ``features``
    (1, H, W, C). The guided Gram matrix of Gatys et al. (2017), section 4: the style
    statistics of one region only, normalised by the region's area.
    """
    features = tf.convert_to_tensor(features, dtype=tf.float32)
    weighted = features * mask
    channels = tf.shape(features)[-1]
    flat = tf.reshape(weighted, (-1, channels))
    area = tf.maximum(tf.reduce_sum(mask), 1e-6)
    return tf.matmul(flat, flat, transpose_a=True)[tf.newaxis] / area


def load_mask(mask, shape) -> np.ndarray:
    """A mask (image, path or array; white = 1) as float32 (H, W) in [0, 1] of ``shape``."""
    from nstlab.imaging.images import load_image, resize_image

    return resize_image(load_image(mask), tuple(shape)).mean(axis=-1)


def default_coarse_layers(style_layers: Sequence[str]) -> list[str]:
    """The style layers from block 3 on: they see patches large enough for structure.

    Each unit of ``block3_conv1`` sees 24 x 24 pixels of the input and one of
    ``block5_conv1`` 132 x 132, while ``block1_conv1`` and ``block2_conv1`` see 3 and 10
    pixels: colour and grain.
    """
    return [name for name in style_layers
            if name.startswith("block") and name[5:6].isdigit() and int(name[5]) >= 3]


def layer_weights(layers: Sequence[str], weights=None) -> dict[str, float]:
    """Per-layer weights normalised to sum to 1 (equal when ``weights`` is None).

    ``weights`` may be a sequence parallel to ``layers`` or a dict by layer name.
    """
    layers = list(layers)
    if weights is None:
        raw = [1.0] * len(layers)
    elif isinstance(weights, dict):
        missing = [name for name in layers if name not in weights]
        if missing:
            raise ValueError(f"no weight given for layer {missing[0]!r}")
        raw = [float(weights[name]) for name in layers]
    else:
        raw = [float(w) for w in weights]
        if len(raw) != len(layers):
            raise ValueError(f"got {len(raw)} layer weights for {len(layers)} layers")
    if any(not np.isfinite(w) or w < 0 for w in raw) or (layers and sum(raw) <= 0):
        raise ValueError(f"layer weights must be non-negative and not all zero, got {raw}")
    total = sum(raw)
    return {name: w / total for name, w in zip(layers, raw, strict=True)}


def _as_batch(image) -> tf.Tensor:
    from nstlab.imaging.images import load_image

    return tf.constant(load_image(image)[np.newaxis])


def _as_list(images) -> list:
    return list(images) if isinstance(images, list | tuple) else [images]


# ------------------------------------------------------------------------ style targets
# What the style loss of each layer compares against. A *style* (BlendedStyle, MaskedStyle,
# CoarseFineStyle) is a recipe; Objective calls its ``build`` once with the network, and the
# *targets* it returns give each style layer's loss for the image being optimised.


class GramTargets:
    """One target Gram matrix per style layer: ``style_loss(features, grams[layer])``."""

    def __init__(self, grams: dict):
        self.grams = grams

    def loss(self, layer: str, features):
        """The style loss of ``layer`` for these features (before the layer's weight)."""
        return style_loss(features, self.grams[layer])


class RegionTargets:
    """Guided Gram targets: each style matched only inside its mask (Gatys et al. 2017, 4)."""

    def __init__(self, regions: list):
        self.regions = regions  # one (weight, {layer: mask}, {layer: gram}) per style
        self.grams = {}

    def loss(self, layer: str, features):
        return tf.add_n([
            weight * tf.reduce_mean(tf.square(masked_gram_matrix(features, masks[layer])
                                              - grams[layer]))
            for weight, masks, grams in self.regions])


def _grams_of(extractor, image, layers) -> dict:
    batch = _as_batch(image)
    extractor.check_size(*batch.shape[1:3])
    features = extractor(batch)
    return {name: gram_matrix(features[name]) for name in layers}


class BlendedStyle:
    """The Gram matrices of one or more style images, mixed with ``weights``.

    The weights are normalised to sum to 1 (default: equal), so blending a painting with
    itself changes nothing, and a weight of 0 leaves that image out.
    """

    def __init__(self, images, weights=None):
        self.images = _as_list(images)
        check_count(weights, len(self.images), "weights", f"{len(self.images)} style images",
                    "style_blend_weights")
        self.weights = layer_weights([str(i) for i in range(len(self.images))], weights)

    def build(self, extractor, layers, content=None) -> GramTargets:
        targets = {name: 0.0 for name in layers}
        for index, image in enumerate(self.images):
            weight = self.weights[str(index)]
            if weight:
                for name, gram in _grams_of(extractor, image, layers).items():
                    targets[name] += weight * gram
        return GramTargets(targets)


class MaskedStyle:
    """Spatial control: style ``i`` inside ``masks[i]`` (white = 1), drawn over the content.

    Each region's loss is scaled by its weight (default 1 each: not normalised). Where no
    mask is white, the image keeps the content.
    """

    def __init__(self, images, masks, weights=None):
        self.images, self.masks = _as_list(images), _as_list(masks)
        check_count(self.masks, len(self.images), "masks", f"{len(self.images)} style images",
                    "style_masks")
        self.weights = [1.0] * len(self.images) if weights is None else [float(w) for w in
                                                                         weights]

    def build(self, extractor, layers, content=None) -> RegionTargets:
        if content is None:
            raise ValueError("style_masks need a content image (they are drawn over it)")
        content_batch = _as_batch(content)
        shapes = {name: value.shape[1:3] for name, value in extractor(content_batch).items()}
        regions = []
        for image, mask, weight in zip(self.images, self.masks, self.weights, strict=True):
            pixels = load_mask(mask, content_batch.shape[1:3])[np.newaxis, :, :, np.newaxis]
            layer_masks = {name: tf.image.resize(pixels, shapes[name], method="area")
                           for name in layers}
            regions.append((weight, layer_masks, _grams_of(extractor, image, layers)))
        return RegionTargets(regions)


class CoarseFineStyle:
    """Scale control (Gatys et al. 2017, section 6): large structure from one image.

    The Gram targets of ``coarse_layers`` (default: block 3 on, :func:`default_coarse_layers`)
    come from ``coarse_image``; the other layers' from ``fine`` (any style recipe, such as a
    :class:`BlendedStyle`).
    """

    def __init__(self, fine, coarse_image, coarse_layers=None):
        check_not_both(coarse_image, fine if isinstance(fine, MaskedStyle) else None,
                       "coarse_style", "style_masks")
        self.fine, self.coarse_image = fine, coarse_image
        self.coarse_layers = None if coarse_layers is None else _as_list(coarse_layers)

    def layers_for(self, style_layers) -> list[str]:
        """The coarse layers among ``style_layers``; an error names one that is not there."""
        if self.coarse_layers is None:
            return default_coarse_layers(style_layers)
        check_all_in(self.coarse_layers, style_layers, "coarse_layers", "a style layer")
        return self.coarse_layers

    def build(self, extractor, layers, content=None) -> GramTargets:
        targets = self.fine.build(extractor, layers, content)
        targets.grams.update(_grams_of(extractor, self.coarse_image, self.layers_for(layers)))
        return targets


def style_recipe(style, blend_weights=None, masks=None, coarse_style=None,
                 coarse_layers=None):
    """The style recipe that :class:`Objective`'s keyword arguments describe.

    ``style`` may already be a recipe (then the other arguments must be left out).
    """
    if hasattr(style, "build"):
        return style
    recipe = (BlendedStyle(style, blend_weights) if masks is None
              else MaskedStyle(style, masks, blend_weights))
    if coarse_style is not None:
        recipe = CoarseFineStyle(recipe, coarse_style, coarse_layers)
    return recipe


class Objective:
    """The loss to minimise: content + style + total variation, with per-layer parts.

    The targets (content features, style Gram matrices) are computed once here, so each
    optimisation step only runs the network on the image being optimised.

    Calling the objective on an image batch ``(1, H, W, 3)`` returns ``(total, parts)``:
    ``parts`` maps ``"content/<layer>"``, ``"style/<layer>"`` and ``"tv"`` to their weighted
    scalar losses, and ``total`` is their sum. For a batch of several images each part is
    the mean over the images, so a batch's loss is the mean of its images' losses.

    :func:`nstlab.stylize` passes its options of the same names (every keyword below but
    ``extractor`` and ``batch_content``; :meth:`nstlab.run.options.StylizeOptions.call`), so
    a keyword added here with the name of a new option in :mod:`nstlab.run.options` reaches
    ``stylize``, the command's flags and ``Result.settings`` with nothing else to change.

    Parameters
    ----------
    content : image or None
        The content image, (H, W, 3) in [0, 1] (anything :func:`nstlab.load_image` takes).
        ``None`` leaves out the content loss (texture synthesis).
    style : image, list of images, a style recipe, or None
        The style image(s). Several styles are blended by mixing their Gram matrices with
        ``style_blend_weights``. ``None`` leaves out the style loss (content reconstruction).
        A recipe (:class:`BlendedStyle`, :class:`MaskedStyle`, :class:`CoarseFineStyle`)
        says how the target Gram matrices are made; the keyword arguments
        ``style_blend_weights``, ``style_masks``, ``coarse_style`` and ``coarse_layers``
        describe the same recipes (:func:`style_recipe`).
    backbone : "vgg16" or "vgg19"
    content_layers, style_layers : list of str
        Keras layer names; defaults :data:`DEFAULT_CONTENT_LAYERS`, :data:`DEFAULT_STYLE_LAYERS`.
    content_layer_weights, style_layer_weights : list or dict, optional
        Relative weights per layer, normalised to sum to 1 (default: equal).
    content_weight, style_weight, tv_weight : float
        alpha, beta and the total-variation weight (see the module docstring).
    luminance_weight : float
        The weight of :func:`luminance_loss` against the content (default 0: left out, and
        ``parts`` has no ``"luminance"``).
    tv_power : float
        The power of the neighbour differences in the total variation, at least 1
        (:func:`total_variation_loss`): 1 (default) keeps edges sharp, 2 (squares) smooths
        edges too and needs a larger ``tv_weight``.
    style_blend_weights : list of float, optional
        One weight per style image (normalised); default equal. With ``style_masks`` the
        weights are used as given (default 1 each): each one scales its region's style loss.
    coarse_style : image, optional
        Scale control (Gatys et al. 2017, section 6): the Gram targets of ``coarse_layers``
        come from this image, the others from ``style``: fine texture from one painting,
        large-scale structure from another. Not combined with ``style_masks``.
    coarse_layers : list of str, optional
        Which style layers take their targets from ``coarse_style`` (default: those from
        block 3 on, :func:`default_coarse_layers`).
    style_masks : list of masks, optional
        Spatial control (Gatys et al. 2017, section 4): one mask per style image, an image
        or array the size of the content (white = 1: "this style here"). Each style is
        matched only inside its region, with guided Gram matrices; where no mask is white,
        the image keeps the content.
    extractor : FeatureExtractor, optional
        Reuse an existing extractor (must cover the layers).
    batch_content : bool
        The content comes with each call instead of from ``content`` (which must be None):
        ``objective(images, content=photos)`` compares each image with the photo at the same
        index in the batch. For training a network on batches of photos (:mod:`nstlab.fast`).
    precision : "float32" (default), "mixed_float16", "mixed_bfloat16" or "auto"
        The network's arithmetic (:class:`nstlab.engine.features.FeatureExtractor`); Gram matrices
        and losses stay float32. For GPUs with tensor cores; float16 can overflow on large
        style losses (the run then stops and keeps its last finite image): prefer
        ``"mixed_bfloat16"`` where the hardware has it. ``"auto"`` picks the fastest for
        this machine (:func:`nstlab.base.hardware.fastest_precision`); :func:`nstlab.stylize`
        does that by default, while this class keeps float32 unless asked, so losses
        computed by hand match it to about 1e-5.
    """

    def __init__(
        self,
        content=None,
        style=None,
        *,
        backbone: str = "vgg16",
        content_layers=None,
        style_layers=None,
        content_layer_weights=None,
        style_layer_weights=None,
        content_weight: float = DEFAULT_CONTENT_WEIGHT,
        style_weight: float = DEFAULT_STYLE_WEIGHT,
        tv_weight: float = DEFAULT_TV_WEIGHT,
        tv_power: float = 1.0,
        luminance_weight: float = 0.0,
        style_blend_weights=None,
        style_masks=None,
        pooling: str = "max",
        extractor: FeatureExtractor | None = None,
        coarse_style=None,
        coarse_layers=None,
        precision: str = "float32",
        batch_content: bool = False,
    ):
        if batch_content and content is not None:
            raise ValueError("batch_content=True takes the content with each call; "
                             "pass content=None")
        self.batch_content = bool(batch_content)
        for name, value in (("content_weight", content_weight), ("style_weight", style_weight),
                            ("tv_weight", tv_weight), ("luminance_weight", luminance_weight)):
            check_number(value, name, at_least=0)
        self.tv_power = float(check_number(tv_power, "tv_power", at_least=1))
        if content is None and not batch_content:
            content_layers = []
        elif content_layers is None:
            content_layers = list(DEFAULT_CONTENT_LAYERS)
        if style is None:
            style_layers = []
        elif style_layers is None:
            style_layers = list(DEFAULT_STYLE_LAYERS)
        self.content_layers = [content_layers] if isinstance(content_layers, str) else list(
            content_layers)
        self.style_layers = [style_layers] if isinstance(style_layers, str) else list(
            style_layers)
        self.content_layer_weights = layer_weights(self.content_layers, content_layer_weights)
        self.style_layer_weights = layer_weights(self.style_layers, style_layer_weights)
        self.content_weight = float(content_weight)
        self.style_weight = float(style_weight)
        self.tv_weight = float(tv_weight)
        self.luminance_weight = float(luminance_weight) if (
            content is not None or batch_content) else 0.0

        all_layers = list(dict.fromkeys(self.content_layers + self.style_layers))
        if extractor is None:
            extractor = FeatureExtractor(all_layers or ["block1_conv1"], backbone, pooling=pooling,
                                         precision=precision)
        elif missing := [name for name in all_layers if name not in extractor.layers]:
            raise ValueError(f"the extractor does not compute layer {missing[0]!r}")
        self.extractor = extractor

        content_batch = (_as_batch(content) if not self.batch_content and (
            self.content_layers or self.luminance_weight) else None)
        self.content_targets = {}
        if self.content_layers and content_batch is not None:
            self.extractor.check_size(*content_batch.shape[1:3])
            features = self.extractor(content_batch)
            self.content_targets = {name: features[name] for name in self.content_layers}
        self.luminance_target = (coarse_luminance(content_batch) if self.luminance_weight
                                 and content_batch is not None else None)
        self.coarse_layers = []
        self.targets = GramTargets({})
        if self.style_layers:
            recipe = style_recipe(style, style_blend_weights, style_masks, coarse_style,
                                  coarse_layers)
            if isinstance(recipe, CoarseFineStyle):
                self.coarse_layers = recipe.layers_for(self.style_layers)
            self.targets = recipe.build(self.extractor, self.style_layers, content)

    @property
    def style_targets(self) -> dict:
        """The target Gram matrix of each style layer (empty for masked styles)."""
        return self.targets.grams

    @property
    def part_names(self) -> list[str]:
        """The keys of ``parts``, in order: content layers, style layers, ``"tv"``, then
        ``"luminance"`` when its weight is not 0."""
        return ([part_name("content", name) for name in self.content_layers]
                + [part_name("style", name) for name in self.style_layers] + ["tv"]
                + (["luminance"] if self.luminance_weight else []))

    def content_features(self, photos) -> dict:
        """The content targets for a batch of photos: their features at the content layers."""
        features = self.extractor(photos)
        return {name: tf.stop_gradient(features[name]) for name in self.content_layers}

    def __call__(self, images, content=None):
        """``(total, parts)`` for an image batch; ``content``: the photos (``batch_content``)."""
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        if images.shape.rank == 3:
            images = images[tf.newaxis]
        content_targets = self.content_targets
        if content is not None:
            content_targets = self.content_features(content)
        elif self.batch_content and (self.content_layers or self.luminance_weight):
            raise ValueError("this objective takes its content with each call: "
                             "objective(images, content=photos)")
        features = self.extractor(images)
        parts = {}
        for name in self.content_layers:
            weight = self.content_weight * self.content_layer_weights[name]
            parts[part_name("content", name)] = weight * content_loss(
                features[name], content_targets[name])
        for name in self.style_layers:
            weight = self.style_weight * self.style_layer_weights[name]
            parts[part_name("style", name)] = weight * self.targets.loss(name, features[name])
        images_in_batch = tf.cast(tf.shape(images)[0], tf.float32)
        parts["tv"] = (self.tv_weight * total_variation_loss(images, self.tv_power)
                       / images_in_batch)
        if self.luminance_weight:
            target = coarse_luminance(content) if content is not None else self.luminance_target
            parts["luminance"] = self.luminance_weight * luminance_loss(images, target)
        total = tf.add_n(list(parts.values()))
        return total, parts

    def evaluate(self, image) -> dict[str, float]:
        """The parts and ``"total"`` for one image, as plain Python floats (for tables)."""
        total, parts = self(_as_batch(image))
        values = {name: float(value) for name, value in parts.items()}
        values["total"] = float(total)
        return values
