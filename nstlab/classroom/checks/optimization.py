"""Checks for the exercises of notebooks 04-07: losses, optimisation, post-processing, capstone.

Each check runs the learner's function on small inputs (32 px images, a VGG16 cut after
block 3 where a network is needed), compares it with nstlab's own code or measures the
property the exercise asks for, and says what is wrong when it is not right yet.
"""

from __future__ import annotations

import functools
import inspect
import math

import numpy as np

from nstlab.classroom.checks._base import (
    Solver,
    answer_array,
    answer_scalar,
    exercise_check,
    expect,
    input_rng,
)
from nstlab.engine.history import layer_parts

__all__ = [
    "check_blend_styles",
    "check_early_stopping",
    "check_gradient_descent_step",
    "check_keep_colors",
    "check_luminance",
    "check_more_style_weights",
    "check_stylize_options",
    "check_total_loss",
    "check_total_variation",
    "check_train_step",
    "check_upsample_and_continue",
]

TINY = 32  # px: the side of the images the checks optimise
# Layers for the checks that run the network: shallow, so a check takes about a second.
TINY_CONTENT_LAYERS = ("block2_conv2",)
TINY_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


# --------------------------------------------------------------------------- shared helpers


@functools.cache
def _tiny_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, swirl, mosaic) at 32 px, all offline; read-only so nobody edits them."""
    from nstlab.imaging.data import generated_style, load_sample

    photo = load_sample("grace_hopper", max_size=TINY)
    images = (photo, generated_style("swirl", TINY), generated_style("mosaic", TINY))
    for image in images:
        image.setflags(write=False)
    return images


@functools.cache
def _tiny_objective():
    """A small Objective (photo + swirl, shallow layers) and a start image with saturated
    pixels (so a missing clip shows)."""
    from nstlab.engine.losses import Objective

    photo, swirl, _ = _tiny_images()
    objective = Objective(photo, swirl, content_layers=list(TINY_CONTENT_LAYERS),
                          style_layers=list(TINY_STYLE_LAYERS))
    start = np.clip(1.4 * photo - 0.2, 0.0, 1.0).astype(np.float32)
    start.setflags(write=False)
    return objective, start


# --------------------------------------------------------------------------- notebook 04


def _reference_total_loss(parts, weights) -> float:
    content = list(layer_parts(parts, "content").values())
    style = list(layer_parts(parts, "style").values())
    total = weights["tv_weight"] * parts["tv"]
    if content:
        total += weights["content_weight"] * np.mean(content)
    if style:
        total += weights["style_weight"] * np.mean(style)
    return float(total)


@exercise_check("total_loss")
def check_total_loss(total_loss):
    """``total_loss(parts, weights)``: alpha * mean(content parts) + beta * mean(style parts)
    + gamma * tv, the per-layer weights being equal (they sum to 1)."""
    parts = {"content/block4_conv2": 2.0, "style/block1_conv1": 3.0, "style/block2_conv1": 5.0,
             "style/block3_conv1": 10.0, "tv": 100.0}
    weights = {"content_weight": 10.0, "style_weight": 2.0, "tv_weight": 0.5}
    got = answer_scalar(total_loss(dict(parts), dict(weights)), "total_loss(parts, weights)")
    want = _reference_total_loss(parts, weights)  # 20 + 2 * 6 + 50 = 82
    if not math.isclose(got, want, rel_tol=1e-5):
        summed = 10 * 2 + 2 * (3 + 5 + 10) + 50
        if math.isclose(got, summed, rel_tol=1e-5):
            expect(False, f"got {got:g}, expected {want:g}: you summed the style layers. The "
                          "per-layer weights are equal and sum to 1, so each group is a mean.")
        if math.isclose(got, want - 50, rel_tol=1e-5):
            expect(False, f"got {got:g}, expected {want:g}: the total variation term "
                          "(tv_weight * parts['tv']) is missing.")
        expect(False, f"for parts {parts} and weights {weights} expected {want:g}, got {got:g}. "
                      "Total = content_weight * mean(content layers) + style_weight * "
                      "mean(style layers) + tv_weight * tv.")
    # Two content layers, tensors as values, zero TV weight.
    import tensorflow as tf

    parts = {"content/block4_conv2": tf.constant(1.0), "content/block5_conv2": tf.constant(3.0),
             "style/block1_conv1": tf.constant(4.0), "tv": tf.constant(7.0)}
    weights = {"content_weight": 1e4, "style_weight": 1e-2, "tv_weight": 0.0}
    got = answer_scalar(total_loss(dict(parts), dict(weights)), "total_loss(parts, weights)")
    want = _reference_total_loss({k: float(v) for k, v in parts.items()}, weights)
    expect(math.isclose(got, want, rel_tol=1e-5),
           f"with two content layers (losses 1 and 3, content_weight 1e4) expected {want:g}, "
           f"got {got:g}: the content part is the mean over the content layers.")


@exercise_check("total_variation", solvers=[
    Solver("tf.image.total_variation", target="tensorflow.image.total_variation"),
])
def check_total_variation(total_variation):
    """``total_variation(image)`` equals ``tf.image.total_variation`` for an (H, W, 3) image."""
    import tensorflow as tf

    rng = input_rng(4)
    image = rng.uniform(size=(6, 9, 3)).astype(np.float32)
    got = answer_scalar(total_variation(image.copy()), "total_variation(image)")
    want = float(tf.image.total_variation(tf.constant(image)))
    if math.isclose(got, want, rel_tol=1e-4):
        flat = np.full((5, 5, 3), 0.3, np.float32)
        expect(abs(answer_scalar(total_variation(flat), "total_variation")) < 1e-6,
               "a flat image should have total variation 0")
        return
    dy, dx = np.diff(image, axis=0), np.diff(image, axis=1)
    hints = {
        float(np.sum(dy**2) + np.sum(dx**2)): "you squared the differences; total variation "
                                              "uses their absolute values (tf.abs).",
        float(np.sum(np.abs(dy))): "only the vertical differences are there: add the "
                                   "horizontal ones (image[:, 1:] - image[:, :-1]).",
        float(np.sum(np.abs(dx))): "only the horizontal differences are there: add the "
                                   "vertical ones (image[1:] - image[:-1]).",
        float(np.mean(np.abs(dy)) + np.mean(np.abs(dx))): "you took means; "
                                                          "tf.image.total_variation sums.",
    }
    for value, hint in hints.items():
        if math.isclose(got, value, rel_tol=1e-4):
            expect(False, f"got {got:.4f}, expected {want:.4f}: {hint}")
    expect(False, f"for a random 6x9x3 image expected {want:.4f} (tf.image.total_variation), "
                  f"got {got:.4f}. Sum |pixel - the one below| and |pixel - the one to the right|.")


def _style_distance_after(weights: dict, steps: int = 5) -> float:
    """Unweighted style loss after a short L-BFGS run from the content with ``weights``."""
    from nstlab.engine.losses import Objective
    from nstlab.engine.optimize import optimize_pixels

    objective, _ = _tiny_objective()
    photo, swirl, _ = _tiny_images()
    run = Objective(photo, swirl, content_layers=list(TINY_CONTENT_LAYERS),
                    style_layers=list(TINY_STYLE_LAYERS), extractor=objective.extractor,
                    **weights)
    image, _, _ = optimize_pixels(run, photo, steps=steps, progress=False)
    measure = Objective(None, swirl, style_layers=list(TINY_STYLE_LAYERS), style_weight=1.0,
                        tv_weight=0.0, extractor=objective.extractor)
    parts = measure.evaluate(image)
    return sum(layer_parts(parts, "style").values())


#: Weights that keep too much of the photo: the starting point of the "more style" exercise.
LITTLE_STYLE = {"content_weight": 1e4, "style_weight": 1.0, "tv_weight": 1.0}


@exercise_check("weights for more style")
def check_more_style_weights(more_style_weights):
    """``more_style_weights(weights)`` returns weights that measurably give more style than
    ``weights`` (:data:`LITTLE_STYLE`): after a short run, the image's Gram matrices are
    clearly closer to the painting's."""
    weights = more_style_weights(dict(LITTLE_STYLE))
    expect(isinstance(weights, dict), f"return a dict of weights, got {type(weights).__name__}")
    allowed = set(LITTLE_STYLE)
    unknown = set(weights) - allowed
    expect(not unknown, f"unknown keys {sorted(unknown)}; use {sorted(allowed)}")
    for name, value in weights.items():
        expect(isinstance(value, int | float) and math.isfinite(value) and value >= 0,
               f"{name} must be a finite number >= 0, got {value!r}")
    chosen = {**LITTLE_STYLE, **weights}
    expect(chosen["content_weight"] > 0,
           "keep some content weight (> 0): with none the photo is lost entirely")
    before = _style_distance_after(LITTLE_STYLE)
    yours = _style_distance_after(chosen)
    expect(yours < 0.7 * before,
           f"after 5 steps the style distance is {yours:.4g} with your weights and "
           f"{before:.4g} with {LITTLE_STYLE}: not clearly more style (needs < 70%). Raise "
           "style_weight relative to content_weight (only the ratio matters), by 10x or more.")


# --------------------------------------------------------------------------- notebook 05


def _adam_by_hand(objective, start, steps, *, bias_correction=True, epsilon_inside=False,
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

    objective, start = _tiny_objective()
    steps = 3
    image = tf.Variable(start[np.newaxis])
    state = {"m": tf.zeros_like(image), "v": tf.zeros_like(image), "t": 0}
    losses = []
    for _ in range(steps):
        total = train_step(image, objective, state)
        expect(total is not None, "train_step should return the total loss")
        losses.append(answer_scalar(total, "the total loss train_step returns"))
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
        if np.max(np.abs(got - _adam_by_hand(objective, start, steps, **variant))) <= 1e-4:
            expect(False, hint)
    expect(False, f"after {steps} steps your pixels differ from the package's Adam by up to "
                  f"{difference:.3g}. Check the order: t += 1; m and v moving averages of the "
                  "gradient and its square; rate = lr * sqrt(1 - b2^t) / (1 - b1^t); "
                  "image -= rate * m / (sqrt(v) + epsilon); clip.")


@exercise_check("gradient_descent_step")
def check_gradient_descent_step(gradient_descent_step):
    """``gradient_descent_step(pixels, gradient, learning_rate)``: pixels - lr * gradient,
    clipped to [0, 1], as a new array."""
    rng = input_rng(5)
    pixels = rng.uniform(size=(4, 5, 3)).astype(np.float32)
    gradient = rng.normal(scale=2.0, size=pixels.shape).astype(np.float32)
    original = pixels.copy()
    got = answer_array(gradient_descent_step(pixels, gradient, 0.1), "gradient_descent_step",
                       np.float32)
    expect(np.array_equal(pixels, original),
           "you changed `pixels` in place; return a new array instead (pixels - ...)")
    expect(got.shape == pixels.shape, f"shape {got.shape}, expected {pixels.shape}")
    want = np.clip(pixels - 0.1 * gradient, 0, 1)
    if np.allclose(got, want, atol=1e-6):
        return
    expect(not np.allclose(np.clip(got, 0, 1), np.clip(pixels + 0.1 * gradient, 0, 1),
                           atol=1e-6),
           "you stepped uphill: gradient *descent* subtracts learning_rate * gradient")
    expect(not np.allclose(got, pixels - 0.1 * gradient, atol=1e-6),
           "some pixels left [0, 1]: clip the result (np.clip or tf.clip_by_value)")
    expect(False, "expected clip(pixels - learning_rate * gradient, 0, 1); "
                  f"largest difference {np.max(np.abs(got - want)):.3g}")


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


# --------------------------------------------------------------------------- notebook 06


@exercise_check("luminance", solvers=[
    Solver("nstlab.imaging.color.luminance"),
    Solver("nstlab.imaging.color.rgb_to_yiq",
           why="whose channel 0 is the luminance this exercise asks you to compute"),
])
def check_luminance(luminance):
    """``luminance(image)``: Y = 0.299 R + 0.587 G + 0.114 B, shape (H, W)."""
    from nstlab.imaging import color

    rng = input_rng(6)
    image = rng.uniform(size=(5, 6, 3)).astype(np.float32)
    got = answer_array(luminance(image.copy()), "luminance", np.float32)
    want = color.luminance(image)
    if got.shape == (5, 6, 1):
        expect(False, "shape (H, W, 1): return (H, W), one number a pixel (no channel axis)")
    expect(got.shape == want.shape, f"shape {got.shape}, expected (H, W) = {want.shape}")
    if np.allclose(got, image.mean(axis=-1), atol=1e-5):
        expect(False, "that is the plain mean of R, G and B. The eye is most sensitive to "
                      "green and least to blue: weigh them 0.299, 0.587, 0.114.")
    expect(np.allclose(got, want, atol=1e-5),
           f"largest difference from 0.299 R + 0.587 G + 0.114 B is "
           f"{np.max(np.abs(got - want)):.3g}")


@exercise_check("keep_colors", solvers=[Solver("nstlab.imaging.color.transfer_luminance")])
def check_keep_colors(keep_colors):
    """``keep_colors(stylized, content)``: the stylized image's Y with the content's I and Q
    (content resized to the stylized image's size), clipped to [0, 1]."""
    from nstlab.imaging import color
    from nstlab.imaging.images import resize_image

    photo, swirl, _ = _tiny_images()
    # Mid-tones, so the recoloured result stays inside [0, 1] and nothing is clipped.
    stylized = (0.25 + 0.5 * resize_image(swirl, photo.shape[:2])).astype(np.float32)
    content = (0.25 + 0.5 * photo).astype(np.float32)
    got = answer_array(keep_colors(stylized.copy(), content.copy()), "keep_colors", np.float32)
    expect(got.shape == stylized.shape, f"shape {got.shape}, expected {stylized.shape}")
    expect(got.min() >= -1e-6 and got.max() <= 1 + 1e-6,
           f"values range over [{got.min():.3f}, {got.max():.3f}]: clip to [0, 1]")
    yiq = color.rgb_to_yiq(got)
    y_error = float(np.max(np.abs(yiq[..., 0] - color.luminance(stylized))))
    iq_error = float(np.max(np.abs(yiq[..., 1:] - color.rgb_to_yiq(content)[..., 1:])))
    if y_error > 0.02 and float(np.max(np.abs(yiq[..., 0] - color.luminance(content)))) < 0.02:
        expect(False, "the brightness is the content's: take Y from the stylized image and "
                      "I, Q from the content (not the other way round)")
    expect(y_error <= 0.02, f"the result's luminance differs from the stylized image's by up "
                            f"to {y_error:.3f}: keep Y (channel 0 of YIQ) from `stylized`")
    expect(iq_error <= 0.02, f"the result's colour (I, Q) differs from the content's by up to "
                             f"{iq_error:.3f}: take channels 1 and 2 of YIQ from `content`")
    small = answer_array(keep_colors(stylized.copy(), resize_image(content, 48)), "keep_colors",
                         np.float32)
    expect(small.shape == stylized.shape,
           f"with a 48 px content and a {TINY} px stylized image the result has shape "
           f"{small.shape}; resize the content to the stylized image's (height, width) first")


def _stylize_resizes_the_start(arguments) -> str | None:
    """For ``initial_image(init, content, ...)``: why an image ``init`` of another shape than
    ``content`` means stylize did the upsampling; None for a start of the right shape."""
    from nstlab.imaging.images import load_image

    init = arguments["init"]
    if isinstance(init, str):
        return None
    start, wanted = load_image(init).shape[:2], arguments["content"].shape[:2]
    if start == wanted:
        return None
    return (f"nstlab.stylize upsampled your {start[1]}x{start[0]} px start image to "
            f"{wanted[1]}x{wanted[0]} px for you: resize it to the shape of the content at "
            "`size` with nstlab.resize_image, then pass that as init.")


def _stylize_goes_coarse_to_fine(arguments) -> str | None:
    """For ``scale_schedule(size, scales)``: why several scales mean stylize did the
    upsampling and continuing itself; None for a single scale."""
    from nstlab.run.transfer import scale_schedule

    sizes = scale_schedule(arguments["size"], arguments["scales"])
    if len(sizes) < 2:
        return None
    return (f"nstlab.stylize went coarse to fine by itself (sizes {sizes}): upsample the "
            "small image yourself and run one scale, scales=None.")


@exercise_check("upsample and continue", solvers=[
    Solver("nstlab.stylize", target="nstlab.run.transfer.initial_image",
           when=_stylize_resizes_the_start),
    Solver("nstlab.stylize", target="nstlab.run.transfer.scale_schedule",
           when=_stylize_goes_coarse_to_fine),
])
def check_upsample_and_continue(upsample_and_continue):
    """``upsample_and_continue(small, content, style, size, steps)``: resize the small result
    to the content at ``size`` and continue stylizing from it.

    The upsampling is the learner's: ``nstlab.stylize`` may not resize the start image
    (``init=small``) or run its own coarse-to-fine (``scales`` with several sizes)."""
    from nstlab.imaging.images import resize_image

    photo, swirl, mosaic = _tiny_images()
    small = resize_image(mosaic, 16)  # a start that looks nothing like the photo
    size = 40
    result = upsample_and_continue(small, photo, swirl, size, 2)
    image = answer_array(getattr(result, "image", result), "upsample_and_continue",
                         np.float32)
    content = resize_image(photo, size)
    expect(image.shape == content.shape,
           f"shape {image.shape}, expected {content.shape} (the content at size={size})")
    start = resize_image(small, content.shape[:2])
    from_start = float(np.mean(np.abs(image - start)))
    from_content = float(np.mean(np.abs(image - content)))
    expect(from_start < from_content,
           "after 2 steps the result is closer to the content photo than to the upsampled "
           "small image: start from the upsampled image (stylize(..., init=upsampled)).")


# --------------------------------------------------------------------------- notebook 07


def _stylize_parameters() -> set[str]:
    from nstlab.run.transfer import stylize

    return set(inspect.signature(stylize).parameters) - {"content", "style"}


def _cost(options: dict) -> float:
    from nstlab.engine.optimize import DEFAULT_STEPS

    size = options.get("size", 512)
    steps = options.get("steps") or DEFAULT_STEPS[options.get("optimizer", "lbfgs")]
    return float(size) ** 2 * float(steps)


@exercise_check("stylize options for a goal")
def check_stylize_options(stylize_options):
    """``stylize_options(goal)``: a dict of stylize() keyword arguments for ``"preview"``
    (fast) and ``"final"`` (good), and a ValueError for any other goal."""
    known = _stylize_parameters()
    chosen = {}
    for goal in ("preview", "final"):
        options = stylize_options(goal)
        expect(isinstance(options, dict), f"stylize_options({goal!r}) should return a dict, "
                                          f"got {type(options).__name__}")
        unknown = set(options) - known
        expect(not unknown, f"stylize() has no option {sorted(unknown)}; see nstlab.stylize?")
        size = options.get("size", 512)
        expect(isinstance(size, int) and size >= 64,
               f"{goal}: size should be a whole number of at least 64 px, got {size!r}")
        chosen[goal] = options
    preview, final = chosen["preview"], chosen["final"]
    expect(preview.get("size", 512) <= 256,
           f"a preview should be small (size <= 256 px), got {preview.get('size', 512)}")
    expect(_cost(preview) * 8 <= _cost(final),
           f"the preview costs about size^2 x steps = {_cost(preview):.3g} and the final "
           f"{_cost(final):.3g}: make the preview at least 8x cheaper (smaller, fewer steps)")
    expect(final.get("size", 512) >= 384,
           f"a final image should be at least 384 px, got {final.get('size', 512)}")
    try:
        stylize_options("something else")
    except ValueError:
        return
    expect(False, "stylize_options('something else') should raise ValueError (unknown goal)")


@exercise_check("blend two styles")
def check_blend_styles(blend_styles):
    """``blend_styles(content, style_a, style_b, amount, **options)``: stylize with both styles,
    weights (1 - amount) and amount, passing ``options`` on to stylize()."""
    from nstlab.run.transfer import stylize

    photo, swirl, mosaic = _tiny_images()
    options = {"size": TINY, "steps": 3, "optimizer": "adam", "progress": False,
               "content_layers": list(TINY_CONTENT_LAYERS),
               "style_layers": list(TINY_STYLE_LAYERS), "scales": None}

    def image_of(result):
        return answer_array(getattr(result, "image", result), "blend_styles", np.float32)

    half = image_of(blend_styles(photo, swirl, mosaic, 0.5, **options))
    only_a = stylize(photo, swirl, **options).image
    only_b = stylize(photo, mosaic, **options).image
    expect(half.shape == only_a.shape, f"shape {half.shape}, expected {only_a.shape}: pass "
                                       "**options on to nstlab.stylize")
    both = stylize(photo, [swirl, mosaic], style_blend_weights=[0.5, 0.5], **options).image
    if np.allclose(half, only_a, atol=1e-4) or np.allclose(half, only_b, atol=1e-4):
        expect(False, "amount=0.5 gave the same image as one style alone: pass both styles "
                      "as a list, stylize(content, [style_a, style_b], ...)")
    expect(np.allclose(half, both, atol=1e-3),
           "amount=0.5 should equal stylize(content, [style_a, style_b], "
           "style_blend_weights=[0.5, 0.5], **options)")
    mostly_b = image_of(blend_styles(photo, swirl, mosaic, 0.9, **options))
    expect(np.mean(np.abs(mostly_b - only_b)) < np.mean(np.abs(mostly_b - only_a)),
           "amount=0.9 should look more like style_b than style_a: weights "
           "[1 - amount, amount] for [style_a, style_b]")
