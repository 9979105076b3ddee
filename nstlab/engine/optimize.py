"""Optimise the pixels of an image to minimise an :class:`~nstlab.Objective`.

Two optimisers:

* ``"adam"``: the loop of notebook 05a and the TensorFlow tutorial. One step computes the
  loss under a ``tf.GradientTape``, takes the gradient with respect to the *pixels*,
  applies an Adam update and clips the pixels back to [0, 1]. The step is a ``tf.function``,
  so it runs as one compiled graph, on a GPU when TensorFlow sees one.
* ``"lbfgs"``: the default. L-BFGS with every pixel held in [0, 1] (:mod:`nstlab.engine.lbfgs`), fed
  the same loss and gradient (also a ``tf.function``). It builds a picture of the loss
  surface's curvature from recent gradients, starting from a guess that lets broad changes
  move further than pixel-scale ones, and needs far fewer steps than Adam.

:func:`optimize_pixels` is the loop on its own (any objective, any start image);
:func:`nstlab.stylize` (in ``nstlab.stylize``) loads images and calls it.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import tensorflow as tf

from nstlab.base.validators import check_choice, check_number
from nstlab.engine import lbfgs
from nstlab.engine.checkpoint import Checkpointer, CheckpointError
from nstlab.engine.defaults import (
    ADAM_LEARNING_RATE,
    DEFAULT_STEPS,
    LBFGS_HISTORY,
    LBFGS_SMOOTHING,
    OPTIMIZERS,
)
from nstlab.engine.history import History

# The rest of the TensorFlow tutorial's Adam settings (style_transfer.ipynb in tensorflow/docs).
ADAM_BETA_1 = 0.99
ADAM_EPSILON = 0.1


class _HideRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "triggered tf.function retracing" warnings.

    Every run compiles its own step for its own objective and image size, on purpose; after a
    few runs in one session (a gallery, a grid) TensorFlow would warn about it as if it were
    a mistake.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


tf.get_logger().addFilter(_HideRetracingWarnings())

STOP_COMPLETED = "completed"
STOP_CALLBACK = "stopped by callback"
STOP_INTERRUPTED = "interrupted"
STOP_NON_FINITE = "non-finite loss"


@dataclass
class StepInfo:
    """What a callback sees after each step.

    Attributes
    ----------
    step : int
        The step number, from 1 (continuing the history when one is passed in).
    total : float
        The total loss at this step.
    parts : dict
        ``{"content/<layer>": ..., "style/<layer>": ..., "tv": ...}`` as floats.
    elapsed : float
        Seconds since the run started.
    size : tuple
        (height, width) of the image being optimised (it grows in coarse-to-fine runs).
    image : array
        The current image, (H, W, 3) float32 in [0, 1] (computed when you ask for it).
    """

    step: int
    total: float
    parts: dict[str, float]
    elapsed: float
    size: tuple[int, int]
    _get_image: Callable[[], np.ndarray] = field(repr=False)

    @property
    def image(self) -> np.ndarray:
        return self._get_image()


class _Run:
    """Bookkeeping shared by both optimisers: history, progress bar, callbacks, stopping."""

    def __init__(self, objective, history: History, steps: int, callbacks, progress: bool,
                 description: str, size: tuple[int, int], checkpointer=None):
        from tqdm.auto import tqdm

        self.optimizer_name = description
        self.checkpointer = checkpointer
        # Recorded in checkpoints, so a resumed run can check it uses the same network.
        self.backbone = getattr(getattr(objective, "extractor", None), "backbone", None)
        # Set by the optimiser loop: the image to keep, and the optimiser's state to save.
        self.current_image: Callable[[], np.ndarray] = lambda: None
        self.optimizer_state: Callable[[], list] = list
        self.objective = objective
        self.history = history
        self.steps = steps
        self.size = size
        self.callbacks = list(callbacks)
        self.start = time.perf_counter()
        self.time_offset = history.time[-1] if len(history) else 0.0
        # Step numbers continue an existing history (coarse-to-fine levels, resumed runs).
        self.first_step = len(history)
        self.step = self.first_step
        self.stop_reason = STOP_COMPLETED
        self.bar = tqdm(total=steps, desc=description, unit="step", disable=not progress,
                        leave=True)

    def record(self, total, parts, get_image) -> bool:
        """Record one step; return True when the run should stop now."""
        self.step += 1
        parts = {name: float(value) for name, value in parts.items()}
        total = float(total)
        elapsed = self.time_offset + time.perf_counter() - self.start
        self.history.append(parts, total, elapsed)
        self.bar.set_postfix_str(f"loss={total:.4g}", refresh=False)
        self.bar.update(1)
        info = StepInfo(self.step, total, parts, elapsed, self.size, get_image)
        stop = False
        for callback in self.callbacks:
            stop = bool(callback(info)) or stop
        if stop:
            self.stop_reason = STOP_CALLBACK
        done = self.step - self.first_step
        if self.checkpointer is not None and done % self.checkpointer.every == 0:
            self.save_checkpoint()
        return stop or done >= self.steps

    def save_checkpoint(self) -> None:
        """Hand the checkpointer the image, history and optimiser state of the run so far."""
        self.checkpointer.save(self.current_image(), self.history, self.optimizer_name,
                               self.optimizer_state(), steps_done=self.step - self.first_step,
                               backbone=self.backbone)

    def close(self) -> None:
        self.bar.close()


def _to_image(batch) -> np.ndarray:
    return np.asarray(batch, dtype=np.float32).reshape(np.shape(batch)[-3:])


def _run_adam(run: _Run, image: tf.Variable, learning_rate: float, state=None) -> None:
    import keras

    optimizer = keras.optimizers.Adam(learning_rate=learning_rate, beta_1=ADAM_BETA_1,
                                      epsilon=ADAM_EPSILON)
    optimizer.build([image])
    if state:
        saved = [np.shape(value) for value in state]
        needed = [tuple(variable.shape) for variable in optimizer.variables]
        if saved != needed:
            raise CheckpointError(f"the saved Adam state (arrays of shapes {saved}) does not fit "
                                  f"this run, which needs {needed}")
        for variable, value in zip(optimizer.variables, state, strict=True):
            variable.assign(value)
    run.optimizer_state = lambda: [np.asarray(v) for v in optimizer.variables]
    objective = run.objective

    @tf.function
    def train_step():
        with tf.GradientTape() as tape:
            total, parts = objective(image)
        gradient = tape.gradient(total, image)
        finite = tf.math.is_finite(total) & tf.reduce_all(tf.math.is_finite(gradient))
        if finite:  # never write a NaN into the image: it would be lost for good
            optimizer.apply_gradients([(gradient, image)])
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return total, parts, finite

    def current_image():
        return _to_image(image.numpy())

    run.current_image = current_image
    while True:
        total, parts, finite = train_step()
        if not bool(finite):
            run.stop_reason = STOP_NON_FINITE
            return
        if run.record(total, parts, current_image):
            return


def make_loss_and_gradient(objective, shape):
    """A compiled function: pixels of ``shape`` -> (total, parts, gradient of total).

    This is the whole computation of one step; L-BFGS calls it, and the benchmarks time it.
    """

    # autograph=False: the loss has no tensor-dependent Python control flow, and not
    # converting it saves about 0.4 s of the first trace.
    @tf.function(input_signature=[tf.TensorSpec(shape, tf.float32)], autograph=False)
    def loss_and_gradient(pixels):
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            total, parts = objective(pixels)
        return total, parts, tape.gradient(total, pixels)

    return loss_and_gradient


def caused_by_interrupt(error: BaseException) -> bool:
    """Whether ``error`` wraps a Ctrl-C (or SIGTERM) that arrived inside TensorFlow's C code.

    A signal that lands while TensorFlow is converting an array surfaces as a SystemError
    ("returned a result with an exception set") whose cause is the KeyboardInterrupt.
    """
    while error is not None:
        if isinstance(error, KeyboardInterrupt):
            return True
        error = error.__cause__ or error.__context__
    return False


def _run_lbfgs(run: _Run, image: tf.Variable, history_size: int, smoothing: int) -> None:
    loss_and_gradient = make_loss_and_gradient(run.objective, tuple(image.shape))
    optimizer = lbfgs.BoxLBFGS(loss_and_gradient, image, history_size, smoothing)

    def current_image():
        return _to_image(optimizer.pixels.numpy())

    run.current_image = current_image
    try:
        while True:
            status = optimizer.step()
            if status == lbfgs.NON_FINITE:
                run.stop_reason = STOP_NON_FINITE
                return
            if status == lbfgs.STUCK:  # a minimum along every direction it could find
                return
            if run.record(optimizer.loss, optimizer.parts, current_image):
                return
    finally:
        # The optimiser only ever moves to a point with a lower, finite loss: keep it.
        image.assign(optimizer.pixels)


def optimize_pixels(
    objective,
    start,
    *,
    steps: int | None = None,
    optimizer: str = "lbfgs",
    learning_rate: float = ADAM_LEARNING_RATE,
    lbfgs_history: int = LBFGS_HISTORY,
    lbfgs_smoothing: int = LBFGS_SMOOTHING,
    callbacks: Iterable[Callable[[StepInfo], bool | None]] = (),
    progress: bool = True,
    history: History | None = None,
    checkpointer: Checkpointer | None = None,
    optimizer_state=None,
) -> tuple[np.ndarray, History, str]:
    """Minimise ``objective`` over the pixels of an image, starting from ``start``.

    :func:`nstlab.stylize` passes its options of the same names (``steps``, ``optimizer``,
    ``learning_rate``, ``lbfgs_history``, ``lbfgs_smoothing``).

    Parameters
    ----------
    objective : callable
        ``objective(batch) -> (total, parts)``, e.g. an :class:`nstlab.Objective`.
    start : array (H, W, 3) or (1, H, W, 3), float in [0, 1]
        The starting image.
    steps : int, optional
        Optimisation steps (L-BFGS iterations or Adam updates). Default:
        :data:`DEFAULT_STEPS` for the optimiser.
    optimizer : "lbfgs" or "adam"
    learning_rate : float
        Adam's step size (the TensorFlow tutorial's 0.02 by default).
    lbfgs_history : int
        How many recent gradients L-BFGS keeps to estimate curvature.
    lbfgs_smoothing : int
        Blur levels (2, 4, ... 2**n px) of L-BFGS's starting curvature guess, which lets
        broad changes move first (:func:`nstlab.engine.lbfgs.multiscale_smoothing`); 0 for
        textbook L-BFGS.
    callbacks : iterable of callables
        Each is called as ``callback(info)`` after every step with a :class:`StepInfo`;
        returning ``True`` stops the run early.
    progress : bool
        Show a progress bar (tqdm; a widget in notebooks).
    history : History, optional
        Continue recording into an existing history (e.g. when resuming).
    checkpointer : Checkpointer, optional
        Save a checkpoint every few steps and when the run ends, however it ends. A save
        that fails (full disk, read-only folder) is a warning and the run goes on.
    optimizer_state : list of arrays, optional
        Adam's saved state, to continue a checkpointed run exactly.

    Returns
    -------
    (image, history, stop_reason)
        The final image (H, W, 3) float32 in [0, 1]; the :class:`History`; and why the run
        ended: ``"completed"``, ``"stopped by callback"``, ``"interrupted"`` (Ctrl-C: the
        image so far is kept) or ``"non-finite loss"`` (the last finite image is kept).
        L-BFGS also completes early, with fewer steps in the history, when no step along
        its direction lowers the loss any more (a minimum, to float32 precision).
    """
    check_choice(optimizer, OPTIMIZERS, "optimizer")
    steps = check_number(DEFAULT_STEPS[optimizer] if steps is None else steps, "steps",
                         whole=True, at_least=1)
    history_size = check_number(lbfgs_history, "lbfgs_history", whole=True, at_least=1)
    smoothing = check_number(lbfgs_smoothing, "lbfgs_smoothing", whole=True, at_least=0)
    pixels = np.asarray(start, dtype=np.float32)
    if pixels.ndim == 3:
        pixels = pixels[np.newaxis]
    if pixels.ndim != 4 or pixels.shape[0] != 1 or pixels.shape[-1] != 3:
        raise ValueError(f"start must be one RGB image (H, W, 3), got shape {pixels.shape}")
    if history is None:
        history = History(getattr(objective, "content_layers", ()),
                          getattr(objective, "style_layers", ()))
    image = tf.Variable(np.clip(pixels, 0.0, 1.0), name="pixels")
    run = _Run(objective, history, steps, callbacks, progress, optimizer,
               size=tuple(pixels.shape[1:3]), checkpointer=checkpointer)
    try:
        if optimizer == "adam":
            _run_adam(run, image, learning_rate, optimizer_state)
        else:
            _run_lbfgs(run, image, history_size, smoothing)
    except (KeyboardInterrupt, SystemError) as error:
        if not caused_by_interrupt(error):
            raise
        run.stop_reason = STOP_INTERRUPTED
    finally:
        run.close()
    if checkpointer is not None and run.step > run.first_step:
        run.save_checkpoint()
    if run.stop_reason == STOP_NON_FINITE:
        warnings.warn(
            f"the loss became NaN or infinite at step {run.step + 1}; stopped and kept the last "
            "finite image. Try smaller weights or, with Adam, a smaller learning rate.",
            RuntimeWarning, stacklevel=2)
    return _to_image(image.numpy()), history, run.stop_reason
