"""nstlab: learn neural style transfer step by step.

The package behind the nstlab notebooks, also usable on its own::

    import nstlab
    result = nstlab.stylize("photo.jpg", "painting.jpg", size=256)
    result.save("out.png")

Every public function has a docstring you can read in a notebook with ``nstlab.gram_matrix?``.
Names are loaded on first use, so ``import nstlab`` is quick and TensorFlow starts only when
it is needed.
"""

import importlib as _importlib

from nstlab import native_logs as _native_logs

# TensorFlow prints CUDA probing noise on CPU-only machines; keep notebooks readable.
_native_logs.quiet_by_default()

__version__ = "0.1.0"

_EXPORTS = {
    "load_image": "images",
    "save_image": "images",
    "resize_image": "images",
    "ImageError": "images",
    "preprocess": "backbones",
    "deprocess": "backbones",
    "layer_names": "backbones",
    "FeatureExtractor": "features",
    "gram_matrix": "losses",
    "content_loss": "losses",
    "style_loss": "losses",
    "total_variation_loss": "losses",
    "Objective": "losses",
    "History": "history",
    "optimize_pixels": "optimize",
    "StepInfo": "optimize",
    "stylize": "transfer",
    "Result": "transfer",
    "seed_everything": "transfer",
    "setup_notebook": "notebook",
}

_SUBMODULES = {
    "backbones", "batch", "book", "checkpoint", "checks", "cli", "color", "data", "download",
    "exercises", "explorer", "fast", "features", "files", "generated", "grade", "hardware",
    "history", "images", "lbfgs", "live", "losses", "memory", "messages", "native_logs",
    "notebook", "optimize", "options", "reconstruct", "sandbox", "tradeoff", "transfer", "viz",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _SUBMODULES:  # nstlab.viz, nstlab.data, ... without a separate import
        return _importlib.import_module(f"nstlab.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nstlab' has no attribute {name!r}")
    value = getattr(_importlib.import_module(f"nstlab.{module}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS) | _SUBMODULES)
