"""The notebooks: committed clean, enough exercises, and student copies that run to the end.

The source notebooks themselves are run by nbval (``pytest --nbval-lax notebooks``).
"""

import os
from pathlib import Path

import nbformat
import pytest

from nstlab.classroom.exercises import (
    BEGIN,
    count_exercises,
    find_exercises,
    make_student_copies,
    mark_for_nbgrader,
)

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
ALLOWED_NOTEBOOK_METADATA = {"kernelspec", "language_info"}


def test_the_collection_is_there():
    """Numbered 00, 01, ... without gaps; a number split into parts is 05a, 05b, ..."""
    names = [path.stem for path in NOTEBOOKS]
    numbers = sorted({name[:2] for name in names})
    assert numbers == [f"{i:02d}" for i in range(len(numbers))]
    for number in numbers:
        parts = [name[2] for name in names if name[:2] == number]
        letters = [chr(ord("a") + i) for i in range(len(parts))]
        assert parts == ["_"] or parts == letters, f"notebook {number}: parts {parts}"
    assert len(numbers) >= 8


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_clean_metadata(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert set(notebook.metadata) <= ALLOWED_NOTEBOOK_METADATA
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"
        assert not set(cell.metadata) - {"tags", "nbgrader"}, (
            f"{path.name}: cell metadata {cell.metadata}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_exercise_cells_carry_their_nbgrader_metadata(path):
    """Up to date: after editing exercises, run
    ``python -m nstlab.classroom.exercises notebooks``."""
    notebook = nbformat.read(path, as_version=4)
    assert mark_for_nbgrader(notebook) == 0, (
        f"{path.name}: run `python -m nstlab.classroom.exercises notebooks` to mark its exercise "
        "cells")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_structure_title_setup_summary(path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    code = "\n".join(c.source for c in notebook.cells if c.cell_type == "code")
    assert "nstlab.setup_notebook(" in code
    markdown = "\n".join(c.source for c in notebook.cells if c.cell_type == "markdown").lower()
    assert "summary" in markdown


def test_enough_exercises_each_followed_by_a_check():
    total = 0
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        count = count_exercises(notebook)
        if not path.stem.startswith("00"):
            assert count >= 2, f"{path.name} has {count} exercises"
        cells = notebook.cells
        for index, cell in enumerate(cells):
            if cell.cell_type == "code" and BEGIN in cell.source:
                following = [c for c in cells[index + 1:] if c.cell_type == "code"][:1]
                assert following and "nstlab.classroom.checks.check_" in following[0].source, (
                    f"{path.name}: exercise in cell {index} is not followed by a check cell")
        total += count
    assert total >= 12


@pytest.fixture(scope="module")
def student_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("student")
    make_student_copies(out, NOTEBOOKS[0].parent)
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_runs_to_the_end(path, student_dir):
    """Run All on a fresh exercise notebook must not crash (quick mode)."""
    from nbclient import NotebookClient

    student = nbformat.read(student_dir / path.name, as_version=4)
    assert count_exercises(student) == 0
    client = NotebookClient(student, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    assert os.environ.get("NSTLAB_QUICK") == "1"
    client.execute()
    for exercise in find_exercises(nbformat.read(path, as_version=4)):
        check_cell = student.cells[exercise.check_cell]  # student copies keep every cell
        printed = "".join(output.get("text", "") for output in check_cell.outputs)
        assert "not done yet" in printed, f"{path.name}: {exercise.check} printed {printed!r}"
