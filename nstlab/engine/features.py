"""Feature extraction: an image in, ``{layer name: activations}`` out.

>>> extractor = FeatureExtractor(["block1_conv1", "block4_conv2"])
>>> features = extractor(image)          # image: (H, W, 3) or (1, H, W, 3) in [0, 1]
>>> features["block4_conv2"].shape       # (1, H/8, W/8, 512)
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from nstlab.engine import backbones
from nstlab.engine.precision import resolve_precision


@functools.cache
def average_pooling_scales(backbone: str, deepest: str) -> dict[str, float]:
    """Per-layer factors that give average-pooling activations the size of max-pooling ones.

    Average pooling (Gatys et al. 2016 prefer it) makes deeper activations smaller than in
    the max-pooling network the weights were trained with, so the loss weights tuned for
    max pooling would no longer fit. Each layer is multiplied by
    ``mean(max-pool activation) / mean(avg-pool activation)`` measured on a reference image
    (a generated texture), which brings both networks to the same scale.
    """
    from nstlab.imaging.generated import generated_style

    reference = backbones.preprocess(generated_style("swirl", 128)[np.newaxis])
    names = backbones.layer_names(backbone)
    names = names[: names.index(deepest) + 1]
    with_max = backbones.build_vgg(backbone, deepest, pooling="max")(reference)
    with_avg = backbones.build_vgg(backbone, deepest, pooling="avg")(reference)
    with_max = with_max if isinstance(with_max, list | tuple) else [with_max]
    with_avg = with_avg if isinstance(with_avg, list | tuple) else [with_avg]
    return {name: float(tf.reduce_mean(m)) / max(float(tf.reduce_mean(a)), 1e-12)
            for name, m, a in zip(names, with_max, with_avg, strict=True)}


class FeatureExtractor:
    """Activations of chosen VGG layers for images in nstlab's pixel convention.

    Calling the extractor on a batch ``(B, H, W, 3)`` (or one image ``(H, W, 3)``) of RGB
    pixels in [0, 1] preprocesses it (:func:`nstlab.engine.backbones.preprocess`) and returns a dict
    from layer name to a ``(B, h, w, channels)`` tensor.

    Parameters
    ----------
    layers : list of str
        Keras layer names such as ``"block4_conv2"`` (after the ReLU: Gatys et al.'s
        ``conv4_2``, jcjohnson/neural-style's ``relu4_2``; notebook 01 has the table).
        The network is cut after the deepest one, so asking only for shallow layers is fast.
    backbone : {"vgg16", "vgg19"}
        ``"vgg16"`` (default) works offline; ``"vgg19"`` (ImageNet) is downloaded once.
    pooling : {"max", "avg"}
        ``"max"`` (default) or ``"avg"``, rescaled by :func:`average_pooling_scales` so the
        same loss weights work for both.
    weights : "pretrained" or None
        ``"pretrained"`` (default), or None for random weights (for tests and teaching).
    precision : {"float32", "mixed_float16", "mixed_bfloat16", "auto"}
        The network computes in this precision (default ``"float32"``,
        :func:`nstlab.engine.backbones.build_vgg`); the activations it returns are always float32,
        so Gram matrices and losses are summed in float32. ``"auto"`` is resolved once,
        here (:func:`nstlab.engine.precision.resolve_precision`); ``.precision`` holds the
        choice.
    """

    def __init__(self, layers, backbone: str = "vgg16", *, pooling: str = "max",
                 weights: str | None = "pretrained", precision: str = "float32"):
        self.layers = backbones.check_layers(layers, backbone)
        if not self.layers:
            raise backbones.BackboneError("a feature extractor needs at least one layer")
        self.backbone = backbone
        all_layers = backbones.layer_names(backbone)
        self.deepest = max(self.layers, key=all_layers.index)
        self.precision = resolve_precision(precision)
        self.model = backbones.build_vgg(backbone, self.deepest, pooling=pooling, weights=weights,
                                         precision=self.precision)
        built = all_layers[: all_layers.index(self.deepest) + 1]
        self._output_index = {name: built.index(name) for name in self.layers}
        self.pooling = pooling
        self._scales = {}
        if pooling == "avg" and weights == "pretrained":
            scales = average_pooling_scales(backbone, self.deepest)
            self._scales = {name: scales[name] for name in self.layers}

    @property
    def min_size(self) -> int:
        """The smallest image side the deepest layer can take (each pooling halves it)."""
        return backbones.min_input_size(self.deepest)

    def check_size(self, height: int, width: int) -> None:
        """Raise a clear error if an image is too small for the deepest layer."""
        backbones.check_input_size(height, width, self.deepest)

    def __call__(self, images) -> dict[str, tf.Tensor]:
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        if images.shape.rank == 3:
            images = images[tf.newaxis]
        outputs = self.model(backbones.preprocess(images), training=False)
        if not isinstance(outputs, list | tuple):  # Keras unwraps a model with one output
            outputs = [outputs]
        features = {name: tf.cast(outputs[index], tf.float32)
                    for name, index in self._output_index.items()}
        for name, scale in self._scales.items():
            features[name] = features[name] * scale
        return features

    def __repr__(self) -> str:
        return f"FeatureExtractor(layers={self.layers!r}, backbone={self.backbone!r})"
