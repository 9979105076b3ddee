"""Sample images: famous paintings, a photo, and style images drawn by code.

Neural style transfer needs two pictures: a *content* image (usually a photo) and a *style*
image (usually a painting). This module gives you both without hunting for files, and
without a network connection:

* ``load_sample("starry_night")`` - three public-domain paintings that ship inside the
  nstlab package (credits in :data:`PAINTINGS` and in ``nstlab/imaging/paintings/CREDITS.txt``).
* ``load_sample("grace_hopper")`` - a photo that ships with matplotlib.
* ``load_sample("swirl")`` / ``load_sample("mosaic")`` - style images drawn with numpy
  (:func:`nstlab.imaging.generated.generated_style`).

All images are RGB ``float32`` arrays of shape ``(height, width, 3)`` with values in ``[0, 1]``.
For your own images use :func:`nstlab.load_image`, which also takes ``http(s)://`` URLs.
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import numpy as np

from nstlab.base.files import sha256_of
from nstlab.imaging.generated import GENERATED_STYLES, generated_style
from nstlab.imaging.images import load_image

__all__ = [
    "GENERATED_STYLES",
    "PAINTINGS",
    "PAINTINGS_DIR",
    "PHOTOS",
    "SAMPLES",
    "DataUnavailableError",
    "Painting",
    "generated_style",
    "load_sample",
    "painting_path",
    "photo_path",
]

#: The folder inside the installed package that holds the painting files.
PAINTINGS_DIR = pathlib.Path(__file__).resolve().parent / "paintings"

_SOURCE = (
    "https://raw.githubusercontent.com/jcjohnson/neural-style/"
    "07c4b8299f8fbdafec0c514fc820ff1d7ff62e46/examples/inputs/"
)


@dataclass(frozen=True)
class Painting:
    """A public-domain painting that ships with nstlab (see :func:`painting_path`).

    Attributes:
        filename: Name of the file in :data:`PAINTINGS_DIR`, e.g. ``"starry_night.jpg"``.
        sha256: The SHA-256 hash (hex) of the file's bytes; checked before the file is read.
        title, artist, year: Credit for the painting.
        source: Where the file was copied from, byte for byte (provenance).
    """

    filename: str
    sha256: str
    title: str
    artist: str
    year: int
    source: str

    @property
    def credit(self) -> str:
        """A one-line credit such as ``"Vincent van Gogh, The Starry Night (1889)"``."""
        return f"{self.artist}, {self.title} ({self.year})"


def _painting(filename: str, sha256: str, title: str, artist: str, year: int) -> Painting:
    return Painting(filename, sha256, title, artist, year, _SOURCE + filename)


#: The paintings that ship with nstlab, keyed by short name.
PAINTINGS: dict[str, Painting] = {
    "starry_night": _painting(
        "starry_night.jpg",
        "0592ab0f7b51b3ce72608a95e53880bd93971e5b48f93a0ce8dfd3cbccf3d098",
        "The Starry Night",
        "Vincent van Gogh",
        1889,
    ),
    "shipwreck": _painting(
        "shipwreck.jpg",
        "4f7cf34e3cd4a5daaf3f421f059ca9a01aaa2a3afd7243d6670c9c8bc001a213",
        "The Shipwreck",
        "J. M. W. Turner",
        1805,
    ),
    "woman_with_hat": _painting(
        "woman-with-hat-matisse.jpg",
        "6a8b2383d9c110354a97a42c74bdcc5341be879cbb842ddb7ab5843dbdf56d53",
        "Woman with a Hat",
        "Henri Matisse",
        1905,
    ),
}

#: Photos shipped with matplotlib, keyed by short name (see :func:`photo_path`).
PHOTOS: dict[str, str] = {"grace_hopper": "grace_hopper.jpg"}

#: Every name :func:`load_sample` accepts.
SAMPLES: tuple[str, ...] = (*PAINTINGS, *PHOTOS, *GENERATED_STYLES)


class DataUnavailableError(RuntimeError):
    """A painting file that ships with nstlab is missing or damaged: a broken installation.

    The message says which file and how to repair it (reinstall nstlab).
    """


def _check_name(name: str, valid, what: str) -> None:
    if name not in valid:
        raise ValueError(f"unknown {what} {name!r}; choose one of: {', '.join(valid)}")


def painting_path(name: str) -> pathlib.Path:
    """Return the path of a painting's image file inside the nstlab package (no download).

    Args:
        name: Short name of the painting, one of ``PAINTINGS`` (``"starry_night"``,
            ``"shipwreck"``, ``"woman_with_hat"``).

    The file's SHA-256 hash is checked against the pinned one first, so a damaged copy is
    refused rather than giving a different picture than everyone else's.

    Raises:
        ValueError: ``name`` is not a known painting.
        DataUnavailableError: the file is missing or its bytes are not the expected ones.

    Example:
        >>> painting_path("starry_night").name
        'starry_night.jpg'
    """
    _check_name(name, PAINTINGS, "painting")
    painting = PAINTINGS[name]
    path = PAINTINGS_DIR / painting.filename
    try:
        intact = sha256_of(path) == painting.sha256
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise DataUnavailableError(
            f"cannot read painting {name!r} at '{path}': {reason}; reinstall nstlab"
        ) from None
    if not intact:
        raise DataUnavailableError(
            f"painting {name!r} at '{path}' is damaged (its sha256 is not the pinned one); "
            "reinstall nstlab"
        )
    return path


def photo_path(name: str = "grace_hopper") -> pathlib.Path:
    """Return the path of a sample photo that ships with matplotlib (no download needed).

    Args:
        name: Short name of the photo; only ``"grace_hopper"`` (a portrait of the computer
            scientist Grace Hopper) is available.
    """
    _check_name(name, PHOTOS, "photo")
    from matplotlib import cbook

    return pathlib.Path(cbook.get_sample_data(PHOTOS[name], asfileobj=False))


def load_sample(name: str, max_size: int | None = None) -> np.ndarray:
    """Load any sample image by name: a painting, the photo, or a generated style.

    Every sample is on this machine already: nothing is downloaded.

    Args:
        name: One of ``SAMPLES``: a painting (``"starry_night"``, ``"shipwreck"``,
            ``"woman_with_hat"``; shipped with nstlab), the photo ``"grace_hopper"``
            (shipped with matplotlib), or a generated style (``"swirl"``, ``"mosaic"``).
        max_size: For files, resize the image so its longer side is this many pixels
            (``None`` keeps the original size). For generated styles, the side of the square
            image (default 256).

    Returns:
        An RGB ``float32`` array of shape ``(height, width, 3)`` with values in ``[0, 1]``.

    Example:
        >>> style = load_sample("swirl", max_size=128)
        >>> style.shape
        (128, 128, 3)
    """
    _check_name(name, SAMPLES, "sample")
    if name in GENERATED_STYLES:
        return generated_style(name, size=max_size or 256)
    path = painting_path(name) if name in PAINTINGS else photo_path(name)
    return load_image(path, max_size=max_size)
