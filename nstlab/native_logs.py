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
``nstlab ... --debug``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile

LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
#: The level the user set before nstlab was first imported (None: they set none).
USER_LEVEL = os.environ.get(LEVEL_VARIABLE)

# absl/glog lines: "I0000 00:00:1796031237.877235    4627 file.cc:31] ..." and the older
# "2025-09-17 14:44:05.157831: I external/.../file.cc:32] ...", and absl's own notice.
NATIVE_LOG_LINE = re.compile(
    r"^(WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: [IWEF] \S+:\d+\])")


def quiet_by_default() -> None:
    """Hide TensorFlow's info and warning lines unless the user chose a level (notebooks)."""
    os.environ.setdefault(LEVEL_VARIABLE, "2")


def import_tensorflow(*, quiet: bool = True):
    """Import TensorFlow (once) and return it, without its native log lines when ``quiet``.

    Does nothing special when TensorFlow is already imported, when ``quiet`` is False, or
    when the user set ``TF_CPP_MIN_LOG_LEVEL`` before nstlab was imported.
    """
    if "tensorflow" in sys.modules or not quiet or USER_LEVEL is not None:
        import tensorflow

        return tensorflow
    os.environ[LEVEL_VARIABLE] = "3"
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
