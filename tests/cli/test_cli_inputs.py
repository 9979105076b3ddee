"""The README's table of awkward inputs, through the command: each gets its fix or its error.

Every case runs `nstlab stylize CONTENT STYLE -o OUT`; the awkward file is the content image
(the style is a clean PNG). Fixes must produce OUT (exit 0); errors must exit 2 with one line
naming the problem, and leave no output file behind.
"""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nstlab.cli import main
from nstlab.imaging.images import load_image


def gradient(width=40, height=30, mode="RGB") -> Image.Image:
    x = np.linspace(0, 255, width, dtype=np.uint8)[None, :].repeat(height, 0)
    rgb = np.stack([x, x[::-1, ::-1], np.full_like(x, 128)], axis=-1)
    return Image.fromarray(rgb, "RGB").convert(mode) if mode != "RGB" else Image.fromarray(rgb)


def make_grayscale(folder: Path) -> Path:
    return save(gradient(mode="L"), folder / "gray.png")


def make_rgba(folder: Path) -> Path:
    image = gradient(mode="RGBA")
    image.putalpha(Image.new("L", image.size, 100))
    return save(image, folder / "rgba.png")


def make_palette_gif(folder: Path) -> Path:
    return save(gradient().convert("P", palette=Image.Palette.ADAPTIVE), folder / "palette.gif")


def make_animated_gif(folder: Path) -> Path:
    frames = [gradient().convert("P"), gradient().rotate(180).convert("P")]
    path = folder / "animated.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


def make_cmyk_jpeg(folder: Path) -> Path:
    return save(gradient(mode="CMYK"), folder / "cmyk.jpg")


def make_16bit_png(folder: Path) -> Path:
    pixels = (np.linspace(0, 65535, 40 * 30).reshape(30, 40)).astype(np.uint16)
    return save(Image.fromarray(pixels), folder / "deep.png")


def make_exif_rotated(folder: Path) -> Path:
    image = gradient(40, 30)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    path = folder / "rotated.jpg"
    image.save(path, exif=exif)
    return path


def make_tiny(folder: Path) -> Path:
    return save(gradient(4, 4), folder / "tiny.png")


def make_truncated_jpeg(folder: Path) -> Path:
    buffer = io.BytesIO()
    gradient(200, 150).save(buffer, format="JPEG")
    path = folder / "truncated.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    return path


def make_zero_byte(folder: Path) -> Path:
    path = folder / "empty.jpg"
    path.write_bytes(b"")
    return path


def make_text_as_jpg(folder: Path) -> Path:
    path = folder / "notes.jpg"
    path.write_text("these are my notes, not a picture\n")
    return path


def make_bomb(folder: Path) -> Path:
    # 1-bit 9000x9000 PNG: 81 million pixels, a few kilobytes on disk.
    return save(Image.new("1", (9000, 9000)), folder / "bomb.png")


def make_directory(folder: Path) -> Path:
    path = folder / "a_folder.jpg"
    path.mkdir()
    return path


def save(image: Image.Image, path: Path) -> Path:
    image.save(path)
    return path


FIXED = {  # input -> what the loader does about it
    "grayscale": make_grayscale,
    "rgba": make_rgba,
    "palette_gif": make_palette_gif,
    "animated_gif": make_animated_gif,
    "cmyk_jpeg": make_cmyk_jpeg,
    "16bit_png": make_16bit_png,
    "exif_rotated": make_exif_rotated,
    "tiny_4x4": make_tiny,
}

REFUSED = {  # input -> a fragment of its one-line error
    "truncated_jpeg": (make_truncated_jpeg, "truncated or corrupt"),
    "zero_byte": (make_zero_byte, "file is empty"),
    "text_named_jpg": (make_text_as_jpg, "is not an image file"),
    "decompression_bomb": (make_bomb, "over the limit of 40000000"),
    "directory": (make_directory, "is a directory"),
    "missing": (lambda folder: folder / "missing.jpg", "no such file"),
}


@pytest.fixture
def style(tmp_path) -> Path:
    return save(gradient(48, 48).rotate(90), tmp_path / "style.png")


@pytest.mark.parametrize("case", sorted(FIXED))
def test_awkward_inputs_are_fixed(case, tmp_path, style):
    content = FIXED[case](tmp_path)
    out = tmp_path / "out.png"
    code = main(["stylize", str(content), str(style), "-o", str(out), "--size", "32",
                 "--steps", "1", "--quiet"])
    assert code == 0
    result = load_image(out)
    assert max(result.shape[:2]) == 32
    if case == "exif_rotated":  # 40x30 stored, shown upright as 30 wide x 40 high
        assert result.shape[:2] == (32, 24)


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_inputs_are_refused_with_one_line(case, tmp_path, style, capsys):
    make, fragment = REFUSED[case]
    content = make(tmp_path)
    out = tmp_path / "out.png"
    code = main(["stylize", str(content), str(style), "-o", str(out), "--size", "32",
                 "--steps", "1", "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert fragment in err and content.name in err and "\n" not in err
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("out")) == []


def test_unwritable_output_is_refused_before_any_work(tmp_path, style, capsys):
    code = main(["stylize", str(style), str(style), "-o", "/dev/null/out.png"])
    assert code == 2 and "does not exist" in capsys.readouterr().err


def test_pixel_cap_is_configurable(tmp_path, style, capsys):
    content = make_grayscale(tmp_path)  # 1200 pixels
    code = main(["stylize", str(content), str(style), "-o", str(tmp_path / "o.png"),
                 "--max-pixels", "1000"])
    assert code == 2 and "over the limit of 1000" in capsys.readouterr().err
