"""``nstlab demo -o OUT``: stylize a sample photo with a style nstlab paints, offline.

The same run as ``nstlab stylize`` (:func:`nstlab.cli.stylize.run`), on matplotlib's photo
of Grace Hopper and a generated style (:func:`nstlab.imaging.data.generated_style`), with
a smaller default size and fewer steps.
"""

from __future__ import annotations

from nstlab.cli import stylize
from nstlab.cli.parsing import add_output_options
from nstlab.run import options


def add_command(subparsers) -> None:
    """Add ``demo`` and its handler (:func:`run`) to the command's sub-commands."""
    parser = subparsers.add_parser(
        "demo", help="stylize a sample photo offline with a generated style",
        description="Stylize matplotlib's sample photo (Grace Hopper) with a style image that "
                    "nstlab paints itself: needs no network and takes about a minute on 2 "
                    "CPU cores.")
    parser.add_argument("--style", choices=("swirl", "mosaic"), default="swirl")
    add_output_options(parser)
    options.add_arguments(parser, defaults={"size": 256, "steps": 60})
    parser.set_defaults(handler=run)


def sample_images(args) -> tuple:
    """The sample photo and the generated style, at the run's size."""
    from nstlab.imaging import data

    return data.photo_path(), [data.generated_style(args.style, size=args.size,
                                                    seed=args.seed)]


def run(args) -> int:
    """Stylize the sample photo; returns the exit code."""
    return stylize.run(args, images=sample_images)
