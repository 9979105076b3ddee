"""Overlapping chunks: the plan, the cross-fade, and a real local Ray (marker ray)."""

import numpy as np
import pytest

from nstlab.batch.engines import InProcessEngine
from nstlab.video.chunks import chunk_plan, joined, run_chunk, seams, stylize_in_chunks
from nstlab.video.clip import sample_clip
from nstlab.video.store import FrameStore
from nstlab.video.transfer import split_options, stylize_video_with


def test_the_plan_covers_every_frame_once_with_a_warm_up_before_each_chunk():
    plan = chunk_plan(10, 4, 2)
    assert plan == [(0, 0, 4), (2, 4, 8), (6, 8, 10)]
    assert [i for _, first, end in plan for i in range(first, end)] == list(range(10))
    assert seams(10, 4) == [3, 7]


def test_the_overlap_cross_fades_from_one_chunk_to_the_next():
    ones, zeros = np.ones((2, 2, 3), np.float32), np.zeros((2, 2, 3), np.float32)
    plan = chunk_plan(4, 2, 1)  # [(0, 0, 2), (1, 2, 4)]
    frames = joined(plan, {0: [zeros, zeros], 2: [ones, ones, ones]})
    assert [float(f.mean()) for f in frames] == [0.0, pytest.approx(0.502, abs=0.002), 1, 1]


@pytest.fixture(scope="module")
def setup(starry_path):
    clip = list(sample_clip(frames=8, size=40))
    styles = [str(starry_path)]
    still, video = split_options({"size": 40, "steps": 8, "chunk_frames": 4, "overlap": 3,
                                  "engine": "ray"})
    return clip, styles, still.validate(clip[0], styles), video.validate()


@pytest.mark.ray
def test_chunks_on_a_local_ray_give_the_in_process_frames_and_seams_no_worse(setup, tmp_path):
    clip, styles, still, video = setup
    here = stylize_in_chunks(still, video, clip, styles, progress=False,
                             engine=InProcessEngine(run_chunk))
    store = FrameStore(tmp_path, {"test": 1}, len(clip))
    on_ray = stylize_in_chunks(still, video, clip, styles, progress=False, store=store)
    # The same chunks in Ray's workers (1 thread each) and here: the same 8-bit frames, up to
    # the rounding of float32 sums in another thread order (1/255 per pixel at most).
    for a, b in zip(here.frames, on_ray.frames, strict=True):
        assert np.abs(a - b).max() <= 1 / 255 + 1e-6
    errors = np.array(on_ray.warping_errors)
    seam = seams(len(clip), video.chunk_frames)
    others = np.delete(errors, seam)
    assert errors[seam].max() <= others.max(), (errors, seam)
    # The chunk 0 frames are those of the one-chain run in this process.
    sequential = stylize_video_with(still, video, clip, styles, progress=False)
    np.testing.assert_allclose(on_ray.frames[0], sequential.frames[0], atol=1 / 255 + 1e-6)
    # Kept: a rerun on the same store makes no chunk again.
    again = stylize_in_chunks(still, video, clip, styles, progress=False,
                              store=FrameStore(tmp_path, {"test": 1}, len(clip)),
                              engine=InProcessEngine(run_chunk))
    assert again.made == 0
