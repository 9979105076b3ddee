"""A check refuses an answer that calls the function its exercise asks for, and only that.

For every guarded exercise: the one-line answer that hands the work to the package is right
(the check without its guard accepts it), yet the check refuses it with "write this one
yourself"; the notebook's own solution passes. Then the ways around the guard (names bound
earlier, tf.function, catching the error) and what the guard must leave as it found it.
"""

import math
import pathlib
import sys
import threading

import keras
import nbformat
import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab import gram_matrix as bound_before  # a name bound before any check runs
from nstlab.classroom import checks, pieces
from nstlab.classroom.checks import CheckFailed, Solver, WriteItYourself, forbidding
from nstlab.fast import network as fast_network
from nstlab.fast.training import make_train_step
from nstlab.imaging import color
from nstlab.video import flow as video_flow
from nstlab.video import temporal

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"


def stylize_upsampling_for_you(small, content, style, size, steps):
    return nstlab.stylize(content, style, size=size, steps=steps, init=small, scales=None,
                          progress=False).image


def adam_from_keras(image, objective, state):
    optimizer = state.setdefault("adam", keras.optimizers.Adam(0.02, beta_1=0.99, epsilon=0.1))
    with tf.GradientTape() as tape:
        total, _ = objective(image)
    optimizer.apply_gradients([(tape.gradient(total, image), image)])
    image.assign(tf.clip_by_value(image, 0.0, 1.0))
    state["t"] += 1
    return total


def stylize_with_the_package(content, style, steps, content_layers, style_layers, weights):
    objective = nstlab.Objective(content, style, content_layers=content_layers,
                                 style_layers=style_layers, **weights)
    tf.function(objective)  # compiled, as the capstone asks: only the package is in the way
    image, history, _ = nstlab.optimize_pixels(objective, content, steps=steps,
                                               optimizer="adam", progress=False)
    return image, history.total


def train_step_from_the_package(model, objective, optimizer, photos):
    step = make_train_step(model, objective, optimizer, tf.distribute.get_strategy())
    return step(photos)[0]


def output_shape_by_running_vgg(height, width, layer):
    model = nstlab.engine.backbones.build_vgg("vgg16", layer, weights=None)
    return model.compute_output_shape((1, height, width, 3))[-1][1:]


# (check, a right answer that delegates, what the refusal names)
DELEGATES = [
    # the eight of issue 16
    ("check_gram_matrix", lambda f: nstlab.gram_matrix(f), "nstlab.gram_matrix"),
    ("check_content_loss", lambda f, t: nstlab.content_loss(f, t), "nstlab.content_loss"),
    ("check_style_loss", lambda f, t: nstlab.style_loss(f, t), "nstlab.style_loss"),
    ("check_preprocess", lambda image: nstlab.preprocess(image), "nstlab.preprocess"),
    ("check_total_variation", lambda image: tf.image.total_variation(tf.constant(image)),
     "tf.image.total_variation"),
    ("check_luminance", lambda image: color.luminance(image), "nstlab.imaging.color.luminance"),
    ("check_keep_colors", lambda stylized, content: color.transfer_luminance(stylized, content),
     "nstlab.imaging.color.transfer_luminance"),
    ("check_upsample_and_continue", stylize_upsampling_for_you,
     "nstlab.stylize upsampled your 16x16 px start image"),
    # the same hole, found in the review of the other checks
    ("check_preprocess", lambda image: keras.applications.vgg16.preprocess_input(image * 255.0),
     "keras.applications preprocess_input"),
    ("check_gram_matrix", lambda f: nstlab.engine.losses.masked_gram_matrix(
        f[np.newaxis], tf.ones((1, *f.shape[:2], 1)))[0],
     "nstlab.engine.losses.masked_gram_matrix"),
    ("check_luminance", lambda image: color.rgb_to_yiq(image)[..., 0],
     "nstlab.imaging.color.rgb_to_yiq"),
    ("check_match_colors", lambda source, reference: color.match_color_statistics(
        source, reference, clip=False), "nstlab.imaging.color.match_color_statistics"),
    ("check_train_step", adam_from_keras, "keras.optimizers.Adam"),
    # the exercises added when notebooks 05 and 06 were split
    ("check_tinted_start", lambda photo, painting: color.shift_mean_color(photo, painting),
     "nstlab.imaging.color.shift_mean_color"),
    ("check_masked_gram", lambda features, mask: nstlab.engine.losses.masked_gram_matrix(
        features[np.newaxis], mask[np.newaxis, ..., np.newaxis])[0],
     "nstlab.engine.losses.masked_gram_matrix"),
    ("check_output_shape", output_shape_by_running_vgg, "nstlab.engine.backbones.build_vgg"),
    ("check_my_style_transfer", stylize_with_the_package, "nstlab.Objective"),
    ("check_weighted_parts", lambda features, content_targets, style_targets, weights: {
        **{f"content/{name}": weights["content_weight"] * nstlab.content_loss(features[name], t)
           for name, t in content_targets.items()},
        **{f"style/{name}": weights["style_weight"] / len(style_targets)
           * nstlab.style_loss(features[name], t) for name, t in style_targets.items()}},
     "nstlab.content_loss"),
    # notebook 09
    ("check_instance_norm", lambda x, epsilon: fast_network.InstanceNormalization(epsilon)(x),
     "nstlab.fast.network.InstanceNormalization"),
    ("check_residual_block", lambda x, channels: fast_network.residual_block(x, channels),
     "nstlab.fast.network.residual_block"),
    ("check_fast_train_step", train_step_from_the_package,
     "nstlab.fast.training.make_train_step"),
    # notebook 10
    ("check_pair_warping_error",
     lambda frame, previous, flow, mask: temporal.pair_warping_error(frame, previous, flow, mask),
     "nstlab.video.temporal.pair_warping_error"),
    ("check_temporal_loss", lambda image, warped, mask: temporal.temporal_loss(image, warped, mask),
     "nstlab.video.temporal.temporal_loss"),
]


def _id(case):
    return f"{case[0]}-{case[2].split()[0]}"


@pytest.mark.parametrize(("name", "answer", "names"), DELEGATES, ids=map(_id, DELEGATES))
def test_a_right_answer_that_delegates_is_refused(monkeypatch, capsys, name, answer, names):
    check = getattr(checks, name)
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    assert check.__wrapped__(answer) is None  # right, as far as the values go
    with pytest.raises(CheckFailed, match=f"^write this one yourself: .*{names}"):
        check(answer)
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS")
    capsys.readouterr()
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("✗ ") and ": write this one yourself: " in out and names in out
    assert out.count("\n") == 1  # one line


# --------------------------------------------------------------------------- notebook solutions


def notebook_solution(notebook: str, function: str, **names):
    """The function defined by the notebook's exercise cell (its solution), ready to call.

    The notebook's solution cells are all defined, in order, in one namespace, as in the
    notebook: a solution that uses others finds them. ``names`` are the notebook's other
    names a solution needs (the capstone's loop: ``mine``, the pieces of 01-05a).
    """
    cells = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4).cells
    namespace = {"np": np, "tf": tf, "keras": keras, "nstlab": nstlab, "color": color,
                 "network": fast_network, "flow": video_flow, **names}
    for index, cell in enumerate(cells):
        if cell.cell_type == "code" and "### BEGIN SOLUTION" in cell.source:
            exec(compile(cell.source, f"{notebook}: cell {index}", "exec"), namespace)
    return namespace[function]


SOLUTIONS = {  # check -> (notebook, function)
    "check_preprocess": ("01_images_and_vgg_features", "preprocess"),
    "check_output_shape": ("01_images_and_vgg_features", "output_shape"),
    "check_content_loss": ("02_content_representation", "content_loss"),
    "check_gram_matrix": ("03_gram_matrices_and_style", "gram_matrix"),
    "check_style_loss": ("03_gram_matrices_and_style", "style_loss"),
    "check_total_variation": ("04_loss_functions", "total_variation"),
    "check_train_step": ("05a_the_gradient_step", "train_step"),
    "check_tinted_start": ("05b_optimisers_and_cost", "tinted_start"),
    "check_luminance": ("06a_colour", "luminance"),
    "check_keep_colors": ("06a_colour", "keep_colors"),
    "check_match_colors": ("06a_colour", "match_colors"),
    "check_upsample_and_continue": ("06b_smoothness_size_and_control",
                                    "upsample_and_continue"),
    "check_masked_gram": ("06b_smoothness_size_and_control", "masked_gram"),
    "check_my_style_transfer": ("07_capstone", "my_stylize"),
    "check_weighted_parts": ("08_per_layer_losses", "weighted_parts"),
    "check_instance_norm": ("09_fast_style_transfer", "instance_norm"),
    "check_residual_block": ("09_fast_style_transfer", "residual_block"),
    "check_fast_train_step": ("09_fast_style_transfer", "train_step"),
    "check_pair_warping_error": ("10_video_temporal_consistency", "pair_warping_error"),
    "check_temporal_loss": ("10_video_temporal_consistency", "temporal_loss"),
}


def test_exactly_these_checks_are_guarded():
    """The review of every check: the others have no package function that answers them (the
    answer is a choice, or a small computation of the learner's own)."""
    guarded = {name for name in checks.__all__ if getattr(getattr(checks, name), "solvers", ())}
    assert guarded == set(SOLUTIONS)
    assert {name for name, *_ in DELEGATES} == guarded


@pytest.mark.parametrize("name", sorted(SOLUTIONS))
def test_the_notebook_solution_passes(monkeypatch, capsys, keep_pieces, tmp_path, name):
    """Also where it uses another package function: style_loss calls nstlab.gram_matrix,
    keep_colors color.rgb_to_yiq, upsample_and_continue nstlab.stylize."""
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    names = {}
    if name == "check_my_style_transfer":
        names["mine"] = pieces.load(keep_pieces(tmp_path), verbose=False)
    assert getattr(checks, name)(notebook_solution(*SOLUTIONS[name], **names)) is True
    assert "correct" in capsys.readouterr().out


# --------------------------------------------------------------------------- ways around it

def sneaky_gram(features):
    try:
        return nstlab.gram_matrix(features)
    except Exception:
        return nstlab.gram_matrix(features)  # the first refusal removed Python's profile hook


@tf.function
def compiled_gram(features):
    return nstlab.gram_matrix(features)


@pytest.mark.parametrize(("name", "answer", "names"), [
    ("check_gram_matrix", lambda f: bound_before(f), "nstlab.gram_matrix"),
    ("check_gram_matrix", nstlab.gram_matrix, "nstlab.gram_matrix"),
    ("check_gram_matrix", sneaky_gram, "nstlab.gram_matrix"),
    ("check_gram_matrix", compiled_gram, "nstlab.gram_matrix"),
    ("check_total_variation", lambda image: tf.compat.v1.image.total_variation(tf.constant(image)),
     "tf.image.total_variation,"),
    ("check_total_variation", lambda image: nstlab.total_variation_loss(image),
     r"tf.image.total_variation \(through nstlab.engine.losses.total_variation_loss\)"),
    ("check_luminance", lambda image: color.grey_rgb(image)[..., 0],
     r"nstlab.imaging.color.luminance \(through nstlab.imaging.color.grey_rgb\)"),
    ("check_style_loss", lambda f, t: nstlab.engine.losses.style_loss(f, t), "nstlab.style_loss"),
], ids=["bound-before", "passed-itself", "error-caught", "tf.function", "tf.compat.v1",
        "through-total_variation_loss", "through-grey_rgb", "module-path"])
def test_every_way_to_the_function_is_refused(monkeypatch, name, answer, names):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match=names):
        getattr(checks, name)(answer)


def test_a_tf_function_traced_before_the_check_is_refused(monkeypatch):
    features = np.random.default_rng(5).uniform(0, 2, (4, 6, 5)).astype(np.float32)
    compiled_gram(features)  # traced: calling it again would run no Python
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match="nstlab.gram_matrix"):
        checks.check_gram_matrix(compiled_gram)


def test_stylize_going_coarse_to_fine_by_itself_is_refused(monkeypatch):
    def coarse_to_fine(small, content, style, size, steps):
        shape = nstlab.resize_image(content, 16).shape[:2]
        return nstlab.stylize(content, style, size=size, steps=steps, scales=[16, size],
                              init=nstlab.resize_image(small, shape), progress=False).image

    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(WriteItYourself, match=r"coarse to fine by itself \(sizes \[16, 40\]\)"):
        checks.check_upsample_and_continue(coarse_to_fine)


# --------------------------------------------------------------------------- what it leaves


def gram_then_crash(features):
    nstlab.gram_matrix(features)
    raise ValueError("my own bug")


def crash(features):
    raise ValueError("my own bug")


@pytest.mark.parametrize(("answer", "printed"), [
    (lambda f: nstlab.gram_matrix(f), "write this one yourself"),
    (gram_then_crash, "write this one yourself"),
    (crash, "your code raised ValueError: my own bug"),
])
def test_the_guard_restores_everything(monkeypatch, capsys, answer, printed):
    monkeypatch.delenv("NSTLAB_STRICT_CHECKS", raising=False)
    calls = []

    def outer_profile(frame, event, arg):  # a profiler the learner was running already
        calls.append(event)

    package_function = nstlab.engine.losses.gram_matrix
    sys.setprofile(outer_profile)
    try:
        assert checks.check_gram_matrix(answer) is False
        restored = sys.getprofile()
    finally:
        sys.setprofile(None)
    assert restored is outer_profile
    assert printed in capsys.readouterr().out
    assert tf.config.functions_run_eagerly() is False
    assert nstlab.gram_matrix is package_function is nstlab.engine.losses.gram_matrix
    np.testing.assert_allclose(nstlab.gram_matrix(np.ones((2, 3, 4), np.float32)),
                               np.ones((4, 4)))
    assert checks.check_gram_matrix(notebook_solution("03_gram_matrices_and_style",
                                                      "gram_matrix")) is True


def test_forbidding_refuses_in_its_own_thread_only():
    features = np.ones((2, 2, 3), np.float32)
    elsewhere = []
    with pytest.raises(WriteItYourself, match="your function calls nstlab.gram_matrix"):
        with forbidding([Solver("nstlab.gram_matrix")]):
            thread = threading.Thread(target=lambda: elsewhere.append(
                nstlab.gram_matrix(features)))
            thread.start()
            thread.join()
            nstlab.gram_matrix(features)
    assert len(elsewhere) == 1 and math.isclose(float(elsewhere[0][0, 0]), 1.0)


def test_a_solver_must_be_python_code():
    with pytest.raises(TypeError, match="not a Python function"):
        _ = Solver("math.isqrt").code
