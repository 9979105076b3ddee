"""Finding what students handed in, without trusting any of it.

``SUBMISSIONS`` holds one folder per student (the notebooks anywhere inside it), or
notebook files directly (``alice.ipynb``: the student is ``alice``). :func:`find_submissions`
returns one :class:`Submission` for every entry, whatever it is, so every entry gets a
row in the grades:

* a symbolic link is never followed (it could point at the teacher's solved notebook or
  outside the folder); its row says so, and so does a dangling one;
* FIFOs, sockets and devices are not read (reading a FIFO would wait forever);
* names that are not UTF-8 are kept, escaped, rather than crashing the grader;
* two entries for the same student (``Alice/`` and ``alice.ipynb``) are both graded and
  both flagged (:attr:`Submission.duplicate_of`).

:func:`read_notebook` reads a notebook with ``O_NOFOLLOW`` and a size cap, and checks its
JSON shape itself (cells with text sources), so a crafted file gives a message, not a
traceback. :func:`stage` copies a student's folder for the sandbox: regular files only,
within a size cap, so a sparse file or a link cannot grow on the way.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path

from nstlab.classroom.grading.report import printable

#: A larger "notebook" is not read (a notebook with many images is a few MB).
MAX_NOTEBOOK_MB = 100
#: Folders and files skipped inside a student's folder.
_HIDDEN = (".", "__")  # .ipynb_checkpoints, .DS_Store, __MACOSX
_WALK_LIMIT = 20_000  # entries looked at in one student's folder


class NotGradable(Exception):
    """A submitted file that cannot run; the message says why, for the grades."""


@dataclasses.dataclass(frozen=True)
class Submission:
    """One entry of SUBMISSIONS: a notebook to grade, or a reason it cannot be.

    ``notebook`` is the file's path inside the student's folder (the CSV's ``notebook``);
    ``folder`` is the student's folder, staged as the notebook's working folder (None for
    a file directly in SUBMISSIONS). ``problem`` is set when nothing can run (a link, an
    empty folder); ``duplicate_of`` names the other entries of the same student.
    """

    student: str
    notebook: str
    path: Path | None
    folder: Path | None
    problem: str = ""
    duplicate_of: tuple[str, ...] = ()


def _name(raw: str) -> str:
    """A file name as text: names that are not UTF-8 come back escaped, never raising."""
    return printable(os.fsencode(raw).decode("utf-8", errors="backslashreplace"))


def _student_of(entry_name: str) -> str:
    return _name(entry_name.removesuffix(".ipynb") if entry_name.endswith(".ipynb")
                 else Path(entry_name).stem)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device or special file"


def _notebooks_in(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """The notebook files under ``folder`` (links not followed) and the skipped ones."""
    found, skipped, seen = [], [], 0
    for parent, folders, files in os.walk(folder, followlinks=False):
        folders[:] = sorted(name for name in folders if not name.startswith(_HIDDEN))
        for name in sorted(files):
            seen += 1
            if seen > _WALK_LIMIT or name.startswith(_HIDDEN) or not name.endswith(".ipynb"):
                continue
            path = Path(parent, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                found.append(path)
            else:
                skipped.append((path, _kind(mode)))
        for name in folders:
            if os.path.islink(os.path.join(parent, name)) and name.endswith(".ipynb"):
                skipped.append((Path(parent, name), "a symbolic link"))
    return found, skipped


def find_submissions(submissions) -> list[Submission]:
    """Every entry of ``submissions``, sorted by student and path (module docstring)."""
    root = Path(submissions)
    found: list[Submission] = []
    for entry in sorted(os.scandir(root), key=lambda item: os.fsencode(item.name)):
        if entry.name.startswith(_HIDDEN):
            continue
        path = Path(entry.path)
        mode = entry.stat(follow_symlinks=False).st_mode
        student = _student_of(entry.name)
        shown = _name(entry.name)
        if stat.S_ISDIR(mode):
            notebooks, skipped = _notebooks_in(path)
            found += [Submission(student, _name(nb.relative_to(path).as_posix()), nb, path)
                      for nb in notebooks]
            found += [Submission(student, _name(nb.relative_to(path).as_posix()), None, path,
                                 f"not graded: {kind}, which the grader does not follow")
                      for nb, kind in skipped]
            if not notebooks and not skipped:
                empty = not any(os.scandir(path))
                found.append(Submission(student, "", None, path,
                                        "the folder is empty" if empty else
                                        "no notebook (.ipynb) in this folder"))
        elif stat.S_ISREG(mode):
            found.append(Submission(student, shown, path, None))
        else:
            what = _kind(mode)
            if stat.S_ISLNK(mode):
                target = os.readlink(path)
                dangling = not os.path.exists(path)
                what += f" to {_name(target)}" + (", which does not exist" if dangling else "")
            found.append(Submission(student, shown, None, None,
                                    f"not graded: {what}; the grader does not follow links "
                                    "or read special files"))
    return _flag_duplicates(found)


def _flag_duplicates(found: list[Submission]) -> list[Submission]:
    """Mark entries whose students differ only in case or are handed in twice."""
    entries: dict[str, set[str]] = {}
    for submission in found:
        entry = submission.student if submission.folder else submission.notebook
        entries.setdefault(submission.student.casefold(), set()).add(
            submission.student if submission.folder else entry)
    flagged = []
    for submission in found:
        others = entries[submission.student.casefold()]
        mine = submission.student if submission.folder else submission.notebook
        if len(others) > 1:
            submission = dataclasses.replace(
                submission, duplicate_of=tuple(sorted(others - {mine})))
        flagged.append(submission)
    return flagged


# --------------------------------------------------------------------------- reading


def read_bytes(path: Path, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file, never through a link or from a FIFO, at most ``limit``.

    Raises :class:`NotGradable` with the reason otherwise.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as error:
        raise NotGradable(f"cannot read the {what}: {error.strerror or error}") from None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise NotGradable(f"not graded: the {what} is {_kind(info.st_mode)}")
        if info.st_size > limit:
            raise NotGradable(f"not graded: larger than {limit // 2**20} MB")
        chunks, total = [], 0
        while chunk := os.read(descriptor, 2**20):
            total += len(chunk)
            if total > limit:
                raise NotGradable(f"not graded: larger than {limit // 2**20} MB")
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as error:
        raise NotGradable(f"cannot read the {what}: {error.strerror or error}") from None
    finally:
        os.close(descriptor)


def last_line(path: Path, tail: int = 4096) -> str:
    """The last non-empty line of a log, from its last ``tail`` bytes only; "" if none."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return ""
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            return ""
        os.lseek(descriptor, max(0, info.st_size - tail), os.SEEK_SET)
        text = os.read(descriptor, tail).decode("utf-8", errors="replace")
    except OSError:
        return ""
    finally:
        os.close(descriptor)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return printable(lines[-1], 300) if lines else ""


@dataclasses.dataclass(frozen=True)
class Cell:
    """A cell of a submitted notebook: its kind and its source text."""

    kind: str
    source: str


def parse_notebook(data: bytes) -> list[Cell]:
    """The cells of a notebook file's bytes; :class:`NotGradable` says what is wrong."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise NotGradable("not a notebook: the file is not text (UTF-8)") from None
    if not text.strip():
        raise NotGradable("not a notebook: the file is empty")
    try:
        content = json.loads(text)
    except json.JSONDecodeError as error:
        raise NotGradable(f"not a notebook: invalid JSON ({error.msg}, line {error.lineno} "
                          f"column {error.colno})") from None
    except RecursionError:
        raise NotGradable("not a notebook: JSON nested too deeply") from None
    if not isinstance(content, dict) or not isinstance(content.get("cells"), list):
        raise NotGradable("not a notebook: JSON without notebook cells")
    cells = []
    for number, cell in enumerate(content["cells"], start=1):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise NotGradable(f"not a notebook: cell {number} is not a notebook cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotGradable(f"not a notebook: the source of cell {number} is not text")
        cells.append(Cell(cell["cell_type"], source))
    return cells


def read_notebook(path: Path) -> list[Cell]:
    """The cells of the notebook at ``path``, or :class:`NotGradable` (module docstring)."""
    if not path.name.endswith(".ipynb"):
        raise NotGradable("not a notebook (.ipynb) file")
    return parse_notebook(read_bytes(path, MAX_NOTEBOOK_MB * 2**20, "notebook"))


# --------------------------------------------------------------------------- staging


def stage(submission: Submission, target: Path, limit: int) -> list[str]:
    """Copy what the notebook may use into ``target``; returns what was left out.

    The student's folder (or the lone file) is copied file by file: regular files only,
    read with :func:`read_bytes` (links, FIFOs and devices are skipped), at most ``limit``
    bytes in all. Raises :class:`NotGradable` when the folder holds more than that.
    """
    target.mkdir()
    left_out: list[str] = []
    if submission.folder is None:
        (target / submission.path.name).write_bytes(
            read_bytes(submission.path, limit, "notebook"))
        return left_out
    total = 0
    for parent, folders, files in os.walk(submission.folder, followlinks=False):
        relative = Path(parent).relative_to(submission.folder)
        kept = []
        for name in folders:
            if os.path.islink(os.path.join(parent, name)):
                left_out.append(_name((relative / name).as_posix()))
            else:
                kept.append(name)
                (target / relative / name).mkdir()
        folders[:] = kept
        for name in files:
            source = Path(parent, name)
            try:
                data = read_bytes(source, limit - total)
            except NotGradable as problem:
                if "larger than" in str(problem):
                    raise NotGradable(f"not graded: the folder holds more than "
                                      f"{limit // 2**20} MB") from None
                left_out.append(_name((relative / name).as_posix()))
                continue
            total += len(data)
            (target / relative / name).write_bytes(data)
    return left_out
