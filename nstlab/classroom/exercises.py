"""The exercises of the source notebooks: student copies, nbgrader cell metadata, and how
to find each exercise and its check.

In the source notebooks every exercise solution sits inside a function body between two
marker lines (the markers nbgrader uses), and the next code cell checks it::

    def gram_matrix(features):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

    nstlab.classroom.checks.check_gram_matrix(gram_matrix)

The exercise is named after its check (``gram_matrix``); :func:`find_exercises` lists them.

:func:`make_student_copies` writes each notebook again with the lines from ``BEGIN`` to
``END`` replaced by nbgrader's stub (``# YOUR CODE HERE`` and ``raise NotImplementedError()``,
indented like the markers), outputs cleared. Run it as ``nstlab exercises OUT_DIR``.

nbgrader
--------
The source notebooks are also nbgrader source notebooks: :func:`mark_for_nbgrader` gives
each solution cell and each check cell nbgrader's cell metadata (an "autograded answer" and
an "autograder tests" cell worth 1 point). After editing exercises, run
``python -m nstlab.classroom.exercises notebooks`` to mark the notebooks again (a test checks it).
nbgrader's ``generate_assignment`` then writes the same cells as ``nstlab exercises``:
the same sources, and the same locks (``deletable``/``editable``, nbgrader's ``LockCells``
rules); nbgrader adds only its checksums to the cell metadata. Under nbgrader's autograder
a check raises on a wrong or unfinished answer, so the cell scores 0 (see
:mod:`nstlab.classroom.checks`).
"""

from __future__ import annotations

import copy
import dataclasses
import re
import sys
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
#: What replaces a solution: nbgrader's default Python stub, so both tools write the same.
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
#: The version of nbgrader's cell metadata written by :func:`mark_for_nbgrader`.
NBGRADER_SCHEMA_VERSION = 3

_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")
#: A call of an exercise check, as the check cells write it:
#: ``nstlab.classroom.checks.check_gram_matrix(``.
CHECK_CALL = re.compile(r"\bnstlab\.classroom\.checks\.(?P<check>check_\w+)\s*\(")


class ExerciseFormatError(ValueError):
    """A solution block without its END marker, not inside a function, or without a check."""


@dataclasses.dataclass(frozen=True)
class Exercise:
    """One exercise of a source notebook.

    Attributes
    ----------
    name : str
        The check's name without ``check_`` (``"gram_matrix"``): the nbgrader ``grade_id`` of
        the solution cell and the ``exercise`` column of ``nstlab grade``.
    check : str
        The check function called by the check cell (``"check_gram_matrix"``), also the
        ``grade_id`` of that cell.
    solution_cell, check_cell : int
        Positions of the two cells in the notebook (from 0).
    """

    name: str
    check: str
    solution_cell: int
    check_cell: int


def exercise_name(check: str) -> str:
    """The exercise a check belongs to: ``"check_gram_matrix"`` -> ``"gram_matrix"``."""
    return check.removeprefix("check_")


def strip_solutions(source: str, where: str = "cell") -> str:
    """Return ``source`` with every solution block replaced by an indented stub."""
    lines = source.splitlines()
    out: list[str] = []
    inside = False
    for number, line in enumerate(lines, start=1):
        match = _BEGIN_LINE.match(line)
        if match:
            if inside:
                raise ExerciseFormatError(f"{where}, line {number}: BEGIN inside a solution")
            indent = match["indent"]
            if not indent:
                raise ExerciseFormatError(
                    f"{where}, line {number}: a solution must be inside a function body, so "
                    "the student copy still runs")
            out += [indent + stub_line for stub_line in STUB.splitlines()]
            inside = True
        elif line.strip() == END:
            if not inside:
                raise ExerciseFormatError(f"{where}, line {number}: END without BEGIN")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseFormatError(f"{where}: BEGIN SOLUTION without END SOLUTION")
    return "\n".join(out)


def count_exercises(notebook) -> int:
    """How many solution blocks a notebook (an ``nbformat`` node) holds."""
    return sum(cell.source.count(BEGIN) for cell in notebook.cells if cell.cell_type == "code")


def find_exercises(notebook) -> list[Exercise]:
    """The exercises of a source notebook, in order: each solution cell and its check cell.

    The check cell is the next code cell; it must call one ``nstlab.classroom.checks.check_...``.
    Raises :class:`ExerciseFormatError` when it does not, or when two exercises share a check.
    """
    exercises: list[Exercise] = []
    code = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    for position, index in enumerate(code):
        if BEGIN not in notebook.cells[index].source:
            continue
        following = code[position + 1:position + 2]
        checks = CHECK_CALL.findall(notebook.cells[following[0]].source) if following else []
        if len(checks) != 1:
            raise ExerciseFormatError(f"cell {index}: the next code cell must call one "
                                      "nstlab.classroom.checks.check_...(), the exercise's check")
        if any(exercise.check == checks[0] for exercise in exercises):
            raise ExerciseFormatError(f"cell {following[0]}: {checks[0]} checks two exercises")
        exercises.append(Exercise(exercise_name(checks[0]), checks[0], index, following[0]))
    return exercises


# --------------------------------------------------------------------------- nbgrader


def nbgrader_metadata(exercise: Exercise, cell: str) -> dict:
    """nbgrader's metadata for the ``"solution"`` or the ``"check"`` cell of ``exercise``.

    The solution cell is an "autograded answer" (``solution``, editable); the check cell an
    "autograder tests" cell (``grade``, ``locked``, 1 point).
    """
    if cell == "solution":
        return {"grade": False, "grade_id": exercise.name, "locked": False,
                "schema_version": NBGRADER_SCHEMA_VERSION, "solution": True}
    if cell == "check":
        return {"grade": True, "grade_id": exercise.check, "locked": True, "points": 1,
                "schema_version": NBGRADER_SCHEMA_VERSION, "solution": False}
    raise ValueError(f"cell must be 'solution' or 'check', not {cell!r}")


def mark_for_nbgrader(notebook) -> int:
    """Give the exercise cells of ``notebook`` their nbgrader metadata, in place.

    Only the ``nbgrader`` entry of those cells' metadata changes (sources and outputs do
    not); any stale ``nbgrader`` entry on other cells is removed. Returns how many cells
    changed: 0 means the notebook was marked already.
    """
    wanted = {}
    for exercise in find_exercises(notebook):
        wanted[exercise.solution_cell] = nbgrader_metadata(exercise, "solution")
        wanted[exercise.check_cell] = nbgrader_metadata(exercise, "check")
    changed = 0
    for index, cell in enumerate(notebook.cells):
        metadata = wanted.get(index)
        if cell.metadata.get("nbgrader") == metadata:
            continue
        if metadata is None:
            del cell.metadata["nbgrader"]
        else:
            cell.metadata["nbgrader"] = metadata
        changed += 1
    return changed


def mark_notebooks(notebooks_dir="notebooks") -> list[Path]:
    """Mark every source notebook in ``notebooks_dir`` for nbgrader; returns those rewritten."""
    import nbformat

    rewritten = []
    for path in sorted(Path(notebooks_dir).glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        try:
            changed = mark_for_nbgrader(notebook)
        except ExerciseFormatError as error:
            raise ExerciseFormatError(f"{path.name}: {error}") from None
        if changed:
            nbformat.write(notebook, path)
            rewritten.append(path)
    return rewritten


def _lock(cell) -> None:
    """Keep the exercise cells in place as nbgrader's ``LockCells`` does (same rules)."""
    marks = cell.metadata.get("nbgrader", {})
    if marks.get("solution") or marks.get("grade") or marks.get("locked"):
        cell.metadata["deletable"] = False
    if not marks.get("solution") and (marks.get("grade") or marks.get("locked")):
        cell.metadata["editable"] = False


# --------------------------------------------------------------------------- student copies


def student_copy(notebook):
    """A copy of an ``nbformat`` notebook with solutions stripped and outputs cleared.

    The exercise cells cannot be deleted, and check cells not edited, in Jupyter (the
    ``deletable`` and ``editable`` cell metadata), as in nbgrader's copies.
    """
    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
        _lock(cell)
        if cell.cell_type != "code":
            continue
        cell.source = strip_solutions(cell.source, f"cell {index}")
        cell.outputs = []
        cell.execution_count = None
    return student


def make_student_copies(out_dir, notebooks_dir="notebooks") -> list[Path]:
    """Write a student copy of every ``*.ipynb`` in ``notebooks_dir`` into ``out_dir``.

    Returns the paths written. Notebooks without exercises are copied too (cleared), so
    the folder is a complete set a class can use.
    """
    import nbformat

    notebooks_dir = Path(notebooks_dir)
    sources = sorted(notebooks_dir.glob("*.ipynb"))
    if not sources:
        raise FileNotFoundError(f"no notebooks (*.ipynb) found in '{notebooks_dir}'")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for source in sources:
        notebook = nbformat.read(source, as_version=4)
        try:
            student = student_copy(notebook)
        except ExerciseFormatError as error:
            raise ExerciseFormatError(f"{source.name}: {error}") from None
        target = out_dir / source.name
        nbformat.write(student, target)
        written.append(target)
    return written


# python -m nstlab.classroom.exercises [NOTEBOOKS_DIR]: mark the notebooks for nbgrader
if __name__ == "__main__":
    folder = sys.argv[1] if len(sys.argv) > 1 else "notebooks"
    for path in mark_notebooks(folder):
        print(f"marked {path}")
