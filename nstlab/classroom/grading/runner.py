"""Running one submitted notebook in its sandbox, and judging its exercises on the way.

:func:`grade_notebook` stages the student's folder, starts the sandbox
(:mod:`~nstlab.classroom.grading.sandbox`) with the program
:mod:`~nstlab.classroom.grading.inside`, and follows the notebook cell by cell through
the channel. When the notebook reaches an exercise's check cell, the grader judges the
exercise there and then (:func:`nstlab.classroom.grading.verdict.judge`), so an exercise
done before a later cell crashes, loops or kills Python still counts.

Statuses: ``correct``; ``wrong`` (the check says what is wrong, "write this one
yourself" included); ``not_done`` (``raise NotImplementedError`` still there, the check
cell gone, the function not defined, or the file is not a notebook of the course);
``crashed`` (the student's code raised in the grader's call, or a cell before the check
raised, Python died, or a limit was hit: the message names it); ``timeout`` (the cells
ran past ``--timeout`` before the check, or a call of the student's function did);
``ungraded`` (the verdict cannot be made outside the sandbox: judge it yourself).

More runs when exercises have solvers (functions that would solve them, such as
``nstlab.gram_matrix`` for the Gram matrix exercise): the notebook's own cells may use
those functions freely, so the first run uses the real nstlab and judges the other
exercises; then each exercise with solvers gets a run of its own against an nstlab in
which only *its* solvers refuse (:mod:`~nstlab.classroom.grading.overlay`; the style loss
may use ``nstlab.gram_matrix``), running every cell whatever fails (cells that call a
refused function just fail).
"""

from __future__ import annotations

import dataclasses
import os
import select
import shutil
import tempfile
import threading
import time
from pathlib import Path

from nstlab.classroom.grading import overlay, protocol, sandbox, verdict
from nstlab.classroom.grading.course import CourseNotebook, check_cells
from nstlab.classroom.grading.report import Row, printable
from nstlab.classroom.grading.submissions import Cell, NotGradable, Submission, last_line, stage

_POLL_SECONDS = 0.25
#: A frame that has started arriving must be complete within this many seconds.
_FRAME_SECONDS = 30.0
#: One judge at a time: the checks share caches and TensorFlow's global state.
_JUDGING = threading.Lock()
#: The sandboxes running now, so Ctrl-C can stop them all at once (:func:`kill_all`).
_RUNNING: set = set()
_RUNNING_LOCK = threading.Lock()


def kill_all() -> None:
    """Kill every sandbox this process is running (on Ctrl-C, with ``--jobs``)."""
    with _RUNNING_LOCK:
        running = list(_RUNNING)
    for process in running:
        sandbox.kill(process)


@dataclasses.dataclass
class Overlays:
    """The refusing files of each course notebook, built once per grading."""

    folder: Path
    built: dict = dataclasses.field(default_factory=dict)
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def pairs(self, refusing: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        """The mounts of a sandbox whose nstlab refuses the solvers of the checks ``refusing``."""
        key = refusing
        with self.lock:
            if key not in self.built:
                import nstlab.classroom.checks as checks

                place = Path(tempfile.mkdtemp(dir=self.folder))
                place.chmod(0o755)
                pairs = overlay.checks_stub(place)
                if refusing:
                    from nstlab.base.native_logs import import_tensorflow

                    import_tensorflow()  # some solvers live in TensorFlow: quietly
                    solvers = [solver for check in sorted(refusing)
                               for solver in getattr(checks, check).solvers]
                    pairs += overlay.refusing_files(solvers, place)
                for path in place.rglob("*"):
                    path.chmod(0o755 if path.is_dir() else 0o644)
                self.built[key] = pairs
            return self.built[key]


class Session:
    """One sandbox running one notebook: the channel, the clock and the limits."""

    def __init__(self, process, requests: int, answers: int, limits: sandbox.Limits,
                 trusted: bool) -> None:
        self.process, self.requests, self.answers = process, requests, answers
        self.limits, self.trusted = limits, trusted
        self.budget = limits.timeout  # seconds of cells left
        self.cell: int | None = None
        self.started = False  # the program inside sent its first frame: /work is mounted

    def decode(self, data):
        return protocol.decode(data)

    def _watch(self) -> None:
        """Stop the sandbox when ``/sandbox/work`` holds too much (checked every quarter second)."""
        if self.trusted or not self.started:
            return
        used = sandbox.usage(self.process)
        if used is None:
            return
        size, files = used
        if size > self.limits.disk_mb * 2**20:
            raise verdict.Stopped("crashed", f"for writing more than {self.limits.disk_mb} MB")
        if files > self.limits.files:
            raise verdict.Stopped("crashed", f"for creating more than {self.limits.files} files")

    def receive(self, seconds: float) -> dict:
        """The next frame from the sandbox within ``seconds``; :class:`verdict.Stopped` else."""
        deadline = time.monotonic() + seconds
        while True:
            self._watch()
            left = deadline - time.monotonic()
            if left <= 0:
                raise protocol.TimedOut()
            if select.select([self.answers], [], [], min(left, _POLL_SECONDS))[0]:
                break
        frame = protocol.read_frame(self.answers, time.monotonic() + _FRAME_SECONDS)
        self.started = True
        if not isinstance(frame, dict):
            raise protocol.ProtocolError("a message that is not an object")
        return frame

    def request(self, message: dict) -> dict:
        """Send a request to the sandbox and return its reply (the student's call)."""
        try:
            protocol.write_frame(self.requests, message)
            frame = self.receive(self.limits.timeout)
        except protocol.TimedOut:
            raise verdict.Stopped("timeout", f"the grader's call of the student's function did "
                                             f"not return within {self.limits.timeout:g} s") \
                from None
        except (protocol.ChannelClosed, BrokenPipeError):
            raise verdict.Stopped("crashed", "Python ended during the grader's call of the "
                                             "student's function (out of memory, or the code "
                                             "ended Python)") from None
        except protocol.ProtocolError as error:
            raise verdict.Stopped("crashed", f"the answer could not be read: {error}") from None
        if "reply" not in frame or not isinstance(frame["reply"], dict):
            raise verdict.Stopped("crashed", "the answer could not be read: not a reply")
        return frame["reply"]

    def next_event(self) -> dict:
        """The next frame while cells run, counted against the time limit."""
        started = time.monotonic()
        try:
            return self.receive(max(self.budget, 0.01))
        finally:
            self.budget -= time.monotonic() - started


def _snippet(cells: list[Cell], index: int | None) -> str:
    if index is None:
        return "the setup, before the first cell"
    lines = [line.strip() for line in cells[index].source.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return printable(f"cell {index + 1} ({first[:40]}{'...' if len(first) > 40 else ''})")


def _cell_error(report, limits: sandbox.Limits) -> str:
    """``"NameError: name 'x' is not defined"``, with the limit a resource error hit."""
    name = printable(str(report.get("type", "Exception")) if isinstance(report, dict)
                     else "Exception", 80)
    message = str(report.get("message", "")) if isinstance(report, dict) else ""
    text = f"{name}: {message}" if message else name
    if name == "MemoryError":
        text += f" (the memory limit is {limits.memory_mb} MB)"
    elif "Resource temporarily unavailable" in message or name == "BlockingIOError":
        text += f" (the limit is {limits.processes} processes and threads)"
    elif "File too large" in message:
        text += f" (the largest file may be {limits.disk_mb} MB)"
    elif "No space left on device" in message:
        text += (f" (the work folder holds at most {limits.disk_mb} MB, /tmp and /dev/shm "
                 f"{sandbox.SCRATCH_MB} MB)")
    return text


def _run(cells: list[Cell], folder: str, source: CourseNotebook, staged: Path,
         pairs: list, limits: sandbox.Limits, slot: int, trusted: bool, judge_these: set[str],
         keep_going: bool, scratch: Path) -> tuple[dict, set[str], verdict.Stopped | None]:
    """One run of the notebook; returns (verdicts, checks reached, why it stopped early)."""
    tasks = {task.check: list(task.arguments) for task in source.tasks}
    at = check_cells(cells, source)
    plan = {"folder": folder, "keep_going": keep_going, "tasks": tasks,
            "checks": {str(index): names for index, names in at.items()},
            "cells": [[index, cell.source] for index, cell in enumerate(cells)
                      if cell.kind == "code"]}
    to_inside, requests = os.pipe()
    answers, from_inside = os.pipe()
    line = sandbox.command(staged, pairs, limits, trusted)
    line += ["--requests", str(to_inside), "--answers", str(from_inside)]
    results: dict[str, tuple[str, str]] = {}
    reached: set[str] = set()
    stop: verdict.Stopped | None = None
    group = sandbox.pids_cgroup(limits)
    with open(scratch / "sandbox.log", "wb") as log:
        process = sandbox.start(line, limits, group, (to_inside, from_inside), log)
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    os.close(to_inside)
    os.close(from_inside)
    session = Session(process, requests, answers, limits, trusted)
    try:
        protocol.write_frame(requests, plan)
        while True:
            event = session.next_event()
            if "done" in event:
                break
            if "cell" in event and len(event) == 1:
                session.cell = int(event["cell"])
            elif "error" in event:
                if not keep_going:
                    where = _snippet(cells, session.cell)
                    error = _cell_error(event["error"], limits)
                    stop = verdict.Stopped("crashed", f"not reached: {where} raised {error}")
                    break
            elif "check" in event:
                check = str(event["check"])
                reached.add(check)
                if check in judge_these and check not in results:
                    try:
                        results[check] = _judge(session, check)
                    except verdict.Stopped as stopped:
                        results[check] = (stopped.status, stopped.message)
                        stop = verdict.Stopped(stopped.status, (
                            f"not reached: the notebook stopped in {_snippet(cells, session.cell)}"
                            f" while the grader judged {check}"))
                        break
                protocol.write_frame(requests, {"op": "continue"})
            else:
                raise protocol.ProtocolError("an unknown message")
    except verdict.Stopped as stopped:
        where = _snippet(cells, session.cell)
        stop = verdict.Stopped(stopped.status, f"not reached: the notebook was stopped in "
                                               f"{where} {stopped.message}")
    except protocol.TimedOut:
        stop = verdict.Stopped("timeout", f"not reached: the notebook was stopped at the time "
                                          f"limit ({limits.timeout:g} s) in "
                                          f"{_snippet(cells, session.cell)}")
    except (protocol.ChannelClosed, BrokenPipeError):
        said = "" if session.started else last_line(scratch / "sandbox.log")
        stop = verdict.Stopped("crashed", f"not reached: the kernel died in "
                                          f"{_snippet(cells, session.cell)} (out of memory, or "
                                          "the code ended Python)"
                                          + (f"; it said: {said}" if said else ""))
    except (protocol.ProtocolError, ValueError, TypeError, KeyError) as error:
        stop = verdict.Stopped("crashed", f"not reached: the notebook broke the grader's "
                                          f"channel in {_snippet(cells, session.cell)} "
                                          f"({printable(str(error), 200)})")
    finally:  # also on Ctrl-C: nothing of the sandbox outlives this
        sandbox.kill(process)
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
        sandbox.remove_cgroup(group)
        os.close(requests)
        os.close(answers)
    return results, reached, stop


def _judge(session: Session, check: str) -> tuple[str, str]:
    """Judge one exercise now, in the grader's process; a stop of the sandbox inside a
    call ends only this exercise's judging (the run then stops)."""
    with _JUDGING:
        try:
            reply = session.request({"op": "evaluate"})
            if "raised" in reply:
                error = verdict.student_error(reply["raised"])
                if isinstance(error, NameError):
                    return "not_done", f"not done: {error}"
                return "crashed", f"the check cell's arguments raised {type(error).__name__}: " \
                                  f"{error}"
            values = verdict.remote_values(session, reply)
            return verdict.judge(session, check, list(values))
        except verdict.Ungradable as limit:
            return "ungraded", f"not graded automatically: {limit}"


def grade_notebook(submission: Submission, cells: list[Cell], source: CourseNotebook,
                   limits: sandbox.Limits, slot: int, trusted: bool,
                   overlays: Overlays) -> list[Row]:
    """The rows of one notebook: every exercise of ``source``, judged or explained."""
    import nstlab.classroom.checks as checks

    with tempfile.TemporaryDirectory(prefix="nstlab-grade-", dir=overlays.folder,
                                     ignore_cleanup_errors=True) as name:
        scratch = Path(name)
        scratch.chmod(0o711)
        staged = scratch / "submission"
        try:
            stage(submission, staged, limits.disk_mb * 2**20)
        except NotGradable as problem:
            return rows_for(submission, source, {}, set(),
                            verdict.Stopped("not_done", str(problem)))
        for path in [staged, *staged.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        folder = str(Path(submission.notebook).parent) if submission.folder else "."
        guarded = {task.check for task in source.tasks
                   if any(solver.when is None for solver in getattr(checks, task.check).solvers)}
        plain = {task.check for task in source.tasks} - guarded
        results, reached, stop = _run(cells, folder, source, staged, overlays.pairs(),
                                      limits, slot, trusted, plain, False, scratch)
        for check in sorted((guarded & reached) - set(results)):
            # One more run per exercise: its own solvers refuse, those of others do not.
            more, _, _ = _run(cells, folder, source, staged, overlays.pairs(frozenset({check})),
                              limits, slot, trusted, {check}, True, scratch)
            results[check] = more.get(check, (
                "crashed", "the run without the package's solution did not reach the check"))
    return rows_for(submission, source, results, reached, stop)


def rows_for(submission: Submission, source: CourseNotebook, results: dict, reached: set,
          stop: verdict.Stopped | None) -> list[Row]:
    rows = []
    for task in source.tasks:
        if task.check in results:
            status, message = results[task.check]
        elif stop is not None and task.check not in reached:
            status, message = stop.status, stop.message
        else:
            status = "not_done"
            message = (f"the check did not run: the cell calling nstlab.classroom.checks."
                       f"{task.check}() is missing")
        rows.append(Row(submission.student, submission.notebook, task.name, status, message))
    return rows


def scratch_folder() -> Path:
    """A private folder for one grading's sandboxes (removed by the caller)."""
    folder = Path(tempfile.mkdtemp(prefix="nstlab-grading-"))
    folder.chmod(0o711)
    return folder


def remove(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
