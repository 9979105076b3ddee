"""The results folder of a batch: one folder per job, named by what the job computes.

::

    RESULTS/
      .nstlab-batch.json        which batch writes here (workers check they can see it)
      3f9c0d1e2a7b4c55/         one job: a hash of its input files' contents and settings
        image.png
        history.json            the per-step, per-layer losses and why the run stopped
        settings.json           the images, their SHA-256 and Result.settings
        result.json             written last: the job finished (time, steps, final loss)
        error.json              instead of result.json when the job failed
      contact_sheet.png, index.html   (nstlab.batch.gallery)

Every file is written atomically (:func:`nstlab.base.files.write_atomically`), and a job
counts as finished only once its ``result.json`` exists, so a batch stopped at any
moment (Ctrl-C, a crash, a reboot) resumes by running the jobs without one. The same
images (by content, not by name) with the same settings give the same folder name, so
adding jobs to a file runs only the new ones.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import secrets
import traceback
from pathlib import Path

from nstlab.base.files import sha256_of, write_atomically
from nstlab.run import options

__all__ = ["ERROR_FILE", "FINISHED_FILE", "IMAGE_FILE", "MARKER_FILE", "deliver",
           "error_files", "finished_files", "job_folder", "job_key", "mark_results_folder",
           "read_record", "status_of", "write_files"]

IMAGE_FILE = "image.png"
HISTORY_FILE = "history.json"
SETTINGS_FILE = "settings.json"
FINISHED_FILE = "result.json"
ERROR_FILE = "error.json"
MARKER_FILE = ".nstlab-batch.json"
# Part of every key: change it when what a folder holds changes, so old folders rerun.
LAYOUT_VERSION = 1
KEY_LENGTH = 16


def _fingerprint(value) -> str | None:
    """The SHA-256 of an image file's content; URLs are taken by their address."""
    if isinstance(value, str) and "://" not in value and os.path.isfile(value):
        return sha256_of(value)
    return value


def job_key(job) -> str:
    """The folder name of a job: a hash of its images' contents and its checked settings.

    Paths to image files count by their content (renaming or moving a photo keeps the
    key); the options count as :meth:`~nstlab.run.options.StylizeOptions.settings` records
    them after checking, so a default written out or left out gives the same key.
    """
    settings = job.checked.settings()
    for f in dataclasses.fields(options.StylizeOptions):
        if f.name in settings and f.metadata["spec"].kind in ("image", "images", "init"):
            value = settings[f.name]
            settings[f.name] = ([_fingerprint(v) for v in value] if isinstance(value, list)
                                else _fingerprint(value))
    described = {"layout": LAYOUT_VERSION, "content": _fingerprint(job.content),
                 "styles": [_fingerprint(s) for s in job.styles], "settings": settings}
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:KEY_LENGTH]


def job_folder(out_dir, key: str) -> Path:
    """Where the job with this key writes."""
    return Path(out_dir) / key


def status_of(out_dir, key: str) -> str:
    """``"finished"``, ``"failed"`` or ``"missing"`` (never ran, or stopped midway)."""
    folder = job_folder(out_dir, key)
    if (folder / FINISHED_FILE).is_file():
        return "finished"
    return "failed" if (folder / ERROR_FILE).is_file() else "missing"


def read_record(out_dir, key: str) -> dict | None:
    """The job's ``result.json`` or ``error.json`` (whichever says how it ended), or None."""
    for name in (FINISHED_FILE, ERROR_FILE):
        path = job_folder(out_dir, key) / name
        try:
            return json.loads(path.read_text())
        except (OSError, ValueError):
            continue
    return None


# --------------------------------------------------------------- what a job writes


def _json(value) -> bytes:
    return json.dumps(value, indent=1, default=str).encode()


def finished_files(result, job_description: dict, seconds: float) -> dict[str, bytes]:
    """The files of a finished job, as bytes: image, history, settings and its record."""
    from nstlab.imaging.images import encode_image

    history = result.history
    record = {"status": "finished", "label": job_description["label"],
              "seconds": round(seconds, 3), "steps": len(history),
              "final_loss": float(history.total[-1]) if len(history) else None,
              "stop_reason": result.stop_reason, "host": platform.node()}
    settings = {"content": job_description["content"], "styles": job_description["styles"],
                "settings": result.settings}
    # The record is last: written after the others, it marks the job finished.
    return {IMAGE_FILE: encode_image(result.image, ".png"),
            HISTORY_FILE: _json({"stop_reason": result.stop_reason,
                                 "history": history.to_dict()}),
            SETTINGS_FILE: _json(settings),
            FINISHED_FILE: _json(record)}


def error_files(error: BaseException | str, job_description: dict,
                seconds: float | None = None) -> dict[str, bytes]:
    """The record of a failed job: the error's type, one-line message and traceback."""
    if isinstance(error, BaseException):
        kind, message = type(error).__name__, " ".join(str(error).split()) or type(error).__name__
        trace = "".join(traceback.format_exception(error))
    else:
        kind, message, trace = "Error", str(error), ""
    return {ERROR_FILE: _json({"status": "failed", "label": job_description["label"],
                               "error": kind, "message": message, "traceback": trace,
                               "seconds": None if seconds is None else round(seconds, 3),
                               "host": platform.node()})}


def write_files(out_dir, key: str, files: dict[str, bytes]) -> Path:
    """Write a job's files into its folder, each atomically, in the order given.

    A finished job's record replaces an earlier failure's (``error.json`` is removed).
    """
    folder = job_folder(out_dir, key)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        write_atomically(folder / name, data)
    if FINISHED_FILE in files:
        (folder / ERROR_FILE).unlink(missing_ok=True)
    return folder


# ----------------------------------------------------- writing here, or handing back


def mark_results_folder(out_dir) -> str:
    """Create the results folder and its marker; returns the batch's token.

    A worker that can read the marker with this token sees the same folder as the driver
    (a shared disk) and writes its files there itself; one that cannot hands the bytes
    back to the driver (:func:`deliver`).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(8)
    write_atomically(out_dir / MARKER_FILE, _json({"token": token}))
    return token


def _sees_results_folder(out_dir, token: str) -> bool:
    try:
        return json.loads((Path(out_dir) / MARKER_FILE).read_text()).get("token") == token
    except (OSError, ValueError, AttributeError):
        return False


def deliver(files: dict[str, bytes], job_description: dict) -> dict:
    """Write a job's files where the driver reads them, or return them for the driver.

    Returns ``{"key", "status", "files"}``: ``files`` is empty when they were written
    here, else the bytes for the driver to write with :func:`write_files`.
    """
    status = "finished" if FINISHED_FILE in files else "failed"
    out_dir, key = job_description["out_dir"], job_description["key"]
    if _sees_results_folder(out_dir, job_description["token"]):
        try:
            write_files(out_dir, key, files)
            return {"key": key, "status": status, "files": {}}
        except OSError:
            pass  # a read-only mount, a full disk here: the driver writes them
    return {"key": key, "status": status, "files": files}
