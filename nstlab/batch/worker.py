"""One job of a batch, run wherever the engine puts it: this process or a Ray worker.

:func:`run_job` takes a job's description (plain values, so Ray can ship it), checks its
options again on the machine that runs it, calls :func:`nstlab.run.transfer.stylize_with`, and
writes the job's files (:mod:`nstlab.batch.results`) or hands their bytes back. Any error
of the run becomes the job's error record: one job's failure never stops the others.
"""

from __future__ import annotations

import time
import warnings

from nstlab.batch import results
from nstlab.run import options

__all__ = ["describe", "limit_threads", "run_job"]


def describe(job, key: str, out_dir: str, token: str, threads: int | None = None) -> dict:
    """What a worker needs to run ``job`` (a :class:`~nstlab.batch.jobs.Job`): plain values.

    ``out_dir`` must be absolute; ``token`` is the results folder's marker
    (:func:`~nstlab.batch.results.mark_results_folder`); ``threads`` caps TensorFlow's
    threads (a Ray task gets as many as its CPUs).
    """
    return {"key": key, "label": job.label, "content": job.content,
            "styles": list(job.styles), "options": dict(job.options), "out_dir": out_dir,
            "token": token, "threads": threads}


def limit_threads(threads: int | None) -> None:
    """Cap TensorFlow's threads in this process (a Ray task gets as many as its CPUs)."""
    if not threads:
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(threads))
    except RuntimeError:
        pass  # TensorFlow already started in this worker: it keeps its first setting


def run_job(description: dict) -> dict:
    """Run one job and deliver its files; returns ``{"key", "status", "files"}``.

    ``status`` is ``"finished"`` or ``"failed"``; ``files`` is empty when the files were
    written to the results folder here, else their bytes (:func:`results.deliver`). A
    run stopped by Ctrl-C raises ``KeyboardInterrupt`` and writes nothing: the job is
    still to do.
    """
    from nstlab.base import native_logs

    started = time.perf_counter()
    content, styles = description["content"], description["styles"]
    try:
        checked = options.from_keywords(description["options"]).validate(content, styles)
        native_logs.import_tensorflow(quiet=True)  # first: without its native log lines
        limit_threads(description.get("threads"))
        from nstlab.engine.optimize import STOP_INTERRUPTED, STOP_NON_FINITE
        from nstlab.run.transfer import stylize_with

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "the loss became NaN", RuntimeWarning)
            result = stylize_with(checked, content, styles, progress=False)
    except Exception as error:
        files = results.error_files(error, description, time.perf_counter() - started)
        return results.deliver(files, description)
    seconds = time.perf_counter() - started
    if result.stop_reason == STOP_INTERRUPTED:
        raise KeyboardInterrupt
    if result.stop_reason == STOP_NON_FINITE:
        files = results.error_files(
            f"the loss became NaN or infinite after {len(result.history)} steps; try a "
            "smaller style_weight", description, seconds)
    else:
        files = results.finished_files(result, description, seconds)
    return results.deliver(files, description)
