"""The `nstlab` command: demo, clear errors before any work, and never losing a result."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nstlab.base.hardware import fastest_precision
from nstlab.cli import main
from nstlab.imaging.images import load_image, save_image


def exit_code(argv) -> int:
    """The exit code of ``main(argv)``, whether it returns it or argparse exits with it."""
    try:
        return main(argv)
    except SystemExit as exit_info:
        return exit_info.code


def run_cli(*args, timeout=300):
    """Run `python -m nstlab ARGS` in a subprocess; returns the CompletedProcess."""
    return subprocess.run([sys.executable, "-m", "nstlab", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, photo_64, starry_64):
    folder = tmp_path_factory.mktemp("inputs")
    return save_image(photo_64, folder / "photo.png"), save_image(starry_64, folder / "style.jpg")


def test_help_lists_options_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["stylize", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in ("--size", "--steps", "--optimizer", "--style-weight", "--save-every",
                   "--history", "--overwrite", "--device", "examples:"):
        assert option in text


def test_demo_writes_a_stylized_photo(tmp_path, capsys):
    out = tmp_path / "out.png"
    assert main(["demo", "-o", str(out), "--size", "48", "--steps", "3", "--quiet"]) == 0
    image = load_image(out)
    assert max(image.shape[:2]) == 48 and image.std() > 0.05


def test_stylize_writes_output_and_history(tmp_path, pair):
    out, history = tmp_path / "out.png", tmp_path / "history.json"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "48", "--steps", "4",
                 "--history", str(history), "--save-every", "2", "--quiet"])
    assert code == 0
    assert load_image(out).shape[:2] == load_image(pair[0], max_size=48).shape[:2]
    assert (tmp_path / "out_0002.png").exists() and (tmp_path / "out_0004.png").exists()
    record = json.loads(history.read_text())
    assert len(record["history"]["total"]) == 4
    assert set(record["history"]["style"]) == {f"block{i}_conv1" for i in range(1, 6)}
    assert record["stop_reason"] == "completed"
    assert record["settings"]["precision"] == fastest_precision()  # --precision auto


def test_stylize_says_what_it_saved_and_in_which_precision(tmp_path, pair, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "32", "--steps", "2",
                 "--precision", "float32"])
    assert code == 0
    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    assert last_line.startswith(f"saved {out} (") and last_line.endswith(", float32)")


@pytest.mark.parametrize(
    "make_args, message",
    [
        (lambda p, t: ["stylize", t / "missing.jpg", p[1], "-o", t / "o.png"], "missing.jpg"),
        (lambda p, t: ["stylize", p[0], p[1], "-o", t / "nodir" / "o.png"], "does not exist"),
        (lambda p, t: ["stylize", p[0], p[1], "-o", t / "o.xyz"], "needs an image suffix"),
        (lambda p, t: ["stylize", p[0], p[1], "-o", t / "o.png", "--style-layers", "block9_conv1"],
         "unknown layer 'block9_conv1'"),
        (lambda p, t: ["stylize", p[0], p[1], "-o", t / "o.png", "--size", "8"], "too small"),
        (lambda p, t: ["stylize", p[0], p[1], p[1], "-o", t / "o.png",
                       "--style-blend-weights", "1"], "2 style images"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(make_args, message, pair, tmp_path, capsys):
    code = main([str(a) for a in make_args(pair, tmp_path)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert message in err and err.startswith("nstlab: error:") and "\n" not in err
    assert not (tmp_path / "o.png").exists()


def test_existing_output_is_not_overwritten(tmp_path, pair, capsys):
    out = tmp_path / "out.png"
    out.write_bytes(b"precious")
    assert main(["stylize", *map(str, pair), "-o", str(out), "--steps", "1"]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"


def test_usage_errors_have_no_traceback(tmp_path):
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("not an image")
    result = run_cli("stylize", text_file, text_file, "-o", tmp_path / "o.png")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "notes.jpg" in result.stderr


def test_non_finite_loss_keeps_the_last_good_image_and_exits_1(tmp_path, pair, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "32", "--steps", "5",
                 "--optimizer", "adam", "--style-weight", "1e39", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "NaN or infinite" in err and "--style-weight" in err
    partial = tmp_path / "out.partial.png"
    assert not out.exists() and partial.exists()
    assert np.all(np.isfinite(load_image(partial)))


def test_a_partial_image_that_cannot_be_written_goes_to_the_temp_folder(
        tmp_path, pair, capsys, monkeypatch):
    import errno

    import nstlab.base.files

    real_write = nstlab.base.files.write_atomically

    def disk_full_for_partials(path, data):
        if Path(path) == tmp_path / "out.partial.png":
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, data)

    monkeypatch.setattr(nstlab.base.files, "write_atomically", disk_full_for_partials)
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "out.png"), "--size", "32",
                 "--steps", "5", "--optimizer", "adam", "--style-weight", "1e39", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and "No space left on device" in err
    fallback = Path(err.split("wrote it to ")[1].split(" instead")[0])
    assert fallback.exists() and np.all(np.isfinite(load_image(fallback)))
    assert "kept the last finite image in the file named above" in err
    assert not (tmp_path / "out.partial.png").exists()
    fallback.unlink()


@pytest.mark.parametrize("raised", [
    KeyboardInterrupt(),
    SystemError("returned a result with an exception set"),  # Ctrl-C inside TF's C code
])
def test_interrupt_before_any_image_exits_130(raised, monkeypatch, tmp_path, pair, capsys):
    import nstlab.run.transfer

    if isinstance(raised, SystemError):
        raised.__cause__ = KeyboardInterrupt()

    def interrupted(*args, **kwargs):
        raise raised

    monkeypatch.setattr(nstlab.run.transfer, "stylize_with", interrupted)
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "out.png"), "--quiet"])
    assert code == 130 and "interrupted before any image was made" in capsys.readouterr().err


def test_a_system_error_without_an_interrupt_is_not_hidden(monkeypatch, tmp_path, pair):
    import nstlab.run.transfer

    def broken(*args, **kwargs):
        raise SystemError("a real bug")

    monkeypatch.setattr(nstlab.run.transfer, "stylize_with", broken)
    with pytest.raises(SystemError, match="a real bug"):
        main(["stylize", *map(str, pair), "-o", str(tmp_path / "out.png"), "--quiet"])


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_saves_the_image_so_far(sig, code, tmp_path, pair, interruptible_popen):
    out = tmp_path / "out.png"
    process = interruptible_popen(
        [sys.executable, "-m", "nstlab", "stylize", *map(str, pair), "-o", str(out),
         "--size", "48", "--steps", "5000", "--save-every", "1", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (tmp_path / "out_0003.png").exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.2)
    os.kill(process.pid, sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err
    partial = tmp_path / "out.partial.png"
    assert str(partial) in err
    assert load_image(partial).shape[:2] == load_image(pair[0], max_size=48).shape[:2]
    assert not out.exists()
    assert "Traceback" not in err


def test_resume_continues_a_checkpointed_run(tmp_path, pair, capsys, interruptible_popen):
    out, history = tmp_path / "out.png", tmp_path / "history.json"
    # Enough steps that the run is still going when the signal arrives.
    common = ["stylize", *map(str, pair), "-o", str(out), "--size", "32", "--steps", "60",
              "--optimizer", "adam", "--quiet", "--checkpoint", str(tmp_path / "run")]
    process = interruptible_popen([sys.executable, "-m", "nstlab", *common,
                                   "--checkpoint-every", "1", "--save-every", "1"],
                                  stderr=subprocess.PIPE, text=True)
    # Let it make three checkpoints, then stop it with Ctrl-C.
    deadline = time.monotonic() + 240
    while not (tmp_path / "out_0003.png").exists():
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.2)
    os.kill(process.pid, signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode == 130
    from nstlab.engine.checkpoint import load_checkpoint

    done = len(load_checkpoint(tmp_path / "run").history)
    assert 3 <= done < 60
    code = main([*common, "--resume", str(tmp_path / "run"), "--history", str(history)])
    assert code == 0 and out.exists()
    record = json.loads(history.read_text())
    assert len(record["history"]["total"]) == 60


def test_resume_from_a_missing_checkpoint_is_a_usage_error(tmp_path, pair, capsys):
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), "--resume",
                 str(tmp_path / "nothing")])
    assert code == 2 and "no checkpoint" in capsys.readouterr().err


def test_controls_from_the_command_line(tmp_path, pair, capsys):
    mask = np.zeros((48, 48, 3), np.float32)
    mask[:, :24] = 1.0
    mask_path = save_image(mask, tmp_path / "mask.png")
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "48", "--steps", "2",
                 "--scales", "32", "48", "--coarse-steps", "1", "--pooling", "avg",
                 "--style-masks", str(mask_path), "--history", str(tmp_path / "h.json"),
                 "--quiet"])
    assert code == 0 and out.exists()
    record = json.loads((tmp_path / "h.json").read_text())
    assert len(record["history"]["total"]) == 3 and record["settings"]["scales"] == [32, 48]
    assert main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), "--size", "32",
                 "--scales", "32", "24"]) == 2
    assert "--scales must rise" in capsys.readouterr().err
    assert main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"),
                 "--style-masks", str(mask_path), str(mask_path)]) == 2
    assert "2 masks for 1 style" in capsys.readouterr().err


def test_colour_options_from_the_command_line(tmp_path, pair, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "40", "--steps", "2",
                 "--preserve-color", "histogram", "--color-match-mode", "cholesky",
                 "--denoise", "0.1", "--history", str(tmp_path / "h.json"), "--quiet"])
    assert code == 0 and out.exists()
    settings = json.loads((tmp_path / "h.json").read_text())["settings"]
    assert (settings["preserve_color"], settings["color_match_mode"], settings["denoise"]) == (
        "histogram", "cholesky", 0.1)
    for bad, message in ((["--preserve-color", "colour"], "invalid choice: 'colour'"),
                         (["--denoise", "-1"], "--denoise must be a number >= 0, got -1")):
        assert exit_code(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), *bad]) == 2
        err = capsys.readouterr().err
        assert message in err and err.startswith("nstlab: error:") and err.count("\n") == 1


def test_coarse_style_from_the_command_line(tmp_path, pair, capsys):
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "40", "--steps", "2",
                 "--coarse-style", str(pair[0]), "--coarse-layers", "block5_conv1",
                 "--history", str(tmp_path / "h.json"), "--quiet"])
    assert code == 0 and out.exists()
    settings = json.loads((tmp_path / "h.json").read_text())["settings"]
    assert settings["coarse_style"] == str(pair[0])
    assert settings["coarse_layers"] == ["block5_conv1"]
    other = str(tmp_path / "other.png")
    assert main(["stylize", *map(str, pair), "-o", other, "--coarse-style", str(pair[0]),
                 "--coarse-layers", "block4_conv2"]) == 2
    assert "'block4_conv2' is not a style layer" in capsys.readouterr().err
    assert main(["stylize", *map(str, pair), "-o", other, "--coarse-layers",
                 "block5_conv1"]) == 2
    assert "--coarse-layers needs --coarse-style" in capsys.readouterr().err
