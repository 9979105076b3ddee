"""stylize_video: temporal stylization flickers less than independent frames (must-show)."""

import numpy as np
import pytest

from nstlab.base.validators import OptionError
from nstlab.video.clip import sample_clip
from nstlab.video.store import FrameStore
from nstlab.video.transfer import stylize_video

TINY = {"size": 48, "steps": 10, "progress": False}


@pytest.fixture(scope="module")
def clip():
    return sample_clip(frames=5, size=48)


@pytest.fixture(scope="module")
def runs(clip, starry_path):
    """The clip stylized frame by frame on its own, and with the temporal method."""
    return {mode: stylize_video(clip, starry_path, independent=mode == "independent", **TINY)
            for mode in ("independent", "temporal")}


def test_temporal_stylization_flickers_at_least_twice_less_than_independent_frames(runs):
    independent, temporal = runs["independent"].warping_error, runs["temporal"].warping_error
    assert temporal * 2 <= independent, (temporal, independent)


def test_the_result_has_every_frame_stylized(runs, clip):
    result = runs["temporal"]
    assert len(result.frames) == 5 and len(result.warping_errors) == 4
    assert result.frames[0].shape == clip[0].shape and result.made == 5
    assert np.abs(result.frames[2] - clip[2]).mean() > 0.02  # painted, not the photo
    assert result.settings["temporal_weight"] > 0 and result.settings["steps"] == 10


def test_multi_pass_goes_back_over_the_clip(clip, starry_path):
    result = stylize_video(clip[:3], starry_path, passes=2, **dict(TINY, steps=3))
    assert len(result.frames) == 3 and result.settings["passes"] == 2


def test_a_store_keeps_every_frame_and_a_rerun_makes_none_again(clip, starry_path, tmp_path):
    settings = {"test": 1}
    first = stylize_video(clip[:3], starry_path, store=FrameStore(tmp_path, settings, 3),
                          **dict(TINY, steps=3))
    assert sorted(p.name for p in tmp_path.glob("frame_*.png")) == [
        "frame_000001.png", "frame_000002.png", "frame_000003.png"]
    again = stylize_video(clip[:3], starry_path, store=FrameStore(tmp_path, settings, 3),
                          **dict(TINY, steps=3))
    assert again.made == 0
    for a, b in zip(first.frames, again.frames, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(OptionError, match="another run"):
        FrameStore(tmp_path, {"test": 2}, 3)


def test_unknown_and_bad_options_are_one_line_errors(clip, starry_path):
    with pytest.raises(OptionError, match="no option 'temporal_wieght'"):
        stylize_video(clip, starry_path, temporal_wieght=1)
    with pytest.raises(OptionError, match="blend must be below 1"):
        stylize_video(clip, starry_path, method="fast", blend=1)


def test_the_fast_method_blended_along_the_flow_flickers_less(clip):
    independent = stylize_video(clip, "starry_night", method="fast", independent=True,
                                size=48, progress=False)
    blended = stylize_video(clip, "starry_night", method="fast", size=48, progress=False)
    assert blended.warping_error * 2 <= independent.warping_error
    assert len(blended.frames) == 5 and blended.settings["blend"] == 0.6


def test_the_fast_method_paints_the_style_it_is_given(clip):
    kwargs = {"method": "fast", "independent": True, "size": 48, "progress": False}
    first = stylize_video(clip, "three_paintings", **kwargs)
    shipwreck = stylize_video(clip, "three_paintings", fast_style="shipwreck", **kwargs)
    np.testing.assert_array_equal(first.frames[0], stylize_video(
        clip, "three_paintings", fast_style="starry_night", **kwargs).frames[0])
    assert np.abs(first.frames[0] - shipwreck.frames[0]).mean() > 0.02
    assert shipwreck.settings["fast_style"] == "shipwreck"
    with pytest.raises(OptionError, match="paints starry_night, shipwreck, woman_with_hat; "
                                          "got 'sunflowers'"):
        stylize_video(clip, "three_paintings", fast_style="sunflowers", **kwargs)
    with pytest.raises(OptionError, match="fast_style is for --method fast"):
        stylize_video(clip, "starry_night.jpg", fast_style="shipwreck")


def test_the_fast_method_takes_one_model(clip, starry_path):
    with pytest.raises(OptionError, match="one model"):
        stylize_video(clip, ["starry_night", "starry_night"], method="fast", progress=False)
