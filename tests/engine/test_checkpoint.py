"""Checkpoints: an interrupted run continues where it stopped, with one continuous history;
a checkpoint that cannot be written costs a warning, never the run or its image.

(Damaged checkpoint files: tests/engine/test_checkpoint_damage.py.)
"""

import errno
import os
import subprocess

import numpy as np
import pytest

import nstlab
from nstlab.engine import checkpoint
from nstlab.engine.checkpoint import (
    Checkpointer,
    CheckpointError,
    CheckpointWarning,
    load_checkpoint,
)
from nstlab.engine.optimize import STOP_COMPLETED, STOP_INTERRUPTED, optimize_pixels
from nstlab.imaging.data import generated_style


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


# ------------------------------------------------------------- saves that fail during a run

STEPS, EVERY, BREAK_AT = 4, 2, 3  # saves at steps 2 (works), 4 and the end (fail)


@pytest.fixture(scope="module")
def tiny_run(photo_64):
    """An objective on a 32 px photo with a generated style, its start, and the image that 4
    Adam steps reach without checkpoints."""
    content = nstlab.resize_image(photo_64, 32)
    objective = nstlab.Objective(content, generated_style("mosaic", 32))
    image, _, _ = optimize_pixels(objective, content, steps=STEPS, optimizer="adam",
                                  progress=False)
    return objective, content, image


def run_breaking_saves(tiny_run, folder, break_saves, every=EVERY, at=BREAK_AT):
    """The tiny run with a checkpointer; ``break_saves()`` is called at step ``at``."""
    objective, start, _ = tiny_run

    def callback(info):
        if info.step == at:
            break_saves()

    checkpointer = Checkpointer(folder, every=every)
    with pytest.warns(CheckpointWarning) as caught:
        image, history, stop = optimize_pixels(objective, start, steps=STEPS, optimizer="adam",
                                               progress=False, callbacks=[callback],
                                               checkpointer=checkpointer)
    assert stop == STOP_COMPLETED and len(history) == STEPS
    np.testing.assert_allclose(image, tiny_run[2], atol=1e-5)  # as if nothing had happened
    assert isinstance(checkpointer.last_error, OSError)
    warned = [str(w.message) for w in caught if issubclass(w.category, CheckpointWarning)]
    assert len(warned) == 1, warned  # however many saves failed
    return warned[0]


def assert_step_2_is_kept(folder):
    kept = load_checkpoint(folder)
    assert kept.steps_in_scale == EVERY and len(kept.history) == EVERY
    assert kept.optimizer == "adam" and kept.backbone == "vgg16"


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS], ids=["full disk", "read-only"])
def test_a_failing_save_is_one_warning_and_the_run_goes_on(tiny_run, tmp_path, monkeypatch,
                                                           code):
    def failing_write(path, content):
        raise OSError(code, os.strerror(code), str(path))

    folder = tmp_path / "run"
    message = run_breaking_saves(
        tiny_run, folder, lambda: monkeypatch.setattr(checkpoint, "write_atomically",
                                                      failing_write))
    assert message == (f"could not save a checkpoint in '{folder}' ({os.strerror(code)}); the run "
                       "goes on and keeps its image, but can only be resumed from an earlier "
                       "checkpoint (this warning is shown once)")
    monkeypatch.undo()
    assert_step_2_is_kept(folder)


def test_a_failing_final_save_is_a_warning_too(tiny_run, tmp_path, monkeypatch):
    def failing_write(path, content):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(checkpoint, "write_atomically", failing_write)
    message = run_breaking_saves(tiny_run, tmp_path / "run", lambda: None, every=100)
    assert "No space left on device" in message
    assert not (tmp_path / "run" / "checkpoint.json").exists()


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 1 MiB tmpfs filesystem, unmounted afterwards (needs root; skipped otherwise)."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    yield disk
    subprocess.run(["umount", str(disk)], check=True)


def fill(disk):
    """Write a ballast file until the filesystem has no space left."""
    with open(disk / "ballast", "wb", buffering=0) as file:
        with pytest.raises(OSError) as full:
            while True:
                file.write(bytes(1 << 16))
    assert full.value.errno == errno.ENOSPC


def test_a_full_disk_mid_run(tiny_run, tiny_disk):
    folder = tiny_disk / "run"
    message = run_breaking_saves(tiny_run, folder, lambda: fill(tiny_disk))
    assert f"'{folder}' (No space left on device)" in message
    assert_step_2_is_kept(folder)
    assert sorted(p.name for p in folder.iterdir()) == [
        "checkpoint.json", "image.npy", "optimizer.npz"]  # no temporary files left behind


def test_a_folder_turned_read_only_mid_run(tiny_run, tiny_disk):
    folder = tiny_disk / "run"

    def remount_read_only():
        subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)

    message = run_breaking_saves(tiny_run, folder, remount_read_only)
    assert f"'{folder}' (Read-only file system)" in message
    assert_step_2_is_kept(folder)


def test_adam_state_of_another_run_is_refused(tiny_run):
    objective, start, _ = tiny_run
    with pytest.raises(CheckpointError) as caught:
        optimize_pixels(objective, start, steps=1, optimizer="adam", progress=False,
                        optimizer_state=[np.int64(3)])
    pixels = (1, *start.shape)
    assert str(caught.value) == ("the saved Adam state (arrays of shapes [()]) does not fit this "
                                 f"run, which needs [(), (), {pixels}, {pixels}]")
