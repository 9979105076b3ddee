"""The ``nstlab`` command (also ``python -m nstlab``).

Everything a run needs is checked before TensorFlow starts: a mistake costs a second, not
a minute. Errors are one line on stderr (``--debug`` shows the traceback). Exit codes:
0 done, 1 the run failed (the last good image is kept), 2 bad usage or input, 130 stopped
by Ctrl-C, 143 stopped by SIGTERM; on 130/143 the image so far is saved and its path printed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import warnings
from pathlib import Path

from nstlab.backbones import PRECISION_CHOICES

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_SIGINT, EXIT_SIGTERM = 130, 143

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
"""


class UsageError(Exception):
    """A bad option or input, found before any work starts (exit code 2)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interrupt so the optimisation loop keeps its image."""


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number >= 0, got {text}")
    return value


def _layer_list(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _add_run_options(parser: argparse.ArgumentParser, *, size: int, steps: int | None) -> None:
    from nstlab import losses
    from nstlab.transfer import INITS

    parser.add_argument("-o", "--output", required=True, help="where to write the image")
    parser.add_argument("--size", type=_positive_int, default=size,
                        help=f"longest side of the result in pixels (default {size})")
    parser.add_argument("--steps", type=_positive_int, default=steps,
                        help="optimisation steps (default: 200 for lbfgs, 1000 for adam)")
    parser.add_argument("--optimizer", choices=("lbfgs", "adam"), default="lbfgs")
    parser.add_argument("--backbone", choices=("vgg16", "vgg19"), default="vgg16",
                        help="vgg16 works offline; vgg19 downloads ImageNet weights once")
    parser.add_argument("--content-weight", type=_non_negative_float,
                        default=losses.DEFAULT_CONTENT_WEIGHT, help="alpha")
    parser.add_argument("--style-weight", type=_non_negative_float,
                        default=losses.DEFAULT_STYLE_WEIGHT, help="beta")
    parser.add_argument("--tv-weight", type=_non_negative_float,
                        default=losses.DEFAULT_TV_WEIGHT, help="total-variation weight")
    parser.add_argument("--content-layers", type=_layer_list, default=None, metavar="L1,L2",
                        help="comma-separated Keras layer names (default block4_conv2)")
    parser.add_argument("--style-layers", type=_layer_list, default=None, metavar="L1,L2",
                        help="comma-separated Keras layer names (default block1_conv1,...,"
                             "block5_conv1)")
    parser.add_argument("--init", choices=INITS, default="tinted",
                        help="starting image: the photo with the painting's mean colour "
                             "(tinted, fastest), the photo as it is, noise or the painting")
    parser.add_argument("--pooling", choices=("max", "avg"), default="max",
                        help="VGG pooling; avg (as in Gatys et al. 2016) gives smoother results")
    parser.add_argument("--precision", choices=PRECISION_CHOICES, default="auto",
                        help="the network's arithmetic (default: auto, the fastest this "
                             "machine computes natively: 16-bit on GPUs with tensor cores "
                             "and CPUs with bfloat16, else float32); losses stay float32; "
                             "float32 gives the same numbers on every machine")
    parser.add_argument("--scales", type=_positive_int, nargs="+", default=None, metavar="PX",
                        help="coarse-to-fine sizes, ending at --size (default: automatic, "
                             "starting at 512 px above 512 px)")
    parser.add_argument("--single-scale", action="store_true",
                        help="no coarse-to-fine: optimise at --size only")
    parser.add_argument("--coarse-steps", type=_positive_int, default=None, metavar="N",
                        help="steps at each coarser scale (default: see nstlab.stylize)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-every", type=_positive_int, default=None, metavar="N",
                        help="also save numbered intermediates (OUT_0050.png ...) every N steps")
    parser.add_argument("--history", default=None, metavar="FILE.json",
                        help="write the per-step, per-layer losses as JSON")
    parser.add_argument("--checkpoint", default=None, metavar="DIR",
                        help="save image, history and optimiser state to DIR as the run goes")
    parser.add_argument("--checkpoint-every", type=_positive_int, default=50, metavar="N",
                        help="steps between checkpoints (default 50)")
    parser.add_argument("--resume", default=None, metavar="DIR",
                        help="continue the run checkpointed in DIR (same inputs and options)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUTPUT if it exists (default: refuse)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--device", choices=("auto", "cpu", "gpu"), default="auto")
    parser.add_argument("--max-pixels", type=_positive_int, default=None, metavar="N",
                        help="refuse input images with more pixels (default 40 million, or "
                             "$NSTLAB_MAX_PIXELS)")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``nstlab`` command."""
    import nstlab

    parser = argparse.ArgumentParser(
        prog="nstlab", description="Neural style transfer (Gatys et al.) with TensorFlow.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"nstlab {nstlab.__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    stylize = commands.add_parser(
        "stylize", help="paint a photo in the style of one or more images",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    stylize.add_argument("content", help="the photo (path or http(s) URL)")
    stylize.add_argument("styles", nargs="+", metavar="style",
                         help="style image(s) (paths or http(s) URLs)")
    stylize.add_argument("--style-blend-weights", type=_non_negative_float, nargs="+",
                         default=None, metavar="W", help="one weight per style image")
    stylize.add_argument("--style-scale", type=float, default=1.0,
                         help="style image size relative to --size (smaller: finer strokes)")
    stylize.add_argument("--style-masks", nargs="+", default=None, metavar="MASK",
                         help="one mask image per style (white = that style here); regions no "
                              "mask covers keep the content")
    stylize.add_argument("--preserve-color", choices=("luminance", "histogram", "post"),
                         default=None,
                         help="keep the photo's colours: luminance (optimise brightness only), "
                              "histogram (recolour the style first) or post (swap colours "
                              "after)")
    stylize.add_argument("--color-match-mode", choices=("sym", "cholesky", "pca"), default="sym",
                         help="covariance matching used by --preserve-color histogram")
    stylize.add_argument("--coarse-style", default=None, metavar="IMAGE",
                         help="take the coarse style layers' targets (large-scale structure) "
                              "from this image, the fine ones from the style")
    stylize.add_argument("--coarse-layers", type=_layer_list, default=None, metavar="L1,L2",
                         help="the style layers --coarse-style sets (default: block 3 on)")
    stylize.add_argument("--denoise", type=_non_negative_float, default=None, metavar="STRENGTH",
                         help="edge-preserving smoothing of the result (about 0.1 removes "
                              "grain)")
    _add_run_options(stylize, size=512, steps=None)

    demo = commands.add_parser(
        "demo", help="stylize a sample photo offline with a generated style",
        description="Stylize matplotlib's sample photo (Grace Hopper) with a style image that "
                    "nstlab paints itself: needs no network and takes about a minute on 2 "
                    "CPU cores.")
    demo.add_argument("--style", choices=("swirl", "mosaic"), default="swirl")
    _add_run_options(demo, size=256, steps=60)

    exercises = commands.add_parser(
        "exercises", help="write student copies of the notebooks (solutions removed)")
    exercises.add_argument("out_dir", help="folder for the student notebooks")
    exercises.add_argument("--notebooks", default="notebooks",
                           help="folder of the source notebooks (default ./notebooks)")
    return parser


def _check_output(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UsageError(f"output '{path}' exists; pass --overwrite to replace it")
    if path.is_dir():
        raise UsageError(f"output '{path}' is a directory")
    from nstlab.images import SAVE_FORMATS

    if path.suffix.lower() not in SAVE_FORMATS:
        raise UsageError(f"output '{path}' needs an image suffix: {', '.join(SAVE_FORMATS)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"cannot write '{path}': directory '{folder}' does not exist")
    if not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write '{path}': directory '{folder}' is not writable")


def _partial_path(output: Path) -> Path:
    return output.with_name(f"{output.stem}.partial{output.suffix}")


def _validate_layers(args) -> None:
    from nstlab import backbones

    for option in ("content_layers", "style_layers"):
        layers = getattr(args, option)
        if layers is not None:
            if not layers:
                raise UsageError(f"--{option.replace('_', '-')} needs at least one layer name")
            try:
                backbones.check_layers(layers, args.backbone)
            except backbones.BackboneError as error:
                raise UsageError(f"--{option.replace('_', '-')}: {error}") from None


def _load_inputs(args):
    """Load and check images before the network starts; returns (content, styles)."""
    from nstlab import backbones, data, images
    from nstlab.losses import DEFAULT_STYLE_LAYERS

    if args.command == "demo":
        content = images.load_image(data.photo_path(), max_size=args.size)
        styles = [data.generated_style(args.style, size=args.size, seed=args.seed)]
    else:
        content = images.load_image(args.content, max_size=args.size, max_pixels=args.max_pixels)
        styles = [images.load_image(path, max_pixels=args.max_pixels) for path in args.styles]
        if args.style_blend_weights is not None and len(args.style_blend_weights) != len(styles):
            raise UsageError(f"--style-blend-weights got {len(args.style_blend_weights)} "
                             f"weights for {len(styles)} style images")
        if args.style_masks is not None:
            if len(args.style_masks) != len(styles):
                raise UsageError(f"--style-masks got {len(args.style_masks)} masks for "
                                 f"{len(styles)} style images")
            args.style_masks = [images.load_image(path, max_pixels=args.max_pixels)
                                for path in args.style_masks]
        if args.coarse_layers is not None and args.coarse_style is None:
            raise UsageError("--coarse-layers needs --coarse-style")
        if args.coarse_style is not None:
            if args.style_masks is not None:
                raise UsageError("--coarse-style cannot be combined with --style-masks")
            style_layers = list(args.style_layers or DEFAULT_STYLE_LAYERS)
            for name in args.coarse_layers or []:
                if name not in style_layers:
                    raise UsageError(f"--coarse-layers: {name!r} is not a style layer; choose "
                                     f"from {','.join(style_layers)}")
            args.coarse_style = images.load_image(args.coarse_style, max_pixels=args.max_pixels)
    deepest = max(list(args.content_layers or []) + list(args.style_layers or DEFAULT_STYLE_LAYERS),
                  key=backbones.layer_names(args.backbone).index)
    needed = backbones.min_input_size(deepest)
    style_size = max(1, round(args.size * getattr(args, "style_scale", 1.0)))
    checked_styles = styles + ([args.coarse_style] if getattr(args, "coarse_style", None)
                               is not None else [])
    shapes = [("content", content.shape[:2])] + [
        ("style", images.fit_within(*s.shape[:2], style_size)) for s in checked_styles]
    for name, (height, width) in shapes:
        if min(height, width) < needed:
            raise UsageError(
                f"{name} image is {height}x{width} px after resizing, too small for layer "
                f"{deepest} (needs {needed} px per side); use a larger --size")
    return content, styles


def _run(args) -> int:
    output = Path(args.output)
    _check_output(output, args.overwrite)
    if args.history:
        _check_output_file(Path(args.history), args.overwrite)
    _validate_layers(args)
    if args.scales is not None and (args.scales[-1] != args.size or args.scales != sorted(
            set(args.scales))):
        raise UsageError(f"--scales must rise and end at --size ({args.size}), got {args.scales}")
    resume = None
    if args.resume:
        from nstlab.checkpoint import load_checkpoint

        resume = load_checkpoint(args.resume)
    if args.checkpoint:
        _check_checkpoint_dir(Path(args.checkpoint))
    content, styles = _load_inputs(args)

    import tensorflow as tf

    import nstlab
    from nstlab.optimize import STOP_INTERRUPTED, STOP_NON_FINITE

    terminated = []

    def on_sigterm(signum, frame):
        terminated.append(signum)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    callbacks = []
    if args.save_every:
        def save_intermediate(info):
            if info.step % args.save_every == 0:
                nstlab.save_image(info.image, output.with_name(
                    f"{output.stem}_{info.step:04d}{output.suffix}"))
        callbacks.append(save_intermediate)
    device = {"cpu": "/CPU:0", "gpu": "/GPU:0"}.get(args.device)
    if device == "/GPU:0" and not tf.config.list_physical_devices("GPU"):
        raise UsageError("--device gpu: TensorFlow sees no GPU on this machine")
    placement = tf.device(device) if device else contextlib.nullcontext()
    try:
        with warnings.catch_warnings(), placement:
            # The command prints its own message about a non-finite loss.
            warnings.filterwarnings("ignore", "the loss became NaN", RuntimeWarning)
            result = nstlab.stylize(
                content, styles, size=args.size, steps=args.steps, optimizer=args.optimizer,
                backbone=args.backbone, content_layers=args.content_layers,
                style_layers=args.style_layers, content_weight=args.content_weight,
                style_weight=args.style_weight, tv_weight=args.tv_weight, init=args.init,
                seed=args.seed, progress=not args.quiet, callbacks=callbacks,
                style_blend_weights=getattr(args, "style_blend_weights", None),
                style_scale=getattr(args, "style_scale", 1.0),
                checkpoint_dir=args.checkpoint, checkpoint_every=args.checkpoint_every,
                resume=resume, pooling=args.pooling, precision=args.precision,
                scales=None if args.single_scale else (args.scales or "auto"),
                coarse_steps=args.coarse_steps, style_masks=getattr(args, "style_masks", None),
                preserve_color=getattr(args, "preserve_color", None),
                color_match_mode=getattr(args, "color_match_mode", "sym"),
                denoise=getattr(args, "denoise", None),
                coarse_style=getattr(args, "coarse_style", None),
                coarse_layers=getattr(args, "coarse_layers", None))
    finally:
        signal.signal(signal.SIGTERM, previous)

    if args.history:
        record = {"settings": result.settings,
                  "stop_reason": result.stop_reason, "history": result.history.to_dict()}
        _write_json_atomically(Path(args.history), record)
    if result.stop_reason in (STOP_INTERRUPTED, STOP_NON_FINITE):
        partial = _partial_path(output)
        nstlab.save_image(result.image, partial)
        if result.stop_reason == STOP_NON_FINITE:
            print(f"nstlab: the loss became NaN or infinite after {len(result.history)} steps; "
                  f"kept the last finite image in {partial}. Try a smaller --style-weight, "
                  "or with --optimizer adam fewer extreme weights.", file=sys.stderr)
            return EXIT_FAILED
        signal_name = "SIGTERM" if terminated else "Ctrl-C"
        print(f"nstlab: stopped by {signal_name} after {len(result.history)} steps; "
              f"saved the image so far to {partial}", file=sys.stderr)
        return EXIT_SIGTERM if terminated else EXIT_SIGINT
    nstlab.save_image(result.image, output)
    if not args.quiet:
        print(f"saved {output} ({result.image.shape[1]}x{result.image.shape[0]} px, "
              f"{len(result.history)} steps, final loss {result.history.total[-1]:.4g}, "
              f"{result.settings['precision']})")
    return EXIT_OK


def _check_checkpoint_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise UsageError(f"--checkpoint '{path}' is a file, not a directory")
    folder = path if path.exists() else (path.parent if str(path.parent) else Path("."))
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"--checkpoint '{path}': cannot create or write that directory")


def _check_output_file(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise UsageError(f"'{path}' exists; pass --overwrite to replace it")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"cannot write '{path}': directory '{folder}' is missing or read-only")


def _write_json_atomically(path: Path, record: dict) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_text(json.dumps(record, indent=1))
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _exercises(args) -> int:
    from nstlab.exercises import ExerciseFormatError, make_student_copies

    try:
        written = make_student_copies(args.out_dir, args.notebooks)
    except (FileNotFoundError, ExerciseFormatError) as error:
        raise UsageError(str(error)) from None
    print(f"wrote {len(written)} student notebooks to {args.out_dir}")
    return EXIT_OK


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    debug = getattr(args, "debug", False)
    from nstlab.backbones import BackboneError, WeightsError
    from nstlab.checkpoint import CheckpointError
    from nstlab.data import DataUnavailableError
    from nstlab.images import ImageError

    try:
        return _exercises(args) if args.command == "exercises" else _run(args)
    except (UsageError, ImageError, BackboneError, CheckpointError) as error:
        if debug:
            raise
        print(f"nstlab: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except (WeightsError, DataUnavailableError) as error:
        if debug:
            raise
        print(f"nstlab: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (KeyboardInterrupt, SystemError) as error:
        from nstlab.optimize import caused_by_interrupt

        if not caused_by_interrupt(error):
            raise
        # Interrupted before optimisation started (loading): nothing to save.
        print("nstlab: interrupted before any image was made", file=sys.stderr)
        return EXIT_SIGINT
