"""Where a batch's jobs run: in this process, one after another, or as Ray tasks.

Both engines take the same job descriptions (:func:`nstlab.batch.worker.describe`), call
the same ``runner`` (:func:`nstlab.batch.worker.run_job` unless told otherwise) and yield
``(description, outcome)`` pairs as jobs end, in the order they end.

* :class:`InProcessEngine` (the default): no extra dependency; the right choice on a
  laptop, where one TensorFlow run already uses every core.
* :class:`RayEngine`: each job is one Ray task with ``num_cpus``/``num_gpus`` resources
  (one GPU per job by default where the cluster has GPUs). A worker process that dies
  mid-job (killed, out of memory, a crashed driver) is retried by Ray up to
  ``max_retries`` times; an error inside a job is not retried, it is the job's result.
  Without an address it starts a local Ray; with ``address`` (or ``RAY_ADDRESS``) it joins
  a running cluster. ``pip install "nstlab[ray]"``.

The ``runner`` is the seam for tests: any function of one description that Ray can import
(defined at the top level of an importable module) can stand in for ``run_job``.
"""

from __future__ import annotations

import importlib.util
import logging
import os
from collections.abc import Callable, Iterable, Iterator

from nstlab.base import validators
from nstlab.base.messages import one_line
from nstlab.batch import results
from nstlab.batch.worker import run_job

__all__ = ["ENGINES", "LOCAL_RAY", "EngineError", "InProcessEngine", "RayEngine",
           "check_ray_installed", "make_engine", "start_local_ray"]

ENGINES = ("in-process", "ray")
RAY_MISSING = 'the ray engine needs Ray: pip install "nstlab[ray]"'
DEFAULT_MAX_RETRIES = 2
#: ``ray.init`` keywords for a Ray of our own, for one batch: on loopback only, and no
#: dashboard (plain ``ray`` has none to show).
LOCAL_RAY = {"address": "local", "include_dashboard": False, "_node_ip_address": "127.0.0.1"}


def start_local_ray(attempts: int = 2, **keywords) -> None:
    """``ray.init`` a Ray of our own on this machine (:data:`LOCAL_RAY` plus ``keywords``).

    Ray gives its processes 30 s to come up; on a machine busy with other work its agents
    (Python processes that import a lot) can miss that, so it tries ``attempts`` times.
    """
    import ray

    for attempt in range(1, attempts + 1):
        try:
            ray.init(**LOCAL_RAY, **keywords)
            return
        except Exception:
            ray.shutdown()
            if attempt == attempts:
                raise


def check_ray_installed() -> None:
    """Raise :class:`~nstlab.run.options.OptionError` with the install line unless Ray is there."""
    if importlib.util.find_spec("ray") is None:
        raise validators.OptionError(RAY_MISSING)


class EngineError(RuntimeError):
    """The engine could not start (Ray did not come up, the cluster is unreachable)."""


def _failure(error: BaseException | str, description: dict) -> dict:
    """The outcome of a job whose runner itself failed (the driver writes the record)."""
    return {"key": description["key"], "status": "failed",
            "files": results.error_files(error, description)}


class InProcessEngine:
    """Run the jobs here, one after another (``running`` is 1 while a job runs)."""

    name = "in-process"

    def __init__(self, runner: Callable[[dict], dict] | None = None):
        self.runner = runner or run_job
        self.running = 0

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def threads(self) -> int | None:
        """TensorFlow's thread count per job: None leaves TensorFlow's own choice."""
        return None

    def outcomes(self, descriptions: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
        """Run each job; yield ``(description, outcome)`` as each ends."""
        descriptions = list(descriptions)
        for number, description in enumerate(descriptions, start=1):
            self.running = 1
            try:
                outcome = self.runner(description)
            except Exception as error:  # a runner that raises instead of recording
                outcome = _failure(error, description)
            self.running = int(number < len(descriptions))  # the next one starts now
            yield description, outcome


class RayEngine:
    """Run each job as a Ray task (a local Ray, or the cluster at ``address``).

    Parameters
    ----------
    address : str, optional
        ``HOST:PORT`` of a running cluster's head (``ray start --head`` prints it), or
        ``"auto"`` for the cluster ``ray start`` runs on this machine; None uses
        ``RAY_ADDRESS`` if set, else starts a Ray of its own on this machine for the batch.
    cpus_per_job : float
        Ray's ``num_cpus`` for each job; TensorFlow gets as many threads.
    gpus_per_job : float, optional
        Ray's ``num_gpus``; default 1 when the cluster has GPUs, else 0.
    max_retries : int
        How often a job whose worker process died is started again.
    runner : callable, optional
        The task's function (default :func:`nstlab.batch.worker.run_job`).
    init_options : dict, optional
        More keywords for ``ray.init`` when this engine starts Ray (``num_cpus``, ...).

    If Ray is already initialised (``ray.init`` in a notebook or a test), the engine uses
    that and leaves it running; otherwise it shuts down the Ray it started.
    """

    name = "ray"

    def __init__(self, address: str | None = None, *, cpus_per_job: float = 1.0,
                 gpus_per_job: float | None = None, max_retries: int = DEFAULT_MAX_RETRIES,
                 runner: Callable[[dict], dict] | None = None, init_options: dict | None = None,
                 log_to_driver: bool = False):
        check_ray_installed()
        self.address = address
        self.cpus_per_job = validators.check_number(cpus_per_job, "cpus_per_job", above=0)
        self.gpus_per_job = None if gpus_per_job is None else validators.check_number(
            gpus_per_job, "gpus_per_job", at_least=0)
        self.max_retries = validators.check_number(max_retries, "max_retries", whole=True,
                                                at_least=0)
        self.runner = runner or run_job
        self.init_options = dict(init_options or {})
        self.log_to_driver = log_to_driver
        self.running = 0
        self._started_ray = False
        self._slots = 1

    def __enter__(self):
        import ray

        if not ray.is_initialized():
            address = self.address or os.environ.get("RAY_ADDRESS")
            keywords = dict(self.init_options, log_to_driver=self.log_to_driver,
                            logging_level=logging.WARNING)
            try:
                if address:
                    ray.init(address=address, **keywords)
                else:
                    start_local_ray(**keywords)
            except Exception as error:  # Ray raises plain Exception, ConnectionError, ...
                where = (f"join the Ray cluster at {self.address}" if self.address
                         else "start or join Ray")
                raise EngineError(f"could not {where}: {one_line(error)}") from error
            self._started_ray = True
        resources = ray.cluster_resources()
        if self.gpus_per_job is None:
            self.gpus_per_job = 1.0 if resources.get("GPU", 0) >= 1 else 0.0
        by_cpu = resources.get("CPU", 1) // self.cpus_per_job
        by_gpu = (resources.get("GPU", 0) // self.gpus_per_job if self.gpus_per_job
                  else by_cpu)
        self._slots = max(1, int(min(by_cpu, by_gpu)))
        return self

    def __exit__(self, *exc_info):
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False
        return False

    def threads(self) -> int | None:
        """TensorFlow's threads per job: the task's CPUs (so jobs side by side share fairly)."""
        return max(1, int(self.cpus_per_job))

    def outcomes(self, descriptions: Iterable[dict]) -> Iterator[tuple[dict, dict]]:
        """Submit every job as a task; yield ``(description, outcome)`` as each ends.

        A task that fails after its retries (its worker kept dying) or whose runner
        raised becomes a failed outcome with Ray's error. Stopping the iteration (Ctrl-C)
        cancels the tasks not yet finished.
        """
        import ray

        task = ray.remote(self.runner).options(
            num_cpus=self.cpus_per_job, num_gpus=self.gpus_per_job,
            max_retries=self.max_retries, retry_exceptions=False)
        pending = {task.remote(description): description for description in descriptions}
        try:
            while pending:
                self.running = min(len(pending), self._slots)
                done, _ = ray.wait(list(pending), num_returns=1)
                for ref in done:
                    description = pending.pop(ref)
                    self.running = min(len(pending), self._slots)
                    try:
                        outcome = ray.get(ref)
                    except ray.exceptions.RayError as error:
                        outcome = _failure(_ray_error_line(error), description)
                    yield description, outcome
        finally:
            for ref in pending:
                ray.cancel(ref, force=True)
            self.running = 0


def _ray_error_line(error: BaseException) -> str:
    """Ray's error as one line: its kind and the first line of its message."""
    cause = getattr(error, "cause", None)
    if cause is not None:
        return f"{type(cause).__name__}: {' '.join(str(cause).split())}"
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}"


def make_engine(engine="in-process", **ray_options):
    """An engine from its name (``"in-process"`` or ``"ray"``), or ``engine`` itself.

    ``ray_options`` (address, cpus_per_job, gpus_per_job, max_retries) go to
    :class:`RayEngine`.
    """
    if not isinstance(engine, str):
        return engine
    validators.check_choice(engine, ENGINES, "engine")
    if engine == "in-process":
        return InProcessEngine()
    return RayEngine(**{k: v for k, v in ray_options.items() if v is not None})
