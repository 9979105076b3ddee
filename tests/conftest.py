"""Fixtures for the unit tests: small real images (a photo and Starry Night)."""

import matplotlib.cbook
import pytest

from nstlab.images import load_image


@pytest.fixture(scope="session")
def photo_path():
    """Grace Hopper's portrait, shipped with matplotlib (no network needed)."""
    return matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)


@pytest.fixture(scope="session")
def starry_path(shared_images):
    return shared_images / "starry_night.jpg"


@pytest.fixture(scope="session")
def photo_64(photo_path):
    return load_image(photo_path, max_size=64)


@pytest.fixture(scope="session")
def starry_64(starry_path):
    return load_image(starry_path, max_size=64)
