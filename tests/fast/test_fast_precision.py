"""train-fast --precision: each precision trains a tiny model; losses stay float32 and the
saved network is a float32 one whatever it trained in."""

import keras
import numpy as np
import pytest

from nstlab.cli import main
from nstlab.engine.precision import PRECISIONS, resolve_precision
from nstlab.fast import FastStylizer, train_fast
from nstlab.fast.network import build_transformer

TINY = {"size": 32, "batch_size": 2, "width": 4, "residual_blocks": 1, "style_size": 32}


def test_a_16_bit_network_computes_in_16_bits_and_hands_out_float32_pixels():
    network = build_transformer(4, 1, precision="mixed_bfloat16")
    conv = network.get_layer("encode1_conv")
    assert conv.compute_dtype == "bfloat16" and conv.kernel.dtype == "float32"
    assert network.get_layer("output_conv").compute_dtype == "float32"
    photos = np.random.default_rng(0).random((1, 24, 20, 3), dtype=np.float32)
    pictures = network(photos)
    assert pictures.dtype == "float32" and pictures.shape == (1, 24, 20, 3)


@pytest.mark.parametrize("precision", PRECISIONS)
def test_each_precision_trains_and_saves_a_float32_network(precision, photo_folder,
                                                           starry_path, tmp_path):
    path = tmp_path / "model.keras"
    result = train_fast(starry_path, photo_folder, steps=2, checkpoint=path, progress=False,
                        precision=precision, **TINY)
    assert result.stop_reason == "completed"
    assert np.isfinite(result.history.total).all()
    assert result.record["precisions"] == [precision]
    assert {layer.dtype_policy.name for layer in result.model.layers} == {"float32"}
    loaded = FastStylizer.load(path)
    assert loaded.record["precisions"] == [precision]
    photo = np.random.default_rng(1).random((40, 36, 3), dtype=np.float32)
    np.testing.assert_allclose(loaded(photo), result.stylizer(photo), atol=1e-6)


def test_auto_is_this_machines_precision_and_a_resume_records_both(photo_folder, starry_path,
                                                                  tmp_path):
    path = tmp_path / "model.keras"
    train_fast(starry_path, photo_folder, steps=1, checkpoint=path, progress=False,
               precision="auto", **TINY)
    resumed = train_fast(starry_path, photo_folder, steps=1, resume=path, progress=False,
                         precision="float32")
    assert resumed.record["precisions"] == [resolve_precision("auto"), "float32"]
    assert resumed.record["steps"] == 2


def test_the_flag_reaches_the_training(photo_folder, starry_path, tmp_path, capsys):
    path = tmp_path / "cli.keras"
    code = main(["train-fast", str(starry_path), str(photo_folder), "-o", str(path),
                 "--steps", "1", "--precision", "mixed_bfloat16", "--size", "32",
                 "--batch-size", "2", "--width", "4", "--residual-blocks", "1",
                 "--style-size", "32"])
    assert code == 0, capsys.readouterr().err
    assert "in mixed_bfloat16" in capsys.readouterr().out
    assert FastStylizer.load(path).record["precisions"] == ["mixed_bfloat16"]


def test_the_flag_is_the_option_tables():
    from nstlab.run import options

    flag, keywords = options.argument("precision")
    assert flag == "--precision" and keywords["default"] == "auto"
    assert set(keywords["choices"]) == {*PRECISIONS, "auto"}
    assert keras.mixed_precision.global_policy().name == "float32"  # nothing set globally
