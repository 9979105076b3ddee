"""Grade the notebooks students hand in: run each one, write one CSV row per exercise.

::

    nstlab grade SUBMISSIONS -o grades.csv

``SUBMISSIONS`` holds one folder per student (the notebooks anywhere inside it), or
notebook files directly (``alice.ipynb``: the student is ``alice``). The CSV has the
columns ``student``, ``notebook``, ``exercise``, ``status`` and ``message``; ``status`` is
one of :data:`STATUSES`. The command prints a progress line per notebook and a summary.
From Python: ``rows = grade("submissions")`` and ``write_csv(rows, "grades.csv")``.

How a notebook is graded
------------------------
1. **Which notebook of the course it is.** The exercises come from the source notebooks
   (``--notebooks``, default ``./notebooks``): each solution cell and its check cell
   (:func:`nstlab.classroom.exercises.find_exercises`). A submission is the course notebook whose
   checks it calls, else the one with its file name; one that matches neither is "not a
   notebook of this course" and does not run. So every exercise gets a row even when its
   check never ran.
2. **Run All, in a sandbox.** The notebook runs top to bottom in a fresh ``python3``
   kernel, in quick mode (``NSTLAB_QUICK=1``; ``--full`` for full mode), with a time limit
   for the whole notebook. Its working folder is a fresh temporary copy of the student's
   folder (or of the file alone). As with *Run All* in Jupyter, the first cell that raises
   stops the notebook: the checks after it did not run (``crashed``). A wrong answer does not
   stop it: checks print, they do not raise.
3. **Results from the checks, not from their printout.** Each check appends its result to
   a JSON-lines log named by ``NSTLAB_GRADE_LOG`` (:func:`record_check`); the grader reads
   it back. A check the notebook never reached gets the reason the notebook stopped.

Statuses: ``correct``; ``wrong`` (the check says what is wrong); ``not_done`` (still
``raise NotImplementedError``, the check cell is gone, or the file is not a notebook of the
course); ``crashed`` (the student's code raised inside the check, or a cell before the
check raised, the kernel died, or the notebook wrote too much); ``timeout`` (the notebook
hit the time limit before the check).

What protects your files, and what does not
--------------------------------------------
* The notebook does not run in ``SUBMISSIONS``: it runs in a copy, in a folder of its own
  under the system's temporary folder (``TMPDIR``), removed afterwards, with its home and
  temporary folders in there too. What it writes or deletes by relative path (``../``
  included) is that copy. The grades file must be outside ``SUBMISSIONS``.
* On Linux with Landlock (5.13 or newer, on by default in most distributions) the kernel
  and everything it starts may write *only* inside that folder, even as root: writing to or
  deleting the submissions, the grades, the course or your home folder by absolute path
  fails with ``PermissionError``; from Linux 6.12 it cannot signal the grader either. See
  :mod:`nstlab.classroom.sandbox`. Where Landlock is missing the command says so: a notebook could
  then write wherever you can, so grade only what you trust, or grade in a container.
* Disk: no file larger than ``--disk-limit`` (``RLIMIT_FSIZE``: the write fails, the cell
  raises ``OSError``), and the grader measures the folder every quarter second and stops
  the kernel once it grew by more than that, plus 10% for the kernel's own small files. A
  notebook writing very fast can overshoot by what it writes in a quarter second.
* Time: ``--timeout`` seconds per notebook (from its first cell; starting the kernel has
  two minutes of its own), then the kernel is killed with every process in its process
  group. Ctrl-C does the same and writes no grades.
* Not limited: memory, processor use, the network, processes that leave the kernel's
  process group; and a determined student can fake a result (the check runs in their
  kernel). Use it for feedback and coursework, not for exams against cheating.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import io
import json
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_USAGE, fail, one_line
from nstlab.classroom.exercises import CHECK_CALL, Exercise, ExerciseFormatError, find_exercises

#: The environment variable naming the file where checks append their results.
LOG_VARIABLE = "NSTLAB_GRADE_LOG"
#: What a check records (see :func:`nstlab.classroom.checks.exercise_check`).
CHECK_STATUSES = ("correct", "wrong", "not_done", "crashed")
#: Every status a row can have.
STATUSES = (*CHECK_STATUSES, "timeout")
COLUMNS = ("student", "notebook", "exercise", "status", "message")
#: The Jupyter kernel the notebooks run in.
KERNEL = "python3"
#: Seconds per notebook: quick mode runs a course notebook in about a minute on 2 cores.
QUICK_TIMEOUT, FULL_TIMEOUT = 300.0, 1800.0
DISK_LIMIT_MB = 500
#: A larger "notebook" is not read (a notebook with many images is a few MB).
MAX_NOTEBOOK_MB = 100
_POLL_SECONDS = 0.25
_MESSAGE_CHARS = 500



class GradeError(ValueError):
    """Bad input for grading as a whole (a missing folder, a course without exercises)."""


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the grades: one exercise of one notebook of one student.

    ``exercise`` is empty on a row about a whole file that cannot be graded (not a
    notebook, or a notebook of another course); ``message`` says why.
    """

    student: str
    notebook: str
    exercise: str
    status: str
    message: str


# --------------------------------------------------------------------------- the check log


def record_check(check: str, title: str, status: str, message: str) -> None:
    """Append one check's result to the grading log, when a grader asked for one.

    Every exercise check calls this (:func:`nstlab.classroom.checks.exercise_check`). It does
    nothing unless the environment variable ``NSTLAB_GRADE_LOG`` names a file, as
    :func:`grade` sets it for each notebook's kernel. One JSON object per line::

        {"check": "check_gram_matrix", "title": "Gram matrix", "status": "wrong",
         "message": "shape (3, 3), expected (4, 4)"}

    ``status`` is one of :data:`CHECK_STATUSES`. A log that cannot be written is reported
    on stderr; the check itself goes on.
    """
    path = os.environ.get(LOG_VARIABLE)
    if not path:
        return
    record = {"check": check, "title": title, "status": status, "message": message}
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError as error:
        print(f"(could not record this result for grading: {error})", file=sys.stderr)


def read_check_log(path) -> dict[str, tuple[str, str]]:
    """``{check: (status, message)}`` from a log :func:`record_check` wrote; the last wins.

    Lines that are not such records (a notebook may write anything there) are skipped.
    """
    results: dict[str, tuple[str, str]] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return results
    for line in lines:
        try:
            record = json.loads(line)
            check, status, message = record["check"], record["status"], record["message"]
        except (ValueError, TypeError, KeyError):
            continue
        if status in CHECK_STATUSES and isinstance(check, str) and isinstance(message, str):
            results[check] = (status, message)
    return results


# --------------------------------------------------------------------------- the course


@dataclasses.dataclass(frozen=True)
class CourseNotebook:
    """A source notebook and its exercises (:class:`nstlab.classroom.exercises.Exercise`), in order."""

    name: str
    exercises: tuple[Exercise, ...]

    @property
    def checks(self) -> frozenset[str]:
        return frozenset(exercise.check for exercise in self.exercises)


def load_course(notebooks_dir="notebooks") -> list[CourseNotebook]:
    """The source notebooks in ``notebooks_dir`` that have exercises."""
    import nbformat

    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise GradeError(f"source notebooks folder '{folder}' not found (see --notebooks)")
    course = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            exercises = find_exercises(nbformat.read(path, as_version=4))
        except (ExerciseFormatError, ValueError, OSError) as error:
            raise GradeError(f"source notebook {path}: {_one_line(error)}") from None
        if exercises:
            course.append(CourseNotebook(path.name, tuple(exercises)))
    if not course:
        raise GradeError(f"no source notebooks with exercises in '{folder}' (see --notebooks)")
    return course


def _match(course: list[CourseNotebook], file_name: str, notebook) -> CourseNotebook | None:
    """The course notebook a submission is: the one whose checks it calls, else by name."""
    if notebook is not None:
        code = "\n".join(cell.get("source", "") for cell in notebook.cells
                         if cell.get("cell_type") == "code")
        calls = set(CHECK_CALL.findall(code))
        best = max(course, key=lambda source: (len(calls & source.checks),
                                               source.name == file_name))
        if calls & best.checks:
            return best
    return next((source for source in course if source.name == file_name), None)


# --------------------------------------------------------------------------- submissions


@dataclasses.dataclass(frozen=True)
class Submission:
    """A file a student handed in, or a student folder without any notebook (``path`` None).

    ``notebook`` is the file's path inside the student's folder (the CSV's ``notebook``);
    ``folder`` is the student's folder, copied as the notebook's working folder (None for a
    file directly in SUBMISSIONS: the file alone is copied).
    """

    student: str
    notebook: str
    path: Path | None
    folder: Path | None


def _hidden(name: str) -> bool:
    return name.startswith((".", "__"))  # .ipynb_checkpoints, .DS_Store, __MACOSX


def find_submissions(submissions) -> list[Submission]:
    """Every student's files in ``submissions``, sorted by student and path."""
    root = Path(submissions)
    found = []
    for entry in sorted(root.iterdir(), key=lambda path: path.name):
        if _hidden(entry.name):
            continue
        if entry.is_dir():
            notebooks = sorted(path for path in entry.rglob("*.ipynb") if path.is_file()
                               and not any(_hidden(part)
                                           for part in path.relative_to(entry).parts))
            found += [Submission(entry.name, path.relative_to(entry).as_posix(), path, entry)
                      for path in notebooks]
            if not notebooks:
                found.append(Submission(entry.name, "", None, entry))
        elif entry.is_file():
            student = entry.name.removesuffix(".ipynb") if entry.suffix == ".ipynb" else entry.stem
            found.append(Submission(student, entry.name, entry, None))
    return found


class _NotGradable(Exception):
    """A submitted file that cannot run; the message says why, for the CSV."""


def _read_notebook(path: Path):
    """The notebook at ``path`` (an ``nbformat`` node), or :class:`_NotGradable`."""
    import nbformat

    if path.suffix != ".ipynb":
        raise _NotGradable("not a notebook (.ipynb) file")
    if path.stat().st_size > MAX_NOTEBOOK_MB * 2**20:
        raise _NotGradable(f"not graded: larger than {MAX_NOTEBOOK_MB} MB")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise _NotGradable("not a notebook: the file is not text (UTF-8)") from None
    if not text.strip():
        raise _NotGradable("not a notebook: the file is empty")
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise _NotGradable(f"not a notebook: invalid JSON ({error.msg}, line {error.lineno} "
                           f"column {error.colno})") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise _NotGradable("not a notebook: JSON without notebook cells")
    try:
        return nbformat.reads(text, as_version=4)
    except Exception as error:  # nbformat raises many kinds for odd files
        raise _NotGradable(f"not a notebook: {_one_line(error)}") from None


# --------------------------------------------------------------------------- running


@dataclasses.dataclass(frozen=True)
class _Stop:
    """Why a notebook stopped before its end: the status and message of the checks not run."""

    status: str
    message: str


def _snippet(notebook, index: int | None) -> str:
    if index is None:
        return "before the first cell"
    lines = [line.strip() for line in notebook.cells[index].source.splitlines() if line.strip()]
    first = lines[0] if lines else ""
    return f"cell {index + 1} ({first[:40]}{'...' if len(first) > 40 else ''})"


@dataclasses.dataclass(frozen=True)
class Limits:
    """How long a notebook may run and how much it may write.

    ``timeout`` is seconds for the whole notebook (kernel start not counted), ``disk_mb``
    the largest file it may write, and about the most it may add to its folder. ``quick``
    runs it in quick mode (``NSTLAB_QUICK=1``).
    """

    timeout: float = QUICK_TIMEOUT
    disk_mb: int = DISK_LIMIT_MB
    quick: bool = True


def _kernel_environment(sandbox: Path, log: Path, quick: bool) -> dict[str, str]:
    """The kernel's environment: the grader's, with home and temporary folders in the sandbox.

    Tools that write caches (IPython, matplotlib, fontconfig) write them there. Keras's
    downloaded weights (``KERAS_HOME``) stay where they are, readable (the paintings ship
    inside the package). Strict checks and nbgrader's mode are off: checks print, not raise.
    """
    home, temporary = sandbox / "home", sandbox / "tmp"
    keras_home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    env = dict(os.environ)
    for name in ("NSTLAB_STRICT_CHECKS", "NBGRADER_EXECUTION", "NBGRADER_VALIDATING"):
        env.pop(name, None)
    env.update({
        "HOME": str(home), "TMPDIR": str(temporary), "TEMP": str(temporary),
        "TMP": str(temporary), "IPYTHONDIR": str(home / ".ipython"),
        "MPLCONFIGDIR": str(home / ".config" / "matplotlib"),
        "XDG_CACHE_HOME": str(home / ".cache"), "XDG_CONFIG_HOME": str(home / ".config"),
        "KERAS_HOME": keras_home,
        "NSTLAB_QUICK": "1" if quick else "0", LOG_VARIABLE: str(log),
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


def _disk_usage(folder: Path) -> int:
    """Bytes the files under ``folder`` take on disk (allocated blocks; links not followed)."""
    total = 0
    for parent, folders, files in os.walk(folder):
        for name in folders + files:
            try:
                total += os.lstat(os.path.join(parent, name)).st_blocks * 512
            except (FileNotFoundError, AttributeError):  # gone meanwhile; no st_blocks
                continue
    return total


@functools.cache
def _client_class():
    """nbclient's runner, made to start the kernel in the sandbox and to keep no outputs.

    Defined on first use, so importing :mod:`nstlab.classroom.grade` (which every check does) does
    not import Jupyter.
    """
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient

    class SandboxedKernelManager(AsyncKernelManager):
        """Starts the kernel through ``python -m nstlab.classroom.sandbox`` (:attr:`wrapper`)."""

        wrapper: list[str] = []

        def format_kernel_cmd(self, extra_arguments=None):
            return [*self.wrapper, *super().format_kernel_cmd(extra_arguments)]

    class Client(NotebookClient):
        """Remembers the running cell and the kernel's process group; drops outputs."""

        wrapper: list[str] = []
        cell_index: int | None = None
        kernel_group: int | None = None

        def create_kernel_manager(self):
            manager = super().create_kernel_manager()
            manager.wrapper = self.wrapper
            return manager

        async def async_start_new_kernel(self, **kwargs):
            await super().async_start_new_kernel(**kwargs)
            self.kernel_group = self.km.provisioner.pgid

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            self.cell_index = cell_index
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

        def output(self, outs, msg, display_id, cell_index):
            return None  # a notebook printing forever must not fill the grader's memory

        def kill_kernel(self) -> None:
            """SIGKILL the kernel and every process in its process group."""
            if self.kernel_group:
                try:
                    os.killpg(self.kernel_group, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass

    Client.kernel_manager_class = SandboxedKernelManager
    return Client


def _quiet_log() -> logging.Logger:
    """A logger for nbclient that keeps its timeout and dead-kernel messages off the screen."""
    log = logging.getLogger("nstlab.classroom.grade.nbclient")
    log.addHandler(logging.NullHandler())
    log.propagate = False
    return log


def _copy_submission(submission: Submission, work: Path) -> Path:
    """Copy the student's folder (or the lone file) to ``work``; returns the notebook's folder."""
    if submission.folder is None:
        work.mkdir()
        shutil.copy2(submission.path, work / submission.path.name)
        return work
    shutil.copytree(submission.folder, work, symlinks=True)  # a link stays a link
    return (work / submission.notebook).parent


def _run(notebook, submission: Submission, limits: Limits) -> tuple[dict, _Stop | None]:
    """Run ``notebook`` in a sandbox; returns the check log and why it stopped early, if so.

    The kernel runs in a thread of its own, so this one can watch the folder's size and
    still get Ctrl-C (which kills the kernel and lets the interrupt through).
    """
    import asyncio

    from nstlab.classroom import sandbox as sandbox_module

    for cell in notebook.cells:
        if cell.get("cell_type") == "code":
            cell.outputs = []
    with tempfile.TemporaryDirectory(prefix="nstlab-grade-", ignore_cleanup_errors=True) as name:
        sandbox = Path(name).resolve()
        cwd = _copy_submission(submission, sandbox / "work")
        for folder in (sandbox / "home", sandbox / "tmp"):
            folder.mkdir()
        log = sandbox / "checks.jsonl"
        deadline: list[float] = []

        def seconds_left(cell) -> float:  # the limit is for the whole notebook
            if not deadline:
                deadline.append(time.monotonic() + limits.timeout)
            return max(0.01, deadline[0] - time.monotonic())

        client = _client_class()(
            notebook, kernel_name=KERNEL, timeout=limits.timeout, timeout_func=seconds_left,
            startup_timeout=120, allow_errors=False, shutdown_kernel="immediate",
            record_timing=False, iopub_timeout=10, raise_on_iopub_timeout=False,
            log=_quiet_log())
        client.wrapper = sandbox_module.command([sandbox], limits.disk_mb * 2**20)
        outcome: list[BaseException] = []

        def execute() -> None:
            try:
                with open(sandbox / "kernel.log", "wb") as kernel_output:
                    asyncio.run(client.async_execute(
                        cwd=str(cwd), env=_kernel_environment(sandbox, log, limits.quick),
                        stdout=kernel_output, stderr=kernel_output))
            except BaseException as error:  # any end (asyncio's too), for the waiting thread
                outcome.append(error)

        # A single file fails at the limit (the clearer message) before the folder is stopped.
        most = _disk_usage(sandbox) + int(1.1 * limits.disk_mb * 2**20)
        worker = threading.Thread(target=execute, name="nstlab-grade-kernel", daemon=True)
        too_big = False
        worker.start()
        try:
            while worker.is_alive():
                worker.join(_POLL_SECONDS)
                if not too_big and _disk_usage(sandbox) > most:
                    too_big = True
                    client.kill_kernel()
        finally:  # also on Ctrl-C: no kernel, nor anything it started, outlives grading
            client.kill_kernel()
            worker.join(30)
        results = read_check_log(log)
        kernel_said = _last_line(sandbox / "kernel.log")
    if not outcome:
        return results, None
    return results, _why_stopped(outcome[0], _snippet(notebook, client.cell_index),
                                 too_big, limits, kernel_said)


def _why_stopped(error: BaseException, where: str, too_big: bool, limits: Limits,
                 kernel_said: str) -> _Stop:
    """The status and message for the checks a notebook did not reach."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    if too_big:
        return _Stop("crashed", f"not reached: the notebook was stopped in {where} for "
                                f"writing more than {limits.disk_mb} MB")
    if isinstance(error, CellTimeoutError):
        return _Stop("timeout", f"not reached: the notebook was stopped at the time limit "
                                f"({limits.timeout:g} s) in {where}")
    if isinstance(error, CellExecutionError):
        return _Stop("crashed", f"not reached: {where} raised {error.ename}: "
                                f"{_one_line(error.evalue)}")
    if isinstance(error, DeadKernelError):
        return _Stop("crashed", f"not reached: the kernel died in {where} (out of memory, or "
                                "the code ended Python)")
    detail = f"; it said: {kernel_said}" if kernel_said else ""
    return _Stop("crashed", f"not reached: the kernel did not run the notebook "
                            f"({_one_line(error)}){detail}")


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1].strip() if lines else ""


def _one_line(error) -> str:
    return one_line(error, limit=_MESSAGE_CHARS)


def _rows(submission: Submission, source: CourseNotebook, results: dict,
          stop: _Stop | None) -> list[Row]:
    rows = []
    for exercise in source.exercises:
        if exercise.check in results:
            status, message = results[exercise.check]
        elif stop is not None:
            status, message = stop.status, stop.message
        else:
            status = "not_done"
            message = (f"the check did not run: the cell calling nstlab.classroom.checks."
                       f"{exercise.check}() is missing")
        rows.append(Row(submission.student, submission.notebook, exercise.name, status,
                        _one_line(message)))
    return rows


def grade_submission(submission: Submission, course: list[CourseNotebook],
                     limits: Limits | None = None) -> list[Row]:
    """The rows of one submitted file: its exercises, or one row saying why it cannot run."""
    limits = limits or Limits()

    def whole_file(message: str) -> list[Row]:
        return [Row(submission.student, submission.notebook, "", "not_done", message)]

    if submission.path is None:
        empty = not any(submission.folder.iterdir())
        return whole_file("the folder is empty" if empty else
                          "no notebook (.ipynb) in this folder")
    file_name = submission.path.name
    try:
        notebook = _read_notebook(submission.path)
    except _NotGradable as problem:
        source = _match(course, file_name, None)
        if source is None:
            return whole_file(str(problem))
        return _rows(submission, source, {}, _Stop("not_done", str(problem)))
    source = _match(course, file_name, notebook)
    if source is None:
        return whole_file("not a notebook of this course: it calls none of its checks and "
                          "has none of its notebooks' names")
    results, stop = _run(notebook, submission, limits)
    return _rows(submission, source, results, stop)


def check_inputs(submissions, notebooks, limits: Limits) -> list[CourseNotebook]:
    """Raise :class:`GradeError` unless grading can start; returns the course."""
    root = Path(submissions)
    if not root.is_dir():
        raise GradeError(f"submissions folder '{root}' not found")
    temporary = Path(tempfile.gettempdir()).resolve()
    if temporary.is_relative_to(root.resolve()):
        raise GradeError(f"the temporary folder {temporary} is inside the submissions folder; "
                         "set TMPDIR to a folder elsewhere")
    if limits.timeout <= 0 or limits.disk_mb <= 0:
        raise GradeError("the time and disk limits must be positive")
    try:
        import nbclient  # noqa: F401
    except ImportError:
        raise GradeError('grading runs notebooks with nbclient: pip install "nstlab[teach]"'
                         ) from None
    return load_course(notebooks)


def grade(submissions, notebooks="notebooks", *, limits: Limits | None = None,
          progress: Callable[[str], None] | None = None) -> list[Row]:
    """Run every notebook in ``submissions`` and return the grades, one :class:`Row` each.

    Parameters
    ----------
    submissions : folder
        One sub-folder per student, or notebooks directly in it (module docstring).
    notebooks : folder
        The course's source notebooks, with solutions: where the exercises come from.
    limits : Limits
        Time limit per notebook, disk limit, quick mode.
    progress : callable, optional
        Called with one line of text after each file (the command prints it).

    Raises
    ------
    GradeError
        For a missing folder or a course without exercises, before anything runs.
    KeyboardInterrupt
        On Ctrl-C, after stopping the running kernel.
    """
    limits = limits or Limits()
    course = check_inputs(submissions, notebooks, limits)
    rows: list[Row] = []
    for submission in find_submissions(submissions):
        started = time.monotonic()
        found = grade_submission(submission, course, limits)
        rows += found
        if progress is not None:
            counts = Counter(row.status for row in found if row.exercise)
            what = ", ".join(f"{counts[status]} {status}" for status in STATUSES
                             if counts[status]) or found[0].message
            progress(f"{submission.student}: {submission.notebook or '(no notebook)'}: {what} "
                     f"({time.monotonic() - started:.0f} s)")
    return rows


# --------------------------------------------------------------------------- output


def csv_text(rows: Iterable[Row]) -> str:
    """The grades as CSV text: a header with :data:`COLUMNS`, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(dataclasses.astuple(row))
    return buffer.getvalue()


def write_csv(rows: Iterable[Row], path) -> Path:
    """Write the grades to ``path`` (UTF-8), all at once: a failed write leaves no half file."""
    from nstlab.base.files import write_atomically

    return write_atomically(path, csv_text(rows).encode("utf-8"))


def summary(rows: list[Row], seconds: float | None = None) -> str:
    """A few lines for the screen: counts per status, then each student's score."""
    graded = [row for row in rows if row.exercise]
    counts = Counter(row.status for row in graded)
    students = sorted({row.student for row in rows})
    notebooks = {(row.student, row.notebook) for row in rows}
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    lines = [f"{len(students)} students, {len(notebooks)} files, {len(graded)} exercises"
             f"{took}: " + ", ".join(f"{counts[status]} {status}" for status in STATUSES)]
    width = max((len(student) for student in students), default=0)
    for student in students:
        own = [row for row in graded if row.student == student]
        own_counts = Counter(row.status for row in own)
        others = ", ".join(f"{own_counts[status]} {status}" for status in STATUSES[1:]
                           if own_counts[status])
        files = [row for row in rows if row.student == student and not row.exercise]
        notes = [others] if others else []
        notes += [f"{row.notebook or 'folder'}: {row.message}" for row in files]
        score = f"{own_counts['correct']}/{len(own)} correct" if own else "nothing graded"
        lines.append(f"  {student:<{width}}  {score}"
                     + (f" ({'; '.join(notes)})" if notes else ""))
    return "\n".join(lines)


# --------------------------------------------------------------------------- the command


def add_command(subparsers) -> argparse.ArgumentParser:
    """Add ``grade`` to the ``nstlab`` command's sub-commands; returns its parser."""
    from nstlab.base.validators import parse_number

    parser = subparsers.add_parser(
        "grade", help="run submitted notebooks and write one CSV row per exercise",
        description="Run each submitted notebook in a fresh kernel, in a temporary copy of "
                    "the student's folder, with a time limit, and write one row per student, "
                    "notebook and exercise: student, notebook, exercise, status (correct, "
                    "wrong, not_done, crashed, timeout) and message.")
    parser.add_argument("submissions", metavar="SUBMISSIONS",
                        help="one folder per student, or notebooks (STUDENT.ipynb) directly")
    parser.add_argument("-o", "--output", required=True, metavar="GRADES.csv",
                        help="where to write the grades (outside SUBMISSIONS)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT if it exists (default: refuse)")
    parser.add_argument("--notebooks", default="notebooks", metavar="DIR",
                        help="the course's source notebooks, with solutions (default ./notebooks)")
    parser.add_argument("--timeout", type=parse_number("float"), default=None, metavar="SECONDS",
                        help=f"time limit per notebook (default {QUICK_TIMEOUT:g}, with --full "
                             f"{FULL_TIMEOUT:g})")
    parser.add_argument("--disk-limit", type=parse_number("int"), default=DISK_LIMIT_MB,
                        metavar="MB", help="most a notebook may write (default %(default)s)")
    parser.add_argument("--full", action="store_true",
                        help="run the notebooks in full mode (default: quick mode, small images)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.set_defaults(handler=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``nstlab grade`` with parsed ``args``; returns the exit code.

    0 when grading ran (whatever the students' answers), 1 when the grades could not be
    written (they are printed instead), 2 for bad usage, 130 on Ctrl-C. Errors are one line.
    """
    from nstlab.base.validators import OptionError, check_output_path
    from nstlab.classroom import sandbox

    timeout = args.timeout if args.timeout is not None else (
        FULL_TIMEOUT if args.full else QUICK_TIMEOUT)
    limits = Limits(timeout=timeout, disk_mb=args.disk_limit, quick=not args.full)
    output = Path(args.output)
    try:
        check_output_path(output, overwrite=args.overwrite)
        if Path(args.submissions).is_dir() and output.resolve().is_relative_to(
                Path(args.submissions).resolve()):
            raise GradeError("write the grades outside SUBMISSIONS: a file there would be "
                             "graded as a student's next time")
        check_inputs(args.submissions, args.notebooks, limits)
        if not args.quiet:
            abi = sandbox.landlock_abi()
            if abi:
                print(f"each notebook may write only in its temporary folder (Landlock ABI "
                      f"{abi}), up to {limits.disk_mb} MB, for {limits.timeout:g} s")
        if not sandbox.landlock_abi():
            print("nstlab: warning: this system cannot keep a notebook from writing outside "
                  "its folder (no Landlock): grade only notebooks you trust, or grade in a "
                  "container", file=sys.stderr)
        started = time.monotonic()
        rows = grade(args.submissions, args.notebooks, limits=limits,
                     progress=None if args.quiet else print)
    except (GradeError, OptionError) as problem:
        return fail(_one_line(problem), EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted: no grades written", EXIT_SIGINT)
    print(summary(rows, time.monotonic() - started))
    try:
        write_csv(rows, output)
    except OSError as problem:
        print(csv_text(rows), end="")
        return fail(f"cannot write '{output}': {problem.strerror or problem}; the grades are "
                     "printed above", EXIT_FAILED)
    print(f"wrote {output}")
    return EXIT_OK
