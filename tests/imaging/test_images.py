"""Tests for nstlab.imaging.images: loading, resizing and saving images."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from nstlab.base import files
from nstlab.imaging.data import photo_path
from nstlab.imaging.images import (
    DEFAULT_MAX_PIXELS,
    ImageError,
    fit_within,
    load_image,
    resize_image,
    save_image,
    to_uint8,
)

RED = (255, 0, 0)
BLUE = (0, 0, 255)


@contextlib.contextmanager
def raises_image_error(*fragments: str):
    """Expect an ImageError (a ValueError) whose one-line message contains every fragment."""
    pattern = "".join(f"(?=.*{re.escape(fragment)})" for fragment in fragments)
    with pytest.raises(ImageError, match=pattern) as info:
        yield info
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)


def save_pil(image: Image.Image, path: Path, **options) -> Path:
    image.save(path, **options)
    return path


def two_colour_image(width: int, height: int) -> Image.Image:
    """Left half red, right half blue."""
    image = Image.new("RGB", (width, height), RED)
    image.paste(BLUE, (width // 2, 0, width, height))
    return image


# ------------------------------------------------------------------------ file modes


def test_image_error_is_a_value_error():
    assert issubclass(ImageError, ValueError)


def test_rgb_png_loads_as_float32_rgb(tmp_path):
    path = save_pil(two_colour_image(6, 4), tmp_path / "rgb.png")
    pixels = load_image(path)
    assert pixels.shape == (4, 6, 3)
    assert pixels.dtype == np.float32
    assert pixels.flags.c_contiguous
    np.testing.assert_array_equal(pixels[0, 0], [1, 0, 0])
    np.testing.assert_array_equal(pixels[0, -1], [0, 0, 1])


def test_load_accepts_str_path(tmp_path):
    path = save_pil(Image.new("RGB", (3, 2), RED), tmp_path / "rgb.png")
    assert load_image(str(path)).shape == (2, 3, 3)


def test_grayscale_l_is_replicated_to_rgb(tmp_path):
    gray = Image.fromarray(np.array([[0, 51, 255]], dtype=np.uint8))
    pixels = load_image(save_pil(gray, tmp_path / "gray.png"))
    assert pixels.shape == (1, 3, 3)
    np.testing.assert_allclose(pixels[0, :, 0], [0, 0.2, 1], atol=1e-6)
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 1])
    np.testing.assert_array_equal(pixels[..., 0], pixels[..., 2])


def test_one_bit_image_is_black_and_white(tmp_path):
    image = Image.new("1", (2, 1), 0)
    image.putpixel((1, 0), 1)
    pixels = load_image(save_pil(image, tmp_path / "bits.png"))
    np.testing.assert_array_equal(pixels[0], [[0, 0, 0], [1, 1, 1]])


def test_sixteen_bit_png_keeps_precision(tmp_path):
    values = np.array([[0, 1000, 65535]], dtype=np.uint16)
    path = save_pil(Image.fromarray(values), tmp_path / "deep.png")
    pixels = load_image(path)
    np.testing.assert_allclose(pixels[0, :, 0], values[0] / 65535, rtol=1e-6)
    assert pixels[0, 1, 0] > 0  # 1000 would truncate to 0 at 8 bits


def test_big_endian_sixteen_bit_tiff_keeps_precision(tmp_path):
    values = np.array([[0, 1000, 65535]], dtype=">u2")
    image = Image.frombytes("I;16B", (3, 1), values.tobytes())
    pixels = load_image(save_pil(image, tmp_path / "deep.tif"))
    np.testing.assert_allclose(pixels[0, :, 1], values[0] / 65535, rtol=1e-6)


def test_rgba_is_composited_over_white(tmp_path):
    image = Image.new("RGBA", (3, 1))
    image.putpixel((0, 0), (255, 0, 0, 255))  # opaque red
    image.putpixel((1, 0), (0, 0, 0, 0))  # fully transparent
    image.putpixel((2, 0), (0, 0, 0, 51))  # 20 % black
    pixels = load_image(save_pil(image, tmp_path / "rgba.png"))
    np.testing.assert_allclose(pixels[0, 0], [1, 0, 0])
    np.testing.assert_allclose(pixels[0, 1], [1, 1, 1])
    np.testing.assert_allclose(pixels[0, 2], [0.8, 0.8, 0.8], atol=1e-6)


def test_la_is_composited_over_white(tmp_path):
    image = Image.new("LA", (2, 1))
    image.putpixel((0, 0), (0, 255))
    image.putpixel((1, 0), (0, 0))
    pixels = load_image(save_pil(image, tmp_path / "la.png"))
    np.testing.assert_allclose(pixels[0], [[0, 0, 0], [1, 1, 1]])


def palette_image() -> Image.Image:
    image = Image.new("P", (2, 1))
    image.putpalette([0, 0, 0, 255, 0, 0] + [0] * (256 * 3 - 6))
    image.putpixel((0, 0), 0)
    image.putpixel((1, 0), 1)
    return image


def test_palette_without_transparency(tmp_path):
    pixels = load_image(save_pil(palette_image(), tmp_path / "pal.png"))
    np.testing.assert_allclose(pixels[0], [[0, 0, 0], [1, 0, 0]])


def test_palette_with_transparency_is_composited_over_white(tmp_path):
    path = save_pil(palette_image(), tmp_path / "pal_t.png", transparency=0)
    pixels = load_image(path)
    np.testing.assert_allclose(pixels[0], [[1, 1, 1], [1, 0, 0]])


def test_rgb_png_with_transparent_colour_key(tmp_path):
    path = save_pil(two_colour_image(2, 1), tmp_path / "key.png", transparency=BLUE)
    pixels = load_image(path)
    np.testing.assert_allclose(pixels[0], [[1, 0, 0], [1, 1, 1]])


def test_cmyk_jpeg_is_converted_to_rgb(tmp_path):
    image = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # red in CMYK
    pixels = load_image(save_pil(image, tmp_path / "cmyk.jpg", quality=95))
    assert pixels.shape == (16, 16, 3)
    np.testing.assert_allclose(pixels.mean(axis=(0, 1)), [1, 0, 0], atol=0.05)


def test_animated_gif_loads_first_frame(tmp_path):
    frames = [Image.new("RGB", (4, 4), colour) for colour in (RED, BLUE)]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(path) as gif:
        assert gif.n_frames == 2
    pixels = load_image(path)
    np.testing.assert_allclose(pixels.mean(axis=(0, 1)), [1, 0, 0], atol=1e-6)


def test_exif_orientation_is_applied(tmp_path):
    image = two_colour_image(32, 16)  # wide: red left, blue right
    exif = image.getexif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    path = save_pil(image, tmp_path / "rotated.jpg", exif=exif, quality=95)
    pixels = load_image(path)
    assert pixels.shape == (32, 16, 3)  # now tall
    np.testing.assert_allclose(pixels[:12].mean(axis=(0, 1)), [1, 0, 0], atol=0.1)
    np.testing.assert_allclose(pixels[-12:].mean(axis=(0, 1)), [0, 0, 1], atol=0.1)


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (Image.new("RGB", (2, 1), RED), [1, 0, 0]),
        (Image.new("I", (2, 1), 1000), [1000 / 65535] * 3),
        (Image.new("F", (2, 1), 0.25), [0.25] * 3),
        (Image.new("RGBa", (2, 1), (0, 0, 0, 0)), [1, 1, 1]),
        (Image.new("YCbCr", (2, 1), (255, 128, 128)), [1, 1, 1]),
    ],
    ids=["RGB", "I", "F", "RGBa", "YCbCr"],
)
def test_pil_image_input(image, expected):
    pixels = load_image(image)
    assert pixels.shape == (1, 2, 3)
    np.testing.assert_allclose(pixels[0, 0], expected, atol=1e-6)


def test_pil_image_with_float_pixels_out_of_range():
    with raises_image_error("PIL image input", "float pixels must be in [0, 1]"):
        load_image(Image.new("F", (2, 1), 200.0))


# ---------------------------------------------------------------------- file errors


@pytest.mark.parametrize("size", [64, 256], ids=["cut-in-header", "cut-in-pixel-data"])
def test_truncated_jpeg(tmp_path, size):
    noise = np.random.default_rng(0).integers(0, 256, (size, size, 3), dtype=np.uint8)
    path = save_pil(Image.fromarray(noise), tmp_path / "cut.jpg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with raises_image_error(f"cannot read image '{path}'", "truncated or corrupt"):
        load_image(path)
    assert not ImageFile.LOAD_TRUNCATED_IMAGES


def test_truncated_png(tmp_path):
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    path = save_pil(Image.fromarray(noise), tmp_path / "cut.png")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with raises_image_error(f"cannot read image '{path}'", "truncated or corrupt"):
        load_image(path)


def test_zero_byte_file(tmp_path):
    path = tmp_path / "empty.jpg"
    path.touch()
    with raises_image_error(f"'{path}'", "empty"):
        load_image(path)


def test_text_file_named_jpg(tmp_path):
    path = tmp_path / "notes.jpg"
    path.write_text("these are my notes, not a photo\n")
    with raises_image_error(f"'{path}' is not an image file"):
        load_image(path)


def test_missing_file(tmp_path):
    path = tmp_path / "missing.jpg"
    with raises_image_error(f"no such file: '{path}'"):
        load_image(path)


def test_directory(tmp_path):
    with raises_image_error(f"'{tmp_path}' is a directory, not an image file"):
        load_image(tmp_path)


@pytest.fixture(scope="module")
def huge_png(tmp_path_factory) -> Path:
    """8000 x 6000 = 48 million pixels (over the default cap) in a file of a few KB."""
    path = tmp_path_factory.mktemp("bomb") / "huge.png"
    Image.new("1", (8000, 6000)).save(path)
    return path


@pytest.fixture
def no_decoding(monkeypatch):
    """Make any attempt to decode pixel data fail loudly."""

    def refuse(self):
        raise AssertionError("pixel data was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


def test_too_many_pixels_default_cap(huge_png, monkeypatch, no_decoding):
    monkeypatch.delenv("NSTLAB_MAX_PIXELS", raising=False)
    assert 8000 * 6000 > DEFAULT_MAX_PIXELS
    with raises_image_error(
        f"image '{huge_png}' has 48000000 pixels, over the limit of 40000000", "max_pixels="
    ):
        load_image(huge_png)


def test_too_many_pixels_argument(huge_png, no_decoding):
    with raises_image_error(f"image '{huge_png}'", "over the limit of 1000000"):
        load_image(huge_png, max_pixels=1_000_000)


def test_too_many_pixels_env_var(huge_png, monkeypatch, no_decoding):
    monkeypatch.setenv("NSTLAB_MAX_PIXELS", "1000000")
    with raises_image_error(f"image '{huge_png}'", "over the limit of 1000000"):
        load_image(huge_png)


def test_max_pixels_argument_wins_over_env_var(tmp_path, monkeypatch):
    path = save_pil(Image.new("RGB", (10, 10)), tmp_path / "small.png")
    monkeypatch.setenv("NSTLAB_MAX_PIXELS", "50")
    with raises_image_error(f"image '{path}'", "over the limit of 50"):
        load_image(path)
    assert load_image(path, max_pixels=100).shape == (10, 10, 3)


def test_invalid_env_var(tmp_path, monkeypatch):
    path = save_pil(Image.new("RGB", (2, 2)), tmp_path / "small.png")
    monkeypatch.setenv("NSTLAB_MAX_PIXELS", "lots")
    with raises_image_error("NSTLAB_MAX_PIXELS must be a positive integer", "'lots'"):
        load_image(path)


def test_pillow_decompression_bomb_error_becomes_image_error(tmp_path, monkeypatch):
    path = save_pil(Image.new("RGB", (100, 100)), tmp_path / "bomb.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow refuses over 2000
    with raises_image_error(f"image '{path}' has 10000 pixels", "over the limit of 5000"):
        load_image(path, max_pixels=5000)
    with raises_image_error(f"image '{path}' has 10000 pixels", "Pillow"):
        load_image(path, max_pixels=20_000)


def test_pillow_decompression_bomb_warning_is_not_leaked(tmp_path, monkeypatch, recwarn):
    path = save_pil(Image.new("RGB", (40, 40)), tmp_path / "warn.png")
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # Pillow warns over 1000
    assert load_image(path).shape == (40, 40, 3)
    assert not [w for w in recwarn if issubclass(w.category, Image.DecompressionBombWarning)]


# ----------------------------------------------------------------------------- arrays


class ArrayLike:
    """Stands in for a tf.Tensor: anything with __array__."""

    def __init__(self, values):
        self.values = values

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.values, dtype=dtype)


@pytest.mark.parametrize(
    ("array", "expected"),
    [
        (np.full((2, 3), 51, np.uint8), 0.2),
        (np.full((2, 3, 1), 1000, np.uint16), 1000 / 65535),
        (np.full((2, 3, 3), 65535, ">u2"), 1.0),
        (np.ones((2, 3), bool), 1.0),
        (np.full((2, 3, 3), 0.5, np.float16), 0.5),
        (np.full((2, 3, 3), 0.5, np.float32), 0.5),
        (np.full((1, 2, 3, 3), 0.5, np.float64), 0.5),
        (np.full((2, 3, 3), 1.0005), 1.0),
        (np.full((2, 3, 3), -0.0005), 0.0),
        (ArrayLike(np.full((1, 2, 3, 3), 0.25, np.float32)), 0.25),
        ([[0.5, 0.5, 0.5], [0.5, 0.5, 0.5]], 0.5),
    ],
    ids=[
        "uint8-HW",
        "uint16-HW1",
        "uint16-bigendian",
        "bool",
        "float16",
        "float32",
        "float64-batch",
        "float-slightly-over",
        "float-slightly-under",
        "array-protocol",
        "nested-list",
    ],
)
def test_array_input(array, expected):
    pixels = load_image(array)
    assert pixels.shape == (2, 3, 3)
    assert pixels.dtype == np.float32
    assert pixels.flags.c_contiguous
    np.testing.assert_allclose(pixels, expected, rtol=1e-6)


def test_rgba_array_is_composited_over_white():
    rgba = np.array([[[255, 0, 0, 255], [0, 0, 0, 0]]], dtype=np.uint8)
    np.testing.assert_allclose(load_image(rgba)[0], [[1, 0, 0], [1, 1, 1]])


def test_array_input_is_not_modified():
    array = np.full((2, 2, 3), 0.5, np.float32)
    pixels = load_image(array)
    pixels[:] = 0
    assert np.all(array == 0.5)


def test_float_array_in_0_255_range():
    with raises_image_error("array input", "float pixels must be in [0, 1]; divide by 255 first"):
        load_image(np.full((2, 2, 3), 128.0))


def test_float_array_with_negative_values():
    with raises_image_error("array input", "float pixels must be in [0, 1]"):
        load_image(np.full((2, 2, 3), -100.0))


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_non_finite_array(bad_value):
    array = np.zeros((2, 2, 3), np.float32)
    array[1, 1, 1] = bad_value
    with raises_image_error("array input", "NaN or infinite"):
        load_image(array)


@pytest.mark.parametrize(
    "shape", [(0, 3, 3), (2, 0), (3,), (2, 3, 2), (2, 3, 5), (2, 2, 3, 3), (1, 1, 2, 3, 3)]
)
def test_bad_array_shape(shape):
    with raises_image_error("array input", f"shape {shape}"):
        load_image(np.zeros(shape, np.float32))


def test_integer_array_that_is_not_uint8_or_uint16():
    with raises_image_error("array input", "int64", "uint8"):
        load_image(np.zeros((2, 2, 3), np.int64))


@pytest.mark.parametrize("source", [None, 42, b"bytes"])
def test_unsupported_input_type(source):
    with raises_image_error("unsupported image input", type(source).__name__):
        load_image(source)


# --------------------------------------------------------------------------- resizing


@pytest.mark.parametrize(
    ("height", "width", "max_size", "expected"),
    [
        (300, 400, 200, (150, 200)),
        (400, 300, 200, (200, 150)),
        (100, 100, 7, (7, 7)),
        (10, 1000, 50, (1, 50)),  # 0.5 rounds up
        (1, 1000, 10, (1, 10)),  # never below 1
        (3, 5, 500, (300, 500)),
    ],
)
def test_fit_within(height, width, max_size, expected):
    assert fit_within(height, width, max_size) == expected


@pytest.mark.parametrize("max_size", [0, -5, 2.5, True])
def test_fit_within_rejects_bad_max_size(max_size):
    with raises_image_error("max_size must be a positive integer"):
        fit_within(10, 10, max_size)


def test_max_size_shrinks_keeping_aspect(tmp_path):
    path = save_pil(two_colour_image(60, 30), tmp_path / "wide.png")
    pixels = load_image(path, max_size=20)
    assert pixels.shape == (10, 20, 3)
    assert pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 1
    np.testing.assert_allclose(pixels[5, 0], [1, 0, 0], atol=1e-3)
    np.testing.assert_allclose(pixels[5, -1], [0, 0, 1], atol=1e-3)


def test_max_size_enlarges_keeping_aspect():
    pixels = load_image(np.full((30, 10, 3), 0.5, np.float32), max_size=90)
    assert pixels.shape == (90, 30, 3)
    np.testing.assert_allclose(pixels, 0.5, atol=1e-5)


def test_max_size_equal_to_size_keeps_pixels():
    array = np.random.default_rng(1).random((5, 8, 3), dtype=np.float32)
    np.testing.assert_array_equal(load_image(array, max_size=8), array)


def test_max_size_must_be_positive():
    with raises_image_error("max_size must be a positive integer, got 0"):
        load_image(np.zeros((2, 2, 3)), max_size=0)


def test_resize_keeps_precision_beyond_8_bits():
    array = np.full((4, 4, 3), 1000 / 65535, np.float32)
    np.testing.assert_allclose(resize_image(array, 8), 1000 / 65535, rtol=1e-4)


def test_resize_image_with_tuple():
    pixels = resize_image(np.zeros((10, 10, 3), np.float32), (7, 13))
    assert pixels.shape == (7, 13, 3)
    assert pixels.dtype == np.float32


def test_resize_image_with_int_and_batch_input():
    pixels = resize_image(np.zeros((1, 10, 20, 3), np.float32), 5)
    assert pixels.shape == (3, 5, 3)  # 2.5 rounds up


def test_resize_clips_lanczos_overshoot():
    checkerboard = (np.indices((16, 16)).sum(axis=0) % 2).astype(np.float32)
    pixels = resize_image(np.repeat(checkerboard[..., None], 3, axis=2), (37, 37))
    assert pixels.min() >= 0 and pixels.max() <= 1


@pytest.mark.parametrize("size", [(0, 5), (5,), (2, 3, 4), -1])
def test_resize_image_rejects_bad_size(size):
    with raises_image_error("must be"):
        resize_image(np.zeros((4, 4, 3), np.float32), size)


# ---------------------------------------------------------------------------- to_uint8


def test_to_uint8_rounds_and_clips():
    image = np.array([[[0.0, 0.5, 1.0], [-0.2, 1.7, 0.1]]], np.float32)
    np.testing.assert_array_equal(to_uint8(image), [[[0, 128, 255], [0, 255, 26]]])
    assert to_uint8(image).dtype == np.uint8


def test_to_uint8_accepts_batch_of_one_and_array_protocol():
    batch = ArrayLike(np.full((1, 2, 3, 3), 1.0, np.float32))
    assert to_uint8(batch).shape == (2, 3, 3)


def test_to_uint8_rejects_nan():
    with raises_image_error("array input", "NaN"):
        to_uint8(np.full((2, 2, 3), np.nan))


def test_to_uint8_rejects_bad_shape():
    with raises_image_error("array input", "shape (2, 2)"):
        to_uint8(np.zeros((2, 2)))


# ------------------------------------------------------------------------------ saving


def test_save_load_round_trip_png(tmp_path):
    image = np.random.default_rng(2).random((9, 7, 3), dtype=np.float32)
    path = save_image(image, tmp_path / "out.png")
    assert path == tmp_path / "out.png"
    assert isinstance(path, Path)
    np.testing.assert_allclose(load_image(path), image, atol=0.5 / 255 + 1e-6)


@pytest.mark.parametrize(
    ("suffix", "tolerance"),
    [(".png", 0), (".PNG", 0), (".bmp", 0), (".tif", 0), (".jpg", 0.05), (".jpeg", 0.05)]
    + [(".webp", 0.05)],
)
def test_save_formats(tmp_path, suffix, tolerance):
    image = np.full((16, 16, 3), 0.4, np.float32)
    path = save_image(image, tmp_path / f"out{suffix}")
    np.testing.assert_allclose(load_image(path), np.rint(0.4 * 255) / 255, atol=tolerance + 1e-6)


def test_save_accepts_batch_and_string_path(tmp_path):
    path = save_image(np.zeros((1, 3, 4, 3)), str(tmp_path / "batch.png"))
    assert isinstance(path, Path)
    assert load_image(path).shape == (3, 4, 3)


def test_save_overwrites_existing_file(tmp_path):
    target = tmp_path / "out.png"
    save_image(np.zeros((2, 2, 3)), target)
    save_image(np.ones((3, 3, 3)), target)
    np.testing.assert_array_equal(load_image(target), 1.0)
    assert os.listdir(tmp_path) == ["out.png"]


def fail(*args, **kwargs):
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize(
    ("owner", "attribute"),
    [(files.os, "replace"), (files.os, "fsync"), (Image.Image, "save")],
    ids=["replace", "fsync", "encode"],
)
def test_save_is_atomic(tmp_path, monkeypatch, owner, attribute):
    target = tmp_path / "out.png"
    save_image(np.zeros((2, 2, 3)), target)
    before = target.read_bytes()
    monkeypatch.setattr(owner, attribute, fail)

    with raises_image_error(f"cannot write '{target}'", "No space left on device"):
        save_image(np.ones((2, 2, 3)), target)

    monkeypatch.undo()
    assert target.read_bytes() == before
    assert os.listdir(tmp_path) == ["out.png"]


def test_failed_save_leaves_no_file_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(files.os, "replace", fail)
    with raises_image_error("cannot write"):
        save_image(np.zeros((2, 2, 3)), tmp_path / "new.png")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_saved_file_permissions_follow_umask(tmp_path):
    umask = os.umask(0o022)
    try:
        path = save_image(np.zeros((2, 2, 3)), tmp_path / "perm.png")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_save_unknown_suffix(tmp_path):
    path = tmp_path / "out.gifv"
    with raises_image_error(f"cannot write '{path}'", "unknown image suffix '.gifv'"):
        save_image(np.zeros((2, 2, 3)), path)
    assert not path.exists()


def test_save_missing_parent_directory(tmp_path):
    path = tmp_path / "x" / "y.png"
    with raises_image_error(f"cannot write '{path}': directory '{tmp_path / 'x'}' does not exist"):
        save_image(np.zeros((2, 2, 3)), path)


def test_save_refuses_non_finite_pixels(tmp_path):
    image = np.zeros((2, 2, 3))
    image[0, 0, 0] = np.inf
    with raises_image_error("NaN or infinite"):
        save_image(image, tmp_path / "bad.png")
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------- property test


def encode(mode: str, data: np.ndarray) -> Image.Image:
    """Make a PIL image of ``mode`` from random integers of shape (H, W, 4)."""
    height, width = data.shape[:2]
    if mode == "I;16":
        return Image.frombytes(mode, (width, height), data[..., 0].astype("<u2").tobytes())
    if mode == "P":
        rgb = Image.fromarray(data[..., :3].astype(np.uint8))
        return rgb.convert("P", palette=Image.Palette.ADAPTIVE)
    bands = len(Image.new(mode, (1, 1)).getbands())
    return Image.frombytes(mode, (width, height), data[..., :bands].astype(np.uint8).tobytes())


@settings(max_examples=30, deadline=None)
@given(
    height=st.integers(1, 40),
    width=st.integers(1, 40),
    mode_and_format=st.sampled_from(
        [("L", "png"), ("RGB", "png"), ("RGB", "jpg"), ("RGBA", "png"), ("P", "png")]
        + [("I;16", "png"), ("CMYK", "jpg")]
    ),
    seed=st.integers(0, 2**32 - 1),
)
def test_any_small_image_file_loads_as_float_rgb(height, width, mode_and_format, seed):
    mode, file_format = mode_and_format
    top = 65536 if mode == "I;16" else 256
    data = np.random.default_rng(seed).integers(0, top, (height, width, 4), dtype=np.uint32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"image.{file_format}"
        encode(mode, data).save(path)
        pixels = load_image(path)
    assert pixels.shape == (height, width, 3)
    assert pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 1
    if mode == "I;16":
        np.testing.assert_allclose(pixels[..., 0], data[..., 0] / 65535, rtol=1e-6)


# ------------------------------------------------------------------------- real photo


def test_real_photo_with_max_size():
    pixels = load_image(photo_path("grace_hopper"), max_size=64)  # shipped with matplotlib
    assert max(pixels.shape[:2]) == 64
    assert pixels.shape[2] == 3
    assert pixels.dtype == np.float32
    assert 0 <= pixels.min() and pixels.max() <= 1
