"""The package's architecture, checked from its source: layers, cycles and private names.

Every module of nstlab belongs to a layer (its first package: ``nstlab.engine.losses`` is in
``engine``). A module may import its own layer and the layers ranked below it in
``nstlab.LAYERS``, never one above it or a peer of the same rank. The facade
(``nstlab/__init__.py``) and ``nstlab/__main__.py`` stand above every layer.
"""

import ast
import graphlib
from pathlib import Path

import pytest

import nstlab

PACKAGE = Path(nstlab.__file__).resolve().parent
# What any layer may read from the package itself: its version, its names, its layer table.
PACKAGE_METADATA = {"__version__", "__all__", "__path__", "__file__", "LAYERS"}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    """``nstlab/engine/losses.py`` -> ``nstlab.engine.losses`` (the package is named nstlab)."""
    parts = ("nstlab", *path.relative_to(package).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def imported_modules(tree: ast.AST) -> list[tuple[str, str, int]]:
    """(module, name, line) for every import of nstlab in ``tree``, inside functions too.

    ``from nstlab.x import y`` gives ("nstlab.x", "y"); ``import nstlab.x`` and an attribute
    chain such as ``nstlab.x.y`` in the code give ("nstlab.x", ""). The package's own
    metadata (:data:`PACKAGE_METADATA`) is not an import of a layer.
    """
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and (
                node.module == "nstlab" or node.module.startswith("nstlab.")):
            found += [(node.module, alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.Import):
            found += [(alias.name, "", node.lineno) for alias in node.names
                      if alias.name.startswith("nstlab.")]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and (
                node.value.id == "nstlab") and node.attr not in PACKAGE_METADATA:
            found.append((f"nstlab.{node.attr}", "", node.lineno))
    return found


def package_imports(package: Path = PACKAGE) -> dict[str, list[tuple[str, str, int]]]:
    """Every module under ``package`` and the nstlab imports it makes."""
    return {module_name(path, package): imported_modules(ast.parse(path.read_text()))
            for path in sorted(package.rglob("*.py"))}


def layer_of(module: str) -> str | None:
    """The layer a dotted nstlab name belongs to (None for the facade and ``__main__``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in nstlab.LAYERS else None


def target_of(source: str, name: str) -> str:
    """The module an import reaches: ``from nstlab import engine`` reaches nstlab.engine."""
    return f"{source}.{name}" if source == "nstlab" and name in nstlab.LAYERS else source


def upward_imports(imports: dict) -> list[str]:
    """The imports that break the layer rule, one readable line each."""
    broken = []
    for module, found in imports.items():
        layer = layer_of(module)
        if layer is None:
            continue
        for source, name, line in found:
            target = layer_of(target_of(source, name))
            if target is None:
                broken.append(f"{module}:{line} uses the facade ({source} {name})")
            elif target != layer and nstlab.LAYERS[target] >= nstlab.LAYERS[layer]:
                broken.append(f"{module}:{line} ({layer}) imports {source} ({target})")
    return broken


def test_every_module_lives_in_a_layer():
    loose = [module for module in package_imports() if layer_of(module) is None]
    assert sorted(loose) == ["nstlab", "nstlab.__main__"]
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir()
            and (path / "__init__.py").exists()} == set(nstlab.LAYERS)


def test_no_layer_imports_a_layer_above_it():
    assert upward_imports(package_imports()) == []


def test_base_imports_nothing_of_nstlab():
    base = {module: found for module, found in package_imports().items()
            if layer_of(module) == "base"}
    assert base and all(source.startswith("nstlab.base") for found in base.values()
                        for source, _, _ in found)


@pytest.mark.parametrize("planted, expected", [
    ("from nstlab.lab import viz\n", "nstlab.engine.planted:1 (engine) imports nstlab.lab (lab)"),
    ("def f():\n    import nstlab.cli\n", "nstlab.engine.planted:2 (engine) imports nstlab.cli"),
    ("from nstlab import gram_matrix\n", "nstlab.engine.planted:1 uses the facade"),
    ("from nstlab import batch\n", "nstlab.engine.planted:1 (engine) imports nstlab (batch)"),
])
def test_an_upward_import_planted_in_the_engine_is_caught(tmp_path, planted, expected):
    copy = tmp_path / "nstlab"
    (copy / "engine").mkdir(parents=True)
    (copy / "__init__.py").write_text("")
    (copy / "engine" / "__init__.py").write_text("")
    (copy / "engine" / "planted.py").write_text(planted)
    broken = upward_imports(package_imports(copy))
    assert len(broken) == 1 and broken[0].startswith(expected), broken


def test_fast_and_batch_are_peers_that_do_not_import_each_other():
    broken = upward_imports({"nstlab.fast.x": [("nstlab.batch.jobs", "Job", 3)]})
    assert broken == ["nstlab.fast.x:3 (fast) imports nstlab.batch.jobs (batch)"]


def test_nstlab_modules_import_each_other_without_cycles():
    imports = package_imports()
    graph = {}
    for module, found in imports.items():
        targets = {f"{source}.{name}" if f"{source}.{name}" in imports else source
                   for source, name, _ in found}
        graph[module] = {t for t in targets if t in imports} - {"nstlab", module}
    graphlib.TopologicalSorter(graph).prepare()  # raises CycleError naming the cycle


def test_no_private_name_is_imported_from_another_nstlab_module():
    private = [f"{module} imports {name} from {source}"
               for module, found in package_imports().items() for source, name, _ in found
               if name.startswith("_") and source != module]
    assert private == []


def test_every_layer_is_reachable_as_an_attribute_and_says_its_rule():
    for layer in nstlab.LAYERS:
        package = getattr(nstlab, layer)
        lines = package.__doc__.strip().splitlines()
        assert lines[0].startswith(f"Layer {nstlab.LAYERS[layer]}, {layer}:"), lines
        assert lines[1].startswith("Import rule:"), lines
