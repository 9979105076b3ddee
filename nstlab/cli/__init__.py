"""Layer 8, cli: the ``nstlab`` command (also ``python -m nstlab``), one dispatch.
Import rule: may import every layer; nothing in nstlab imports it.

The ``nstlab`` command (also ``python -m nstlab``).

Every option and input is checked before TensorFlow starts (:mod:`nstlab.run.options`), so
``--help`` and a mistake cost a fraction of a second, not a minute. Errors are one line on
stderr (``--debug`` shows the traceback and TensorFlow's own log lines). Exit codes: 0
done, 1 the run failed (the last good image is kept), 2 bad usage or input, 130 stopped
by Ctrl-C, 143 stopped by SIGTERM; on 130/143 the image so far is saved and its path
printed. When the result cannot be written where asked (a full disk), it is written to the
system's temporary folder instead and the command says where, with exit code 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import warnings
from pathlib import Path

from nstlab.base import validators
from nstlab.base.messages import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_SIGINT,
    EXIT_USAGE,
    fail,
    sigterm_as_interrupt,
    warn,
)
from nstlab.batch import command as batch_command
from nstlab.classroom import book
from nstlab.classroom.grading import command as grading
from nstlab.fast import command as fast_commands
from nstlab.run import options

EXAMPLES = """\
examples:
  nstlab demo -o out.png
      stylize a sample photo with a style the package paints itself (offline, ~1 minute)
  nstlab stylize photo.jpg starry_night.jpg -o out.png --size 512
  nstlab stylize photo.jpg a.jpg b.jpg --style-blend-weights 0.7 0.3 -o mix.png
  nstlab stylize photo.jpg style.jpg -o out.png --optimizer adam --steps 500 --save-every 100
  nstlab stylize photo.jpg style.jpg -o out.png --checkpoint run1/     (Ctrl-C, then:)
  nstlab stylize photo.jpg style.jpg -o out.png --resume run1/
  nstlab exercises student/        write exercise copies of the notebooks
  nstlab grade submissions/ -o grades.csv    run each student's notebooks, one row per exercise
  nstlab batch jobs.json -o results/ [--engine ray]   many runs, resumable, with a gallery
  nstlab book -o site/ --quick     the course as a website (in a clone of the repository)
  nstlab fast starry_night photo.jpg -o out.png    stylize in one pass with a trained network
"""


class UsageError(Exception):
    """A bad option or input, found before any work starts (exit code 2)."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, with its errors on one line (``nstlab: error: ...``) instead of two."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"nstlab: error: {message} (see {self.prog} --help)\n")


def _positive_int(text: str) -> int:
    value = validators.parse_number("int")(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _add_command_options(parser: argparse.ArgumentParser) -> None:
    """The flags about the command's own files and output (not options of the run)."""
    group = parser.add_argument_group("output")
    group.add_argument("-o", "--output", required=True, help="where to write the image")
    group.add_argument("--overwrite", action="store_true",
                       help="replace OUTPUT (and --history) if it exists (default: refuse)")
    group.add_argument("--history", default=None, metavar="FILE.json",
                       help="write the per-step, per-layer losses and the settings as JSON")
    group.add_argument("--save-every", type=_positive_int, default=None, metavar="N",
                       help="also save numbered intermediates (OUT_0050.png ...) every N steps")
    group.add_argument("--quiet", action="store_true", help="no progress bar")
    group.add_argument("--debug", action="store_true",
                       help="show tracebacks and TensorFlow's own log lines")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nstlab`` command (imports no TensorFlow)."""
    import nstlab

    parser = OneLineParser(
        prog="nstlab", description="Neural style transfer (Gatys et al.) with TensorFlow.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nstlab {nstlab.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=OneLineParser)

    stylize = commands.add_parser(
        "stylize", help="paint a photo in the style of one or more images",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    stylize.add_argument("content", help="the photo (path or http(s) URL)")
    stylize.add_argument("styles", nargs="+", metavar="style",
                         help="style image(s) (paths or http(s) URLs)")
    _add_command_options(stylize)
    options.add_arguments(stylize)

    demo = commands.add_parser(
        "demo", help="stylize a sample photo offline with a generated style",
        description="Stylize matplotlib's sample photo (Grace Hopper) with a style image that "
                    "nstlab paints itself: needs no network and takes about a minute on 2 "
                    "CPU cores.")
    demo.add_argument("--style", choices=("swirl", "mosaic"), default="swirl")
    _add_command_options(demo)
    options.add_arguments(demo, defaults={"size": 256, "steps": 60})

    exercises = commands.add_parser(
        "exercises", help="write student copies of the notebooks (solutions removed)")
    exercises.add_argument("out_dir", help="folder for the student notebooks")
    exercises.add_argument("--notebooks", default="notebooks",
                           help="folder of the source notebooks (default ./notebooks)")
    grading.add_command(commands)
    batch_command.add_command(commands)
    book.add_command(commands)
    fast_commands.add_commands(commands)
    return parser


def _partial_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.partial{output.suffix}")


def _inputs(args):
    """The content and style images the command was given (paths, or arrays for the demo)."""
    if args.command == "demo":
        from nstlab.imaging import data

        return data.photo_path(), [data.generated_style(args.style, size=args.size,
                                                        seed=args.seed)]
    return args.content, args.styles


def _check_outputs(args) -> Path:
    from nstlab.imaging.images import SAVE_FORMATS

    output = validators.check_output_path(args.output, overwrite=args.overwrite,
                                       suffixes=tuple(SAVE_FORMATS))
    if args.history:
        validators.check_output_path(args.history, overwrite=args.overwrite)
    return output


def _run(args) -> int:
    output = _check_outputs(args)
    run_options = options.from_namespace(args)
    if run_options.resume is not None:
        from nstlab.engine.checkpoint import load_checkpoint

        run_options = run_options.replace(resume=load_checkpoint(run_options.resume))
    content, styles = _inputs(args)
    run_options = run_options.validate(content, styles, flags=True)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=not args.debug)
    from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
    from nstlab.run.transfer import stylize_with

    callbacks = [_intermediate_saver(output, args.save_every)] if args.save_every else []
    with sigterm_as_interrupt() as interruption, warnings.catch_warnings():
        # The command prints its own message about a non-finite loss.
        warnings.filterwarnings("ignore", "the loss became NaN", RuntimeWarning)
        result = stylize_with(run_options, content, styles, progress=not args.quiet,
                              callbacks=callbacks)

    problems = []
    if args.history:
        record = {"settings": result.settings, "stop_reason": result.stop_reason,
                  "history": result.history.to_dict()}
        problems += _write_or_fall_back(Path(args.history),
                                        json.dumps(record, indent=1).encode())
    if result.stop_reason in (STOP_INTERRUPTED, STOP_NON_FINITE):
        partial = _partial_path(output)
        # When the .partial file could not be written, the line above named the fallback.
        kept_in = "the file named above" if _save_or_fall_back(result.image, partial) else partial
        if result.stop_reason == STOP_NON_FINITE:
            print(f"nstlab: the loss became NaN or infinite after {len(result.history)} steps; "
                  f"kept the last finite image in {kept_in}. Try a smaller --style-weight, "
                  "or with --optimizer adam fewer extreme weights.", file=sys.stderr)
            return EXIT_FAILED
        print(f"nstlab: stopped by {interruption.name} after {len(result.history)} steps; "
              f"saved the image so far to {kept_in}", file=sys.stderr)
        return interruption.exit_code
    problems += _save_or_fall_back(result.image, output)
    if problems:
        return EXIT_FAILED
    if not args.quiet:
        print(f"saved {output} ({result.image.shape[1]}x{result.image.shape[0]} px, "
              f"{len(result.history)} steps, final loss {result.history.total[-1]:.4g}, "
              f"{result.settings['precision']})")
    return EXIT_OK


def _intermediate_saver(output: Path, every: int):
    """A callback saving OUT_0050.png ... every ``every`` steps; a failed write only warns."""
    from nstlab.imaging.images import ImageError, save_image

    warned = []

    def save_intermediate(info):
        if info.step % every:
            return
        path = output.with_name(f"{output.stem}_{info.step:04d}{output.suffix}")
        try:
            save_image(info.image, path)
        except ImageError as error:
            if not warned:
                print(f"nstlab: warning: {error}; the run goes on", file=sys.stderr)
            warned.append(path)

    return save_intermediate


def _save_or_fall_back(image, path: Path) -> list[str]:
    """Save the image to ``path``, else to the temporary folder; returns the problems."""
    from nstlab.imaging.images import encode_image

    return _write_or_fall_back(path, encode_image(image, path.suffix))


def _write_or_fall_back(path: Path, data: bytes) -> list[str]:
    """Write ``data`` to ``path``, else to the temporary folder; returns the problems."""
    from nstlab.base.files import write_atomically

    try:
        write_atomically(path, data)
        return []
    except OSError as error:
        return _fall_back(path, f"cannot write '{path}': {error.strerror or error}", data)


def _fall_back(path: Path, problem: str, data: bytes) -> list[str]:
    """Write ``data`` to the system's temporary folder after ``path`` failed; say where."""
    from nstlab.base.files import write_atomically

    name = Path(tempfile.gettempdir()) / f"nstlab-{path.stem}-{os.getpid()}{path.suffix}"
    try:
        write_atomically(name, data)
    except OSError as second:
        print(f"nstlab: error: {problem}; writing it to {name} failed too "
              f"({second.strerror or second}): the result is lost", file=sys.stderr)
    else:
        print(f"nstlab: error: {problem}; wrote it to {name} instead", file=sys.stderr)
    return [problem]


def _exercises(args) -> int:
    from nstlab.classroom.exercises import ExerciseFormatError, make_student_copies

    try:
        written = make_student_copies(args.out_dir, args.notebooks)
    except (FileNotFoundError, ExerciseFormatError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} student notebooks to {args.out_dir}")
    return EXIT_OK


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Warnings (a checkpoint that could not be saved, ...) as one line, not two."""
    warn(message)


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    if args.command == "grade":
        return grading.run_command(args)
    if args.command == "batch":
        return batch_command.run_command(args)
    if args.command == "book":
        return book.run_command(args)
    debug = getattr(args, "debug", False)
    from nstlab.engine.backbones import BackboneError, WeightsError
    from nstlab.engine.checkpoint import CheckpointError
    from nstlab.imaging.data import DataUnavailableError
    from nstlab.imaging.images import ImageError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            runners = {"exercises": _exercises, **fast_commands.RUNNERS}
            return runners.get(args.command, _run)(args)
    except (UsageError, validators.OptionError, ImageError, BackboneError,
            CheckpointError) as error:
        if debug:
            raise
        return fail(error, EXIT_USAGE)
    except (WeightsError, DataUnavailableError) as error:
        if debug:
            raise
        return fail(error, EXIT_FAILED)
    except (KeyboardInterrupt, SystemError) as error:
        from nstlab.engine.optimize import caused_by_interrupt

        if not caused_by_interrupt(error):
            raise
        # Interrupted before optimisation started (loading): nothing to save.
        print("nstlab: interrupted before any image was made", file=sys.stderr)
        return EXIT_SIGINT
