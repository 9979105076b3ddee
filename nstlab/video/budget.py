"""Whether a clip fits: the memory its frames take and the disk its results take.

A run holds every photo frame and every stylized frame in memory, as float32, and keeps
each finished frame on disk (PNG) before the video is encoded. Both are estimated from the
clip's header and refused before anything heavy starts, with both figures in the message.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nstlab.base.validators import OptionError
from nstlab.run.memory import SKIP_ENV_VAR, available_bytes, format_bytes, skip_requested

#: Float32 RGB frames held per clip frame: the photo and its stylized frame.
FRAMES_HELD = 2
#: A PNG frame on disk, as a fraction of its raw 8-bit size (an upper bound: PNG compresses).
PNG_FRACTION = 1.0


def clip_memory_bytes(frames: int, height: int, width: int) -> int:
    """The memory the frames of a run take (photos and stylized, float32)."""
    return FRAMES_HELD * frames * height * width * 3 * 4


def clip_disk_bytes(frames: int, height: int, width: int, video: bool) -> int:
    """The disk the kept frames take (8-bit PNG, at most raw size), and a video beside them
    (counted as large as the frames again: an upper bound for any codec here)."""
    frames_bytes = int(PNG_FRACTION * frames * height * width * 3)
    return frames_bytes * (2 if video else 1)


def check_clip_fits(frames: int, height: int, width: int, output, *, video: bool,
                    memory_check: bool = True, available: int | None = None,
                    free: int | None = None) -> None:
    """Refuse a clip whose frames do not fit in memory, or whose results do not fit on disk.

    ``height`` and ``width`` are the frames' size as stylized; ``output`` is where the
    results go. ``available`` and ``free`` default to this machine's figures.
    """
    if memory_check and not skip_requested():
        needed = clip_memory_bytes(frames, height, width)
        available = available_bytes() if available is None else available
        if available is not None and needed > available:
            raise OptionError(
                f"{frames} frames of {width}x{height} px need about {format_bytes(needed)} of "
                f"memory but {format_bytes(available)} is available; try a smaller --size "
                f"or a shorter clip (or set {SKIP_ENV_VAR}=1)")
    folder = Path(output).resolve().parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free if free is None else free
    needed = clip_disk_bytes(frames, height, width, video)
    if needed > free:
        raise OptionError(
            f"{frames} frames of {width}x{height} px need up to {format_bytes(needed)} of disk "
            f"in {folder} but {format_bytes(free)} is free; try a smaller --size")
