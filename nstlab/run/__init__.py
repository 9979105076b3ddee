"""Layer 4, run: the one table of a run's options, stylize and its stages, the memory estimate.
Import rule: imports only base, imaging and engine.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("memory", "options", "transfer"),
)
