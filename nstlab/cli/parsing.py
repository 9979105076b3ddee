"""What every subcommand's parser shares: one-line errors, the examples, the output flags."""

from __future__ import annotations

import argparse

from nstlab.base import validators
from nstlab.base.messages import EXIT_USAGE

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


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    value = validators.parse_number("int")(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """The flags about the command's own files and output (not options of the run)."""
    group = parser.add_argument_group("output")
    group.add_argument("-o", "--output", required=True, help="where to write the image")
    group.add_argument("--overwrite", action="store_true",
                       help="replace OUTPUT (and --history) if it exists (default: refuse)")
    group.add_argument("--history", default=None, metavar="FILE.json",
                       help="write the per-step, per-layer losses and the settings as JSON")
    group.add_argument("--save-every", type=positive_int, default=None, metavar="N",
                       help="also save numbered intermediates (OUT_0050.png ...) every N steps")
    group.add_argument("--quiet", action="store_true", help="no progress bar")
    group.add_argument("--debug", action="store_true",
                       help="show tracebacks and TensorFlow's own log lines")
