"""``nstlab grade`` where no sandbox can be built: one line, exit 2, unless --trusted."""

import argparse

import pytest
from tinycourse import NOTEBOOK, course_notebook, write

from nstlab.base import messages
from nstlab.classroom.grading import command, sandbox


def run(argv):
    parser = argparse.ArgumentParser(prog="nstlab")
    command.add_command(parser.add_subparsers(dest="command"))
    return command.run_command(parser.parse_args(argv))


@pytest.fixture
def class_and_course(tmp_path):
    write(tmp_path / "course" / NOTEBOOK, course_notebook())
    write(tmp_path / "class" / "alice.ipynb", course_notebook())
    return tmp_path


@pytest.fixture
def no_sandbox(monkeypatch):
    monkeypatch.setattr(sandbox, "unavailable",
                        lambda: "this system (darwin) has no bubblewrap sandbox; grade on "
                                "Linux, or pass --trusted if you trust these notebooks")


def test_without_a_sandbox_grading_is_refused_in_one_line(class_and_course, no_sandbox,
                                                         capsys):
    root = class_and_course
    code = run(["grade", str(root / "class"), "-o", str(root / "grades.csv"),
                "--notebooks", str(root / "course")])
    error = capsys.readouterr().err
    assert code == messages.EXIT_USAGE
    assert error == ("nstlab: error: this system (darwin) has no bubblewrap sandbox; grade on "
                     "Linux, or pass --trusted if you trust these notebooks\n")
    assert not (root / "grades.csv").exists()


def test_trusted_notebooks_are_graded_without_a_sandbox(class_and_course, no_sandbox, capsys):
    root = class_and_course
    code = run(["grade", str(root / "class"), "-o", str(root / "grades.csv"),
                "--notebooks", str(root / "course"), "--trusted", "--quiet"])
    assert code == messages.EXIT_OK
    assert "run without a sandbox" in capsys.readouterr().err
    assert (root / "grades.csv").read_text().count(",correct,") == 3


def test_jobs_must_be_positive(class_and_course, capsys):
    root = class_and_course
    code = run(["grade", str(root / "class"), "-o", str(root / "grades.csv"),
                "--notebooks", str(root / "course"), "--jobs", "0"])
    assert code == messages.EXIT_USAGE
    assert "--jobs must be at least 1" in capsys.readouterr().err
