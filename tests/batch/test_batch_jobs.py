"""Job files for ``nstlab batch``: grids, line numbers, every mistake at once, result keys.

No TensorFlow here: everything is checked before any run starts.
"""

import json
import shutil

import pytest

from nstlab.batch import jobs, results
from nstlab.cli import main


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data, indent=1))
    return path


def test_a_grid_expands_contents_styles_and_every_combination(tmp_path, tiny_files):
    job_file = write(tmp_path / "jobs.json", {
        "defaults": {"size": 48, "steps": 3},
        "grids": [{"contents": ["photo.png"], "styles": ["starry.png", ["starry.png",
                                                                       "photo.png"]],
                   "vary": {"style_weight": [10, 100, 1000]}, "init": "content"}],
        "jobs": [{"content": "photo.png", "style": "starry.png", "label": "single"}]})
    found = jobs.read_job_file(job_file)
    assert len(found) == 1 + 1 * 2 * 3
    assert found[0].label == "single"
    grid = found[1:]
    assert [job.options["style_weight"] for job in grid] == [10, 100, 1000] * 2
    assert all(job.options["init"] == "content" and job.options["size"] == 48 for job in grid)
    assert grid[3].styles == (str(tiny_files[1]), str(tiny_files[0]))  # resolved, in order
    assert "style_weight=1000" in grid[2].label and "photo x starry" in grid[2].label
    assert len({job.label for job in found}) == len(found)


JSON_MISTAKE = ('{"jobs": [\n'
                '  {"content": "photo.png", "style": "starry.png", "size": 48},\n'
                '  {"content": "photo.png", "style": "starry.png",\n'
                '   "style_wieght": 10}\n'
                ']}\n')
YAML_MISTAKE = ("jobs:\n"
                "  - content: photo.png\n"
                "    style: starry.png\n"
                "    size: 48\n"
                "  - content: photo.png\n"
                "    style: starry.png\n"
                "    size: -3\n")


@pytest.mark.parametrize(("name", "text", "line", "reason"), [
    ("jobs.json", JSON_MISTAKE, 3, "did you mean 'style_weight'"),
    ("jobs.yaml", YAML_MISTAKE, 5, "size must be a whole number >= 1")])
def test_problems_carry_the_line_of_their_job(tmp_path, tiny_files, name, text, line, reason):
    if name.endswith(".yaml"):
        pytest.importorskip("yaml")
    with pytest.raises(jobs.JobFileError) as caught:
        jobs.read_job_file(write(tmp_path / name, text))
    (problem,) = caught.value.problems
    assert problem.line == line and reason in problem.reason


FIVE_MISTAKES = {"defaults": {"size": 48, "steps": 2}, "jobs": [
    {"content": "photo.png", "style": "starry.png", "style_wieght": 10},     # unknown option
    {"content": "missing.jpg", "style": "starry.png"},                       # missing image
    {"content": "photo.png", "style": "starry.png", "optimizer": "sgd"},     # bad value
    {"content": "photo.png", "style": "starry.png", "style_layers": ["block9_conv1"]},
    {"content": "photo.png", "style": "starry.png", "seed": 1},
    {"content": "photo.png", "style": "starry.png", "seed": 1, "steps": 2},  # same output
]}


def test_five_mistakes_are_reported_in_one_go(tmp_path, tiny_files):
    with pytest.raises(jobs.JobFileError) as caught:
        jobs.read_job_file(write(tmp_path / "jobs.json", FIVE_MISTAKES))
    reasons = [problem.reason for problem in caught.value.problems]
    assert len(reasons) == 5, reasons
    assert "no option 'style_wieght'" in reasons[0]
    assert "missing.jpg" in reasons[1]
    assert "unknown optimizer 'sgd'" in reasons[2]
    assert "block9_conv1" in reasons[3]
    assert "writes the same result as the job on line" in reasons[4]
    assert all(problem.line for problem in caught.value.problems)


def test_the_command_lists_all_five_exits_2_and_runs_nothing(tmp_path, tiny_files, capsys):
    job_file = write(tmp_path / "jobs.json", FIVE_MISTAKES)
    out = tmp_path / "results"
    assert main(["batch", str(job_file), "-o", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 6 and errors[-1].endswith("5 problems in " + str(job_file) +
                                                    "; nothing ran")
    assert all(line.startswith(f"nstlab: error: {job_file}:") for line in errors[:5])
    assert not out.exists()


def test_layout_mistakes_and_unreadable_files_are_one_line_each(tmp_path, tiny_files):
    bad = write(tmp_path / "bad.json", {"jobz": [], "grids": [
        {"contents": ["photo.png"], "styles": []},
        {"contents": ["photo.png"], "styles": ["starry.png"], "vary": {"seed": 3}}],
        "jobs": [{"content": "photo.png"}, {"content": "sample:mona_lisa", "style": "x.png"}]})
    with pytest.raises(jobs.JobFileError) as caught:
        jobs.read_job_file(bad)
    reasons = " | ".join(problem.reason for problem in caught.value.problems)
    assert len(caught.value.problems) == 5, reasons
    assert "unknown key 'jobz'" in reasons and "non-empty list of values for seed" in reasons
    assert "unknown sample 'mona_lisa'" in reasons
    with pytest.raises(jobs.JobFileError, match="not valid JSON"):
        jobs.read_job_file(write(tmp_path / "broken.json", '{"jobs": [}'))
    with pytest.raises(jobs.JobFileError, match="cannot read it"):
        jobs.read_job_file(tmp_path / "nowhere.json")


def test_batch_controls_are_refused(tmp_path, tiny_files):
    with pytest.raises(jobs.JobFileError, match="resume cannot be set in a batch"):
        jobs.check_jobs([{"content": str(tiny_files[0]), "style": str(tiny_files[1]),
                          "resume": str(tmp_path)}])


def test_the_key_follows_file_contents_and_checked_settings(tmp_path, tiny_files):
    photo, starry = tiny_files
    copy = str(shutil.copy(photo, tmp_path / "renamed.png"))

    def key(**changes):
        spec = {"content": str(photo), "style": str(starry), "size": 48, **changes}
        return results.job_key(jobs.check_jobs([spec])[0])

    plain = key()
    assert key(content=copy) == plain  # by content, not by name
    assert key(seed=0, steps=200) == plain  # defaults written out
    assert len({plain, key(steps=7), key(size=49), key(pooling="avg")}) == 4
    with pytest.raises(jobs.JobFileError, match="same result"):
        jobs.check_jobs([{"content": str(photo), "style": str(starry), "size": 48},
                         {"content": copy, "style": str(starry), "size": 48, "seed": 0}])


def test_ray_missing_is_one_line_with_the_install_command(tmp_path, tiny_files, monkeypatch,
                                                          capsys):
    from nstlab.batch import engines

    monkeypatch.setattr(engines.importlib.util, "find_spec",
                        lambda name: None if name == "ray" else object())
    job_file = write(tmp_path / "jobs.json", [{"content": "photo.png", "style": "starry.png",
                                               "size": 48}])
    assert main(["batch", str(job_file), "-o", str(tmp_path / "r"), "--engine", "ray"]) == 2
    assert capsys.readouterr().err == ('nstlab: error: the ray engine needs Ray: '
                                       'pip install "nstlab[ray]"\n')
