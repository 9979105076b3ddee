"""The source notebooks are nbgrader source notebooks: nbgrader's own tools take them.

``generate_assignment`` writes the same student copies as ``nstlab exercises``, and
``autograde`` scores a check cell only for a right answer. Needs nbgrader (the ``teach``
extra: ``pip install "nstlab[teach]"``); skipped without it.
"""

from pathlib import Path

import nbformat
import pytest

from nstlab.classroom.exercises import mark_for_nbgrader, student_copy

apps = pytest.importorskip("nbgrader.apps", reason="nbgrader is in the optional [teach] extra")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
ONLY_NBGRADER_ADDS = ("checksum", "cell_type")  # its record of each graded cell, for itself


def nbgrader(root: Path):
    """nbgrader's Python API on the course folder ``root`` (``source/``, ``release/``, ...)."""
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(root)
    return apps.NbGraderAPI(config=config)


def succeeded(result: dict) -> bool:
    assert result["success"], result.get("error") or result.get("log")
    return True


def test_generate_assignment_writes_the_same_student_copies(tmp_path):
    source = tmp_path / "source" / "ps1"
    source.mkdir(parents=True)
    for path in NOTEBOOKS:
        (source / path.name).write_bytes(path.read_bytes())

    assert succeeded(nbgrader(tmp_path).generate_assignment("ps1"))

    for path in NOTEBOOKS:
        released = nbformat.read(tmp_path / "release" / "ps1" / path.name, as_version=4)
        for cell in released.cells:
            for key in ONLY_NBGRADER_ADDS:
                cell.metadata.get("nbgrader", {}).pop(key, None)
        assert released == student_copy(nbformat.read(path, as_version=4)), path.name


SOLUTION = ('def same_gram():\n    ### BEGIN SOLUTION\n'
            '    return ["flipped", "shuffled", "rotated", "tiled"]\n    ### END SOLUTION')


@pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")  # nbgrader's own session use
def test_autograde_scores_only_right_answers(tmp_path, monkeypatch):
    """Not done and wrong score 0: under nbgrader a check raises instead of printing."""
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)  # nbgrader's variable alone
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[v4.new_code_cell("import nstlab.classroom.checks"), v4.new_code_cell(SOLUTION),
               v4.new_code_cell("nstlab.classroom.checks.check_same_gram(same_gram)")],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}})
    mark_for_nbgrader(notebook)
    (tmp_path / "source" / "ps1").mkdir(parents=True)
    nbformat.write(notebook, tmp_path / "source" / "ps1" / "tiny.ipynb")
    api = nbgrader(tmp_path)
    assert succeeded(api.generate_assignment("ps1"))
    wrong = nbformat.read(tmp_path / "source" / "ps1" / "tiny.ipynb", as_version=4)
    wrong.cells[1].source = SOLUTION.replace('"rotated", ', "")
    answers = {"alice": notebook, "bob": student_copy(notebook), "carol": wrong}
    for student, answer in answers.items():
        folder = tmp_path / "submitted" / student / "ps1"
        folder.mkdir(parents=True)
        nbformat.write(answer, folder / "tiny.ipynb")
        assert succeeded(api.autograde("ps1", student))

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        scores = {student: gradebook.find_submission_notebook("tiny", "ps1", student).score
                  for student in answers}
    assert scores == {"alice": 1, "bob": 0, "carol": 0}
