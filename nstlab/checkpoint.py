"""Checkpoints: save a run's image, history and optimiser state, and continue it later.

A checkpoint is a folder with three files:

* ``image.npy``: the current image, float32 (H, W, 3), exact (no 8-bit rounding);
* ``optimizer.npz``: Adam's moment estimates and step count (empty for L-BFGS, whose
  curvature memory is rebuilt in a few steps after resuming);
* ``checkpoint.json``: the history so far, the run's settings and where it was
  (scale and step). It is written last, so a folder with a readable ``checkpoint.json``
  always holds a complete checkpoint.

Every file is written to a temporary name and then renamed, so an interrupted save never
leaves a half-written checkpoint behind.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nstlab.history import History

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint folder that is missing, incomplete or does not fit the run."""


@dataclass
class Checkpoint:
    """Everything needed to continue a run."""

    image: np.ndarray
    history: History
    optimizer: str
    optimizer_state: list[np.ndarray] = field(default_factory=list)
    scale_index: int = 0
    steps_in_scale: int = 0
    settings: dict = field(default_factory=dict)


def _write_atomically(path: Path, write) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save_checkpoint(directory, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` into ``directory`` (created if needed); returns the folder."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _write_atomically(directory / "image.npy",
                      lambda f: np.save(f, np.asarray(checkpoint.image, np.float32)))
    state = {f"v{i:03d}": np.asarray(v) for i, v in enumerate(checkpoint.optimizer_state)}
    _write_atomically(directory / "optimizer.npz", lambda f: np.savez(f, **state))
    record = {
        "format": FORMAT_VERSION,
        "optimizer": checkpoint.optimizer,
        "scale_index": checkpoint.scale_index,
        "steps_in_scale": checkpoint.steps_in_scale,
        "image_shape": list(np.shape(checkpoint.image)),
        "settings": checkpoint.settings,
        "history": checkpoint.history.to_dict(),
    }
    text = json.dumps(record, default=str).encode()
    _write_atomically(directory / "checkpoint.json", lambda f: f.write(text))
    return directory


def load_checkpoint(directory) -> Checkpoint:
    """Read a checkpoint written by :func:`save_checkpoint`."""
    directory = Path(directory)
    marker = directory / "checkpoint.json"
    if not marker.is_file():
        raise CheckpointError(f"no checkpoint in '{directory}' (checkpoint.json is missing)")
    try:
        record = json.loads(marker.read_text())
        image = np.load(directory / "image.npy")
        with np.load(directory / "optimizer.npz") as archive:
            state = [archive[name] for name in sorted(archive.files)]
        history = History.from_dict(record["history"])
    except (OSError, ValueError, KeyError) as error:
        raise CheckpointError(f"checkpoint in '{directory}' is damaged: {error}") from None
    if list(image.shape) != record.get("image_shape"):
        raise CheckpointError(f"checkpoint in '{directory}' is damaged: image shape mismatch")
    return Checkpoint(image=image.astype(np.float32), history=history,
                      optimizer=record["optimizer"], optimizer_state=state,
                      scale_index=int(record["scale_index"]),
                      steps_in_scale=int(record["steps_in_scale"]),
                      settings=record.get("settings", {}))
