"""The image transformation network of Johnson, Alahi & Fei-Fei (2016), in Keras.

Photo in, stylized picture out, both (B, H, W, 3) in [0, 1], at any size::

    photo -> 9x9 conv (w) -> 3x3 conv stride 2 (2w) -> 3x3 conv stride 2 (4w)
          -> residual blocks (4w) -> resize x2 + 3x3 conv (2w) -> resize x2 + 3x3 conv (w)
          -> 9x9 conv (3) -> sigmoid

``w`` is :attr:`Recipe.width <nstlab.fast.recipe.Recipe>` (Johnson et al. use 32). Every
convolution but the last is followed by instance normalisation and a ReLU, and every one
pads its input by reflection, so the borders show no dark frame. Two choices differ from
the paper, both from later work:

* Upsampling is a resize (nearest neighbour) followed by a convolution, not a transposed
  convolution, whose overlapping strides paint a checkerboard (Odena, Dumoulin & Olah
  2016, "Deconvolution and Checkerboard Artifacts").
* Instance normalisation instead of batch normalisation (Ulyanov, Vedaldi & Lempitsky
  2016): each image is normalised on its own, so its contrast does not leak into the
  style, and a picture is stylized the same whatever else is in the batch.

The decoder resizes to the exact size of the matching encoder layer, so odd sizes work:
the output always has the input's height and width.

**Several styles in one network** (``build_transformer(styles=N)``): every instance
normalisation becomes a :class:`ConditionalInstanceNormalization` (Dumoulin, Shlens &
Kudlur 2017), with one learned scale and offset per style. The convolutions are shared;
a second input, the style weights (B, N), picks a style (one-hot) or mixes several. The
norms' scales and offsets are under 1 % of the weights, so N styles cost little more than
one.

With ``precision="mixed_bfloat16"`` (or ``"mixed_float16"``) the convolutions compute in 16
bits while the weights stay float32 (Keras mixed precision); two things stay float32
whatever the precision: the statistics of each instance normalisation (a mean over
thousands of pixels loses its last digits in bfloat16's 8-bit mantissa) and the last
convolution with its sigmoid, so the pixels, and the loss network downstream, get float32.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from nstlab.engine.precision import resolve_precision

PACKAGE = "nstlab"  # the package name Keras records for these layers in a model file


def normalized(inputs, epsilon: float):
    """``(x - mean) / sqrt(variance + epsilon)`` per image and channel, in float32."""
    x = tf.cast(inputs, tf.float32)
    mean, variance = tf.nn.moments(x, axes=[1, 2], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + epsilon)


@keras.saving.register_keras_serializable(package=PACKAGE)
class InstanceNormalization(keras.layers.Layer):
    """Normalise each channel of each image over its own positions, then scale and shift.

    ``y = scale * (x - mean) / sqrt(variance + epsilon) + offset``, with the mean and
    variance taken over height and width only (not over the batch, unlike batch
    normalisation), and ``scale``, ``offset`` learned per channel (starting at 1 and 0).
    """

    def __init__(self, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.scale = self.add_weight(name="scale", shape=(channels,), initializer="ones")
        self.offset = self.add_weight(name="offset", shape=(channels,), initializer="zeros")

    def call(self, inputs):
        scale, offset = tf.cast(self.scale, tf.float32), tf.cast(self.offset, tf.float32)
        return tf.cast(scale * normalized(inputs, self.epsilon) + offset, inputs.dtype)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ConditionalInstanceNormalization(keras.layers.Layer):
    """Instance normalisation with one scale and offset per style (Dumoulin et al. 2017).

    Called on ``[x, weights]``: ``x`` (B, H, W, C) and ``weights`` (B, styles), each row a
    one-hot choice of style or a mix summing to 1. Each image is normalised as by
    :class:`InstanceNormalization`, then scaled and shifted by ``weights @ scale`` and
    ``weights @ offset`` (``scale`` and ``offset`` are (styles, C)): a mix of styles is a
    mix of their scales and offsets, which paints a blend of the paintings.
    """

    def __init__(self, styles: int, epsilon: float = 1e-5, **kwargs):
        super().__init__(**kwargs)
        self.styles = int(styles)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = input_shape[0][-1]
        self.scale = self.add_weight(name="scale", shape=(self.styles, channels),
                                     initializer="ones")
        self.offset = self.add_weight(name="offset", shape=(self.styles, channels),
                                      initializer="zeros")

    def call(self, inputs):
        x, weights = inputs
        weights = tf.cast(weights, tf.float32)
        scale = tf.matmul(weights, tf.cast(self.scale, tf.float32))[:, None, None, :]
        offset = tf.matmul(weights, tf.cast(self.offset, tf.float32))[:, None, None, :]
        return tf.cast(scale * normalized(x, self.epsilon) + offset, x.dtype)

    def get_config(self):
        return {**super().get_config(), "styles": self.styles, "epsilon": self.epsilon}


def normalization(x, style, *, name: str, dtype: str):
    """Instance norm of ``x``; conditional on the style weights ``style`` when given."""
    if style is None:
        return InstanceNormalization(name=name, dtype=dtype)(x)
    layer = ConditionalInstanceNormalization(style.shape[-1], name=name, dtype=dtype)
    return layer([x, style])


@keras.saving.register_keras_serializable(package=PACKAGE)
class ReflectionPadding(keras.layers.Layer):
    """Pad height and width by ``padding`` pixels on each side, mirroring the image."""

    def __init__(self, padding: int, **kwargs):
        super().__init__(**kwargs)
        self.padding = int(padding)

    def call(self, inputs):
        pad = self.padding
        return tf.pad(inputs, [[0, 0], [pad, pad], [pad, pad], [0, 0]], mode="REFLECT")

    def get_config(self):
        return {**super().get_config(), "padding": self.padding}


@keras.saving.register_keras_serializable(package=PACKAGE)
class ResizeLike(keras.layers.Layer):
    """Resize the first input (nearest neighbour) to the height and width of the second."""

    def call(self, inputs):
        image, reference = inputs
        return tf.image.resize(image, tf.shape(reference)[1:3], method="nearest")


def conv_layer(x, channels: int, kernel: int, *, stride: int = 1, name: str,
               normalize: bool = True, dtype: str = "float32", style=None):
    """Reflection padding, a convolution, then (``normalize``) instance norm and ReLU.

    ``dtype`` is the layers' Keras dtype policy (``"mixed_bfloat16"`` computes in 16 bits);
    ``style``, the style-weights input of a multi-style network (its norms are conditional).
    """
    # Keras' convolutions have no reflect padding: pad first, then convolve "valid".
    if kernel > 1:
        x = ReflectionPadding(kernel // 2, name=f"{name}_pad", dtype=dtype)(x)
    x = keras.layers.Conv2D(channels, kernel, strides=stride, padding="valid",
                            name=f"{name}_conv", dtype=dtype)(x)
    if normalize:
        x = normalization(x, style, name=f"{name}_norm", dtype=dtype)
        x = keras.layers.ReLU(name=f"{name}_relu", dtype=dtype)(x)
    return x


def residual_block(x, channels: int, *, name: str = "residual", dtype: str = "float32",
                   style=None):
    """Two 3x3 convolutions whose output is *added* to the input (He et al. 2016).

    The block only has to learn a change to its input, so a deep stack of them starts close
    to passing the picture through, and gradients reach the early layers unweakened.
    Johnson et al.'s version: no ReLU after the second normalisation, nor after the sum.
    """
    y = conv_layer(x, channels, 3, name=f"{name}_a", dtype=dtype, style=style)
    y = ReflectionPadding(1, name=f"{name}_b_pad", dtype=dtype)(y)
    y = keras.layers.Conv2D(channels, 3, padding="valid", name=f"{name}_b_conv", dtype=dtype)(y)
    y = normalization(y, style, name=f"{name}_b_norm", dtype=dtype)
    return keras.layers.Add(name=f"{name}_add", dtype=dtype)([x, y])


def upsample(x, like, channels: int, *, name: str, dtype: str = "float32", style=None):
    """Resize ``x`` to the size of ``like`` (twice as large), then a 3x3 convolution."""
    x = ResizeLike(name=f"{name}_resize", dtype=dtype)([x, like])
    return conv_layer(x, channels, 3, name=name, dtype=dtype, style=style)


def build_transformer(width: int = 16, residual_blocks: int = 5, *, styles: int = 1,
                      precision: str = "float32", name: str = "transformer") -> keras.Model:
    """The image transformation network: (B, H, W, 3) in [0, 1] to the same shape.

    With ``styles`` above 1 it paints several styles: it takes ``[photos, weights]``,
    ``weights`` (B, styles) choosing or mixing them (:class:`ConditionalInstanceNormalization`).

    Parameters
    ----------
    width : int
        Channels of the first layer; the downsampled layers have 2x and 4x. Johnson et al.
        use 32 (1.7 million weights, about 70 GFLOPs for a 512 x 512 photo); 16 has a
        quarter of the weights and compute and trains in minutes on a CPU.
    residual_blocks : int
        Residual blocks at a quarter of the resolution (Johnson et al.: 5).
    precision : "float32" (default), "mixed_bfloat16", "mixed_float16" or "auto"
        The arithmetic of the layers (:func:`nstlab.engine.precision.resolve_precision`);
        the weights, the normalisation statistics and the last convolution stay float32.
        The same weights work in any precision: a network trained in bfloat16 is saved
        and used as a float32 one.
    styles : int
        Styles the one network paints (default 1: plain instance normalisation, one input).
    """
    dtype = resolve_precision(precision)
    photos = keras.Input(shape=(None, None, 3), name="photo")
    style = keras.Input(shape=(styles,), name="style") if styles > 1 else None
    layer = {"dtype": dtype, "style": style}
    full = conv_layer(photos, width, 9, name="encode1", **layer)
    half = conv_layer(full, 2 * width, 3, stride=2, name="encode2", **layer)
    x = conv_layer(half, 4 * width, 3, stride=2, name="encode3", **layer)
    for index in range(1, residual_blocks + 1):
        x = residual_block(x, 4 * width, name=f"residual{index}", **layer)
    x = upsample(x, half, 2 * width, name="decode1", **layer)
    x = upsample(x, full, width, name="decode2", **layer)
    # The last convolution stays float32: its 3 channels cost little, and 16-bit logits
    # would band the pixels (bfloat16 keeps about 3 significant digits).
    x = conv_layer(x, 3, 9, name="output", normalize=False)
    pictures = keras.layers.Activation("sigmoid", name="to_pixels", dtype="float32")(x)
    return keras.Model(photos if style is None else [photos, style], pictures, name=name)


def style_count(model) -> int:
    """How many styles ``model`` (:func:`build_transformer`) paints: 1, or its style input's."""
    return 1 if len(model.inputs) == 1 else int(model.inputs[1].shape[-1])


def copy_with_more_styles(source, target) -> None:
    """Set the weights of ``target``, a network of ``source``'s size that paints more styles,
    from ``source``: the same convolutions, the same scale and offset for each style
    ``source`` paints, and for each further style the mean of those (a start between the
    styles the convolutions were trained for). See :func:`style_weights_only`."""
    for layer in target.layers:
        if not layer.weights:
            continue
        weights = source.get_layer(layer.name).get_weights()
        if isinstance(layer, ConditionalInstanceNormalization):
            rows = [np.reshape(weight, (-1, weight.shape[-1])) for weight in weights]
            extra = layer.styles - rows[0].shape[0]
            weights = [np.concatenate([row, np.repeat(row.mean(axis=0, keepdims=True), extra,
                                                      axis=0)]) for row in rows]
        layer.set_weights(weights)


def style_weights_only(model) -> list:
    """The variables that hold the styles: the scales and offsets of every conditional norm.

    Dumoulin et al. (2017) add a style to a trained network by learning only its own scale
    and offset in each norm, the convolutions kept: a few thousand weights instead of all.
    """
    return [weight for layer in model.layers
            if isinstance(layer, ConditionalInstanceNormalization)
            for weight in layer.trainable_weights]
