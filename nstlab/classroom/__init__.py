"""Layer 7, classroom: exercises and their checks, grading (in its sandbox), the book.
Import rule: imports the layers below it (base ... lab); never cli.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("book", "checks", "exercises", "grading", "pieces"),
)
