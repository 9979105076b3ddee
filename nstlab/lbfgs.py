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
* **The first step.** With no pairs yet there is no curvature estimate, and the raw
  gradient of a style loss is in the thousands per pixel. The first direction is scaled so
  that pixels move by :data:`FIRST_STEP_RMS` (root mean square); later steps take their
  scale from the pairs.

Each step tries the full step first and halves it until the loss falls by at least a small
fraction of what the gradient promised (the Armijo condition); most steps need one
evaluation of the loss. Everything stays in TensorFlow, so on a GPU the image never leaves
the device; only the loss comes back to Python, to decide whether to accept a step.
"""

from __future__ import annotations

import math
from collections import deque

import tensorflow as tf

# Chosen by measurement (benchmarks/README.md): at 512 px, 0.02 and 0.1 each cost one or
# two more evaluations than 0.05 to reach the same loss.
FIRST_STEP_RMS = 0.05
# Accept a step when the loss falls by this fraction of the decrease the gradient predicts.
ARMIJO_FRACTION = 1e-4
MAX_HALVINGS = 10

STEPPED = "stepped"
STUCK = "stuck"  # no step along the direction lowers the loss: a (local) minimum
NON_FINITE = "non-finite"


def _dot(a: tf.Tensor, b: tf.Tensor) -> tf.Tensor:
    return tf.reduce_sum(a * b)


class BoxLBFGS:
    """Minimise a function of an image whose pixels stay in [0, 1].

    Parameters
    ----------
    loss_and_gradient : callable
        ``loss_and_gradient(pixels) -> (loss, parts, gradient)``, e.g. from
        :func:`nstlab.optimize.make_loss_and_gradient`.
    start : tensor or array
        The starting pixels, already in [0, 1]; evaluated once on construction.
    history_size : int
        How many recent (step, gradient change) pairs to remember.

    After each :meth:`step`, ``pixels``, ``loss``, ``parts`` and ``gradient`` describe the
    new point; ``evaluations`` counts calls of ``loss_and_gradient`` so far.

    Example::

        lbfgs = BoxLBFGS(make_loss_and_gradient(objective, image.shape), image)
        for _ in range(100):
            if lbfgs.step() != STEPPED:
                break
    """

    def __init__(self, loss_and_gradient, start, history_size: int = 10):
        if history_size < 1:
            raise ValueError(f"history_size must be at least 1, got {history_size}")
        self.loss_and_gradient = loss_and_gradient
        self.history_size = int(history_size)
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
        if self.pairs:
            s, y, _ = self.pairs[-1]
            q = q * (_dot(s, y) / _dot(y, y))
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
        for _ in range(MAX_HALVINGS + 1):
            trial = tf.clip_by_value(self.pixels + scale * direction, 0.0, 1.0)
            loss, parts, gradient = self._evaluate(trial)
            finite = math.isfinite(loss) and bool(tf.reduce_all(tf.math.is_finite(gradient)))
            finite_seen = finite_seen or finite
            predicted = float(_dot(self.gradient, trial - self.pixels))
            if finite and loss <= self.loss + ARMIJO_FRACTION * predicted:
                break
            scale *= 0.5
        else:
            return STUCK if finite_seen else NON_FINITE
        s, y = trial - self.pixels, gradient - self.gradient
        curvature = _dot(s, y)
        if float(curvature) > 1e-10 * float(_dot(y, y)):
            self.pairs.append((s, y, 1.0 / curvature))
        self.pixels, self.loss, self.parts, self.gradient = trial, loss, parts, gradient
        return STEPPED
