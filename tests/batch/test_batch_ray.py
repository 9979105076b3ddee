"""``nstlab batch`` on a real Ray: a local cluster on 127.0.0.1 with 2 CPUs, started once.

The fault-injection runners below are top-level functions of this module: Ray's workers
import them by name (the fixture puts this folder on the workers' PYTHONPATH), then call
the real :func:`nstlab.batch.worker.run_job`.
"""

import json
import os
from pathlib import Path

import pytest

from nstlab import batch
from nstlab.batch import results
from nstlab.batch.engines import start_local_ray
from nstlab.batch.worker import run_job

ray = pytest.importorskip("ray")
pytestmark = pytest.mark.ray

HERE = Path(__file__).resolve().parent
ATTEMPTS = "attempts"


@pytest.fixture(scope="module")
def local_ray():
    """A Ray of 2 CPUs on loopback only, no dashboard, a small object store, no telemetry."""
    saved = dict(os.environ)
    paths = [str(HERE.parents[1]), str(HERE), os.environ.get("PYTHONPATH", "")]
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["RAY_ENABLE_UV_RUN_RUNTIME_ENV"] = "0"
    start_local_ray(num_cpus=2, num_gpus=0, object_store_memory=100 * 2**20,
                    log_to_driver=False, logging_level="warning")
    yield ray
    ray.shutdown()
    os.environ.clear()
    os.environ.update(saved)


def four_jobs(tiny_files, steps=3):
    photo, starry = tiny_files
    return [{"content": str(photo), "style": str(starry), "size": 48, "steps": steps,
             "style_weight": weight, "style_layers": layers}
            for weight in (10, 1000) for layers in (["block1_conv1"],
                                                     ["block1_conv1", "block2_conv1"])]


def crash_on_first_attempt(description):
    """Kill this worker process the first time a job runs (as an out-of-memory kill would)."""
    marker = Path(description["out_dir"]).parent / ATTEMPTS / description["key"]
    if not marker.exists():
        marker.parent.mkdir(exist_ok=True)
        marker.write_text("started once")
        os._exit(1)
    return run_job(description)


def settings_by_folder(out_dir):
    return {folder.name: json.loads((folder / results.SETTINGS_FILE).read_text())
            for folder in Path(out_dir).iterdir() if (folder / results.SETTINGS_FILE).exists()}


def test_four_jobs_on_ray_equal_the_in_process_results(local_ray, tiny_files, tmp_path):
    on_ray = batch.run(four_jobs(tiny_files), tmp_path / "ray", engine=batch.RayEngine(),
                       progress=False)
    here = batch.run(four_jobs(tiny_files), tmp_path / "here", progress=False)
    assert on_ray.finished == here.finished == 4 and on_ray.ok and here.ok
    ray_settings, here_settings = (settings_by_folder(tmp_path / name)
                                   for name in ("ray", "here"))
    assert len(ray_settings) == 4 and ray_settings == here_settings
    for folder in ray_settings:
        records = [json.loads((tmp_path / name / folder / results.FINISHED_FILE).read_text())
                   for name in ("ray", "here")]
        assert records[0]["steps"] == records[1]["steps"] == 3
    assert (tmp_path / "ray" / "index.html").is_file()
    assert (tmp_path / "ray" / "contact_sheet.png").is_file()


def test_a_worker_that_dies_is_retried_and_the_batch_completes(local_ray, tiny_files, tmp_path):
    jobs = four_jobs(tiny_files)[:1]
    engine = batch.RayEngine(runner=crash_on_first_attempt, max_retries=2)
    summary = batch.run(jobs, tmp_path / "out", engine=engine, progress=False)
    assert summary.finished == 1 and summary.ok
    assert len(list((tmp_path / ATTEMPTS).iterdir())) == 1  # it died once, then ran


def test_a_worker_that_keeps_dying_fails_only_its_job(local_ray, tiny_files, tmp_path):
    jobs = four_jobs(tiny_files)[:1]
    engine = batch.RayEngine(runner=crash_on_first_attempt, max_retries=0)
    summary = batch.run(jobs, tmp_path / "out", engine=engine, progress=False)
    (message,) = summary.failed.values()
    assert "Worker" in message or "died" in message.lower() or "crash" in message.lower()
    (folder,) = summary.folders.values()
    assert json.loads((folder / results.ERROR_FILE).read_text())["status"] == "failed"


def test_an_interrupted_batch_reruns_only_the_missing_jobs(local_ray, tiny_files, tmp_path):
    jobs, out = four_jobs(tiny_files), tmp_path / "out"
    started = []

    def interrupted_after_two(description):
        if len(started) == 2:
            raise KeyboardInterrupt  # Ctrl-C during the third job
        started.append(description["key"])
        return run_job(description)

    with pytest.raises(KeyboardInterrupt):
        batch.run(jobs, out, engine=batch.InProcessEngine(interrupted_after_two),
                  progress=False)
    assert len(list(out.glob(f"*/{results.FINISHED_FILE}"))) == 2
    summary = batch.run(jobs, out, engine=batch.RayEngine(), progress=False)
    assert (summary.already_finished, summary.finished, summary.failed) == (2, 2, {})
    assert len(list(out.glob(f"*/{results.FINISHED_FILE}"))) == 4


def test_a_job_that_raises_is_failed_while_the_others_complete(local_ray, tiny_files, tmp_path):
    photo, starry = tiny_files
    broken = tmp_path / "broken.png"
    broken.write_bytes(photo.read_bytes()[: photo.stat().st_size // 2])
    jobs = [*four_jobs(tiny_files)[:2],
            {"content": str(broken), "style": str(starry), "size": 48, "steps": 3,
             "label": "broken"}]
    summary = batch.run(jobs, tmp_path / "out", engine=batch.RayEngine(), progress=False)
    assert summary.finished == 2 and list(summary.failed) == ["broken"]
    record = json.loads((summary.folders["broken"] / results.ERROR_FILE).read_text())
    assert record["error"] == "ImageError" and "broken.png" in record["message"]


def test_the_command_runs_a_grid_file_on_ray(local_ray, tiny_files, tmp_path, capsys):
    from nstlab.cli import main

    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps(four_jobs(tiny_files, steps=2)[:2]))
    out = tmp_path / "results"
    assert main(["batch", str(job_file), "-o", str(out), "--engine", "ray", "--quiet"]) == 0
    assert "2 finished now" in capsys.readouterr().out
    assert main(["batch", str(job_file), "-o", str(out), "--engine", "ray", "--quiet"]) == 0
    assert "nothing to do: 2 jobs already finished" in capsys.readouterr().out
    assert ray.is_initialized()  # the command used the running Ray and left it running


def test_ratio_depth_grid_on_ray(local_ray, photo_64, starry_64, tmp_path):
    from nstlab.lab.tradeoff import ratio_depth_grid

    grid, figure = ratio_depth_grid(photo_64, starry_64, ratios=[1, 1000],
                                    layer_sets=[["block1_conv1"]], size=40, steps=3,
                                    engine="ray", out_dir=tmp_path)
    assert len(grid) == 2 and all(image.shape[2] == 3 for image in grid.values())
    import matplotlib.pyplot as plt

    plt.close(figure)
