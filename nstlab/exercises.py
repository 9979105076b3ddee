"""Make student copies of the notebooks: solutions out, ``raise NotImplementedError`` in.

In the source notebooks every exercise solution sits inside a function body between two
marker lines (the markers nbgrader uses)::

    def gram_matrix(features):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

:func:`make_student_copies` writes each notebook again with the lines from ``BEGIN`` to
``END`` replaced by ``raise NotImplementedError`` (indented like the markers), outputs
cleared. Run it as ``nstlab exercises OUT_DIR`` or ``python -m nstlab exercises OUT_DIR``.
"""

from __future__ import annotations

import re
from pathlib import Path

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
STUB = "raise NotImplementedError  # your code here"

_BEGIN_LINE = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION\s*$")


class ExerciseFormatError(ValueError):
    """A solution block without its END marker, or not inside a function."""


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
            out.append(indent + STUB)
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


def student_copy(notebook):
    """A copy of an ``nbformat`` notebook with solutions stripped and outputs cleared."""
    import copy

    student = copy.deepcopy(notebook)
    for index, cell in enumerate(student.cells):
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
