"""``nstlab.stylize``: neural style transfer in one call.

>>> result = nstlab.stylize("photo.jpg", "starry_night.jpg", size=256)
>>> result.image          # (H, W, 3) float32 in [0, 1]
>>> result.history.total  # the loss at every step
>>> result.save("out.png")

A run has three stages, each a function of its own: :func:`prepare` loads the images and
does any colour pre-processing; :func:`run_scales` optimises the pixels, from the coarsest
scale to the final size; :func:`finish` does the colour post-processing and denoising.
Every option is defined once, in :mod:`nstlab.run.options`, and checked there before any of
this starts.
"""

from __future__ import annotations

import contextlib
import inspect
import random
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nstlab.base.validators import OptionError
from nstlab.engine.checkpoint import Checkpointer, resume_from
from nstlab.engine.history import History
from nstlab.engine.optimize import STOP_CALLBACK, STOP_COMPLETED, optimize_pixels
from nstlab.imaging import color
from nstlab.imaging.images import load_image, resize_image, save_image
from nstlab.run import options
from nstlab.run.options import INITS, StylizeOptions, scale_schedule

__all__ = ["INITS", "Result", "finish", "initial_image", "prepare", "run_scales",
           "scale_schedule", "seed_everything", "stylize", "stylize_with"]

# Coarser scales get steps // 4 by default.
COARSE_STEP_FRACTION = 4


@dataclass
class Result:
    """The outcome of :func:`stylize`.

    Attributes
    ----------
    image : np.ndarray
        The stylized image, (H, W, 3) float32 in [0, 1].
    history : History
        Per-step total, per-layer and TV losses, and times.
    stop_reason : str
        ``"completed"``, ``"stopped by callback"``, ``"interrupted"`` or ``"non-finite loss"``.
    settings : dict
        The options the run used: ``nstlab.stylize(content, style, **result.settings)``
        repeats it.
    """

    image: np.ndarray
    history: History
    stop_reason: str = STOP_COMPLETED
    settings: dict = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """True when the run did all its steps (or a callback stopped it on purpose)."""
        return self.stop_reason in (STOP_COMPLETED, STOP_CALLBACK)

    def save(self, path) -> Path:
        """Save the image (PNG, JPEG, ... by suffix), atomically; returns the path."""
        return save_image(self.image, path)

    def __repr__(self) -> str:
        height, width = self.image.shape[:2]
        return (f"Result(image {height}x{width}, {len(self.history)} steps, "
                f"stop_reason={self.stop_reason!r})")


def seed_everything(seed: int) -> None:
    """Seed Python's ``random``, NumPy and TensorFlow with one number."""
    import keras

    random.seed(seed)
    np.random.seed(seed)
    keras.utils.set_random_seed(seed)


def initial_image(init, content: np.ndarray, style, seed: int,
                  style_weights=None) -> np.ndarray:
    """The image optimisation starts from, with the content image's size.

    ``"tinted"`` (the default of :func:`stylize`: the content image with its mean colour
    moved to the style's, :func:`nstlab.imaging.color.shift_mean_color`; fastest, keeps the
    layout), ``"content"`` (an exact copy of the content image, as the TensorFlow tutorial
    starts), ``"noise"`` (uniform white noise, as in Gatys et al.), ``"style"`` (the style
    image resized), or an image of your own (a path or an array, resized to the content's
    size). ``style`` is one image or a list (mixed with ``style_weights`` for ``"tinted"``;
    ``"style"`` takes the first).
    """
    height, width = content.shape[:2]
    styles = list(style) if isinstance(style, list | tuple) else [style]
    if isinstance(init, str) and init in INITS:
        if init == "tinted":
            return color.shift_mean_color(content, styles, style_weights)
        if init == "content":
            return content.copy()
        if init == "noise":
            rng = np.random.default_rng(seed)
            return rng.uniform(0.0, 1.0, size=content.shape).astype(np.float32)
        return resize_image(styles[0], (height, width))
    return resize_image(load_image(options.check_init(init)), (height, width))


# ------------------------------------------------------------------- stage 1: prepare


@dataclass
class Inputs:
    """The images of a run, loaded at full size and colour-prepared (:func:`prepare`)."""

    content: np.ndarray
    styles: list[np.ndarray]
    coarse_style: np.ndarray | None
    colors_from: np.ndarray  # the photo whose colours preserve_color keeps
    sizes: list[int]  # the scales, ending at the final size


def prepare(content, styles: list, opts: StylizeOptions) -> Inputs:
    """Stage 1: load the images and apply the colour pre-processing the options ask for."""
    limit = {"max_pixels": opts.max_pixels}
    content_full = load_image(content, **limit)
    styles_full = [load_image(s, **limit) for s in styles]
    coarse = [] if opts.coarse_style is None else [load_image(opts.coarse_style, **limit)]
    colors_from = content_full
    if opts.preserve_color == "histogram":
        styles_full, coarse = (
            [color.match_color_statistics(s, content_full, mode=opts.color_match_mode)
             for s in group] for group in (styles_full, coarse))
    elif opts.preserve_color == "luminance":
        _, coarse = color.luminance_only_inputs(content_full, coarse)
        content_full, styles_full = color.luminance_only_inputs(content_full, styles_full)
    size = opts.size or max(content_full.shape[:2])
    return Inputs(content_full, styles_full, coarse[0] if coarse else None, colors_from,
                  opts.scale_sizes(size))


# ---------------------------------------------------------------- stage 2: run the scales


@dataclass
class Outcome:
    """What :func:`run_scales` ends with."""

    image: np.ndarray
    history: History
    stop_reason: str


def run_scales(inputs: Inputs, opts: StylizeOptions, *, progress: bool = True,
               callbacks=()) -> Outcome:
    """Stage 2: optimise the pixels at each scale, the coarsest first.

    Each scale builds its :class:`~nstlab.Objective` (the network is built once and
    reused), starts from the previous scale's image upsampled (the first from
    ``opts.init``), and runs ``opts.steps`` steps at the final size, ``opts.coarse_steps``
    (default a quarter) at the coarser ones. A resumed run skips what its checkpoint did.
    ``Objective`` and ``optimize_pixels`` get the options named like their parameters
    (:meth:`StylizeOptions.call`); only what the run changes is passed here.
    """
    from nstlab.engine import losses

    checkpointer = (Checkpointer(opts.checkpoint_dir, opts.checkpoint_every, opts.settings())
                    if opts.checkpoint_dir is not None else None)
    resumed = resume_from(opts.resume, optimizer=opts.optimizer, levels=len(inputs.sizes),
                          backbone=opts.backbone)
    first_level = resumed.scale_index if resumed else 0
    extractor, image, history, stop_reason = None, None, None, STOP_COMPLETED
    for level, level_size in enumerate(inputs.sizes):
        if level < first_level:
            continue
        content = resize_image(inputs.content, level_size)
        style_size = max(1, round(level_size * opts.style_scale))
        styles = [resize_image(s, style_size) for s in inputs.styles]
        objective = opts.call(
            losses.Objective, content, styles, extractor=extractor,
            coarse_style=(None if inputs.coarse_style is None
                          else resize_image(inputs.coarse_style, style_size)))
        extractor = objective.extractor  # built once, reused at every scale
        done, state = 0, None
        if resumed is not None and level == first_level:
            resumed.check_shape(content.shape)
            start, history = resumed.image, resumed.history
            done, state = resumed.steps_in_scale, resumed.optimizer_state
        elif level == 0:
            # Regions no mask covers keep the photo, so a masked run starts from it untinted.
            masked_tint = isinstance(opts.init, str) and opts.init == "tinted" and (
                opts.style_masks is not None)
            start = initial_image("content" if masked_tint else opts.init, content, styles,
                                  opts.seed, opts.style_blend_weights)
        else:
            start = resize_image(image, content.shape[:2])
        last = level == len(inputs.sizes) - 1
        level_steps = opts.steps if last else (
            opts.coarse_steps or max(1, opts.steps // COARSE_STEP_FRACTION))
        if done >= level_steps:
            image = start
            continue
        if checkpointer is not None:
            checkpointer.scale_index, checkpointer.steps_before = level, done
        image, history, stop_reason = opts.call(
            optimize_pixels, objective, start, steps=level_steps - done, callbacks=callbacks,
            progress=progress, history=history, checkpointer=checkpointer,
            optimizer_state=state)
        if stop_reason != STOP_COMPLETED:
            break
    if history is None:  # resumed a run that had already finished
        image, history = resumed.image, resumed.history
    return Outcome(image, history, stop_reason)


def _placement(device: str):
    """A ``tf.device`` scope for ``"cpu"``/``"gpu"``; nothing for ``"auto"``."""
    if device == "auto":
        return contextlib.nullcontext()
    import tensorflow as tf

    if device == "gpu" and not tf.config.list_physical_devices("GPU"):
        raise OptionError("device 'gpu': TensorFlow sees no GPU on this machine")
    return tf.device("/GPU:0" if device == "gpu" else "/CPU:0")


# ------------------------------------------------------------------- stage 3: finish


def finish(outcome: Outcome, inputs: Inputs, opts: StylizeOptions) -> np.ndarray:
    """Stage 3: give the result the photo's colours (if asked) and denoise it."""
    image = outcome.image
    if opts.preserve_color in ("luminance", "post"):
        image = color.transfer_luminance(image, inputs.colors_from)
    if opts.denoise:
        image = color.denoise(image, opts.denoise)
    return image


# ------------------------------------------------------------------------ the one call


def stylize(content, style, *, progress: bool = True, callbacks=(), **run_options) -> Result:
    styles = list(style) if isinstance(style, list | tuple) else [style]
    opts = options.from_keywords(run_options).validate(content, styles)
    return stylize_with(opts, content, styles, progress=progress, callbacks=callbacks)


def stylize_with(opts: StylizeOptions, content, styles: list, *, progress: bool = True,
                 callbacks=()) -> Result:
    """:func:`stylize` with options already checked by :meth:`StylizeOptions.validate`."""
    from nstlab.engine.precision import resolve_precision

    # "auto" becomes this machine's precision once, so the record says what ran.
    opts = opts.replace(precision=resolve_precision(opts.precision, opts.device))
    seed_everything(opts.seed)
    inputs = prepare(content, styles, opts)
    with _placement(opts.device):
        outcome = run_scales(inputs, opts, progress=progress, callbacks=callbacks)
    settings = opts.settings()
    settings["scales"] = inputs.sizes
    return Result(image=finish(outcome, inputs, opts), history=outcome.history,
                  stop_reason=outcome.stop_reason, settings=settings)


stylize.__doc__ = """Paint ``content`` in the style of ``style`` (Gatys, Ecker & Bethge, 2016).

Parameters
----------
content : path, URL, PIL image or array
    The photo whose arrangement is kept.
style : path, URL, PIL image, array, or a list of them
    The painting whose textures and colours are copied. Several styles are mixed with
    ``style_blend_weights``.
progress : bool
    Show a progress bar (a widget in notebooks).
callbacks : list of callables
    Called after each step with a :class:`nstlab.engine.optimize.StepInfo`; return ``True`` to
    stop early.
**options
    Any option of :class:`nstlab.run.options.StylizeOptions` (the same as the ``nstlab
    stylize`` command's flags); they are checked before any work starts, and a bad one is
    a ``ValueError`` with a one-line message:

{options}

Returns
-------
Result
    ``.image`` (H, W, 3) float32 in [0, 1], ``.history``, ``.stop_reason``, ``.save()``,
    ``.settings`` (pass them back as ``**settings`` to repeat the run). An interrupted run
    (Ctrl-C) or one whose loss turned non-finite still returns the last good image, with
    ``stop_reason`` saying so.
""".format(options=textwrap.indent(options.describe(), "    "))

stylize.__signature__ = inspect.Signature([
    inspect.Parameter("content", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("style", inspect.Parameter.POSITIONAL_OR_KEYWORD),
    inspect.Parameter("progress", inspect.Parameter.KEYWORD_ONLY, default=True),
    inspect.Parameter("callbacks", inspect.Parameter.KEYWORD_ONLY, default=()),
    *options.signature_parameters(),
], return_annotation=Result)
