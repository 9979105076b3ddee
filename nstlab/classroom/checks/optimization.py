"""Checks for the exercises of notebooks 05a and 05b: a GradientTape step, Adam by hand (05a);
the tinted start, early stopping (05b).

Each check runs the learner's function on small inputs (32 px images, a VGG16 cut after
block 3) and compares it with a reference written here.
"""

from __future__ import annotations

import contextlib
import math

import numpy as np

from nstlab.classroom.checks._base import CheckFailed, Solver, exercise_check, expect, input_rng
from nstlab.classroom.checks.answers import as_array, as_scalar
from nstlab.classroom.checks.tiny import TINY, tiny_images, tiny_objective

__all__ = [
    "check_early_stopping",
    "check_gradient_descent_step",
    "check_tinted_start",
    "check_train_step",
]


def adam_by_hand(objective, start, steps, *, bias_correction=True, epsilon_inside=False,
                  ascent=False, clip=True) -> np.ndarray:
    """Adam with the TF tutorial's settings, written out, plus the usual mistakes."""
    import tensorflow as tf

    from nstlab.engine.optimize import ADAM_BETA_1, ADAM_EPSILON, ADAM_LEARNING_RATE

    beta_2 = 0.999
    image = tf.Variable(start[np.newaxis])
    m = tf.zeros_like(image)
    v = tf.zeros_like(image)
    for t in range(1, steps + 1):
        with tf.GradientTape() as tape:
            total, _ = objective(image)
        gradient = tape.gradient(total, image)
        m = ADAM_BETA_1 * m + (1 - ADAM_BETA_1) * gradient
        v = beta_2 * v + (1 - beta_2) * tf.square(gradient)
        rate = ADAM_LEARNING_RATE
        if bias_correction:
            rate *= math.sqrt(1 - beta_2**t) / (1 - ADAM_BETA_1**t)
        scale = tf.sqrt(v + ADAM_EPSILON) if epsilon_inside else tf.sqrt(v) + ADAM_EPSILON
        update = rate * m / scale
        image.assign(image + update if ascent else image - update)
        if clip:
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
    return image.numpy()[0]


@exercise_check("Adam train step by hand", solvers=[
    Solver("keras.optimizers.Adam", target="keras.optimizers.Adam.update_step",
           why="the optimiser this exercise asks you to write out"),
    Solver("nstlab.optimize_pixels", why="which runs the package's Adam for you"),
])
def check_train_step(train_step):
    """``train_step(image, objective, state)``: one Adam step written out, which must give
    the same pixels as the package's Adam loop (``optimize_pixels(optimizer="adam")``)."""
    import tensorflow as tf

    from nstlab.engine.optimize import optimize_pixels

    objective, start = tiny_objective()
    steps = 3
    image = tf.Variable(start[np.newaxis])
    state = {"m": tf.zeros_like(image), "v": tf.zeros_like(image), "t": 0}
    losses = []
    for _ in range(steps):
        with _explaining_a_lost_gradient():
            total = train_step(image, objective, state)
        expect(total is not None, "train_step should return the total loss")
        losses.append(as_scalar(total, "the total loss train_step returns"))
    got = image.numpy()[0]
    want, history, _ = optimize_pixels(objective, start, steps=steps, optimizer="adam",
                                       progress=False)
    expect(not np.allclose(got, start), "the image did not change: update it in place with "
                                        "image.assign(...) or image.assign_sub(...)")
    expect(got.min() >= 0 and got.max() <= 1,
           f"pixels range over [{got.min():.3f}, {got.max():.3f}]: clip them back to [0, 1] "
           "after the update (tf.clip_by_value).")
    expect(state.get("t") == steps, f"after {steps} steps state['t'] should be {steps}, got "
                                    f"{state.get('t')!r}: count the steps (Adam's t)")
    difference = float(np.max(np.abs(got - want)))
    if difference <= 1e-4:
        expect(np.allclose(losses, history.total, rtol=1e-4),
               f"the losses you returned {np.round(losses, 1)} differ from the package's "
               f"{np.round(history.total, 1)}: return the total loss computed before the "
               "update")
        return
    hints = (
        ({"ascent": True}, "the pixels moved uphill: subtract the update (gradient descent)."),
        ({"bias_correction": False}, "the bias correction is missing: multiply the learning "
                                     "rate by sqrt(1 - beta_2**t) / (1 - beta_1**t)."),
        ({"epsilon_inside": True}, "epsilon goes outside the square root: "
                                   "m / (sqrt(v) + epsilon)."),
    )
    for variant, hint in hints:
        if np.max(np.abs(got - adam_by_hand(objective, start, steps, **variant))) <= 1e-4:
            expect(False, hint)
    expect(False, f"after {steps} steps your pixels differ from the package's Adam by up to "
                  f"{difference:.3g}. Check the order: t += 1; m and v moving averages of the "
                  "gradient and its square; rate = lr * sqrt(1 - b2^t) / (1 - b1^t); "
                  "image -= rate * m / (sqrt(v) + epsilon); clip.")


@contextlib.contextmanager
def _explaining_a_lost_gradient():
    """Turn the error a step meets when its gradient is None into a message that says why.

    ``tape.gradient`` returns None when the loss was not computed under the tape, or when
    the pixels reached the objective as NumPy (``image.numpy()``); the arithmetic after it
    then fails with a TypeError or ValueError about ``None``.
    """
    try:
        yield
    except (TypeError, ValueError) as error:
        if "None" not in str(error):
            raise
        raise CheckFailed(
            "the gradient came back as None: compute the loss inside `with tf.GradientTape() "
            "as tape:`, from the tf.Variable itself (not image.numpy()), then call "
            f"tape.gradient(total, image). ({type(error).__name__}: {error})") from None


@exercise_check("gradient descent step with GradientTape")
def check_gradient_descent_step(gradient_descent_step):
    """``gradient_descent_step(image, objective, learning_rate)``: the loss and its gradient
    under a ``tf.GradientTape``, then ``image <- clip(image - learning_rate * gradient)`` in
    place; returns the loss computed before the update."""
    import tensorflow as tf

    objective, start = tiny_objective()
    pixels = tf.constant(start[np.newaxis])
    with tf.GradientTape() as tape:
        tape.watch(pixels)
        total, _ = objective(pixels)
    gradient = tape.gradient(total, pixels).numpy()[0]
    rate = 0.05 / float(np.abs(gradient).max())  # the largest push moves a pixel by 0.05
    image = tf.Variable(start[np.newaxis])
    with _explaining_a_lost_gradient():
        returned = gradient_descent_step(image, objective, rate)
    got = image.numpy()[0]
    expect(not np.allclose(got, start), "the image did not change: update the tf.Variable in "
                                        "place with image.assign(...)")
    want = np.clip(start - rate * gradient, 0.0, 1.0)
    if not np.allclose(got, want, atol=1e-5):
        uphill = np.clip(start + rate * gradient, 0.0, 1.0)
        expect(not np.allclose(np.clip(got, 0, 1), uphill, atol=1e-5),
               "you stepped uphill: gradient *descent* subtracts learning_rate * gradient")
        expect(not np.allclose(got, start - rate * gradient, atol=1e-5),
               "some pixels left [0, 1]: clip the result (tf.clip_by_value)")
        expect(False, "expected image <- clip(image - learning_rate * gradient, 0, 1); largest "
                      f"difference {np.max(np.abs(got - want)):.3g}")
    expect(returned is not None, "return the total loss (computed before the update)")
    expect(math.isclose(as_scalar(returned, "gradient_descent_step"), float(total), rel_tol=1e-4),
           "return the total loss computed *before* the update, under the tape")


def _fake_step(step: int, total: float):
    from nstlab.engine.optimize import StepInfo

    return StepInfo(step=step, total=float(total), parts={}, elapsed=0.1 * step,
                    size=(TINY, TINY), _get_image=lambda: None)


def _first_stop(callback, losses) -> int | None:
    for step, total in enumerate(losses, start=1):
        if callback(_fake_step(step, total)):
            return step
    return None


@exercise_check("early stopping callback")
def check_early_stopping(make_early_stopping):
    """``make_early_stopping(patience, min_delta)`` returns a callback that says stop (True)
    once the loss has not gone below ``best * (1 - min_delta)`` for ``patience`` steps."""
    callback = make_early_stopping(patience=3, min_delta=0.01)
    expect(callable(callback), "make_early_stopping should return a function (the callback)")
    falling = [100 * 0.95**k for k in range(30)]
    stop = _first_stop(callback, falling)
    expect(stop is None, f"the loss fell 5% every step, yet your callback stopped at step {stop}")
    plateau = [100, 90, 80, 79.9, 79.8, 79.7, 79.6, 79.5, 79.4]
    stop = _first_stop(make_early_stopping(patience=3, min_delta=0.01), plateau)
    expect(stop is not None,
           "the loss stopped improving by 1% after step 3 but your callback never said stop "
           "(return True to stop)")
    expect(stop == 6, f"losses {plateau}: stopped at step {stop}, expected 6 (steps 4, 5, 6 "
                      "improve on the best, 80, by less than 1%: 3 steps without improvement)")
    bump = [100, 50, 60, 55, 52, 49.9, 49.8]
    stop = _first_stop(make_early_stopping(patience=3, min_delta=0.01), bump)
    expect(stop == 5, f"losses {bump}: stopped at step {stop}, expected 5. Compare each loss "
                      "with the best so far (50 at step 2; 60, 55 and 52 do not beat it), not "
                      "with the previous step.")
    fresh = make_early_stopping(patience=2, min_delta=0.0)
    stop = _first_stop(fresh, [5, 5, 5])
    expect(stop == 3, f"with patience=2 and losses [5, 5, 5] expected a stop at step 3, got {stop}")


@exercise_check("the tinted start", solvers=[Solver("nstlab.imaging.color.shift_mean_color")])
def check_tinted_start(tinted_start):
    """``tinted_start(photo, painting)``: the photo plus one RGB offset, the painting's mean
    colour minus the photo's, clipped to [0, 1]; the two images may differ in size."""
    photo, _, _ = tiny_images()
    # A dark photo and a bright, smaller painting: the offset is large, and some pixels clip.
    dark = (0.6 * photo).astype(np.float32)
    painting = input_rng(21).uniform(0.45, 1.0, (TINY // 2, TINY - 5, 3)).astype(np.float32)
    kept = dark.copy()
    got = as_array(tinted_start(dark, painting.copy()), "tinted_start", np.float32)
    expect(np.array_equal(dark, kept), "you changed `photo` in place; compute a new array")
    expect(got.shape == dark.shape, f"shape {got.shape}, expected the photo's {dark.shape}")
    offset = painting.reshape(-1, 3).mean(axis=0) - dark.reshape(-1, 3).mean(axis=0)
    want = np.clip(dark + offset, 0.0, 1.0)
    if np.allclose(got, want, atol=1e-4):
        return
    expect(float(got.std(axis=(0, 1)).max()) > 1e-3,
           "every pixel has the same colour: add the offset to the photo's pixels, so that "
           "shading and edges stay, instead of painting it the mean colour")
    expect(got.min() >= -1e-6 and got.max() <= 1 + 1e-6,
           f"values range over [{got.min():.3f}, {got.max():.3f}]: clip to [0, 1]")
    expect(not np.allclose(got, np.clip(dark - offset, 0.0, 1.0), atol=1e-4),
           "the colour moved away from the painting's: the offset is the painting's mean "
           "minus the photo's")
    expect(not np.allclose(got, np.clip(dark + offset.mean(), 0.0, 1.0), atol=1e-4),
           "one offset for all three channels: take the mean of each channel (R, G, B) "
           "separately, .reshape(-1, 3).mean(axis=0)")
    moved = got - dark
    unclipped = (got > 1e-3) & (got < 1 - 1e-3)
    spreads = [np.ptp(moved[..., c][unclipped[..., c]]) if unclipped[..., c].any() else 0.0
               for c in range(3)]
    expect(max(spreads) < 1e-3,
           "the pixels did not all move by the same offset: add one RGB offset to every "
           "pixel (scaling them changes the contrast too)")
    expect(False, "the result's mean colour is "
                  f"{np.round(got.reshape(-1, 3).mean(axis=0), 3)}, expected about "
                  f"{np.round(want.reshape(-1, 3).mean(axis=0), 3)}: add the painting's mean "
                  "colour minus the photo's to every pixel, then clip")
