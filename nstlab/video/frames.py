"""Reading and writing clips: a video file (PyAV) or a folder of numbered images.

PyAV binds FFmpeg's libraries, and its wheel ships them, so no ffmpeg needs installing. It was
chosen over imageio + imageio-ffmpeg (which pipes raw frames to and from an ffmpeg
process) by measuring (benchmarks/README.md, "video"): it reads a clip 2.7x faster, tells
a file's frame count and size from its header without decoding it (1 ms against 28 ms for
imageio-ffmpeg's count, which decodes the whole file), and says in Python whether an
encoder exists, so a missing codec is found before any work starts.

Frames are RGB float32 (H, W, 3) in [0, 1] like every image of nstlab.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nstlab.base.validators import OptionError
from nstlab.imaging.images import ImageError, image_shape, load_image, save_image, to_uint8

#: File suffixes read and written as video files (anything else is a folder of frames).
VIDEO_SUFFIXES = (".mp4", ".mkv", ".mov", ".avi", ".webm", ".m4v", ".gif")
#: Image suffixes a folder of frames may hold.
FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
#: The encoder for each output suffix (H.264 in mp4/mkv/mov plays everywhere).
ENCODERS = {".mp4": "libx264", ".mkv": "libx264", ".mov": "libx264", ".m4v": "libx264",
            ".avi": "mpeg4", ".webm": "libvpx-vp9", ".gif": "gif"}
DEFAULT_FPS = 24.0


class VideoError(ImageError):
    """A clip that cannot be read or written (not a video, no frames, mixed sizes ...)."""


#: The packages of the ``video`` extra, by module name.
VIDEO_EXTRA = {"av": "PyAV", "cv2": "OpenCV"}


def video_module(name: str):
    """Import ``av`` or ``cv2``; a :class:`VideoError` naming the extra when it is missing."""
    import importlib

    try:
        return importlib.import_module(name)
    except ImportError:
        raise VideoError(f"video needs {VIDEO_EXTRA[name]}, which is not installed: "
                         'pip install "nstlab[video]"') from None


@dataclass(frozen=True)
class ClipInfo:
    """What a clip's header (or a folder's files) says, without decoding the frames."""

    frames: int
    height: int
    width: int
    fps: float


def is_video_file(path) -> bool:
    """Whether ``path`` names a video file (by suffix), not a folder of frames."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


def frame_files(folder) -> list[Path]:
    """The image files of a folder of frames, in the order of the numbers in their names."""
    def key(path: Path):
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", path.name)]

    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in FRAME_SUFFIXES
                   and not p.name.startswith(".")), key=key)


def probe(source) -> ClipInfo:
    """The frame count, size and rate of a video file or a folder of frames.

    Reads only headers. A folder's frames must all have one size. Raises
    :class:`VideoError` with one line for what is not a clip.
    """
    path = Path(source)
    if not path.exists():
        raise VideoError(f"no such file or folder: {source}")
    if path.is_dir():
        files = frame_files(path)
        if not files:
            raise VideoError(f"{source} holds no frames (images named like frame_0001.png)")
        sizes = {}
        for file in files:
            sizes.setdefault(image_shape(file), file.name)
            if len(sizes) > 1:
                (first, one), (second, other) = sizes.items()
                raise VideoError(f"the frames in {source} have different sizes: {one} is "
                                 f"{first[1]}x{first[0]} px, {other} {second[1]}x{second[0]}")
        (height, width), = sizes
        return ClipInfo(len(files), height, width, DEFAULT_FPS)
    if path.suffix.lower() in FRAME_SUFFIXES:
        raise VideoError(f"{source} is one image, not a video (nstlab stylize paints one "
                         "picture; a clip is a video file or a folder of frames)")
    av = video_module("av")

    try:
        with av.open(os.fspath(path)) as container:
            if not container.streams.video:
                raise VideoError(f"{source} is not a video: it has no video stream")
            stream = container.streams.video[0]
            count = stream.frames or _count_frames(container, stream)
            fps = float(stream.average_rate or DEFAULT_FPS)
            height, width = stream.codec_context.height, stream.codec_context.width
    except (av.error.FFmpegError, UnicodeDecodeError) as error:
        raise VideoError(f"{source} is not a video FFmpeg can read ({_first_line(error)})"
                         ) from None
    if count == 0:
        raise VideoError(f"{source} has no frames")
    return ClipInfo(count, height, width, fps)


def _count_frames(container, stream) -> int:
    """Some containers (webm, mkv) do not record a frame count: count the packets."""
    count = sum(1 for packet in container.demux(stream) if packet.size)
    container.seek(0)
    return count


def _first_line(error: BaseException) -> str:
    return " ".join(str(error).split())[:200]


def read_frames(source, *, size: int | None = None) -> Iterator[np.ndarray]:
    """The frames of a video file or a folder of frames, one at a time (float32 RGB).

    ``size`` resizes each frame so that its longest side is ``size`` pixels.
    """
    path = Path(source)
    if path.is_dir():
        for file in frame_files(path):
            yield load_image(file, max_size=size)
        return
    av = video_module("av")

    with av.open(os.fspath(path)) as container:
        for frame in container.decode(video=0):
            yield load_image(frame.to_ndarray(format="rgb24"), max_size=size)


def check_encoder(output) -> str | None:
    """The encoder ``output``'s suffix needs, checked to exist (None for a folder).

    A suffix with no encoder here, or an FFmpeg built without it, is an
    :class:`~nstlab.base.validators.OptionError` naming both.
    """
    suffix = Path(output).suffix.lower()
    if suffix not in VIDEO_SUFFIXES:
        return None
    av = video_module("av")

    name = ENCODERS.get(suffix)
    try:
        av.codec.Codec(name, "w")
    except (av.error.FFmpegError, ValueError, TypeError):
        raise OptionError(f"cannot write {suffix} files: the encoder {name} is not in this "
                          f"FFmpeg (PyAV {av.__version__}); write a folder of frames or an .mp4"
                          ) from None
    return name


def write_video(frames: Iterable[np.ndarray], path, *, fps: float = DEFAULT_FPS) -> Path:
    """Encode ``frames`` to the video file ``path`` (written beside it, then renamed).

    Widths and heights are made even (H.264 needs it) by dropping the last column or row.
    """
    av = video_module("av")

    path = Path(path)
    encoder = check_encoder(path)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    with av.open(os.fspath(partial), "w") as container:
        stream = None
        for frame in frames:
            pixels = to_uint8(frame)
            if stream is None:
                even = encoder in ("libx264", "mpeg4", "libvpx-vp9")
                height, width = pixels.shape[:2]
                if even:
                    height, width = height - height % 2, width - width % 2
                stream = container.add_stream(encoder, rate=round(fps))
                stream.width, stream.height = width, height
                stream.pix_fmt = "rgb8" if encoder == "gif" else "yuv420p"
            pixels = np.ascontiguousarray(pixels[:stream.height, :stream.width])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
        if stream is None:
            raise VideoError(f"no frames to write to {path}")
        container.mux(stream.encode())
    os.replace(partial, path)
    return path


def frame_name(index: int) -> str:
    """The file name of frame ``index`` (0-based) in a folder of frames: frame_000001.png."""
    return f"frame_{index + 1:06d}.png"


def write_frame(frame: np.ndarray, folder, index: int) -> Path:
    """Save one frame into a folder of frames (atomically), named by :func:`frame_name`."""
    return save_image(frame, Path(folder) / frame_name(index))
