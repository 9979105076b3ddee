"""Fixtures of the classroom tests: functions defined as a notebook cell defines them, and
the learner's pieces kept in my_nst.py as a Run All of 01-05a keeps them."""

import itertools
import linecache
import pathlib

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from nstlab.classroom import pieces
from nstlab.classroom.exercises import find_exercises, student_copy

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
_CELLS = itertools.count()


def define_cell(source: str, namespace: dict) -> None:
    """Run ``source`` in ``namespace`` as a notebook cell: its source in ``linecache`` under
    a file name of its own, as IPython puts it, so that ``inspect.getsource`` reads it."""
    filename = f"<notebook cell {next(_CELLS)}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    exec(compile(source, filename, "exec"), namespace)


def solution_cell(name: str, student: bool = False) -> tuple[str, str]:
    """(notebook stem, source) of the one exercise of the course that writes ``name``: the
    exercise checked by ``check_<name>`` (09's ``train_step`` is another exercise)."""
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        source_notebook = student_copy(notebook) if student else notebook
        for exercise in find_exercises(notebook):
            source = source_notebook.cells[exercise.solution_cell].source
            if exercise.name == name:
                assert f"def {name}(" in source
                found.append((path.stem, source))
    assert len(found) == 1, f"{name} is an exercise of {[stem for stem, _ in found]}"
    return found[0]


def keep_reference_pieces(folder: pathlib.Path, stubs=()) -> pathlib.Path:
    """my_nst.py as a learner's Run All of 01-05a keeps it in ``folder``: the reference
    answers, or the student copy's stub for the pieces named in ``stubs``."""
    import keras

    from nstlab.engine import backbones

    namespace = {"__name__": "__main__", "tf": tf, "np": np, "keras": keras,
                 "backbones": backbones}
    for name in {**pieces.PIECES, **pieces.EXTRA_PIECES}:
        _, source = solution_cell(name, student=name in stubs)
        define_cell(source, namespace)
        pieces.keep(namespace[name], folder / pieces.FILE_NAME)
    return folder / pieces.FILE_NAME


@pytest.fixture
def define():
    return define_cell


@pytest.fixture
def exercise_source():
    return solution_cell


@pytest.fixture(scope="session")
def keep_pieces():
    return keep_reference_pieces
