"""The grades as a teacher reads them: rows, the CSV file, and the lines on the screen.

Everything in a row came, one way or another, from a student: a file name, a function's
name, an error message. So it is made harmless on the way out:

* :func:`printable` turns every control character (newlines, the escape character that
  starts terminal sequences, ...) into a visible escape, so a name cannot forge a
  progress line or recolour the terminal; it is applied to every field of a row;
* :func:`csv_cell` puts an apostrophe before a cell that starts with ``=``, ``+``, ``-``,
  ``@`` (or a tab or carriage return), so a spreadsheet shows ``=HYPERLINK(...)`` as
  text instead of running it; with no newline left in any field, each row is one line.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import unicodedata
from collections import Counter
from collections.abc import Iterable

#: Every status a row can have. ``ungraded``: the grader cannot judge this exercise
#: outside the student's process (see docs/teaching.md); look at it yourself.
STATUSES = ("correct", "wrong", "not_done", "crashed", "timeout", "ungraded")
COLUMNS = ("student", "notebook", "exercise", "status", "message")
MESSAGE_CHARS = 500
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def printable(text: str, limit: int | None = None) -> str:
    """``text`` with every control or invisible-format character escaped (``\\n``, ``\\x1b``).

    Cut to ``limit`` characters (with "...") when given.
    """
    out = []
    for char in str(text):
        if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            out.append(char.encode("unicode_escape").decode("ascii")
                       if char.isascii() or ord(char) < 0x10000 else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    result = "".join(out)
    if limit is not None and len(result) > limit:
        result = result[:limit - 3] + "..."
    return result


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the grades: one exercise of one notebook of one student.

    ``exercise`` is empty on a row about a whole entry (not a notebook, a link, a
    duplicate); ``message`` says why. Fields are made :func:`printable` on creation.
    """

    student: str
    notebook: str
    exercise: str
    status: str
    message: str

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        for field in ("student", "notebook", "exercise"):
            object.__setattr__(self, field, printable(getattr(self, field), 200))
        object.__setattr__(self, "message", printable(" ".join(self.message.split()),
                                                      MESSAGE_CHARS))


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: formulas lose their power (module docstring)."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_text(rows: Iterable[Row]) -> str:
    """The grades as CSV text: a header with :data:`COLUMNS`, then one line per row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_cell(value) for value in dataclasses.astuple(row)])
    return buffer.getvalue()


def write_csv(rows: Iterable[Row], path):
    """Write the grades to ``path`` (UTF-8), all at once: a failed write leaves no half file."""
    from nstlab.base.files import write_atomically

    return write_atomically(path, csv_text(rows).encode("utf-8"))


def counts(rows: Iterable[Row]) -> str:
    """``"2 correct, 1 wrong"``: the statuses of the exercise rows among ``rows``."""
    found = Counter(row.status for row in rows if row.exercise)
    return ", ".join(f"{found[status]} {status}" for status in STATUSES if found[status])


def progress_line(rows: list[Row], seconds: float) -> str:
    """The line printed when one notebook is graded."""
    first = rows[0]
    what = counts(rows) or first.message
    return f"{first.student}: {first.notebook or '(no notebook)'}: {what} ({seconds:.0f} s)"


def summary(rows: list[Row], seconds: float | None = None) -> str:
    """A few lines for the screen: counts per status, then each student's score."""
    graded = [row for row in rows if row.exercise]
    total = Counter(row.status for row in graded)
    students = sorted({row.student for row in rows})
    notebooks = {(row.student, row.notebook) for row in rows}
    took = f" in {seconds:.0f} s" if seconds is not None else ""
    lines = [f"{len(students)} students, {len(notebooks)} files, {len(graded)} exercises"
             f"{took}: " + ", ".join(f"{total[status]} {status}" for status in STATUSES
                                     if status != "ungraded" or total[status])]
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
