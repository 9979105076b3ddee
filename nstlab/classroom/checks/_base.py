"""The machinery every check shares: friendly reporting of right, unfinished and wrong
answers, and the guard that refuses an answer which calls the very function it should build.

Why the guard watches calls instead of replacing functions
-----------------------------------------------------------
An exercise such as "write ``gram_matrix``" would pass with ``return nstlab.gram_matrix(f)``.
Swapping ``nstlab.engine.losses.gram_matrix`` (and nstlab's name cache, ``tf.image``, ...) for a
stand-in while the answer runs does not close that: a name the learner bound earlier with
``from nstlab import gram_matrix`` still points at the real function, and so do the other
ways in (``tf.compat.v1.image.total_variation``, ``nstlab.total_variation_loss`` which calls
``tf.image.total_variation``). Comparing the answer with the package function only catches
the function passed as it is, not a lambda around it.

So :func:`forbidding` installs a profile hook (:func:`sys.setprofile`) while the answer runs.
Python calls it at the start of every Python function, and it refuses the call when the
function's *code object* is the forbidden one, however the answer reached it: under any
name, or through another package function (the message then names that function). It sees
this thread only, and only while the answer runs: the check's own reference computations,
before and after, use the package functions as usual. The hook costs one Python call per
function call. Measured on 2 shared CPU cores: the upsampling check, whose answer runs a
2-step, 40 px ``nstlab.stylize`` (about 400 000 Python calls), takes 5.0-5.6 s instead of
4.4-4.9 s; the other guarded answers make few calls and take no visible extra time.

Two details make the guard hard to get around:

* Inside a ``tf.function``, AutoGraph runs a converted *copy* of each nstlab function (new
  code, from a generated file), and a function traced earlier runs no Python at all. While
  the answer runs, every ``tf.function`` therefore runs eagerly, as plain Python (which
  is also quicker than tracing under the hook: 6.1-6.6 s for the upsampling check traced).
* Python removes a profile hook that raises. Each refusal is recorded, and raised again
  when the answer returns, so catching the error inside the answer does not help.

Copying the package function's source (``nstlab.gram_matrix??``) is not detected: that is
writing it, after reading it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib
import inspect
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import CodeType, FrameType

import numpy as np


class CheckFailed(AssertionError):
    """An exercise answer that is not right yet; the message says what is wrong."""


class WriteItYourself(CheckFailed):
    """The answer called a function that solves the exercise for it."""


class NotDoneYet(NotImplementedError):
    """An exercise built from several functions, some still unwritten; the message names them.

    A check raises it instead of letting a stub's bare ``NotImplementedError`` through, so
    "not done yet" can say which pieces are left.
    """


def expect(condition: bool, message: str) -> None:
    """Fail the current check with ``message`` unless ``condition`` holds."""
    if not condition:
        raise CheckFailed(message)


def _strict() -> bool:
    return (os.environ.get("NSTLAB_STRICT_CHECKS", "").strip() in ("1", "true", "yes")
            or _under_nbgrader())


def _under_nbgrader() -> bool:
    """True while nbgrader autogrades or validates: a check cell must fail to score 0."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


# --------------------------------------------------------------------------- the guard


@dataclasses.dataclass(frozen=True)
class Solver:
    """A function that solves an exercise, which the learner's answer must not call.

    Parameters
    ----------
    name : str
        How the learner knows the function, for the message: ``"nstlab.gram_matrix"``.
    target : str, optional
        Where it lives, as a dotted path to import (default: ``name``), e.g.
        ``"tensorflow.image.total_variation"`` or ``"keras.optimizers.Adam.update_step"``.
        Decorated functions are unwrapped to the function that does the work.
    why : str
        The end of the message: what that function has to do with the exercise.
    when : callable, optional
        Refuse only some calls: ``when(arguments)`` gets the call's arguments (a dict by
        parameter name) and returns why this call solves the exercise (the message), or
        ``None`` when the call is fine. Without it every call is refused.
    """

    name: str
    target: str | None = None
    why: str = "the function this exercise asks you to write"
    when: Callable[[Mapping[str, object]], str | None] | None = None

    @property
    def code(self) -> CodeType:
        """The code object whose calls are refused."""
        return _code_of(self.target or self.name)

    def refusal(self, frame: FrameType) -> str | None:
        """The message for the call running in ``frame``, or None if it is allowed."""
        if self.when is not None:
            try:
                reason = self.when(dict(frame.f_locals))
            except Exception:  # odd arguments: let the function report them itself
                return None
            return None if reason is None else f"write this one yourself: {reason}"
        through = _entry_point(frame)
        called = self.name if through is None else f"{self.name} (through {through})"
        return f"write this one yourself: your function calls {called}, {self.why}."


def _import(path: str):
    """The object at a dotted path: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            found = getattr(found, name)
        return found
    raise ImportError(f"cannot import {path}")


@functools.cache
def _code_of(path: str) -> CodeType:
    function = inspect.unwrap(_import(path))
    function = getattr(function, "__func__", function)  # a bound or class method
    code = getattr(function, "__code__", None)
    if code is None:
        raise TypeError(f"{path} is not a Python function: a check cannot see its calls")
    return code


def _entry_point(frame: FrameType) -> str | None:
    """The nstlab function the answer called that led to ``frame``; None if called directly.

    Walks out from ``frame`` to the check that called the answer, and names the outermost
    function of the nstlab package on the way (the checks themselves excluded).
    """
    outermost = None
    caller = frame.f_back
    while caller is not None:
        module = caller.f_globals.get("__name__", "")
        if module.startswith("nstlab.classroom.checks"):
            break
        if module.startswith("nstlab."):
            outermost = caller
        caller = caller.f_back
    if outermost is None:
        return None
    return f"{outermost.f_globals['__name__']}.{outermost.f_code.co_qualname}"


@contextlib.contextmanager
def _functions_run_eagerly() -> Iterator[None]:
    """Run every ``tf.function`` as plain Python inside the block (if TensorFlow is loaded).

    TensorFlow's setting is process-wide: another thread's ``tf.function`` also runs eagerly
    meanwhile (slower, same numbers).
    """
    tf = sys.modules.get("tensorflow")
    if tf is None or not hasattr(tf, "config"):
        yield
        return
    before = tf.config.functions_run_eagerly()
    tf.config.run_functions_eagerly(True)
    try:
        yield
    finally:
        tf.config.run_functions_eagerly(before)


@contextlib.contextmanager
def forbidding(solvers: Iterable[Solver]) -> Iterator[None]:
    """Refuse every call of the ``solvers`` made inside the block, in this thread.

    A refused call raises :class:`WriteItYourself` with a one-line message. The block ends
    with that error even when the code inside caught it or raised something else; the
    profile hook and TensorFlow's eager setting are restored in every case.
    """
    rules = {id(solver.code): solver for solver in solvers}
    refusals: list[str] = []

    def watch(frame, event, _arg):
        if event != "call":
            return
        solver = rules.get(id(frame.f_code))
        if solver is None:
            return
        message = solver.refusal(frame)
        if message is not None:
            refusals.append(message)
            raise WriteItYourself(message)

    previous = sys.getprofile()
    with _functions_run_eagerly():
        sys.setprofile(watch)
        try:
            yield
        except Exception:
            if not refusals:
                raise
        finally:
            sys.setprofile(previous)
    if refusals:
        raise WriteItYourself(refusals[0])


def _guarded(answer: Callable, solvers: tuple[Solver, ...]) -> Callable:
    """``answer``, made to run under :func:`forbidding` each time it is called."""
    for solver in solvers:
        solver.code  # noqa: B018 -- resolve now: a bad target is the check's bug, not yours

    @functools.wraps(answer)
    def guarded(*args, **kwargs):
        with forbidding(solvers):
            return answer(*args, **kwargs)

    return guarded


# --------------------------------------------------------------------------- reporting


#: Added to the seeds of the checks' inputs (:func:`input_rng`); 0 in a notebook, so the
#: feedback is the same at every run, and fresh at every grading (``nstlab grade``).
_INPUT_SALT = [0]


def set_input_salt(salt: int) -> None:
    """Make :func:`input_rng` give other inputs from now on (the grader, at each grading)."""
    _INPUT_SALT[0] = int(salt)


def input_rng(seed: int) -> np.random.Generator:
    """The random generator a check draws its inputs from: ``seed``, plus the grader's salt."""
    salt = _INPUT_SALT[0]
    return np.random.default_rng(seed if not salt else [seed, salt])


def exercise_check(title: str, *, solvers: Iterable[Solver] = (), judged_outside: bool = True):
    """Decorate a check function so it reports instead of crashing.

    The decorated function takes the learner's answer (a function) first. It raises
    :class:`CheckFailed` (via :func:`expect`) for a wrong answer and returns normally for a
    right one; calling the answer may raise ``NotImplementedError`` when the exercise is not
    done yet. Under nbgrader's autograder or validator (``NBGRADER_EXECUTION`` set) a wrong
    or unfinished answer raises, so the cell scores 0.

    ``solvers`` are the functions that would solve the exercise for the learner: while the
    check runs the answer, calling any of them is refused (:func:`forbidding`). The check's
    own code around those calls may use them. The decorated check keeps them as
    ``check.solvers``.

    ``check.judge(answer, *args, guard=True)`` returns the verdict without printing:
    ``(status, message, error)``, status one of ``correct``, ``wrong``, ``not_done``,
    ``crashed``. ``nstlab grade`` calls it from outside the student's process
    (:mod:`nstlab.classroom.grading.verdict`), with ``guard=False``: there the solvers are
    refused inside the sandbox instead. ``judged_outside=False`` marks a check whose
    answer needs live objects that cannot cross the sandbox's wall (``check.judged_outside``).
    """
    solvers = tuple(solvers)

    def decorate(check):
        def judge(answer, *args, guard: bool = True, **kwargs):
            if solvers and guard:
                answer = _guarded(answer, solvers)
            try:
                check(answer, *args, **kwargs)
            except NotImplementedError as error:
                left = f" ({error})" if isinstance(error, NotDoneYet) else ""
                return "not_done", f"not done yet{left}", error
            except CheckFailed as failure:
                return "wrong", str(failure), failure
            except Exception as error:  # the student's code crashed: say where, not a traceback
                return "crashed", f"your code raised {type(error).__name__}: {error}", error
            return "correct", "correct!", None

        @functools.wraps(check)
        def run(answer, *args, **kwargs) -> bool:
            status, message, error = judge(answer, *args, **kwargs)
            if status == "not_done":
                if _under_nbgrader():
                    raise error
                print(f"… {title}: {message}. Replace `raise NotImplementedError` "
                      "with your code, run that cell, then run this check again.")
                return False
            if status == "wrong":
                if _strict():
                    raise error
                print(f"✗ {title}: {message}")
                return False
            if status == "crashed":
                if _strict():
                    raise CheckFailed(message) from error
                print(f"✗ {title}: {message}")
                return False
            print(f"✓ {title}: correct!")
            return True

        run.solvers = solvers
        run.judge = judge
        run.judged_outside = judged_outside
        return run

    return decorate
