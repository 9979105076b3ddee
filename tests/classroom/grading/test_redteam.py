"""A hostile class: every kind of attack on ``nstlab grade`` we know, graded by the real command.

One class folder holds one submission per attack (and a few honest ones); the module's
fixture grades it once with ``nstlab grade --jobs 2``, and each test reads what the
teacher sees (the CSV, the screen) and what must not happen (a file outside the sandbox
changed, a process left, a connection made, a secret read). The notebooks are tiny
quick-mode notebooks written here (:mod:`tinycourse`, and a one-exercise colour course
for the refused solvers): the whole grading takes about a minute and a half on 2 quiet
cores (about 7 s a notebook: the sandbox, the kernel and TensorFlow for the one
TensorFlow exercise; under CI's load, up to five minutes).
"""

import argparse
import contextlib
import csv
import io
import os
import resource
import socket
import tempfile
import threading
import time
from pathlib import Path

import nbformat
import pytest
from tinycourse import NOTEBOOK, course_notebook, needs_sandbox, tree_digest, write

from nstlab.base import messages
from nstlab.classroom.exercises import mark_for_nbgrader
from nstlab.classroom.grading import command

pytestmark = needs_sandbox()

v4 = nbformat.v4
COLOUR = "02_colour.ipynb"
MARKER = "nstlab-redteam-marker"
RIGHT_GRAM = '["flipped", "shuffled", "rotated", "tiled"]'
STUB = "raise NotImplementedError()"


def colour_notebook(body: str) -> nbformat.NotebookNode:
    """The colour course: a demo cell that uses nstlab's luminance, then the exercise."""
    cells = [v4.new_markdown_cell("# Colour"),
             v4.new_code_cell("import numpy as np\nimport nstlab.imaging.color\n"
                              "import nstlab.classroom.checks"),
             v4.new_code_cell("demo = nstlab.imaging.color.luminance(np.ones((2, 2, 3)))"),
             v4.new_code_cell("def luminance(image):\n    ### BEGIN SOLUTION\n"
                              + "".join(f"    {line}\n" for line in body.splitlines())
                              + "    ### END SOLUTION"),
             v4.new_code_cell("nstlab.classroom.checks.check_luminance(luminance)")]
    notebook = v4.new_notebook(cells=cells, metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    mark_for_nbgrader(notebook)
    return notebook


HONEST_LUMINANCE = "return np.asarray(image) @ np.array([0.299, 0.587, 0.114])"
DELEGATIONS = {
    "d_plain": "return nstlab.imaging.color.luminance(image)",
    "d_profile": "import sys\nsys.setprofile(None)\nreturn nstlab.imaging.color.luminance(image)",
    "d_thread": ("import threading\nout = []\ndef work():\n    try:\n"
                 "        out.append(nstlab.imaging.color.luminance(image))\n"
                 "    except BaseException as error:\n        out.append(error)\n"
                 "worker = threading.Thread(target=work)\nworker.start()\nworker.join()\n"
                 "if isinstance(out[0], BaseException):\n    raise out[0]\nreturn out[0]"),
    "d_code": ("import types\nsolver = nstlab.imaging.color.luminance\n"
               "copy = types.FunctionType(solver.__code__, solver.__globals__)\n"
               "return copy(image)"),
    "d_yiq": "return nstlab.imaging.color.rgb_to_yiq(image)[..., 0]",
}

FORGERIES = {  # student: (bodies, cell after exercise 1)
    "f_log": ({"same_gram": STUB}, (
        "import json, os\nrecord = {'check': 'check_same_gram', 'title': 'same Gram matrix', "
        "'status': 'correct', 'message': 'correct!'}\n"
        "for path in (os.environ.get('NSTLAB_GRADE_LOG') or 'checks.jsonl', '/tmp/log'):\n"
        "    open(path, 'a').write(json.dumps(record) + '\\n')\n"
        "print('✓ same Gram matrix: correct!')")),
    "f_record": ({"same_gram": STUB}, (
        "for module in ('nstlab.classroom.grade', 'nstlab.classroom.checks._base',\n"
        "               'nstlab.classroom.grading.protocol'):\n"
        "    try:\n"
        "        __import__(module, fromlist=['x']).record_check(\n"
        "            'check_same_gram', 'x', 'correct', 'correct!')\n"
        "    except Exception:\n"
        "        pass")),
    "f_module": ({"same_gram": 'return ["flipped"]'}, (
        "import sys, types\nfake = types.ModuleType('nstlab.classroom.checks')\n"
        "fake.check_same_gram = lambda answer: True\n"
        "sys.modules['nstlab.classroom.checks'] = fake\n"
        "import nstlab.classroom\nnstlab.classroom.checks = fake")),
    "f_expect": ({"total_variation": "return tf.reduce_sum(tf.abs(image[1:] - image[:-1]))"}, (
        "import nstlab.classroom.checks as checks\nchecks.expect = lambda *a, **k: None\n"
        "checks.exercise_check = lambda *a, **k: (lambda f: f)")),
    "f_name": ({"total_variation": (  # lines after the first are outside the function
        "return tf.reduce_sum(tf.abs(image[1:] - image[:-1]))\n"
        "total_variation.__name__ = 'check_total_variation'\n"
        "total_variation.__qualname__ = 'tf.image.total_variation'\n"
        "total_variation.__module__ = 'nstlab.classroom.checks'")}, None),
    "f_data": ({"same_gram": (
        "import os, nstlab\n"
        "    try:\n"
        "        from nstlab.classroom.checks.representations import SAME_GRAM_CANDIDATES\n"
        "        return [k for k, v in SAME_GRAM_CANDIDATES.items() if v]\n"
        "    except ImportError:\n"
        "        pass\n"
        "    folder = os.path.join(os.path.dirname(nstlab.__file__), 'classroom', 'checks')\n"
        "    return [os.listdir(folder)[0], 'flipped']")}, None),
}


def reading_attack(paths: dict) -> str:
    """A cell that tries to read what is not the student's; same_gram then reports it."""
    return "\n".join([
        "import os, socket, glob",
        "STOLEN = []",
        "def attempt(what, action):",
        "    try:",
        "        if action():",
        "            STOLEN.append(what)",
        "    except Exception:",
        "        pass",
        f"attempt('classmate', lambda: open({str(paths['classmate'])!r}).read())",
        f"attempt('solutions', lambda: open({str(paths['solutions'])!r}).read())",
        f"attempt('teacher', lambda: open({str(paths['teacher'])!r}).read())",
        "attempt('home', lambda: open('/root/.bashrc').read())",
        "attempt('token', lambda: [k for k in os.environ if 'TEACHER' in k or 'SSH' in k])",
        f"attempt('cmdline', lambda: open('/proc/{os.getpid()}/cmdline').read())",
        "attempt('grader-proc', lambda: [p for p in os.listdir('/proc') if p.isdigit()"
        " and int(p) > 50])",
        f"attempt('ssh', lambda: socket.socket(socket.AF_UNIX).connect({str(paths['ssh'])!r})"
        " or 'connected')",
        f"attempt('tcp', lambda: socket.create_connection(('127.0.0.1', {paths['port']}), "
        "timeout=2) and 'connected')",
        "attempt('kernels', lambda: glob.glob('/tmp/**/kernel-*.json', recursive=True)"
        " + glob.glob('/run/**/kernel-*.json', recursive=True)"
        " + glob.glob('/dev/shm/*'))",
        "attempt('others', lambda: [n for n in os.listdir('/sandbox') if n not in "
        "('work', 'submission', 'keras')])",
    ])


READS_BODY = f"return STOLEN or {RIGHT_GRAM}"


def build_class(root: Path, paths: dict) -> dict:
    """Write the hostile class; returns {entry name: what the test expects to find}."""
    cls = root / "class"
    write(cls / "alice.ipynb", course_notebook())  # an honest student
    write(cls / "h_colour" / COLOUR, colour_notebook(HONEST_LUMINANCE))
    for student, body in DELEGATIONS.items():
        write(cls / student / COLOUR, colour_notebook(body))
    for student, (bodies, cell) in FORGERIES.items():
        write(cls / student / NOTEBOOK, course_notebook(
            bodies, insert={"content_layer_choice": cell} if cell else None))
    # escaping
    write(cls / "e_shadow" / NOTEBOOK, course_notebook())
    for name in ("nstlab/__init__.py", "argparse.py", "numpy.py"):
        write(cls / "e_shadow" / name, f"open({str(paths['marker'])!r}, 'w').write('ran')\n"
              .encode())
    write(cls / "e_write" / NOTEBOOK, course_notebook(insert={"content_layer_choice": "\n".join([
        "import subprocess",
        f"for path in ({str(paths['teacher'])!r}, {str(paths['classmate'])!r}, "
        f"{str(paths['solutions'])!r}):",
        "    try:",
        "        open(path, 'w').write('owned')",
        "    except OSError:",
        "        pass",
        f"subprocess.Popen(['sh', '-c', 'sleep 3; echo HACKED > {paths['grades']}; "
        f": {MARKER}'], start_new_session=True)",
    ])}))
    # reading
    write(cls / "r_read" / NOTEBOOK, course_notebook(
        {"same_gram": READS_BODY}, insert={"content_layer_choice": reading_attack(paths)}))
    # leftover processes
    write(cls / "l_setsid" / NOTEBOOK, course_notebook(insert={"content_layer_choice": (
        f"import os, subprocess\nsubprocess.Popen(['sh', '-c', 'sleep 600; : {MARKER}'], "
        "start_new_session=True)\nif os.fork() == 0:\n    os.setsid()\n    import time\n"
        "    time.sleep(600)\n    os._exit(0)")}))
    # resources
    resources = {
        "x_memory": "hog = bytearray(16 * 2**30)",
        "x_forkbomb": "import subprocess\nkids = [subprocess.Popen(['sleep', '30']) "
                      "for _ in range(150)]",
        "x_files": "for i in range(60000):\n    open(f'f{i}', 'w').close()",
        "x_disk": "open('big.bin', 'wb').write(bytes(100 * 2**20))",
        "x_unlinked": "import os\nf = open('gone.bin', 'wb')\nos.unlink('gone.bin')\n"
                      "for _ in range(100):\n    f.write(bytes(2**20))",
        "x_print": "print('x' * 300_000_000)",
        "x_devshm": "open('/dev/shm/big', 'wb').write(bytes(100 * 2**20))",
        "x_dev": "open('/dev/big', 'wb').write(bytes(2**20))",
    }
    for student, cell in resources.items():
        write(cls / student / NOTEBOOK, course_notebook(insert={"content_layer_choice": cell}))
    write(cls / "x_sparse" / NOTEBOOK, course_notebook())
    with open(cls / "x_sparse" / "data.bin", "wb") as sparse:
        sparse.truncate(2**30)
    write(cls / "x_loglink" / NOTEBOOK, course_notebook())
    for name, target in (("sandbox.log", "/dev/zero"), ("checks.jsonl", str(paths["big"]))):
        os.symlink(target, cls / "x_loglink" / name)
    # crashers
    write(cls / "c_nested" / NOTEBOOK, b'{"cells": ' + b"[" * 200_000)
    write(cls / "c_fifo_folder" / NOTEBOOK, course_notebook())
    os.mkfifo(cls / "c_fifo_folder" / "data.fifo")
    write(cls / os.fsdecode(b"c_caf\xe9") / NOTEBOOK, course_notebook())
    write(cls / "c_intsource.ipynb", b'{"cells": [{"cell_type": "code", "source": 42}]}')
    write(cls / "c_unreadable" / NOTEBOOK, course_notebook())
    (cls / "c_unreadable" / NOTEBOOK).chmod(0)
    os.mkfifo(cls / "c_fifo.ipynb")
    (cls / "c_fifo_nb").mkdir()
    os.mkfifo(cls / "c_fifo_nb" / NOTEBOOK)
    # links and duplicates
    os.symlink(paths["solutions"], cls / "k_cheat.ipynb")
    os.symlink("/nowhere/at/all.ipynb", cls / "k_ghost.ipynb")
    os.symlink(paths["teacher"].parent, cls / "k_linkdir")
    write(cls / "Dup" / NOTEBOOK, course_notebook())
    write(cls / "dup.ipynb", course_notebook())
    # output
    write(cls / "o_evil\n\x1b[31mname" / NOTEBOOK, course_notebook())
    write(cls / '=HYPERLINK("http://127.0.0.1","x")' / NOTEBOOK, course_notebook())
    write(cls / "@SUM(1)" / NOTEBOOK, course_notebook({"total_variation": (
        "raise ValueError('=HYPERLINK(\"http://127.0.0.1\",\"x\")\\nforged,row,correct')")}))
    return cls


class Listener:
    """A socket that counts the connections it accepts (TCP on 127.0.0.1, or Unix)."""

    def __init__(self, family, address) -> None:
        self.socket = socket.socket(family, socket.SOCK_STREAM)
        self.socket.bind(address)
        self.socket.listen()
        self.socket.settimeout(0.2)
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while not self.stop:
            try:
                connection, _ = self.socket.accept()
            except OSError:
                continue
            self.accepted += 1
            connection.close()

    def close(self) -> None:
        self.stop = True
        self.thread.join(5)
        self.socket.close()


def alive_with(marker: str) -> list[int]:
    """Running processes (zombies do not count) whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            line = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if marker.encode() in line and state not in ("Z", "X"):
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade the hostile class once; what the teacher sees and what happened around it."""
    root = tmp_path_factory.mktemp("redteam")
    course, teacher, out = root / "course", root / "teacher", root / "out"
    write(course / NOTEBOOK, course_notebook())
    write(course / COLOUR, colour_notebook(HONEST_LUMINANCE))
    write(teacher / "answers.txt", b"the teacher's secret answers")
    write(teacher / "big.bin", bytes(2**20))
    out.mkdir()
    tcp = Listener(socket.AF_INET, ("127.0.0.1", 0))
    ssh = Listener(socket.AF_UNIX, str(root / "agent.sock"))
    paths = {"teacher": teacher / "answers.txt", "big": teacher / "big.bin",
             "solutions": course / NOTEBOOK, "marker": teacher / "shadow-ran.txt",
             "grades": out / "grades.csv", "ssh": root / "agent.sock",
             "port": tcp.socket.getsockname()[1]}
    paths["classmate"] = root / "class" / "alice.ipynb"
    cls = build_class(root, paths)
    before = {folder: tree_digest(folder) for folder in (course, teacher)}
    classmate = paths["classmate"].read_bytes()
    parser = argparse.ArgumentParser(prog="nstlab")
    command.add_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["grade", str(cls), "-o", str(paths["grades"]), "--notebooks",
                              str(course), "--timeout", "30", "--disk-limit", "50",
                              "--jobs", "2"])
    screen = io.StringIO()
    scratch = root / "tmp"
    scratch.mkdir()
    # The grader judges TensorFlow answers (a gradient must survive), so it loads TensorFlow:
    # a fixed cost, not one a submission causes. Load it before measuring what they cost.
    import tensorflow as tf

    tf.constant(0.0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("NSTLAB_TEACHER_TOKEN", "tok-very-secret")
        patch.setenv("SSH_AUTH_SOCK", str(paths["ssh"]))
        patch.setattr(tempfile, "tempdir", str(scratch))
        with contextlib.redirect_stdout(screen):
            code = command.run_command(args)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak) / 1024
    time.sleep(4)  # the leftover attempts would act by now
    tcp.close()
    ssh.close()
    with open(paths["grades"], newline="", encoding="utf-8") as file:
        table = list(csv.reader(file))
    (cls / "c_unreadable" / NOTEBOOK).chmod(0o644)
    return {"code": code, "screen": screen.getvalue(), "table": table,
            "grades_text": paths["grades"].read_text(encoding="utf-8"),
            "rows": [dict(zip(table[0], line, strict=True)) for line in table[1:]],
            "before": before, "after": {folder: tree_digest(folder) for folder in before},
            "classmate": (classmate, paths["classmate"].read_bytes()), "paths": paths,
            "tcp": tcp.accepted, "ssh": ssh.accepted, "tmp": scratch, "grown_mb": grown_mb,
            "class": cls}


def rows_of(graded, student: str) -> list[dict]:
    return [row for row in graded["rows"] if row["student"] == student]


def statuses(graded, student: str) -> list[str]:
    return [row["status"] for row in rows_of(graded, student) if row["exercise"]]


def test_the_class_is_graded_and_the_honest_get_full_marks(graded):
    assert graded["code"] == messages.EXIT_OK
    assert statuses(graded, "alice") == ["correct"] * 3
    assert statuses(graded, "h_colour") == ["correct"]


# --------------------------------------------------------------------------- forging


@pytest.mark.parametrize("student, expected", [
    ("f_log", ["correct", "correct", "not_done"]),
    ("f_record", ["correct", "correct", "not_done"]),
    ("f_module", ["correct", "correct", "wrong"]),
    ("f_expect", ["correct", "wrong", "correct"]),
    ("f_name", ["correct", "wrong", "correct"]),
])
def test_a_forged_result_does_not_count(graded, student, expected):
    assert statuses(graded, student) == expected


def test_the_checks_answers_are_not_in_the_sandbox(graded):
    """SAME_GRAM_CANDIDATES and the checks' source files are not there to copy from."""
    (row,) = [row for row in rows_of(graded, "f_data") if row["exercise"] == "same_gram"]
    assert row["status"] == "wrong"
    assert "__init__.py" in row["message"]  # the only file in the sandbox's checks


@pytest.mark.parametrize("student", list(DELEGATIONS))
def test_delegating_to_the_package_is_refused_from_outside(graded, student):
    (row,) = [row for row in rows_of(graded, student) if row["exercise"]]
    assert row["status"] == "wrong"
    assert row["message"].startswith("write this one yourself: your function calls "
                                     "nstlab.imaging.color.")


# --------------------------------------------------------------------------- escaping


def test_nothing_outside_the_sandbox_changes(graded):
    assert graded["after"] == graded["before"]
    assert graded["classmate"][0] == graded["classmate"][1]
    assert "HACKED" not in graded["grades_text"]
    assert statuses(graded, "e_write") == ["correct"] * 3


def test_files_in_a_submission_shadow_no_module(graded):
    assert not graded["paths"]["marker"].exists()
    assert statuses(graded, "e_shadow") == ["correct"] * 3


# --------------------------------------------------------------------------- reading


def test_a_notebook_reads_nothing_that_is_not_its_own(graded):
    """The attack's same_gram returns the names of what it could read: nothing."""
    assert statuses(graded, "r_read") == ["correct"] * 3, rows_of(graded, "r_read")
    assert graded["tcp"] == 0 and graded["ssh"] == 0


# --------------------------------------------------------------------------- leftovers


def test_no_process_outlives_its_sandbox(graded):
    assert statuses(graded, "l_setsid") == ["correct"] * 3
    assert alive_with(MARKER) == []
    # Only this grading's processes: its sandboxes and their programs name its temporary
    # folder. (Other gradings may run beside it: the other pytest-xdist worker's, whose
    # --trusted test has no bubblewrap, or another session's on a shared machine.)
    assert alive_with(str(graded["tmp"])) == []


# --------------------------------------------------------------------------- resources


@pytest.mark.parametrize("student, status, limit", [
    ("x_memory", "crashed", "MemoryError (the memory limit is 4096 MB)"),
    ("x_forkbomb", "crashed", "(the limit is 100 processes and threads)"),
    ("x_files", "crashed", "for creating more than 10000 files"),
    # the tmpfs is full, or the file at its largest: either message names 50 MB
    ("x_disk", "crashed", "50 MB"),
    ("x_unlinked", "crashed", "50 MB"),
    ("x_devshm", "crashed", "50 MB"),
    ("x_dev", "crashed", "OSError: [Errno 30] Read-only file system"),
])
def test_a_resource_limit_stops_the_notebook_and_is_named(graded, student, status, limit):
    rows = [row for row in rows_of(graded, student) if row["exercise"]]
    assert [row["status"] for row in rows] == ["correct", status, status]
    assert limit in rows[1]["message"], rows[1]


def test_a_sparse_file_is_not_made_real(graded):
    rows = rows_of(graded, "x_sparse")
    assert {row["message"] for row in rows} == {
        "not graded: the folder holds more than 50 MB"}


def test_a_big_print_or_linked_log_costs_the_grader_nothing(graded):
    assert statuses(graded, "x_print") == ["correct"] * 3
    assert statuses(graded, "x_loglink") == ["correct"] * 3
    assert graded["grown_mb"] < 200


# --------------------------------------------------------------------------- crashers


def test_each_crasher_gets_its_rows(graded):
    nested = {row["message"] for row in rows_of(graded, "c_nested")}
    assert nested == {"not a notebook: JSON nested too deeply"}
    assert statuses(graded, "c_fifo_folder") == ["correct"] * 3
    assert statuses(graded, "c_caf\\xe9") == ["correct"] * 3
    assert [row["message"] for row in rows_of(graded, "c_intsource")] == [
        "not a notebook: the source of cell 1 is not text"]
    assert len(rows_of(graded, "c_unreadable")) == 3  # root reads it all the same
    assert [row["message"] for row in rows_of(graded, "c_fifo")] == [
        "not graded: a FIFO; the grader does not follow links or read special files"]
    assert [row["message"] for row in rows_of(graded, "c_fifo_nb")] == [
        "not graded: a FIFO, which the grader does not follow"]


def test_every_entry_has_a_row(graded):
    students = {row["student"] for row in graded["rows"]}
    entries = {os.fsencode(path.name) for path in graded["class"].iterdir()}
    assert len(students) == len(entries)


# --------------------------------------------------------------------------- links


def test_links_are_not_followed(graded):
    (cheat,) = rows_of(graded, "k_cheat")
    assert cheat["status"] == "not_done" and cheat["message"].startswith(
        "not graded: a symbolic link to ")
    (ghost,) = rows_of(graded, "k_ghost")
    assert "/nowhere/at/all.ipynb, which does not exist" in ghost["message"]
    (folder,) = rows_of(graded, "k_linkdir")
    assert folder["message"].startswith("not graded: a symbolic link")


def test_duplicate_students_are_flagged(graded):
    for student, other in (("Dup", "dup.ipynb"), ("dup", "Dup")):
        rows = rows_of(graded, student)
        assert rows[0]["exercise"] == "" and other in rows[0]["message"]
        assert rows[0]["message"].startswith("duplicate student")
        assert [row["status"] for row in rows[1:]] == ["correct"] * 3


# --------------------------------------------------------------------------- output


def test_names_and_messages_are_escaped_and_formulas_neutralised(graded):
    assert "\x1b" not in graded["screen"] and "\x1b" not in graded["grades_text"]
    assert statuses(graded, "o_evil\\n\\x1b[31mname") == ["correct"] * 3
    assert len(graded["grades_text"].splitlines()) == len(graded["table"])  # one record a line
    formulas = [line[0] for line in graded["table"][1:] if "HYPERLINK" in line[0]]
    assert formulas and all(cell.startswith("'=") for cell in formulas)
    assert all(line[0].startswith("'@") for line in graded["table"][1:]
               if "SUM(1)" in line[0])
    raised = [row for row in rows_of(graded, "'@SUM(1)") if row["exercise"] ==
              "total_variation"]
    assert raised[0]["status"] == "crashed"
    assert raised[0]["message"].endswith('"x") forged,row,correct')
    progress = [line for line in graded["screen"].splitlines()
                if "o_evil" in line and not line.startswith(" ")]
    assert progress and all(line.startswith("o_evil\\n\\x1b[31mname") for line in progress)

