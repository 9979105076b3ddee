"""The temporal loss, the objective that adds it, and the warping error."""

import numpy as np
import pytest
import tensorflow as tf

from nstlab.engine.losses import Objective
from nstlab.video.clip import sample_clip
from nstlab.video.temporal import TemporalObjective, temporal_loss, warping_error


def test_temporal_loss_is_the_masked_mean_square():
    rng = np.random.default_rng(1)
    image, warped = rng.uniform(size=(2, 8, 8, 3)).astype(np.float32)
    mask = (rng.uniform(size=(8, 8)) > 0.5).astype(np.float32)
    expected = np.sum(mask[..., None] * (image - warped) ** 2) / image.size
    assert float(temporal_loss(image, warped, mask)) == pytest.approx(expected, rel=1e-5)
    assert float(temporal_loss(image, warped, np.zeros((8, 8)))) == 0


def test_temporal_objective_adds_its_part_and_its_gradient_pulls_towards_the_target(photo_64,
                                                                                    starry_64):
    objective = Objective(photo_64, starry_64)
    target = np.clip(photo_64 + 0.1, 0, 1)
    mask = np.ones(photo_64.shape[:2], np.float32)
    temporal = TemporalObjective(objective, target, mask, temporal_weight=1e6)
    image = tf.Variable(photo_64[None])
    with tf.GradientTape() as tape:
        total, parts = temporal(image)
    base_total, _ = objective(photo_64[None])
    assert float(total) == pytest.approx(float(base_total) + float(parts["temporal"]), rel=1e-5)
    assert float(parts["temporal"]) == pytest.approx(
        1e6 * np.mean((photo_64 - target) ** 2), rel=1e-4)
    gradient = tape.gradient(parts["temporal"], image).numpy()[0]
    assert np.all(gradient[target > photo_64] < 0)  # descending raises those pixels
    assert temporal.content_layers == objective.content_layers


def test_warping_error_is_low_for_a_clip_that_moves_with_its_scene_and_high_for_noise():
    clip = sample_clip(frames=3, size=48)
    still = np.stack([clip[0]] * 3)
    assert warping_error(still, still) == pytest.approx(0, abs=1e-6)
    noise = np.random.default_rng(0).uniform(size=clip.shape).astype(np.float32)
    assert warping_error(clip, clip) < 0.1 * warping_error(noise, clip)
