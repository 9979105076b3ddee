"""No exercise's answer appears in a code cell above the exercise.

A student who scrolls up must not find the answer already written. For every exercise of
every source notebook (:func:`nstlab.classroom.exercises.find_exercises`), the code cells
above its solution cell must not

* define a function of the exercise's name (the check's name without ``check_``) or of a
  function the solution cell defines: that is the answer, written out;
* call a function that the exercise's check lists as a :class:`Solver` (``check.solvers``,
  e.g. ``nstlab.gram_matrix`` for ``check_gram_matrix``): that shows the package's answer
  before the student writes theirs. For a solver that is a method (``Objective.__call__``),
  calling its class counts.

Calls are read with :mod:`ast`. Each call's dotted name is resolved through the imports of
the cells above (``import nstlab``, ``from nstlab.engine import backbones``, ...) to the
object it names, and compared with the solver by code object, as the checks' guard does, so
``nstlab.gram_matrix`` and ``nstlab.engine.losses.gram_matrix`` are the same function.
Solvers that refuse only some calls (``when=``) are left out: which calls those are depends
on the arguments at run time. Calls through an object (``extractor(photo)``) are not seen.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import nbformat
import pytest

import nstlab.classroom.checks
from nstlab.classroom.exercises import find_exercises

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def python_source(cell_source: str) -> str:
    """The cell's Python: a cell magic (``%%...``) is not Python; line magics become blank."""
    if cell_source.lstrip().startswith("%%"):
        return ""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in cell_source.splitlines())


def imported_names(tree: ast.AST) -> dict[str, str]:
    """``{name bound in the notebook: dotted path it stands for}`` from a cell's imports."""
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    root = alias.name.split(".")[0]
                    names[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return names


def dotted_name(node: ast.AST) -> str | None:
    """``"nstlab.engine.losses.gram_matrix"`` for that expression; None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def resolve(path: str):
    """The object at a dotted path (the longest importable module, then attributes), or None."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                found = getattr(found, name)
        except AttributeError:
            return None
        return found
    return None


def solver_matches(solver):
    """A predicate: does a called object do the solver's work?"""
    code = solver.code
    owner = resolve((solver.target or solver.name).rsplit(".", 1)[0])
    owner = owner if inspect.isclass(owner) else None

    def matches(called) -> bool:
        if owner is not None and inspect.isclass(called) and issubclass(called, owner):
            return True
        function = inspect.unwrap(called) if callable(called) else None
        function = getattr(function, "__func__", function)
        return getattr(function, "__code__", None) is code

    return matches


def answers_shown_above(notebook) -> list[str]:
    """One line per exercise whose answer a code cell above it already shows."""
    cells = notebook.cells
    problems = []
    for exercise in find_exercises(notebook):
        check = getattr(nstlab.classroom.checks, exercise.check)
        solution = ast.parse(python_source(cells[exercise.solution_cell].source))
        names = {exercise.name} | {node.name for node in solution.body
                                   if isinstance(node, ast.FunctionDef)}
        solvers = [(solver.name, solver_matches(solver))
                   for solver in getattr(check, "solvers", ()) if solver.when is None]
        aliases: dict[str, str] = {}
        for index in range(exercise.solution_cell):
            if cells[index].cell_type != "code":
                continue
            tree = ast.parse(python_source(cells[index].source))
            aliases.update(imported_names(tree))
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name in names:
                    problems.append(f"cell {index} defines {node.name}() above the exercise "
                                    f"{exercise.name} (cell {exercise.solution_cell})")
                if not isinstance(node, ast.Call):
                    continue
                name = dotted_name(node.func)
                if name is None or name.split(".")[0] not in aliases:
                    continue
                root, _, rest = name.partition(".")
                called = resolve(".".join(filter(None, [aliases[root], rest])))
                if called is None:
                    continue
                for solver_name, matches in solvers:
                    if matches(called):
                        problems.append(
                            f"cell {index} calls {name} ({solver_name}, which solves the "
                            f"exercise {exercise.name}) above the exercise (cell "
                            f"{exercise.solution_cell})")
    return list(dict.fromkeys(problems))


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in NOTEBOOKS])
def test_no_answer_above_its_exercise(path):
    problems = answers_shown_above(nbformat.read(path, as_version=4))
    assert not problems, f"{path.name}: " + "; ".join(problems)


# ------------------------------------------------------------------- the finder itself


def _notebook(*sources: str):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return notebook


EXERCISE = ("def gram_matrix(features):\n    ### BEGIN SOLUTION\n    return features\n"
            "    ### END SOLUTION")
CHECK = "nstlab.classroom.checks.check_gram_matrix(gram_matrix)"


@pytest.mark.parametrize("above, found", [
    ("import nstlab\ng = nstlab.gram_matrix(x)", "calls nstlab.gram_matrix"),
    ("from nstlab.engine import losses as L\ng = L.gram_matrix(x)", "calls L.gram_matrix"),
    ("from nstlab import gram_matrix as gm\ng = [gm(f) for f in fs]", "calls gm"),
    ("import nstlab.engine.losses\nnstlab.engine.losses.masked_gram_matrix(f, m)",
     "masked_gram_matrix"),
    ("def gram_matrix(f):\n    return f.T @ f", "defines gram_matrix()"),
    ("%matplotlib inline\nimport nstlab\nnstlab.gram_matrix(x)", "calls nstlab.gram_matrix"),
])
def test_an_answer_above_the_exercise_is_found(above, found):
    problems = answers_shown_above(_notebook(above, EXERCISE, CHECK))
    assert len(problems) == 1 and found in problems[0]


def test_the_package_used_below_the_exercise_or_for_something_else_is_fine():
    above = "import nstlab\nimport numpy as np\nf = nstlab.content_loss(a, b)\nnp.mean(f)"
    below = "nstlab.gram_matrix(x)"
    assert answers_shown_above(_notebook(above, EXERCISE, CHECK, below)) == []


def test_constructing_the_class_of_a_method_solver_counts():
    exercise = ("def my_stylize(content, style):\n    ### BEGIN SOLUTION\n    pass\n"
                "    ### END SOLUTION")
    check = "nstlab.classroom.checks.check_my_style_transfer(my_stylize)"
    above = "import nstlab\nobjective = nstlab.Objective(photo, painting)"
    problems = answers_shown_above(_notebook(above, exercise, check))
    assert problems and "nstlab.Objective" in problems[0]
