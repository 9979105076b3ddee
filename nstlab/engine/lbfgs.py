"""L-BFGS for pixels that must stay in [0, 1], written in TensorFlow.

Gradient descent moves every pixel by the same rule, however curved the loss is in that
direction. L-BFGS (limited-memory Broyden-Fletcher-Goldfarb-Shanno; Nocedal & Wright,
*Numerical Optimization*, chapter 7) remembers the last few steps ``s`` and how the gradient
changed over them, ``y``. From those pairs the *two-loop recursion* turns the gradient into
a step that is long where the loss is flat and short where it is steep, without ever
building the (pixels x pixels) curvature matrix.

Two additions make it fit an image:

* **Bounds.** A pixel at 0 whose gradient says "darker", or at 1 whose gradient says
  "brighter", is held still for that step (it is left out of the direction), and every
  trial point is clipped back into [0, 1]. This is *projected* L-BFGS.
* **Large scales first.** The gradient of a style loss is mostly pixel-scale detail, so
  plain L-BFGS starts by polishing grain while broad changes (a sky turning the painting's
  blue) creep. Its starting curvature guess is therefore not "the same for every pixel" but
  :func:`multiscale_smoothing`: the gradient plus blurred copies of it at 2, 4, ... 32
  pixels, which lets broad changes move further per step. The smoothing is symmetric and
  positive, so every direction still points downhill; it changes the path, not the
  loss being minimised. At 512 px, with the line search below, it cut the network
  evaluations needed to reach a given loss by 9-43% on six image pairs
  (benchmarks/README.md).
* **The first step.** With no pairs yet there is no curvature estimate, and the raw
  gradient of a style loss is in the thousands per pixel. The first direction is scaled so
  that pixels move by :data:`FIRST_STEP_RMS` (root mean square); later steps take their
  scale from the pairs.

Each step tries the full step first. It is accepted when the loss falls by at least a
tenth of what the gradient promised for it (the Armijo condition); otherwise the step is
shortened to the lowest point of the parabola through the two losses and the slope, and
tried again. Most steps need one evaluation of the loss. Everything stays in TensorFlow, so
on a GPU the image never leaves the device; only the loss comes back to Python, to decide
whether to accept a step.
"""

from __future__ import annotations

import math
from collections import deque

import tensorflow as tf

from nstlab.base.validators import check_number
from nstlab.engine.defaults import LBFGS_SMOOTHING

# Chosen by measurement (benchmarks/README.md): over four image pairs at 512 px, 0.01 and
# 0.02 cost 9 and 3 more evaluations in all than 0.05 to reach the same losses.
FIRST_STEP_RMS = 0.05
# Accept a step when the loss falls by this fraction of the decrease the gradient predicts.
# Textbooks use 1e-4; here a step that realises under a tenth of its promise has usually
# overshot a narrow valley, and shortening it once is cheaper than the next iteration.
ARMIJO_FRACTION = 0.1
MAX_SHORTENINGS = 10
# Blur levels of the starting curvature guess (2, 4, ... 2**SMOOTHING_LEVELS pixels); chosen
# by measurement (benchmarks/README.md). 0 gives textbook L-BFGS.
SMOOTHING_LEVELS = LBFGS_SMOOTHING

STEPPED = "stepped"
STUCK = "stuck"  # no step along the direction lowers the loss: a (local) minimum
NON_FINITE = "non-finite"


def _dot(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(a * b)


def multiscale_smoothing(levels: int = SMOOTHING_LEVELS):
    """A function that adds to a gradient its blurred copies at 2, 4, up to ``2**levels`` px.

    Each blurred copy is ``upsample(upsample_adjoint(gradient)) / factor**2``: the gradient
    summed onto a grid ``factor`` times coarser, then spread back with bilinear weights.
    Written as ``U Uᵀ`` it is symmetric and positive semi-definite, so the sum with the
    gradient itself is positive definite: a valid starting inverse curvature for L-BFGS
    (Nocedal & Wright, section 7.2), in effect optimising a pyramid of images whose coarse
    levels move whole regions at once. Works on (batch, height, width, channels) tensors;
    levels coarser than one pixel are skipped.
    """

    def upsample_adjoint(gradient, coarse_shape):
        coarse = tf.zeros(coarse_shape, gradient.dtype)
        with tf.GradientTape() as tape:
            tape.watch(coarse)
            fine = tf.image.resize(coarse, tf.shape(gradient)[1:3], method="bilinear")
        return tape.gradient(fine, coarse, output_gradients=gradient)

    @tf.function(autograph=False)  # plain Python loops over static shapes: nothing to convert
    def smooth(gradient):
        if gradient.shape.rank != 4:  # not a batch of images: nothing to blur
            return gradient
        _, height, width, channels = gradient.shape
        result = gradient
        for level in range(1, levels + 1):
            factor = 2**level
            if factor > min(height, width):
                break
            coarse_shape = (gradient.shape[0], -(-height // factor), -(-width // factor),
                            channels)
            spread = tf.image.resize(upsample_adjoint(gradient, coarse_shape),
                                     (height, width), method="bilinear")
            result = result + spread / factor**2
        return result

    return smooth


def _shortening(loss, predicted, trial_loss) -> float:
    """The factor to shorten a rejected step by, between 0.1 and 0.5.

    The parabola through the current loss (with its slope, ``predicted`` = gradient . step)
    and the trial's loss has its minimum at this fraction of the step.
    """
    bend = trial_loss - loss - predicted
    if not (math.isfinite(bend) and bend > 0.0):
        return 0.5
    return min(0.5, max(0.1, -predicted / (2.0 * bend)))


class BoxLBFGS:
    """Minimise a function of an image whose pixels stay in [0, 1].

    Parameters
    ----------
    loss_and_gradient : callable
        ``loss_and_gradient(pixels) -> (loss, parts, gradient)``, e.g. from
        :func:`nstlab.engine.optimize.make_loss_and_gradient`.
    start : tensor or array
        The starting pixels, already in [0, 1]; evaluated once on construction.
    history_size : int
        How many recent (step, gradient change) pairs to remember.
    smoothing_levels : int
        Blur levels of the starting curvature guess (:func:`multiscale_smoothing`); 0 for
        textbook L-BFGS.

    Notes
    -----
    After each :meth:`step`, ``pixels``, ``loss``, ``parts`` and ``gradient`` describe the
    new point; ``evaluations`` counts calls of ``loss_and_gradient`` so far.

    Examples
    --------
    ::

        lbfgs = BoxLBFGS(make_loss_and_gradient(objective, image.shape), image)
        for _ in range(100):
            if lbfgs.step() != STEPPED:
                break
    """

    def __init__(self, loss_and_gradient, start, history_size: int = 10,
                 smoothing_levels: int = SMOOTHING_LEVELS):
        history_size = check_number(history_size, "history_size", whole=True, at_least=1)
        smoothing_levels = check_number(smoothing_levels, "smoothing_levels", whole=True,
                                        at_least=0)
        self.smooth = multiscale_smoothing(smoothing_levels) if smoothing_levels else (
            lambda gradient: gradient)
        self.loss_and_gradient = loss_and_gradient
        self.history_size = history_size
        self.pairs: deque[tuple[tf.Tensor, tf.Tensor, tf.Tensor]] = deque(
            maxlen=self.history_size)
        self.evaluations = 0
        self.pixels = tf.convert_to_tensor(start, tf.float32)
        self.loss, self.parts, self.gradient = self._evaluate(self.pixels)

    def _evaluate(self, pixels):
        self.evaluations += 1
        loss, parts, gradient = self.loss_and_gradient(pixels)
        return float(loss), parts, gradient

    def _movable(self) -> tf.Tensor:
        """1 for pixels free to move along minus the gradient, 0 for those held at a bound."""
        pixels, gradient = self.pixels, self.gradient
        held = ((pixels <= 0.0) & (gradient > 0.0)) | ((pixels >= 1.0) & (gradient < 0.0))
        return tf.cast(~held, tf.float32)

    def direction(self) -> tf.Tensor:
        """The L-BFGS direction: minus the gradient, reshaped by the remembered curvature."""
        movable = self._movable()
        q = self.gradient * movable
        alphas = []
        for s, y, rho in reversed(self.pairs):
            alpha = rho * _dot(s, q)
            q = q - alpha * y
            alphas.append(alpha)
        q = self.smooth(q)
        if self.pairs:
            s, y, _ = self.pairs[-1]
            q = q * (_dot(s, y) / _dot(y, self.smooth(y)))
        else:
            q = q * (FIRST_STEP_RMS / (tf.sqrt(tf.reduce_mean(tf.square(q))) + 1e-30))
        for (s, y, rho), alpha in zip(self.pairs, reversed(alphas), strict=True):
            beta = rho * _dot(y, q)
            q = q + (alpha - beta) * s
        return -q * movable

    def step(self) -> str:
        """One iteration: a direction, a line search along it, and a memory update.

        Returns ``"stepped"``, ``"stuck"`` (no lower loss found along the direction) or
        ``"non-finite"`` (the loss was NaN or infinite at every trial point).
        """
        if not math.isfinite(self.loss):
            return NON_FINITE
        direction = self.direction()
        slope = float(_dot(self.gradient, direction))
        if not slope < 0.0:  # the memory points uphill: forget it, go down the gradient
            self.pairs.clear()
            direction = self.direction()
            slope = float(_dot(self.gradient, direction))
            if not slope < 0.0:
                return STUCK
        scale, finite_seen = 1.0, False
        for _ in range(MAX_SHORTENINGS + 1):
            trial = tf.clip_by_value(self.pixels + scale * direction, 0.0, 1.0)
            loss, parts, gradient = self._evaluate(trial)
            finite = math.isfinite(loss) and bool(tf.reduce_all(tf.math.is_finite(gradient)))
            finite_seen = finite_seen or finite
            predicted = float(_dot(self.gradient, trial - self.pixels))
            if finite and loss <= self.loss + ARMIJO_FRACTION * predicted:
                break
            scale *= _shortening(self.loss, predicted, loss if finite else math.inf)
        else:
            return STUCK if finite_seen else NON_FINITE
        s, y = trial - self.pixels, gradient - self.gradient
        curvature = _dot(s, y)
        if float(curvature) > 1e-10 * float(_dot(y, y)):
            self.pairs.append((s, y, 1.0 / curvature))
        self.pixels, self.loss, self.parts, self.gradient = trial, loss, parts, gradient
        return STEPPED
