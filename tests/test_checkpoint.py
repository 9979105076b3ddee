"""Checkpoints: an interrupted run continues where it stopped, with one continuous history."""

import numpy as np
import pytest

import nstlab
from nstlab.checkpoint import CheckpointError, load_checkpoint
from nstlab.optimize import STOP_INTERRUPTED


def interrupt_at(step):
    def callback(info):
        if info.step == step:
            raise KeyboardInterrupt

    return callback


def test_adam_resume_matches_an_uninterrupted_run(tmp_path, photo_64, starry_64):
    options = dict(size=32, steps=6, optimizer="adam", progress=False)
    straight = nstlab.stylize(photo_64, starry_64, **options)

    first = nstlab.stylize(photo_64, starry_64, checkpoint_dir=tmp_path, checkpoint_every=2,
                           callbacks=[interrupt_at(3)], **options)
    assert first.stop_reason == STOP_INTERRUPTED and len(first.history) == 3
    saved = load_checkpoint(tmp_path)
    assert len(saved.history) == 3 and saved.steps_in_scale == 3 and saved.optimizer_state

    steps = []
    resumed = nstlab.stylize(photo_64, starry_64, resume=tmp_path,
                             callbacks=[lambda info: steps.append(info.step)], **options)
    assert steps == [4, 5, 6]
    assert len(resumed.history) == 6
    np.testing.assert_allclose(resumed.history.total[:3], first.history.total)
    np.testing.assert_allclose(resumed.history.total, straight.history.total, rtol=1e-4)
    np.testing.assert_allclose(resumed.image, straight.image, atol=1e-5)


def test_lbfgs_resume_continues_the_history(tmp_path, photo_64, starry_64):
    options = dict(size=32, steps=5, progress=False)
    nstlab.stylize(photo_64, starry_64, checkpoint_dir=tmp_path, callbacks=[interrupt_at(2)],
                   **options)
    resumed = nstlab.stylize(photo_64, starry_64, resume=tmp_path, **options)
    assert len(resumed.history) == 5
    assert resumed.history.total[-1] < resumed.history.total[0]


def test_resume_with_other_settings_is_refused(tmp_path, photo_64, starry_64):
    nstlab.stylize(photo_64, starry_64, size=32, steps=2, optimizer="adam", progress=False,
                   checkpoint_dir=tmp_path)
    with pytest.raises(CheckpointError, match="this run needs"):
        nstlab.stylize(photo_64, starry_64, size=48, steps=4, optimizer="adam", progress=False,
                       resume=tmp_path)
    with pytest.raises(CheckpointError, match="optimizer 'adam'"):
        nstlab.stylize(photo_64, starry_64, size=32, steps=4, progress=False, resume=tmp_path)


def test_missing_or_damaged_checkpoint_is_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="checkpoint.json is missing"):
        load_checkpoint(tmp_path)
    (tmp_path / "checkpoint.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="damaged"):
        load_checkpoint(tmp_path)
