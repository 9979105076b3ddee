"""Checks for the exercises of notebook 08: per-layer losses from features, reading them, and
choosing weights.

The reading and choosing checks need no network: they build small histories and grids of
distances with known answers. The per-layer check runs the 32 px objective of
:mod:`nstlab.classroom.checks.tiny` and compares with its parts.
"""

from __future__ import annotations

import numpy as np

from nstlab.classroom.checks._base import Solver, exercise_check, expect
from nstlab.classroom.checks.answers import as_scalar, expect_gradient

__all__ = ["check_dominant_part", "check_emphasise_layer", "check_most_style_within",
           "check_weighted_parts"]

_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]


def _known_history():
    """A 3-step history where a different part is the largest at each step."""
    from nstlab.engine.history import History

    history = History(["block4_conv2"], ["block1_conv1", "block5_conv1"])
    steps = [
        {"content/block4_conv2": 0.0, "style/block1_conv1": 100.0, "style/block5_conv1": 1.0,
         "tv": 3.0},
        {"content/block4_conv2": 5.0, "style/block1_conv1": 20.0, "style/block5_conv1": 1.0,
         "tv": 30.0},
        {"content/block4_conv2": 50.0, "style/block1_conv1": 10.0, "style/block5_conv1": 1.0,
         "tv": 2.0},
    ]
    for second, parts in enumerate(steps, start=1):
        history.append(parts, sum(parts.values()), float(second))
    return history


@exercise_check("Exercise 1: the dominant part")
def check_dominant_part(dominant_part) -> None:
    """Check ``dominant_part(history, step)`` on a history with a known answer per step."""
    history = _known_history()
    expected = {1: "style/block1_conv1", 2: "tv", 3: "content/block4_conv2"}
    for step, answer in expected.items():
        got = dominant_part(history, step)
        expect(got is not None, "dominant_part returned None: did you forget `return`?")
        expect(isinstance(got, str),
               f"return the part's name (a str like 'style/block1_conv1'), got {got!r}")
        expect(got != "total", "leave out the total: it is always the largest")
        if got == expected.get(step + 1):
            expect(False, "steps count from 1: step 1 is index 0 of the arrays")
        expect(got == answer, f"at step {step} the largest part is {answer!r}, you said {got!r}")


@exercise_check("Exercise 2: emphasise one layer")
def check_emphasise_layer(emphasise_layer) -> None:
    """Check ``emphasise_layer(layers, layer, factor)`` returns the right weight dict."""
    for layer, factor in (("block1_conv1", 10.0), ("block5_conv1", 4.0), ("block3_conv1", 0.5)):
        weights = emphasise_layer(list(_LAYERS), layer, factor)
        expect(isinstance(weights, dict),
               f"return a dict {{layer name: weight}}, got {type(weights).__name__}")
        expect(list(weights) == _LAYERS,
               f"the dict needs one entry per layer, in order: {_LAYERS}; got {list(weights)}")
        values = np.array([float(weights[name]) for name in _LAYERS])
        expect(np.all(values >= 0), "weights must not be negative")
        others = [float(weights[name]) for name in _LAYERS if name != layer]
        expect(np.allclose(others, others[0]), "every other layer should get the same weight")
        expect(others[0] > 0, "the other layers should keep a weight above zero")
        ratio = float(weights[layer]) / others[0]
        expect(np.isclose(ratio, factor, rtol=1e-6),
               f"{layer} should weigh {factor:g} times each other layer, got {ratio:.3g} times")
    raised = False
    try:
        emphasise_layer(list(_LAYERS), "block9_conv9", 2.0)
    except ValueError:
        raised = True
    expect(raised, "an unknown layer name should raise ValueError")


def _known_distances() -> dict:
    return {
        ("block1", 1.0): {"content": 9.0, "style": 1.0},
        ("block1", 100.0): {"content": 3.0, "style": 4.0},
        ("block1..block3", 1.0): {"content": 8.0, "style": 0.5},
        ("block1..block3", 100.0): {"content": 2.5, "style": 3.0},
        ("block1..block3", 1000.0): {"content": 1.0, "style": 9.0},
    }


@exercise_check("Exercise 3: the most style within a content budget")
def check_most_style_within(most_style_within) -> None:
    """Check ``most_style_within(distances, max_content)`` on distances with known answers."""
    distances = _known_distances()
    cases = {3.0: ("block1..block3", 100.0), 8.0: ("block1..block3", 1.0),
             100.0: ("block1..block3", 1.0), 1.0: ("block1..block3", 1000.0)}
    for limit, answer in cases.items():
        got = most_style_within(distances, limit)
        expect(got is not None, "most_style_within returned None: did you forget `return`?")
        got = tuple(got) if isinstance(got, list | tuple) else got
        expect(got in distances, f"return a key of `distances` (a (row, ratio) pair), got {got!r}")
        expect(distances[got]["content"] <= limit,
               f"with max_content={limit:g} the content distance of {got} "
               f"({distances[got]['content']:g}) is over the limit")
        if got == min(distances, key=lambda key: distances[key]["content"]) != answer:
            expect(False, "you picked the closest to the photo; pick the most style "
                          "(lowest style distance) among those within the limit")
        expect(got == answer, f"with max_content={limit:g} the answer is {answer}, got {got}")
    raised = False
    try:
        most_style_within(distances, 0.5)
    except ValueError:
        raised = True
    expect(raised, "when no result is within the limit, raise ValueError")


@exercise_check("weighted parts from features", solvers=[
    Solver("nstlab.content_loss", why="the content loss this exercise asks you to compute"),
    Solver("nstlab.style_loss", why="the style loss this exercise asks you to compute"),
    Solver("nstlab.gram_matrix", why="the Gram matrix this exercise asks you to compute"),
])
def check_weighted_parts(weighted_parts):
    """``weighted_parts(features, content_targets, style_targets, weights)``: every layer's
    weighted loss as ``nstlab.Objective`` computes it (equal layer weights, TV left out), in
    TensorFlow so the gradient reaches the features."""
    import tensorflow as tf

    from nstlab.classroom.checks.tiny import tiny_objective

    objective, start = tiny_objective()
    features = objective.extractor(start[np.newaxis])
    weights = {"content_weight": objective.content_weight, "style_weight": objective.style_weight}
    content_targets = {name: objective.content_targets[name] for name in objective.content_layers}
    style_targets = {name: objective.style_targets[name] for name in objective.style_layers}
    _, package = objective(start[np.newaxis])
    want = {name: float(value) for name, value in package.items() if name != "tv"}
    got = weighted_parts(dict(features), content_targets, style_targets, dict(weights))
    expect(isinstance(got, dict), f"return a dict of parts, got {type(got).__name__}")
    expect(set(got) == set(want), f"the parts should be named {sorted(want)}, got {sorted(got)}")
    values = {name: as_scalar(value, f"part {name}") for name, value in got.items()}
    for name, value in values.items():
        if np.isclose(value, want[name], rtol=1e-3):
            continue
        group = name.split("/")[0]
        layers = objective.content_layers if group == "content" else objective.style_layers
        unweighted = want[name] / (weights[f"{group}_weight"] / len(layers))
        expect(not np.isclose(value, want[name] * len(layers), rtol=1e-3),
               f"{name}: {value:.4g}, expected {want[name]:.4g}, {len(layers)} times too large: "
               f"the layers share the {group} weight equally, {group}_weight / {len(layers)}")
        expect(not np.isclose(value, unweighted, rtol=1e-3),
               f"{name}: {value:.4g} is the unweighted loss; multiply by "
               f"{group}_weight / {len(layers)}")
        expect(False, f"{name}: expected {want[name]:.4g}, got {value:.4g}. Content: mean((F - "
                      "P)^2); style: mean((G - A)^2) with G = F^T F / (H W) of features[0]")
    layer = objective.style_layers[-1]
    watched = tf.constant(features[layer])

    def summed():
        values = list(weighted_parts({**features, layer: watched}, content_targets,
                                     style_targets, dict(weights)).values())
        return tf.add_n(values) if all(tf.is_tensor(v) for v in values) else sum(values)

    expect_gradient(summed, {f"the features of {layer}": watched}, "weighted_parts(...)")
