"""TensorFlow's native log lines, kept out of what a learner reads.

Importing TensorFlow on a machine without a GPU prints lines such as
``I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine`` and, when the
devices are first listed, ``E0000 ... failed call to cuInit: ... UNKNOWN ERROR (303)``.
They come from TensorFlow's C++ code, not from Python, and they are harmless on a CPU, but
a learner reads "E0000 ... CUDA error" as a failure.

Each line starts with its severity: ``I`` info, ``W`` warning, ``E`` error, ``F`` fatal
(0 to 3). ``TF_CPP_MIN_LOG_LEVEL=N`` asks TensorFlow to hide the lines below severity N,
but the lines it writes while it loads come before it reads that variable, and they are
printed whatever its value (tensorflow/tensorflow#100442): absl's notice
``WARNING: All log messages before absl::InitializeLog() is called ...``, ``cudart_stub.cc``,
``port.cc ... oneDNN custom operations are on``. So :func:`import_tensorflow` filters the
process's standard error while TensorFlow loads, and applies the level itself:

- a level the user set (``TF_CPP_MIN_LOG_LEVEL`` in the environment before nstlab was
  imported) is honoured: the native lines below it are dropped, the others kept;
- otherwise nstlab drops every native line below ``F``: the import's lines are noise.

Lines that are not TensorFlow's native log lines always pass. ``nstlab ... --debug``
filters nothing. The level nstlab sets itself is also recorded in
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

#: The severity letters of native log lines, in order: a line's severity is its index.
SEVERITIES = "IWEF"
FATAL = SEVERITIES.index("F")


def _user_level() -> str | None:
    level = os.environ.get(LEVEL_VARIABLE)
    return None if level == os.environ.get(SET_BY_NSTLAB) else level


#: The level the user set before nstlab was first imported (None: they set none).
USER_LEVEL = _user_level()


def _set_level(level: str) -> None:
    os.environ[LEVEL_VARIABLE] = os.environ[SET_BY_NSTLAB] = level


def level_number(level: str | None) -> int:
    """``TF_CPP_MIN_LOG_LEVEL``'s value as TensorFlow reads it: a leading integer, else 0."""
    found = re.match(r"\s*[+-]?\d+", level or "")
    return int(found.group()) if found else 0


# absl/glog lines: "I0000 00:00:1796031237.877235    4627 file.cc:31] ...", the older
# "2025-09-17 14:44:05.157831: I external/.../file.cc:32] ...", and absl's own notice.
NATIVE_LOG_LINE = re.compile(
    r"^(?P<notice>WARNING: All log messages before absl::InitializeLog\(\) is called)"
    r"|^(?P<severity>[IWEF])\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ \S+:\d+\]"
    r"|^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+: (?P<dated_severity>[IWEF]) \S+:\d+\]")


def severity(line: str) -> int | None:
    """The severity (0 info ... 3 fatal) of a native log line; None for any other line.

    absl's notice counts as info: it only says where the early lines go.
    """
    found = NATIVE_LOG_LINE.match(line)
    if found is None:
        return None
    letter = found.group("severity") or found.group("dated_severity") or "I"
    return SEVERITIES.index(letter)


def quiet_by_default() -> None:
    """Hide TensorFlow's info and warning lines (level 2) unless the user chose a level.

    In a Jupyter kernel it also imports TensorFlow at once, through :func:`import_tensorflow`'s
    filter: without its import's lines, keeping its error lines from then on, or at the
    user's level. A notebook needs TensorFlow in its first cells anyway, and most nstlab
    modules say ``import tensorflow``: the first of them to load would otherwise print the
    native lines under the cell.
    """
    if USER_LEVEL is None:
        _set_level("2")
    if "IPython" in sys.modules:
        from nstlab.base.jupyter import in_notebook

        if in_notebook():
            import_tensorflow(level="2")


def import_tensorflow(*, quiet: bool = True, level: str = "3"):
    """Import TensorFlow (once) and return it, without its native log lines when ``quiet``.

    ``level`` is the ``TF_CPP_MIN_LOG_LEVEL`` nstlab keeps afterwards when the user set
    none: 3 (the commands) shows none of TensorFlow's native lines, 2 (notebooks) still
    shows its errors. A level the user set is kept, and the import's lines below it are
    dropped. Does nothing special when TensorFlow is already imported or ``quiet`` is False.
    """
    if "tensorflow" in sys.modules or not quiet:
        import tensorflow

        return tensorflow
    if USER_LEVEL is None:
        _set_level(level)
        shown_from = FATAL
    else:
        shown_from = level_number(USER_LEVEL)
    with native_lines_filtered(shown_from=shown_from):
        import tensorflow

        tensorflow.config.list_physical_devices()  # the device probe logs now, filtered
    return tensorflow


@contextlib.contextmanager
def native_lines_filtered(shown_from: int = FATAL):
    """Send the process's standard error (file descriptor 2) through a filter for a while.

    Everything written to it meanwhile, from Python or C++, is held in a temporary file;
    afterwards it is written out without the native log lines whose severity is below
    ``shown_from`` (by default all but the fatal ones). Other lines all pass.
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
                found = severity(line)
                if found is None or found >= shown_from:
                    sys.stderr.write(line)
            sys.stderr.flush()
