"""A tiny course for the grading tests: one source notebook, three cheap exercises.

Its exercises use real nstlab checks on functions that need no TensorFlow, so a notebook
of it runs in well under a second in its sandbox.
"""

import hashlib
import os
from pathlib import Path

import nbformat
import pytest

from nstlab.classroom.exercises import mark_for_nbgrader, strip_solutions
from nstlab.classroom.grading.sandbox import unavailable


def needs_sandbox():
    """The mark of a test module that grades in real sandboxes: skipped where bubblewrap
    cannot build one, but never in CI (``CI`` set), which must run the red-team corpus."""
    reason = unavailable()
    if reason and os.environ.get("CI"):
        raise RuntimeError(f"CI must run the grading tests, but: {reason}")
    return pytest.mark.skipif(bool(reason), reason=f"no bubblewrap sandbox here: {reason}")

v4 = nbformat.v4
REPO = Path(__file__).resolve().parents[3]
v4 = nbformat.v4

# Each exercise: (function header, right body, wrong body).
EXERCISES = {
    "content_layer_choice": (
        "def content_layer_for(goal):",
        'return {"pixels": "block1_conv2", "layout": "block5_conv2"}[goal]',
        'return "block1_conv1"',
        "nstlab.classroom.checks.check_content_layer_choice(content_layer_for)"),
    "total_variation": (  # right in TensorFlow; the wrong one has the number but no gradient
        "def total_variation(image):",
        "return (tf.reduce_sum(tf.abs(image[1:] - image[:-1]))\n"
        "            + tf.reduce_sum(tf.abs(image[:, 1:] - image[:, :-1])))",
        "return np.sum(np.abs(np.diff(image, axis=0))) + np.sum(np.abs(np.diff(image, axis=1)))",
        "nstlab.classroom.checks.check_total_variation(total_variation)"),
    "same_gram": (
        "def same_gram():",
        'return ["flipped", "shuffled", "rotated", "tiled"]',
        'return ["flipped"]',
        "nstlab.classroom.checks.check_same_gram(same_gram)"),
}
NAMES = list(EXERCISES)
NOTEBOOK = "01_tiny.ipynb"


def solution_cell(name: str, body: str) -> str:
    header = EXERCISES[name][0]
    return f"{header}\n    ### BEGIN SOLUTION\n    {body}\n    ### END SOLUTION"


def course_notebook(bodies: dict | None = None, *, undone=(), insert: dict | None = None):
    """The tiny course notebook; ``bodies`` replace solutions, ``undone`` are stubs.

    ``insert`` maps an exercise name to a cell placed right after its check cell.
    """
    bodies = bodies or {}
    cells = [v4.new_markdown_cell("# A tiny course"),
             v4.new_code_cell("import numpy as np\nimport tensorflow as tf\n"
                              "import nstlab.classroom.checks")]
    for name, (_, right, _, check) in EXERCISES.items():
        source = solution_cell(name, bodies.get(name, right))
        cells += [v4.new_code_cell(strip_solutions(source) if name in undone else source),
                  v4.new_code_cell(check)]
        if name in (insert or {}):
            cells.append(v4.new_code_cell(insert[name]))
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    mark_for_nbgrader(notebook)
    return notebook


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        nbformat.write(content, path)
    return path


def tree_digest(folder: Path) -> dict:
    """Every file under ``folder`` with its SHA-256: equal digests, untouched folder."""
    return {path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted(folder.rglob("*")) if path.is_file()}


