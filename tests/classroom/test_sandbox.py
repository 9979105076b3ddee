"""The sandbox the grader starts kernels in: writes only in its folder, files only so large."""

import subprocess
import sys

import pytest

from nstlab.classroom import sandbox

PROBE = """
import os, sys
def attempt(action):
    try:
        action()
        return "allowed"
    except OSError as error:
        return type(error).__name__ + " " + str(error.errno)
inside, outside, big = sys.argv[1:4]
print(attempt(lambda: open(os.path.join(inside, "ok.txt"), "w").write("x")))
print(attempt(lambda: open(os.path.join(outside, "keep.txt"), "a").write("x")))
print(attempt(lambda: os.remove(os.path.join(outside, "keep.txt"))))
print(attempt(lambda: os.mkdir(os.path.join(outside, "new"))))
print(attempt(lambda: open(os.path.join(inside, big), "wb").write(bytes(20000))))
print(attempt(lambda: open(os.devnull, "w").write("x")))
"""


def run_probe(tmp_path, max_file_bytes=10000):
    inside, outside = tmp_path / "inside", tmp_path / "outside"
    inside.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("teacher")
    line = [*sandbox.command([inside], max_file_bytes), sys.executable, "-c", PROBE,
            str(inside), str(outside), "big.bin"]
    done = subprocess.run(line, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:6], (outside / "keep.txt").read_text()


def test_writes_outside_the_folder_are_refused(tmp_path):
    if not sandbox.landlock_abi():
        pytest.skip("this system has no Landlock")
    results, kept = run_probe(tmp_path)
    assert results[0] == "allowed"
    assert results[1:4] == ["PermissionError 13"] * 3
    assert results[5] == "allowed"  # /dev/null
    assert kept == "teacher"


@pytest.mark.skipif(sys.platform == "win32", reason="no resource limits on Windows")
def test_a_file_beyond_the_limit_cannot_be_written(tmp_path):
    results, _ = run_probe(tmp_path, max_file_bytes=10000)
    assert results[4] == "OSError 27"  # EFBIG: File too large
    assert (tmp_path / "inside" / "big.bin").stat().st_size == 10000


def test_without_a_command_it_says_so(capsys):
    with pytest.raises(SystemExit) as stopped:
        sandbox.main(["--write", "/tmp", "--max-file-bytes", "1", "--"])
    assert stopped.value.code == 2
    assert "no COMMAND after --" in capsys.readouterr().err


def test_a_folder_that_is_not_there_is_refused(tmp_path):
    line = [*sandbox.command([tmp_path / "missing"], 1000), sys.executable, "-c", "pass"]
    done = subprocess.run(line, capture_output=True, text=True, timeout=60)
    assert done.returncode == 126
    assert done.stderr.startswith("nstlab.classroom.sandbox: error: cannot allow writes in")
