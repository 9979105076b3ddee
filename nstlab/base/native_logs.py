"""TensorFlow's native log lines, kept out of what a learner reads.

Importing TensorFlow on a machine without a GPU prints lines such as
``I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine`` and, when the
devices are first listed, ``E0000 ... failed call to cuInit: ... UNKNOWN ERROR (303)``.
They come from TensorFlow's C++ code, not from Python, and they are harmless on a CPU, but
a learner reads "E0000 ... CUDA error" as a failure.

``TF_CPP_MIN_LOG_LEVEL=3`` silences most of them. The few that are written before
TensorFlow's logging is set up ignore that variable (tensorflow/tensorflow#100442), so
:func:`import_tensorflow` also filters the process's standard error while TensorFlow loads,
passing on every line that is not one of TensorFlow's native log lines.

A user who set ``TF_CPP_MIN_LOG_LEVEL`` themselves keeps their choice, and so does
``nstlab ... --debug``. The level nstlab sets itself is also recorded in
``NSTLAB_TF_CPP_MIN_LOG_LEVEL``, so that the processes it starts (the notebook kernels of
``nstlab book`` and ``nstlab grade``, the tests' kernels) do not take it for the user's.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
SET_BY_NSTLAB = "NSTLAB_TF_CPP_MIN_LOG_LEVEL"


def _user_level() -> str | None:
    level = os.environ.get(LEVEL_VARIABLE)
    return None if level == os.environ.get(SET_BY_NSTLAB) else level


#: The level the user set before nstlab was first imported (None: they set none).
USER_LEVEL = _user_level()


def _set_level(level: str) -> None:
    os.environ[LEVEL_VARIABLE] = os.environ[SET_BY_NSTLAB] = level


# absl/glog lines: "I0000 00:00:1796031237.877235    4627 file.cc:31] ..." and the older
# "2025-09-17 14:44:05.157831: I external/.../file.cc:32] ...", and absl's own notice.
NATIVE_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\])")


def quiet_by_default() -> None:
    """Hide TensorFlow's info and warning lines unless the user chose a level.

    In a Jupyter kernel it also imports TensorFlow at once, through :func:`import_tensorflow`'s
    filter, keeping TensorFlow's error lines from then on (level 2). A notebook needs
    TensorFlow in its first cells anyway, and most nstlab modules say ``import tensorflow``:
    the first of them to load would otherwise print the native lines under the cell.
    """
    if USER_LEVEL is not None:
        return
    _set_level("2")
    if "IPython" in sys.modules:
        from nstlab.base.jupyter import in_notebook

        if in_notebook():
            import_tensorflow(level="2")


def import_tensorflow(*, quiet: bool = True, level: str = "3"):
    """Import TensorFlow (once) and return it, without its native log lines when ``quiet``.

    ``level`` is the ``TF_CPP_MIN_LOG_LEVEL`` it keeps afterwards: 3 (the commands) shows
    none of TensorFlow's native lines, 2 (notebooks) still shows its errors.
    Does nothing special when TensorFlow is already imported, when ``quiet`` is False, or
    when the user set ``TF_CPP_MIN_LOG_LEVEL`` before nstlab was imported.
    """
    if "tensorflow" in sys.modules or not quiet or USER_LEVEL is not None:
        import tensorflow

        return tensorflow
    _set_level(level)
    with native_lines_filtered():
        import tensorflow

        tensorflow.config.list_physical_devices()  # the device probe logs now, filtered
    return tensorflow


@contextlib.contextmanager
def native_lines_filtered():
    """Send the process's standard error (file descriptor 2) through a filter for a while.

    Everything written to it meanwhile, from Python or C++, is held in a temporary file;
    afterwards the lines that are not TensorFlow's native log lines are written out.
    """
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr (some notebook front ends): leave it
        yield
        return
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            held.seek(0)
            for line in held.read().decode(errors="replace").splitlines(keepends=True):
                if not NATIVE_LOG_LINE.match(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
