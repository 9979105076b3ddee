"""The small inputs the optimisation checks run on: 32 px images and a shallow Objective.

Small enough that a check that runs the network takes about a second; all offline.
"""

from __future__ import annotations

import functools

import numpy as np

TINY = 32  # px: the side of the images the checks optimise
# Layers for the checks that run the network: shallow, so a check takes about a second.
TINY_CONTENT_LAYERS = ("block2_conv2",)
TINY_STYLE_LAYERS = ("block1_conv1", "block2_conv1", "block3_conv1")


@functools.cache
def tiny_images() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, swirl, mosaic) at 32 px, all offline; read-only so nobody edits them."""
    from nstlab.imaging.data import generated_style, load_sample

    photo = load_sample("grace_hopper", max_size=TINY)
    images = (photo, generated_style("swirl", TINY), generated_style("mosaic", TINY))
    for image in images:
        image.setflags(write=False)
    return images


@functools.cache
def tiny_objective():
    """A small Objective (photo + swirl, shallow layers) and a start image with saturated
    pixels (so a missing clip shows)."""
    from nstlab.engine.losses import Objective

    photo, swirl, _ = tiny_images()
    objective = Objective(photo, swirl, content_layers=list(TINY_CONTENT_LAYERS),
                          style_layers=list(TINY_STYLE_LAYERS))
    start = np.clip(1.4 * photo - 0.2, 0.0, 1.0).astype(np.float32)
    start.setflags(write=False)
    return objective, start
