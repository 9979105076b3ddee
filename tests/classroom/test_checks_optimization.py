"""The checks of notebooks 04-07 (05a, 05b, 06a, 06b): each accepts the reference solution and
rejects wrong ones."""

import math

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom import checks
from nstlab.classroom.checks import (
    CheckFailed,
    losses,
    optimization,
    post_processing,
    stylize_calls,
    tiny,
)
from nstlab.imaging import color
from nstlab.imaging.images import resize_image

# --------------------------------------------------------------------------- reference answers


def total_loss(parts, weights):
    content = [v for k, v in parts.items() if k.startswith("content/")]
    style = [v for k, v in parts.items() if k.startswith("style/")]
    return (weights["content_weight"] * sum(content) / len(content)
            + weights["style_weight"] * sum(style) / len(style)
            + weights["tv_weight"] * parts["tv"])


def total_loss_summed(parts, weights):
    content = [v for k, v in parts.items() if k.startswith("content/")]
    style = [v for k, v in parts.items() if k.startswith("style/")]
    return (weights["content_weight"] * sum(content) + weights["style_weight"] * sum(style)
            + weights["tv_weight"] * parts["tv"])


def total_variation(image):
    image = tf.convert_to_tensor(image)
    return (tf.reduce_sum(tf.abs(image[1:] - image[:-1]))
            + tf.reduce_sum(tf.abs(image[:, 1:] - image[:, :-1])))


def total_variation_squared(image):
    return np.sum(np.diff(image, axis=0) ** 2) + np.sum(np.diff(image, axis=1) ** 2)


def more_style_weights(weights):
    return {**weights, "style_weight": 100 * weights["style_weight"]}


def adam_step(bias_correction: bool = True, clip: bool = True):
    """Adam by hand as notebook 05a asks for it, or with one of its parts left out."""
    def train_step(image, objective, state, learning_rate=0.02, beta_1=0.99, beta_2=0.999,
                   epsilon=0.1):
        with tf.GradientTape() as tape:
            total, _ = objective(image)
        gradient = tape.gradient(total, image)
        state["t"] += 1
        state["m"] = beta_1 * state["m"] + (1 - beta_1) * gradient
        state["v"] = beta_2 * state["v"] + (1 - beta_2) * tf.square(gradient)
        t = state["t"]
        correction = math.sqrt(1 - beta_2**t) / (1 - beta_1**t) if bias_correction else 1.0
        image.assign_sub(learning_rate * correction * state["m"] / (tf.sqrt(state["v"]) + epsilon))
        if clip:
            image.assign(tf.clip_by_value(image, 0.0, 1.0))
        return total

    return train_step


train_step = adam_step()
train_step_without_bias_correction = adam_step(bias_correction=False)
train_step_without_clip = adam_step(clip=False)


def gradient_descent_step(image, objective, learning_rate):
    with tf.GradientTape() as tape:
        total, _ = objective(image)
    gradient = tape.gradient(total, image)
    image.assign(tf.clip_by_value(image - learning_rate * gradient, 0.0, 1.0))
    return total


def gradient_ascent_step(image, objective, learning_rate):
    with tf.GradientTape() as tape:
        total, _ = objective(image)
    image.assign(tf.clip_by_value(image + learning_rate * tape.gradient(total, image), 0, 1))
    return total


def gradient_step_without_clip(image, objective, learning_rate):
    with tf.GradientTape() as tape:
        total, _ = objective(image)
    image.assign_sub(learning_rate * tape.gradient(total, image))
    return total


def gradient_step_outside_the_tape(image, objective, learning_rate):
    total, _ = objective(image)
    with tf.GradientTape() as tape:
        pass
    image.assign(tf.clip_by_value(image - learning_rate * tape.gradient(total, image), 0, 1))
    return total


def gradient_step_through_numpy(image, objective, learning_rate):
    with tf.GradientTape() as tape:
        total, _ = objective(image.numpy())
    image.assign(tf.clip_by_value(image - learning_rate * tape.gradient(total, image), 0, 1))
    return total


def total_variation_in_numpy(image):
    image = np.asarray(image)
    return (np.sum(np.abs(np.diff(image, axis=0))) + np.sum(np.abs(np.diff(image, axis=1))))


def total_loss_as_float(parts, weights):
    return float(total_loss(parts, weights))


def make_early_stopping(patience=3, min_delta=0.01):
    best = math.inf
    waited = 0

    def callback(info):
        nonlocal best, waited
        if info.total < best * (1 - min_delta):
            best, waited = info.total, 0
            return False
        waited += 1
        return waited >= patience

    return callback


def make_early_stopping_against_previous(patience=3, min_delta=0.01):
    previous = math.inf
    waited = 0

    def callback(info):
        nonlocal previous, waited
        improved = info.total < previous * (1 - min_delta)
        previous = info.total
        waited = 0 if improved else waited + 1
        return waited >= patience

    return callback


def tinted_start(photo, painting):
    offset = painting.reshape(-1, 3).mean(axis=0) - photo.reshape(-1, 3).mean(axis=0)
    return np.clip(photo + offset, 0.0, 1.0)


def tinted_with_the_mean_colour(photo, painting):
    return np.broadcast_to(painting.reshape(-1, 3).mean(axis=0), photo.shape)


def masked_gram(features, mask):
    features = tf.convert_to_tensor(features, tf.float32)
    mask = tf.convert_to_tensor(mask, tf.float32)
    weighted = tf.reshape(features * mask[..., tf.newaxis], (-1, features.shape[-1]))
    return tf.matmul(weighted, weighted, transpose_a=True) / tf.reduce_sum(mask)


def masked_gram_over_every_position(features, mask):
    height, width = mask.shape
    return masked_gram(features, mask) * tf.reduce_sum(mask) / (height * width)


def luminance(image):
    return 0.299 * image[..., 0] + 0.587 * image[..., 1] + 0.114 * image[..., 2]


def keep_colors(stylized, content):
    content = resize_image(content, stylized.shape[:2])
    yiq = color.rgb_to_yiq(content)
    yiq[..., 0] = color.luminance(stylized)
    return np.clip(color.yiq_to_rgb(yiq), 0, 1)


def keep_colors_swapped(stylized, content):
    return keep_colors(resize_image(content, stylized.shape[:2]), stylized)


def match_colors(source, reference):
    x_s, x_r = source.reshape(-1, 3), reference.reshape(-1, 3)
    mean_s, mean_r = x_s.mean(axis=0), x_r.mean(axis=0)
    l_s = np.linalg.cholesky(np.cov(x_s, rowvar=False))
    l_r = np.linalg.cholesky(np.cov(x_r, rowvar=False))
    a = l_r @ np.linalg.inv(l_s)
    return ((x_s - mean_s) @ a.T + mean_r).reshape(source.shape)


def match_mean_only(source, reference):
    return source - source.mean(axis=(0, 1)) + reference.mean(axis=(0, 1))


def upsample_and_continue(small, content, style, size, steps):
    content = resize_image(content, size)
    start = resize_image(small, content.shape[:2])
    return nstlab.stylize(content, style, size=size, steps=steps, init=start, scales=None,
                          progress=False).image


def upsample_and_restart(small, content, style, size, steps):
    return nstlab.stylize(content, style, size=size, steps=steps, scales=None,
                          progress=False).image


def stylize_options(goal):
    if goal == "preview":
        return {"size": 128, "steps": 30}
    if goal == "final":
        return {"size": 512, "steps": 200}
    raise ValueError(goal)


def blend_styles(content, style_a, style_b, amount, **options):
    return nstlab.stylize(content, [style_a, style_b],
                          style_blend_weights=[1 - amount, amount], **options)


def blend_styles_reversed(content, style_a, style_b, amount, **options):
    return blend_styles(content, style_b, style_a, amount, **options)


def not_done(*args, **kwargs):
    raise NotImplementedError


# --------------------------------------------------------------------------- the cases

CASES = [
    ("check_total_loss", total_loss, total_loss_summed, "summed"),
    ("check_total_variation", total_variation, total_variation_squared, "squared"),
    ("check_more_style_weights", more_style_weights,
     lambda weights: dict(weights), "not clearly more style"),
    ("check_train_step", train_step, train_step_without_bias_correction, "bias correction"),
    ("check_gradient_descent_step", gradient_descent_step, gradient_ascent_step, "uphill"),
    ("check_early_stopping", make_early_stopping, make_early_stopping_against_previous,
     "best so far"),
    ("check_tinted_start", tinted_start, tinted_with_the_mean_colour, "same colour"),
    ("check_luminance", luminance, lambda image: image.mean(axis=-1), "plain mean"),
    ("check_keep_colors", keep_colors, keep_colors_swapped, "other way round"),
    ("check_match_colors", match_colors, match_mean_only, "still the source's"),
    ("check_upsample_and_continue", upsample_and_continue, upsample_and_restart,
     "upsampled"),
    ("check_masked_gram", masked_gram, masked_gram_over_every_position, "not by all H"),
    ("check_stylize_options", stylize_options,
     lambda goal: {"size": 512, "steps": 200}, "preview should be small"),
    ("check_blend_styles", blend_styles, blend_styles_reversed, "more like style_b"),
]


def test_every_check_is_listed_and_exported():
    modules = (losses, optimization, post_processing, stylize_calls)
    names = [name for module in modules for name in module.__all__]
    assert sorted(name for name, *_ in CASES) == sorted(names)
    for module in modules:
        for name in module.__all__:
            assert getattr(checks, name) is getattr(module, name)


@pytest.mark.parametrize(("name", "right", "wrong", "reason"), CASES, ids=[c[0] for c in CASES])
def test_check_accepts_the_reference_and_rejects_a_wrong_answer(grades_answers, name, right,
                                                                wrong, reason):
    grades_answers(getattr(checks, name), right, [(wrong, reason)], not_done)


@pytest.mark.parametrize(("wrong", "reason"), [
    (train_step_without_clip, "clip"),
    (lambda image, objective, state: objective(image)[0], "did not change"),
])
def test_train_step_check_names_other_mistakes(monkeypatch, wrong, reason):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed, match=reason):
        checks.check_train_step(wrong)


def _offset(photo, painting):
    return painting.reshape(-1, 3).mean(axis=0) - photo.reshape(-1, 3).mean(axis=0)


def _masked_once(features, mask):
    flat = np.reshape(features, (-1, features.shape[-1]))
    return tf.constant(flat.T @ (flat * np.reshape(mask, (-1, 1))) / np.sum(mask))


@pytest.mark.parametrize(("name", "wrong", "reason"), [
    ("check_tinted_start", lambda p, q: np.clip(p - _offset(p, q), 0, 1), "moved away"),
    ("check_tinted_start", lambda p, q: p + _offset(p, q), "clip to"),
    ("check_tinted_start", lambda p, q: np.clip(p + _offset(p, q).mean(), 0, 1),
     "each channel"),
    ("check_tinted_start", lambda p, q: np.clip(p * q.mean(axis=(0, 1)) / p.mean(axis=(0, 1)),
                                                0, 1), "same offset"),
    ("check_masked_gram", lambda f, m: masked_gram(f, m) * np.sum(m), "sum\\(m\\)"),
    ("check_masked_gram", _masked_once, "both factors"),
    ("check_masked_gram", lambda f, m: masked_gram(f, m).numpy(), "not a TensorFlow tensor"),
    ("check_masked_gram", lambda f, m: masked_gram(f, m)[tf.newaxis], "without a batch axis"),
])
def test_the_split_notebooks_checks_name_other_mistakes(monkeypatch, name, wrong, reason):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed, match=reason):
        getattr(checks, name)(wrong)


def test_reference_adam_by_hand_matches_the_package():
    objective, start = tiny.tiny_objective()
    ours = optimization.adam_by_hand(objective, start, 3)
    package, _, _ = nstlab.optimize_pixels(objective, start, steps=3, optimizer="adam",
                                           progress=False)
    np.testing.assert_allclose(ours, package, atol=1e-5)
    unclipped = optimization.adam_by_hand(objective, start, 3, clip=False)
    assert unclipped.min() < 0 or unclipped.max() > 1  # so a missing clip shows


@pytest.mark.parametrize(("name", "wrong", "reason"), [
    ("check_total_loss", lambda parts, weights: 0.0, "expected"),
    ("check_total_variation",
     lambda image: np.sum(np.abs(np.diff(image, axis=0))), "horizontal"),
    ("check_gradient_descent_step", gradient_step_without_clip, "clip"),
    ("check_gradient_descent_step", lambda image, objective, rate: objective(image)[0],
     "did not change"),
    ("check_gradient_descent_step", gradient_step_outside_the_tape, "gradient came back as None"),
    ("check_gradient_descent_step", gradient_step_through_numpy, "gradient came back as None"),
    ("check_total_variation", total_variation_in_numpy, "cut the gradient"),
    ("check_total_loss", total_loss_as_float, "cut the gradient"),
    ("check_match_colors", lambda source, reference: np.clip(match_colors(source, reference),
                                                             0.3, 0.7), "clipped"),
    ("check_luminance", lambda image: luminance(image)[..., None], "channel axis"),
    ("check_stylize_options", lambda goal: {"size": 128, "steps": 10}
     if goal == "preview" else {"size": 512, "steps": 200}, "ValueError"),
    ("check_more_style_weights", lambda weights: {"content_weight": 0, "style_weight": 1e4},
     "content weight"),
    ("check_stylize_options", lambda goal: {"size": 256, "steps": 100}
     if goal == "preview" else {"size": 512, "steps": 100}, "8x cheaper"),
])
def test_checks_explain_other_mistakes(monkeypatch, name, wrong, reason):
    monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
    with pytest.raises(CheckFailed, match=reason):
        getattr(checks, name)(wrong)
