"""TensorFlow's native log lines ("I0000 ... cudart_stub.cc ...", "E0000 ... cuInit ...")
stay out of what a learner reads: the commands' output and the notebooks' cells."""

import os
import subprocess
import sys

import nbformat
import pytest

from nstlab.base.native_logs import (
    LEVEL_VARIABLE,
    NATIVE_LOG_LINE,
    SET_BY_NSTLAB,
    level_number,
    severity,
)

NOTEBOOK_CELLS = [
    "import nstlab\nimport nstlab.engine.losses  # a module that says `import tensorflow`\n"
    "print('ready')",
    "import warnings\nwarnings.warn('a warning the learner should see')",
]


def run_in_a_kernel(cells, monkeypatch, env_changes):
    """Execute ``cells`` as a notebook in a fresh kernel; return every text output.

    The kernel inherits this process's environment, with ``env_changes`` (None: unset).
    """
    from nbclient import NotebookClient

    for name, value in env_changes.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    return [output.get("text", "") for cell in notebook.cells for output in cell.outputs]


def test_native_log_lines_are_recognised():
    for line in (
            "I0000 00:00:1796031237.877235    4627 cudart_stub.cc:31] Could not find cuda "
            "drivers on your machine, GPU will not be used.",
            "E0000 00:00:1796031250.897050    4701 cuda_platform.cc:52] failed call to cuInit: "
            "INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)",
            "WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR",
            "2025-09-17 14:44:05.157831: I external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] "
            "Could not find cuda drivers on your machine, GPU will not be used."):
        assert NATIVE_LOG_LINE.match(line)
    for line in ("nstlab: error: no such file: 'x.jpg'", "Traceback (most recent call last):",
                 "lbfgs:  20%|##        | 1/5"):
        assert not NATIVE_LOG_LINE.match(line)


def test_a_native_line_s_severity_is_its_letter():
    assert severity("I0000 00:00:1.2 77 x.cc:3] info") == 0
    assert severity("E0000 00:00:1.2 77 x.cc:3] error") == 2
    assert severity("2025-09-17 14:44:05.157831: W external/x.cc:32] warning") == 1
    assert severity("WARNING: All log messages before absl::InitializeLog() is called") == 0
    assert severity("keep me") is None


def test_a_level_is_read_as_tensorflow_reads_it():
    assert [level_number(v) for v in (None, "", "3", " 1", "2x", "abc")] == [0, 0, 3, 1, 2, 0]


NOISE = (b"I0000 00:00:1.2 77 x.cc:3] info\nW0000 00:00:1.2 77 x.cc:3] warning\n"
         b"E0000 00:00:1.2 77 x.cc:3] error\nF0000 00:00:1.2 77 x.cc:3] fatal\nkeep me\n")


@pytest.mark.parametrize(("shown_from", "kept"), [
    (None, ["F0000 00:00:1.2 77 x.cc:3] fatal", "keep me"]),   # nstlab's default
    (0, ["I0000 00:00:1.2 77 x.cc:3] info", "W0000 00:00:1.2 77 x.cc:3] warning",
         "E0000 00:00:1.2 77 x.cc:3] error", "F0000 00:00:1.2 77 x.cc:3] fatal", "keep me"]),
    (2, ["E0000 00:00:1.2 77 x.cc:3] error", "F0000 00:00:1.2 77 x.cc:3] fatal", "keep me"]),
])
def test_filtered_stderr_keeps_other_lines_and_those_from_the_level(shown_from, kept, capfd):
    from nstlab.base.native_logs import native_lines_filtered

    with (native_lines_filtered() if shown_from is None
          else native_lines_filtered(shown_from=shown_from)):
        os.write(2, NOISE)
    assert capfd.readouterr().err.splitlines() == kept


def native_lines_of(code, level):
    """Run ``code`` in a fresh Python with ``TF_CPP_MIN_LOG_LEVEL=level`` (None: unset), as
    the user's choice; return the native log lines it wrote to stderr."""
    env = {k: v for k, v in os.environ.items() if k not in (LEVEL_VARIABLE, SET_BY_NSTLAB)}
    if level is not None:
        env[LEVEL_VARIABLE] = level
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return [line for line in done.stderr.splitlines() if NATIVE_LOG_LINE.match(line)]


def message(line):
    """A native line without its time and thread: what it says."""
    return line.split("] ", 1)[-1]


THROUGH_NSTLAB = "from nstlab.base import native_logs; native_logs.import_tensorflow()"
PLAIN = "import tensorflow as tf; tf.config.list_physical_devices()"


@pytest.mark.parametrize("level", [None, "3"], ids=["unset", "3"])
def test_tensorflow_imported_through_nstlab_writes_no_native_lines(level):
    assert native_lines_of(THROUGH_NSTLAB, level) == []


def test_a_level_the_user_set_keeps_tensorflow_s_lines_from_that_level_on():
    """With level 1, nstlab drops the import's info lines TensorFlow writes anyway, and
    keeps exactly the warnings and errors TensorFlow itself writes (here the cuInit error
    on a machine without a GPU)."""
    through_nstlab = native_lines_of(THROUGH_NSTLAB, "1")
    assert all(severity(line) >= 1 for line in through_nstlab)
    expected = [line for line in native_lines_of(PLAIN, "1") if severity(line) >= 1]
    assert [message(line) for line in through_nstlab] == [message(line) for line in expected]


@pytest.mark.parametrize("inherited", [
    {LEVEL_VARIABLE: None, SET_BY_NSTLAB: None},   # Jupyter started by hand
    {LEVEL_VARIABLE: "3", SET_BY_NSTLAB: "3"},     # a kernel started by an nstlab command
], ids=["fresh", "started-by-nstlab"])
def test_a_notebook_cell_shows_no_native_lines_but_keeps_warnings(inherited, monkeypatch):
    texts = run_in_a_kernel(NOTEBOOK_CELLS, monkeypatch, inherited)
    lines = "".join(texts).splitlines()
    assert "ready" in lines
    assert [line for line in lines if NATIVE_LOG_LINE.match(line)] == []
    assert any("a warning the learner should see" in line for line in lines)


def test_debug_filters_nothing():
    """``--debug`` (``quiet=False``): every line TensorFlow writes at nstlab's level, 2."""
    debug = ("from nstlab.base import native_logs\n"
             "native_logs.import_tensorflow(quiet=False).config.list_physical_devices()")
    shown = [message(line) for line in native_lines_of(debug, None)]
    assert shown and shown == [message(line) for line in native_lines_of(PLAIN, "2")]


def test_a_level_the_user_chose_is_kept_in_a_notebook(monkeypatch):
    texts = run_in_a_kernel(["import nstlab, os\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])"],
                            monkeypatch, {LEVEL_VARIABLE: "1", SET_BY_NSTLAB: None})
    assert texts[-1].strip() == "1"
    lines = "".join(texts).splitlines()
    assert [line for line in lines if severity(line) == 0] == []  # below the level
