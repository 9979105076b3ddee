"""Mixed precision: the network computes in 16 bits, the losses stay float32."""

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab import cli
from nstlab.base import hardware
from nstlab.engine.features import FeatureExtractor
from nstlab.engine.precision import PRECISION_CHOICES, PRECISIONS, resolve_precision

MIXED = ["mixed_float16", "mixed_bfloat16"]


@pytest.mark.parametrize("precision", MIXED)
def test_mixed_features_are_float32_and_close_to_full_precision(precision, photo_64):
    layers = ["block1_conv1", "block3_conv1", "block5_conv1"]
    full = FeatureExtractor(layers)(photo_64)
    mixed = FeatureExtractor(layers, precision=precision)(photo_64)
    assert FeatureExtractor(layers, precision=precision).model.layers[1].compute_dtype != "float32"
    for name in layers:
        assert mixed[name].dtype == tf.float32
        # bfloat16 keeps 8 bits of mantissa, float16 11: a few per cent at most, on average.
        error = tf.reduce_mean(tf.abs(mixed[name] - full[name])) / tf.reduce_mean(full[name])
        assert float(error) < 0.05, (name, float(error))


@pytest.mark.parametrize("precision", MIXED)
def test_mixed_objective_gives_nearly_the_same_loss_and_a_finite_gradient(
        precision, photo_64, starry_64):
    start = tf.constant(nstlab.resize_image(starry_64, photo_64.shape[:2])[None])
    losses, gradients = {}, {}
    for name in ("float32", precision):
        objective = nstlab.Objective(photo_64, starry_64, precision=name)
        with tf.GradientTape() as tape:
            tape.watch(start)
            total, parts = objective(start)
        losses[name], gradients[name] = float(total), tape.gradient(total, start)
        assert all(value.dtype == tf.float32 for value in parts.values())
    assert losses[precision] == pytest.approx(losses["float32"], rel=0.05)
    assert gradients[precision].dtype == tf.float32
    assert bool(tf.reduce_all(tf.math.is_finite(gradients[precision])))
    cosine = tf.reduce_sum(gradients[precision] * gradients["float32"]) / (
        tf.norm(gradients[precision]) * tf.norm(gradients["float32"]))
    assert float(cosine) > 0.95


def test_stylize_in_mixed_precision_lowers_the_loss(photo_64, starry_64):
    result = nstlab.stylize(photo_64, starry_64, size=48, steps=5, precision="mixed_bfloat16",
                            progress=False)
    assert result.image.dtype == np.float32 and result.completed
    assert result.history.total[-1] < result.history.total[0]
    assert result.settings["precision"] == "mixed_bfloat16"


def test_unknown_precision_is_a_clear_error(photo_64, starry_64):
    with pytest.raises(ValueError, match="unknown precision 'float8'; choose one of float32"):
        nstlab.Objective(photo_64, starry_64, precision="float8")


def test_the_command_offers_every_precision():
    action = next(a for a in cli.build_parser()._subparsers._group_actions[0].choices[
        "stylize"]._actions if a.dest == "precision")
    assert tuple(action.choices) == PRECISION_CHOICES


def test_stylize_and_the_command_default_to_the_fastest_precision(photo_64, starry_64):
    result = nstlab.stylize(photo_64, starry_64, size=32, steps=1, progress=False)
    assert result.settings["precision"] == resolve_precision("auto")
    args = cli.build_parser().parse_args([
        "stylize", "photo.jpg", "painting.jpg", "-o", "out.png"])
    assert args.precision == "auto"


def test_the_building_blocks_stay_float32_unless_asked(photo_64, starry_64):
    """The notebooks check learners' float32 arithmetic against these at about 1e-5."""
    assert FeatureExtractor(["block1_conv1"]).precision == "float32"
    assert nstlab.Objective(photo_64, starry_64).extractor.precision == "float32"


def test_auto_on_the_cpu_is_the_cpus_choice_and_starts_no_tensorflow(monkeypatch):
    def no_gpu_query():
        raise AssertionError("device='cpu' must not ask TensorFlow for GPUs")

    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2", "amx_bf16"})
    monkeypatch.setattr(hardware, "gpu_compute_capabilities", no_gpu_query)
    assert resolve_precision("auto", device="cpu") == "mixed_bfloat16"
    monkeypatch.setattr(hardware, "gpu_compute_capabilities", lambda: [(7, 5)])
    assert resolve_precision("auto") == resolve_precision("auto", device="gpu") == (
        "mixed_float16")  # a Turing GPU decides where the network may run on it
    assert resolve_precision("float32", device="gpu") == "float32"


def test_stylize_on_the_cpu_records_the_cpus_precision(monkeypatch, photo_64, starry_64):
    """With a tensor-core GPU present, ``device="cpu"`` still runs what the CPU computes."""
    monkeypatch.setattr(hardware, "cpu_flags", lambda: {"avx2"})
    monkeypatch.setattr(hardware, "gpu_compute_capabilities", lambda: [(8, 6)])
    result = nstlab.stylize(photo_64, starry_64, size=32, steps=1, device="cpu", progress=False)
    assert result.settings["precision"] == "float32"
    assert resolve_precision("auto") == "mixed_bfloat16"


@pytest.mark.parametrize("precision", [*PRECISIONS, "auto"])
def test_every_choice_resolves_to_a_precision(precision):
    assert resolve_precision(precision, device="cpu") in PRECISIONS
