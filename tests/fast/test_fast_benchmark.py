"""benchmarks/fast.py runs with tiny arguments and prints the promised JSON keys."""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fast.py"


def test_fast_benchmark_reports_the_json_keys():
    command = [sys.executable, str(SCRIPT), "--sizes", "32", "--stylize-steps", "2",
               "--repeats", "1", "--train-size", "32", "--train-batch", "2",
               "--train-steps", "1", "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    report = json.loads(output.strip().splitlines()[-1])
    (row,) = report["results"]
    assert set(row) >= {"size", "fast_ms", "stylize_seconds", "ratio", "fast_loss",
                        "stylize_loss"}
    assert row["size"] == 32 and row["fast_ms"] > 0 and row["stylize_seconds"] > 0
    assert row["ratio"] == row["stylize_seconds"] / (row["fast_ms"] / 1000)
    assert row["fast_loss"] > 0 and row["stylize_loss"] > 0
    assert report["train_steps_per_second"] > 0
