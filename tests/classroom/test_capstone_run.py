"""The capstone as a student runs it, in real kernels and in quick mode: the check cells of
01-05a keep the pieces in my_nst.py, then notebook 07 runs from top to bottom in the same
folder, pasting nothing.

The source notebooks are the student copies filled with the reference answers (a student copy
differs from its source only inside the solution markers).
"""

import pathlib
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

from nstlab.classroom import pieces
from nstlab.classroom.checks import capstone
from nstlab.classroom.exercises import find_exercises

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
CAPSTONE = NOTEBOOKS / "07_capstone.ipynb"
IMPORTS = ("import keras\nimport numpy as np\nimport tensorflow as tf\n\nimport nstlab\n"
           "from nstlab.engine import backbones\n\ncfg = nstlab.setup_notebook()")


def pieces_notebook():
    """The cells of 01-05a that write and keep the pieces, in the course's order: each
    exercise cell with its reference answer, and its check cell, after the imports they use."""
    cells = [new_code_cell(IMPORTS)]
    for name in {**pieces.PIECES, **pieces.EXTRA_PIECES}:
        (path,) = NOTEBOOKS.glob(f"{pieces.notebook_of(name)}_*.ipynb")
        notebook = nbformat.read(path, as_version=4)
        exercise = next(e for e in find_exercises(notebook) if e.name == name)
        cells += [new_code_cell(notebook.cells[index].source)
                  for index in (exercise.solution_cell, exercise.check_cell)]
    return new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3",
                                                              "display_name": "Python 3"}})


def run(notebook, folder):
    NotebookClient(notebook, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": str(folder)}}).execute()
    return notebook


def output_of(notebook, text: str) -> str:
    """The printed output of the one code cell whose source contains ``text``."""
    (cell,) = [cell for cell in notebook.cells
               if cell.cell_type == "code" and text in cell.source]
    return "".join(output.get("text", "") for output in cell.outputs)


def images_of(notebook, text: str) -> int:
    (cell,) = [cell for cell in notebook.cells
               if cell.cell_type == "code" and text in cell.source]
    return sum("image/png" in output.get("data", {}) for output in cell.outputs)


@pytest.fixture
def quick(monkeypatch):
    monkeypatch.setenv("NSTLAB_QUICK", "1")  # the kernels inherit it
    # figures as outputs, as in Jupyter (the test session has Agg, which shows nothing)
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)


def test_the_capstone_joins_the_kept_reference_pieces_within_5_percent(tmp_path, quick):
    kept = run(pieces_notebook(), tmp_path)
    for name in {**pieces.PIECES, **pieces.EXTRA_PIECES}:
        assert f"kept {name} in my_nst.py for the capstone (07)" in output_of(
            kept, f"nstlab.classroom.pieces.keep({name})")

    notebook = run(nbformat.read(CAPSTONE, as_version=4), tmp_path)
    table = output_of(notebook, "nstlab.classroom.pieces.load()")
    assert all(re.search(rf"{name} +notebook \w+ +kept\n", table) for name in pieces.PIECES)
    check = output_of(notebook, "check_my_style_transfer(")
    assert "✓ your style transfer: correct!" in check
    ratio = float(re.search(r"the package's loss of your image is ([\d.]+)%", check)[1]) / 100
    assert abs(ratio - 1) <= capstone.CAPSTONE_TOLERANCE
    assert "your loss:" in output_of(notebook, "if done:")
    assert images_of(notebook, "if done:") == 1


def test_with_one_answer_missing_it_says_not_done_yet_and_runs_to_the_end(
        tmp_path, quick, keep_pieces):
    keep_pieces(tmp_path, stubs={"total_variation"})  # 04's exercise left as the stub
    notebook = run(nbformat.read(CAPSTONE, as_version=4), tmp_path)
    assert re.search(r"total_variation +notebook 04 +not done yet\n",
                     output_of(notebook, "nstlab.classroom.pieces.load()"))
    assert ("your style transfer: not done yet (still to write: total_variation)"
            in output_of(notebook, "check_my_style_transfer("))
    assert "Write the pieces the check above names" in output_of(notebook, "if done:")
    last = [cell for cell in notebook.cells if cell.cell_type == "code"][-1]
    assert last.execution_count is not None  # every cell ran, the last one too
