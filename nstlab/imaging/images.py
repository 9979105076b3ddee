"""Load, resize and save images as float32 RGB arrays.

Every function here speaks one pixel format: a numpy array of shape ``(H, W, 3)``,
dtype ``float32``, RGB channel order, values in ``[0, 1]``. Whatever comes in (a file
path, a ``PIL.Image.Image`` or an array) is converted to that format, and anything we
cannot convert safely raises :class:`ImageError` with a one-line message saying what
is wrong and with which input.

Example
-------
>>> from nstlab.imaging.images import load_image, save_image
>>> content = load_image("photo.jpg", max_size=512)   # doctest: +SKIP
>>> content.shape, content.dtype                      # doctest: +SKIP
((384, 512, 3), dtype('float32'))
>>> save_image(content, "out/photo_small.png")        # doctest: +SKIP
"""

from __future__ import annotations

import io
import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from nstlab.base.download import DownloadError, fetch_url
from nstlab.base.files import write_atomically

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "ImageError",
    "fit_within",
    "load_image",
    "resize_image",
    "save_image",
    "to_uint8",
]

DEFAULT_MAX_PIXELS = 40_000_000
"""Largest image (width * height) that :func:`load_image` opens unless told otherwise."""

MAX_PIXELS_ENV_VAR = "NSTLAB_MAX_PIXELS"

# Float pixels may stray this far outside [0, 1] (rounding noise) before we call it an error.
_FLOAT_TOLERANCE = 1e-3

_ARRAY_NAME = "array input"
_CORRUPT = "file is truncated or corrupt"

SAVE_FORMATS = {
    ".png": ("PNG", {}),
    ".jpg": ("JPEG", {"quality": 95}),
    ".jpeg": ("JPEG", {"quality": 95}),
    ".webp": ("WEBP", {"quality": 95}),
    ".bmp": ("BMP", {}),
    ".tif": ("TIFF", {}),
    ".tiff": ("TIFF", {}),
}

_SIXTEEN_BIT_MODES = ("I;16", "I;16L", "I;16B", "I;16N")


class ImageError(ValueError):
    """An image could not be loaded, converted or saved.

    The message is one line naming the input (a file, ``'array input'`` or a PIL image)
    and the problem. Because it is a ``ValueError``, ``except ValueError`` catches it too.
    """


# --------------------------------------------------------------------------- public API


def load_image(
    source: Any, max_size: int | None = None, *, max_pixels: int | None = None
) -> np.ndarray:
    """Load an image as a float32 RGB array with values in [0, 1].

    Parameters
    ----------
    source : str, os.PathLike, PIL.Image.Image or array-like
        A path to an image file; an ``http://`` or ``https://`` URL (downloaded with a
        timeout and a size cap, see :mod:`nstlab.base.download`); an image already opened
        with Pillow; or an array
        (numpy array, tf.Tensor, anything with ``__array__``) of shape ``(H, W)``,
        ``(H, W, 1)``, ``(H, W, 3)``, ``(H, W, 4)`` or a batch of one ``(1, H, W, C)``.
        Arrays may be uint8 (0..255), uint16 (0..65535), bool, or float already in
        [0, 1].
    max_size : int, optional
        If given, resize so the longest side is exactly ``max_size`` pixels, keeping the
        aspect ratio. Works for shrinking and enlarging.
    max_pixels : int, optional
        Refuse files or PIL images with more than this many pixels (width * height).
        Defaults to the ``NSTLAB_MAX_PIXELS`` environment variable if set, else
        ``DEFAULT_MAX_PIXELS`` (40 million).

    Returns
    -------
    numpy.ndarray
        C-contiguous float32 array of shape ``(H, W, 3)`` with values in [0, 1].

    Notes
    -----
    Files are turned upright using their EXIF orientation. Grayscale becomes RGB by
    copying the gray channel. Transparent pixels are blended over a white background.
    16-bit grayscale files keep their full precision. Only the first frame of an
    animated GIF is used.

    Raises
    ------
    ImageError
        If the file is missing, not an image, corrupt or too large, or if the array has
        a shape, dtype or values that are not an image.
    """
    if max_size is not None:
        _check_positive_int(max_size, "max_size")

    if isinstance(source, str) and "://" in source:
        pixels = _load_url(source, _pixel_cap(max_pixels))
    elif isinstance(source, (str, os.PathLike)):
        pixels = _load_file(source, _pixel_cap(max_pixels))
    elif isinstance(source, Image.Image):
        pixels = _pil_to_rgb(source, _pil_name(source), _pixel_cap(max_pixels))
    else:
        pixels = _array_to_rgb(source)

    if max_size is not None:
        height, width = fit_within(pixels.shape[0], pixels.shape[1], max_size)
        pixels = _resample(pixels, height, width)
    return np.ascontiguousarray(pixels, dtype=np.float32)


def image_shape(source: Any, *, max_pixels: int | None = None) -> tuple[int, int] | None:
    """The (height, width) :func:`load_image` would give, reading only a file's header.

    Upright, as after the EXIF rotation. Raises :class:`ImageError` for the same missing,
    unreadable or too large files as :func:`load_image` (a file whose header is fine but
    whose pixels are damaged is found only when it is loaded). ``None`` for a URL: its size
    is known only after the download.
    """
    if isinstance(source, str) and "://" in source:
        return None
    if isinstance(source, (str, os.PathLike)):
        name = _existing_file(source)
        with _open_lazily(name, name, _pixel_cap(max_pixels)) as opened:
            _check_pixel_count(opened.width * opened.height, name, _pixel_cap(max_pixels))
            height, width = opened.height, opened.width
            try:
                orientation = opened.getexif().get(_EXIF_ORIENTATION, 1)
            except Exception:  # a damaged EXIF block: load_image will say so
                orientation = 1
        return (width, height) if orientation in _ROTATED_ORIENTATIONS else (height, width)
    if isinstance(source, Image.Image):
        _check_pixel_count(source.width * source.height, _pil_name(source),
                           _pixel_cap(max_pixels))
        return source.height, source.width
    shape = _array_to_rgb(source).shape
    return shape[0], shape[1]


# EXIF orientations 5-8 turn the picture a quarter: width and height swap.
_EXIF_ORIENTATION = 0x0112
_ROTATED_ORIENTATIONS = (5, 6, 7, 8)


def resize_image(image: Any, size: int | tuple[int, int]) -> np.ndarray:
    """Resize an image with Lanczos resampling.

    Parameters
    ----------
    image : array-like, PIL.Image.Image or path
        Anything :func:`load_image` accepts, usually a float32 ``(H, W, 3)`` array.
    size : int or (int, int)
        An int sets the longest side (aspect ratio kept); a ``(height, width)`` tuple
        sets both sides exactly.

    Returns
    -------
    numpy.ndarray
        float32 array of shape ``(height, width, 3)`` with values in [0, 1].
    """
    pixels = load_image(image)
    if isinstance(size, tuple):
        if len(size) != 2:
            raise ImageError(f"size must be an int or a (height, width) tuple, got {size!r}")
        height = _check_positive_int(size[0], "height")
        width = _check_positive_int(size[1], "width")
    else:
        height, width = fit_within(pixels.shape[0], pixels.shape[1], size)
    return np.ascontiguousarray(_resample(pixels, height, width))


def fit_within(height: int, width: int, max_size: int) -> tuple[int, int]:
    """Scale ``(height, width)`` so the longest side is ``max_size``, keeping the aspect.

    Parameters
    ----------
    height, width : int
        The current size in pixels.
    max_size : int
        The wanted length of the longest side.

    Returns
    -------
    tuple of int
        ``(new_height, new_width)``; the shorter side is rounded and at least 1.

    Examples
    --------
    >>> fit_within(300, 400, 200)
    (150, 200)
    """
    height = _check_positive_int(height, "height")
    width = _check_positive_int(width, "width")
    max_size = _check_positive_int(max_size, "max_size")
    longest = max(height, width)
    return _scale_side(height, longest, max_size), _scale_side(width, longest, max_size)


def to_uint8(image: Any) -> np.ndarray:
    """Convert a float image in [0, 1] to uint8 in [0, 255], for display or saving.

    Values are clipped to [0, 1] first (optimisation often pushes pixels slightly out of
    range), then scaled by 255 and rounded.

    Parameters
    ----------
    image : array-like
        float array (numpy or tf.Tensor) of shape ``(H, W, 3)`` or ``(1, H, W, 3)``.

    Returns
    -------
    numpy.ndarray
        uint8 array of shape ``(H, W, 3)`` (a batch of one is unwrapped).

    Raises
    ------
    ImageError
        If the shape is wrong or some pixels are NaN or infinite.
    """
    pixels = _as_numpy(image, _ARRAY_NAME)
    if pixels.ndim == 4 and pixels.shape[0] == 1:
        pixels = pixels[0]
    if pixels.ndim != 3 or pixels.shape[2] != 3 or pixels.size == 0:
        raise ImageError(
            f"{_ARRAY_NAME} has shape {tuple(pixels.shape)}; expected (H, W, 3) or (1, H, W, 3)"
        )
    if pixels.dtype == np.uint8:
        return pixels.copy()
    if not (np.issubdtype(pixels.dtype, np.floating) or pixels.dtype == np.bool_):
        raise ImageError(
            f"{_ARRAY_NAME} has dtype {pixels.dtype}; expected float pixels in [0, 1] (or uint8)"
        )
    pixels = pixels.astype(np.float32)
    _check_finite(pixels, _ARRAY_NAME)
    return np.rint(np.clip(pixels, 0.0, 1.0) * 255.0).astype(np.uint8)


def save_image(image: Any, path: str | os.PathLike) -> Path:
    """Save a float image in [0, 1] as an 8-bit image file.

    The file is written atomically: the pixels go to a temporary file in the same folder
    which then replaces ``path`` in one step, so a crash never leaves a half-written
    image and an existing file is only replaced once the new one is complete.

    Parameters
    ----------
    image : array-like
        float array (numpy or tf.Tensor) of shape ``(H, W, 3)`` or ``(1, H, W, 3)``.
        Values outside [0, 1] are clipped.
    path : str or os.PathLike
        Where to write. The suffix picks the format: ``.png``, ``.jpg``/``.jpeg``
        (quality 95), ``.webp`` (quality 95), ``.bmp`` or ``.tif``/``.tiff``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ImageError
        For an unknown suffix, a missing folder, non-finite pixels or a failed write.
    """
    target = Path(path)
    name = os.fspath(path)
    suffix = target.suffix.lower()
    if suffix not in SAVE_FORMATS:
        known = ", ".join(SAVE_FORMATS)
        raise ImageError(f"cannot write '{name}': unknown image suffix {suffix!r} (use {known})")
    folder = target.parent
    if not folder.is_dir():
        problem = "is not a directory" if folder.exists() else "does not exist"
        raise ImageError(f"cannot write '{name}': directory '{folder}' {problem}")
    if target.is_dir():
        raise ImageError(f"cannot write '{name}': it is a directory")

    try:
        write_atomically(target, encode_image(image, suffix))
    except OSError as error:  # a full disk, no permission, or Pillow's encoder failing
        raise ImageError(f"cannot write '{name}': {error.strerror or _one_line(error)}") from error
    return target


def encode_image(image: Any, suffix: str) -> bytes:
    """The bytes of an 8-bit image file in the format ``suffix`` names (``".png"`` ...).

    What :func:`save_image` writes; useful to write the same image somewhere else when the
    first place fails.
    """
    if suffix.lower() not in SAVE_FORMATS:
        known = ", ".join(SAVE_FORMATS)
        raise ImageError(f"unknown image suffix {suffix!r} (use {known})")
    image_format, options = SAVE_FORMATS[suffix.lower()]
    buffer = io.BytesIO()
    Image.fromarray(to_uint8(image)).save(buffer, image_format, **options)
    return buffer.getvalue()


# ------------------------------------------------------------------------ loading files


def _load_file(path: str | os.PathLike, max_pixels: int) -> np.ndarray:
    name = _existing_file(path)
    return _decode(name, name, max_pixels)


def _existing_file(path: str | os.PathLike) -> str:
    """The path as text, or an :class:`ImageError` when it is not a non-empty file."""
    name = os.fsdecode(os.fspath(path))
    if os.path.isdir(name):
        raise ImageError(f"'{name}' is a directory, not an image file")
    if not os.path.exists(name):
        raise ImageError(f"no such file: '{name}'")
    if os.path.getsize(name) == 0:
        raise ImageError(f"cannot read image '{name}': file is empty")
    return name


def _load_url(url: str, max_pixels: int) -> np.ndarray:
    try:
        data = fetch_url(url)
    except DownloadError as error:
        raise ImageError(str(error)) from None
    if not data:
        raise ImageError(f"cannot read image '{url}': the download is empty")
    return _decode(io.BytesIO(data), url, max_pixels)


def _decode(file: Any, name: str, max_pixels: int) -> np.ndarray:
    """Open ``file`` (a path or a binary file object) with Pillow, as RGB float pixels."""
    with _open_lazily(file, name, max_pixels) as opened:
        return _pil_to_rgb(opened, name, max_pixels)


def _open_lazily(file: Any, name: str, max_pixels: int) -> Image.Image:
    """Open ``file`` with Pillow, reading only its header (the pixels load on first use)."""
    with warnings.catch_warnings():
        # We enforce our own cap below; Pillow's warning would only repeat it.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            opened = Image.open(file)
        except UnidentifiedImageError:
            raise ImageError(f"'{name}' is not an image file") from None
        except Image.DecompressionBombError as error:
            raise _too_large_error(name, error, max_pixels) from None
        except OSError as error:
            # An errno means the operating system refused (e.g. permission denied);
            # without one, Pillow gave up on the file's header.
            reason = (error.strerror or str(error)) if error.errno is not None else _CORRUPT
            raise ImageError(f"cannot read image '{name}': {reason}") from error
        except Exception as error:  # Pillow plugins raise many types on malformed headers
            raise ImageError(f"cannot read image '{name}': {_CORRUPT}") from error
    return opened


def _pil_to_rgb(image: Image.Image, name: str, max_pixels: int) -> np.ndarray:
    """Decode a (possibly lazily opened) PIL image into float32 (H, W, 3) in [0, 1]."""
    _check_pixel_count(image.width * image.height, name, max_pixels)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image.load()
            upright = ImageOps.exif_transpose(image)
        except MemoryError:
            raise
        except Image.DecompressionBombError as error:
            raise _too_large_error(name, error, max_pixels) from None
        except Exception as error:  # OSError, SyntaxError, ValueError, EOFError, struct.error...
            raise ImageError(f"cannot read image '{name}': {_CORRUPT}") from error
    try:
        return _to_rgb(_pil_to_float(upright, name))
    except ImageError:
        raise
    except Exception as error:  # a mode Pillow cannot convert to RGB
        message = f"cannot convert image '{name}' from mode {upright.mode!r} to RGB"
        raise ImageError(message) from error


def _pil_to_float(image: Image.Image, name: str) -> np.ndarray:
    """PIL image -> float32 array in [0, 1] with 1 to 4 channels (alpha kept)."""
    mode = image.mode
    if mode in _SIXTEEN_BIT_MODES:
        return np.asarray(image, dtype=np.float32) / 65535.0
    if mode == "I":
        # Pillow opens some 16-bit files as 32-bit "I"; their values are 0..65535.
        return np.clip(np.asarray(image, dtype=np.float32) / 65535.0, 0.0, 1.0)
    if mode == "F":
        return _float_to_unit_range(np.asarray(image, dtype=np.float32), f"image '{name}'")
    if mode == "1":
        return np.asarray(image, dtype=np.float32)
    if mode in ("L", "LA", "RGB", "RGBA") and "transparency" not in image.info:
        return np.asarray(image, dtype=np.float32) / 255.0
    if mode in ("L", "RGB", "P", "PA", "La", "RGBa", "LA", "RGBA"):
        # Palette and premultiplied modes, or a tRNS colour key: Pillow resolves all to RGBA.
        has_alpha = "A" in mode or "a" in mode or "transparency" in image.info
        return np.asarray(image.convert("RGBA" if has_alpha else "RGB"), dtype=np.float32) / 255.0
    # CMYK, YCbCr, LAB, HSV, RGBX, ...: Pillow knows how to get to RGB.
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def _pil_name(image: Image.Image) -> str:
    filename = getattr(image, "filename", "")
    return os.fspath(filename) if filename else "PIL image input"


# ----------------------------------------------------------------------- loading arrays


def _array_to_rgb(source: Any) -> np.ndarray:
    pixels = _as_numpy(source, _ARRAY_NAME)
    shape = tuple(pixels.shape)
    if pixels.ndim == 4 and shape[0] == 1:
        pixels = pixels[0]
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    if pixels.ndim != 3 or pixels.shape[2] not in (1, 3, 4) or pixels.size == 0:
        raise ImageError(
            f"{_ARRAY_NAME} has shape {shape}; expected (H, W), (H, W, 1), (H, W, 3), "
            "(H, W, 4) or a batch of one (1, H, W, C)"
        )
    return _to_rgb(_scale_to_unit_range(pixels))


def _as_numpy(source: Any, name: str) -> np.ndarray:
    if isinstance(source, (str, bytes)) or not (
        isinstance(source, (np.ndarray, list, tuple)) or hasattr(source, "__array__")
    ):
        raise ImageError(
            f"unsupported image input of type {type(source).__name__}; "
            "pass a file path, a PIL image or an array"
        )
    try:
        return np.asarray(source)
    except Exception as error:
        raise ImageError(f"{name} cannot be converted to an array: {_one_line(error)}") from None


def _scale_to_unit_range(pixels: np.ndarray) -> np.ndarray:
    dtype = pixels.dtype
    if dtype == np.bool_:
        return pixels.astype(np.float32)
    if dtype.kind == "u" and dtype.itemsize in (1, 2):  # uint8 or uint16, any byte order
        full_scale = 255.0 if dtype.itemsize == 1 else 65535.0
        return pixels.astype(np.float32) / np.float32(full_scale)
    if np.issubdtype(dtype, np.floating):
        return _float_to_unit_range(pixels.astype(np.float32), _ARRAY_NAME)
    if np.issubdtype(dtype, np.integer):
        raise ImageError(
            f"{_ARRAY_NAME} has dtype {dtype}; integer pixels must be uint8 (0..255) or "
            "uint16 (0..65535), e.g. use .astype(np.uint8)"
        )
    raise ImageError(f"{_ARRAY_NAME} has unsupported dtype {dtype}")


def _float_to_unit_range(pixels: np.ndarray, name: str) -> np.ndarray:
    _check_finite(pixels, name)
    low, high = float(pixels.min()), float(pixels.max())
    if low < -_FLOAT_TOLERANCE or high > 1.0 + _FLOAT_TOLERANCE:
        hint = "; divide by 255 first" if low >= -_FLOAT_TOLERANCE and high <= 255.5 else ""
        raise ImageError(
            f"{name} has values from {low:g} to {high:g}; float pixels must be in [0, 1]{hint}"
        )
    return np.clip(pixels, 0.0, 1.0)


def _check_finite(pixels: np.ndarray, name: str) -> None:
    if not np.all(np.isfinite(pixels)):
        raise ImageError(f"{name} contains NaN or infinite values")


def _to_rgb(pixels: np.ndarray) -> np.ndarray:
    """float (H, W) or (H, W, 1..4) in [0, 1] -> (H, W, 3), alpha blended over white."""
    if pixels.ndim == 2:
        pixels = pixels[:, :, np.newaxis]
    channels = pixels.shape[2]
    if channels in (2, 4):
        color, alpha = pixels[:, :, :-1], pixels[:, :, -1:]
        pixels = color * alpha + (1.0 - alpha)
    if pixels.shape[2] == 1:
        pixels = np.repeat(pixels, 3, axis=2)
    return np.ascontiguousarray(pixels, dtype=np.float32)


# ----------------------------------------------------------------------------- resizing


def _resample(pixels: np.ndarray, height: int, width: int) -> np.ndarray:
    """Lanczos-resize float32 (H, W, 3) one channel at a time in Pillow's float mode "F"."""
    if pixels.shape[:2] == (height, width):
        return pixels.copy()
    channels = [
        np.asarray(
            Image.fromarray(np.ascontiguousarray(pixels[:, :, c])).resize(
                (width, height), Image.Resampling.LANCZOS
            ),
            dtype=np.float32,
        )
        for c in range(pixels.shape[2])
    ]
    # Lanczos overshoots near sharp edges, so clip back into range.
    return np.clip(np.stack(channels, axis=2), 0.0, 1.0)


def _scale_side(side: int, longest: int, max_size: int) -> int:
    # Integer arithmetic rounds half up without float surprises.
    return max(1, (2 * side * max_size + longest) // (2 * longest))


# ------------------------------------------------------------------------- size limits


def _pixel_cap(max_pixels: int | None) -> int:
    if max_pixels is not None:
        return _check_positive_int(max_pixels, "max_pixels")
    from_env = os.environ.get(MAX_PIXELS_ENV_VAR)
    if from_env is None or not from_env.strip():
        return DEFAULT_MAX_PIXELS
    try:
        cap = int(from_env)
    except ValueError:
        cap = 0
    if cap <= 0:
        raise ImageError(f"{MAX_PIXELS_ENV_VAR} must be a positive integer, got {from_env!r}")
    return cap


def _check_pixel_count(pixels: int, name: str, max_pixels: int) -> None:
    if pixels > max_pixels:
        raise ImageError(
            f"image '{name}' has {pixels} pixels, over the limit of {max_pixels} "
            f"(set max_pixels= or {MAX_PIXELS_ENV_VAR} to raise it)"
        )


def _too_large_error(name: str, error: Exception, max_pixels: int) -> ImageError:
    """Turn Pillow's DecompressionBombError into our own message."""
    found = re.search(r"\((\d+) pixels\)", str(error))
    if found is None:
        return ImageError(f"image '{name}' is too large to open safely: {_one_line(error)}")
    pixels = int(found.group(1))
    if pixels > max_pixels:
        return ImageError(
            f"image '{name}' has {pixels} pixels, over the limit of {max_pixels} "
            f"(set max_pixels= or {MAX_PIXELS_ENV_VAR} to raise it)"
        )
    return ImageError(
        f"image '{name}' has {pixels} pixels, over Pillow's own safety limit "
        "(raise PIL.Image.MAX_IMAGE_PIXELS as well to open it)"
    )


# ----------------------------------------------------------------------------- helpers


def _check_positive_int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ImageError(f"{what} must be a positive integer, got {value!r}")
    return int(value)


def _one_line(error: Exception) -> str:
    return " ".join(str(error).split()) or type(error).__name__

