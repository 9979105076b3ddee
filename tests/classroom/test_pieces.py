"""Keeping the learner's pieces in my_nst.py, and loading them in the capstone.

A function is defined as a notebook cell defines it (the ``define`` fixture of conftest.py),
so that ``inspect.getsource`` reads it.
"""

import pathlib

import nbformat
import numpy as np
import pytest
import tensorflow as tf

from nstlab.classroom import pieces
from nstlab.classroom.exercises import BEGIN, find_exercises

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"


def notebook_namespace() -> dict:
    return {"__name__": "__main__", "tf": tf, "np": np}


def keep_cells(define, path, *sources) -> None:
    """Run each cell, then keep the piece it defines, as its check cell would."""
    namespace = notebook_namespace()
    for source in sources:
        define(source, namespace)
        pieces.keep(namespace[source.split("def ")[1].split("(")[0]], path)


# --------------------------------------------------------------------------- the course


@pytest.mark.parametrize("name", list({**pieces.PIECES, **pieces.EXTRA_PIECES}))
def test_each_piece_is_written_once_in_its_notebook_and_kept_by_its_check_cell(
        name, exercise_source):
    """No answer is pasted twice: one exercise of the whole course defines each piece."""
    stem, _ = exercise_source(name)
    assert stem.split("_")[0] == pieces.notebook_of(name)
    notebook = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    exercise = next(e for e in find_exercises(notebook) if e.name == name)
    check_cell = notebook.cells[exercise.check_cell].source
    assert f"nstlab.classroom.pieces.keep({name})" in check_cell


def test_the_capstone_defines_no_piece_of_its_own():
    notebook = nbformat.read(NOTEBOOKS / "07_capstone.ipynb", as_version=4)
    solved = [cell.source for cell in notebook.cells if BEGIN in cell.source]
    for name in {**pieces.PIECES, **pieces.EXTRA_PIECES}:
        assert not any(f"def {name}(" in source for source in solved), name


# --------------------------------------------------------------------------- keep


def test_keep_writes_the_piece_with_its_imports_helpers_and_constants(tmp_path, capsys, define):
    namespace = {**notebook_namespace(), "EPS": 1e-6}
    define("def flatten(features):\n    return tf.reshape(features, (-1, features.shape[-1]))\n"
           "\n\ndef gram_matrix(features):\n    flat = flatten(features)\n"
           "    return tf.matmul(flat, flat, transpose_a=True) / flat.shape[0] + EPS\n",
           namespace)
    path = pieces.keep(namespace["gram_matrix"], tmp_path / "my_nst.py")
    assert capsys.readouterr().out == "kept gram_matrix in my_nst.py for the capstone (07)\n"
    text = path.read_text()
    assert "import tensorflow as tf\n" in text
    assert "def flatten(features):" in text and "EPS = 1e-06\n" in text
    mine = pieces.load(path, verbose=False)
    features = np.arange(12, dtype=np.float32).reshape(2, 2, 3)
    np.testing.assert_allclose(mine.gram_matrix(features),
                               namespace["gram_matrix"](features), rtol=1e-6)


def test_keeping_again_replaces_the_section_and_keeps_the_course_order(tmp_path, define):
    path = tmp_path / "my_nst.py"
    keep_cells(define, path, "def total_loss(parts, weights):\n    return 1.0\n",
               "def preprocess(image):\n    return image\n",
               "def total_loss(parts, weights):\n    return 2.0\n")
    text = path.read_text()
    assert text.count("def total_loss(") == 1 and "return 2.0" in text
    assert text.index("def preprocess(") < text.index("def total_loss(")
    assert pieces.load(path, verbose=False).total_loss({}, {}) == 2.0


def test_a_piece_under_tf_function_is_kept_with_its_decorator(tmp_path, define):
    namespace = notebook_namespace()
    define("@tf.function\ndef content_loss(features, target):\n"
           "    return tf.reduce_mean(tf.square(features - target))\n", namespace)
    pieces.keep(namespace["content_loss"], tmp_path / "my_nst.py")
    mine = pieces.load(tmp_path / "my_nst.py", verbose=False)
    assert float(mine.content_loss(tf.ones(3), tf.zeros(3))) == 1.0
    assert "@tf.function" in (tmp_path / "my_nst.py").read_text()


def test_what_cannot_go_into_the_file_is_named(tmp_path, capsys, define):
    namespace = {**notebook_namespace(), "target": tf.ones(3)}
    define("def content_loss(features, unused):\n"
           "    return tf.reduce_mean(tf.square(features - target))\n", namespace)
    pieces.keep(namespace["content_loss"], tmp_path / "my_nst.py")
    assert ("content_loss uses the notebook's target (a EagerTensor), which cannot go into "
            "my_nst.py: compute it inside the function") in capsys.readouterr().out


def test_only_the_capstone_pieces_are_kept(tmp_path, define):
    namespace = notebook_namespace()
    define("def my_helper(x):\n    return x\n", namespace)
    with pytest.raises(pieces.PieceError, match="^keep\\(\\) keeps the capstone's pieces"):
        pieces.keep(namespace["my_helper"], tmp_path / "my_nst.py")
    with pytest.raises(pieces.PieceError):
        pieces.keep(lambda x: x, tmp_path / "my_nst.py")
    assert not (tmp_path / "my_nst.py").exists()


# --------------------------------------------------------------------------- load


def test_without_the_file_every_piece_says_where_to_write_it(tmp_path, capsys):
    mine = pieces.load(tmp_path / "my_nst.py")
    out = capsys.readouterr().out
    assert "  gram_matrix      notebook 03   not kept yet\n" in out
    assert not mine.complete
    with pytest.raises(NotImplementedError, match="^gram_matrix is not kept yet: write it in "
                                                  "notebook 03 and run its check cell$"):
        mine.gram_matrix(np.ones((2, 2, 3)))


def test_a_broken_section_leaves_the_others_usable(tmp_path, define):
    path = tmp_path / "my_nst.py"
    keep_cells(define, path, "def preprocess(image):\n    return image\n",
               "def content_loss(features, target):\n    return 0.0\n")
    path.write_text(path.read_text().replace("return image", "return image +"))
    mine = pieces.load(path, verbose=False)
    assert mine.status["preprocess"].startswith("does not load: SyntaxError")
    assert mine.status["content_loss"] == "kept"
    assert mine.content_loss(1, 2) == 0.0
    with pytest.raises(NotImplementedError, match="^preprocess in my_nst.py does not load: "
                                                  "SyntaxError: .* mend it in notebook 01"):
        mine.preprocess(1)


def test_the_reference_answers_load_complete_and_a_stub_is_not_done_yet(tmp_path, keep_pieces):
    path = keep_pieces(tmp_path, stubs={"style_loss"})
    mine = pieces.load(path, verbose=False)
    assert mine.status["style_loss"] == "not done yet"
    assert {name for name, state in mine.status.items() if state != "kept"} == {"style_loss"}
    assert [function.__name__ for function in mine.functions] == list(pieces.PIECES)
    assert not mine.complete
    with pytest.raises(AttributeError, match="my_nst.py keeps"):
        mine.my_stylize  # noqa: B018


def test_a_function_whose_source_is_gone_is_not_kept_and_the_notebook_goes_on(tmp_path, capsys):
    namespace = notebook_namespace()
    exec("def preprocess(image):\n    return image\n", namespace)  # no source kept anywhere
    assert pieces.keep(namespace["preprocess"], tmp_path / "my_nst.py") is None
    assert capsys.readouterr().out == ("not kept: cannot read the source of preprocess: "
                                       "define it in a notebook cell with def\n")
    assert not (tmp_path / "my_nst.py").exists()


def test_a_loaded_piece_has_its_source_for_autograph(tmp_path, define):
    """tf.function's AutoGraph reads the source of the functions it converts: a piece loaded
    from my_nst.py must give its own lines, not those of another section."""
    import inspect

    path = tmp_path / "my_nst.py"
    keep_cells(define, path, "def preprocess(image):\n    return image * 2.0\n",
               "def content_loss(features, target):\n"
               "    return tf.reduce_mean(tf.square(features - target))\n")
    mine = pieces.load(path, verbose=False)
    assert inspect.getsource(mine.content_loss).startswith("def content_loss(")
    compiled = tf.function(lambda x: mine.content_loss(mine.preprocess(x), x))
    assert float(compiled(tf.ones(3))) == 1.0
    assert "tf__content_loss" in tf.autograph.to_code(mine.content_loss)  # converted
