"""The ``nstlab`` command's one dispatch: each subcommand registers its parser and handler.

A subcommand is a module with ``add_command(subparsers)``, which adds its parser and sets
``handler=`` on it (``parser.set_defaults(handler=run)``). :func:`main` parses the command
line and calls ``args.handler(args)``, turning the errors every command shares into one
line and an exit code.
"""

from __future__ import annotations

import argparse
import sys
import warnings

from nstlab.base import validators
from nstlab.base.messages import EXIT_FAILED, EXIT_SIGINT, EXIT_USAGE, fail, warn
from nstlab.batch import command as batch_command
from nstlab.classroom import book
from nstlab.classroom.grading import command as grade_command
from nstlab.cli import demo, exercises, stylize
from nstlab.cli.parsing import EXAMPLES, OneLineParser, UsageError
from nstlab.fast import command as fast_command
from nstlab.video import command as video_command

#: Each subcommand's registration, in the order ``nstlab --help`` lists them.
SUBCOMMANDS = (
    stylize.add_command,
    demo.add_command,
    exercises.add_command,
    grade_command.add_command,
    batch_command.add_command,
    book.add_command,
    fast_command.add_commands,  # train-fast and fast
    video_command.add_command,
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nstlab`` command (imports no TensorFlow)."""
    import nstlab

    parser = OneLineParser(
        prog="nstlab", description="Neural style transfer (Gatys et al.) with TensorFlow.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nstlab {nstlab.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND",
                                     parser_class=OneLineParser)
    for register in SUBCOMMANDS:
        register(commands)
    return parser


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
    debug = getattr(args, "debug", False)
    from nstlab.engine.backbones import BackboneError, WeightsError
    from nstlab.engine.checkpoint import CheckpointError
    from nstlab.imaging.data import DataUnavailableError
    from nstlab.imaging.images import ImageError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.handler(args)
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
