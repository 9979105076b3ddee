"""The projected L-BFGS of nstlab.engine.lbfgs on problems whose answer is known."""

import numpy as np
import pytest
import tensorflow as tf

from nstlab.engine import lbfgs


def quadratic(target, curvature):
    """loss(x) = sum(curvature * (x - target)^2) / 2: an ill-conditioned bowl."""
    target = tf.constant(target, tf.float32)
    curvature = tf.constant(curvature, tf.float32)

    def loss_and_gradient(pixels):
        difference = pixels - target
        loss = 0.5 * tf.reduce_sum(curvature * difference**2)
        return loss, {"bowl": loss}, curvature * difference

    return loss_and_gradient


def make_bowl(low, high, condition):
    rng = np.random.default_rng(0)
    shape = (1, 6, 5, 3)
    target = rng.uniform(low, high, shape).astype(np.float32)
    curvature = np.exp(rng.uniform(0, np.log(condition), shape)).astype(np.float32)
    return target, curvature


@pytest.fixture
def bowl():
    """A minimum partly outside [0, 1], curvatures over two orders of magnitude."""
    return make_bowl(-0.3, 1.3, 100)


def run(loss_and_gradient, start, steps, history_size=10, smoothing_levels=0):
    optimizer = lbfgs.BoxLBFGS(loss_and_gradient, start, history_size, smoothing_levels)
    statuses = [optimizer.step() for _ in range(steps)]
    return optimizer, statuses


def test_finds_the_minimum_inside_the_box(bowl):
    target, curvature = bowl
    optimizer = lbfgs.BoxLBFGS(quadratic(target, curvature), np.full(target.shape, 0.5))
    for _ in range(60):
        if optimizer.step() != lbfgs.STEPPED:
            break  # float32 cannot resolve a lower loss any more
    # With bounds, the minimum of a separable bowl is the target clipped to [0, 1].
    best = np.clip(target, 0, 1)
    best_loss = 0.5 * np.sum(curvature * (best - target) ** 2)
    assert optimizer.loss == pytest.approx(best_loss, rel=1e-5)
    np.testing.assert_allclose(optimizer.pixels.numpy(), best, atol=5e-3)


def test_pixels_never_leave_the_box_and_the_loss_never_rises(bowl):
    target, curvature = bowl
    optimizer = lbfgs.BoxLBFGS(quadratic(target, curvature), np.full(target.shape, 0.5))
    losses = [optimizer.loss]
    for _ in range(20):
        assert optimizer.step() == lbfgs.STEPPED
        pixels = optimizer.pixels.numpy()
        assert pixels.min() >= 0.0 and pixels.max() <= 1.0
        losses.append(optimizer.loss)
    assert all(later <= earlier for earlier, later in zip(losses, losses[1:], strict=False))


def test_curvature_memory_beats_the_best_fixed_gradient_step():
    # Textbook L-BFGS: the bowl's curvature varies from pixel to pixel at random, which no
    # smoothing can anticipate, so this tests the memory alone.
    target, curvature = make_bowl(0.1, 0.9, 1000)
    optimizer, _ = run(quadratic(target, curvature), np.full(target.shape, 0.5), 30,
                       history_size=5)
    assert len(optimizer.pairs) == 5
    # Gradient descent with the largest stable fixed step, 1 / (largest curvature).
    pixels = np.full(target.shape, 0.5)
    for _ in range(30):
        pixels = pixels - curvature * (pixels - target) / curvature.max()
    descent_loss = 0.5 * np.sum(curvature * (pixels - target) ** 2)
    assert optimizer.loss < descent_loss / 20


def test_first_step_moves_pixels_by_the_chosen_rms():
    shape = (1, 8, 8, 3)
    # A huge, uniform gradient, like a style loss's: the raw gradient step would saturate.
    loss_and_gradient = quadratic(np.full(shape, 1e4, np.float32), np.ones(shape, np.float32))
    optimizer = lbfgs.BoxLBFGS(loss_and_gradient, np.full(shape, 0.5))
    assert optimizer.step() == lbfgs.STEPPED
    moved = optimizer.pixels.numpy() - 0.5
    assert np.sqrt(np.mean(moved**2)) == pytest.approx(lbfgs.FIRST_STEP_RMS, rel=1e-4)


def test_a_pixel_at_a_bound_pushed_outward_stays_there():
    shape = (1, 2, 2, 3)
    target = np.full(shape, 2.0, np.float32)  # every pixel wants to go above 1
    optimizer, statuses = run(quadratic(target, np.ones(shape, np.float32)), np.ones(shape), 3)
    # Already at the best point of the box: no step can lower the loss.
    assert statuses[0] == lbfgs.STUCK
    np.testing.assert_array_equal(optimizer.pixels.numpy(), np.ones(shape))


def test_non_finite_loss_is_reported_and_the_point_kept(bowl):
    target, curvature = bowl
    finite = quadratic(target, curvature)
    broken = tf.Variable(False)

    def loss_and_gradient(pixels):
        loss, parts, gradient = finite(pixels)
        return tf.where(broken, np.nan, loss), parts, gradient

    optimizer = lbfgs.BoxLBFGS(loss_and_gradient, np.full(target.shape, 0.5))
    assert optimizer.step() == lbfgs.STEPPED
    kept = optimizer.pixels.numpy()
    broken.assign(True)
    assert optimizer.step() == lbfgs.NON_FINITE
    np.testing.assert_array_equal(optimizer.pixels.numpy(), kept)
    assert np.isfinite(optimizer.loss)


def test_counts_evaluations(bowl):
    target, curvature = bowl
    optimizer, _ = run(quadratic(target, curvature), np.full(target.shape, 0.5), 5)
    # One at the start, then at least one per step.
    assert optimizer.evaluations >= 6


def test_history_size_must_be_positive(bowl):
    target, curvature = bowl
    with pytest.raises(ValueError, match="history_size"):
        lbfgs.BoxLBFGS(quadratic(target, curvature), np.full(target.shape, 0.5), 0)


def test_multiscale_smoothing_is_symmetric_positive_and_favours_broad_changes():
    rng = np.random.default_rng(1)
    a, b = (tf.constant(rng.normal(size=(1, 40, 24, 3)), tf.float32) for _ in range(2))
    smooth = lbfgs.multiscale_smoothing(5)
    # <a, P b> == <P a, b>: a symmetric operator, as L-BFGS's starting guess must be.
    np.testing.assert_allclose(float(lbfgs._dot(a, smooth(b))), float(lbfgs._dot(smooth(a), b)),
                               rtol=1e-4)
    assert float(lbfgs._dot(a, smooth(a))) > float(lbfgs._dot(a, a))
    # On 64 x 64 px every level (2 ... 32 px) fits: a uniform change goes 6 times as far,
    # a pixel-to-pixel checkerboard only as far as the identity takes it.
    np.testing.assert_allclose(smooth(tf.ones((1, 64, 64, 3))).numpy(), 6.0, rtol=1e-5)
    checkerboard = np.indices((64, 64)).sum(axis=0) % 2 * 2.0 - 1.0
    noise = tf.constant(np.repeat(checkerboard[None, :, :, None], 3, axis=3), tf.float32)
    gain = float(lbfgs._dot(noise, smooth(noise)) / lbfgs._dot(noise, noise))
    assert gain == pytest.approx(1.0, abs=1e-3)


def sobolev_bowl(target, stiffness=1.0, softness=1e-3):
    """loss = stiffness/2 |grad(x - target)|^2 + softness/2 |x - target|^2.

    Like a style loss, steep for pixel-to-pixel differences and nearly flat for broad ones.
    """
    target = tf.constant(target, tf.float32)

    def loss_and_gradient(pixels):
        with tf.GradientTape() as tape:
            tape.watch(pixels)
            difference = pixels - target
            loss = (0.5 * stiffness * tf.reduce_sum(
                        tf.square(difference[:, 1:] - difference[:, :-1]))
                    + 0.5 * stiffness * tf.reduce_sum(
                        tf.square(difference[:, :, 1:] - difference[:, :, :-1]))
                    + 0.5 * softness * tf.reduce_sum(tf.square(difference)))
        return loss, {"bowl": loss}, tape.gradient(loss, pixels)

    return loss_and_gradient


def test_smoothing_reaches_broad_changes_sooner_and_keeps_the_minimum():
    rows, cols = np.meshgrid(np.linspace(0, 1, 64), np.linspace(0, 1, 64), indexing="ij")
    target = np.repeat((0.5 + 0.4 * np.sin(3 * rows + 2 * cols))[None, :, :, None], 3, axis=3)
    start = np.full(target.shape, 0.5)
    losses = {}
    for levels in (0, 5):
        optimizer, _ = run(sobolev_bowl(target), start, 30, smoothing_levels=levels)
        losses[levels] = optimizer.loss
    assert losses[5] < losses[0] / 5
    optimizer, _ = run(sobolev_bowl(target), start, 120, smoothing_levels=5)
    np.testing.assert_allclose(optimizer.pixels.numpy(), target, atol=2e-3)


@pytest.mark.parametrize(("history_size", "smoothing_levels", "message"), [
    (10, -1, "smoothing_levels must be a whole number >= 0, got -1"),
    (10, 1.5, "smoothing_levels must be a whole number >= 0, got 1.5"),
    (2.5, 5, "history_size must be a whole number >= 1, got 2.5"),
])
def test_sizes_must_be_whole_numbers_in_range(bowl, history_size, smoothing_levels, message):
    target, curvature = bowl
    with pytest.raises(ValueError, match=message):
        lbfgs.BoxLBFGS(quadratic(target, curvature), np.full(target.shape, 0.5), history_size,
                       smoothing_levels)


def test_shortening_goes_to_the_parabolas_lowest_point_within_limits():
    # f(t) = 10 - 8 t + a t^2 with f(1) = 10 - 8 + a: the minimum is at t = 4 / a.
    assert lbfgs._shortening(10.0, -8.0, 10.0) == pytest.approx(0.5)  # a = 8
    assert lbfgs._shortening(10.0, -8.0, 12.0 + 10.0) == pytest.approx(4 / 20)
    assert lbfgs._shortening(10.0, -8.0, 1e6) == 0.1  # far overshoot: at most a tenth
    assert lbfgs._shortening(10.0, -8.0, float("inf")) == 0.5  # no shape to fit: halve


def test_an_overshooting_first_step_is_shortened_onto_a_bowls_minimum():
    # Every pixel 0.0125 below its target: the first step (0.05 RMS) goes four times too
    # far, and the parabola through the two losses finds the minimum exactly.
    target = np.full((1, 8, 8, 3), 0.5125, np.float32)
    optimizer = lbfgs.BoxLBFGS(quadratic(target, np.ones_like(target)),
                               np.full(target.shape, 0.5))
    assert optimizer.step() == lbfgs.STEPPED
    assert optimizer.evaluations == 3  # the start, the full step, the shortened one
    np.testing.assert_allclose(optimizer.pixels.numpy(), target, atol=1e-5)
