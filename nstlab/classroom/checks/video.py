"""Checks for the exercises of notebook 10: the warping error of a pair of frames, and Ruder
et al.'s temporal loss.

Each check runs the learner's function on small random frames, a random occlusion mask (and,
for the warping error, a smooth random flow) and compares it with the formula: the mean over
trusted pixels of the squared difference after warping, and ``sum(c * (x - w)^2) / D``
(D = H * W * 3), whose gradient TensorFlow must be able to take.
"""

from __future__ import annotations

import numpy as np

from nstlab.classroom.checks._base import Solver, exercise_check, expect, input_rng

__all__ = ["check_pair_warping_error", "check_temporal_loss"]


def _inputs():
    rng = input_rng(10)
    image, warped = rng.uniform(size=(2, 1, 6, 7, 3)).astype(np.float32)
    mask = (rng.uniform(size=(6, 7)) > 0.4).astype(np.float32)
    return image, warped, mask


@exercise_check("the warping error of a pair", solvers=[
    Solver("nstlab.video.temporal.pair_warping_error",
           why="the measure this exercise asks you to write")])
def check_pair_warping_error(pair_warping_error):
    """``pair_warping_error(frame, previous, flow, mask)``: warp ``previous`` by ``flow``
    (``nstlab.video.flow.warp``), then the mean, over the pixels where ``mask`` is 1, of the
    squared difference with ``frame``, averaged over the three channels."""
    from nstlab.video.flow import warp

    rng = input_rng(11)
    frame, previous = rng.uniform(size=(2, 6, 7, 3)).astype(np.float32)
    flow = rng.uniform(-1.5, 1.5, size=(6, 7, 2)).astype(np.float32)
    mask = (rng.uniform(size=(6, 7)) > 0.4).astype(np.float32)
    got = pair_warping_error(frame, previous, flow, mask)
    expect(got is not None, "pair_warping_error returned None: did you forget `return`?")
    expect(np.size(np.asarray(got)) == 1, f"the error should be one number, got shape "
                                          f"{np.shape(np.asarray(got))}")
    value = float(np.asarray(got))
    squared = np.mean((frame - warp(previous, flow)) ** 2, axis=-1)
    want = float((squared * mask).sum() / mask.sum())
    if not np.isclose(value, want, rtol=1e-4):
        hints = (
            (float(np.mean((frame - previous) ** 2 * mask[..., None]) / mask.mean()),
             "warp `previous` by the flow first (flow.warp(previous, flow)): a frame that "
             "follows the scene is not flicker"),
            (float(np.mean(squared)), "count only the pixels the mask trusts: multiply by the "
                                      "mask and divide by its sum"),
            (float((squared * mask).sum() / squared.size), "divide by the number of trusted "
                                                           "pixels (the mask's sum), not all"),
            (float((squared * mask).sum()), "divide the sum by the number of trusted pixels"),
        )
        for wrong, hint in hints:
            expect(not np.isclose(value, wrong, rtol=1e-4), hint)
        expect(False, f"your error is {value:.6g}, the formula gives {want:.6g}")


@exercise_check("the temporal loss", solvers=[
    Solver("nstlab.video.temporal.temporal_loss",
           why="the loss this exercise asks you to write")])
def check_temporal_loss(temporal_loss):
    """``temporal_loss(image, warped_previous, mask)``: the squared difference of the image
    and the warped previous frame, counted where the mask is 1, summed and divided by the
    number of values of the image (H * W * 3)."""
    import tensorflow as tf

    image, warped, mask = _inputs()
    variable = tf.Variable(image)
    with tf.GradientTape() as tape:
        got = temporal_loss(variable, tf.constant(warped), tf.constant(mask))
    expect(got is not None, "temporal_loss returned None: did you forget `return`?")
    expect(np.size(np.asarray(got)) == 1, f"the loss should be one number, got shape "
                                          f"{np.shape(np.asarray(got))}")
    value = float(np.asarray(got))
    squared = (image - warped) ** 2
    want = float(np.sum(mask[None, ..., None] * squared) / image.size)
    if not np.isclose(value, want, rtol=1e-4):
        hints = (
            (np.mean(squared), "the mask is left out: multiply the squared difference by it "
                               "(mask[..., tf.newaxis] gives it a channel axis)"),
            (np.sum(mask[None, ..., None] * squared) / (mask.sum() * 3),
             "you divided by the trusted pixels only: Ruder et al. divide by D = H * W * 3, "
             "all the values of the image"),
            (np.sum(mask[None, ..., None] * squared), "divide the sum by D = H * W * 3"),
            (np.sum(mask[None, ..., None] * np.abs(image - warped)) / image.size,
             "square the difference (not its absolute value)"),
        )
        for wrong, hint in hints:
            expect(not np.isclose(value, float(wrong), rtol=1e-4), hint)
        expect(False, f"your loss is {value:.6g}, the formula gives {want:.6g}")
    try:
        gradient = tape.gradient(got, variable)
    except (AttributeError, TypeError, ValueError):  # a NumPy result: no tape went through it
        gradient = None
    expect(gradient is not None, "TensorFlow cannot take the gradient of your loss: use "
                                 "TensorFlow operations (tf.square, tf.reduce_sum) on the image")
