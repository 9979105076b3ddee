"""Grading a class without trusting its notebooks: ``nstlab grade``.

One concept per module, from the wall outwards:

* :mod:`.protocol`: what crosses the sandbox's wall (plain data in capped frames);
* :mod:`.sandbox`: the wall itself (bubblewrap, limits, the kill);
* :mod:`.overlay`: the nstlab the sandbox sees (solvers refuse, no reference data);
* :mod:`.inside`: the program in the sandbox (runs the cells, calls the functions);
* :mod:`.verdict`: the checks, run outside on the student's functions;
* :mod:`.runner`: one notebook, from staging to its rows;
* :mod:`.submissions`: finding and reading what students handed in, safely;
* :mod:`.course`: the source notebooks and what each exercise grades;
* :mod:`.report`: rows, the CSV and the screen, escaped;
* :mod:`.grade`: the whole class, ``--jobs`` at once;
* :mod:`.command`: the ``nstlab grade`` command line.
"""

from nstlab.base.lazy import lazy_names

__getattr__, __dir__ = lazy_names(
    __name__, globals(),
    submodules=("command", "course", "grade", "inside", "overlay", "protocol", "report",
                "runner", "sandbox", "submissions", "verdict"),
)
