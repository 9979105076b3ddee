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
"""

from __future__ import annotations

import keras
import tensorflow as tf

PACKAGE = "nstlab"  # the package name Keras records for these layers in a model file


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
        mean, variance = tf.nn.moments(inputs, axes=[1, 2], keepdims=True)
        return self.scale * (inputs - mean) * tf.math.rsqrt(variance + self.epsilon) + self.offset

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


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
               normalize: bool = True):
    """Reflection padding, a convolution, then (``normalize``) instance norm and ReLU."""
    # Keras' convolutions have no reflect padding: pad first, then convolve "valid".
    if kernel > 1:
        x = ReflectionPadding(kernel // 2, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(channels, kernel, strides=stride, padding="valid",
                            name=f"{name}_conv")(x)
    if normalize:
        x = InstanceNormalization(name=f"{name}_norm")(x)
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def residual_block(x, channels: int, *, name: str = "residual"):
    """Two 3x3 convolutions whose output is *added* to the input (He et al. 2016).

    The block only has to learn a change to its input, so a deep stack of them starts close
    to passing the picture through, and gradients reach the early layers unweakened.
    Johnson et al.'s version: no ReLU after the second normalisation, nor after the sum.
    """
    y = conv_layer(x, channels, 3, name=f"{name}_a")
    y = ReflectionPadding(1, name=f"{name}_b_pad")(y)
    y = keras.layers.Conv2D(channels, 3, padding="valid", name=f"{name}_b_conv")(y)
    y = InstanceNormalization(name=f"{name}_b_norm")(y)
    return keras.layers.Add(name=f"{name}_add")([x, y])


def upsample(x, like, channels: int, *, name: str):
    """Resize ``x`` to the size of ``like`` (twice as large), then a 3x3 convolution."""
    x = ResizeLike(name=f"{name}_resize")([x, like])
    return conv_layer(x, channels, 3, name=name)


def build_transformer(width: int = 16, residual_blocks: int = 5, *,
                      name: str = "transformer") -> keras.Model:
    """The image transformation network: (B, H, W, 3) in [0, 1] to the same shape.

    Parameters
    ----------
    width : int
        Channels of the first layer; the downsampled layers have 2x and 4x. Johnson et al.
        use 32 (1.7 million weights, about 70 GFLOPs for a 512 x 512 photo); 16 has a
        quarter of the weights and compute and trains in minutes on a CPU.
    residual_blocks : int
        Residual blocks at a quarter of the resolution (Johnson et al.: 5).
    """
    photos = keras.Input(shape=(None, None, 3), name="photo")
    full = conv_layer(photos, width, 9, name="encode1")
    half = conv_layer(full, 2 * width, 3, stride=2, name="encode2")
    x = conv_layer(half, 4 * width, 3, stride=2, name="encode3")
    for index in range(1, residual_blocks + 1):
        x = residual_block(x, 4 * width, name=f"residual{index}")
    x = upsample(x, half, 2 * width, name="decode1")
    x = upsample(x, full, width, name="decode2")
    x = conv_layer(x, 3, 9, name="output", normalize=False)
    pictures = keras.layers.Activation("sigmoid", name="to_pixels")(x)
    return keras.Model(photos, pictures, name=name)
