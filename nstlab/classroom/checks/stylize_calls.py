"""Checks for the exercises of notebook 07 that call ``nstlab.stylize``: options for a goal,
blending two styles.
"""

from __future__ import annotations

import inspect

import numpy as np

from nstlab.classroom.checks._base import exercise_check, expect
from nstlab.classroom.checks.answers import as_array
from nstlab.classroom.checks.tiny import TINY, TINY_CONTENT_LAYERS, TINY_STYLE_LAYERS, tiny_images

__all__ = [
    "check_blend_styles",
    "check_stylize_options",
]


def _stylize_parameters() -> set[str]:
    from nstlab.run.transfer import stylize

    return set(inspect.signature(stylize).parameters) - {"content", "style"}


def _cost(options: dict) -> float:
    from nstlab.engine.optimize import DEFAULT_STEPS

    size = options.get("size", 512)
    steps = options.get("steps") or DEFAULT_STEPS[options.get("optimizer", "lbfgs")]
    return float(size) ** 2 * float(steps)


@exercise_check("stylize options for a goal")
def check_stylize_options(stylize_options):
    """``stylize_options(goal)``: a dict of stylize() keyword arguments for ``"preview"``
    (fast) and ``"final"`` (good), and a ValueError for any other goal."""
    known = _stylize_parameters()
    chosen = {}
    for goal in ("preview", "final"):
        options = stylize_options(goal)
        expect(isinstance(options, dict), f"stylize_options({goal!r}) should return a dict, "
                                          f"got {type(options).__name__}")
        unknown = set(options) - known
        expect(not unknown, f"stylize() has no option {sorted(unknown)}; see nstlab.stylize?")
        size = options.get("size", 512)
        expect(isinstance(size, int) and size >= 64,
               f"{goal}: size should be a whole number of at least 64 px, got {size!r}")
        chosen[goal] = options
    preview, final = chosen["preview"], chosen["final"]
    expect(preview.get("size", 512) <= 256,
           f"a preview should be small (size <= 256 px), got {preview.get('size', 512)}")
    expect(_cost(preview) * 8 <= _cost(final),
           f"the preview costs about size^2 x steps = {_cost(preview):.3g} and the final "
           f"{_cost(final):.3g}: make the preview at least 8x cheaper (smaller, fewer steps)")
    expect(final.get("size", 512) >= 384,
           f"a final image should be at least 384 px, got {final.get('size', 512)}")
    try:
        stylize_options("something else")
    except ValueError:
        return
    expect(False, "stylize_options('something else') should raise ValueError (unknown goal)")


@exercise_check("blend two styles")
def check_blend_styles(blend_styles):
    """``blend_styles(content, style_a, style_b, amount, **options)``: stylize with both styles,
    weights (1 - amount) and amount, passing ``options`` on to stylize()."""
    from nstlab.run.transfer import stylize

    photo, swirl, mosaic = tiny_images()
    options = {"size": TINY, "steps": 3, "optimizer": "adam", "progress": False,
               "content_layers": list(TINY_CONTENT_LAYERS),
               "style_layers": list(TINY_STYLE_LAYERS), "scales": None}

    def image_of(result):
        return as_array(getattr(result, "image", result), "blend_styles", np.float32)

    half = image_of(blend_styles(photo, swirl, mosaic, 0.5, **options))
    only_a = stylize(photo, swirl, **options).image
    only_b = stylize(photo, mosaic, **options).image
    expect(half.shape == only_a.shape, f"shape {half.shape}, expected {only_a.shape}: pass "
                                       "**options on to nstlab.stylize")
    both = stylize(photo, [swirl, mosaic], style_blend_weights=[0.5, 0.5], **options).image
    if np.allclose(half, only_a, atol=1e-4) or np.allclose(half, only_b, atol=1e-4):
        expect(False, "amount=0.5 gave the same image as one style alone: pass both styles "
                      "as a list, stylize(content, [style_a, style_b], ...)")
    expect(np.allclose(half, both, atol=1e-3),
           "amount=0.5 should equal stylize(content, [style_a, style_b], "
           "style_blend_weights=[0.5, 0.5], **options)")
    mostly_b = image_of(blend_styles(photo, swirl, mosaic, 0.9, **options))
    expect(np.mean(np.abs(mostly_b - only_b)) < np.mean(np.abs(mostly_b - only_a)),
           "amount=0.9 should look more like style_b than style_a: weights "
           "[1 - amount, amount] for [style_a, style_b]")
