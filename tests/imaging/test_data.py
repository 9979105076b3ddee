"""Tests for nstlab.imaging.data: the shipped paintings, the sample photo, and load_sample.

Nothing here uses the network: the paintings ship inside the package. The generated styles
have their own tests (tests/imaging/test_generated.py).
"""

import dataclasses
import http.client
import socket
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import nstlab
from nstlab.imaging import data
from nstlab.imaging.data import DataUnavailableError

STARRY = data.PAINTINGS["starry_night"]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No network (every socket and urlopen raises), no ../shared folder, an empty home."""

    def refuse(*args, **kwargs):
        raise OSError("the network is blocked in this test")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("NSTLAB_SHARED_DIR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "home" / ".cache"))


def test_the_network_really_is_blocked(offline):
    with pytest.raises(OSError, match="blocked"):
        http.client.HTTPSConnection("example.org", timeout=1).connect()


@pytest.mark.parametrize("name", data.SAMPLES)
def test_every_sample_loads_offline(offline, name):
    image = data.load_sample(name, max_size=64)
    assert image.dtype == np.float32 and image.shape[2] == 3 and max(image.shape[:2]) == 64
    assert 0 <= image.min() and image.max() <= 1
    assert image.std() > 0.05  # a picture, not a blank


@pytest.mark.parametrize("name", data.PAINTINGS)
def test_paintings_are_read_from_inside_the_package(name):
    path = data.painting_path(name)
    assert path.parent == data.PAINTINGS_DIR
    assert data.PAINTINGS_DIR.parent == Path(nstlab.imaging.__file__).resolve().parent


def test_paintings_table():
    assert set(data.PAINTINGS) == {"starry_night", "shipwreck", "woman_with_hat"}
    for painting in data.PAINTINGS.values():
        assert painting.source.startswith("https://raw.githubusercontent.com/jcjohnson/")
        assert painting.source.endswith("/" + painting.filename)
        assert len(painting.sha256) == 64
        assert painting.credit == f"{painting.artist}, {painting.title} ({painting.year})"
    assert STARRY.credit == "Vincent van Gogh, The Starry Night (1889)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        STARRY.sha256 = "0" * 64
    assert set(data.SAMPLES) == {*data.PAINTINGS, "grace_hopper", *data.GENERATED_STYLES}


def test_a_damaged_painting_is_refused(tmp_path, monkeypatch):
    (tmp_path / STARRY.filename).write_bytes(data.painting_path("starry_night").read_bytes()[:-1])
    monkeypatch.setattr(data, "PAINTINGS_DIR", tmp_path)
    with pytest.raises(DataUnavailableError, match="damaged .*reinstall nstlab") as info:
        data.load_sample("starry_night")
    assert "\n" not in str(info.value)


def test_a_missing_painting_says_the_installation_is_broken(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "PAINTINGS_DIR", tmp_path)
    with pytest.raises(DataUnavailableError) as info:
        data.painting_path("shipwreck")
    path = tmp_path / "shipwreck.jpg"
    assert str(info.value) == (f"cannot read painting 'shipwreck' at '{path}': "
                               "No such file or directory; reinstall nstlab")


@pytest.mark.parametrize(
    ("function", "valid"),
    [
        (data.painting_path, data.PAINTINGS),
        (data.photo_path, data.PHOTOS),
        (data.generated_style, data.GENERATED_STYLES),
        (data.load_sample, data.SAMPLES),
    ],
)
def test_unknown_names_list_the_valid_ones(function, valid):
    with pytest.raises(ValueError, match="mona_lisa") as info:
        function("mona_lisa")
    for name in valid:
        assert name in str(info.value)


def test_photo_path_exists_and_loads():
    path = data.photo_path()
    assert path.is_file()
    image = nstlab.load_image(path, max_size=64)
    assert image.dtype == np.float32 and image.ndim == 3 and max(image.shape[:2]) == 64


def test_load_sample_sizes():
    assert max(data.load_sample("grace_hopper", max_size=48).shape[:2]) == 48
    painting = data.load_sample("shipwreck")
    assert painting.shape == nstlab.load_image(data.painting_path("shipwreck")).shape
    assert data.load_sample("mosaic", max_size=32).shape == (32, 32, 3)
    assert data.load_sample("swirl").shape == (256, 256, 3)


def test_generated_styles_are_the_generated_module_s():
    from nstlab.imaging import generated

    assert data.generated_style is generated.generated_style
    np.testing.assert_array_equal(data.load_sample("mosaic", max_size=32),
                                  generated.generated_style("mosaic", size=32))
