"""Layer 2, imaging: images in and out, colour, styles drawn by code, samples and paintings.
Import rule: imports only nstlab.base.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("color", "data", "generated", "images", "structure"),
)
