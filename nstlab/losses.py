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
* Total variation: ``tf.image.total_variation``, the sum of absolute differences between
  neighbouring pixels (pixels in [0, 1]); small when the image is smooth.
* Total: :math:`\alpha \sum_l w_l\,\mathrm{content}_l
  + \beta \sum_l v_l\,\mathrm{style}_l + \gamma\,\mathrm{tv}`
  with ``content_weight`` :math:`\alpha`, ``style_weight`` :math:`\beta`, ``tv_weight``
  :math:`\gamma`, and per-layer weights :math:`w_l, v_l` that each sum to 1.

The TensorFlow tutorial uses this same convention, so its weights compare directly
(content 1e4, style 1e-2, TV 30, with VGG19 and content layer ``block5_conv2``). Others
normalise differently: the PyTorch tutorial divides the Gram matrix by ``H*W*C``,
jcjohnson/neural-style by the number of elements of the layer and scales gradients, and
Gatys et al. use sums with a factor :math:`1/(4N^2M^2)`; their ``alpha``/``beta`` values do
not carry over to nstlab.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from nstlab.features import FeatureExtractor

DEFAULT_CONTENT_LAYERS = ("block4_conv2",)
DEFAULT_STYLE_LAYERS = (
    "block1_conv1",
    "block2_conv1",
    "block3_conv1",
    "block4_conv1",
    "block5_conv1",
)
DEFAULT_CONTENT_WEIGHT = 1e4
DEFAULT_STYLE_WEIGHT = 100.0
DEFAULT_TV_WEIGHT = 1.0


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


def total_variation_loss(images):
    """Total variation of an image or batch: sum of absolute neighbour differences."""
    return tf.reduce_sum(tf.image.total_variation(tf.convert_to_tensor(images, tf.float32)))


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
    from nstlab.images import load_image, resize_image

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
    from nstlab.images import load_image

    return tf.constant(load_image(image)[np.newaxis])


class Objective:
    """The loss to minimise: content + style + total variation, with per-layer parts.

    The targets (content features, style Gram matrices) are computed once here, so each
    optimisation step only runs the network on the image being optimised.

    Parameters
    ----------
    content : image or None
        The content image, (H, W, 3) in [0, 1] (anything :func:`nstlab.load_image` takes).
        ``None`` leaves out the content loss (texture synthesis).
    style : image, list of images, or None
        The style image(s). Several styles are blended by mixing their Gram matrices with
        ``style_blend_weights``. ``None`` leaves out the style loss (content reconstruction).
    backbone : "vgg16" or "vgg19"
    content_layers, style_layers : list of str
        Keras layer names; defaults :data:`DEFAULT_CONTENT_LAYERS`, :data:`DEFAULT_STYLE_LAYERS`.
    content_layer_weights, style_layer_weights : list or dict, optional
        Relative weights per layer, normalised to sum to 1 (default: equal).
    content_weight, style_weight, tv_weight : float
        alpha, beta and the total-variation weight (see the module docstring).
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
    precision : "float32" (default), "mixed_float16", "mixed_bfloat16" or "auto"
        The network's arithmetic (:class:`nstlab.features.FeatureExtractor`); Gram matrices
        and losses stay float32. For GPUs with tensor cores; float16 can overflow on large
        style losses (the run then stops and keeps its last finite image): prefer
        ``"mixed_bfloat16"`` where the hardware has it. ``"auto"`` picks the fastest for
        this machine (:func:`nstlab.hardware.fastest_precision`); :func:`nstlab.stylize`
        does that by default, while this class keeps float32 unless asked, so losses
        computed by hand match it to about 1e-5.

    Calling the objective on an image batch ``(1, H, W, 3)`` returns ``(total, parts)``:
    ``parts`` maps ``"content/<layer>"``, ``"style/<layer>"`` and ``"tv"`` to their weighted
    scalar losses, and ``total`` is their sum.
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
        style_blend_weights=None,
        style_masks=None,
        pooling: str = "max",
        extractor: FeatureExtractor | None = None,
        coarse_style=None,
        coarse_layers=None,
        precision: str = "float32",
    ):
        for name, value in (("content_weight", content_weight), ("style_weight", style_weight),
                            ("tv_weight", tv_weight)):
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
        if content is None:
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

        all_layers = list(dict.fromkeys(self.content_layers + self.style_layers))
        if extractor is None:
            extractor = FeatureExtractor(all_layers or ["block1_conv1"], backbone, pooling=pooling,
                                         precision=precision)
        elif missing := [name for name in all_layers if name not in extractor.layers]:
            raise ValueError(f"the extractor does not compute layer {missing[0]!r}")
        self.extractor = extractor

        self.content_targets = {}
        if self.content_layers:
            content_batch = _as_batch(content)
            self.extractor.check_size(*content_batch.shape[1:3])
            features = self.extractor(content_batch)
            self.content_targets = {name: features[name] for name in self.content_layers}
        self.style_targets = {}
        self.region_targets = []  # with masks: one (weight, {layer: mask}, {layer: gram}) a style
        if self.style_layers and style_masks is not None:
            self.region_targets = self._region_targets(content, style, style_blend_weights,
                                                       style_masks)
        elif self.style_layers:
            self.style_targets = self._blended_style_grams(style, style_blend_weights)
        self.coarse_layers = []
        if coarse_style is not None and self.style_layers:
            if style_masks is not None:
                raise ValueError("coarse_style cannot be combined with style_masks")
            self._take_coarse_targets(coarse_style, coarse_layers)

    def _take_coarse_targets(self, image, layers) -> None:
        layers = default_coarse_layers(self.style_layers) if layers is None else (
            [layers] if isinstance(layers, str) else list(layers))
        if unknown := [name for name in layers if name not in self.style_layers]:
            raise ValueError(f"coarse layer {unknown[0]!r} is not a style layer; choose from "
                             f"{', '.join(self.style_layers)}")
        batch = _as_batch(image)
        self.extractor.check_size(*batch.shape[1:3])
        features = self.extractor(batch)
        for name in layers:
            self.style_targets[name] = gram_matrix(features[name])
        self.coarse_layers = layers

    def _region_targets(self, content, style, blend_weights, masks):
        styles = list(style) if isinstance(style, list | tuple) else [style]
        masks = list(masks) if isinstance(masks, list | tuple) else [masks]
        if content is None:
            raise ValueError("style_masks need a content image (they are drawn over it)")
        if len(masks) != len(styles):
            raise ValueError(f"got {len(masks)} style masks for {len(styles)} style images")
        weights = [1.0] * len(styles) if blend_weights is None else [float(w) for w in
                                                                    blend_weights]
        content_batch = _as_batch(content)
        shapes = {name: value.shape[1:3]
                  for name, value in self.extractor(content_batch).items()}
        regions = []
        for image, mask, weight in zip(styles, masks, weights, strict=True):
            pixels = load_mask(mask, content_batch.shape[1:3])[np.newaxis, :, :, np.newaxis]
            layer_masks = {name: tf.image.resize(pixels, shapes[name], method="area")
                           for name in self.style_layers}
            batch = _as_batch(image)
            self.extractor.check_size(*batch.shape[1:3])
            features = self.extractor(batch)
            grams = {name: gram_matrix(features[name]) for name in self.style_layers}
            regions.append((weight, layer_masks, grams))
        return regions

    def _style_layer_loss(self, name, features):
        if not self.region_targets:
            return style_loss(features, self.style_targets[name])
        return tf.add_n([
            weight * tf.reduce_mean(tf.square(masked_gram_matrix(features, masks[name])
                                              - grams[name]))
            for weight, masks, grams in self.region_targets])

    def _blended_style_grams(self, style, blend_weights) -> dict[str, tf.Tensor]:
        styles = list(style) if isinstance(style, list | tuple) else [style]
        if blend_weights is None:
            blend_weights = [1.0] * len(styles)
        if len(blend_weights) != len(styles):
            raise ValueError(
                f"got {len(blend_weights)} style blend weights for {len(styles)} style images")
        mix = layer_weights([str(i) for i in range(len(styles))], blend_weights)
        targets = {name: 0.0 for name in self.style_layers}
        for index, image in enumerate(styles):
            if mix[str(index)] == 0:
                continue
            batch = _as_batch(image)
            self.extractor.check_size(*batch.shape[1:3])
            features = self.extractor(batch)
            for name in self.style_layers:
                targets[name] += mix[str(index)] * gram_matrix(features[name])
        return targets

    @property
    def part_names(self) -> list[str]:
        """The keys of ``parts``, in order: content layers, style layers, then ``"tv"``."""
        return ([f"content/{name}" for name in self.content_layers]
                + [f"style/{name}" for name in self.style_layers] + ["tv"])

    def __call__(self, images):
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        if images.shape.rank == 3:
            images = images[tf.newaxis]
        features = self.extractor(images)
        parts = {}
        for name in self.content_layers:
            weight = self.content_weight * self.content_layer_weights[name]
            parts[f"content/{name}"] = weight * content_loss(
                features[name], self.content_targets[name])
        for name in self.style_layers:
            weight = self.style_weight * self.style_layer_weights[name]
            parts[f"style/{name}"] = weight * self._style_layer_loss(name, features[name])
        parts["tv"] = self.tv_weight * total_variation_loss(images)
        total = tf.add_n(list(parts.values()))
        return total, parts

    def evaluate(self, image) -> dict[str, float]:
        """The parts and ``"total"`` for one image, as plain Python floats (for tables)."""
        total, parts = self(_as_batch(image))
        values = {name: float(value) for name, value in parts.items()}
        values["total"] = float(total)
        return values
