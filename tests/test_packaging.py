"""The project's files agree with each other: pyproject, environment.yml, README, CI, the
package data, and the rules for imports between nstlab's modules."""

import ast
import graphlib
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
    for extra in ("test", "dev", "teach", "book", "ray", "fast"):
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


def package_data_files() -> set[str]:
    """The files under nstlab/ that pyproject's package-data globs select (as setuptools does)."""
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["nstlab"]
    return {path.relative_to(REPO / "nstlab").as_posix()
            for pattern in patterns for path in (REPO / "nstlab").glob(pattern)}


def test_the_paintings_ship_as_package_data_with_their_pinned_hashes():
    from nstlab.data import PAINTINGS
    from nstlab.files import sha256_of

    expected = {f"paintings/{painting.filename}" for painting in PAINTINGS.values()}
    fast_model = {"fast/models/starry_night.keras", "fast/models/README.md"}
    assert package_data_files() == expected | {"paintings/CREDITS.txt"} | fast_model
    for painting in PAINTINGS.values():
        assert sha256_of(REPO / "nstlab" / "paintings" / painting.filename) == painting.sha256


def test_the_credits_file_names_every_painting_with_its_hash():
    from nstlab.data import PAINTINGS

    credits = (REPO / "nstlab" / "paintings" / "CREDITS.txt").read_text()
    for painting in PAINTINGS.values():
        assert painting.filename in credits
        assert f"{painting.artist}, {painting.title} ({painting.year})" in credits
        assert f"sha256 {painting.sha256}" in credits


def test_no_photo_from_the_shared_folder_is_in_the_repository():
    """golden_gate and hoovertowernight are for tests and benchmarks beside the checkout only."""
    tracked = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout
    assert "golden_gate" not in tracked and "hoovertowernight" not in tracked


def nstlab_imports() -> dict[str, list[tuple[str, str]]]:
    """For every module in nstlab/, the (module, name) pairs it imports from nstlab, counting
    imports inside functions too (``from nstlab.x import y`` and ``from nstlab import x``)."""
    found = {}
    for path in (REPO / "nstlab").rglob("*.py"):
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        found[module] = []
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                    node.module == "nstlab" or node.module.startswith("nstlab.")):
                found[module] += [(node.module, alias.name) for alias in node.names]
    return found


def test_nstlab_modules_import_each_other_without_cycles():
    imports = nstlab_imports()
    graph = {}
    for module, pairs in imports.items():
        targets = {f"{source}.{name}" if f"{source}.{name}" in imports else source
                   for source, name in pairs}
        graph[module] = targets - {"nstlab", module}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_no_private_name_is_imported_from_another_nstlab_module():
    private = [f"{module} imports {name} from {source}"
               for module, pairs in nstlab_imports().items() for source, name in pairs
               if name.startswith("_") and source != module]
    assert private == []
