"""Grading a class: every entry of SUBMISSIONS, one row per exercise, several at a time.

``rows = grade("submissions", "notebooks")`` finds the submissions
(:mod:`~nstlab.classroom.grading.submissions`), matches each to its course notebook
(:mod:`~nstlab.classroom.grading.course`) and runs it in its sandbox
(:mod:`~nstlab.classroom.grading.runner`), ``jobs`` notebooks at once. Whatever happens to
one entry, it gets its rows and the others are graded.
"""

from __future__ import annotations

import queue
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from nstlab.classroom.grading import runner, sandbox
from nstlab.classroom.grading.course import CourseNotebook, GradeError, load_course, match
from nstlab.classroom.grading.report import Row, printable, progress_line
from nstlab.classroom.grading.sandbox import Limits
from nstlab.classroom.grading.submissions import (
    NotGradable,
    Submission,
    find_submissions,
    read_notebook,
)


def check_inputs(submissions, notebooks, limits: Limits, trusted: bool = False
                 ) -> list[CourseNotebook]:
    """Raise :class:`GradeError` unless grading can start; returns the course."""
    root = Path(submissions)
    if not root.is_dir():
        raise GradeError(f"submissions folder '{root}' not found")
    temporary = Path(tempfile.gettempdir()).resolve()
    if temporary.is_relative_to(root.resolve()):
        raise GradeError(f"the temporary folder {temporary} is inside the submissions folder; "
                         "set TMPDIR to a folder elsewhere")
    try:
        limits.check()
    except ValueError as error:
        raise GradeError(str(error)) from None
    if not trusted and (why := sandbox.unavailable()):
        raise GradeError(why)
    return load_course(notebooks)


def _whole(submission: Submission, message: str) -> list[Row]:
    return [Row(submission.student, submission.notebook, "", "not_done", message)]


def grade(submissions, notebooks="notebooks", *, limits: Limits | None = None, jobs: int = 1,
          trusted: bool = False, progress: Callable[[str], None] | None = None) -> list[Row]:
    """Grade every entry of ``submissions``; the rows in the order of the entries.

    Parameters
    ----------
    submissions : folder
        One sub-folder per student, or notebooks directly in it.
    notebooks : folder
        The course's source notebooks, with solutions: what to grade and how.
    limits : Limits
        Time, disk, memory and process limits per notebook; quick mode.
    jobs : int
        How many notebooks run at once.
    trusted : bool
        Run without the sandbox (only where none can be built, for notebooks you trust).
    progress : callable, optional
        Called with one printable line after each entry.

    Raises
    ------
    GradeError
        For a missing folder, a course without exercises, or no sandbox, before anything runs.
    KeyboardInterrupt
        On Ctrl-C, after stopping every running sandbox.
    """
    limits = limits or Limits()
    course = check_inputs(submissions, notebooks, limits, trusted)
    found = find_submissions(submissions)
    scratch = runner.scratch_folder()
    slots: queue.Queue[int] = queue.Queue()
    for slot in range(max(1, jobs)):
        slots.put(slot)
    overlays = runner.Overlays(scratch)

    def one(submission: Submission) -> list[Row]:
        slot = slots.get()
        started = time.monotonic()
        try:
            rows = grade_submission(submission, course, limits, slot, trusted, overlays)
        finally:
            slots.put(slot)
        if progress is not None:
            progress(progress_line(rows, time.monotonic() - started))
        return rows

    try:
        if jobs <= 1:
            results = [one(submission) for submission in found]
        else:
            pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="nstlab-grade")
            try:
                results = list(pool.map(one, found))
            except BaseException:  # Ctrl-C: no new notebook starts, the running ones die
                pool.shutdown(wait=False, cancel_futures=True)
                runner.kill_all()
                raise
            pool.shutdown()
    finally:
        runner.remove(scratch)
    return [row for rows in results for row in rows]


def grade_submission(submission: Submission, course, limits: Limits, slot: int, trusted: bool,
                     overlays) -> list[Row]:
    """The rows of one entry: its exercises, or a row saying why it cannot run.

    Never raises for one bad entry: a row says what broke, and the others are graded.
    """
    rows = []
    if submission.duplicate_of:
        rows += _whole(submission, "duplicate student: also handed in as "
                       + ", ".join(submission.duplicate_of) + "; check which one counts")
        submission = type(submission)(submission.student, submission.notebook, submission.path,
                                      submission.folder, submission.problem)
    try:
        if submission.problem or submission.path is None:
            return rows + _whole(submission, submission.problem or "nothing to grade")
        return rows + _graded(submission, course, limits, slot, trusted, overlays)
    except (OSError, ValueError, RuntimeError) as error:
        return rows + _whole(submission, f"the grader could not grade this entry "
                                         f"({type(error).__name__}: {printable(str(error), 200)})")


def _graded(submission, course, limits, slot, trusted, overlays) -> list[Row]:
    file_name = submission.path.name
    try:
        cells = read_notebook(submission.path)
    except NotGradable as problem:
        source = match(course, file_name, None)
        if source is None:
            return _whole(submission, str(problem))
        return runner.rows_for(submission, source, {}, set(),
                            runner.verdict.Stopped("not_done", str(problem)))
    source = match(course, file_name, cells)
    if source is None:
        return _whole(submission, "not a notebook of this course: it calls none of its checks "
                                  "and has none of its notebooks' names")
    return runner.grade_notebook(submission, cells, source, limits, slot, trusted, overlays)
