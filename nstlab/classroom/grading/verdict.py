"""Deciding a grade where the student's code cannot reach: in the grader's own process.

For each exercise the grader runs the course's own check
(:mod:`nstlab.classroom.checks`, the same code the notebook's check cell runs) here,
outside the sandbox. The check picks its inputs and computes its references here, with
NumPy and TensorFlow seeded afresh for every grading (:func:`fresh_seeds`), and it gets,
in place of the student's function, a :class:`RemoteFunction`: calling it sends the
inputs into the sandbox as plain data, the sandbox calls the student's function on them,
and the result comes back as plain data (:mod:`nstlab.classroom.grading.protocol`).

So nothing the notebook prints, writes, patches or fakes in its own process becomes a
grade: only the values its functions return for inputs it has not seen, compared here.
What the check would have printed is not used; its verdict comes from
``check.judge`` (:func:`nstlab.classroom.checks.exercise_check`).

Some checks hand the student's function live objects (a Keras model, an ``Objective``
whose gradient the function must follow) that cannot cross as plain data; the check of
the capstone says so itself (``judged_outside=False``). Those exercises get the status
``ungraded`` with the reason: look at them yourself.
"""

from __future__ import annotations

import builtins
import re
import secrets

import numpy as np

from nstlab.classroom.grading import protocol
from nstlab.classroom.grading.gradients import reconnect
from nstlab.classroom.grading.overlay import REFUSAL

#: Exceptions of the student's code that come back as themselves (checks catch some).
_BUILTIN_ERRORS = {name: getattr(builtins, name) for name in (
    "ArithmeticError", "AssertionError", "AttributeError", "BlockingIOError", "EOFError",
    "FileNotFoundError", "FloatingPointError", "ImportError", "IndexError", "KeyError",
    "LookupError", "MemoryError", "ModuleNotFoundError", "NameError", "NotImplementedError",
    "OSError", "OverflowError", "PermissionError", "RecursionError", "RuntimeError",
    "StopIteration", "TypeError", "UnboundLocalError", "ValueError", "ZeroDivisionError")}


class Stopped(BaseException):
    """The sandbox stopped or must be stopped: the status and message for what is left.

    A ``BaseException``, so a check's ``except Exception`` cannot turn it into a verdict.
    """

    def __init__(self, status: str, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class Ungradable(BaseException):
    """The exercise cannot be judged across the sandbox's wall; the message says why."""


def student_error(report) -> BaseException:
    """The exception the student's code raised, rebuilt from its plain report."""
    if not isinstance(report, dict):
        return RuntimeError("an error the grader could not read")
    name = str(report.get("type", "Exception"))
    message = str(report.get("message", ""))
    if name == "PermissionError" and message.startswith(REFUSAL):
        from nstlab.classroom.checks import WriteItYourself

        return WriteItYourself(message)
    if name in _BUILTIN_ERRORS:
        return _BUILTIN_ERRORS[name](message)
    safe = re.sub(r"\W", "_", name)[:80] or "Exception"
    if not safe[0].isalpha():
        safe = "E" + safe
    return type(safe, (Exception,), {"__module__": "student"})(message)


def _write_back(original, after) -> None:
    """Make an argument the student's function changed in place change here too."""
    if isinstance(original, dict) and isinstance(after, dict):
        original.clear()
        original.update(after)
    elif isinstance(original, list) and isinstance(after, list):
        original[:] = after
    elif isinstance(original, np.ndarray) and isinstance(after, np.ndarray):
        if original.flags.writeable and original.shape == after.shape:
            np.copyto(original, after, casting="unsafe")
    elif type(original).__name__.endswith("Variable") and isinstance(after, np.ndarray):
        if tuple(original.shape) == after.shape:
            original.assign(after.astype(original.dtype.as_numpy_dtype))


class RemoteFunction:
    """Stands for a student's function: a call runs it in the sandbox on plain data."""

    def __init__(self, session, handle: protocol.Handle) -> None:
        self._session, self._handle = session, handle
        self.__name__ = re.sub(r"\W", "_", handle.name)[:60] or "function"

    def __repr__(self) -> str:
        return f"<the student's {self.__name__}>"

    def __call__(self, *args, **kwargs):
        try:
            request = {"op": "call", "handle": self._handle.number,
                       "args": protocol.encode(list(args)),
                       "kwargs": protocol.encode(dict(kwargs))}
        except protocol.Unsendable as error:
            raise Ungradable(f"its check hands the function something that cannot cross "
                             f"the sandbox as plain data ({error})") from None
        reply = self._session.request(request)
        value = remote_values(self._session, reply)
        if reply.get("gradients") is not None:
            gradients = self._session.decode(reply["gradients"])
            if isinstance(gradients, list):
                value = reconnect(value, args, kwargs, gradients)
        for original, after in zip(args, reply.get("after") or [], strict=False):
            if after is not None:
                _write_back(original, self._session.decode(after))
        return value


def remote_values(session, reply: dict):
    """The value in a reply, with the student's functions as :class:`RemoteFunction`."""
    if "raised" in reply:
        raise student_error(reply["raised"])
    if "unsendable" in reply:
        raise Ungradable(f"the function returned something that cannot leave the sandbox "
                         f"as plain data ({str(reply['unsendable'])[:200]})")
    return _wrap(session, protocol.decode(reply.get("value"), tensors=_constant))


def _constant(array, variable: bool):
    """A tensor the student's function returned comes back as a tensor (never a variable)."""
    import tensorflow as tf

    return tf.constant(array)


def _wrap(session, value, depth: int = 0):
    if isinstance(value, protocol.Handle):
        return RemoteFunction(session, value)
    if depth < protocol.MAX_DEPTH and isinstance(value, list | tuple):
        wrapped = [_wrap(session, item, depth + 1) for item in value]
        return wrapped if isinstance(value, list) else tuple(wrapped)
    return value


def fresh_seeds() -> int:
    """Seed NumPy's and TensorFlow's global generators afresh; returns the seed.

    The checks draw their inputs from :func:`nstlab.classroom.checks.input_rng`, whose seeds
    get this salt too: in a notebook a check gives the same feedback twice, at grading
    its random inputs are ones the student never saw.
    """
    from nstlab.classroom.checks import set_input_salt

    seed = 1 + secrets.randbelow(2**31 - 1)
    set_input_salt(seed)
    np.random.seed(seed)
    import sys

    if "tensorflow" in sys.modules:  # loaded (or loading, in another grading thread)
        import tensorflow as tf  # waits until that import has finished

        tf.random.set_seed(seed)
    return seed


def judge(session, check_name: str, arguments: list) -> tuple[str, str]:
    """(status, message) for one exercise: its check run here on the student's functions.

    ``arguments`` are the values of the check cell's argument expressions, as the sandbox
    sent them (functions as handles).
    """
    import nstlab.classroom.checks as checks

    check = getattr(checks, check_name)
    if not getattr(check, "judged_outside", True):
        return ("ungraded", f"{check_name} needs live TensorFlow objects that cannot cross "
                            "the sandbox's wall: judge this exercise yourself")
    from nstlab.classroom.checks import set_input_salt

    values = [_wrap(session, value) for value in arguments]
    fresh_seeds()
    try:
        status, message, _ = check.judge(*values, guard=False)
    except Ungradable as limit:
        return "ungraded", f"not graded automatically: {limit}; judge this exercise yourself"
    finally:
        set_input_salt(0)  # the checks run in notebooks and tests give the usual feedback
    return status, message
