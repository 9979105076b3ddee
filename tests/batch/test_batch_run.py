"""``nstlab batch`` in this process: result folders, resuming, failures, the gallery.

Tiny images (48 px) and 3 steps: the runs are real, just short.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nstlab import batch
from nstlab.batch import gallery, results
from nstlab.batch.worker import run_job
from nstlab.cli import main
from nstlab.imaging.images import load_image


def broken_image(tmp_path, photo):
    """A PNG whose header reads fine but whose pixels are cut off: found only by loading."""
    data = photo.read_bytes()
    broken = tmp_path / "broken.png"
    broken.write_bytes(data[: len(data) // 2])
    return broken


def test_jobs_write_their_folders_and_a_rerun_does_nothing(tmp_path, tiny_files, capsys):
    photo, starry = tiny_files
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps({"defaults": {"size": 48, "steps": 3}, "grids": [
        {"contents": ["photo.png"], "styles": ["starry.png"],
         "vary": {"style_weight": [10, 1000]}}]}))
    out = tmp_path / "results"
    assert main(["batch", str(job_file), "-o", str(out), "--quiet"]) == 0
    first = capsys.readouterr().out
    assert "2 jobs: 2 finished now, 0 already finished, 0 failed" in first
    folders = sorted(p for p in out.iterdir() if p.is_dir())
    assert len(folders) == 2
    for folder in folders:
        assert {p.name for p in folder.iterdir()} == {
            results.IMAGE_FILE, results.HISTORY_FILE, results.SETTINGS_FILE,
            results.FINISHED_FILE}
        settings = json.loads((folder / results.SETTINGS_FILE).read_text())
        assert settings["content"] == str(photo) and settings["settings"]["steps"] == 3
        assert len(json.loads((folder / results.HISTORY_FILE).read_text())[
            "history"]["total"]) == 3
        assert max(load_image(folder / results.IMAGE_FILE).shape[:2]) == 48
    page = (out / gallery.INDEX).read_text()
    assert all(f'src="{folder.name}/image.png"' in page for folder in folders)
    assert load_image(out / gallery.CONTACT_SHEET).shape[1] > 2 * gallery.TILE

    assert main(["batch", str(job_file), "-o", str(out), "--quiet"]) == 0
    assert "nothing to do: 2 jobs already finished" in capsys.readouterr().out


def test_a_failing_job_is_recorded_and_the_others_finish(tmp_path, tiny_files):
    photo, starry = tiny_files
    broken = broken_image(tmp_path, photo)
    summary = batch.run([{"content": str(photo), "style": str(starry), "size": 48,
                          "steps": 2, "label": "good"},
                         {"content": str(broken), "style": str(starry), "size": 48,
                          "steps": 2, "label": "broken"}], tmp_path / "out", progress=False)
    assert summary.finished == 1 and list(summary.failed) == ["broken"]
    assert "broken.png" in summary.failed["broken"]
    record = json.loads((summary.folders["broken"] / results.ERROR_FILE).read_text())
    assert record["status"] == "failed" and record["error"] == "ImageError"
    assert "Traceback" in record["traceback"]
    assert (summary.folders["good"] / results.FINISHED_FILE).is_file()
    assert "failed" in (tmp_path / "out" / gallery.INDEX).read_text()



def test_a_failed_job_runs_again_next_time(tmp_path, tiny_files):
    photo, starry = tiny_files
    spec = [{"content": str(photo), "style": str(starry), "size": 48, "steps": 2}]

    def out_of_memory(description):
        raise MemoryError("the GPU ran out of memory")

    first = batch.run(spec, tmp_path, engine=batch.InProcessEngine(out_of_memory),
                      progress=False)
    (folder,) = first.folders.values()
    assert first.failed and (folder / results.ERROR_FILE).is_file()
    again = batch.run(spec, tmp_path, progress=False)
    assert again.finished == 1 and not again.failed
    assert not (folder / results.ERROR_FILE).exists()


def test_a_job_failure_exits_1_and_the_summary_names_it(tmp_path, tiny_files, capsys):
    photo, starry = tiny_files
    broken = broken_image(tmp_path, photo)
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps([{"content": str(broken), "style": "starry.png",
                                     "size": 48, "steps": 2}]))
    assert main(["batch", str(job_file), "-o", str(tmp_path / "r"), "--quiet"]) == 1
    assert "failed: broken x starry:" in capsys.readouterr().out


def test_ratio_depth_grid_runs_its_cells_through_the_batch_engine(tmp_path, photo_64,
                                                                  starry_64):
    """As a batch, each cell is the same run as in the loop (inputs saved as 8-bit PNG)."""
    import matplotlib.pyplot as plt
    import numpy as np

    from nstlab.lab.tradeoff import ratio_depth_grid

    grid_options = dict(ratios=[1, 1000], layer_sets=[["block1_conv1"]], size=40, steps=3)
    looped, first = ratio_depth_grid(photo_64, starry_64, **grid_options)
    batched, second = ratio_depth_grid(photo_64, starry_64, engine="in-process",
                                       out_dir=tmp_path / "grid", **grid_options)
    assert set(batched) == set(looped) == {("block1", 1.0), ("block1", 1000.0)}
    assert len(list((tmp_path / "grid").glob(f"*/{results.FINISHED_FILE}"))) == 2
    for cell in looped:
        assert len(batched.histories[cell]) == 3
        assert np.abs(batched[cell] - looped[cell]).mean() < 0.01
        for kind in ("content", "style"):
            assert batched.distances[cell][kind] == pytest.approx(
                looped.distances[cell][kind], rel=0.02)
    plt.close(first)
    plt.close(second)


def test_results_come_back_as_bytes_when_workers_cannot_see_the_folder(tiny_files, tmp_path):
    """A worker that does not find the batch's marker hands the files to the driver."""
    photo, starry = tiny_files
    jobs = [{"content": str(photo), "style": str(starry), "size": 48, "steps": 2}]

    handed_back = []

    def describe_elsewhere(description):
        outcome = run_job({**description, "token": "not this batch"})
        handed_back.append(set(outcome["files"]))
        return outcome

    summary = batch.run(jobs, tmp_path / "out",
                        engine=batch.InProcessEngine(describe_elsewhere), progress=False)
    assert summary.ok and summary.finished == 1
    (folder,) = summary.folders.values()
    assert handed_back == [{results.IMAGE_FILE, results.HISTORY_FILE, results.SETTINGS_FILE,
                            results.FINISHED_FILE}]
    assert (folder / results.IMAGE_FILE).is_file() and (folder / results.FINISHED_FILE).is_file()


def test_sigterm_stops_the_batch_and_keeps_the_finished_jobs(tmp_path, tiny_files):
    job_file = tmp_path / "jobs.json"
    job_file.write_text(json.dumps({"defaults": {"size": 48, "steps": 3}, "grids": [
        {"contents": ["photo.png"], "styles": ["starry.png"],
         "vary": {"style_weight": [1, 10, 100, 1000, 10000, 100000]}}]}))
    out = tmp_path / "results"
    process = subprocess.Popen([sys.executable, "-m", "nstlab", "batch", str(job_file), "-o",
                                str(out), "--quiet"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not list(out.glob(f"*/{results.FINISHED_FILE}")):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "no job finished"
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "stopped by SIGTERM; finished jobs are kept" in err and "Traceback" not in err
    finished = list(out.glob(f"*/{results.FINISHED_FILE}"))
    assert 1 <= len(finished) < 6
    for marker in finished:
        assert load_image(marker.parent / results.IMAGE_FILE).shape[2] == 3
