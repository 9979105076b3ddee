"""Tests for nstlab.data: painting downloads and cache, the sample photo, generated styles.

Everything runs offline: ``urllib.request.urlopen`` is replaced by fakes, and the real
painting bytes come from the shared sample folder beside the checkout.
"""

import dataclasses
import hashlib
import io
import os
import shutil
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import rgb_to_hsv

from nstlab import data
from nstlab.data import DataUnavailableError, Painting

STARRY = data.PAINTINGS["starry_night"]


def _shared_images() -> Path:
    shared = os.environ.get("NSTLAB_SHARED_DIR")
    base = Path(shared) if shared else Path(__file__).resolve().parents[2] / "shared"
    return base / "images"


@pytest.fixture
def shared() -> Path:
    """The folder with byte-identical copies of the paintings (never copied into the repo)."""
    folder = _shared_images()
    if not (folder / STARRY.filename).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared sample images at {folder}")
        pytest.skip(f"shared sample images not found at {folder}")
    return folder


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty, not yet existing, cache folder."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("NSTLAB_DATA_DIR", str(folder))
    return folder


class FakeNetwork:
    """Stands in for urllib.request.urlopen: serves fixed bytes, or raises an error."""

    def __init__(self, payload):
        self.payload = payload
        self.calls = []

    def __call__(self, url, timeout=None):
        self.calls.append((url, timeout))
        if isinstance(self.payload, BaseException):
            raise self.payload
        return io.BytesIO(self.payload)


def serve(monkeypatch, payload) -> FakeNetwork:
    fake = FakeNetwork(payload)
    monkeypatch.setattr(data.urllib.request, "urlopen", fake)
    return fake


def forbid_network(monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise AssertionError("urlopen must not be called")

    monkeypatch.setattr(data.urllib.request, "urlopen", fail)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- cache folder and the paintings table -----------------------------------------------------


def test_data_dir_comes_from_env_and_is_not_created_on_read(tmp_path, monkeypatch):
    monkeypatch.setenv("NSTLAB_DATA_DIR", str(tmp_path / "somewhere"))
    assert data.data_dir() == tmp_path / "somewhere"
    assert not (tmp_path / "somewhere").exists()


def test_data_dir_default(monkeypatch, tmp_path):
    monkeypatch.delenv("NSTLAB_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert data.data_dir() == tmp_path / ".cache" / "nstlab"
    assert not (tmp_path / ".cache").exists()


def test_paintings_table():
    assert set(data.PAINTINGS) == {"starry_night", "shipwreck", "woman_with_hat"}
    for painting in data.PAINTINGS.values():
        assert painting.url.startswith("https://raw.githubusercontent.com/jcjohnson/")
        assert painting.url.endswith("/" + painting.filename)
        assert len(painting.sha256) == 64
        assert str(painting.year) in painting.credit
    with pytest.raises(dataclasses.FrozenInstanceError):
        STARRY.sha256 = "0" * 64
    assert set(data.SAMPLES) == {*data.PAINTINGS, "grace_hopper", *data.GENERATED_STYLES}


def test_pinned_hashes_match_the_shared_copies(shared):
    for painting in data.PAINTINGS.values():
        assert sha256(shared / painting.filename) == painting.sha256


# --- fetch_painting -----------------------------------------------------------------------------


def test_fetch_uses_the_cache_when_the_hash_matches(shared, cache, monkeypatch):
    cache.mkdir()
    shutil.copyfile(shared / STARRY.filename, cache / STARRY.filename)
    forbid_network(monkeypatch)
    assert data.fetch_painting("starry_night") == cache / STARRY.filename


def test_download_is_verified_and_cached_atomically(shared, cache, monkeypatch):
    payload = (shared / STARRY.filename).read_bytes()
    network = serve(monkeypatch, payload)
    replaced = []
    real_replace = os.replace

    def spy_replace(src, dst):
        # The temporary file sits beside its destination, so the rename is atomic.
        assert Path(src).parent == Path(dst).parent == cache
        assert not Path(dst).exists()
        replaced.append(Path(dst))
        real_replace(src, dst)

    monkeypatch.setattr(data.os, "replace", spy_replace)
    path = data.fetch_painting("starry_night", timeout=7)

    assert network.calls == [(STARRY.url, 7)]
    assert replaced == [cache / STARRY.filename]
    assert path == cache / STARRY.filename
    assert path.read_bytes() == payload
    assert sorted(p.name for p in cache.iterdir()) == [STARRY.filename]  # no temp files left

    forbid_network(monkeypatch)  # second call: served from the cache
    assert data.fetch_painting("starry_night") == path


def test_failed_write_leaves_no_partial_file(shared, cache, monkeypatch):
    serve(monkeypatch, (shared / STARRY.filename).read_bytes())

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(data.os, "replace", broken_replace)
    with pytest.raises(DataUnavailableError, match="NSTLAB_DATA_DIR"):
        data.fetch_painting("starry_night")
    assert list(cache.iterdir()) == []


def test_download_with_wrong_bytes_raises_and_writes_nothing(cache, monkeypatch):
    serve(monkeypatch, b"this is not The Starry Night")
    with pytest.raises(DataUnavailableError, match="sha256 did not match"):
        data.fetch_painting("starry_night")
    assert not cache.exists()


def test_corrupted_cached_file_is_downloaded_again(shared, cache, monkeypatch):
    cache.mkdir()
    (cache / STARRY.filename).write_bytes(b"half a download")
    network = serve(monkeypatch, (shared / STARRY.filename).read_bytes())
    path = data.fetch_painting("starry_night")
    assert len(network.calls) == 1
    assert sha256(path) == STARRY.sha256


def test_oversized_download_is_refused(cache, monkeypatch):
    monkeypatch.setattr(data, "MAX_DOWNLOAD_BYTES", 10)
    serve(monkeypatch, b"x" * 11)
    with pytest.raises(DataUnavailableError, match="larger than"):
        data.fetch_painting("starry_night")
    assert not cache.exists()


@pytest.mark.parametrize(
    "error",
    [
        urllib.error.URLError("Temporary failure in name resolution"),
        urllib.error.HTTPError(STARRY.url, 404, "Not Found", {}, None),
        TimeoutError("timed out"),
        ConnectionResetError("connection reset\nby peer"),
    ],
)
def test_network_error_explains_the_remedy(cache, monkeypatch, error):
    serve(monkeypatch, error)
    with pytest.raises(DataUnavailableError) as info:
        data.fetch_painting("starry_night")
    message = str(info.value)
    assert "\n" not in message
    assert "starry_night" in message
    assert STARRY.url in message
    assert f"no network? put a copy of {STARRY.filename} in {cache}" in message
    assert "nstlab.data.generated_style()" in message
    assert isinstance(info.value, RuntimeError)
    assert not cache.exists()


def test_fetch_logic_with_a_made_up_painting(cache, monkeypatch):
    """Runs even without the shared images: download, cache hit, and repair."""
    payload = b"pretend these are JPEG bytes"
    fake = Painting(
        "fake.jpg",
        "https://example.invalid/fake.jpg",
        hashlib.sha256(payload).hexdigest(),
        "Fake",
        "Nobody",
        2024,
    )
    monkeypatch.setitem(data.PAINTINGS, "fake", fake)
    network = serve(monkeypatch, payload)
    path = data.fetch_painting("fake")
    assert path.read_bytes() == payload
    data.fetch_painting("fake")
    assert len(network.calls) == 1
    path.write_bytes(b"damaged")
    assert data.fetch_painting("fake").read_bytes() == payload
    assert len(network.calls) == 2


# --- unknown names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "valid"),
    [
        (data.fetch_painting, data.PAINTINGS),
        (data.photo_path, data.PHOTOS),
        (data.generated_style, data.GENERATED_STYLES),
        (data.load_sample, data.SAMPLES),
    ],
)
def test_unknown_names_list_the_valid_ones(function, valid, monkeypatch):
    forbid_network(monkeypatch)
    with pytest.raises(ValueError, match="mona_lisa") as info:
        function("mona_lisa")
    for name in valid:
        assert name in str(info.value)


# --- generated styles ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", data.GENERATED_STYLES)
def test_generated_style_shape_dtype_range(kind):
    for size in (16, 100):
        image = data.generated_style(kind, size=size)
        assert image.shape == (size, size, 3)
        assert image.dtype == np.float32
        assert 0 <= image.min() and image.max() <= 1
        assert np.isfinite(image).all()


@pytest.mark.parametrize("kind", data.GENERATED_STYLES)
def test_generated_style_is_deterministic_per_seed(kind):
    a = data.generated_style(kind, size=64, seed=3)
    np.testing.assert_array_equal(a, data.generated_style(kind, size=64, seed=3))
    assert np.abs(a - data.generated_style(kind, size=64, seed=4)).mean() > 0.05


@pytest.mark.parametrize("kind", data.GENERATED_STYLES)
@pytest.mark.parametrize("seed", [0, 1])
def test_generated_style_is_a_colourful_texture(kind, seed):
    image = data.generated_style(kind, size=256, seed=seed)
    gray = image.mean(-1)
    assert image.std() > 0.15  # strong contrast
    gy, gx = np.gradient(gray)
    assert np.hypot(gx, gy).mean() > 0.02  # fine strokes / edges
    # Structure at a larger scale too: 8x8 block averages still vary (white noise would not).
    assert gray.reshape(32, 8, 32, 8).mean(axis=(1, 3)).std() > 0.08
    hue, saturation, _ = np.moveaxis(rgb_to_hsv(image), -1, 0)
    colourful = saturation > 0.3
    assert colourful.mean() > 0.5
    bins = np.bincount((hue[colourful] * 12).astype(int) % 12, minlength=12) / hue.size
    assert (bins > 0.01).sum() >= 3  # several distinct hues


@pytest.mark.parametrize("kind", data.GENERATED_STYLES)
def test_generated_style_is_fast(kind):
    data.generated_style(kind, size=64)  # warm up
    start = time.perf_counter()
    data.generated_style(kind, size=512)
    # Typically well under a second; the margin is for busy CI machines.
    assert time.perf_counter() - start < 5


def test_generated_style_rejects_a_silly_size():
    with pytest.raises(ValueError, match="size"):
        data.generated_style("swirl", size=2)


# --- photo and load_sample ----------------------------------------------------------------------


def test_photo_path_exists_and_loads():
    from nstlab.images import load_image

    path = data.photo_path()
    assert path.is_file()
    image = load_image(path, max_size=64)
    assert image.dtype == np.float32 and image.ndim == 3 and max(image.shape[:2]) == 64


def test_load_sample_photo_and_generated(monkeypatch):
    forbid_network(monkeypatch)
    photo = data.load_sample("grace_hopper", max_size=48)
    assert photo.dtype == np.float32 and max(photo.shape[:2]) == 48
    assert data.load_sample("mosaic", max_size=32).shape == (32, 32, 3)
    assert data.load_sample("swirl").shape == (256, 256, 3)


def test_load_sample_painting_from_the_cache(shared, cache, monkeypatch):
    data.seed_cache_from(shared)
    forbid_network(monkeypatch)
    image = data.load_sample("woman_with_hat", max_size=64)
    assert image.dtype == np.float32 and image.shape[2] == 3 and max(image.shape[:2]) == 64
    assert 0 <= image.min() and image.max() <= 1


# --- seed_cache_from ----------------------------------------------------------------------------


def test_seed_cache_from_copies_only_matching_files(shared, cache, tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copyfile(shared / STARRY.filename, source / STARRY.filename)
    (source / "shipwreck.jpg").write_bytes(b"not the shipwreck")
    (source / "holiday.jpg").write_bytes(b"unrelated")

    assert data.seed_cache_from(source) == [cache / STARRY.filename]
    assert sorted(p.name for p in cache.iterdir()) == [STARRY.filename]
    assert sha256(cache / STARRY.filename) == STARRY.sha256
    # Idempotent: the file is already there.
    assert data.seed_cache_from(source) == [cache / STARRY.filename]


def test_seed_cache_from_the_shared_folder(shared, cache):
    paths = data.seed_cache_from(shared)
    assert paths == [cache / p.filename for p in data.PAINTINGS.values()]
    for painting, path in zip(data.PAINTINGS.values(), paths, strict=True):
        assert sha256(path) == painting.sha256


def test_seed_cache_from_a_missing_folder(cache, tmp_path):
    assert data.seed_cache_from(tmp_path / "nowhere") == []
    assert not cache.exists()
