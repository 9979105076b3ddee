"""The project's files agree with each other: pyproject, environment.yml, README, CI, and the
package data. (The rules for imports between nstlab's modules: tests/test_layers.py.)"""

import re
import subprocess
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower()


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("test", "dev", "teach", "book", "ray", "fast", "benchmark", "video"):
        specs += project["optional-dependencies"][extra]
    return {requirement_name(spec): spec.replace(" ", "") for spec in specs}


def environment_requirements() -> dict[str, str]:
    """The requirements in environment.yml's pip section (not the editable install of nstlab)."""
    text = (REPO / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1]
    entries = {}
    for line in pip_section.splitlines():
        match = re.match(r"^\s+-\s+([A-Za-z][^#\s]*)\s*$", line)
        if match:
            spec = match.group(1)
            entries[requirement_name(spec)] = spec
    return entries


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_python_version_agrees():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"
    assert "python>=3.11" in (REPO / "environment.yml").read_text()


def readme_commands() -> list[str]:
    """The shell commands in the README's 'Two commands' section."""
    text = (REPO / "README.md").read_text()
    section = text.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(?:bash|sh)\n(.*?)```", section, flags=re.S)
    return [line.strip() for block in blocks for line in block.splitlines()
            if line.strip() and not line.strip().startswith("#")]


def test_ci_runs_the_readme_commands_as_written():
    commands = readme_commands()
    assert len(commands) == 2, commands
    assert "nstlab demo -o out.png" in commands[0]
    assert "pytest" in commands[1] and "--nbval-lax" in commands[1]
    ci = (REPO / ".ci" / "run").read_text()
    for command in commands:
        assert command in ci, f".ci/run does not run the README command: {command}"


def test_console_script_points_at_main():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["nstlab"] == "nstlab.cli:main"


def package_data_files() -> set[str]:
    """The files under nstlab/ that pyproject's package-data globs select (as setuptools does)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["nstlab"]
    return {path.relative_to(REPO / "nstlab").as_posix()
            for pattern in patterns for path in (REPO / "nstlab").glob(pattern)}


def test_the_paintings_and_models_ship_as_package_data_with_their_pinned_hashes():
    from nstlab.base.files import sha256_of
    from nstlab.imaging.data import PAINTINGS

    expected = {f"imaging/paintings/{painting.filename}" for painting in PAINTINGS.values()}
    from nstlab.fast.recipe import SHIPPED_MODELS

    fast_model = {f"fast/models/{file}" for file in SHIPPED_MODELS.values()}
    fast_model.add("fast/models/README.md")
    assert package_data_files() == expected | {"imaging/paintings/CREDITS.txt"} | fast_model
    for painting in PAINTINGS.values():
        path = REPO / "nstlab" / "imaging" / "paintings" / painting.filename
        assert sha256_of(path) == painting.sha256


def test_the_credits_file_names_every_painting_with_its_hash():
    from nstlab.imaging.data import PAINTINGS

    credits = (REPO / "nstlab" / "imaging" / "paintings" / "CREDITS.txt").read_text()
    for painting in PAINTINGS.values():
        assert painting.filename in credits
        assert f"{painting.artist}, {painting.title} ({painting.year})" in credits
        assert f"sha256 {painting.sha256}" in credits


def test_no_photo_from_the_shared_folder_is_in_the_repository():
    """golden_gate and hoovertowernight are for tests and benchmarks beside the checkout only."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
    assert "golden_gate" not in tracked and "hoovertowernight" not in tracked
