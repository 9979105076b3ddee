"""``nstlab exercises OUT_DIR``: write the students' copies of the notebooks.

One copy of every notebook, with the solutions removed and the outputs cleared
(:func:`nstlab.classroom.exercises.make_student_copies`).
"""

from __future__ import annotations

from nstlab.base.messages import EXIT_OK
from nstlab.cli.parsing import UsageError


def add_command(subparsers) -> None:
    """Add ``exercises`` and its handler (:func:`run`) to the command's sub-commands."""
    parser = subparsers.add_parser(
        "exercises", help="write student copies of the notebooks (solutions removed)")
    parser.add_argument("out_dir", help="folder for the student notebooks")
    parser.add_argument("--notebooks", default="notebooks",
                        help="folder of the source notebooks (default ./notebooks)")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Write the copies; returns the exit code (2 when the notebooks cannot be read)."""
    from nstlab.classroom.exercises import ExerciseFormatError, make_student_copies

    try:
        written = make_student_copies(args.out_dir, args.notebooks)
    except (FileNotFoundError, ExerciseFormatError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} student notebooks to {args.out_dir}")
    return EXIT_OK
