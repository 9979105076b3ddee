"""How nstlab's commands end: their exit codes and their one-line messages.

Every command (``stylize``, ``demo``, ``exercises``, ``grade``, ``book``, ...) uses these,
so a script can rely on the same codes everywhere:

=====  ==========================================================================
code   meaning
=====  ==========================================================================
0      done
1      the work failed (a run's loss became NaN, a result could not be written, ...)
2      bad input: nothing was run (an unknown option, a missing file, ...)
130    stopped by Ctrl-C (SIGINT); 143 stopped by SIGTERM
=====  ==========================================================================
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


def one_line(error, limit: int | None = None) -> str:
    """``error`` (an exception or any text) on one line, cut to ``limit`` characters."""
    text = " ".join(str(error).split()) or type(error).__name__
    if limit is not None and len(text) > limit:
        text = text[:limit - 3] + "..."
    return text


def fail(message, code: int) -> int:
    """Print ``nstlab: error: MESSAGE`` (one line) on stderr; return ``code``."""
    print(f"nstlab: error: {one_line(message)}", file=sys.stderr)
    return code


def warn(message) -> None:
    """Print ``nstlab: warning: MESSAGE`` (one line) on stderr."""
    print(f"nstlab: warning: {one_line(message)}", file=sys.stderr)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised as an interrupt so a run stops the way Ctrl-C stops it: the
    optimisation and training loops keep their last good image or weights."""


class Interruption:
    """How a run inside :func:`sigterm_as_interrupt` was stopped, once it was."""

    def __init__(self):
        self.terminated = False

    @property
    def name(self) -> str:
        """``"SIGTERM"`` or ``"Ctrl-C"``, for the command's message."""
        return "SIGTERM" if self.terminated else "Ctrl-C"

    @property
    def exit_code(self) -> int:
        """:data:`EXIT_SIGTERM` or :data:`EXIT_SIGINT`."""
        return EXIT_SIGTERM if self.terminated else EXIT_SIGINT


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGTERM raises :class:`Terminated` (a ``KeyboardInterrupt``).

    Yields an :class:`Interruption`: after an interrupt, its ``name`` and ``exit_code`` say
    whether it was SIGTERM or Ctrl-C. The previous handler comes back when the block ends.
    """
    interruption = Interruption()

    def on_sigterm(signum, frame):
        interruption.terminated = True
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield interruption
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def interrupts_deferred():
    """Within the block, Ctrl-C and SIGTERM wait; one that arrived is raised when it ends.

    For writes that must finish together, such as a video frame and the record that says
    it is done: a stop between the two would leave a frame on disk that the record does not
    count. Off the main thread (where Python cannot set handlers) the block runs as it is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived = []
    held = (signal.SIGINT, signal.SIGTERM)
    previous = {signum: signal.signal(signum, lambda signum, frame: arrived.append(signum))
                for signum in held}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if arrived:
            signal.raise_signal(arrived[0])
