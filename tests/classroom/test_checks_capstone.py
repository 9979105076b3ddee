"""The capstone of notebook 07: style transfer from the learner's own pieces.

The pieces come as the learner's Run All of 01-05a keeps them in my_nst.py (the reference
answers, or the student copy's stubs: :func:`keep_reference_pieces`), and the loop from the
capstone notebook itself. The notebooks as a whole run in tests/classroom/test_capstone_run.py.
"""

import pathlib

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom import pieces as kept_pieces
from nstlab.classroom.checks import CheckFailed, WriteItYourself, capstone
from nstlab.classroom.exercises import student_copy

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "07_capstone.ipynb"


def capstone_namespace(keep_pieces, folder: pathlib.Path, student: bool = False) -> dict:
    """The names the capstone cells of notebook 07 define, run as in the notebook: the
    layers and weights, ``mine`` (the pieces loaded from my_nst.py) and ``my_stylize``.

    ``student=True``: a student who has not started, whose every piece and loop is a stub.
    """
    path = keep_pieces(folder, stubs=set(kept_pieces.PIECES) if student else ())
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if student:
        notebook = student_copy(notebook)
    cells = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    first = next(i for i, source in enumerate(cells) if "CONTENT_LAYERS = [" in source)
    last = next(i for i, source in enumerate(cells) if "check_my_style_transfer(" in source)
    namespace = {"np": np, "nstlab": nstlab}
    for source in cells[first:last]:
        source = source.replace("nstlab.classroom.pieces.load()",
                                f"nstlab.classroom.pieces.load({str(path)!r}, verbose=False)")
        exec(compile(source, NOTEBOOK.name, "exec"), namespace)
    return namespace


def reference_source(function: str) -> str:
    """The source notebook's cell that defines ``function``."""
    return next(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells
                if cell.source.startswith(f"def {function}("))


@pytest.fixture(scope="module")
def reference(keep_pieces, tmp_path_factory):
    return capstone_namespace(keep_pieces, tmp_path_factory.mktemp("reference"))


@pytest.fixture
def mine(reference):
    return reference["mine"]


@pytest.fixture
def strict(monkeypatch):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")


def test_the_loop_is_checked_with_the_pieces_kept_from_01_to_05a(mine):
    assert mine.complete
    assert [piece.__name__ for piece in mine.functions] == list(capstone.PIECES)


def test_the_reference_pieces_give_the_package_loss_within_5_percent(reference, mine, strict,
                                                                     capsys):
    """The reference answers of 01-05a, kept in my_nst.py, and the capstone's loop: the check
    runs them on the 64 px photo and painting and compares with the package."""
    assert nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"],
                                                           mine.functions) is True
    out = capsys.readouterr().out
    assert "your style transfer: correct!" in out
    ratio = float(out.split("the package's loss of your image is ")[1].split("%")[0]) / 100
    assert abs(ratio - 1) <= capstone.CAPSTONE_TOLERANCE
    _, at_start, package = capstone.package_run()
    assert package < at_start  # the package's own run makes progress in these steps


def test_a_loop_that_is_not_compiled_is_told_so(reference, mine, strict):
    namespace = dict(reference)
    exec(reference_source("my_stylize").replace("    @tf.function\n", ""), namespace)
    with pytest.raises(CheckFailed, match="^my_stylize made no tf.function while it ran"):
        nstlab.classroom.checks.check_my_style_transfer(namespace["my_stylize"],
                                                        mine.functions)


def test_the_feature_model_matches_the_extractor(mine, strict):
    assert nstlab.classroom.checks.check_feature_model(mine.feature_model) is True


def test_a_feature_model_with_outputs_in_network_order_is_refused(strict):
    def in_network_order(layers):
        vgg = nstlab.engine.backbones.build_vgg("vgg16")
        ordered = sorted(layers, key=nstlab.layer_names("vgg16").index)
        return keras.Model(vgg.input, [vgg.get_layer(name).output for name in ordered])

    with pytest.raises(CheckFailed, match="keep the outputs in the order of `layers`"):
        nstlab.classroom.checks.check_feature_model(in_network_order)


def test_a_student_copy_says_which_pieces_are_left(keep_pieces, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)
    student = capstone_namespace(keep_pieces, tmp_path, student=True)
    capsys.readouterr()
    assert nstlab.classroom.checks.check_my_style_transfer(student["my_stylize"],
                                                           student["mine"].functions) is False
    out = capsys.readouterr().out
    assert out.startswith("… your style transfer: not done yet (still to write: "
                          f"{', '.join(capstone.PIECES)}, my_stylize).")
    assert out.count("\n") == 1


def test_a_written_piece_waiting_for_a_stub_names_the_stub(keep_pieces, tmp_path, mine):
    path = keep_pieces(tmp_path, stubs={"gram_matrix"})
    waiting = kept_pieces.load(path, verbose=False)
    assert waiting.status["gram_matrix"] == "not done yet"
    assert waiting.status["style_loss"] == "kept"  # written, but its gram_matrix is a stub
    assert capstone.unfinished([waiting.style_loss]) == ["gram_matrix"]
    assert capstone.unfinished(mine.functions) == []


def test_a_piece_that_delegates_to_the_package_is_refused(reference, mine, strict, monkeypatch):
    """The pieces are looked up in my_nst.py by name: swap one for the package's own."""
    monkeypatch.setattr(mine.module, "gram_matrix",
                        lambda features: nstlab.gram_matrix(features))
    with pytest.raises(WriteItYourself, match="^write this one yourself: your function calls "
                                              "nstlab.gram_matrix, which does one of the "
                                              "pieces for you"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"])


def test_a_loop_with_keras_adam_is_refused(reference, mine, strict, monkeypatch):
    def train_step(image, objective, state):
        optimizer = state.setdefault("adam", keras.optimizers.Adam(0.02, beta_1=0.99,
                                                                   epsilon=0.1))
        with tf.GradientTape() as tape:
            total, _ = objective(image)
        optimizer.apply_gradients([(tape.gradient(total, image), image)])
        image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return total

    monkeypatch.setattr(mine.module, "train_step", train_step)
    with pytest.raises(WriteItYourself, match="keras.optimizers.Adam"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"])


def test_a_loop_with_other_weights_says_the_loss_differs(reference, strict):
    namespace = dict(reference)
    body = "    ### BEGIN SOLUTION\n"
    change = "weights = {**weights, 'style_weight': 1.0}"
    exec(reference_source("my_stylize").replace(body, f"{body}    {change}\n"), namespace)
    with pytest.raises(CheckFailed, match="do not add up to the same loss"):
        nstlab.classroom.checks.check_my_style_transfer(namespace["my_stylize"])


def test_a_piece_in_numpy_is_named_when_the_gradient_is_lost(reference, mine, strict,
                                                             monkeypatch):
    """Notebook 02's answer: right values, but the tape cannot see through NumPy."""
    def content_loss(features, target):
        difference = np.asarray(features, np.float64) - np.asarray(target, np.float64)
        return np.mean(difference**2)

    monkeypatch.setattr(mine.module, "content_loss", content_loss)
    assert capstone.cuts_the_gradient(mine.functions) == ["content_loss"]
    with pytest.raises(CheckFailed, match="cannot follow the pixels through content_loss"):
        nstlab.classroom.checks.check_my_style_transfer(reference["my_stylize"], mine.functions)
