"""Layer 5, fast: feed-forward style networks (Johnson et al. 2016): train, save, stylize.
Import rule: imports base, imaging, engine and run; never batch (its peer) or above.

Fast style transfer (Johnson, Alahi & Fei-Fei 2016): a network that stylizes in one pass.

:func:`nstlab.stylize` optimises the pixels of each image anew: hundreds of passes through
VGG per picture. Johnson et al. instead *train* an image transformation network once, on
many photos, to minimise the same perceptual loss (:class:`nstlab.Objective`); afterwards
one forward pass of that network stylizes any photo, hundreds of times faster, at a higher
loss than an optimised image reaches.

>>> from nstlab.fast import FastStylizer, train_fast
>>> stylizer = FastStylizer.load("starry_night")      # a shipped model, or a .keras path
>>> picture = stylizer(photo)                          # (H, W, 3) float32 in [0, 1]
>>> result = train_fast("style.jpg", "photos/", size=128, steps=1000, checkpoint="mine.keras")
>>> several = train_fast(["a.jpg", "b.jpg"], "photos/", steps=2000).stylizer  # two styles
>>> picture = several(photo, style={"a": 0.5, "b": 0.5})                      # or a mix
>>> four = train_fast("d.jpg", "photos/", add_to="three_paintings", steps=600)  # add a style
>>> mended = train_fast("b.jpg", "photos/", retune="three.keras", luminance_weight=3e7)

The parts, one concept a module: :mod:`~nstlab.fast.recipe` (the training options and their
checks, no TensorFlow), :mod:`~nstlab.fast.network` (the transformation network),
:mod:`~nstlab.fast.photos` (random crops of a folder of photos), :mod:`~nstlab.fast.strategy`
(``tf.distribute``), :mod:`~nstlab.fast.modelfile` (the saved model and its record),
:mod:`~nstlab.fast.plan` (what a run will do: resume, add or retune styles, loss weights),
:mod:`~nstlab.fast.training` (:func:`train_fast`), :mod:`~nstlab.fast.stylizer`
(:class:`FastStylizer`), :mod:`~nstlab.fast.controls` (its size, strength and colour)
and :mod:`~nstlab.fast.command` (``nstlab train-fast``, ``nstlab fast``).
Names load on first use, so importing this package does not start TensorFlow.
"""

import importlib as _importlib

_EXPORTS = {
    "FastStylizer": "stylizer",
    "train_fast": "training",
    "TrainingResult": "training",
    "build_transformer": "network",
    "InstanceNormalization": "network",
    "ConditionalInstanceNormalization": "network",
    "residual_block": "network",
    "photo_batches": "photos",
    "find_photos": "photos",
    "sample_photos": "photos",
    "make_strategy": "strategy",
    "ModelFileError": "recipe",
    "PhotoError": "recipe",
    "SHIPPED_MODELS": "recipe",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nstlab.fast' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"nstlab.fast.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
