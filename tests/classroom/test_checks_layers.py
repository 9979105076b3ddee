"""The checks of notebook 08: each accepts the reference and rejects plausible wrong answers."""

import numpy as np
import pytest
import tensorflow as tf

import nstlab
from nstlab.classroom.checks import layers as checks

# --------------------------------------------------------------------------- reference answers


def dominant_part(history, step):
    parts = history.parts()
    return max(parts, key=lambda name: parts[name][step - 1])


def emphasise_layer(layers, layer, factor):
    if layer not in layers:
        raise ValueError(f"unknown layer {layer!r}")
    return {name: (factor if name == layer else 1.0) for name in layers}


def most_style_within(distances, max_content):
    allowed = [key for key, d in distances.items() if d["content"] <= max_content]
    if not allowed:
        raise ValueError("no result is that close to the photo")
    return min(allowed, key=lambda key: distances[key]["style"])


def weighted_parts(features, content_targets, style_targets, weights):
    parts = {}
    for name, target in content_targets.items():
        parts[f"content/{name}"] = (weights["content_weight"] / len(content_targets)
                                    * tf.reduce_mean(tf.square(features[name] - target)))
    for name, target in style_targets.items():
        flat = tf.reshape(features[name][0], (-1, features[name].shape[-1]))
        gram = tf.matmul(flat, flat, transpose_a=True) / tf.cast(tf.shape(flat)[0], tf.float32)
        parts[f"style/{name}"] = (weights["style_weight"] / len(style_targets)
                                  * tf.reduce_mean(tf.square(gram - target)))
    return parts


def not_done(*args, **kwargs):
    raise NotImplementedError


# --------------------------------------------------------------------------- wrong answers


def dominant_part_zero_based(history, step):
    return dominant_part(history, step + 1)


def dominant_part_with_total(history, step):
    parts = {**history.parts(), "total": history.total}
    return max(parts, key=lambda name: parts[name][step - 1])


def dominant_part_value(history, step):
    return max(values[step - 1] for values in history.parts().values())


def emphasise_as_list(layers, layer, factor):
    return [factor if name == layer else 1.0 for name in layers]


def emphasise_inverted(layers, layer, factor):
    return {name: (1.0 if name == layer else factor) for name in layers}


def emphasise_only_that_layer(layers, layer, factor):
    return {name: (factor if name == layer else 0.0) for name in layers}


def emphasise_without_check(layers, layer, factor):
    return {name: (factor if name == layer else 1.0) for name in layers}


def most_style_ignoring_limit(distances, max_content):
    return min(distances, key=lambda key: distances[key]["style"])


def closest_to_photo(distances, max_content):
    return min(distances, key=lambda key: distances[key]["content"])


def most_style_strict_limit(distances, max_content):
    allowed = [key for key, d in distances.items() if d["content"] < max_content]
    if not allowed:
        raise ValueError("none")
    return min(allowed, key=lambda key: distances[key]["style"])


def most_style_returns_none(distances, max_content):
    allowed = [key for key, d in distances.items() if d["content"] <= max_content]
    return min(allowed, key=lambda key: distances[key]["style"]) if allowed else None


def weighted_parts_summed(features, content_targets, style_targets, weights):
    parts = weighted_parts(features, content_targets, style_targets, weights)
    return {name: value * (len(style_targets) if name.startswith("style/") else 1)
            for name, value in parts.items()}


def weighted_parts_as_floats(features, content_targets, style_targets, weights):
    parts = weighted_parts(features, content_targets, style_targets, weights)
    return {name: float(value) for name, value in parts.items()}


CASES = [
    ("check_dominant_part", dominant_part, [
        (dominant_part_zero_based, "steps count from 1"),
        (dominant_part_with_total, "leave out the total"),
        (dominant_part_value, "return the part's name"),
    ]),
    ("check_emphasise_layer", emphasise_layer, [
        (emphasise_as_list, "return a dict"),
        (emphasise_inverted, "should weigh"),
        (emphasise_only_that_layer, "keep a weight above zero"),
        (emphasise_without_check, "should raise ValueError"),
    ]),
    ("check_weighted_parts", weighted_parts, [
        (weighted_parts_summed, "share the style weight"),
        (weighted_parts_as_floats, "cut the gradient"),
    ]),
    ("check_most_style_within", most_style_within, [
        (most_style_ignoring_limit, "over the limit"),
        (closest_to_photo, "closest to the photo"),
        (most_style_strict_limit, "the answer is"),
        (most_style_returns_none, "raise ValueError"),
    ]),
]


def test_every_check_is_listed_and_exported():
    assert sorted(name for name, *_ in CASES) == sorted(checks.__all__)
    for name in checks.__all__:
        assert getattr(nstlab.classroom.checks, name) is getattr(checks, name)


@pytest.mark.parametrize(("name", "right", "wrongs"), CASES, ids=[c[0] for c in CASES])
def test_check_accepts_the_reference_and_rejects_wrong_answers(grades_answers, name, right,
                                                               wrongs):
    grades_answers(getattr(checks, name), right, wrongs, not_done)


def test_the_known_history_has_a_different_leader_each_step():
    history = checks._known_history()
    leaders = {dominant_part(history, step) for step in history.steps}
    assert len(leaders) == 3
    np.testing.assert_allclose(history.total, [104.0, 56.0, 63.0])
