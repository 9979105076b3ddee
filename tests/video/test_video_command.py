"""``nstlab video``: an mp4 read back with the right frames, bad input refused, Ctrl-C resumed."""

import os
import signal
import subprocess
import sys
import time

import pytest

from nstlab.cli import main
from nstlab.video import frames
from nstlab.video.clip import sample_clip

TINY = ["--size", "48", "--steps", "2", "--quiet"]


@pytest.fixture(scope="module")
def clip_file(tmp_path_factory):
    """The test clip (5 frames) as an mp4 file."""
    path = tmp_path_factory.mktemp("clip") / "clip.mp4"
    return frames.write_video(sample_clip(frames=5, size=48), path, fps=12)


def test_video_writes_an_mp4_with_every_frame(clip_file, starry_path, tmp_path, capsys):
    out = tmp_path / "out.mp4"
    assert main(["video", str(clip_file), str(starry_path), "-o", str(out), *TINY]) == 0
    info = frames.probe(out)  # PyAV reads the header back
    assert (info.frames, info.height, info.width) == (5, 48, 38)
    assert info.fps == pytest.approx(12)
    decoded = list(frames.read_frames(out))
    assert len(decoded) == 5 and decoded[0].shape == (48, 38, 3)
    assert "warping error" in capsys.readouterr().out
    assert len(list((tmp_path / "out.mp4.frames").glob("frame_*.png"))) == 5


def test_a_folder_of_frames_in_and_out(clip_file, starry_path, tmp_path):
    source = tmp_path / "in"
    source.mkdir()
    for index, frame in enumerate(sample_clip(frames=3, size=40)):
        frames.write_frame(frame, source, index)
    out = tmp_path / "styled"
    assert main(["video", str(source), str(starry_path), "-o", str(out), *TINY]) == 0
    assert [p.name for p in frames.frame_files(out)] == [frames.frame_name(i) for i in range(3)]


def test_frames_of_one_engine_are_not_resumed_by_the_other(clip_file, starry_path, tmp_path,
                                                           capsys):
    out = tmp_path / "styled"
    assert main(["video", str(clip_file), str(starry_path), "-o", str(out), *TINY]) == 0
    capsys.readouterr()
    # Refused when the store is opened, before a Ray starts: chunks would make other frames.
    assert main(["video", str(clip_file), str(starry_path), "-o", str(out), *TINY,
                 "--engine", "ray"]) == 2
    assert "holds the frames of another run" in capsys.readouterr().err
    assert len(frames.frame_files(out)) == 5


def _write(path, text):
    path.write_text(text)
    return path


def _make_folder(tmp_path, name, shapes):
    import numpy as np

    folder = tmp_path / name
    folder.mkdir()
    for index, shape in enumerate(shapes):
        frames.write_frame(np.zeros((*shape, 3), np.float32), folder, index)
    return folder


@pytest.mark.parametrize("case, message", [
    ("not_a_video", "is not a video"),
    ("an_image", "is one image, not a video"),
    ("no_frames", "holds no frames"),
    ("mixed_sizes", "have different sizes"),
    ("too_large", "of memory but"),
    ("missing", "no such file or folder"),
])
def test_bad_input_is_one_line_and_exit_2(case, message, tmp_path, starry_path, capsys):
    source = {
        "not_a_video": lambda: _write(tmp_path / "x.mp4", "not a video"),
        "an_image": lambda: starry_path,
        "no_frames": lambda: _make_folder(tmp_path, "empty", []),
        "mixed_sizes": lambda: _make_folder(tmp_path, "mixed", [(20, 30), (30, 20)]),
        "too_large": lambda: _make_folder(tmp_path, "large", [(40, 40)] * 2),
        "missing": lambda: tmp_path / "nothing.mp4",
    }[case]()
    size = ["--size", "90000"] if case == "too_large" else []
    code = main(["video", str(source), str(starry_path), "-o", str(tmp_path / "o.mp4"),
                 *size, "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    if case == "too_large":  # both figures: what it needs and what there is
        assert err.count("iB") >= 2


def test_a_missing_encoder_is_refused_before_anything_runs(clip_file, starry_path, tmp_path,
                                                           capsys, monkeypatch):
    monkeypatch.setitem(frames.ENCODERS, ".mp4", "no_such_encoder")
    code = main(["video", str(clip_file), str(starry_path), "-o", str(tmp_path / "o.mp4"),
                 *TINY])
    err = capsys.readouterr().err
    assert code == 2 and "the encoder no_such_encoder is not in this FFmpeg" in err
    assert not (tmp_path / "o.mp4.frames").exists()


def test_an_existing_output_is_kept_without_overwrite(clip_file, starry_path, tmp_path, capsys):
    out = tmp_path / "o.mp4"
    out.write_bytes(b"precious")
    assert main(["video", str(clip_file), str(starry_path), "-o", str(out), *TINY]) == 2
    assert out.read_bytes() == b"precious"


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_keeps_its_frames_and_the_same_command_finishes_the_rest(
        sig, code, clip_file, starry_path, tmp_path, interruptible_popen, capsys):
    out = tmp_path / "out.mp4"
    command = ["video", str(clip_file), str(starry_path), "-o", str(out), "--size", "48",
               "--steps", "40", "--quiet"]
    process = interruptible_popen([sys.executable, "-m", "nstlab", *command],
                                  stderr=subprocess.PIPE, text=True)
    store = tmp_path / "out.mp4.frames"
    deadline = time.monotonic() + 240
    while not (store / frames.frame_name(1)).exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.1)
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    assert "run the same command again" in err and "Traceback" not in err
    kept = {path.name: path.stat().st_mtime_ns for path in store.glob("frame_*.png")}
    assert 2 <= len(kept) < 5 and not out.exists()
    assert main(command) == 0
    assert f"{len(kept)} of 5 frames already finished" in capsys.readouterr().err
    for name, mtime in kept.items():  # not made again
        assert (store / name).stat().st_mtime_ns == mtime
    assert frames.probe(out).frames == 5


def test_the_fast_method_from_the_command_line(clip_file, tmp_path, capsys):
    out = tmp_path / "fast"
    assert main(["video", str(clip_file), "starry_night", "-o", str(out), "--method", "fast",
                 "--size", "48", "--quiet"]) == 0
    assert len(frames.frame_files(out)) == 5 and "warping error" in capsys.readouterr().out
    mixed = tmp_path / "mixed"
    assert main(["video", str(clip_file), "three_paintings", "-o", str(mixed), "--method",
                 "fast", "--style", "starry_night=0.5,shipwreck=0.5", "--size", "48",
                 "--quiet"]) == 0
    assert len(frames.frame_files(mixed)) == 5
    capsys.readouterr()
    assert main(["video", str(clip_file), "three_paintings", "-o", str(tmp_path / "no"),
                 "--method", "fast", "--style", "sunflowers"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "nstlab: error: --style: the model paints starry_night, shipwreck, woman_with_hat; "
        "got 'sunflowers'"]


@pytest.mark.ray
def test_chunks_on_a_local_ray_from_the_command_line(clip_file, starry_path, tmp_path, capsys,
                                                     monkeypatch):
    from nstlab.batch.engines import RayEngine

    out = tmp_path / "out.mp4"
    command = ["video", str(clip_file), str(starry_path), "-o", str(out), *TINY,
               "--engine", "ray", "--chunk-frames", "2", "--overlap", "1"]
    assert main(command) == 0
    assert frames.probe(out).frames == 5

    def no_ray(self):
        raise AssertionError("every chunk is kept: Ray need not start")

    monkeypatch.setattr(RayEngine, "__enter__", no_ray)
    assert main([*command, "--overwrite"]) == 0  # a finished store: nothing to make again
    assert "0 frames made" in capsys.readouterr().out


def test_overwrite_makes_way_for_other_settings_only(clip_file, starry_path, tmp_path, capsys):
    out = tmp_path / "styled"
    command = ["video", str(clip_file), str(starry_path), "-o", str(out), *TINY]
    assert main(command) == 0
    assert main([*command, "--tv-weight", "5"]) == 2  # other settings: refused, kept
    assert "another run" in capsys.readouterr().err
    assert main([*command, "--tv-weight", "5", "--overwrite"]) == 0
    assert "5 frames made" in capsys.readouterr().out


@pytest.mark.parametrize("module, name", [("av", "PyAV"), ("cv2", "OpenCV")])
def test_without_the_video_extra_it_says_what_to_install(module, name, monkeypatch, clip_file,
                                                         starry_path, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, module, None)  # as if it were not installed
    with pytest.raises(frames.VideoError, match=rf'^video needs {name}, which is not '
                                                r'installed: pip install "nstlab\[video\]"$'):
        frames.video_module(module)
    if module == "av":
        code = main(["video", str(clip_file), str(starry_path), "-o", str(tmp_path / "o.mp4")])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and 'pip install "nstlab[video]"' in err
