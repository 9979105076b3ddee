r"""Ruder et al.'s temporal loss, the objective that adds it, and the warping error.

The temporal loss (Ruder, Dosovitskiy & Brox 2016, eq. 6) ties a frame ``x`` to the
previous stylized frame warped into its place, :math:`\omega`, where the occlusion mask
``c`` trusts the flow:

.. math:: L_\text{temporal}(x, \omega, c) = \frac{1}{D} \sum_k c_k\,(x_k - \omega_k)^2

with ``D = H * W * 3`` and pixels in [0, 1] (nstlab's convention; Ruder et al. use
0-255, so their weights do not carry over). :class:`TemporalObjective` adds it, times
``temporal_weight``, to an :class:`nstlab.Objective`.

The *warping error* measures flicker the same way after the fact: the mean squared
difference between each stylized frame and the one before it warped by the flow of the
*photo* frames, over the pixels the mask trusts. A clip that moves with its scene scores
low; brush strokes that jump about between frames score high.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def temporal_loss(image, warped_previous, mask):
    """``sum(mask * (image - warped_previous)^2) / D``, D the number of values of ``image``.

    ``image`` and ``warped_previous``: (1, H, W, 3) or (H, W, 3); ``mask``: (H, W) of 0 and 1
    (or weights in [0, 1]). Differentiable (TensorFlow), so it can be minimised.
    """
    import tensorflow as tf

    image = tf.convert_to_tensor(image, tf.float32)
    difference = tf.square(image - tf.convert_to_tensor(warped_previous, tf.float32))
    mask = tf.convert_to_tensor(mask, tf.float32)[..., tf.newaxis]
    return tf.reduce_sum(mask * difference) / tf.cast(tf.size(image), tf.float32)


class TemporalObjective:
    """An :class:`nstlab.Objective` plus ``temporal_weight`` times :func:`temporal_loss`.

    Called like the objective it wraps: ``(total, parts)``, with one more part,
    ``"temporal"``. Its ``extractor`` and layers are the wrapped objective's, so
    :func:`nstlab.optimize_pixels` records its history as usual.
    """

    def __init__(self, objective, warped_previous, mask, temporal_weight: float):
        import tensorflow as tf

        self.objective = objective
        self.warped = tf.constant(np.asarray(warped_previous, np.float32)[np.newaxis])
        self.mask = tf.constant(np.asarray(mask, np.float32)[np.newaxis])
        self.temporal_weight = float(temporal_weight)
        self.extractor = objective.extractor
        self.content_layers = objective.content_layers
        self.style_layers = objective.style_layers

    def __call__(self, images):
        import tensorflow as tf

        total, parts = self.objective(images)
        parts = dict(parts)
        parts["temporal"] = self.temporal_weight * temporal_loss(images, self.warped,
                                                                 self.mask)
        return tf.add_n(list(parts.values())), parts


def pair_warping_error(frame: np.ndarray, previous: np.ndarray, flow: np.ndarray,
                       mask: np.ndarray) -> float:
    """Mean over trusted pixels of the squared difference of ``frame`` and warped ``previous``.

    ``flow`` and ``mask`` come from the photo frames (:func:`nstlab.video.flow.flow_and_mask`).
    """
    from nstlab.video.flow import warp

    squared = np.mean((np.asarray(frame, np.float32) - warp(previous, flow)) ** 2, axis=-1)
    trusted = float(mask.sum())
    return float((squared * mask).sum() / trusted) if trusted else 0.0


def warping_errors(stylized: Sequence[np.ndarray], motion: Sequence[tuple]) -> list[float]:
    """The warping error of each pair of consecutive frames (``len(stylized) - 1`` values).

    ``motion[i]`` is the ``(flow, mask)`` from photo frame ``i + 1`` back to frame ``i``.
    """
    return [pair_warping_error(stylized[i + 1], stylized[i], *motion[i])
            for i in range(len(stylized) - 1)]


def warping_error(stylized: Sequence[np.ndarray], photos: Sequence[np.ndarray]) -> float:
    """The flicker of a stylized clip: its mean warping error, by the flow of ``photos``."""
    from nstlab.video.flow import flow_and_mask

    motion = [flow_and_mask(photos[i + 1], photos[i]) for i in range(len(photos) - 1)]
    return float(np.mean(warping_errors(stylized, motion)))
