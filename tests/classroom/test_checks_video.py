"""The checks of notebook 10's exercises: the warping error of a pair, the temporal loss."""

import numpy as np
import pytest
import tensorflow as tf

from nstlab.classroom.checks import (
    WriteItYourself,
    check_pair_warping_error,
    check_temporal_loss,
)
from nstlab.video.flow import warp
from nstlab.video.temporal import pair_warping_error, temporal_loss


def warping_error(frame, previous, flow, mask):
    squared = np.mean((frame - warp(previous, flow)) ** 2, axis=-1)
    return float((squared * mask).sum() / mask.sum())


def unwarped(frame, previous, flow, mask):
    squared = np.mean((frame - previous) ** 2, axis=-1)
    return float((squared * mask).sum() / mask.sum())


def over_all_pixels(frame, previous, flow, mask):
    squared = np.mean((frame - warp(previous, flow)) ** 2, axis=-1)
    return float((squared * mask).sum() / squared.size)


def stub_error(frame, previous, flow, mask):
    raise NotImplementedError


@pytest.mark.parametrize("wrong, reason", [(unwarped, "warp `previous` by the flow first"),
                                           (over_all_pixels, "not all")])
def test_the_warping_error_check_explains_a_wrong_answer(grades_answers, wrong, reason):
    grades_answers(check_pair_warping_error, warping_error, [(wrong, reason)], stub_error)


def test_the_package_warping_error_is_refused(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match="pair_warping_error"):
        check_pair_warping_error(pair_warping_error)


def right(image, warped, mask):
    return tf.reduce_sum(mask[..., tf.newaxis] * tf.square(image - warped)) / tf.cast(
        tf.size(image), tf.float32)


def no_mask(image, warped, mask):
    return tf.reduce_mean(tf.square(image - warped))


def over_trusted(image, warped, mask):
    return tf.reduce_sum(mask[..., tf.newaxis] * tf.square(image - warped)) / (
        tf.reduce_sum(mask) * 3)


def in_numpy(image, warped, mask):
    import numpy as np

    return np.sum(mask[..., None] * (np.asarray(image) - np.asarray(warped)) ** 2) / np.size(
        image)


def stub(image, warped, mask):
    raise NotImplementedError


@pytest.mark.parametrize("wrong, reason", [(no_mask, "the mask is left out"),
                                           (over_trusted, "divided by the trusted pixels"),
                                           (in_numpy, "cannot take the gradient")])
def test_the_check_accepts_the_formula_and_explains_a_wrong_answer(grades_answers, wrong,
                                                                   reason):
    grades_answers(check_temporal_loss, right, [(wrong, reason)], stub)


def test_the_package_loss_is_refused(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match="temporal_loss"):
        check_temporal_loss(temporal_loss)
