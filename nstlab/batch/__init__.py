"""Layer 5, batch: many stylize runs at once, resumable, in this process or on Ray.
Import rule: imports base, imaging, engine and run; never fast (its peer) or above.

Many stylize runs at once, resumable, on this machine or a Ray cluster.

::

    summary = nstlab.batch.run("jobs.json", "results/")               # in this process
    summary = nstlab.batch.run("jobs.json", "results/", engine="ray")  # a local Ray
    print(summary)

or on the command line ``nstlab batch jobs.json -o results/ [--engine ray]``.

The parts, one module each:

* :mod:`~nstlab.batch.jobs`: the job file (jobs, and grids ``contents x styles x vary``),
  checked whole before anything runs;
* :mod:`~nstlab.batch.results`: one folder per job, named by a hash of its images and
  settings, so a rerun skips what is finished;
* :mod:`~nstlab.batch.worker`: one job, which calls :func:`nstlab.run.transfer.stylize_with`;
* :mod:`~nstlab.batch.engines`: in-process (default) or Ray tasks;
* :mod:`~nstlab.batch.gallery`: the contact sheet and ``index.html``;
* :mod:`~nstlab.batch.driver`: :func:`run`, which ties them together;
* :mod:`~nstlab.batch.command`: the ``nstlab batch`` command.
"""

from nstlab.batch.driver import Summary, run
from nstlab.batch.engines import InProcessEngine, RayEngine
from nstlab.batch.jobs import Job, JobFileError, check_jobs, read_job_file

__all__ = ["InProcessEngine", "Job", "JobFileError", "RayEngine", "Summary", "check_jobs",
           "read_job_file", "run"]
