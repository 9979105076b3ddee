"""Layer 6, lab: the notebooks' toolbox (figures, live previews, explorers, sweeps, setup).
Import rule: imports base, imaging, engine, run, fast and batch; never classroom or cli.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("explorer", "live", "notebook", "reconstruct", "tradeoff", "viz"),
)
