"""stylize() and the optimisation loops on real images (small, few steps)."""

import json
import warnings

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.engine.optimize import STOP_CALLBACK, STOP_COMPLETED, STOP_INTERRUPTED, STOP_NON_FINITE
from nstlab.imaging.images import load_image


@pytest.fixture(scope="module")
def run_128(photo_path, starry_path):
    """The foundation issue's example: 128 px, 50 steps, seed 0 (run twice)."""
    first = nstlab.stylize(photo_path, starry_path, size=128, steps=50, seed=0, progress=False)
    second = nstlab.stylize(photo_path, starry_path, size=128, steps=50, seed=0, progress=False)
    return first, second


def test_stylize_gives_a_finite_image_with_the_photos_aspect(run_128, photo_path):
    result, _ = run_128
    photo = load_image(photo_path)
    height, width = result.image.shape[:2]
    assert max(height, width) == 128 and result.image.shape[2] == 3
    assert height / width == pytest.approx(photo.shape[0] / photo.shape[1], rel=0.02)
    assert result.image.dtype == np.float32
    assert np.all(np.isfinite(result.image))
    assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    assert result.stop_reason == STOP_COMPLETED and result.completed


def test_style_loss_falls_below_a_fifth(run_128):
    result, _ = run_128
    style = result.history.style_total()
    assert style[-1] < style[0] / 5


def test_same_seed_same_image(run_128):
    first, second = run_128
    np.testing.assert_allclose(first.image, second.image, atol=1e-6)


def test_history_has_one_array_per_layer_as_long_as_total(run_128):
    history = run_128[0].history
    assert len(history) == 50 == len(history.total) == len(history.tv) == len(history.time)
    assert list(history.style) == list(nstlab.engine.losses.DEFAULT_STYLE_LAYERS)
    assert list(history.content) == ["block4_conv2"]
    for values in [*history.style.values(), *history.content.values()]:
        assert values.shape == history.total.shape
    parts_sum = history.style_total() + history.content_total() + history.tv
    np.testing.assert_allclose(parts_sum, history.total, rtol=1e-4)
    assert np.all(np.diff(history.time) >= 0)


def test_history_round_trips_through_json(run_128):
    history = run_128[0].history
    restored = nstlab.History.from_dict(json.loads(json.dumps(history.to_dict())))
    np.testing.assert_array_equal(restored.total, history.total)
    np.testing.assert_array_equal(restored.style["block3_conv1"], history.style["block3_conv1"])


def test_result_saves_a_loadable_image(run_128, tmp_path):
    path = run_128[0].save(tmp_path / "out.png")
    assert np.abs(load_image(path) - run_128[0].image).max() <= 1 / 255 + 1e-6


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_both_optimizers_halve_the_style_loss_in_30_steps(optimizer, photo_64, starry_64):
    result = nstlab.stylize(photo_64, starry_64, size=None, steps=30, optimizer=optimizer,
                            progress=False)
    style = result.history.style_total()
    assert len(style) == 30
    assert style[-1] < style[0] / 2


def test_lbfgs_smoothing_zero_is_textbook_lbfgs_and_is_recorded(photo_64, starry_64):
    runs = {levels: nstlab.stylize(photo_64, starry_64, size=None, steps=5,
                                   lbfgs_smoothing=levels, progress=False)
            for levels in (0, 5)}
    for levels, result in runs.items():
        assert result.settings["lbfgs_smoothing"] == levels
        assert result.history.total[-1] < result.history.total[0]
    assert np.abs(runs[0].image - runs[5].image).max() > 1e-3
    for bad in (-1, 2.5, None):
        with pytest.raises(ValueError, match="lbfgs_smoothing must be a whole number"):
            nstlab.stylize(photo_64, starry_64, size=None, steps=1, lbfgs_smoothing=bad,
                           progress=False)


@pytest.mark.parametrize(("option", "value"), [("lbfgs_history", 0), ("lbfgs_history", 2.5),
                                               ("lbfgs_smoothing", -1)])
def test_lbfgs_settings_are_checked_before_any_work(tmp_path, option, value):
    # The images do not exist: the setting's error must come first, before loading anything.
    missing = tmp_path / "missing.jpg"
    with pytest.raises(ValueError, match=f"{option} must be a whole number"):
        nstlab.stylize(missing, missing, progress=False, **{option: value})


@pytest.mark.parametrize("init", ["tinted", "content", "noise", "style"])
def test_inits_start_where_they_say(init, photo_64, starry_64):
    seen = []
    result = nstlab.stylize(photo_64, starry_64, size=48, steps=2, optimizer="adam", init=init,
                            progress=False, callbacks=[lambda info: seen.append(info.image)])
    photo = load_image(photo_64, max_size=48)
    assert result.image.shape == photo.shape
    # One Adam step of 0.02 moves each pixel by at most about 0.02 from where it started.
    start = seen[0]
    painting = nstlab.resize_image(load_image(starry_64), 48)
    expected = {"tinted": nstlab.imaging.color.shift_mean_color(photo, painting), "content": photo,
                "style": nstlab.resize_image(painting, photo.shape[:2])}
    if init == "noise":
        assert start.std() > 0.2
    else:
        assert np.abs(start - expected[init]).mean() < 0.03
    if init == "tinted":  # Starry Night is darker and bluer than the photo: a real shift
        assert np.abs(photo.mean(axis=(0, 1)) - painting.mean(axis=(0, 1))).max() > 0.05


def test_tinted_is_the_default_and_falls_back_to_the_content_under_masks(photo_64, starry_64):
    def first_image(**options):
        seen = []
        nstlab.stylize(photo_64, starry_64, size=None, steps=1, optimizer="adam",
                       progress=False, callbacks=[lambda info: seen.append(info.image)],
                       **options)
        return seen[0]

    tinted = nstlab.imaging.color.shift_mean_color(photo_64, starry_64)
    assert np.abs(first_image() - tinted).mean() < 0.03
    mask = np.ones(photo_64.shape[:2], np.float32)
    assert np.abs(first_image(style_masks=[mask]) - photo_64).mean() < 0.03


def test_noise_init_is_seeded(photo_64, starry_64):
    def run(seed):
        return nstlab.stylize(photo_64, starry_64, size=32, steps=2, init="noise", seed=seed,
                              optimizer="adam", progress=False).image

    np.testing.assert_allclose(run(3), run(3), atol=1e-6)
    assert np.abs(run(3) - run(4)).mean() > 0.05


def test_callback_can_stop_early(photo_64, starry_64):
    calls = []

    def stop_at_three(info):
        calls.append((info.step, info.total, sorted(info.parts)))
        return info.step == 3

    result = nstlab.stylize(photo_64, starry_64, size=32, steps=20, callbacks=[stop_at_three],
                            progress=False)
    assert [step for step, _, _ in calls] == [1, 2, 3]
    assert len(result.history) == 3 and result.stop_reason == STOP_CALLBACK
    assert "tv" in calls[0][2]


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
@pytest.mark.parametrize("wrapped", [False, True])
def test_interrupt_keeps_the_image_so_far(optimizer, wrapped, photo_64, starry_64):
    def interrupt(info):
        if info.step == 3:
            if wrapped:  # how a Ctrl-C that lands inside TensorFlow's C code arrives
                raise SystemError("returned a result with an exception set") from (
                    KeyboardInterrupt())
            raise KeyboardInterrupt

    result = nstlab.stylize(photo_64, starry_64, size=32, steps=20, optimizer=optimizer,
                            callbacks=[interrupt], progress=False)
    assert result.stop_reason == STOP_INTERRUPTED and not result.completed
    assert len(result.history) == 3
    assert np.all(np.isfinite(result.image)) and result.image.std() > 0.05


def test_other_system_errors_are_not_taken_for_an_interrupt(photo_64, starry_64):
    def fail(info):
        raise SystemError("a real bug")

    with pytest.raises(SystemError, match="a real bug"):
        nstlab.stylize(photo_64, starry_64, size=32, steps=5, callbacks=[fail], progress=False)


class ExplodingObjective:
    """Wraps an objective; its loss turns NaN once ``explode`` is set."""

    def __init__(self, objective):
        self.objective = objective
        self.content_layers = objective.content_layers
        self.style_layers = objective.style_layers
        self.explode = tf.Variable(False)

    def __call__(self, images):
        total, parts = self.objective(images)
        total = tf.where(self.explode, tf.constant(np.nan, tf.float32), total)
        return total, parts


@pytest.mark.parametrize("optimizer", ["adam", "lbfgs"])
def test_non_finite_loss_stops_and_keeps_the_last_good_image(optimizer, photo_64, starry_64):
    objective = ExplodingObjective(nstlab.Objective(photo_64, starry_64))
    images = []

    def explode_after_four(info):
        images.append(info.image)
        if info.step == 4:
            objective.explode.assign(True)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image, history, reason = nstlab.optimize_pixels(
            objective, photo_64, steps=20, optimizer=optimizer, callbacks=[explode_after_four],
            progress=False)
    assert reason == STOP_NON_FINITE
    assert len(history) == 4
    assert np.all(np.isfinite(image))
    assert any("non-finite" in str(w.message) or "NaN" in str(w.message) for w in caught)
    if optimizer == "adam":
        # Adam skips the update that produced NaN: the image is the one after step 4.
        assert np.abs(image - images[-1]).max() < 0.05
    else:
        # L-BFGS keeps the best image it evaluated.
        assert np.abs(image - photo_64).max() > 0


def test_bad_arguments_are_clear_errors(photo_64, starry_64):
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        nstlab.stylize(photo_64, starry_64, optimizer="sgd", progress=False)
    with pytest.raises(ValueError, match="unknown init 'zeros'"):
        nstlab.stylize(photo_64, starry_64, size=32, init="zeros", steps=1, progress=False)
    with pytest.raises(ValueError, match="size must be a whole number >= 1"):
        nstlab.stylize(photo_64, starry_64, size=0, progress=False)
    with pytest.raises(ValueError, match="too small for layer block5_conv1"):
        nstlab.stylize(photo_64, starry_64, size=8, steps=1, progress=False)


def test_scale_schedule():
    from nstlab.run.transfer import scale_schedule

    assert scale_schedule(256) == [256]
    assert scale_schedule(512) == [512]
    assert scale_schedule(1024) == [512, 1024]
    assert scale_schedule(2048) == [512, 1024, 2048]
    assert scale_schedule(700) == [512, 700]
    assert scale_schedule(512, None) == [512]
    assert scale_schedule(96, [48, 96]) == [48, 96]
    with pytest.raises(ValueError, match="rising sizes ending at size=96"):
        scale_schedule(96, [96, 48])


def test_coarse_to_fine_continues_one_history(photo_64, starry_64):
    steps_seen = []
    result = nstlab.stylize(photo_64, starry_64, size=64, scales=[32, 64], steps=3,
                            coarse_steps=2, optimizer="adam", progress=False,
                            callbacks=[lambda info: steps_seen.append((info.step,
                                                                       info.image.shape[:2]))])
    assert result.image.shape[:2] == photo_64.shape[:2]
    assert len(result.history) == 5 and result.settings["scales"] == [32, 64]
    assert [step for step, _ in steps_seen] == [1, 2, 3, 4, 5]
    assert max(steps_seen[0][1]) == 32 and max(steps_seen[-1][1]) == 64
    assert np.all(np.diff(result.history.time) >= 0)


def test_many_runs_in_one_session_do_not_warn_about_retracing(photo_64, starry_64, capfd):
    """A gallery compiles one step per run on purpose; TensorFlow's warning would mislead."""
    import logging

    from nstlab.engine import optimize

    record = logging.LogRecord("tensorflow", logging.WARNING, __file__, 1,
                               "5 out of the last 5 calls to <function f> triggered "
                               "tf.function retracing. Tracing is expensive", None, None)
    assert any(isinstance(f, optimize._HideRetracingWarnings)
               for f in tf.get_logger().filters)
    assert not all(f.filter(record) for f in tf.get_logger().filters)
    for seed in range(6):
        nstlab.stylize(photo_64, starry_64, size=32, steps=1, optimizer="adam", seed=seed,
                       progress=False)
    assert "retracing" not in capfd.readouterr().err
