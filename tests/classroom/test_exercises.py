"""The student-copy generator: solutions out, stubs in, markers checked."""

import nbformat
import pytest

from nstlab.classroom.exercises import (
    STUB,
    Exercise,
    ExerciseFormatError,
    count_exercises,
    find_exercises,
    make_student_copies,
    mark_for_nbgrader,
    strip_solutions,
    student_copy,
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
    assert student.cells[1].source == strip_solutions(SOURCE)


def test_no_notebooks_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no notebooks"):
        make_student_copies(tmp_path / "out", tmp_path)


def exercise_notebook(*sources):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_markdown_cell("# Title")]
    notebook.cells += [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


CHECK = "nstlab.classroom.checks.check_gram_matrix(gram_matrix)"


def test_each_exercise_is_named_after_its_check():
    notebook = exercise_notebook("import nstlab", SOURCE, CHECK)
    notebook.cells.insert(3, nbformat.v4.new_markdown_cell("Now check it:"))
    assert find_exercises(notebook) == [Exercise("gram_matrix", "check_gram_matrix", 2, 4)]


@pytest.mark.parametrize("after", [[], ["print('no check here')"], [CHECK + "\n" + CHECK]])
def test_an_exercise_needs_one_check_in_the_next_code_cell(after):
    with pytest.raises(ExerciseFormatError, match="must call one nstlab.classroom.checks.check_"):
        find_exercises(exercise_notebook(SOURCE, *after))


def test_nbgrader_metadata_marks_solution_and_check_cells_only():
    notebook = exercise_notebook("import nstlab", SOURCE, CHECK)
    notebook.cells[1].metadata["nbgrader"] = {"solution": True}  # stale: no exercise there
    sources = [cell.source for cell in notebook.cells]
    assert mark_for_nbgrader(notebook) == 3
    assert "nbgrader" not in notebook.cells[1].metadata
    solution, check = (notebook.cells[i].metadata["nbgrader"] for i in (2, 3))
    assert solution == {"grade": False, "grade_id": "gram_matrix", "locked": False,
                        "schema_version": 3, "solution": True}
    assert check == {"grade": True, "grade_id": "check_gram_matrix", "locked": True,
                     "points": 1, "schema_version": 3, "solution": False}
    assert [cell.source for cell in notebook.cells] == sources
    assert mark_for_nbgrader(notebook) == 0


def test_student_copy_locks_exercise_cells_like_nbgrader():
    notebook = exercise_notebook("import nstlab", SOURCE, CHECK)
    mark_for_nbgrader(notebook)
    cells = student_copy(notebook).cells
    assert "deletable" not in cells[1].metadata and "editable" not in cells[1].metadata
    assert cells[2].metadata["deletable"] is False and "editable" not in cells[2].metadata
    assert cells[3].metadata["deletable"] is False and cells[3].metadata["editable"] is False
    assert "deletable" not in notebook.cells[2].metadata  # the source is left as it was
