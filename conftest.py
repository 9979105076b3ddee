"""Test configuration shared by the unit tests (tests/) and the notebooks run by nbval.

- Quick mode (``NSTLAB_QUICK=1``): notebooks pick tiny images and few steps.
- Strict checks (``NSTLAB_STRICT_CHECKS=1``): an exercise check that rejects an answer raises.
- Matplotlib draws off screen (Agg).
- The painting cache (``NSTLAB_DATA_DIR``) is a temporary folder seeded from
  ``../shared/images`` (or ``$NSTLAB_SHARED_DIR/images``), so nothing is downloaded.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent


def shared_images_dir() -> Path:
    """The folder of sample images beside the checkout (never copied into the repo)."""
    shared = Path(os.environ.get("NSTLAB_SHARED_DIR", REPO.parent / "shared"))
    return shared / "images"


def pytest_configure(config):
    os.environ.setdefault("NSTLAB_QUICK", "1")
    # A wrong reference solution must fail the notebook tests, not just print.
    os.environ.setdefault("NSTLAB_STRICT_CHECKS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if "NSTLAB_DATA_DIR" not in os.environ:
        cache = Path(tempfile.mkdtemp(prefix="nstlab-test-cache-"))
        os.environ["NSTLAB_DATA_DIR"] = str(cache)
        config._nstlab_temporary_cache = cache
        if shared_images_dir().is_dir():
            from nstlab.data import seed_cache_from

            seed_cache_from(shared_images_dir())


def pytest_unconfigure(config):
    cache = getattr(config, "_nstlab_temporary_cache", None)
    if cache is not None:
        shutil.rmtree(cache, ignore_errors=True)
        os.environ.pop("NSTLAB_DATA_DIR", None)


@pytest.fixture(scope="session")
def shared_images() -> Path:
    """Path of ../shared/images; skips the test where it is absent, except in CI."""
    folder = shared_images_dir()
    if not folder.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs the shared sample images at {folder}")
        pytest.skip(f"shared sample images not found at {folder}")
    return folder
