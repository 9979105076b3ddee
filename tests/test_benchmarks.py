"""The benchmark scripts run and report what their README promises (no timings asserted)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nstlab.base.hardware import describe_machine, fastest_precision

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import flops  # noqa: E402


def test_flops_of_the_first_layer_by_hand():
    # block1_conv1 on 8x8: 64 pixels x 3 in x 64 out x 9 taps multiply-adds, forward and
    # input gradient, plus its 64x64 Gram matrix and the Gram's gradient.
    forward = 2.0 * 8 * 8 * 3 * 64 * 9
    gram = 2 * (2.0 * 8 * 8 * 64 * 64)
    assert flops.step_flops("vgg16", ["block1_conv1"], "block1_conv1", 8, 8) == 2 * forward + gram


def test_flops_follow_the_pooling():
    shapes = {name: (h, w, c_in, c_out)
              for name, h, w, c_in, c_out in flops.conv_shapes("vgg19", "block5_conv1", 64, 32)}
    assert shapes["block2_conv1"] == (32, 16, 64, 128)
    assert shapes["block5_conv1"] == (4, 2, 512, 512)
    assert "block3_conv4" in shapes  # vgg19 has four convolutions in block 3


@pytest.mark.parametrize("precision", ["float32", "mixed_bfloat16"])
def test_step_child_reports_the_json_keys(precision):
    command = [sys.executable, str(BENCHMARKS / "step.py"), "--child", "vgg16", "32", "48",
               "--repeats", "1", "--precision", precision]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert {"backbone", "height", "width", "seconds_per_step", "gflop_per_step",
            "peak_rss_mb", "precision"} <= set(result)
    assert (result["height"], result["width"], result["precision"]) == (32, 48, precision)
    assert result["gflop_per_step"] == pytest.approx(
        flops.step_flops("vgg16", ["block1_conv1", "block2_conv1", "block3_conv1",
                                   "block4_conv1", "block5_conv1"], "block5_conv1", 32, 48) / 1e9)
    assert result["seconds_per_step"] > 0 and result["peak_rss_mb"] > 0


def test_convergence_reports_the_json_keys_and_reuses_a_reference(tmp_path):
    """Both sides run (each in its own process); a saved reference can be reused."""
    script = str(BENCHMARKS / "convergence.py")
    command = [sys.executable, script, "--size", "40", "--reference-steps", "3", "--json"]
    first = json.loads(subprocess.run(command, check=True, capture_output=True,
                                      text=True).stdout.strip().splitlines()[-1])
    assert {"target_loss", "reference_seconds", "nstlab_seconds", "speedup"} <= set(first)
    assert first["reference_steps"] == 3
    assert first["nstlab_precision"] == fastest_precision()  # stylize's default, "auto"
    assert first["nstlab_reached_target"]
    assert first["nstlab_loss"] <= first["target_loss"] * 1.001  # scored after the run
    assert first["speedup"] == pytest.approx(first["reference_seconds"] / first["nstlab_seconds"])

    saved = tmp_path / "reference.json"
    saved.write_text(json.dumps(first))
    # In 16 bits the run's own loss is approximate: it stops when the float32 score is there.
    again = json.loads(subprocess.run(
        command[:2] + ["--size", "40", "--reference-from", str(saved), "--json",
                       "--save", str(tmp_path / "run"), "--precision", "mixed_bfloat16"],
        check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1])
    assert (again["target_loss"], again["reference_seconds"], again["reference_steps"]) == (
        first["target_loss"], first["reference_seconds"], 3)
    assert again["nstlab_precision"] == "mixed_bfloat16" and again["nstlab_reached_target"]
    assert again["nstlab_loss"] <= again["target_loss"] * 1.001
    assert (tmp_path / "run_nstlab.png").is_file()


def test_video_reports_both_methods_and_their_flicker():
    command = [sys.executable, str(BENCHMARKS / "video.py"), "--size", "32", "--frames", "3",
               "--steps", "2", "--chunk-frames", "2", "--overlaps", "0", "1", "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    for run in ("optimize_independent", "optimize_temporal", "fast_independent",
                "fast_blended"):
        assert result[run]["warping_error"] > 0 and result[run]["frames_per_minute"] > 0
    assert result["optimize_flicker_ratio"] == pytest.approx(
        result["optimize_independent"]["warping_error"]
        / result["optimize_temporal"]["warping_error"])
    no_overlap, one = result["overlaps"]
    # Overlap 0: the seam is the whole cross-fade; overlap 1 stylizes frame 1 twice.
    assert no_overlap["cross_fade_max"] == no_overlap["seam_max"] > 0
    assert (no_overlap["frames_made_per_frame"], one["frames_made_per_frame"]) == (1, 4 / 3)


def test_fast_recipes_trains_a_variant_and_scores_it_on_an_unseen_photo():
    command = [sys.executable, str(BENCHMARKS / "fast_recipes.py"), "--training-photos",
               "samples", "--variants",
               "content block3_conv3", "--steps", "1", "--train-size", "64", "--batch", "1",
               "--width", "4", "--style-size", "64", "--size", "48", "--photos",
               "grace_hopper", "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    result = json.loads(output.strip().splitlines()[-1])
    rows = [row for row in result["rows"] if row["variant"] != "peer"]
    assert [(row["variant"], row["photo"]) for row in rows] == [
        ("content block3_conv3", "grace_hopper")]
    assert rows[0]["content_layers"] == ["block3_conv3"]  # the variant's, not the default
    assert -1 <= rows[0]["structure"] <= 1 and rows[0]["style_loss"] > 0
    assert result["machine"] == describe_machine()
