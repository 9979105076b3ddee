"""The project's files agree with each other: pyproject, environment.yml, README, CI."""

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def requirement_name(spec: str) -> str:
    return re.split(r"[<>=!~\[ ]", spec, maxsplit=1)[0].lower()


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in ("test", "dev", "teach"):
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


def test_every_module_is_reachable_as_an_attribute():
    """``nstlab.<module>`` works without its own import, for every module in the package."""
    import nstlab

    modules = {path.stem for path in (REPO / "nstlab").glob("*.py")} - {"__init__", "__main__"}
    modules |= {path.parent.name for path in (REPO / "nstlab").glob("*/__init__.py")}
    assert modules == nstlab._SUBMODULES
