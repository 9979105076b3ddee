"""Peak memory of real ``nstlab.stylize`` runs, against :mod:`nstlab.run.memory`'s estimate.

Each run happens in a fresh Python process, so its peak resident memory (the kernel's
``VmHWM``, the most RAM the process ever held) is its own: Grace Hopper's portrait
(shipped with matplotlib) in the style of Starry Night (shipped with nstlab), a few steps,
no progress bar, the memory check off. L-BFGS remembers as many pairs as it takes steps,
so its memory is as full as in a long run.

    python benchmarks/memory.py                                  # the table
    python benchmarks/memory.py --sizes 256 512 --precisions float32 --json
    python benchmarks/memory.py --baseline                       # the runtime constant
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

from nstlab.run import memory


def peak_rss_bytes() -> int:
    """The most resident memory this process has held so far (Linux ``VmHWM``), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status (not Linux?)")


def child_stylize(size: int, precision: str, optimizer: str, steps: int,
                  style_scale: float = 1.0) -> dict:
    """One real run in this process: its shapes, its peak RSS and nstlab.run.memory's estimate."""
    import nstlab
    from nstlab.engine import defaults
    from nstlab.imaging import data, images

    content, style = data.photo_path(), data.painting_path("starry_night")
    result = nstlab.stylize(content, style, size=size, steps=steps, optimizer=optimizer,
                            lbfgs_history=steps, precision=precision, style_scale=style_scale,
                            memory_check=False, progress=False)
    peak = peak_rss_bytes()
    height, width = result.image.shape[:2]
    style_shape = images.fit_within(*images.image_shape(style), round(size * style_scale))
    estimate = memory.estimate_peak_bytes(
        height, width, style_shapes=[style_shape], content_layers=defaults.DEFAULT_CONTENT_LAYERS,
        style_layers=defaults.DEFAULT_STYLE_LAYERS, backbone="vgg16", optimizer=optimizer,
        lbfgs_history=steps, precision=result.settings["precision"],
        loaded_shapes=[images.image_shape(content), images.image_shape(style)])
    return {"size": size, "height": height, "width": width, "style_scale": style_scale,
            "precision": result.settings["precision"], "onednn": memory.onednn_kernels(),
            "onednn_setting": os.environ.get(memory.ONEDNN_ENV_VAR),
            "optimizer": optimizer, "steps": steps,
            "peak_rss_bytes": peak, "estimate_bytes": estimate, "ratio": estimate / peak}


def measure(size: int, precision: str = "float32", optimizer: str = "lbfgs", steps: int = 2,
            style_scale: float = 1.0) -> dict:
    """Run ``stylize`` in a fresh process; its shapes, peak RSS and the estimate, in bytes."""
    command = [sys.executable, __file__, "--child", str(size), precision, optimizer, str(steps),
               str(style_scale)]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def baseline() -> dict:
    """The peak RSS of a 32 px run, and the runtime constant it implies for nstlab.run.memory."""
    row = measure(32, "float32", "adam", 2)
    sized = row["estimate_bytes"] - memory.RUNTIME_BYTES
    return {"peak_rss_bytes": row["peak_rss_bytes"],
            "runtime_bytes": row["peak_rss_bytes"] - sized}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 384, 768, 1024])
    parser.add_argument("--precisions", nargs="+", default=["float32", "auto"])
    parser.add_argument("--optimizers", nargs="+", default=["lbfgs", "adam"])
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--style-scale", type=float, default=1.0)
    parser.add_argument("--onednn", choices=("on", "off"),
                        help="turn TensorFlow's oneDNN kernels on or off (default: TensorFlow's "
                             "choice for this CPU)")
    parser.add_argument("--baseline", action="store_true",
                        help="measure a 32 px run and the runtime constant it implies")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        size, precision, optimizer, steps, style_scale = args.child
        print(json.dumps(child_stylize(int(size), precision, optimizer, int(steps),
                                       float(style_scale))))
        return 0
    if args.onednn:  # the children inherit it
        os.environ[memory.ONEDNN_ENV_VAR] = "1" if args.onednn == "on" else "0"
    if args.baseline:
        print(json.dumps(baseline()))
        return 0
    rows = []
    for optimizer, precision, size in itertools.product(args.optimizers, args.precisions,
                                                         args.sizes):
        rows.append(row := measure(size, precision, optimizer, args.steps, args.style_scale))
        if not args.json:
            kernels = {"1": "oneDNN", "0": "TF"}.get(row["onednn_setting"], "auto")
            print(f"{optimizer:5s} {row['precision']:14s} {kernels:6s} "
                  f"{row['height']:5d}x{row['width']:<5d}"
                  f" peak RSS {row['peak_rss_bytes'] / 2**20:6.0f} MiB"
                  f"  estimate {row['estimate_bytes'] / 2**20:6.0f} MiB  ratio {row['ratio']:.2f}",
                  flush=True)
    if args.json:
        print(json.dumps({"rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
