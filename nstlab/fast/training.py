"""Train a fast-style network: :func:`train_fast`.

Each step takes a batch of random photo crops, runs the transformation network on them,
and measures the result with :class:`nstlab.Objective`: the style loss against the
painting's Gram matrices, and the content loss against *each crop's own* features (the
content target changes with every batch, ``Objective(batch_content=True)``). The gradient
of that loss moves the network's weights, not any pixels: after training, the network
repaints a new photo in one pass.

The step is the ``GradientTape`` step of notebook 05a with the network in front of the loss,
compiled with ``tf.function`` and run by a ``tf.distribute`` strategy
(:mod:`nstlab.fast.strategy`).

Given several paintings, one network learns them all (Dumoulin, Shlens & Kudlur 2017): its
instance norms become conditional, with a scale and offset per style
(:class:`~nstlab.fast.network.ConditionalInstanceNormalization`), and the steps take the
styles in turn, step ``k`` training style ``k mod N`` with that style's one-hot weights and
its own :class:`nstlab.Objective` (one loss network serves them all; each painting may
have its own content and style weight, :meth:`~nstlab.fast.recipe.Recipe.loss_weights`).
The history then holds the styles' losses in turn too. A trained network can also learn
more styles (``add_to``) or some of its styles again (``retune``) with its convolutions
frozen: only those styles' scales and offsets learn (``make_train_step(learning_styles=)``).

``precision`` is that of :func:`nstlab.stylize` (:mod:`nstlab.engine.precision`): the
transformation network and the loss network compute in it, the Gram matrices and losses in
float32. Under ``"mixed_float16"`` the loss is scaled before the gradient is taken
(``keras.optimizers.LossScaleOptimizer``), because float16 gradients this small would
underflow to zero; bfloat16 has float32's range and needs no scaling. Whatever it trained in,
the network is saved and returned as a float32 one (the same weights).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from nstlab.engine.checkpoint import CheckpointWarning
from nstlab.engine.history import History
from nstlab.engine.losses import Objective
from nstlab.engine.optimize import (
    STOP_CALLBACK,
    STOP_COMPLETED,
    STOP_INTERRUPTED,
    STOP_NON_FINITE,
    StepInfo,
    caused_by_interrupt,
)
from nstlab.engine.precision import resolve_precision
from nstlab.fast import modelfile
from nstlab.fast.network import build_transformer, copy_with_more_styles, style_weights_only
from nstlab.fast.photos import find_photos, photo_batches
from nstlab.fast.plan import training_plan
from nstlab.fast.recipe import (
    CHECKPOINT_EVERY,
    DEFAULT_STEPS,
    SHIPPED_MODELS,
    Recipe,
    check_steps,
    model_path,
)
from nstlab.fast.strategy import make_strategy
from nstlab.imaging.images import load_image
from nstlab.run.transfer import seed_everything

PREVIEW_SIZE = 256  # px: the photo the live preview stylizes


@dataclass
class TrainingResult:
    """What :func:`train_fast` returns.

    Attributes
    ----------
    model : keras.Model
        The trained network (the last good weights, however the run ended).
    record : dict
        What its model file records (recipe, steps, seconds, history, ...).
    history : History
        The per-step, per-layer losses of all steps, resumed ones included.
    stop_reason : str
        ``"completed"``, ``"stopped by callback"``, ``"interrupted"`` (Ctrl-C) or
        ``"non-finite loss"`` (the weights before the loss became NaN are kept).
    path : Path or None
        The model file written (``checkpoint``), or None.
    """

    model: object
    record: dict
    history: History
    stop_reason: str
    path: Path | None = None

    @property
    def stylizer(self):
        """A :class:`nstlab.fast.FastStylizer` with the trained network."""
        from nstlab.fast.stylizer import FastStylizer

        return FastStylizer(self.model, self.record)

    def save(self, path) -> Path:
        """Write the model file (atomically) to ``path``."""
        return modelfile.save_model(self.model, path, self.record)


def network_inputs(photos, style=None):
    """What the network takes: ``photos``, or ``[photos, weights]`` for a multi-style one
    (``style``, one row of style weights, repeated for each photo)."""
    if style is None:
        return photos
    weights = tf.cast(style, tf.float32)[tf.newaxis]
    return [photos, tf.repeat(weights, tf.shape(photos)[0], axis=0)]


def make_train_step(model, objective: Objective, optimizer, strategy, style=None, *,
                    learning_styles=None):
    """The compiled training step: ``step(batch) -> (total, parts)``, weights updated.

    Each device computes the loss of its share of the batch; dividing by the number of
    devices makes the gradients (and losses) summed over the devices those of the mean over
    the whole batch, the same as on one device. ``style``: the style weights (one-hot) of a
    multi-style network's step, whose ``objective`` is that style's. ``learning_styles``:
    the indices of the only styles that learn (styles added to a trained network), their
    scales and offsets alone; the convolutions and the other styles stay as they are
    (:func:`~nstlab.fast.network.style_weights_only`). None: every weight learns.
    """
    replicas = strategy.num_replicas_in_sync
    alone = learning_styles is not None
    variables = style_weights_only(model) if alone else model.trainable_variables
    if alone:  # zero gradients leave Adam's moments, and so those rows, untouched
        rows = np.isin(np.arange(int(variables[0].shape[0])), list(learning_styles))
        learns = tf.constant(rows[:, np.newaxis], tf.float32)
    scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)

    def replica_step(photos):
        with tf.GradientTape() as tape:
            pictures = model(network_inputs(photos, style), training=True)
            total, parts = objective(pictures, content=photos)
            share = total / replicas
            # Under float16 the optimiser unscales the gradients (and skips a step whose
            # gradients overflowed) in apply_gradients.
            target = optimizer.scale_loss(share) if scaled else share
        gradients = tape.gradient(target, variables)
        if alone:
            gradients = [gradient * learns for gradient in gradients]
        # Inside strategy.run Keras' optimiser sums the gradients over the devices itself
        # (tests/fast/test_fast_strategy.py checks it), so each device's update is the same.
        optimizer.apply_gradients(zip(gradients, variables, strict=True))
        return share, {name: value / replicas for name, value in parts.items()}

    @tf.function
    def step(batch):
        total, parts = strategy.run(replica_step, args=(batch,))
        add = tf.distribute.ReduceOp.SUM
        return (strategy.reduce(add, total, axis=None),
                {name: strategy.reduce(add, value, axis=None) for name, value in parts.items()})

    return step


def train_fast(
    style,
    photos,
    *,
    steps: int = DEFAULT_STEPS,
    strategy="default",
    resume=None,
    add_to=None,
    retune=None,
    checkpoint=None,
    checkpoint_every: int = CHECKPOINT_EVERY,
    progress: bool = True,
    callbacks: Iterable[Callable[[StepInfo], bool | None]] = (),
    precision: str = "auto",
    **recipe,
) -> TrainingResult:
    """Train an image transformation network to paint photos in the style of ``style``.

    Parameters
    ----------
    style : image, or a list of images
        The painting (a path or an array; :func:`nstlab.load_image`), loaded with its
        longest side ``style_size`` px. Several paintings train one network for all of
        them (conditional instance normalisation; see the module).
    photos : folder, list of files, or ``"samples"``
        The training photos (:func:`nstlab.fast.photos.find_photos`); ``"samples"`` uses the
        photos installed with nstlab (:func:`nstlab.fast.photos.sample_photos`).
    steps : int
        Training steps for this call (a resumed run adds them to those already done).
    strategy : "default", "mirrored", "multi-worker" or a ``tf.distribute.Strategy``
        Where to train (:mod:`nstlab.fast.strategy`).
    resume : path, optional
        A model file written by an earlier run (its ``checkpoint``): go on from its weights,
        step count and history, with its recipe (recipe options given here must match it).
    add_to : model file or shipped name, optional
        A trained network to add ``style`` (one painting or several) to, as Dumoulin et al.
        (2017) do: the new network paints the network's styles and the new ones, and learns
        only the new styles' scales and offsets (the convolutions and the other styles stay
        as they are), so a few hundred steps teach it a painting. The recipe is the
        network's; ``content_weight`` and ``style_weight`` given here are the new styles'.
    retune : model file or shipped name, optional
        A trained network to train some of its styles again: ``style`` names them (files
        whose names are the network's style names, such as the shipped ``shipwreck.jpg``),
        and only their scales and offsets learn, from where they are; the convolutions and
        the other styles stay bit for bit. For a style that came out too dark or too
        faint, with new loss weights (``content_weight``, ``style_weight``,
        ``luminance_weight``), in a few hundred steps. The rest of the recipe is the
        network's.
    checkpoint : path, optional
        Save the model file here every ``checkpoint_every`` steps and when the run ends,
        however it ends. A save that fails only warns (``CheckpointWarning``).
    progress : bool
        Show a progress bar.
    callbacks : callables
        Called after every step with a :class:`nstlab.StepInfo` (``info.image`` is the
        network's picture of the first photo); returning True stops the run. In a notebook,
        ``nstlab.lab.live.LivePreview`` is such a callback: it shows that picture and the
        losses while the network trains, as it does for :func:`nstlab.stylize`.
    precision : "auto" (default), "float32", "mixed_bfloat16" or "mixed_float16"
        The arithmetic of both networks (:func:`nstlab.engine.precision.resolve_precision`:
        ``"auto"`` is bfloat16 on a CPU with bfloat16 instructions); losses stay float32.
        Not part of the recipe (the weights are float32 whatever it is): the model file
        records the precision of each run in ``record["precisions"]``.
    **recipe
        Any field of :class:`nstlab.fast.recipe.Recipe`: ``size``, ``batch_size``,
        ``width``, ``residual_blocks``, ``learning_rate``, ``style_size``,
        ``content_weight``, ``style_weight``, ``tv_weight``, ``luminance_weight``,
        ``content_layers``, ``backbone``, ``seed``. With several paintings,
        ``content_weight``, ``style_weight`` and ``luminance_weight`` may give one weight per
        painting (a tuple, in their order).

    Returns
    -------
    TrainingResult
        ``.model``, ``.history``, ``.stop_reason``, ``.stylizer``, ``.save(path)``.
    """
    steps = check_steps(steps)
    precision = resolve_precision(precision)
    unknown = sorted(set(recipe) - set(Recipe.__dataclass_fields__))
    if unknown:
        raise TypeError(f"train_fast() got an unexpected keyword argument {unknown[0]!r}")
    styles = list(style) if isinstance(style, list | tuple) else [style]
    decided = training_plan(recipe, styles, resume=resume, add_to=add_to, retune=retune)
    plan, learning, every_style = decided.recipe, decided.learning, decided.styles
    record = decided.record if resume is not None else None  # the run to continue
    loss_weights = plan.loss_weights(every_style)
    paths = find_photos(photos)
    style_images = [load_image(painting, max_size=plan.style_size) for painting in styles]
    source = resume or add_to or retune
    start = modelfile.load_model(model_path(source))[0] if source is not None else None
    done = int(record["steps"]) if record else 0
    seed_everything(plan.seed + done)
    if isinstance(strategy, str):
        strategy = make_strategy(strategy)

    with strategy.scope():
        model = build_transformer(plan.width, plan.residual_blocks, styles=every_style,
                                  precision=precision)
        if decided.start == "add_to":
            copy_with_more_styles(start, model)
        elif start is not None:
            model.set_weights(start.get_weights())
        objectives = []
        for image, index in zip(style_images, learning, strict=True):
            objectives.append(Objective(  # one loss network (extractor) for all the styles
                None, image, batch_content=True, backbone=plan.backbone,
                content_layers=list(plan.content_layers), tv_weight=plan.tv_weight,
                precision=precision, extractor=objectives[0].extractor if objectives else None,
                **loss_weights[index]))
        optimizer = keras.optimizers.Adam(plan.learning_rate)
        if precision == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        optimizer.build(style_weights_only(model) if decided.norms_only
                        else model.trainable_variables)
    one_hot = np.eye(every_style, dtype=np.float32)
    steps_by_style = [make_train_step(model, objective, optimizer, strategy,
                                      one_hot[index] if every_style > 1 else None,
                                      learning_styles=learning if decided.norms_only else None)
                      for index, objective in zip(learning, objectives, strict=True)]
    batches = strategy.experimental_distribute_dataset(
        photo_batches(paths, plan.size, plan.batch_size, seed=plan.seed, start=done))

    history = (History.from_dict(record["history"]) if record
               else History(objectives[0].content_layers, objectives[0].style_layers))
    precisions = [*(record.get("precisions", []) if record else []), precision]
    names = list(modelfile.recorded_styles(decided.record))[:every_style] if source else []
    names += [None] * (every_style - len(names))  # the places of styles being added
    for index, painting in zip(learning, styles, strict=True):
        names[index] = painting
    run = _Run(model, plan, history, done, names, paths, checkpoint, checkpoint_every,
               precisions, _origin(decided, source), learning[0])
    run.train(steps_by_style, batches, steps, list(callbacks), progress)
    return TrainingResult(run.float32_model(), run.record(), history, run.stop_reason,
                          run.saved_path)


def _origin(decided, source) -> dict:
    """What a record says of the network a run started from: ``added_to`` (the network, how
    many styles it had) or ``retuned`` (the network, the styles trained again), each with the
    network's own ``steps``, ``seconds`` and ``precisions``; a resumed run keeps its file's."""
    if decided.start == "resume":
        return {key: decided.record[key] for key in ("added_to", "retuned")
                if key in decided.record}
    if decided.start is None:
        return {}
    network = {"model": _model_name(source), **{key: decided.record.get(key) for key in (
        "steps", "seconds", "precisions")}}
    if decided.start == "add_to":
        return {"added_to": {**network, "styles": decided.learning[0]}}
    names = modelfile.style_names(decided.record)
    return {"retuned": {**network, "styles": [names[index] for index in decided.learning]}}


def _model_name(model) -> str:
    """How a record names the network a run started from (styles added to it, or retuned in
    it): a shipped name, or a file's."""
    return model if isinstance(model, str) and model in SHIPPED_MODELS else Path(model).name


class _Run:
    """One training run's bookkeeping: weights to keep, history, checkpoints, stopping."""

    def __init__(self, model, plan: Recipe, history: History, done: int, styles: list, paths,
                 checkpoint, checkpoint_every: int, precisions: list[str],
                 origin: dict | None = None, first_style: int = 0):
        self.model, self.plan, self.history, self.done = model, plan, history, done
        self.precisions, self.origin, self.first_style = precisions, origin or {}, first_style
        self._export = None
        self.style_names = [Path(style).name if isinstance(style, str | Path) else "<image>"
                            for style in styles]
        self.photo_names = [path.name for path in paths]
        self.preview_photo = load_image(paths[0], max_size=PREVIEW_SIZE)[np.newaxis]
        self.checkpoint = None if checkpoint is None else Path(checkpoint)
        self.every = check_steps(checkpoint_every)
        self.stop_reason = STOP_COMPLETED
        self.saved_path: Path | None = None
        self.warned = False
        self.time_offset = history.time[-1] if len(history) else 0.0

    def record(self) -> dict:
        """What the model file records about this network."""
        return {"backbone": self.plan.backbone, "recipe": self.plan.to_dict(),
                "steps": self.done, "seconds": self.time_offset if not len(self.history)
                else float(self.history.time[-1]),
                "final_loss": float(self.history.total[-1]) if len(self.history) else None,
                "style": self.style_names[0], "styles": self.style_names,
                "photos": self.photo_names,
                "precisions": self.precisions, "history": self.history.to_dict(),
                **self.origin}

    def float32_model(self):
        """The trained network as a float32 one (itself when it trained in float32)."""
        if self.precisions[-1] == "float32":
            return self.model
        if self._export is None:
            self._export = build_transformer(self.plan.width, self.plan.residual_blocks,
                                             styles=len(self.style_names))
        self._export.set_weights(self.model.get_weights())
        return self._export

    def picture(self) -> np.ndarray:
        """The first photo as the saved model would paint it now, in the first style it
        trains."""
        first = np.eye(len(self.style_names), dtype=np.float32)[self.first_style] if len(
            self.style_names) > 1 else None
        inputs = network_inputs(self.preview_photo, first)
        return np.asarray(self.float32_model()(inputs, training=False))[0]

    def train(self, steps_by_style, batches, steps: int, callbacks, progress: bool) -> None:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps, desc="train-fast", unit="step", disable=not progress)
        start = time.perf_counter()
        latest = self.model.get_weights()  # the weights after the last complete step
        verified = latest  # the last weights whose loss was finite
        try:
            for count, batch in enumerate(batches, start=1):
                total, parts = steps_by_style[self.done % len(steps_by_style)](batch)
                total = float(total)
                if not math.isfinite(total):
                    self.model.set_weights(verified)
                    self.stop_reason = STOP_NON_FINITE
                    break
                verified, latest = latest, self.model.get_weights()
                self.done += 1
                parts = {name: float(value) for name, value in parts.items()}
                elapsed = self.time_offset + time.perf_counter() - start
                self.history.append(parts, total, elapsed)
                bar.set_postfix_str(f"loss={total:.4g}", refresh=False)
                bar.update(1)
                info = StepInfo(self.done, total, parts, elapsed,
                                (self.plan.size, self.plan.size), self.picture)
                if any([bool(callback(info)) for callback in callbacks]):
                    self.stop_reason = STOP_CALLBACK
                    break
                if self.done % self.every == 0:
                    self.save()
                if count >= steps:
                    break
        except (KeyboardInterrupt, SystemError) as error:
            if not caused_by_interrupt(error):
                raise
            self.model.set_weights(latest)
            self.stop_reason = STOP_INTERRUPTED
        finally:
            bar.close()
        if self.stop_reason == STOP_NON_FINITE:
            warnings.warn(f"the loss became NaN or infinite after {self.done} steps; kept the "
                          "weights from before (try a smaller learning_rate)", RuntimeWarning,
                          stacklevel=3)
        self.save()

    def save(self) -> None:
        """Write the checkpoint (if asked for); a failure warns once and the run goes on."""
        if self.checkpoint is None:
            return
        try:
            self.saved_path = modelfile.save_model(self.float32_model(), self.checkpoint,
                                                   self.record())
        except OSError as error:
            if not self.warned:
                self.warned = True
                warnings.warn(f"could not save the model to '{self.checkpoint}' "
                              f"({error.strerror or error}); the run goes on",
                              CheckpointWarning, stacklevel=3)

