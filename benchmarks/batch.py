"""Jobs per minute for a batch of small stylize runs: in this process against a local Ray.

Every engine runs the same N jobs (the sample photo in Starry Night's style, seeds
0..N-1) into a fresh results folder, each in a fresh Python process, timed from start to
finish as the command would be (TensorFlow's import and the network's first build
included; for Ray also ``ray.init`` and each worker's own TensorFlow import):

* ``in_process``: ``nstlab.batch.run(engine="in-process")``, one job after another;
* ``ray_serial``: Ray with one job at a time (``cpus_per_job`` = all CPUs): the same work
  as in-process, so the difference divided by N is Ray's overhead per job;
* ``ray``: Ray with ``--cpus-per-job`` (default 1: as many jobs side by side as CPUs).

    python benchmarks/batch.py                     # table, 8 jobs at 128 px, 20 steps
    python benchmarks/batch.py --json              # one JSON object
    python benchmarks/batch.py --jobs 2 --size 32 --steps 2 --json   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def jobs(count: int, size: int, steps: int) -> list[dict]:
    return [{"content": "sample:grace_hopper", "style": "sample:starry_night", "size": size,
             "steps": steps, "seed": seed} for seed in range(count)]


def child(engine: str, count: int, size: int, steps: int, cpus_per_job: float,
          out_dir: str) -> dict:
    """Run the batch in this (fresh) process; seconds from here to the end."""
    started = time.perf_counter()
    from nstlab import batch
    from nstlab.batch import jobs as job_files

    job_list = job_files.check_jobs(job_files.expand(jobs(count, size, steps)))
    init_seconds = 0.0
    if engine == "in-process":
        runner = batch.InProcessEngine()
    else:
        from nstlab.batch.engines import start_local_ray

        before = time.perf_counter()
        start_local_ray(log_to_driver=False, logging_level="warning")
        init_seconds = time.perf_counter() - before
        runner = batch.RayEngine(cpus_per_job=cpus_per_job)
    summary = batch.run(job_list, out_dir, engine=runner, progress=False, make_gallery=False)
    seconds = time.perf_counter() - started
    if not summary.ok:
        raise SystemExit(f"jobs failed: {summary.failed}")
    job_seconds = [json.loads((folder / "result.json").read_text())["seconds"]
                   for folder in summary.folders.values()]
    return {"seconds": seconds, "init_seconds": init_seconds, "job_seconds": job_seconds}


def run_child(engine: str, args, cpus_per_job: float) -> dict:
    env = dict(os.environ, RAY_USAGE_STATS_ENABLED="0", PYTHONPATH=os.pathsep.join(
        p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p))
    with tempfile.TemporaryDirectory(prefix="nstlab-batch-bench-") as out_dir:
        command = [sys.executable, __file__, "--child", engine, "--jobs", str(args.jobs),
                   "--size", str(args.size), "--steps", str(args.steps),
                   "--cpus-per-job", str(cpus_per_job), "--out", out_dir]
        output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True,
                                env=env).stdout
    return json.loads(output.strip().splitlines()[-1])


def measure(args) -> dict:
    cpus = os.cpu_count() or 1
    here = run_child("in-process", args, 1)
    serial = run_child("ray", args, cpus)
    parallel = run_child("ray", args, args.cpus_per_job)
    n = args.jobs
    return {
        "jobs": n, "size": args.size, "steps": args.steps, "cpus": cpus,
        "in_process_seconds": round(here["seconds"], 2),
        "ray_seconds": round(parallel["seconds"], 2),
        "ray_cpus_per_job": args.cpus_per_job,
        "ray_serial_seconds": round(serial["seconds"], 2),
        "ray_init_seconds": round(parallel["init_seconds"], 2),
        "overhead_per_job_seconds": round((serial["seconds"] - here["seconds"]) / n, 3),
        "one_job_seconds": round(statistics.median(here["job_seconds"]), 3),
        "one_job_seconds_on_ray": round(statistics.median(parallel["job_seconds"]), 3),
        "in_process_jobs_per_minute": round(60 * n / here["seconds"], 2),
        "ray_jobs_per_minute": round(60 * n / parallel["seconds"], 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--cpus-per-job", type=float, default=1.0)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=("in-process", "ray"), help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child, args.jobs, args.size, args.steps,
                               args.cpus_per_job, args.out)))
        return 0
    result = measure(args)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:<28}{value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
