"""A test clip made from a shipped photo: a camera move with something moving across it.

Tests, notebook 10 and ``benchmarks/video.py`` all use this one clip, so their figures are
about the same pictures. It needs no file and no network: the photo ships with matplotlib.
"""

from __future__ import annotations

import numpy as np

from nstlab.imaging.data import load_sample
from nstlab.imaging.images import resize_image


def _ball(height: int, width: int, centre: tuple[float, float], radius: float) -> tuple:
    """An anti-aliased disc with stripes: its coverage (H, W, 1) and its colours (H, W, 3)."""
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float32)
    distance = np.hypot(rows - centre[0], cols - centre[1])
    coverage = np.clip(radius - distance + 0.5, 0.0, 1.0)[..., np.newaxis]
    # Stripes that move with the ball give the flow something to follow inside it too.
    stripes = 0.5 + 0.5 * np.sin((cols - centre[1] + rows - centre[0]) * (np.pi / radius * 2))
    colours = np.stack([0.9 * np.ones_like(stripes), 0.2 + 0.6 * stripes, 0.1 + 0 * stripes],
                       axis=-1)
    return coverage, colours.astype(np.float32)


def sample_clip(frames: int = 6, size: int = 64, *, pan: float = 1.5,
              ball_speed: float = 4.0) -> np.ndarray:
    """A short clip: the camera pans over the Grace Hopper photo while a ball crosses it.

    Parameters
    ----------
    frames : int
        How many frames (at least 2).
    size : int
        The frames' longest side in pixels (their shape follows the photo's, 4:5 portrait
        crops give ``size`` x ``0.8 size``).
    pan : float
        How far the camera moves between frames, in pixels of the frame: the whole picture
        slides left by this much.
    ball_speed : float
        How far the ball moves between frames (to the right and a little down), in pixels.

    Returns
    -------
    np.ndarray, shape (frames, H, W, 3), float32 in [0, 1]
    """
    if frames < 2 or size < 16:
        raise ValueError(f"a test clip needs at least 2 frames of at least 16 px, got "
                         f"{frames} frames of {size} px")
    height, width = size, max(16, round(size * 0.8))
    photo = load_sample("grace_hopper")
    # The window the camera sees: the frame's shape, scaled so the pan stays inside the photo.
    scale = photo.shape[0] / (height * 1.25)
    window_h, window_w = round(height * scale), round(width * scale)
    top = (photo.shape[0] - window_h) // 2
    travel = pan * (frames - 1) * scale
    if window_w + travel > photo.shape[1]:
        raise ValueError(f"a pan of {pan} px over {frames} frames leaves the photo")
    first_left = (photo.shape[1] - window_w - travel) / 2
    radius = size * 0.14
    clip = []
    for index in range(frames):
        left = round(first_left + index * pan * scale)
        view = resize_image(photo[top:top + window_h, left:left + window_w], (height, width))
        centre = (height * 0.35 + index * ball_speed * 0.25,
                  radius + 1 + index * ball_speed)
        coverage, colours = _ball(height, width, centre, radius)
        clip.append(view * (1 - coverage) + colours * coverage)
    return np.clip(np.stack(clip), 0.0, 1.0).astype(np.float32)
