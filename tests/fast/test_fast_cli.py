"""`nstlab train-fast` and `nstlab fast`: a quick run, --resume, and bad input as one line."""

import os
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from nstlab.cli import main
from nstlab.fast import FastStylizer, modelfile
from nstlab.imaging.images import load_image, save_image

REPO = Path(__file__).resolve().parents[2]
TINY = ["--size", "32", "--batch-size", "2", "--width", "4", "--residual-blocks", "1",
        "--style-size", "64", "--quiet"]


@pytest.fixture(scope="module")
def small_photo(tmp_path_factory, photo_path):
    path = tmp_path_factory.mktemp("photo") / "small.png"
    save_image(load_image(photo_path, max_size=64), path)
    return path


@pytest.fixture(scope="module")
def quick_model(tmp_path_factory, photo_folder, starry_path):
    path = tmp_path_factory.mktemp("run") / "model.keras"
    code = main(["train-fast", str(starry_path), str(photo_folder), "-o", str(path),
                 "--steps", "3", *TINY])
    assert code == 0
    return path


def test_quick_run_then_resume_goes_on(quick_model, photo_folder, starry_path, capsys):
    assert FastStylizer.load(quick_model).record["steps"] == 3
    code = main(["train-fast", str(starry_path), str(photo_folder), "-o", str(quick_model),
                 "--resume", str(quick_model), "--steps", "2", "--quiet"])
    assert code == 0, capsys.readouterr().err
    record = FastStylizer.load(quick_model).record
    assert record["steps"] == 5 and len(record["history"]["total"]) == 5


def test_fast_command_with_the_shipped_model(small_photo, tmp_path):
    out = tmp_path / "out.png"
    assert main(["fast", "starry_night", str(small_photo), "-o", str(out), "--quiet"]) == 0
    assert load_image(out).shape == load_image(small_photo).shape
    # No overwrite without --overwrite.
    assert main(["fast", "starry_night", str(small_photo), "-o", str(out), "--quiet"]) == 2
    # --size is the working resolution: the picture comes back at the photo's size.
    assert main(["fast", "starry_night", str(small_photo), "-o", str(out), "--overwrite",
                 "--size", "40", "--strength", "0.5", "--preserve-color", "post",
                 "--quiet"]) == 0
    assert load_image(out).shape == load_image(small_photo).shape


def foreign_models(folder: Path, model: Path) -> dict:
    damaged = folder / "damaged.keras"
    damaged.write_bytes(model.read_bytes()[:500])
    plain = folder / "plain.keras"
    with zipfile.ZipFile(model) as source, zipfile.ZipFile(plain, "w") as target:
        for item in source.infolist():
            if item.filename != modelfile.RECORD_NAME:
                target.writestr(item, source.read(item.filename))
    text = folder / "text.keras"
    text.write_text("hello")
    return {"damaged": damaged, "plain": plain, "text": text}


def test_bad_input_is_one_line_exit_2(quick_model, photo_folder, small_photo, starry_path,
                                      tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("words")
    (junk / "b.jpg").write_bytes(b"not a jpeg")
    models = foreign_models(tmp_path, quick_model)
    out = str(tmp_path / "new.keras")
    train = ["train-fast", str(starry_path)]
    cases = {
        "empty folder": [*train, str(empty), "-o", out],
        "no images": [*train, str(junk), "-o", out],
        "missing folder": [*train, str(tmp_path / "nowhere"), "-o", out],
        "bad size": [*train, str(photo_folder), "-o", out, "--size", "4"],
        "bad suffix": [*train, str(photo_folder), "-o", str(tmp_path / "m.h5")],
        "exists": [*train, str(photo_folder), "-o", str(quick_model)],
        "other backbone": [*train, str(photo_folder), "-o", out, "--resume", str(quick_model),
                           "--backbone", "vgg19"],
        "recipe differs": [*train, str(photo_folder), "-o", out, "--resume", str(quick_model),
                           "--width", "8"],
        "damaged model": ["fast", str(models["damaged"]), str(small_photo), "-o",
                          str(tmp_path / "a.png")],
        "not nstlab": ["fast", str(models["plain"]), str(small_photo), "-o",
                       str(tmp_path / "b.png")],
        "not a zip": ["fast", str(models["text"]), str(small_photo), "-o",
                      str(tmp_path / "c.png")],
        "unknown name": ["fast", "mona_lisa", str(small_photo), "-o", str(tmp_path / "d.png")],
        "bad photo": ["fast", "starry_night", str(junk / "b.jpg"), "-o",
                      str(tmp_path / "e.png")],
        "fast size too small": ["fast", "starry_night", str(small_photo), "-o",
                                str(tmp_path / "f.png"), "--size", "4"],
        "strength above 1": ["fast", "starry_night", str(small_photo), "-o",
                             str(tmp_path / "g.png"), "--strength", "1.5"],
        "strength not a number": ["fast", "starry_night", str(small_photo), "-o",
                                  str(tmp_path / "h.png"), "--strength", "much"],
        "histogram colours": ["fast", "starry_night", str(small_photo), "-o",
                              str(tmp_path / "i.png"), "--preserve-color", "histogram"],
        "unknown colour mode": ["fast", "starry_night", str(small_photo), "-o",
                                str(tmp_path / "j.png"), "--preserve-color", "sepia"],
        "unknown precision": [*train, str(photo_folder), "-o", out, "--precision", "int8"],
        "unknown content layer": [*train, str(photo_folder), "-o", out, "--content-layers",
                                  "block9_conv1"],
        "content layer differs": [*train, str(photo_folder), "-o", out, "--resume",
                                  str(quick_model), "--content-layers", "block3_conv1"],
    }
    for name, argv in cases.items():
        capsys.readouterr()
        try:
            code = main(argv)
        except SystemExit as stop:  # argparse's own checks (a choice, a number) exit at once
            code = stop.code
        assert code == 2, name
        err = capsys.readouterr().err
        assert err.startswith("nstlab: error:") and err.count("\n") == 1, (name, err)
    assert not (tmp_path / "new.keras").exists()


def test_checks_come_before_tensorflow(tmp_path, starry_path):
    script = (
        "import sys\n"
        "from nstlab.cli import main\n"
        f"code = main(['train-fast', {str(starry_path)!r}, {str(tmp_path)!r}, '-o', "
        f"{str(tmp_path / 'm.keras')!r}])\n"
        "print(code, 'tensorflow' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=REPO, check=True)
    assert done.stdout.split() == ["2", "False"]
    assert "is empty" in done.stderr


def test_sigterm_keeps_the_model_so_far_and_exits_143(photo_folder, starry_path, tmp_path,
                                                      monkeypatch, capsys):
    from nstlab.fast import training

    real_train_fast = training.train_fast

    def terminated_at_step_2(*args, **kwargs):
        def send_sigterm(info):
            if info.step == 2:
                os.kill(os.getpid(), signal.SIGTERM)
        return real_train_fast(*args, callbacks=[send_sigterm], **kwargs)

    monkeypatch.setattr(training, "train_fast", terminated_at_step_2)
    path = tmp_path / "cut.keras"
    code = main(["train-fast", str(starry_path), str(photo_folder), "-o", str(path),
                 "--steps", "10", *TINY])
    err = capsys.readouterr().err
    assert code == 143, err
    assert "stopped by SIGTERM after 2 steps" in err and f"--resume {path}" in err
    assert FastStylizer.load(path).record["steps"] == 2
