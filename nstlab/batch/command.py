"""The ``nstlab batch JOBS -o RESULTS/`` command.

Everything is checked before TensorFlow or Ray starts: the whole job file (every problem
listed, exit 2, nothing runs), the results folder, the engine (Ray installed?). Exit codes:
0 every job finished, 1 some job failed (the others are kept) or Ray could not start,
2 bad usage or input,
130 Ctrl-C, 143 SIGTERM (finished jobs are kept: run the command again to go on).
"""

from __future__ import annotations

import argparse

from nstlab.base.messages import EXIT_FAILED, EXIT_OK, EXIT_USAGE, fail, sigterm_as_interrupt

EXAMPLES = """\
examples:
  nstlab batch jobs.json -o results/                 one job after another, here
  nstlab batch jobs.json -o results/ --engine ray    on a local Ray
  nstlab batch jobs.json -o results/ --engine ray --address 10.0.0.5:6379
  (Ctrl-C, then the same command again: only the unfinished jobs run)
"""


def add_command(subparsers) -> argparse.ArgumentParser:
    """Add ``batch`` to the ``nstlab`` command's sub-commands; returns its parser."""
    from nstlab.base.validators import parse_number
    from nstlab.batch.engines import DEFAULT_MAX_RETRIES, ENGINES

    parser = subparsers.add_parser(
        "batch", help="run many stylizations from a job file, resumably, here or on Ray",
        description="Run every job of a job file (JSON, or YAML with PyYAML) that is not "
                    "finished in RESULTS: one folder per job, named by a hash of its images "
                    "and settings, then a contact sheet and an offline index.html.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("jobs", metavar="JOBS", help="the job file (.json, .yaml)")
    parser.add_argument("-o", "--output", required=True, metavar="RESULTS",
                        help="the results folder (made if missing; reruns resume there)")
    parser.add_argument("--engine", choices=ENGINES, default="in-process",
                        help="where the jobs run (default in-process; ray needs "
                             'pip install "nstlab[ray]")')
    parser.add_argument("--address", default=None, metavar="HOST:PORT",
                        help="join this running Ray cluster ('auto': the one `ray start` "
                             "runs here; default $RAY_ADDRESS, else a Ray of its own)")
    parser.add_argument("--cpus-per-job", type=parse_number("float"), default=1.0,
                        metavar="N", help="Ray CPUs per job (default %(default)s)")
    parser.add_argument("--gpus-per-job", type=parse_number("float"), default=None,
                        metavar="N", help="Ray GPUs per job (default 1 if the cluster has "
                                          "GPUs, else 0)")
    parser.add_argument("--max-retries", type=parse_number("int"),
                        default=DEFAULT_MAX_RETRIES, metavar="N",
                        help="restarts of a job whose worker died (default %(default)s)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--debug", action="store_true",
                        help="show tracebacks, and the Ray workers' output")
    parser.set_defaults(handler=run_command)
    return parser


def run_command(args: argparse.Namespace) -> int:
    """Run ``nstlab batch`` with parsed ``args``; returns the exit code."""
    from nstlab.base import validators
    from nstlab.batch import driver, engines, jobs

    try:
        job_list = jobs.read_job_file(args.jobs)
        validators.check_writable_folder(args.output, "RESULTS")
        if args.engine == "ray":
            engine = engines.RayEngine(args.address, cpus_per_job=args.cpus_per_job,
                                       gpus_per_job=args.gpus_per_job,
                                       max_retries=args.max_retries, log_to_driver=args.debug)
        else:
            if args.address:
                raise validators.OptionError("--address needs --engine ray")
            engine = engines.InProcessEngine()
    except jobs.JobFileError as problems:
        if args.debug:
            raise
        for problem in problems.problems:
            fail(problem, EXIT_USAGE)
        count = len(problems.problems)
        return fail(f"{count} problem{'s' * (count != 1)} in {args.jobs}; nothing ran",
                     EXIT_USAGE)
    except validators.OptionError as problem:
        if args.debug:
            raise
        return fail(problem, EXIT_USAGE)
    try:
        with sigterm_as_interrupt() as interruption:
            summary = driver.run(job_list, args.output, engine=engine, progress=not args.quiet)
    except engines.EngineError as problem:
        if args.debug:
            raise
        return fail(problem, EXIT_FAILED)
    except KeyboardInterrupt:
        return fail(f"stopped by {interruption.name}; finished jobs are kept: run the same "
                    "command again to go on", interruption.exit_code)
    print(summary)
    return EXIT_FAILED if summary.failed else EXIT_OK
