"""How long each notebook takes: wall time of a fresh kernel running it top to bottom.

Each notebook is executed with nbclient in a new kernel, once in quick mode
(``NSTLAB_QUICK=1``, the tests' tiny sizes) and once in full mode (``NSTLAB_QUICK=0``, what
a student gets), from the notebooks' own folder. The time includes starting the kernel and
importing TensorFlow. Outputs are thrown away; the notebooks on disk are not changed.

    python benchmarks/notebooks.py                        # both modes, every notebook
    python benchmarks/notebooks.py --modes quick          # quick mode only
    python benchmarks/notebooks.py notebooks/05*.ipynb    # some notebooks
    python benchmarks/notebooks.py --json                 # one JSON object
    python benchmarks/notebooks.py --slowest 3            # also each notebook's 3 slowest cells

Timings depend on the machine and on what else runs on it; the report prints the CPU count
and the load average at the start so a table can be read in context.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from pathlib import Path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
MODES = {"quick": "1", "full": "0"}


def run_notebook(path: Path, mode: str, timeout: float) -> dict:
    """Execute one notebook in a fresh kernel; its wall time, error and each cell's seconds."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    saved = os.environ.get("NSTLAB_QUICK")
    os.environ["NSTLAB_QUICK"] = MODES[mode]  # the kernel inherits this environment
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    error = None
    try:
        client.execute()
    except Exception as exc:  # a failing cell: report it, keep timing the others
        error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
    finally:
        if saved is None:
            os.environ.pop("NSTLAB_QUICK", None)
        else:
            os.environ["NSTLAB_QUICK"] = saved
    return {"seconds": time.perf_counter() - start, "error": error,
            "cells": cell_seconds(notebook)}


def cell_seconds(notebook) -> dict[int, float]:
    """Seconds each executed code cell took, from the timing nbclient records in its metadata."""
    seconds = {}
    for index, cell in enumerate(notebook.cells):
        timing = cell.get("metadata", {}).get("execution", {})
        began, ended = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
        if began and ended:
            seconds[index] = (datetime.datetime.fromisoformat(ended.replace("Z", "+00:00"))
                              - datetime.datetime.fromisoformat(began.replace("Z", "+00:00"))
                              ).total_seconds()
    return seconds


def machine() -> dict:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    return {"date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "cpus": os.cpu_count(), "load_average_1min": round(load[0], 2),
            "machine": platform.machine(), "python": platform.python_version()}


def markdown_table(results: dict, modes: list[str]) -> str:
    names = {"quick": "quick mode (`NSTLAB_QUICK=1`)", "full": "full mode (`NSTLAB_QUICK=0`)"}
    lines = ["| notebook | " + " | ".join(names[m] for m in MODES) + " |",
             "|---" * (len(MODES) + 1) + "|"]
    for notebook, by_mode in results.items():
        cells = []
        for mode in MODES:
            if mode not in modes:
                cells.append("to be measured")
            elif by_mode[mode]["error"]:
                cells.append(f"failed after {by_mode[mode]['seconds']:.0f} s")
            else:
                cells.append(format_seconds(by_mode[mode]["seconds"]))
        lines.append(f"| {notebook} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def format_seconds(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to time (default: every notebook in notebooks/)")
    parser.add_argument("--modes", nargs="+", choices=list(MODES), default=list(MODES))
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds one cell may take (default 3600)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--slowest", type=int, default=0, metavar="N",
                        help="also print each notebook's N slowest cells (index and seconds)")
    args = parser.parse_args(argv)

    paths = args.notebooks or sorted(NOTEBOOKS.glob("*.ipynb"))
    about = machine()
    results = {}
    for path in paths:
        results[path.stem] = {}
        for mode in args.modes:
            results[path.stem][mode] = run_notebook(path.resolve(), mode, args.timeout)
            outcome = results[path.stem][mode]
            print(f"{path.stem} ({mode}): {outcome['seconds']:.1f} s"
                  + (f"  FAILED {outcome['error']}" if outcome["error"] else ""),
                  file=sys.stderr, flush=True)
            slowest = sorted(outcome["cells"].items(), key=lambda item: -item[1])
            for index, seconds in slowest[:args.slowest]:
                print(f"    cell {index}: {seconds:.1f} s", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"machine": about, "notebooks": results}))
    else:
        print(f"{about['date']}, {about['cpus']} CPUs ({about['machine']}), "
              f"load average {about['load_average_1min']} at the start, Python {about['python']}\n")
        print(markdown_table(results, args.modes))
    return int(any(o["error"] for r in results.values() for o in r.values()))


if __name__ == "__main__":
    sys.exit(main())
