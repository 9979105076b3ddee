"""Layer 3, engine: the network, features, losses, Objective, optimisers, history, checkpoints.
Import rule: imports only base and imaging; no argparse, no widgets (progress is a callback).
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("backbones", "checkpoint", "features", "history", "lbfgs", "losses", "optimize",
                "precision"),
)
