"""The training photos: a folder checked up front, cut into random square crops.

>>> paths = find_photos("photos/")          # PhotoError if there is no usable image
>>> batches = photo_batches(paths, size=128, batch_size=4, seed=0)   # a tf.data.Dataset
>>> next(iter(batches)).shape
TensorShape([4, 128, 128, 3])

Johnson et al. trained on the 80 000 photos of MS-COCO. A style network learns a *local*
filter (how each patch of a photo should be repainted), so a few photos cut into many
random crops, at several scales and mirrored, already teach it a lot; more varied photos
teach it more. :func:`sample_photos` lists the photos that are on every machine with
nstlab installed, so training works offline.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from nstlab.fast.recipe import PhotoError
from nstlab.imaging.images import ImageError, image_shape, load_image, resize_image

#: The word that stands for :func:`sample_photos` where a folder of photos is expected.
SAMPLES = "samples"

#: Colour photographs that scikit-image's wheel ships in ``skimage/data`` (many other
#: ``skimage.data`` images are downloaded on first use: those are not used).
SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg",
                  "motorcycle_left.png", "hubble_deep_field.jpg")

#: Each photo is cut at these scales: its shorter side is this many crop sizes.
CROP_SCALES = (1.0, 1.5, 2.0)


def sample_photos() -> list[Path]:
    """Photos available offline: matplotlib's Grace Hopper, and scikit-image's if installed.

    ``pip install "nstlab[fast]"`` adds scikit-image and with it
    :data:`SKIMAGE_PHOTOS` (an astronaut, a cat, a cup of coffee, a rocket, a motorcycle and
    the Hubble deep field), read from the installed package, never downloaded.
    """
    from nstlab.imaging.data import photo_path

    paths = [photo_path("grace_hopper")]
    try:
        import skimage.data
    except ImportError:
        return paths
    folder = Path(skimage.data.__file__).parent
    return paths + [folder / name for name in SKIMAGE_PHOTOS if (folder / name).is_file()]


def find_photos(source) -> list[Path]:
    """The usable photos in ``source``: a folder, a list of files, or ``"samples"``.

    Only the headers are read (fast). Files that are not images are skipped; a folder with
    no image at all is a :class:`PhotoError` with a one-line message, as is a missing one.
    Subfolders are not searched.
    """
    if isinstance(source, str) and source == SAMPLES:
        return sample_photos()
    if isinstance(source, str | os.PathLike):
        folder = Path(source)
        if not folder.exists():
            raise PhotoError(f"photo folder '{folder}' does not exist")
        if not folder.is_dir():
            raise PhotoError(f"photos: '{folder}' is a file; give a folder of photos")
        candidates = sorted(path for path in folder.iterdir()
                            if path.is_file() and not path.name.startswith("."))
        where = f"photo folder '{folder}'"
    else:
        candidates = [Path(path) for path in source]
        where = "the photo list"
    if not candidates:
        raise PhotoError(f"{where} is empty: put some photos (.jpg, .png, ...) in it")
    usable, problem = [], None
    for path in candidates:
        try:
            image_shape(path)
        except ImageError as error:
            problem = problem or str(error)
            continue
        usable.append(path)
    if not usable:
        raise PhotoError(f"{where} has no image that can be read ({len(candidates)} files; "
                         f"first problem: {problem})")
    return usable


def load_photos(paths, size: int) -> list[np.ndarray]:
    """Each photo at each of :data:`CROP_SCALES`: its shorter side ``scale * size`` px.

    A photo smaller than that is enlarged: every photo gives crops of every scale.
    """
    scaled = []
    for path in paths:
        photo = load_image(path)
        shorter = min(photo.shape[:2])
        for scale in CROP_SCALES:
            factor = scale * size / shorter
            height = max(size, round(photo.shape[0] * factor))
            width = max(size, round(photo.shape[1] * factor))
            scaled.append(resize_image(photo, (height, width)))
    return scaled


def random_crops(photos: list[np.ndarray], size: int, rng: np.random.Generator):
    """An endless stream of ``size`` x ``size`` crops, each mirrored half of the time."""
    while True:
        photo = photos[rng.integers(len(photos))]
        top = rng.integers(photo.shape[0] - size + 1)
        left = rng.integers(photo.shape[1] - size + 1)
        crop = photo[top:top + size, left:left + size]
        yield crop[:, ::-1] if rng.random() < 0.5 else crop


def photo_batches(photos, size: int, batch_size: int, *, seed: int = 0, start: int = 0):
    """A ``tf.data.Dataset`` of batches (``batch_size``, ``size``, ``size``, 3) in [0, 1].

    Parameters
    ----------
    photos : folder, list of files or ``"samples"`` (:func:`find_photos`)
    size, batch_size : int
    seed, start : int
        The crops are a fixed sequence for each ``(seed, start)``; a resumed run passes the
        number of steps already done as ``start``, so it sees new crops, not the first ones
        again.
    """
    import tensorflow as tf

    loaded = load_photos(find_photos(photos), size)
    rng = np.random.default_rng([seed, start])
    dataset = tf.data.Dataset.from_generator(
        lambda: random_crops(loaded, size, rng),
        output_signature=tf.TensorSpec((size, size, 3), tf.float32))
    return dataset.batch(batch_size, drop_remainder=True).prefetch(2)
