"""``nstlab stylize CONTENT STYLE... -o OUT``: one run of :func:`nstlab.stylize`, saved.

Every option and input is checked before TensorFlow starts. A run stopped by Ctrl-C or
SIGTERM, or whose loss became NaN, keeps its image so far in ``OUT.partial.png``.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, sigterm_as_interrupt
from nstlab.cli import saving
from nstlab.cli.parsing import EXAMPLES, add_output_options
from nstlab.run import options


def add_command(subparsers) -> None:
    """Add ``stylize`` and its handler (:func:`run`) to the command's sub-commands."""
    parser = subparsers.add_parser(
        "stylize", help="paint a photo in the style of one or more images",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("content", help="the photo (path or http(s) URL)")
    parser.add_argument("styles", nargs="+", metavar="style",
                        help="style image(s) (paths or http(s) URLs)")
    add_output_options(parser)
    options.add_arguments(parser)
    parser.set_defaults(handler=run)


def given_images(args) -> tuple:
    """The content and style images named on the command line."""
    return args.content, args.styles


def run(args, images=given_images) -> int:
    """Check everything, stylize ``images(args)`` and save the result; returns the exit code.

    ``images`` gives the content and the styles (paths, URLs or arrays); ``nstlab demo``
    passes its own.
    """
    output = saving.check_outputs(args)
    run_options = options.from_namespace(args)
    if run_options.resume is not None:
        from nstlab.engine.checkpoint import load_checkpoint

        run_options = run_options.replace(resume=load_checkpoint(run_options.resume))
    content, styles = images(args)
    run_options = run_options.validate(content, styles, flags=True)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=not args.debug)
    from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
    from nstlab.run.transfer import stylize_with

    callbacks = ([saving.intermediate_saver(output, args.save_every)] if args.save_every
                 else [])
    with sigterm_as_interrupt() as interruption, warnings.catch_warnings():
        # The command prints its own message about a non-finite loss.
        warnings.filterwarnings("ignore", "the loss became NaN", RuntimeWarning)
        result = stylize_with(run_options, content, styles, progress=not args.quiet,
                              callbacks=callbacks)

    problems = []
    if args.history:
        record = {"settings": result.settings, "stop_reason": result.stop_reason,
                  "history": result.history.to_dict()}
        problems += saving.write_or_fall_back(Path(args.history),
                                              json.dumps(record, indent=1).encode())
    if result.stop_reason in (STOP_INTERRUPTED, STOP_NON_FINITE):
        partial = saving.partial_path(output)
        # When the .partial file could not be written, the line above named the fallback.
        kept_in = ("the file named above" if saving.save_or_fall_back(result.image, partial)
                   else partial)
        if result.stop_reason == STOP_NON_FINITE:
            print(f"nstlab: the loss became NaN or infinite after {len(result.history)} steps; "
                  f"kept the last finite image in {kept_in}. Try a smaller --style-weight, "
                  "or with --optimizer adam fewer extreme weights.", file=sys.stderr)
            return EXIT_FAILED
        print(f"nstlab: stopped by {interruption.name} after {len(result.history)} steps; "
              f"saved the image so far to {kept_in}", file=sys.stderr)
        return interruption.exit_code
    problems += saving.save_or_fall_back(result.image, output)
    if problems:
        return EXIT_FAILED
    if not args.quiet:
        print(f"saved {output} ({result.image.shape[1]}x{result.image.shape[0]} px, "
              f"{len(result.history)} steps, final loss {result.history.total[-1]:.4g}, "
              f"{result.settings['precision']})")
    return EXIT_OK
