"""nstlab: learn neural style transfer step by step.

The package behind the nstlab notebooks, also usable on its own::

    import nstlab
    result = nstlab.stylize("photo.jpg", "painting.jpg", size=256)
    result.save("out.png")

Every public function has a docstring you can read in a notebook with ``nstlab.gram_matrix?``.
The package is layered (:data:`LAYERS`, lowest first), and each layer imports only those
below it. Names are loaded on first use, so ``import nstlab`` is quick and TensorFlow starts
only when it is needed.
"""

from nstlab.base import native_logs as _native_logs
from nstlab.base.lazy import lazy_names as _lazy_names

# TensorFlow prints CUDA probing noise on CPU-only machines; keep notebooks readable.
_native_logs.quiet_by_default()

__version__ = "0.1.0"

# The learner's names, each from the module that defines it.
_EXPORTS = {
    "load_image": "imaging.images",
    "save_image": "imaging.images",
    "resize_image": "imaging.images",
    "ImageError": "imaging.images",
    "preprocess": "engine.backbones",
    "deprocess": "engine.backbones",
    "layer_names": "engine.backbones",
    "FeatureExtractor": "engine.features",
    "gram_matrix": "engine.losses",
    "content_loss": "engine.losses",
    "style_loss": "engine.losses",
    "total_variation_loss": "engine.losses",
    "Objective": "engine.losses",
    "History": "engine.history",
    "optimize_pixels": "engine.optimize",
    "StepInfo": "engine.optimize",
    "stylize": "run.transfer",
    "Result": "run.transfer",
    "seed_everything": "run.transfer",
    "setup_notebook": "lab.notebook",
}

# The layers and their ranks, lowest first. A module may import its own layer and layers of a
# lower rank, never one above it or a peer of the same rank (fast and batch; lab and
# video); each package's docstring says so in words, and tests/test_layers.py checks every
# import.
LAYERS = {"base": 1, "imaging": 2, "engine": 3, "run": 4, "fast": 5, "batch": 5, "lab": 6,
          "video": 6, "classroom": 7, "cli": 8}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = _lazy_names(__name__, globals(), submodules=LAYERS, exports=_EXPORTS)
