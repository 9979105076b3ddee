"""The student-copy generator: solutions out, stubs in, markers checked."""

import nbformat
import pytest

from nstlab.exercises import (
    STUB,
    ExerciseFormatError,
    count_exercises,
    make_student_copies,
    strip_solutions,
)

SOURCE = """\
def gram_matrix(features):
    \"\"\"Your Gram matrix.\"\"\"
    ### BEGIN SOLUTION
    flat = features.reshape(-1, features.shape[-1])
    return flat.T @ flat / flat.shape[0]
    ### END SOLUTION

print("defined")"""


def test_solution_becomes_an_indented_stub():
    stripped = strip_solutions(SOURCE)
    assert "flat.T" not in stripped and "BEGIN" not in stripped
    assert "\n".join("    " + line for line in STUB.splitlines()) in stripped
    assert stripped.splitlines()[1].strip().startswith('"""Your Gram')
    assert stripped.endswith('print("defined")')
    namespace = {}
    exec(compile(stripped, "student", "exec"), namespace)
    with pytest.raises(NotImplementedError):
        namespace["gram_matrix"](None)


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1\n### END SOLUTION", "inside a function body"),
        ("def f():\n    ### BEGIN SOLUTION\n    return 1", "without END"),
        ("def f():\n    return 1\n    ### END SOLUTION", "END without BEGIN"),
    ],
)
def test_malformed_blocks_are_refused(source, message):
    with pytest.raises(ExerciseFormatError, match=message):
        strip_solutions(source)


def test_make_student_copies_clears_outputs(tmp_path):
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(SOURCE)
    cell.outputs = [nbformat.v4.new_output("stream", text="defined\n")]
    cell.execution_count = 3
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title"), cell]
    source_dir = tmp_path / "notebooks"
    source_dir.mkdir()
    nbformat.write(notebook, source_dir / "01_x.ipynb")
    written = make_student_copies(tmp_path / "student", source_dir)
    student = nbformat.read(written[0], as_version=4)
    assert count_exercises(notebook) == 1 and count_exercises(student) == 0
    assert student.cells[1].outputs == [] and student.cells[1].execution_count is None
    assert STUB in student.cells[1].source


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        make_student_copies(tmp_path / "out", tmp_path)
