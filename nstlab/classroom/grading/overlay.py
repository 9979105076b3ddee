"""The nstlab a sandbox sees: the functions an exercise asks for raise, and the checks'
answers are not there.

Two things in the Python environment would let a notebook be graded ``correct`` without
solving anything, and neither may be fixed from inside the student's process (its code
could undo that). So the grader builds replacements *outside*, and the sandbox mounts
them read-only over the originals (:func:`nstlab.classroom.grading.sandbox.command`):

* :func:`refusing_files`: for each function that solves an exercise (its check's
  ``solvers``: ``nstlab.gram_matrix``, ``tf.image.total_variation``, ...), a copy of the
  file that defines it in which its body is ``raise PermissionError("write this one
  yourself: ...")``, and an empty file over its compiled ``.pyc``. The real code is then
  nowhere in the sandbox: neither a profile hook, a thread nor a copied code object can
  reach it. Solvers refused only for some arguments (``Solver.when``) need the real code
  for the other calls, so they are not replaced: the grader cannot refuse them.
* :func:`checks_stub`: ``nstlab.classroom.checks`` as a package of do-nothing checks, so
  the checks' reference data (``SAME_GRAM_CANDIDATES``) and helpers are not there to copy
  answers from. The check cells are not run in the sandbox anyway: the grader judges the
  exercise there, from outside.
"""

from __future__ import annotations

import ast
import inspect
import os
from pathlib import Path

#: What a refused call's message starts with (the grader reads it as "wrong").
REFUSAL = "write this one yourself:"


def _definition(tree: ast.Module, code) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and \
                node.name == code.co_name:
            lines = {node.lineno, *(decorator.lineno for decorator in node.decorator_list)}
            if code.co_firstlineno in lines:
                return node
    return None


def refusing_source(source: str, refusals: list[tuple[object, str]]) -> str:
    """``source`` with the body of each function in ``refusals`` (code object, message)
    replaced by ``raise PermissionError(message)``."""
    tree = ast.parse(source)
    for code, message in refusals:
        node = _definition(tree, code)
        if node is None:
            raise LookupError(f"{code.co_name} not found in its file")
        node.body = [ast.Raise(exc=ast.Call(func=ast.Name("PermissionError", ast.Load()),
                                            args=[ast.Constant(message)], keywords=[]),
                               cause=None)]
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def refusing_files(solvers, folder: Path) -> list[tuple[str, str]]:
    """Write the refusing copies for ``solvers`` into ``folder``; the (made, hidden) pairs.

    ``solvers`` are :class:`nstlab.classroom.checks.Solver`; those with a ``when`` are
    left out (module docstring).
    """
    by_file: dict[str, list[tuple[object, str]]] = {}
    for solver in solvers:
        if solver.when is not None:
            continue
        code = solver.code
        message = f"{REFUSAL} your function calls {solver.name}, {solver.why}."
        by_file.setdefault(os.path.realpath(code.co_filename), []).append((code, message))
    pairs = []
    empty = folder / "empty"
    empty.write_bytes(b"")
    for number, (path, refusals) in enumerate(sorted(by_file.items())):
        made = folder / f"refusing-{number}-{Path(path).name}"
        made.write_text(refusing_source(Path(path).read_text(encoding="utf-8"), refusals),
                        encoding="utf-8")
        pairs.append((str(made), path))
        cache = Path(path).parent / "__pycache__"
        if cache.is_dir():
            pairs += [(str(empty), str(compiled))
                      for compiled in sorted(cache.glob(f"{Path(path).stem}.*.pyc"))]
    return pairs


_STUB_HEADER = '''"""nstlab.classroom.checks in nstlab grade's sandbox: the checks do nothing here.

The grader judges each exercise from outside the sandbox.
"""


class CheckFailed(AssertionError):
    pass


class WriteItYourself(CheckFailed):
    pass


class NotDoneYet(NotImplementedError):
    pass


def _graded_outside(*args, **kwargs):
    print("(nstlab grade judges this exercise from outside the notebook)")
    return None


'''


def checks_stub(folder: Path) -> list[tuple[str, str]]:
    """Write the do-nothing ``nstlab.classroom.checks`` into ``folder``; its (made, hidden) pair."""
    import nstlab.classroom.checks as checks

    names = [name for name in checks.__all__ if name.startswith("check_")]
    body = _STUB_HEADER + "".join(f"{name} = _graded_outside\n" for name in names)
    body += "\n__all__ = " + repr(["CheckFailed", "WriteItYourself", "NotDoneYet", *names]) + "\n"
    package = folder / "checks"
    package.mkdir()
    (package / "__init__.py").write_text(body, encoding="utf-8")
    return [(str(package), str(Path(inspect.getfile(checks)).parent))]
