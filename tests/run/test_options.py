"""The options module: one table of run options, one check, no TensorFlow before it."""

import functools
import json
import pkgutil
import subprocess
import sys
from dataclasses import fields

import numpy as np
import pytest

import nstlab
from nstlab.base.validators import OptionError
from nstlab.cli import build_parser, main
from nstlab.engine import defaults
from nstlab.imaging.images import load_image, save_image
from nstlab.run import options
from nstlab.run.options import StylizeOptions


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture(scope="module")
def pair(tmp_path_factory, photo_64, starry_64):
    folder = tmp_path_factory.mktemp("inputs")
    return save_image(photo_64, folder / "photo.png"), save_image(starry_64, folder / "style.png")


# ------------------------------------------------------------------ no TensorFlow first


def test_building_the_parser_and_refusing_bad_input_import_no_tensorflow(tmp_path):
    missing = tmp_path / "missing.jpg"
    checked = run_python(f"""
import sys
from nstlab.cli import build_parser, main
build_parser().format_help()
code = main(["stylize", {str(missing)!r}, {str(missing)!r}, "-o", {str(tmp_path / "o.png")!r}])
print(code, "tensorflow" in sys.modules, "keras" in sys.modules)
""")
    assert checked.stdout.split() == ["2", "False", "False"], checked.stderr
    assert "no such file" in checked.stderr and checked.stderr.count("\n") == 1


def test_validating_options_and_images_imports_no_tensorflow(pair):
    checked = run_python(f"""
import sys
from nstlab.run.options import StylizeOptions
options = StylizeOptions(size=48, style_layers=["block3_conv1"])
options.validate({str(pair[0])!r}, [{str(pair[1])!r}])
print("tensorflow" in sys.modules)
""")
    assert checked.stdout.strip() == "False", checked.stderr


# -------------------------------------------------------------------- one table


def test_every_command_flag_comes_from_the_table():
    text = build_parser()._subparsers._group_actions[0].choices["stylize"].format_help()
    for f in fields(StylizeOptions):
        assert options.flag_of(f) in text
    assert "(default: 512)" in text and "{lbfgs,adam}" in text


def test_stylize_signature_and_docstring_come_from_the_table():
    import inspect

    parameters = inspect.signature(nstlab.stylize).parameters
    for f in fields(StylizeOptions):
        assert parameters[f.name].default == f.default
        assert f"{f.name} :" in nstlab.stylize.__doc__


# ------------------------------------------------------------ where each option goes


def test_every_option_reaches_a_callee_or_the_run():
    """No option is silently dropped: a callee takes it by name, or the run reads it itself."""
    names = {f.name for f in fields(StylizeOptions)}
    taken = {name for callee in options.CALLEES
             for name in options.projected(pkgutil.resolve_name(callee))}
    read = set(options.READ_BY_RUN)
    assert names - taken - read == set(), "add a parameter of that name, or list it in READ_BY_RUN"
    assert read <= names, "READ_BY_RUN names an option that no longer exists"
    assert read & taken == set(), "a callee takes this option: it need not be in READ_BY_RUN"
    assert {"tv_weight", "backbone", "precision"} <= taken  # Objective's, for instance


def test_call_fills_the_parameters_named_like_options():
    def callee(image, style_shapes=(), *, style_weight, steps, extractor=None, **others):
        return image, style_shapes, style_weight, steps, extractor, others

    opts = StylizeOptions(style_weight=5.0, steps=3, seed=9)
    assert options.projected(callee) == ["style_weight", "steps"]
    assert opts.call(callee, "photo") == ("photo", (), 5.0, 3, None, {})
    # What the caller gives wins over the option of the same name; **others gets nothing.
    assert opts.call(callee, "photo", ["style"], steps=7, extractor="vgg") == (
        "photo", ["style"], 5.0, 7, "vgg", {})


def test_call_leaves_out_an_option_given_by_position():
    def callee(size, *, seed):
        return size, seed

    assert StylizeOptions(size=64, seed=2).call(callee, 32) == (32, 2)


def test_the_demo_changes_only_its_defaults():
    args = build_parser().parse_args(["demo", "-o", "x.png"])
    assert (args.size, args.steps) == (256, 60)
    assert options.from_namespace(args).style_weight == defaults.DEFAULT_STYLE_WEIGHT


@pytest.mark.parametrize("keywords, message", [
    ({"size": 0}, "size must be a whole number >= 1, got 0"),
    ({"steps": 2.5}, "steps must be a whole number >= 1, got 2.5"),
    ({"style_weight": float("nan")}, "style_weight must be a number >= 0, got nan"),
    ({"style_scale": 0}, "style_scale must be a number > 0"),
    ({"optimizer": "sgd"}, "unknown optimizer 'sgd'; choose one of lbfgs, adam"),
    ({"preserve_color": "colour"}, "unknown preserve_color 'colour'; choose None or one of"),
    ({"init": "zeros"}, "unknown init 'zeros'; choose one of tinted, content, noise, style or"),
    ({"style_layers": ["block9_conv1"]}, "style_layers: unknown layer 'block9_conv1' for vgg16"),
    ({"style_layers": []}, "style_layers needs at least one layer name"),
    ({"backbone": "vgg19", "content_layers": ["block5_conv4"]}, None),
    ({"content_layers": ["block5_conv4"]}, "unknown layer 'block5_conv4' for vgg16"),
    ({"style_layer_weights": [1, 2]}, "style_layer_weights got 2 weights for 5 style layers"),
    ({"coarse_layers": ["block5_conv1"]}, "coarse_layers needs coarse_style"),
    ({"coarse_style": "a.png", "coarse_layers": ["block4_conv2"]},
     "coarse_layers: 'block4_conv2' is not a style layer"),
    ({"coarse_style": "a.png", "style_masks": ["m.png"]},
     "coarse_style cannot be combined with style_masks"),
    ({"size": 96, "scales": [96, 48]}, "scales must rise and end at size (96), got [96, 48]"),
    ({"scales": "sometimes"}, "scales must be 'auto', None or rising sizes"),
    ({"memory_check": "yes"}, "memory_check must be True or False"),
])
def test_options_are_checked_in_one_place(keywords, message):
    if message is None:
        StylizeOptions(**keywords).validate()
        return
    with pytest.raises(OptionError) as error:
        StylizeOptions(**keywords).validate()
    assert message in str(error.value) and "\n" not in str(error.value)


def test_counts_are_checked_against_the_styles(pair):
    opts = StylizeOptions(size=48, style_blend_weights=[1.0])
    with pytest.raises(OptionError, match="style_blend_weights got 1 weights for 2 style images"):
        opts.validate(pair[0], [pair[1], pair[1]])
    with pytest.raises(OptionError, match="--style-masks got 2 masks for 1 style images"):
        StylizeOptions(size=48, style_masks=[pair[0]] * 2).validate(pair[0], [pair[1]],
                                                                    flags=True)


def test_images_are_checked_from_their_headers(pair, tmp_path):
    with pytest.raises(ValueError, match="too small for layer block5_conv1"):
        StylizeOptions(size=8).validate(pair[0], [pair[1]])
    with pytest.raises(ValueError, match="the style image after resizing is 8x12 px"):
        StylizeOptions(size=48, style_scale=0.25).validate(pair[0], [pair[1]])
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a picture")
    with pytest.raises(ValueError, match="is not an image file"):
        StylizeOptions(size=48).validate(pair[0], [broken])
    with pytest.raises(ValueError, match="over the limit of 100"):
        StylizeOptions(size=48, max_pixels=100).validate(pair[0], [pair[1]])
    # A URL cannot be checked without the network: its size is left to the download.
    StylizeOptions(size=48).validate("https://example.invalid/photo.jpg", [pair[1]])


def test_validate_fills_in_the_defaults():
    filled = StylizeOptions(optimizer="adam").validate()
    assert filled.steps == defaults.DEFAULT_STEPS["adam"]
    assert filled.style_layers == defaults.DEFAULT_STYLE_LAYERS
    assert filled.content_layers == defaults.DEFAULT_CONTENT_LAYERS


def test_a_misspelt_option_is_named_with_a_suggestion(photo_64, starry_64):
    with pytest.raises(OptionError, match="stylize\\(\\) has no option 'style_wieght'; did you "
                                          "mean 'style_weight'"):
        nstlab.stylize(photo_64, starry_64, style_wieght=10)


def test_checkpoint_folder_must_be_writable(tmp_path):
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OptionError, match="is a file, not a folder"):
        StylizeOptions(checkpoint_dir=a_file).validate()
    StylizeOptions(checkpoint_dir=tmp_path / "new" / "run").validate()


# ------------------------------------------------------------------- runs and records


def test_init_given_as_a_path(pair, tmp_path):
    start = np.zeros((32, 32, 3), np.float32)
    start[:, :16] = 1.0
    path = save_image(start, tmp_path / "start.png")
    seen = []
    result = nstlab.stylize(pair[0], pair[1], size=32, steps=1, init=str(path), progress=False,
                            callbacks=[lambda info: seen.append(info.image)],
                            precision="float32")
    assert result.settings["init"] == str(path)
    # One L-BFGS step moves the pixels only a little from the half-white start.
    assert seen[0][:, :8].mean() > 0.7 and seen[0][:, -8:].mean() < 0.3


def test_settings_repeat_the_run(pair):
    first = nstlab.stylize(pair[0], pair[1], size=32, steps=3, precision="float32",
                           progress=False, style_weight=500.0)
    json.dumps(first.settings)  # plain JSON values
    again = nstlab.stylize(pair[0], pair[1], progress=False, **first.settings)
    np.testing.assert_array_equal(first.image, again.image)
    assert again.settings == first.settings


def test_settings_record_paths_and_mark_in_memory_images(photo_64, starry_64, tmp_path):
    mask = save_image(np.ones((32, 32, 3), np.float32), tmp_path / "mask.png")
    settings = StylizeOptions(style_masks=[mask], coarse_style=starry_64).settings()
    assert settings["style_masks"] == [str(mask)] and settings["coarse_style"] == "<image>"
    assert "resume" not in settings and "checkpoint_dir" not in settings


# ---------------------------------------------------------------- what the command prints


def test_a_run_prints_no_tensorflow_native_log_lines(pair, tmp_path):
    out = tmp_path / "out.png"
    done = subprocess.run([sys.executable, "-m", "nstlab", "stylize", *map(str, pair), "-o",
                           str(out), "--size", "32", "--steps", "1", "--quiet"],
                          capture_output=True, text=True, timeout=300,
                          env={k: v for k, v in __import__("os").environ.items()
                               if k != "TF_CPP_MIN_LOG_LEVEL"})
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
    assert load_image(out).shape[:2] == load_image(pair[0], max_size=32).shape[:2]


def test_a_failed_final_write_falls_back_to_the_temporary_folder(pair, tmp_path, monkeypatch,
                                                                 capsys, tmp_path_factory):
    from nstlab.base import files

    out = tmp_path / "out.png"
    real = files.write_atomically

    def disk_full_here(path, content):
        if str(path).startswith(str(tmp_path)):
            raise OSError(28, "No space left on device")
        return real(path, content)

    monkeypatch.setattr(files, "write_atomically", disk_full_here)
    spare = tmp_path_factory.mktemp("spare")
    monkeypatch.setattr("tempfile.tempdir", str(spare))
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "32", "--steps", "1",
                 "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "No space left on device" in err
    saved = list(spare.glob("nstlab-out-*.png"))
    assert len(saved) == 1 and str(saved[0]) in err
    assert load_image(saved[0]).shape[:2] == load_image(pair[0], max_size=32).shape[:2]
    assert not out.exists()


def test_when_even_the_fallback_fails_the_command_says_so(pair, tmp_path, monkeypatch, capsys):
    from nstlab.base import files

    def disk_full(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files, "write_atomically", disk_full)
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "out.png"), "--size", "32",
                 "--steps", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "the result is lost" in err


def test_a_failed_intermediate_save_is_one_warning_and_the_run_goes_on(pair, tmp_path,
                                                                       monkeypatch, capsys):
    from nstlab.imaging import images

    real = images.save_image

    def refuse_intermediates(image, path):
        if "_000" in str(path):
            raise images.ImageError(f"cannot write '{path}': No space left on device")
        return real(image, path)

    monkeypatch.setattr(images, "save_image", refuse_intermediates)
    out = tmp_path / "out.png"
    code = main(["stylize", *map(str, pair), "-o", str(out), "--size", "32", "--steps", "3",
                 "--save-every", "1", "--quiet"])
    err = capsys.readouterr().err
    assert code == 0 and out.exists()
    assert err.count("\n") == 1 and err.startswith("nstlab: warning:") and "goes on" in err


def test_content_layer_weights_reach_the_objective(pair, tmp_path, monkeypatch):
    """An option of the table reaches Objective's parameter of the same name."""
    from nstlab.engine import losses

    built = []

    class Recorded(losses.Objective):
        @functools.wraps(losses.Objective.__init__)  # keeps the signature the options follow
        def __init__(self, *args, **kwargs):
            built.append(kwargs["content_layer_weights"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(losses, "Objective", Recorded)
    layers = "block4_conv2,block5_conv2"
    history = tmp_path / "h.json"
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), "--size", "32",
                 "--steps", "1", "--content-layers", layers, "--content-layer-weights", "3",
                 "1", "--history", str(history), "--quiet", "--precision", "float32"])
    assert code == 0
    record = json.loads(history.read_text())
    assert record["settings"]["content_layer_weights"] == [3.0, 1.0] and built == [(3.0, 1.0)]
    first = record["history"]["content"]
    assert set(first) == {"block4_conv2", "block5_conv2"}
    with pytest.raises(OptionError, match="content_layer_weights got 1 weights for 2 content"):
        StylizeOptions(content_layers=layers.split(","), content_layer_weights=[1]).validate()


def squared_total_variation(image) -> float:
    down, across = np.diff(image, axis=0), np.diff(image, axis=1)
    return float((down.astype(np.float64) ** 2).sum() + (across.astype(np.float64) ** 2).sum())


def test_tv_power_reaches_the_loss_through_stylize(photo_64, starry_64):
    """An option added with two modules: the table (options) and the code using it (losses)."""
    run = dict(size=32, steps=1, optimizer="adam", init="content", tv_weight=3.0,
               progress=False)  # Adam records the loss of the image it starts from
    squared = nstlab.stylize(photo_64, starry_64, tv_power=2, **run)
    plain = nstlab.stylize(photo_64, starry_64, **run)
    start = nstlab.resize_image(photo_64, 32)
    assert squared.history.tv[0] == pytest.approx(3.0 * squared_total_variation(start),
                                                  rel=1e-4)
    assert plain.history.tv[0] > squared.history.tv[0]  # differences below 1 square smaller
    assert squared.settings["tv_power"] == 2 and plain.settings["tv_power"] == 1.0
    again = nstlab.stylize(photo_64, starry_64, progress=False, **squared.settings)
    assert again.history.tv[0] == pytest.approx(squared.history.tv[0])


@pytest.mark.parametrize(("name", "value", "bad"), [("tv_power", 1.5, "0.5"),
                                                   ("luminance_weight", 50, "-1")])
def test_a_loss_option_is_a_flag_and_is_checked(pair, tmp_path, capsys, name, value, bad):
    flag = "--" + name.replace("_", "-")
    history = tmp_path / "h.json"
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), "--size", "32",
                 "--steps", "1", flag, str(value), "--history", str(history), "--quiet"])
    assert code == 0
    assert json.loads(history.read_text())["settings"][name] == value
    capsys.readouterr()
    assert main(["stylize", *map(str, pair), "-o", str(tmp_path / "other.png"), flag, bad]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{flag} must be" in err


def test_luminance_weight_reaches_the_loss_through_stylize(photo_64, starry_64):
    run = dict(size=32, steps=2, optimizer="adam", init="style", progress=False)
    kept = nstlab.stylize(photo_64, starry_64, luminance_weight=1e3, **run)
    plain = nstlab.stylize(photo_64, starry_64, **run)
    assert kept.history.luminance[0] > 0 and "luminance" in kept.history.parts()
    assert not plain.history.luminance.any() and "luminance" not in plain.history.parts()
    assert kept.settings["luminance_weight"] == 1e3 and plain.settings["luminance_weight"] == 0


def test_init_given_as_an_array(photo_64, starry_64):
    start = np.full((40, 40, 3), 0.5, np.float32)
    result = nstlab.stylize(photo_64, starry_64, size=32, steps=1, init=start, progress=False,
                            precision="float32")
    assert result.settings["init"] == "<image>"


def test_a_run_too_large_for_memory_exits_2_at_once(pair, tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("NSTLAB_SKIP_MEMORY_CHECK", raising=False)
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "o.png"), "--size", "100000"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "needs about" in err and "is available" in err and "largest --size that fits" in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("damaged", ["optimizer.npz", "image.npy", "checkpoint.json"])
def test_a_damaged_checkpoint_is_one_line_and_exit_2(pair, tmp_path, capsys, damaged):
    folder = tmp_path / "run"
    assert main(["stylize", *map(str, pair), "-o", str(tmp_path / "a.png"), "--size", "32",
                 "--steps", "2", "--optimizer", "adam", "--checkpoint", str(folder),
                 "--checkpoint-every", "1", "--quiet"]) == 0
    data = (folder / damaged).read_bytes()
    (folder / damaged).write_bytes(data[: len(data) // 2])  # truncated
    code = main(["stylize", *map(str, pair), "-o", str(tmp_path / "b.png"), "--size", "32",
                 "--steps", "4", "--optimizer", "adam", "--resume", str(folder), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and damaged in err and "Traceback" not in err
