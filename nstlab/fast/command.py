"""The commands ``nstlab train-fast`` and ``nstlab fast``.

::

    nstlab train-fast STYLE PHOTOS -o model.keras [--size 128 --steps 1000 ...]
    nstlab train-fast STYLE PHOTOS -o model.keras --resume model.keras --steps 500
    nstlab train-fast STYLE1 STYLE2 STYLE3 PHOTOS -o three.keras   (one network, 3 styles)
    nstlab train-fast STYLE1 STYLE2 PHOTOS -o two.keras --content-weight 2e4 2.5e4
    nstlab train-fast STYLE4 PHOTOS -o four.keras --add-to three_paintings   (adds a style)
    nstlab train-fast shipwreck.jpg PHOTOS -o new.keras --retune three_paintings \
        --luminance-weight 3e7   (trains one of its styles again)
    nstlab fast MODEL photo.jpg -o out.png         (MODEL: a .keras file or starry_night)
    nstlab fast MODEL photo.jpg -o out.png --size 512 --strength 0.8 --preserve-color post
    nstlab fast three.keras photo.jpg -o out.png --style starry_night=0.6,shipwreck=0.4

Same conventions as ``nstlab stylize``: every option and input is checked before
TensorFlow starts; exit codes 0 done, 1 failed (NaN), 2 bad usage or input, 130 Ctrl-C,
143 SIGTERM; files are written atomically and never replaced without ``--overwrite``.
``train-fast`` writes its model file every ``--save-every`` steps and when it ends however
it ends, so after Ctrl-C or SIGTERM ``--resume`` goes on from the last good weights.
"""

from __future__ import annotations

import sys
from pathlib import Path

from nstlab.base import validators
from nstlab.base.messages import EXIT_FAILED, EXIT_OK, sigterm_as_interrupt
from nstlab.engine import backbones
from nstlab.fast import modelfile, photos, recipe
from nstlab.fast.controls import check_controls, style_weights
from nstlab.fast.plan import training_plan
from nstlab.fast.recipe import (
    CHECKPOINT_EVERY,
    DEFAULT_STEPS,
    SHIPPED_MODELS,
    STRATEGIES,
    Recipe,
)
from nstlab.run import options

DEFAULTS = Recipe()

# The recipe's fields the command sets, with their flag's help (defaults from Recipe).
RECIPE_FLAGS = {
    "size": ("int", "side of the random square photo crops, px"),
    "batch_size": ("int", "crops per step (over all devices)"),
    "width": ("int", "channels of the network's first layer (Johnson et al.: 32)"),
    "residual_blocks": ("int", "residual blocks (Johnson et al.: 5)"),
    "learning_rate": ("float", "Adam's step size"),
    "style_size": ("int", "longest side of the style image for its Gram matrices, px"),
    "content_weight": ("floats", "alpha: weight of the content loss; with several STYLE "
                                 "images, one weight or one per image"),
    "style_weight": ("floats", "beta: weight of the style loss; with several STYLE images, "
                               "one weight or one per image"),
    "tv_weight": ("float", "weight of the total-variation loss"),
    "luminance_weight": ("floats", "weight of the loss on the photo's coarse light and dark; "
                                   "one, or one per STYLE image"),
    "seed": ("int", "seeds the network's first weights and the crops"),
}


def add_commands(subparsers) -> None:
    """Add ``train-fast`` and ``fast`` to the ``nstlab`` command's sub-commands, each with
    its handler (:func:`run_train`, :func:`run_fast`)."""
    train = subparsers.add_parser(
        "train-fast", help="train a network that stylizes photos in one pass (Johnson et al.)",
        description="Train an image transformation network (Johnson, Alahi & Fei-Fei 2016) on "
                    "random crops of PHOTOS to minimise nstlab's style loss for STYLE. "
                    "PHOTOS is a folder, or 'samples' for the photos installed with nstlab. "
                    "Several STYLE images train one network that paints each of them "
                    "(conditional instance normalisation, Dumoulin et al. 2017).")
    train.add_argument("style", nargs="+", metavar="STYLE",
                       help="the style image (path or URL); give several for a network "
                            "that paints each")
    train.add_argument("photos", help="a folder of photos, or 'samples'")
    train.add_argument("-o", "--output", required=True, metavar="MODEL.keras",
                       help="the model file (written every --save-every steps and at the end)")
    train.add_argument("--overwrite", action="store_true",
                       help="replace OUTPUT if it exists (not needed when it is --resume's file)")
    train.add_argument("--steps", type=validators.parse_number("int"), default=DEFAULT_STEPS,
                       help="training steps of this run (default %(default)s)")
    group = train.add_argument_group("recipe (recorded in the model file; kept on --resume)")
    for name, (kind, text) in RECIPE_FLAGS.items():
        several = {"nargs": "+", "metavar": "W"} if kind == "floats" else {}
        group.add_argument(recipe.label(name, flags=True),
                           type=validators.parse_number(kind.removesuffix("s")), default=None,
                           help=f"{text} (default {getattr(DEFAULTS, name)})", **several)
    group.add_argument("--backbone", choices=tuple(backbones.BACKBONES), default=None,
                       help=f"the loss network (default {DEFAULTS.backbone})")
    flag, keywords = options.argument(
        "content_layers", help="Keras layer names for the content loss (default "
                               f"{','.join(DEFAULTS.content_layers)}, as Johnson et al.)")
    group.add_argument(flag, **keywords)
    train.add_argument("--resume", default=None, metavar="MODEL.keras",
                       help="go on from a model file written by train-fast")
    train.add_argument("--add-to", default=None, metavar="MODEL",
                       help="a network (a .keras file or a shipped name) to add the STYLE "
                            "images to: the new network paints its styles and these, and "
                            "learns only the new styles' scales and offsets (Dumoulin et al. "
                            "2017); it keeps the network's recipe, and the loss weights given "
                            "are the new styles'")
    train.add_argument("--retune", default=None, metavar="MODEL",
                       help="a network (a .keras file or a shipped name) to train some of its "
                            "styles again, the STYLE images (by file name: shipwreck.jpg is "
                            "its style shipwreck): only their scales and offsets learn, from "
                            "where they are; it keeps the network's recipe, and the loss "
                            "weights given are these styles'")
    train.add_argument("--strategy", choices=STRATEGIES, default="default",
                       help="one device, all GPUs of this machine, or several machines "
                            "(TF_CONFIG) (default %(default)s)")
    flag, keywords = options.argument("precision")
    train.add_argument(flag, **keywords)
    train.add_argument("--save-every", type=validators.parse_number("int"),
                       default=CHECKPOINT_EVERY, metavar="N",
                       help="write the model file every N steps (default %(default)s)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--debug", action="store_true",
                       help="show tracebacks and TensorFlow's own log lines")
    train.set_defaults(handler=run_train)

    fast = subparsers.add_parser(
        "fast", help="stylize a photo in one pass with a trained network",
        description="Stylize PHOTO with a network trained by train-fast. MODEL is a .keras "
                    f"file or a model shipped with nstlab ({', '.join(SHIPPED_MODELS)}).")
    fast.add_argument("model", metavar="MODEL", help="a .keras file, or " +
                      " or ".join(SHIPPED_MODELS))
    fast.add_argument("photo", help="the photo (path or URL)")
    fast.add_argument("-o", "--output", required=True, help="where to write the image")
    fast.add_argument("--size", type=validators.parse_number("int"), default=None, metavar="PX",
                      help="working resolution: the network paints the photo with its longest "
                           "side PX, and the picture is resized back to the photo's size; "
                           "smaller PX, larger strokes (default: the photo's own size)")
    fast.add_argument("--strength", type=validators.parse_number("float"), default=1.0,
                      metavar="S", help="how much of the network's picture to mix with the "
                                        "photo, in linear light, from 0 (the photo) to 1 "
                                        "(default %(default)s)")
    flag, keywords = options.argument(
        "preserve_color", help="keep the photo's colours: post (the picture's brightness, the "
                               "photo's colours) or luminance (the network also sees only the "
                               "photo's brightness); histogram needs a new training")
    fast.add_argument(flag, **keywords)
    fast.add_argument("--style", default=None, metavar="NAME[=W,...]",
                      help="for a model trained on several paintings: the one to paint, or "
                           "a mix such as starry_night=0.7,shipwreck=0.3 (default: the "
                           "first)")
    fast.add_argument("--overwrite", action="store_true",
                      help="replace OUTPUT if it exists (default: refuse)")
    fast.add_argument("--quiet", action="store_true", help="print nothing when done")
    fast.add_argument("--debug", action="store_true",
                      help="show tracebacks and TensorFlow's own log lines")
    fast.set_defaults(handler=run_fast)


def _recipe_given(args) -> dict:
    """The recipe options given on the command line (the others keep their defaults)."""
    given = {name: getattr(args, name) for name in RECIPE_FLAGS
             if getattr(args, name) is not None}
    if args.backbone is not None:
        given["backbone"] = args.backbone
    if args.content_layers is not None:
        given["content_layers"] = args.content_layers
    return given


def _same_file(first, second) -> bool:
    return Path(first).resolve() == Path(second).resolve()


def run_train(args) -> int:
    """``nstlab train-fast``: check everything, then train; returns the exit code."""
    from nstlab.imaging.images import image_shape

    given = _recipe_given(args)
    continuing = args.resume is not None and _same_file(args.output, args.resume)
    output = validators.check_output_path(args.output, overwrite=args.overwrite or continuing,
                                       suffixes=(modelfile.SUFFIX,))
    steps = recipe.check_steps(args.steps)
    validators.check_number(args.save_every, "--save-every", whole=True, at_least=1)
    training_plan(given, args.style, resume=args.resume, add_to=args.add_to,
                  retune=args.retune, flags=True)
    for style in args.style:
        image_shape(style)
    photos.find_photos(args.photos)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=not args.debug)
    from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
    from nstlab.fast.strategy import make_strategy
    from nstlab.fast.training import train_fast

    strategy = make_strategy(args.strategy)
    with sigterm_as_interrupt() as interruption:
        result = train_fast(args.style, args.photos, steps=steps, strategy=strategy,
                            precision=args.precision, resume=args.resume, add_to=args.add_to,
                            retune=args.retune, checkpoint=output,
                            checkpoint_every=args.save_every, progress=not args.quiet, **given)
    if result.path is None:
        print(f"nstlab: error: could not write '{output}'; the model is lost",
              file=sys.stderr)
        return EXIT_FAILED
    steps_done, history = result.record["steps"], result.history
    if result.stop_reason == STOP_NON_FINITE:
        print(f"nstlab: the loss became NaN or infinite after {steps_done} steps; kept the "
              f"weights from before in {output}. Try a smaller --learning-rate.",
              file=sys.stderr)
        return EXIT_FAILED
    if result.stop_reason == STOP_INTERRUPTED:
        print(f"nstlab: stopped by {interruption.name} after {steps_done} steps; saved the "
              f"model so far to {output} (go on with --resume {output})", file=sys.stderr)
        return interruption.exit_code
    if not args.quiet:
        print(f"saved {output} ({steps_done} steps, final loss {history.total[-1]:.4g}, "
              f"{history.time[-1] / 60:.1f} minutes of training, in "
              f"{result.record['precisions'][-1]})")
    return EXIT_OK


def run_fast(args) -> int:
    """``nstlab fast``: check everything, then stylize; returns the exit code."""
    import time

    from nstlab.imaging.images import SAVE_FORMATS, image_shape, save_image

    output = validators.check_output_path(args.output, overwrite=args.overwrite,
                                       suffixes=tuple(SAVE_FORMATS))
    check_controls(args.size, args.strength, args.preserve_color,
                   names=("--size", "--strength", "--preserve-color"))
    path = recipe.model_path(args.model)
    style_weights(args.style, modelfile.style_names(modelfile.read_record(path)),
                  label="--style")
    image_shape(args.photo)

    from nstlab.base import native_logs

    native_logs.import_tensorflow(quiet=not args.debug)
    from nstlab.fast.stylizer import FastStylizer

    stylizer = FastStylizer.load(path)
    start = time.perf_counter()
    picture = stylizer(args.photo, args.size, strength=args.strength,
                       preserve_color=args.preserve_color, style=args.style)
    seconds = time.perf_counter() - start
    save_image(picture, output)
    if not args.quiet:
        print(f"saved {output} ({picture.shape[1]}x{picture.shape[0]} px, {seconds:.2f} s "
              "including the network's first run)")
    return EXIT_OK
