"""The refusing nstlab the sandbox sees is built outside, from the package's source."""

import numpy as np

from nstlab.classroom.checks import Solver
from nstlab.classroom.grading import overlay


def test_a_solvers_body_raises_write_it_yourself(tmp_path):
    solver = Solver("nstlab.imaging.color.luminance")
    pairs = overlay.refusing_files([solver], tmp_path)
    made, hidden = pairs[0]
    assert hidden.endswith("nstlab/imaging/color.py")
    namespace = {"__name__": "nstlab.imaging.color_refusing"}
    exec(compile(open(made).read(), made, "exec"), namespace)  # noqa: S102
    try:
        namespace["luminance"](np.ones((2, 2, 3)))
    except PermissionError as error:
        assert str(error).startswith(overlay.REFUSAL + " your function calls "
                                     "nstlab.imaging.color.luminance")
    else:
        raise AssertionError("the refusing luminance ran")
    assert namespace["rgb_to_yiq"](np.ones((1, 1, 3))).shape == (1, 1, 3)  # others untouched
    assert all(made == str(tmp_path / "empty") for made, _ in pairs[1:])  # over the .pyc


def test_a_solver_refused_only_for_some_calls_is_left_alone(tmp_path):
    solver = Solver("nstlab.imaging.color.luminance", when=lambda arguments: None)
    assert overlay.refusing_files([solver], tmp_path) == []


def test_the_checks_stub_has_every_check_and_no_answers(tmp_path):
    import nstlab.classroom.checks as checks

    ((made, hidden),) = overlay.checks_stub(tmp_path)
    source = open(f"{made}/__init__.py").read()
    assert hidden.endswith("nstlab/classroom/checks")
    assert "SAME_GRAM_CANDIDATES" not in source
    namespace = {}
    exec(source, namespace)  # noqa: S102
    assert all(namespace[name](print) is None for name in checks.__all__
               if name.startswith("check_"))
