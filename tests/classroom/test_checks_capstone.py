"""The capstone of notebook 07: style transfer from the learner's own pieces.

The pieces and the loop are taken from the notebook itself: the source notebook holds the
reference solutions, and its student copy (:func:`nstlab.classroom.exercises.student_copy`)
the stubs.
The notebook as a whole runs under nbval (the source) and in tests/test_notebooks.py (the
student copy, to the end).
"""

import pathlib

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom.checks import CheckFailed, WriteItYourself, capstone
from nstlab.classroom.exercises import BEGIN, student_copy

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "07_capstone.ipynb"


def capstone_namespace(student: bool = False) -> dict:
    """The names the capstone cells of notebook 07 define: the layers and weights, every
    piece, ``my_stylize`` and the list ``pieces``, run as in the notebook.

    ``student=True`` takes them from the student copy, where every solution is a stub.
    """
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if student:
        notebook = student_copy(notebook)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    first = next(i for i, source in enumerate(cells) if "CONTENT_LAYERS = [" in source)
    last = next(i for i, source in enumerate(cells) if "check_my_style_transfer(" in source)
    namespace = {"np": np, "nstlab": nstlab}
    for source in cells[first:last + 1]:
        # without the check calls: the tests call the checks themselves
        source = "\n".join(line for line in source.splitlines()
                           if "nstlab.classroom.checks.check_" not in line)
        exec(compile(source, NOTEBOOK.name, "exec"), namespace)
    return namespace


def reference_source(function: str) -> str:
    """The source notebook's cell that defines ``function``."""
    return next(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells
                if cell.source.startswith(f"def {function}("))


@pytest.fixture(scope="module")
def reference():
    return capstone_namespace()


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")


def test_the_pieces_are_the_exercises_of_the_capstone(reference):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    solved = [cell.source.split("(")[0].removeprefix("def ") for cell in notebook.cells
              if cell.cell_type == "code" and BEGIN in cell.source]
    assert [piece.__name__ for piece in reference["pieces"]] == list(capstone.PIECES)
    assert set(capstone.PIECES) | {"my_stylize"} <= set(solved)


def test_the_reference_pieces_give_the_package_loss_within_5_percent(reference, strict, capsys):
    """The source notebook's pieces are the student copy filled with the reference: the
    check runs them on the 64 px photo and painting and compares with the package."""
    assert nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"],
                                                 reference["pieces"]) is True
    out = capsys.readouterr().out
    assert "your style transfer: correct!" in out
    ratio = float(out.split("the package's loss of your image is ")[1].split("%")[0]) / 100
    assert abs(ratio - 1) <= capstone.CAPSTONE_TOLERANCE
    _, at_start, package = capstone.package_run()
    assert package < at_start  # the package's own run makes progress in these steps


def test_the_feature_model_matches_the_extractor(reference, strict):
    assert nstlab.classroom.checks.check_feature_model(reference["feature_model"]) is True


def test_a_feature_model_with_outputs_in_network_order_is_refused(strict):
    def in_network_order(layers):
        vgg = nstlab.engine.backbones.build_vgg("vgg16")
        ordered = sorted(layers, key=nstlab.layer_names("vgg16").index)
        return keras.Model(vgg.input, [vgg.get_layer(name).output for name in ordered])

    with pytest.raises(CheckFailed, match="keep the outputs in the order of `layers`"):
        nstlab.classroom.checks.check_feature_model(in_network_order)


def test_a_student_copy_says_which_pieces_are_left(capsys, monkeypatch):
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)
    student = capstone_namespace(student=True)
    assert nstlab.classroom.checks.check_my_style_transfer(student["my_stylize"],
                                                 student["pieces"]) is False
    out = capsys.readouterr().out
    assert out.startswith("… your style transfer: not done yet (still to write: "
                          f"{', '.join(capstone.PIECES)}, my_stylize).")
    assert out.count("\n") == 1


def test_a_written_piece_waiting_for_a_stub_names_the_stub(reference):
    student = capstone_namespace(student=True)
    assert capstone.unfinished(student["pieces"]) == list(capstone.PIECES)
    exec(reference_source("style_loss"), student)  # written, but its gram_matrix is a stub
    assert capstone.unfinished([student["style_loss"]]) == ["gram_matrix"]
    assert capstone.unfinished(reference["pieces"]) == []


def test_a_piece_that_delegates_to_the_package_is_refused(reference, strict, monkeypatch):
    """my_stylize looks its pieces up by name: swap one for the package's own."""
    monkeypatch.setitem(reference, "gram_matrix", lambda features: nstlab.gram_matrix(features))
    with pytest.raises(WriteItYourself, match="^write this one yourself: your function calls "
                                              "nstlab.gram_matrix, which does one of the "
                                              "pieces for you"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"])


def test_a_loop_with_keras_adam_is_refused(reference, strict, monkeypatch):
    def train_step(image, objective, state):
        optimizer = state.setdefault("adam", keras.optimizers.Adam(0.02, beta_1=0.99,
                                                                   epsilon=0.1))
        with tf.GradientTape() as tape:
            total, _ = objective(image)
        optimizer.apply_gradients([(tape.gradient(total, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return total

    monkeypatch.setitem(reference, "train_step", train_step)
    with pytest.raises(WriteItYourself, match="keras.optimizers.Adam"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"])


def test_a_loop_with_other_weights_says_the_loss_differs(reference, strict):
    namespace = dict(reference)
    body = "    ### BEGIN SOLUTION\n"
    change = "weights = {**weights, 'style_weight': 1.0}"
    exec(reference_source("my_stylize").replace(body, f"{body}    {change}\n"), namespace)
    with pytest.raises(CheckFailed, match="do not add up to the same loss"):
        nstlab.classroom.checks.check_my_style_transfer(namespace["my_stylize"])


def test_a_piece_in_numpy_is_named_when_the_gradient_is_lost(reference, strict, monkeypatch):
    """Notebook 02's answer: right values, but the tape cannot see through NumPy."""
    def content_loss(features, target):
        difference = np.asarray(features, np.float64) - np.asarray(target, np.float64)
        return np.mean(difference**2)

    monkeypatch.setitem(reference, "content_loss", content_loss)
    pieces = [content_loss if piece.__name__ == "content_loss" else piece
              for piece in reference["pieces"]]
    assert capstone.cuts_the_gradient(pieces) == ["content_loss"]
    with pytest.raises(CheckFailed, match="cannot follow the pixels through content_loss"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"], pieces)
