"""The course a class is graded against: the source notebooks, their exercises, and which
course notebook a submitted file is.

The exercises come from the source notebooks (``--notebooks``): each solution cell and its
check cell (:func:`nstlab.classroom.exercises.find_exercises`). The check cell also says
*what* to grade: ``nstlab.classroom.checks.check_gram_matrix(gram_matrix)`` means "judge the
student's ``gram_matrix`` with ``check_gram_matrix``". Those argument expressions are read
from the teacher's notebook, never from the student's.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

from nstlab.base.messages import one_line
from nstlab.classroom.exercises import CHECK_CALL, Exercise, ExerciseFormatError, find_exercises


class GradeError(ValueError):
    """Bad input for grading as a whole (a missing folder, a course without exercises)."""


@dataclasses.dataclass(frozen=True)
class Task:
    """What the grader does for one exercise: call ``check`` on the values of ``arguments``.

    ``arguments`` are Python expressions, evaluated in the student's notebook (in the
    sandbox), e.g. ``("gram_matrix",)`` or ``("my_stylize", "pieces")``.
    """

    exercise: Exercise
    arguments: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.exercise.name

    @property
    def check(self) -> str:
        return self.exercise.check


@dataclasses.dataclass(frozen=True)
class CourseNotebook:
    """A source notebook and what to grade in it, exercise by exercise, in order."""

    name: str
    tasks: tuple[Task, ...]

    @property
    def checks(self) -> frozenset[str]:
        return frozenset(task.check for task in self.tasks)


def check_arguments(source: str, check: str) -> tuple[str, ...]:
    """The argument expressions of the call of ``check`` in a check cell's ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ExerciseFormatError(f"the check cell of {check} is not Python ({error})") \
            from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == check and not node.keywords:
            return tuple(ast.unparse(argument) for argument in node.args)
    raise ExerciseFormatError(f"the check cell of {check} should call it with positional "
                              "arguments only")


def load_course(notebooks_dir="notebooks") -> list[CourseNotebook]:
    """The source notebooks in ``notebooks_dir`` that have exercises."""
    import nbformat

    folder = Path(notebooks_dir)
    if not folder.is_dir():
        raise GradeError(f"source notebooks folder '{folder}' not found (see --notebooks)")
    course = []
    for path in sorted(folder.glob("*.ipynb")):
        try:
            notebook = nbformat.read(path, as_version=4)
            tasks = tuple(
                Task(exercise, check_arguments(notebook.cells[exercise.check_cell].source,
                                               exercise.check))
                for exercise in find_exercises(notebook))
        except (ExerciseFormatError, ValueError, OSError) as error:
            raise GradeError(f"source notebook {path}: {one_line(error)}") from None
        if tasks:
            course.append(CourseNotebook(path.name, tasks))
    if not course:
        raise GradeError(f"no source notebooks with exercises in '{folder}' (see --notebooks)")
    return course


def match(course: list[CourseNotebook], file_name: str, cells) -> CourseNotebook | None:
    """The course notebook a submission is: the one whose checks it calls, else by name.

    ``cells`` are the submission's cells (:class:`~nstlab.classroom.grading.submissions.Cell`),
    or None when it could not be read.
    """
    if cells is not None:
        code = "\n".join(cell.source for cell in cells if cell.kind == "code")
        calls = set(CHECK_CALL.findall(code))
        best = max(course, key=lambda source: (len(calls & source.checks),
                                               source.name == file_name))
        if calls & best.checks:
            return best
    return next((source for source in course if source.name == file_name), None)


def check_cells(cells, course_notebook: CourseNotebook) -> dict[int, list[str]]:
    """``{cell index: [check names]}``: the cells of a submission that call exercise checks.

    The grader judges an exercise when the notebook reaches the first cell calling its
    check (in place of running that cell).
    """
    wanted = course_notebook.checks
    found: dict[int, list[str]] = {}
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        if cell.kind != "code":
            continue
        for check in CHECK_CALL.findall(cell.source):
            if check in wanted and check not in taken:
                found.setdefault(index, []).append(check)
                taken.add(check)
    return found
