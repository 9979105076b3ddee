"""Fixtures for the unit tests: small real images (a photo and Starry Night), both offline,
and a way to start a child process that Ctrl-C (SIGINT) can stop."""

import functools
import signal
import subprocess

import pytest

from nstlab.imaging.data import painting_path
from nstlab.imaging.data import photo_path as sample_photo_path
from nstlab.imaging.images import load_image


@pytest.fixture(scope="session")
def photo_path():
    """Grace Hopper's portrait, shipped with matplotlib."""
    return sample_photo_path("grace_hopper")


@pytest.fixture(scope="session")
def starry_path():
    """The Starry Night, shipped with nstlab."""
    return painting_path("starry_night")


@pytest.fixture(scope="session")
def photo_64(photo_path):
    return load_image(photo_path, max_size=64)


@pytest.fixture(scope="session")
def starry_64(starry_path):
    return load_image(starry_path, max_size=64)


@pytest.fixture
def tiny_files(tmp_path, photo_path, starry_path):
    """The photo and Starry Night as 48 px PNG files in ``tmp_path`` (for batch job files)."""
    from nstlab.imaging.images import save_image

    return (save_image(load_image(photo_path, max_size=48), tmp_path / "photo.png"),
            save_image(load_image(starry_path, max_size=48), tmp_path / "starry.png"))


@pytest.fixture(scope="session")
def photo_folder(tmp_path_factory, photo_64):
    """A folder holding one 64 px photo (training photos for ``nstlab.fast``)."""
    from nstlab.imaging.images import save_image

    folder = tmp_path_factory.mktemp("photos")
    save_image(photo_64, folder / "hopper.png")
    return folder


@pytest.fixture
def grades_answers(monkeypatch, capsys):
    """``grades_answers(check, right, wrongs, stub)`` asserts how a notebook check grades.

    Strict (as the tests of the course run it): the right answer passes and prints
    "correct", and each ``(wrong, reason)`` raises ``CheckFailed`` matching the reason.
    Lenient (as a student sees it): each wrong answer returns False and prints its reason,
    and the unfinished stub returns False with "not done yet".
    """
    from nstlab.classroom.checks import CheckFailed

    def grade(check, right, wrongs, stub):
        monkeypatch.setenv("NSTLAB_STRICT_CHECKS", "1")
        assert check(right) is True
        assert "correct" in capsys.readouterr().out
        for wrong, reason in wrongs:
            with pytest.raises(CheckFailed, match=reason):
                check(wrong)
        monkeypatch.delenv("NSTLAB_STRICT_CHECKS")
        capsys.readouterr()
        for wrong, reason in wrongs:
            assert check(wrong) is False
            assert reason in capsys.readouterr().out
        assert check(stub) is False
        assert "not done yet" in capsys.readouterr().out

    return grade


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def interruptible_popen():
    """``subprocess.Popen`` for a child the test stops with SIGINT, as Ctrl-C would.

    A shell running a job in the background (``pytest ... &``) starts it with SIGINT
    ignored, every child inherits that, and a Python started so never raises
    ``KeyboardInterrupt``: the child gets the default handler back before it starts.
    """
    return functools.partial(subprocess.Popen, preexec_fn=_default_sigint)
