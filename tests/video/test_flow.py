"""Optical flow, the warp and the occlusion mask, on the shipped test clip."""

import numpy as np
import pytest

from nstlab.video.clip import sample_clip
from nstlab.video.flow import flow_and_mask, flow_picture, occlusion_mask, optical_flow, warp


@pytest.fixture(scope="module")
def clip():
    return sample_clip(frames=4, size=64, pan=2.0, ball_speed=4.0)


def test_the_clip_is_a_pan_with_a_ball_crossing_it(clip):
    assert clip.shape == (4, 64, 51, 3) and clip.dtype == np.float32
    assert 0 <= clip.min() and clip.max() <= 1
    assert np.abs(clip[1] - clip[0]).mean() > 0.01  # the frames move
    with pytest.raises(ValueError, match="at least 2 frames"):
        sample_clip(frames=1)


def test_the_flow_follows_the_camera(clip):
    flow = optical_flow(clip[1], clip[0])
    # The camera pans right by 2 px a frame: each point of frame 1 is 2 px further right in 0.
    background = flow[40:, :20]  # below the ball, away from the edges it enters from
    assert np.median(background[..., 0]) == pytest.approx(2.0, abs=0.5)
    assert np.median(background[..., 1]) == pytest.approx(0.0, abs=0.5)


def test_warping_the_previous_frame_brings_it_closer_to_the_next(clip):
    flow, mask = flow_and_mask(clip[1], clip[0])
    moved = np.mean((warp(clip[0], flow) - clip[1]) ** 2, axis=-1)
    still = np.mean((clip[0] - clip[1]) ** 2, axis=-1)
    assert (moved * mask).sum() / mask.sum() < 0.25 * (still * mask).sum() / mask.sum()


def test_warp_by_a_known_shift_moves_pixels():
    image = np.random.default_rng(0).uniform(size=(16, 16, 3)).astype(np.float32)
    flow = np.zeros((16, 16, 2), np.float32)
    flow[..., 0] = 3  # result[y, x] = image[y, x + 3]
    np.testing.assert_allclose(warp(image, flow)[:, :10], image[:, 3:13], atol=1e-6)


def test_inconsistent_flow_and_the_borders_are_occluded():
    backward = np.zeros((20, 20, 2), np.float32)
    forward = np.zeros((20, 20, 2), np.float32)
    backward[..., 0] = 2.0
    forward[..., 0] = -2.0  # consistent: there and back again
    forward[5:10, 5:10, 0] = 3.0  # a patch whose forward flow does not bring it home
    mask = occlusion_mask(backward, forward)
    assert mask[15, 5] == 1
    assert mask[7, 5] == 0  # lands in the inconsistent patch
    assert mask[15, 19] == 0  # its flow leaves the picture
    assert set(np.unique(mask)) <= {0.0, 1.0}


def test_the_ball_is_not_trusted_where_it_uncovers_the_background(clip):
    _, mask = flow_and_mask(clip[1], clip[0])
    assert 0.5 < mask.mean() < 1.0  # most of the picture is trusted, not all


def test_flow_picture_is_an_image(clip):
    picture = flow_picture(optical_flow(clip[1], clip[0]))
    assert picture.shape == (64, 51, 3) and 0 <= picture.min() and picture.max() <= 1
