"""nstlab: learn neural style transfer step by step.

The package behind the nstlab notebooks. Every public function has a docstring you
can read in a notebook with ``nstlab.gram_matrix?``.
"""

import os as _os

# TensorFlow prints CUDA probing noise on CPU-only machines; keep notebooks readable.
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
