"""``nstlab.stylize``: neural style transfer in one call.

>>> result = nstlab.stylize("photo.jpg", "starry_night.jpg", size=256)
>>> result.image          # (H, W, 3) float32 in [0, 1]
>>> result.history.total  # the loss at every step
>>> result.save("out.png")
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nstlab import backbones, color, lbfgs, losses
from nstlab.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from nstlab.history import History
from nstlab.images import load_image, resize_image, save_image
from nstlab.optimize import (
    ADAM_LEARNING_RATE,
    DEFAULT_STEPS,
    LBFGS_HISTORY,
    LBFGS_SMOOTHING,
    OPTIMIZERS,
    STOP_COMPLETED,
    Checkpointer,
    optimize_pixels,
)

INITS = ("tinted", "content", "noise", "style")
# Coarse-to-fine: results larger than this start at this size and are refined upwards, so a
# 1024 px result keeps the look of the 512 px one. Up to 512 px one scale is faster: at
# 512 px a pass at 256 px (10, 20 or 50 steps) cost more time than it saved in reaching the
# TF tutorial's 100-step loss (benchmarks/README.md).
COARSE_SIZE = 512
# Coarser scales get steps // 4 by default.
COARSE_STEP_FRACTION = 4


def scale_schedule(size: int, scales="auto") -> list[int]:
    """The image sizes (longest side) a coarse-to-fine run goes through, ending at ``size``.

    ``"auto"`` starts at :data:`COARSE_SIZE` and doubles (512, 1024, 2048, ...) until
    ``size``; ``None`` means a single scale; a list is used as given (it must rise and end
    at ``size``).
    """
    if scales is None:
        return [size]
    if isinstance(scales, str):
        if scales != "auto":
            raise ValueError(f"scales must be 'auto', None or a list of sizes, not {scales!r}")
        sizes = [size]
        while sizes[0] > COARSE_SIZE:
            sizes.insert(0, max(COARSE_SIZE, (sizes[0] + 1) // 2))
        return sizes
    sizes = [int(s) for s in scales]
    if not sizes or sizes[-1] != size or any(b <= a for a, b in itertools.pairwise(sizes)):
        raise ValueError(f"scales must be rising sizes ending at size={size}, got {scales!r}")
    return sizes


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
        The options the run used (for the record and to repeat it).
    """

    image: np.ndarray
    history: History
    stop_reason: str = STOP_COMPLETED
    settings: dict = field(default_factory=dict)

    @property
    def completed(self) -> bool:
        """True when the run did all its steps (or a callback stopped it on purpose)."""
        return self.stop_reason in (STOP_COMPLETED, "stopped by callback")

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
    moved to the style's, :func:`nstlab.color.shift_mean_color`; fastest, keeps the
    layout), ``"content"`` (an exact copy of the content image, as the TensorFlow tutorial
    starts), ``"noise"`` (uniform white noise, as in Gatys et al.), ``"style"`` (the style
    image resized), or an image of your own (resized to the content's size). ``style`` is
    one image or a list (mixed with ``style_weights`` for ``"tinted"``; ``"style"`` takes
    the first).
    """
    height, width = content.shape[:2]
    styles = list(style) if isinstance(style, list | tuple) else [style]
    if isinstance(init, str):
        if init == "tinted":
            return color.shift_mean_color(content, styles, style_weights)
        if init == "content":
            return content.copy()
        if init == "noise":
            rng = np.random.default_rng(seed)
            return rng.uniform(0.0, 1.0, size=content.shape).astype(np.float32)
        if init == "style":
            return resize_image(styles[0], (height, width))
        raise ValueError(f"unknown init {init!r}; choose one of {', '.join(INITS)} or an image")
    return resize_image(load_image(init), (height, width))


def _load_resume(resume, optimizer: str, levels: int) -> Checkpoint | None:
    if resume is None:
        return None
    checkpoint = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume)
    if checkpoint.optimizer != optimizer:
        raise CheckpointError(f"the checkpoint was made with optimizer {checkpoint.optimizer!r}, "
                              f"not {optimizer!r}")
    if checkpoint.scale_index >= levels:
        raise CheckpointError("the checkpoint was made with more scales: resume with the same "
                              "size and scales")
    return checkpoint


def stylize(
    content,
    style,
    *,
    size: int | None = 512,
    steps: int | None = None,
    optimizer: str = "lbfgs",
    backbone: str = "vgg16",
    content_layers=None,
    style_layers=None,
    style_layer_weights=None,
    content_weight: float = losses.DEFAULT_CONTENT_WEIGHT,
    style_weight: float = losses.DEFAULT_STYLE_WEIGHT,
    tv_weight: float = losses.DEFAULT_TV_WEIGHT,
    init="tinted",
    seed: int = 0,
    progress: bool = True,
    callbacks=(),
    learning_rate: float = ADAM_LEARNING_RATE,
    lbfgs_history: int = LBFGS_HISTORY,
    lbfgs_smoothing: int = LBFGS_SMOOTHING,
    style_scale: float = 1.0,
    style_blend_weights=None,
    pooling: str = "max",
    scales="auto",
    coarse_steps: int | None = None,
    style_masks=None,
    checkpoint_dir=None,
    checkpoint_every: int = 50,
    resume=None,
    preserve_color: str | None = None,
    color_match_mode: str = "sym",
    denoise: float | None = None,
    coarse_style=None,
    coarse_layers=None,
    precision: str = "auto",
) -> Result:
    """Paint ``content`` in the style of ``style`` (Gatys, Ecker & Bethge, 2016).

    Parameters
    ----------
    content : path, PIL image or array
        The photo whose arrangement is kept.
    style : path, PIL image, array, or a list of them
        The painting whose textures and colours are copied. Several styles are mixed with
        ``style_blend_weights``.
    size : int or None
        Longest side of the result in pixels (the content is resized to it); ``None`` keeps
        the content's size. The style image is resized to ``size * style_scale``.
    steps : int, optional
        Optimisation steps; default 200 for L-BFGS, 1000 for Adam.
    optimizer : "lbfgs" (default) or "adam"
    backbone : "vgg16" (default, offline) or "vgg19" (ImageNet, downloaded once)
    content_layers, style_layers : list of str, optional
        Keras layer names; defaults ``["block4_conv2"]`` and ``block1_conv1 ... block5_conv1``.
    style_layer_weights : list or dict, optional
        Relative weight of each style layer (normalised to sum to 1; default equal).
    content_weight, style_weight, tv_weight : float
        alpha, beta and the total-variation weight; see :mod:`nstlab.losses` for the
        convention. Raise ``style_weight`` for more style, ``tv_weight`` for smoother images.
    init : "tinted", "content", "noise", "style" or an image
        Where optimisation starts. ``"tinted"`` (default): the content image with its
        average colour moved to the style's (:func:`nstlab.color.shift_mean_color`), which
        reaches a given loss in fewer steps than the plain ``"content"`` (benchmarks); with
        ``style_masks`` it is the plain content, since unmasked regions keep the photo.
    seed : int
        Seeds Python, NumPy and TensorFlow: the same seed gives the same image on a CPU.
    progress : bool
        Show a progress bar.
    callbacks : list of callables
        Called after each step with a :class:`nstlab.optimize.StepInfo`; return ``True``
        to stop early.
    learning_rate : float
        Adam's step size (default 0.02, as in the TensorFlow tutorial).
    lbfgs_history : int
        L-BFGS memory (number of recent gradient pairs).
    lbfgs_smoothing : int
        Blur levels of L-BFGS's starting curvature guess (broad changes first; 0 for
        textbook L-BFGS). See :func:`nstlab.lbfgs.multiscale_smoothing`.
    style_scale : float
        Size of the style image relative to ``size``: smaller gives finer brush strokes.
    style_blend_weights : list of float, optional
        One weight per style image.
    pooling : "max" or "avg"
    scales : "auto", None or list of int
        Coarse-to-fine: optimise at small sizes first, upsample, and continue (see
        :func:`scale_schedule`). ``"auto"`` does this for sizes above 512 px, starting at
        512 px, so large results keep the look of small ones. ``None``: one scale.
    coarse_steps : int, optional
        Steps at each coarser scale (default: a quarter of ``steps``); ``steps`` is used at
        the final size.
    style_masks : list of masks, optional
        One mask per style image over the content (white = "this style here"); regions no
        mask covers keep the content. See :class:`nstlab.Objective`.
    checkpoint_dir : path, optional
        Save a checkpoint (image, history, optimiser state) there every ``checkpoint_every``
        steps and when the run ends, however it ends (see :mod:`nstlab.checkpoint`).
    resume : path or Checkpoint, optional
        Continue a checkpointed run: call ``stylize`` with the same images and options and
        ``resume=`` the checkpoint folder. The history continues the saved one.
    preserve_color : None, "luminance", "histogram" or "post"
        Keep the content's colours (Gatys et al. 2017, section 5; see :mod:`nstlab.color`).
        ``"luminance"``: optimise grey images (the content's luminance, and the style's
        with its mean and spread matched to the content's), then give the result the
        content's colours; callbacks and checkpoints see the grey image. ``"histogram"``:
        recolour the style to the content's colour mean and covariance before stylizing.
        ``"post"``: stylize normally, then swap in the content's colours.
    color_match_mode : "sym" (default), "cholesky" or "pca"
        How ``"histogram"`` matches the covariance (:func:`nstlab.color.match_color_statistics`).
    denoise : float, optional
        Strength of an edge-preserving filter applied to the final image
        (:func:`nstlab.color.denoise`; about 0.1 removes grain).
    coarse_style : path, PIL image or array, optional
        Scale control (Gatys et al. 2017, section 6): the coarse style layers take their
        targets from this image (resized like the style), the fine ones from ``style``.
    coarse_layers : list of str, optional
        The style layers matched to ``coarse_style`` (default: block 3 on,
        :func:`nstlab.losses.default_coarse_layers`).
    precision : "auto" (default), "float32", "mixed_float16" or "mixed_bfloat16"
        The network's arithmetic. ``"auto"`` picks the fastest this machine computes
        natively (:func:`nstlab.hardware.fastest_precision`): 16-bit mixed precision on
        GPUs with tensor cores and CPUs with bfloat16 instructions, float32 elsewhere. Gram
        matrices and losses stay float32 (see :class:`nstlab.Objective`); the images look
        the same, the loss differs in the third digit. ``result.settings["precision"]``
        records the choice; pass ``"float32"`` for the same numbers on every machine
        (:class:`nstlab.Objective`, the building block the notebooks use, is float32 unless
        asked).

    Returns
    -------
    Result
        ``.image`` (H, W, 3) float32 in [0, 1], ``.history``, ``.stop_reason``, ``.save()``.
        An interrupted run (Ctrl-C) or one whose loss turned non-finite still returns the
        last good image, with ``stop_reason`` saying so.
    """
    settings = {
        "size": size, "steps": steps, "optimizer": optimizer, "backbone": backbone,
        "content_layers": content_layers, "style_layers": style_layers,
        "style_layer_weights": style_layer_weights, "content_weight": content_weight,
        "style_weight": style_weight, "tv_weight": tv_weight,
        "init": init if isinstance(init, str) else "image", "seed": seed,
        "learning_rate": learning_rate, "lbfgs_history": lbfgs_history,
        "lbfgs_smoothing": lbfgs_smoothing, "style_scale": style_scale,
        "style_blend_weights": style_blend_weights,
        "pooling": pooling, "precision": precision, "coarse_steps": coarse_steps,
        "scales": scales,
        "style_masks": style_masks is not None, "preserve_color": preserve_color,
        "color_match_mode": color_match_mode, "denoise": denoise,
        "coarse_style": coarse_style is not None, "coarse_layers": coarse_layers,
    }
    if size is not None and (int(size) != size or size < 1):
        raise ValueError(f"size must be a positive whole number of pixels, got {size!r}")
    if not (np.isfinite(style_scale) and style_scale > 0):
        raise ValueError(f"style_scale must be a positive number, got {style_scale!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of {', '.join(OPTIMIZERS)}")
    if preserve_color is not None and preserve_color not in color.PRESERVE_COLOR:
        raise ValueError(f"unknown preserve_color {preserve_color!r}; choose None or one of "
                         f"{', '.join(color.PRESERVE_COLOR)}")
    if color_match_mode not in color.MODES:
        raise ValueError(f"unknown color_match_mode {color_match_mode!r}; choose one of "
                         f"{', '.join(color.MODES)}")
    if denoise is not None and not (np.isfinite(denoise) and denoise >= 0):
        raise ValueError(f"denoise must be a strength >= 0, got {denoise!r}")
    lbfgs.whole_number(lbfgs_history, "lbfgs_history", 1)  # checked before any network work
    lbfgs.whole_number(lbfgs_smoothing, "lbfgs_smoothing")
    precision = settings["precision"] = backbones.check_precision(precision)  # "auto" resolved
    steps = DEFAULT_STEPS[optimizer] if steps is None else int(steps)
    seed_everything(seed)
    content_full = load_image(content)
    size = size if size is not None else max(content_full.shape[:2])
    sizes = scale_schedule(size, scales)
    styles = style if isinstance(style, list | tuple) else [style]
    styles_full = [load_image(s) for s in styles]
    coarse_full = [] if coarse_style is None else [load_image(coarse_style)]
    colors_from = content_full
    if preserve_color == "histogram":
        styles_full, coarse_full = (
            [color.match_color_statistics(s, content_full, mode=color_match_mode) for s in group]
            for group in (styles_full, coarse_full))
    elif preserve_color == "luminance":
        _, coarse_full = color.luminance_only_inputs(content_full, coarse_full)
        content_full, styles_full = color.luminance_only_inputs(content_full, styles_full)

    checkpointer = (Checkpointer(checkpoint_dir, checkpoint_every, settings)
                    if checkpoint_dir is not None else None)
    resumed = _load_resume(resume, optimizer, len(sizes))
    first_level = resumed.scale_index if resumed else 0

    extractor = None
    image, history, stop_reason = None, None, STOP_COMPLETED
    for level, level_size in enumerate(sizes):
        if level < first_level:
            continue
        content_image = resize_image(content_full, level_size)
        style_size = max(1, round(level_size * style_scale))
        style_images = [resize_image(s, style_size) for s in styles_full]
        objective = losses.Objective(
            content_image,
            style_images,
            backbone=backbone,
            content_layers=content_layers,
            style_layers=style_layers,
            style_layer_weights=style_layer_weights,
            content_weight=content_weight,
            style_weight=style_weight,
            tv_weight=tv_weight,
            style_blend_weights=style_blend_weights,
            style_masks=style_masks,
            pooling=pooling,
            extractor=extractor,
            coarse_style=resize_image(coarse_full[0], style_size) if coarse_full else None,
            coarse_layers=coarse_layers,
            precision=precision,
        )
        extractor = objective.extractor  # built once, reused at every scale
        done, state = 0, None
        if resumed is not None and level == first_level:
            if resumed.image.shape != content_image.shape:
                raise CheckpointError(
                    f"the checkpoint's image is {resumed.image.shape[1]}x{resumed.image.shape[0]}"
                    f" px but this run needs {content_image.shape[1]}x{content_image.shape[0]}:"
                    " resume with the same images and size")
            start, history = resumed.image, resumed.history
            done, state = resumed.steps_in_scale, resumed.optimizer_state
        elif level == 0:
            masked_tint = isinstance(init, str) and init == "tinted" and style_masks is not None
            level_init = "content" if masked_tint else init
            start = initial_image(level_init, content_image, style_images, seed,
                                  style_blend_weights)
        else:
            start = resize_image(image, content_image.shape[:2])
        last = level == len(sizes) - 1
        level_steps = steps if last else (coarse_steps or max(1, steps // COARSE_STEP_FRACTION))
        if done >= level_steps:
            image = start
            continue
        if checkpointer is not None:
            checkpointer.scale_index, checkpointer.steps_before = level, done
        image, history, stop_reason = optimize_pixels(
            objective, start, steps=level_steps - done, optimizer=optimizer,
            learning_rate=learning_rate, lbfgs_history=lbfgs_history,
            lbfgs_smoothing=lbfgs_smoothing, callbacks=callbacks, progress=progress,
            history=history, checkpointer=checkpointer, optimizer_state=state,
        )
        if stop_reason != STOP_COMPLETED:
            break
    settings["scales"] = sizes
    if history is None:  # resumed a run that had already finished
        history = resumed.history
    if preserve_color in ("luminance", "post"):
        image = color.transfer_luminance(image, colors_from)
    if denoise:
        image = color.denoise(image, denoise)
    return Result(image=image, history=history, stop_reason=stop_reason, settings=settings)
