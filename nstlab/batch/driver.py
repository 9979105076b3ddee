"""``nstlab.batch.run``: run every job of a batch that is not finished yet.

The driver checks all the jobs first (nothing runs if one is wrong), skips the jobs whose
folder already holds a finished result, hands the others to an engine, writes what the
workers hand back, shows a progress bar (done, running, failed, ETA), and ends with the
gallery (:mod:`nstlab.batch.gallery`) and a :class:`Summary`.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from nstlab.base import validators
from nstlab.batch import gallery, jobs, results
from nstlab.batch.engines import make_engine
from nstlab.batch.worker import describe

__all__ = ["Summary", "run"]


@dataclass
class Summary:
    """How a batch went.

    Attributes
    ----------
    jobs : list of Job
        Every job of the batch, in file order.
    folders : dict label -> Path
        Each job's result folder.
    already_finished : int
        Jobs that were finished before this run (skipped).
    finished : int
        Jobs this run finished.
    failed : dict label -> str
        The jobs that failed, with their error in one line.
    seconds : float
        Wall time of this run.
    contact_sheet, index : Path or None
        The gallery's files.
    """

    jobs: list
    folders: dict
    already_finished: int = 0
    finished: int = 0
    failed: dict = field(default_factory=dict)
    seconds: float = 0.0
    engine: str = "in-process"
    contact_sheet: Path | None = None
    index: Path | None = None

    @property
    def ok(self) -> bool:
        """True when every job has a finished result."""
        return not self.failed

    def __str__(self) -> str:
        total = len(self.jobs)
        if self.finished == 0 and not self.failed and self.already_finished == total:
            head = f"nothing to do: {total} jobs already finished"
        else:
            head = (f"{total} jobs: {self.finished} finished now, {self.already_finished} "
                    f"already finished, {len(self.failed)} failed ({self.engine}, "
                    f"{self.seconds:.1f} s)")
        lines = [head]
        lines += [f"  failed: {label}: {message}" for label, message in self.failed.items()]
        if self.index is not None:
            lines.append(f"gallery: {self.index} (contact sheet {self.contact_sheet})")
        return "\n".join(lines)


def _jobs_of(source) -> list:
    if isinstance(source, str | os.PathLike):
        return jobs.read_job_file(source)
    source = list(source)
    if all(isinstance(job, jobs.Job) and job.checked is not None for job in source):
        return source  # checked already (read_job_file, check_jobs)
    return jobs.check_jobs(source)


def run(job_source, out_dir, *, engine="in-process", address: str | None = None,
        cpus_per_job: float | None = None, gpus_per_job: float | None = None,
        max_retries: int | None = None, progress: bool = True,
        make_gallery: bool = True) -> Summary:
    """Run the jobs of a batch that are not finished in ``out_dir``; returns a :class:`Summary`.

    Parameters
    ----------
    job_source : path, or list of jobs
        A job file (:mod:`nstlab.batch.jobs`), or jobs as dicts like its entries
        (``{"content": ..., "style": ..., "size": 256}``) or :class:`~nstlab.batch.Job`.
    out_dir : path
        The results folder (made if missing); see :mod:`nstlab.batch.results`.
    engine : "in-process", "ray", or an engine object
        Where the jobs run (:mod:`nstlab.batch.engines`).
    address, cpus_per_job, gpus_per_job, max_retries
        For the ray engine: the cluster to join (default ``RAY_ADDRESS``, else a local
        Ray), each job's resources, and retries of a job whose worker died.
    progress : bool
        Show a progress bar.
    make_gallery : bool
        Write ``contact_sheet.png`` and ``index.html`` at the end.

    Raises
    ------
    nstlab.batch.JobFileError
        Listing every problem of the jobs; nothing ran.
    ValueError (OptionError)
        For an unknown engine, Ray missing, or a results folder that cannot be written.

    A job that fails is recorded (``error.json`` in its folder, ``Summary.failed``) and
    the others go on; Ctrl-C stops the batch, keeping every finished job for the next run.
    """
    started = time.monotonic()
    all_jobs = _jobs_of(job_source)
    validators.check_writable_folder(out_dir, "results folder")
    engine = make_engine(engine, address=address, cpus_per_job=cpus_per_job,
                         gpus_per_job=gpus_per_job, max_retries=max_retries)
    out_dir = Path(out_dir).resolve()
    keys = [results.job_key(job) for job in all_jobs]
    summary = Summary(all_jobs, {job.label: results.job_folder(out_dir, key)
                                 for job, key in zip(all_jobs, keys, strict=True)},
                      engine=engine.name)
    to_do = [(job, key) for job, key in zip(all_jobs, keys, strict=True)
             if results.status_of(out_dir, key) != "finished"]
    summary.already_finished = len(all_jobs) - len(to_do)
    if to_do:
        token = results.mark_results_folder(out_dir)
        with engine:
            descriptions = [describe(job, key, os.fspath(out_dir), token, engine.threads())
                            for job, key in to_do]
            _run_all(engine, descriptions, out_dir, summary, progress)
    if make_gallery:
        out_dir.mkdir(parents=True, exist_ok=True)
        summary.contact_sheet, summary.index = gallery.write_gallery(
            out_dir, [(job.label, key) for job, key in zip(all_jobs, keys, strict=True)])
    summary.seconds = time.monotonic() - started
    return summary


def _run_all(engine, descriptions: list[dict], out_dir: Path, summary: Summary,
             progress: bool) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(descriptions), unit="job", disable=not progress, desc="batch")

    def show(refresh: bool):
        bar.set_postfix(done=summary.finished, running=engine.running,
                        failed=len(summary.failed), refresh=refresh)

    show(True)
    try:
        for description, outcome in engine.outcomes(descriptions):
            if outcome["files"]:
                results.write_files(out_dir, outcome["key"], outcome["files"])
            if outcome["status"] == "finished":
                summary.finished += 1
            else:
                record = results.read_record(out_dir, outcome["key"]) or {}
                summary.failed[description["label"]] = record.get("message", "failed")
            show(False)
            bar.update(1)
    finally:
        bar.close()
