"""Checks for the exercises of notebook 04: the total loss, total variation, style weights.

Each check runs the learner's function on small inputs and compares it with nstlab's own
code, or measures the property the exercise asks for.
"""

from __future__ import annotations

import math

import numpy as np

from nstlab.classroom.checks._base import Solver, exercise_check, expect, input_rng
from nstlab.classroom.checks.answers import as_scalar, expect_gradient
from nstlab.classroom.checks.tiny import (
    TINY_CONTENT_LAYERS,
    TINY_STYLE_LAYERS,
    tiny_images,
    tiny_objective,
)
from nstlab.engine.history import layer_parts

__all__ = [
    "check_more_style_weights",
    "check_total_loss",
    "check_total_variation",
]


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
    + gamma * tv, the per-layer weights being equal (they sum to 1); with tensors as parts, a
    tensor whose gradient reaches every part."""
    parts = {"content/block4_conv2": 2.0, "style/block1_conv1": 3.0, "style/block2_conv1": 5.0,
             "style/block3_conv1": 10.0, "tv": 100.0}
    weights = {"content_weight": 10.0, "style_weight": 2.0, "tv_weight": 0.5}
    got = as_scalar(total_loss(dict(parts), dict(weights)), "total_loss(parts, weights)")
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
    got = as_scalar(total_loss(dict(parts), dict(weights)), "total_loss(parts, weights)")
    want = _reference_total_loss({k: float(v) for k, v in parts.items()}, weights)
    expect(math.isclose(got, want, rel_tol=1e-5),
           f"with two content layers (losses 1 and 3, content_weight 1e4) expected {want:g}, "
           f"got {got:g}: the content part is the mean over the content layers.")
    expect_gradient(lambda: total_loss(dict(parts), {**weights, "tv_weight": 0.5}), parts,
                    "total_loss(parts, weights)")


@exercise_check("total_variation", solvers=[
    Solver("tf.image.total_variation", target="tensorflow.image.total_variation"),
])
def check_total_variation(total_variation):
    """``total_variation(image)`` equals ``tf.image.total_variation`` for an (H, W, 3) image,
    and its gradient with respect to the image reaches the pixels."""
    import tensorflow as tf

    rng = input_rng(4)
    image = rng.uniform(size=(6, 9, 3)).astype(np.float32)
    got = as_scalar(total_variation(image.copy()), "total_variation(image)")
    want = float(tf.image.total_variation(tf.constant(image)))
    if math.isclose(got, want, rel_tol=1e-4):
        flat = np.full((5, 5, 3), 0.3, np.float32)
        expect(abs(as_scalar(total_variation(flat), "total_variation")) < 1e-6,
               "a flat image should have total variation 0")
        pixels = tf.constant(image)
        expect_gradient(lambda: total_variation(pixels), {"the image": pixels},
                        "total_variation(image)")
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

    objective, _ = tiny_objective()
    photo, swirl, _ = tiny_images()
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
