"""``nstlab grade``: the command line of grading (argparse, the exit codes, the screen).

::

    nstlab grade SUBMISSIONS -o grades.csv [--jobs 2]

Exit codes: 0 when grading ran (whatever the students' answers), 1 when the grades could
not be written (they are printed instead), 2 for bad usage or no sandbox, 130 on Ctrl-C.
Errors are one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, EXIT_SIGINT, EXIT_USAGE, fail, one_line

#: Seconds per notebook: quick mode runs a course notebook in about a minute on 2 cores.
QUICK_TIMEOUT, FULL_TIMEOUT = 300.0, 1800.0


def add_command(subparsers) -> argparse.ArgumentParser:
    """Add ``grade`` to the ``nstlab`` command's sub-commands; returns its parser."""
    from nstlab.base.validators import parse_number
    from nstlab.classroom.grading.sandbox import Limits

    defaults = Limits()
    parser = subparsers.add_parser(
        "grade", help="run submitted notebooks in a sandbox, one CSV row per exercise",
        description="Run each submitted notebook in a bubblewrap sandbox of its own (no "
                    "network, nothing of yours visible, limited time, memory, disk and "
                    "processes), judge each exercise from outside by calling the student's "
                    "functions on fresh inputs, and write one row per student, notebook and "
                    "exercise: student, notebook, exercise, status (correct, wrong, not_done, "
                    "crashed, timeout, ungraded) and message.")
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
    parser.add_argument("--disk-limit", type=parse_number("int"), default=defaults.disk_mb,
                        metavar="MB", help="most a notebook may write (default %(default)s)")
    parser.add_argument("--memory-limit", type=parse_number("int"), default=defaults.memory_mb,
                        metavar="MB", help="address space of a notebook (default %(default)s)")
    parser.add_argument("--jobs", type=parse_number("int"), default=1, metavar="N",
                        help="grade N notebooks at once (default 1; about one per 2 cores)")
    parser.add_argument("--full", action="store_true",
                        help="run the notebooks in full mode (default: quick mode, small images)")
    parser.add_argument("--trusted", action="store_true",
                        help="where no sandbox can be built (macOS, Windows, no user "
                             "namespaces): run the notebooks without one. Only for notebooks "
                             "you trust: they can then read and change all your files")
    parser.add_argument("--quiet", action="store_true", help="print only the summary")
    parser.set_defaults(handler=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``nstlab grade`` with parsed ``args``; returns the exit code (module docstring)."""
    from nstlab.base.validators import OptionError, check_output_path
    from nstlab.classroom.grading.course import GradeError
    from nstlab.classroom.grading.grade import check_inputs, grade
    from nstlab.classroom.grading.report import csv_text, printable, summary, write_csv
    from nstlab.classroom.grading.sandbox import Limits, unavailable

    timeout = args.timeout if args.timeout is not None else (
        FULL_TIMEOUT if args.full else QUICK_TIMEOUT)
    limits = Limits(timeout=timeout, disk_mb=args.disk_limit, memory_mb=args.memory_limit,
                    quick=not args.full)
    output = Path(args.output)
    try:
        if args.jobs < 1:
            raise GradeError("--jobs must be at least 1")
        check_output_path(output, overwrite=args.overwrite)
        if Path(args.submissions).is_dir() and output.resolve().is_relative_to(
                Path(args.submissions).resolve()):
            raise GradeError("write the grades outside SUBMISSIONS: a file there would be "
                             "graded as a student's next time")
        check_inputs(args.submissions, args.notebooks, limits, args.trusted)
        if args.trusted and unavailable():
            print("nstlab: warning: --trusted: the notebooks run without a sandbox and can "
                  "read and change your files", file=sys.stderr)
        elif not args.quiet:
            print(f"each notebook runs in a sandbox of its own: {limits.timeout:g} s, "
                  f"{limits.disk_mb} MB of disk, {limits.memory_mb} MB of memory, "
                  f"{limits.processes} processes, no network; {args.jobs} at once")
        started = time.monotonic()
        rows = grade(args.submissions, args.notebooks, limits=limits, jobs=args.jobs,
                     trusted=args.trusted and bool(unavailable()),
                     progress=None if args.quiet else print)
    except (GradeError, OptionError) as problem:
        return fail(one_line(problem, limit=500), EXIT_USAGE)
    except KeyboardInterrupt:
        return fail("interrupted: no grades written", EXIT_SIGINT)
    print(summary(rows, time.monotonic() - started))  # every field is printable already
    try:
        write_csv(rows, output)
    except OSError as problem:
        print(csv_text(rows), end="")
        return fail(f"cannot write '{output}': {problem.strerror or problem}; the grades are "
                     "printed above", EXIT_FAILED)
    print(f"wrote {printable(str(output))}")
    return EXIT_OK
