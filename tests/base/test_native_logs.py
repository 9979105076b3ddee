"""TensorFlow's native log lines ("I0000 ... cudart_stub.cc ...", "E0000 ... cuInit ...")
stay out of what a learner reads: the commands' output and the notebooks' cells."""

import nbformat
import pytest

from nstlab.base.native_logs import LEVEL_VARIABLE, NATIVE_LOG_LINE, SET_BY_NSTLAB

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


def test_filtered_stderr_passes_other_lines_on(capfd):
    import os

    from nstlab.base.native_logs import native_lines_filtered

    with native_lines_filtered():
        os.write(2, b"I0000 00:00:1.2 77 x.cc:3] noise\nkeep me\n")
    assert capfd.readouterr().err == "keep me\n"


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


def test_a_level_the_user_chose_is_kept_in_a_notebook(monkeypatch):
    texts = run_in_a_kernel(["import nstlab, os\nprint(os.environ['TF_CPP_MIN_LOG_LEVEL'])"],
                            monkeypatch, {LEVEL_VARIABLE: "1", SET_BY_NSTLAB: None})
    assert texts[-1].strip() == "1"
