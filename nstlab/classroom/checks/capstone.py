"""Checks for the capstone of notebook 07: style transfer built from your own pieces.

The capstone loads the functions of earlier exercises from ``my_nst.py``
(:mod:`nstlab.classroom.pieces`: ``preprocess`` and ``feature_model`` from 01,
``content_loss`` from 02, ``gram_matrix`` and ``style_loss`` from 03, ``total_variation`` and
``total_loss`` from 04, ``train_step`` from 05a) and joins them in a compiled loop,
``my_stylize``. :func:`check_feature_model` checks 01's feature model;
:func:`check_my_style_transfer` runs the whole loop on a real photo and painting and
compares it with the package.

In the capstone every piece must be yours: while ``my_stylize`` runs, calling nstlab's own
version of any piece (or Keras's Adam) is refused, as in the exercise of each piece.
"""

from __future__ import annotations

import contextlib
import functools
import math
import sys

import numpy as np

from nstlab.classroom.checks._base import (
    CheckFailed,
    NotDoneYet,
    Solver,
    exercise_check,
    expect,
    input_rng,
)
from nstlab.classroom.pieces import PIECES as _KEPT_PIECES

__all__ = ["check_feature_model", "check_my_style_transfer"]

#: The pair the capstone check stylizes: Grace Hopper and The Starry Night, this many px.
CAPSTONE_SIZE = 64
#: Adam steps of the check's run (yours and the package's, from the same start).
CAPSTONE_STEPS = 6
#: How far the package's loss of your image may be from that of its own image: 5%.
CAPSTONE_TOLERANCE = 0.05
#: The pieces of the capstone, in the course's order (:data:`nstlab.classroom.pieces.PIECES`).
PIECES = tuple(_KEPT_PIECES)

_WHY = "which does one of the pieces for you: in the capstone, use your own"
#: nstlab's (and Keras's) versions of the pieces, which ``my_stylize`` may not call.
CAPSTONE_SOLVERS = (
    Solver("nstlab.preprocess", target="nstlab.engine.backbones.preprocess", why=_WHY),
    Solver("a keras.applications preprocess_input",
           target="keras.applications.imagenet_utils.preprocess_input", why=_WHY),
    Solver("nstlab.FeatureExtractor", target="nstlab.engine.features.FeatureExtractor.__call__",
           why=_WHY),
    Solver("nstlab.gram_matrix", target="nstlab.engine.losses.gram_matrix", why=_WHY),
    Solver("nstlab.engine.losses.masked_gram_matrix", why=_WHY),
    Solver("nstlab.content_loss", target="nstlab.engine.losses.content_loss", why=_WHY),
    Solver("nstlab.style_loss", target="nstlab.engine.losses.style_loss", why=_WHY),
    Solver("nstlab.total_variation_loss", target="nstlab.engine.losses.total_variation_loss",
           why=_WHY),
    Solver("tf.image.total_variation", target="tensorflow.image.total_variation", why=_WHY),
    Solver("nstlab.Objective", target="nstlab.engine.losses.Objective.__init__", why=_WHY),
    Solver("nstlab.Objective", target="nstlab.engine.losses.Objective.__call__", why=_WHY),
    Solver("nstlab.optimize_pixels", target="nstlab.engine.optimize.optimize_pixels", why=_WHY),
    Solver("keras.optimizers.Adam", target="keras.optimizers.Adam.update_step", why=_WHY),
)


def capstone_weights() -> dict[str, float]:
    """The loss weights of the check's run: the package defaults, under 04's key names."""
    from nstlab.engine.defaults import (
        DEFAULT_CONTENT_WEIGHT,
        DEFAULT_STYLE_WEIGHT,
        DEFAULT_TV_WEIGHT,
    )

    return {"content_weight": DEFAULT_CONTENT_WEIGHT, "style_weight": DEFAULT_STYLE_WEIGHT,
            "tv_weight": DEFAULT_TV_WEIGHT}


@functools.cache
def capstone_pair() -> tuple[np.ndarray, np.ndarray]:
    """(photo, painting): Grace Hopper and The Starry Night at :data:`CAPSTONE_SIZE`, read-only."""
    from nstlab.imaging.data import load_sample

    pair = (load_sample("grace_hopper", max_size=CAPSTONE_SIZE),
            load_sample("starry_night", max_size=CAPSTONE_SIZE))
    for image in pair:
        image.setflags(write=False)
    return pair


# --------------------------------------------------------------------------- not done yet


def _raised_by(error: BaseException) -> str:
    """The name of the function in which ``error`` was raised (the innermost frame)."""
    traceback = error.__traceback__
    while traceback.tb_next is not None:
        traceback = traceback.tb_next
    return traceback.tb_frame.f_code.co_name


def _probes():
    """For each piece, a call with tiny inputs: enough to see whether it is still a stub."""
    import tensorflow as tf

    def train_step(piece):
        image = tf.Variable(tf.fill((1, 4, 4, 3), 0.5))
        state = {"m": tf.zeros_like(image), "v": tf.zeros_like(image), "t": 0}
        return piece(image, lambda x: (tf.reduce_sum(tf.square(x)), {}), state)

    features = np.ones((1, 2, 2, 3), np.float32)
    parts = {"content/block4_conv2": 1.0, "style/block1_conv1": 1.0, "tv": 1.0}
    return {
        "preprocess": lambda piece: piece(np.zeros((4, 4, 3), np.float32)),
        "feature_model": lambda piece: piece(["block1_conv1", "block1_conv2"]),
        "gram_matrix": lambda piece: piece(features[0]),
        "content_loss": lambda piece: piece(features, features),
        "style_loss": lambda piece: piece(features, np.eye(3, dtype=np.float32)),
        "mean_std_loss": lambda piece: piece(features, features),
        "total_variation": lambda piece: piece(np.zeros((4, 4, 3), np.float32)),
        "total_loss": lambda piece: piece(parts, capstone_weights()),
        "train_step": train_step,
    }


def unfinished(pieces) -> list[str]:
    """The names of the functions among ``pieces`` (and those they call) that are stubs.

    Each piece is called on tiny inputs; one that raises ``NotImplementedError`` is listed
    under the name of the function that raised it (``style_loss`` may be waiting for
    ``gram_matrix``). Other errors are left to each piece's own check.
    """
    probes = _probes()
    left = []
    for piece in pieces:
        probe = probes.get(getattr(piece, "__name__", ""), lambda function: function())
        try:
            probe(piece)
        except NotImplementedError as error:
            name = _raised_by(error)
            if name not in left:
                left.append(name)
        except Exception:  # noqa: S110 -- written, maybe wrong: its own check says how
            pass
    return left


def cuts_the_gradient(pieces) -> list[str]:
    """The names of the pieces through which ``tf.GradientTape`` cannot follow.

    A piece that computes with NumPy (``np.asarray``, ``np.mean``, ``float(...)``) returns
    numbers the tape did not record: the gradient of the loss with respect to the pixels is
    then ``None``. Each differentiable piece is called on a small ``tf.Variable``; pieces
    that raise are left to their own checks.
    """
    import tensorflow as tf

    def parts(x):
        total = tf.reduce_sum(x)
        return {"content/block4_conv2": total, "style/block1_conv1": total, "tv": total}

    calls = {
        "preprocess": lambda piece, x: piece(x),
        "gram_matrix": lambda piece, x: piece(x[0]),
        "content_loss": lambda piece, x: piece(x, tf.zeros_like(x)),
        "style_loss": lambda piece, x: piece(x, tf.eye(3)),
        "total_variation": lambda piece, x: piece(x[0]),
        "total_loss": lambda piece, x: piece(parts(x), capstone_weights()),
    }
    x = tf.Variable(input_rng(0).uniform(size=(1, 4, 5, 3)).astype(np.float32))
    cut = []
    for piece in pieces:
        call = calls.get(getattr(piece, "__name__", ""))
        if call is None:
            continue
        try:
            with tf.GradientTape() as tape:
                value = tf.reduce_sum(tf.cast(call(piece, x), tf.float32))
        except Exception:  # noqa: S112 -- its own check says what is wrong
            continue
        if tape.gradient(value, x) is None:
            cut.append(piece.__name__)
    return cut


def _no_gradient_through(pieces) -> None:
    """Fail with the pieces that cut the gradient off, if there are any."""
    cut = cuts_the_gradient(pieces)
    expect(not cut, f"tf.GradientTape cannot follow the pixels through {', '.join(cut)}: it "
                    "computes with NumPy (np.asarray, np.mean, float(...)), so the gradient is "
                    "None. Rewrite it with tf. operations")


# --------------------------------------------------------------------------- the feature model


@exercise_check("feature model")
def check_feature_model(feature_model):
    """``feature_model(layers)``: a ``keras.Model`` from preprocessed VGG16 input to a list
    with the activations of each of ``layers``, in that order, equal to
    :class:`nstlab.FeatureExtractor`'s."""
    import keras

    from nstlab.engine.backbones import preprocess
    from nstlab.engine.features import FeatureExtractor

    photo, _ = capstone_pair()
    layers = ["block3_conv1", "block1_conv1", "block2_conv2"]  # not in network order
    model = feature_model(list(layers))
    expect(isinstance(model, keras.Model),
           f"feature_model should return a keras.Model, got {type(model).__name__}: "
           "keras.Model(vgg.input, [vgg.get_layer(name).output for name in layers])")
    outputs = model(preprocess(photo[np.newaxis]))
    outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
    expect(len(outputs) == len(layers),
           f"for {len(layers)} layers the model should have {len(layers)} outputs, one per "
           f"layer, got {len(outputs)}")
    want = FeatureExtractor(layers)(photo)
    shapes = {tuple(want[name].shape): name for name in layers}
    for name, got in zip(layers, outputs, strict=True):
        got = np.asarray(got, dtype=np.float32)
        expected = np.asarray(want[name])
        if got.shape != expected.shape:
            other = shapes.get(got.shape)
            expect(other is None, f"output {layers.index(name)} has the shape of {other}, "
                                  f"not of {name}: keep the outputs in the order of `layers`")
            expect(False, f"the output for {name} has shape {got.shape}, expected "
                          f"{expected.shape}")
        scale = max(float(np.max(np.abs(expected))), 1.0)
        expect(np.allclose(got, expected, atol=1e-4 * scale),
               f"the activations of {name} differ from the pretrained VGG16's: take the "
               "layers of nstlab.engine.backbones.build_vgg('vgg16'), which has the weights loaded")


# --------------------------------------------------------------------------- the whole loop


@contextlib.contextmanager
def _counting_tf_functions():
    """Count the ``tf.function`` calls that the learner's code makes while the block runs
    (``@tf.function`` included).

    The guard runs every ``tf.function`` eagerly during a check, so a compiled loop is told
    from an eager one by the ``tf.function`` it makes, not by the graphs it traces. Calls from
    Keras, TensorFlow and nstlab do not count (Keras makes one for every convolution).
    """
    import tensorflow as tf

    original = tf.function
    made = []

    def counting(*args, **kwargs):
        caller = sys._getframe(1).f_globals.get("__name__") or ""
        if caller.partition(".")[0] not in ("keras", "tensorflow", "nstlab"):
            made.append(caller)
        return original(*args, **kwargs)

    tf.function = counting
    try:
        yield made
    finally:
        tf.function = original


@functools.cache
def package_run() -> tuple:
    """The package's side of the comparison, computed once per session.

    Returns ``(objective, loss of the content image, loss after the package's own Adam
    run)``: :class:`nstlab.Objective` with the default layers and weights (float32) on
    :func:`capstone_pair`, and :func:`nstlab.optimize_pixels` with ``optimizer="adam"`` for
    :data:`CAPSTONE_STEPS` steps from the content image.
    """
    from nstlab.engine.defaults import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS
    from nstlab.engine.losses import Objective
    from nstlab.engine.optimize import optimize_pixels

    content, style = capstone_pair()
    objective = Objective(content, style, content_layers=list(DEFAULT_CONTENT_LAYERS),
                          style_layers=list(DEFAULT_STYLE_LAYERS), **capstone_weights())
    image, _, _ = optimize_pixels(objective, content, steps=CAPSTONE_STEPS, optimizer="adam",
                                  progress=False)
    return objective, objective.evaluate(content)["total"], objective.evaluate(image)["total"]


@exercise_check("your style transfer", solvers=CAPSTONE_SOLVERS, judged_outside=False)
def check_my_style_transfer(my_stylize, pieces=()):
    """Run ``my_stylize(content, style, steps, content_layers=..., style_layers=...,
    weights=...)`` on a real photo and painting (:func:`capstone_pair`) and compare it with
    the package.

    ``my_stylize`` must return ``(image, losses)``: the stylized (H, W, 3) image in [0, 1]
    after ``steps`` Adam steps from the content image, and the total loss of each step. The
    check requires that

    * the first loss equals the package's loss (:class:`nstlab.Objective`) of the content
      image (to 0.1%): your pieces add up to the same objective;
    * the loss falls;
    * the package's loss of your final image is within 5% (:data:`CAPSTONE_TOLERANCE`) of
      the package's loss of its own Adam run (:func:`nstlab.optimize_pixels`, the same
      steps from the same start);
    * ``my_stylize`` compiles with ``tf.function`` (the objective, notebook 07 says why).

    ``pieces`` are your functions that ``my_stylize`` uses; while any still raises
    ``NotImplementedError`` the check says "not done yet" and names them, and it names any
    piece that computes with NumPy, which ``tf.GradientTape`` cannot follow
    (:func:`cuts_the_gradient`).
    """
    from nstlab.engine.defaults import DEFAULT_CONTENT_LAYERS, DEFAULT_STYLE_LAYERS

    content, style = capstone_pair()
    layers = {"content_layers": list(DEFAULT_CONTENT_LAYERS),
              "style_layers": list(DEFAULT_STYLE_LAYERS)}
    weights = capstone_weights()
    steps = CAPSTONE_STEPS
    try:
        with _counting_tf_functions() as compiled:
            result = my_stylize(content, style, steps, weights=dict(weights), **layers)
    except NotImplementedError as error:
        left = unfinished(pieces)
        if _raised_by(error) not in left:  # my_stylize itself, or a piece not passed in
            left.append(_raised_by(error))
        raise NotDoneYet(f"still to write: {', '.join(left)}") from None
    except Exception:
        _no_gradient_through(pieces)  # the likeliest cause, with a clearer message
        raise
    _no_gradient_through(pieces)  # a loop may run, and even improve, without some gradients
    expect(compiled, "my_stylize made no tf.function while it ran: compile the objective "
                     "with @tf.function inside my_stylize, so that each step runs one graph")
    expect(isinstance(result, tuple | list) and len(result) == 2,
           "my_stylize should return two things: (image, losses)")
    image, losses = result
    expect(image is not None, "my_stylize returned no image: return (image, losses)")
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 4 and image.shape[0] == 1:
        image = image[0]
    expect(image.shape == content.shape,
           f"the image has shape {image.shape}, expected the content's {content.shape}: "
           "return image.numpy()[0], one (H, W, 3) image")
    expect(np.all(np.isfinite(image)) and image.min() >= 0.0 and image.max() <= 1.0,
           f"pixels range over [{np.nanmin(image):.3f}, {np.nanmax(image):.3f}]: keep them "
           "in [0, 1] (train_step clips them)")
    try:
        losses = [float(np.asarray(value).reshape(())) for value in losses]
    except (TypeError, ValueError):
        raise CheckFailed("losses should be a list of numbers, one total loss per step") from None
    expect(len(losses) == steps, f"asked for {steps} steps, got {len(losses)} losses: one "
                                 "total loss per step")
    expect(all(math.isfinite(value) for value in losses),
           f"the losses {np.round(losses, 1).tolist()} are not all finite numbers")

    objective, at_start, package = package_run()
    expect(math.isclose(losses[0], at_start, rel_tol=1e-3),
           f"your loss of the content image (step 1) is {losses[0]:.6g}, the package's is "
           f"{at_start:.6g}: your pieces do not add up to the same loss. Check that "
           "preprocess, the feature model, the losses and total_loss are given the "
           "image's features and the weights, and that the targets come from the content "
           "(features) and the painting (Gram matrices)")
    expect(losses[-1] < losses[0],
           f"the loss did not fall: {losses[0]:.6g} at step 1, {losses[-1]:.6g} at step "
           f"{steps}. Does train_step update the image it is given?")
    yours = objective.evaluate(image)["total"]
    ratio = yours / package
    expect(abs(ratio - 1.0) <= CAPSTONE_TOLERANCE,
           f"after {steps} steps the package's loss of your image is {yours:.6g}, of its own "
           f"Adam run {package:.6g} ({ratio:.1%}; needs within {CAPSTONE_TOLERANCE:.0%}). "
           "Start from the content image and take plain Adam steps with train_step")
    print(f"  after {steps} steps: the package's loss of your image is {ratio:.3%} of its own "
          f"run's ({yours:.5g} vs {package:.5g})")
