"""Your pieces of style transfer, carried from notebook to notebook into the capstone (07).

Notebooks 01-05a each ask you to write some pieces of style transfer: ``preprocess``, the
``feature_model``, ``content_loss``, ``gram_matrix``, ``style_loss``, ``total_variation``,
``total_loss`` and ``train_step`` (:data:`PIECES` says which notebook writes which). The check
cell after each of those exercises ends with one more line::

    nstlab.classroom.pieces.keep(gram_matrix)

:func:`keep` writes the function's source into ``my_nst.py`` beside the notebook, with what
it needs from the notebook (its imports, helper functions of yours and simple constants). Run
the cell again and the piece's section of the file is replaced, never repeated. The
capstone then loads every piece with :func:`load` and joins them: you write each piece once,
and nothing is pasted from one notebook into another.

``my_nst.py`` is a plain Python file: open it to see your pieces side by side. Edit the
notebooks, not the file, since the next ``keep`` rewrites the piece's section.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import dis
import inspect
import linecache
import os
import re
import tempfile
import textwrap
import types
from collections.abc import Callable
from pathlib import Path

#: Each piece the capstone joins, and the notebook whose exercise writes it.
PIECES = {
    "preprocess": "01",
    "feature_model": "01",
    "content_loss": "02",
    "gram_matrix": "03",
    "style_loss": "03",
    "total_variation": "04",
    "total_loss": "04",
    "train_step": "05a",
}
#: Pieces that are kept too, for the capstone's extensions, but that it does not need.
EXTRA_PIECES = {"mean_std_loss": "03"}
_ALL = {**PIECES, **EXTRA_PIECES}
#: The file, beside the notebooks, that holds the pieces.
FILE_NAME = "my_nst.py"

_HEADER = '''"""Your pieces of style transfer, kept by nstlab.classroom.pieces.keep() for
the capstone (notebook 07). Each section is rewritten when you run its check cell again: edit the
notebooks, not this file.
"""
'''
_SECTION = re.compile(r"^# ={4} (?P<name>\w+) \(notebook (?P<notebook>\w+)\) =+\n"
                      r"(?P<body>.*?)^# ={4} end (?P=name) =+\n", re.MULTILINE | re.DOTALL)


class PieceError(ValueError):
    """A function that :func:`keep` cannot keep; the message says why, in one line."""


def notebook_of(name: str) -> str:
    """The notebook whose exercise writes the piece ``name`` ("03" for ``gram_matrix``)."""
    return _ALL[name]


# --------------------------------------------------------------------------- keep


def keep(function: Callable, path: str | os.PathLike = FILE_NAME) -> Path | None:
    """Write ``function``, one of the capstone's pieces, into ``my_nst.py``.

    The section holds the function's source and what it takes from the notebook: an
    ``import`` line for each module it uses (``tf``, ``np``, ``keras``, ...), helper
    functions of yours that it calls, and constants (numbers, strings, tuples). A section
    kept earlier for the same piece is replaced. Prints one line saying what was kept, and
    one more for anything of the notebook's that cannot go into a file (a tensor, a model):
    compute those inside the function.

    Returns the file's path, or ``None`` when the function's source cannot be read (it was
    not defined in a cell): that is said in one line, and the notebook goes on. Raises
    :class:`PieceError` for a function that is not a piece (:data:`PIECES`).
    """
    function = getattr(function, "python_function", function)  # under @tf.function
    name = getattr(function, "__name__", None)
    if not inspect.isfunction(function) or name not in _ALL:
        raise PieceError(f"keep() keeps the capstone's pieces ({', '.join(PIECES)}), a "
                         f"function of that name; got {name or type(function).__name__!r}")
    try:
        lines, left_out = _section_lines(function)
    except PieceError as error:
        print(f"not kept: {error}")
        return None
    path = Path(path)
    with _locked(path.parent):
        sections = _read_sections(path)
        sections[name] = "".join(lines).rstrip() + "\n"
        _write_sections(path, sections)
    print(f"kept {name} in {path.name} for the capstone (07)")
    for needed, what in left_out:
        print(f"  {name} uses the notebook's {needed} (a {what}), which cannot go into "
              f"{path.name}: compute it inside the function")
    return path


def _source(function: Callable) -> str:
    try:
        return textwrap.dedent(inspect.getsource(function))
    except (OSError, TypeError):
        raise PieceError(f"cannot read the source of {function.__name__}: define it in a "
                         "notebook cell with def") from None


def _globals_used(function: Callable, source: str) -> list[str]:
    """The global names ``function`` reads: in its code, nested code and decorators."""
    names: list[str] = []
    codes = [function.__code__]
    while codes:
        code = codes.pop()
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
                name = instruction.argval
                names.append(name if isinstance(name, str) else name[1])
        codes += [const for const in code.co_consts if isinstance(const, types.CodeType)]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                names += [n.id for n in ast.walk(decorator) if isinstance(n, ast.Name)]
            break
    return list(dict.fromkeys(names))


def _section_lines(function: Callable) -> tuple[list[str], list[tuple[str, str]]]:
    """The lines of ``function``'s section, and what of the notebook it cannot take along."""
    imports: set[str] = set()
    definitions: list[str] = []
    left_out: list[tuple[str, str]] = []
    _collect(function, {function.__name__}, imports, definitions, left_out)
    head = sorted(imports) + (["\n\n"] if imports else [])
    return head + definitions, left_out


def _collect(function, seen, imports, definitions, left_out) -> None:
    """Add to ``definitions`` what ``function`` needs from its notebook, then its source."""
    source = _source(function)
    namespace = function.__globals__
    for name in _globals_used(function, source):
        if name in seen or name not in namespace or name in _ALL:
            continue  # a builtin, or a piece that has a section of its own
        seen.add(name)
        value = namespace[name]
        if isinstance(value, types.ModuleType):
            module = value.__name__
            imports.add(f"import {module}\n" if module == name else f"import {module} as {name}\n")
        elif inspect.isfunction(value) and value.__module__ == function.__module__:
            _collect(value, seen, imports, definitions, left_out)
            if value.__name__ != name:  # used under another name: `flat = _flatten`
                definitions.append(f"{name} = {value.__name__}\n\n\n")
        elif (inspect.isfunction(value) or inspect.isclass(value)) and \
                "<locals>" not in value.__qualname__:
            imports.add(f"from {value.__module__} import {value.__qualname__} as {name}\n")
        elif _is_literal(value):
            definitions.append(f"{name} = {value!r}\n\n\n")
        else:
            left_out.append((name, type(value).__name__))
    definitions += [source, "\n\n"]


def _is_literal(value) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


# --------------------------------------------------------------------------- the file


def _read_sections(path: Path, *, aligned: bool = False) -> dict[str, str]:
    """The sections of ``path`` by piece (empty when there is no file yet).

    ``aligned``: each section starts with as many blank lines as come before it in the
    file, so that code compiled from it has the file's line numbers (``inspect.getsource``
    and AutoGraph, which reads the source of a function under ``tf.function``, need them).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    return {match["name"]: "\n" * text.count("\n", 0, match.start("body")) * aligned
            + match["body"] for match in _SECTION.finditer(text)}


def _write_sections(path: Path, sections: dict[str, str]) -> None:
    """Write the file whole, pieces in the course's order, replacing it atomically."""
    order = list(_ALL)
    parts = [_HEADER]
    for name in sorted(sections, key=lambda n: order.index(n) if n in order else len(order)):
        opening = f"# ==== {name} (notebook {notebook_of(name)}) "
        closing = f"# ==== end {name} "
        parts.append(f"\n\n{opening}{'=' * (79 - len(opening))}\n{sections[name].rstrip()}\n"
                     f"{closing}{'=' * (79 - len(closing))}\n")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write("".join(parts))
    os.replace(temporary, path)


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold a lock on ``folder`` where the system has one, so that two notebooks running at
    once (the tests run them in parallel) do not lose each other's piece."""
    try:
        import fcntl
    except ImportError:  # Windows: one notebook at a time
        yield
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


# --------------------------------------------------------------------------- load


@dataclasses.dataclass(frozen=True)
class Kept:
    """The pieces loaded from ``my_nst.py``: each piece is an attribute (``mine.gram_matrix``).

    A piece that was never kept, or whose section fails to run, is a stand-in that raises
    ``NotImplementedError`` and says where to write it, so the capstone still runs to the
    end. ``status`` says, for each piece, ``"kept"``, ``"not done yet"`` (it still raises
    ``NotImplementedError``), ``"not kept yet"`` or what went wrong.
    """

    module: types.ModuleType
    status: dict[str, str]

    def __getattr__(self, name: str):
        if name in self.status:
            return getattr(self.module, name)
        raise AttributeError(f"my_nst.py keeps {', '.join(self.status)}; not {name!r}")

    @property
    def functions(self) -> list[Callable]:
        """The capstone's pieces (:data:`PIECES`), in order: what its check is given."""
        return [getattr(self.module, name) for name in PIECES]

    @property
    def complete(self) -> bool:
        """True when every piece of :data:`PIECES` is kept and written."""
        return all(self.status[name] == "kept" for name in PIECES)


def _stand_in(name: str, status: str) -> Callable:
    where = f"notebook {notebook_of(name)}"
    message = (f"{name} is not kept yet: write it in {where} and run its check cell"
               if status == "not kept yet" else
               f"{name} in my_nst.py {status}: mend it in {where} and run its check cell again")

    def stand_in(*args, **kwargs):
        raise NotImplementedError(message)

    # named after the piece, so that "still to write" names it (the capstone's check)
    stand_in.__code__ = stand_in.__code__.replace(co_name=name)
    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def _is_stub(section: str, name: str) -> bool:
    """True when the piece's function still raises ``NotImplementedError`` (the stub)."""
    for node in ast.walk(ast.parse(section)):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return any(isinstance(raised, ast.Raise) and raised.exc is not None
                       and "NotImplementedError" in ast.unparse(raised.exc)
                       for raised in ast.walk(node))
    return False


def load(path: str | os.PathLike = FILE_NAME, *, verbose: bool = True) -> Kept:
    """Load the pieces kept in ``my_nst.py`` (see :func:`keep`) and say which are ready.

    Each section runs on its own, in one namespace, so a piece that fails leaves the others
    usable. Prints a table of the pieces, their notebooks and their status when ``verbose``.
    """
    path = Path(path)
    sections = _read_sections(path, aligned=True)
    filename = str(path.resolve())
    linecache.checkcache(filename)  # the file may have changed since it was last read
    module = types.ModuleType("my_nst", f"Your pieces, loaded from {path}.")
    module.__file__ = filename
    status: dict[str, str] = {}
    for name in _ALL:
        if name not in sections:
            status[name] = "not kept yet"
            continue
        try:
            exec(compile(sections[name], filename, "exec"), module.__dict__)  # noqa: S102
        except Exception as error:  # the learner's own code: say what, keep going
            status[name] = f"does not load: {type(error).__name__}: {error}".splitlines()[0]
        else:
            status[name] = "not done yet" if _is_stub(sections[name], name) else "kept"
    for name, state in status.items():
        if state not in ("kept", "not done yet"):
            setattr(module, name, _stand_in(name, state))
    kept = Kept(module, status)
    if verbose:
        print(f"your pieces, from {path}:")
        for name, state in status.items():
            print(f"  {name:<16} notebook {notebook_of(name):<4} {state}")
    return kept
