"""Seconds per optimisation step, FLOPs per step, and how close that is to the machine's limit.

For each backbone and image size (square and 4:3) this times nstlab's compiled
loss-and-gradient function (what one L-BFGS step evaluates; an Adam step adds only an
elementwise update), counts its FLOPs from the layer shapes (benchmarks/flops.py),
measures the machine's float32 matrix-multiply rate in the same run, and reports
efficiency = achieved FLOP/s / matmul rate. Each configuration runs in a fresh process so
its peak memory (RSS) is its own.

    python benchmarks/step.py                 # table
    python benchmarks/step.py --json          # one JSON object
    python benchmarks/step.py --sizes 256 512 --backbones vgg16
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from nstlab.engine.precision import PRECISION_CHOICES


def matmul_gflops(n: int = 2048, seconds: float = 3.0) -> float:
    """The float32 matrix-multiply rate TensorFlow reaches here, in GFLOP/s."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    multiply = tf.function(lambda a, b: tf.matmul(a, b))
    multiply(a, b).numpy()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        multiply(a, b).numpy()
        count += 1
    return 2.0 * n**3 * count / (time.perf_counter() - start) / 1e9


def time_step(backbone: str, height: int, width: int, repeats: int,
              precision: str = "float32") -> dict:
    """Time one configuration in this process (called in a child process)."""
    import numpy as np
    import tensorflow as tf
    from flops import step_flops

    import nstlab
    from nstlab.engine import defaults
    from nstlab.engine.optimize import make_loss_and_gradient
    from nstlab.imaging.data import generated_style

    rng = np.random.default_rng(0)
    content = rng.uniform(0, 1, (height, width, 3)).astype(np.float32)
    style = generated_style("swirl", max(height, width))
    weights = "pretrained" if backbone == "vgg16" else None  # vgg19 timing needs no download
    extractor = nstlab.FeatureExtractor(
        list(defaults.DEFAULT_CONTENT_LAYERS + defaults.DEFAULT_STYLE_LAYERS),
        backbone, weights=weights, precision=precision)
    objective = nstlab.Objective(content, style, extractor=extractor)
    step = make_loss_and_gradient(objective, (1, height, width, 3))
    pixels = tf.constant(content[None])
    step(pixels)[2].numpy()  # trace and warm up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step(pixels)[2].numpy()
        times.append(time.perf_counter() - start)
    seconds = float(np.median(times))
    flops = step_flops(backbone, objective.style_layers, extractor.deepest, height, width)
    return {
        "backbone": backbone, "height": height, "width": width,
        "precision": extractor.precision,
        "seconds_per_step": seconds, "gflop_per_step": flops / 1e9,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_child(backbone: str, height: int, width: int, repeats: int, precision: str) -> dict:
    command = [sys.executable, __file__, "--child", backbone, str(height), str(width),
               "--repeats", str(repeats), "--precision", precision]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512])
    parser.add_argument("--backbones", nargs="+", default=["vgg16", "vgg19"])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--precision", default="float32", choices=PRECISION_CHOICES,
                        help="the network's arithmetic (efficiency is still against the "
                             "float32 matmul rate)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs=3, metavar=("BACKBONE", "H", "W"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.child:
        backbone, height, width = args.child
        print(json.dumps(time_step(backbone, int(height), int(width), args.repeats,
                                   args.precision)))
        return 0

    rate = matmul_gflops()
    results = []
    for backbone in args.backbones:
        for size in args.sizes:
            for height, width in ((size, size), (size * 3 // 4, size)):
                result = run_child(backbone, height, width, args.repeats, args.precision)
                achieved = result["gflop_per_step"] / result["seconds_per_step"]
                result["efficiency"] = achieved / rate
                results.append(result)
                if not args.json:
                    print(f"{backbone:6s} {height:5d}x{width:<5d} {result['seconds_per_step']:8.3f}"
                          f" s/step {result['gflop_per_step']:8.1f} GFLOP {achieved:7.1f} GFLOP/s"
                          f"  efficiency {result['efficiency']:.2f}"
                          f"  peak RSS {result['peak_rss_mb']:7.0f} MB", flush=True)
    summary = {"matmul_gflops": rate, "cpu_count": os.cpu_count(), "results": results}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"float32 matmul rate: {rate:.1f} GFLOP/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
