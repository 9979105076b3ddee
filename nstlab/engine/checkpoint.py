"""Checkpoints: save a run's image, history and optimiser state, and continue it later.

A checkpoint is a folder with three files:

* ``image.npy``: the current image, float32 (H, W, 3), exact (no 8-bit rounding);
* ``optimizer.npz``: Adam's step count and moment estimates (empty for L-BFGS, whose
  curvature memory is rebuilt in a few steps after resuming);
* ``checkpoint.json``: the history so far, the run's settings, the backbone, where the run
  was (scale and step) and the SHA-256 of the two other files.

Saving writes all three files under temporary names first and renames them into place only
once all three are complete, ``checkpoint.json`` last: a save that fails half way (a full
disk, a read-only folder, Ctrl-C) leaves the previous checkpoint as it was. Loading checks
every file and turns any damage (a file missing, empty, cut short, of another kind, holding
values no image has, or left from another save) into one :class:`CheckpointError` line that
names the file.

Who uses what:

* :class:`Checkpointer` saves during a run (``nstlab.optimize_pixels(..., checkpointer=)``);
  a save that fails becomes one :class:`CheckpointWarning` and the run goes on.
* :func:`resume_from` loads a checkpoint and checks that it fits the run about to continue
  it (optimiser, backbone, number of scales); :meth:`Checkpoint.check_shape` checks the image
  size of the scale being resumed. :func:`nstlab.stylize` calls both.
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from nstlab.base.files import sha256_of, write_atomically
from nstlab.engine.history import History

FORMAT_VERSION = 1
IMAGE_FILE = "image.npy"
OPTIMIZER_FILE = "optimizer.npz"
RECORD_FILE = "checkpoint.json"

# The first bytes of every .npy file, and of a .npz (zip) archive with or without members.
_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
# What numpy and zipfile raise on a damaged file: BadZipFile and zlib.error are not
# ValueErrors, and an empty file gives EOFError.
_NUMPY_READ_ERRORS = (ValueError, EOFError, OSError, zipfile.BadZipFile, zlib.error)


class CheckpointError(ValueError):
    """A checkpoint folder that is missing, incomplete, damaged or does not fit the run."""


class CheckpointWarning(RuntimeWarning):
    """A checkpoint could not be saved; the run went on without it."""


@dataclass
class Checkpoint:
    """Everything needed to continue a run.

    Attributes
    ----------
    image : array
        The image so far, (H, W, 3) float32 in [0, 1].
    history : History
        The losses of every step so far.
    optimizer : str
        ``"lbfgs"`` or ``"adam"``.
    optimizer_state : list of arrays
        Adam's arrays (step count, moment estimates); empty for L-BFGS.
    scale_index : int
        The scale of a coarse-to-fine run it was at (0 = the first, coarsest).
    steps_in_scale : int
        Steps done at that scale.
    settings : dict
        The options of the run, for the record.
    backbone : str or None
        The network whose features the loss used (``"vgg16"``, ``"vgg19"``); None when
        unknown (a custom objective).
    directory : Path or None
        The folder it was loaded from (None when built in memory); errors name it.
    """

    image: np.ndarray
    history: History
    optimizer: str
    optimizer_state: list[np.ndarray] = field(default_factory=list)
    scale_index: int = 0
    steps_in_scale: int = 0
    settings: dict = field(default_factory=dict)
    backbone: str | None = None
    directory: Path | None = field(default=None, compare=False)

    def _file(self, name: str) -> str:
        return str(self.directory / name) if self.directory is not None else name

    def check_shape(self, shape) -> None:
        """Raise :class:`CheckpointError` unless the saved image has ``shape`` (H, W, 3).

        ``shape`` is the size of the image at the scale being resumed: a run resumed with
        other images or another size would otherwise continue from a picture that does not
        fit it.
        """
        if tuple(self.image.shape) != tuple(shape):
            height, width = self.image.shape[:2]
            raise CheckpointError(
                f"the checkpoint image '{self._file(IMAGE_FILE)}' is {width}x{height} px but "
                f"this run needs {shape[1]}x{shape[0]} px: resume with the same images and size")


def save_checkpoint(directory, checkpoint: Checkpoint) -> Path:
    """Write ``checkpoint`` into ``directory`` (created if needed); returns the folder.

    The three files are written in full under temporary names and only then renamed into
    place, so an error (which propagates, e.g. an ``OSError`` for a full disk) leaves any
    earlier checkpoint in the folder whole.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    image = np.asarray(checkpoint.image, np.float32)
    state = {f"v{i:03d}": np.asarray(v) for i, v in enumerate(checkpoint.optimizer_state)}
    staged: dict[str, Path] = {}  # final name -> complete file under a temporary name
    try:
        staged[IMAGE_FILE] = write_atomically(directory / f".{IMAGE_FILE}.staged",
                                              lambda file: np.save(file, image))
        staged[OPTIMIZER_FILE] = write_atomically(directory / f".{OPTIMIZER_FILE}.staged",
                                                  lambda file: np.savez(file, **state))
        record = {
            "format": FORMAT_VERSION,
            "optimizer": checkpoint.optimizer,
            "backbone": checkpoint.backbone,
            "scale_index": checkpoint.scale_index,
            "steps_in_scale": checkpoint.steps_in_scale,
            "image_shape": list(image.shape),
            "sha256": {name: sha256_of(path) for name, path in staged.items()},
            "settings": checkpoint.settings,
            "history": checkpoint.history.to_dict(),
        }
        staged[RECORD_FILE] = write_atomically(directory / f".{RECORD_FILE}.staged",
                                               json.dumps(record, default=str).encode())
        for name, path in staged.items():  # in the order written: checkpoint.json last
            os.replace(path, directory / name)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return directory


def load_checkpoint(directory) -> Checkpoint:
    """Read and check a checkpoint written by :func:`save_checkpoint`.

    Raises :class:`CheckpointError`, one line naming the file, when the folder holds no
    checkpoint or any of its files is missing, damaged or does not fit the others.
    """
    directory = Path(directory)
    record_path = directory / RECORD_FILE
    if directory.exists() and not directory.is_dir():
        raise CheckpointError(f"'{directory}' is a file, not a checkpoint folder")
    if not record_path.is_file():
        raise CheckpointError(f"no checkpoint in '{directory}': {RECORD_FILE} is missing")
    record = _read_record(record_path)
    image = _read_image(directory / IMAGE_FILE, record["image_shape"])
    state = _read_optimizer_state(directory / OPTIMIZER_FILE, image.shape)
    for name, expected in record["sha256"].items():
        if name in (IMAGE_FILE, OPTIMIZER_FILE) and sha256_of(directory / name) != expected:
            raise _damaged(directory / name, f"its bytes are not those {RECORD_FILE} recorded "
                                             "(changed after saving, or from another save)")
    return Checkpoint(image=image, history=record["history"], optimizer=record["optimizer"],
                      optimizer_state=state, scale_index=record["scale_index"],
                      steps_in_scale=record["steps_in_scale"], settings=record["settings"],
                      backbone=record["backbone"], directory=directory)


def resume_from(resume, *, optimizer: str, levels: int, backbone: str) -> Checkpoint | None:
    """The checkpoint a run continues from, checked against that run.

    Parameters
    ----------
    resume : None, path or Checkpoint
        None starts afresh (returns None); a folder is loaded with :func:`load_checkpoint`.
    optimizer : str
        The run's optimiser; the checkpoint must have been made with the same one.
    levels : int
        How many scales the run has; the checkpoint's scale must be one of them.
    backbone : str
        The run's backbone; the checkpoint's (when recorded) must be the same.

    Raises
    ------
    CheckpointError
        In one line, when the checkpoint is damaged or does not fit. Check the image size
        of the scale being resumed with :meth:`Checkpoint.check_shape`.
    """
    if resume is None:
        return None
    checkpoint = resume if isinstance(resume, Checkpoint) else load_checkpoint(resume)
    record = checkpoint._file(RECORD_FILE)
    if checkpoint.optimizer != optimizer:
        raise CheckpointError(f"the checkpoint '{record}' was made with optimizer "
                              f"{checkpoint.optimizer!r}, not {optimizer!r}: resume with the "
                              "same options")
    if checkpoint.backbone is not None and checkpoint.backbone != backbone:
        raise CheckpointError(f"the checkpoint '{record}' was made with backbone "
                              f"{checkpoint.backbone!r}, not {backbone!r}: resume with the same "
                              "options")
    if checkpoint.scale_index >= levels:
        raise CheckpointError(f"the checkpoint '{record}' was made at scale "
                              f"{checkpoint.scale_index + 1} but this run has {levels} scales: "
                              "resume with the same size and scales")
    return checkpoint


class Checkpointer:
    """Saves a :class:`Checkpoint` every ``every`` steps of a run and when it ends.

    ``stylize(..., checkpoint_dir=...)`` makes one; you rarely need to build it yourself.
    Pass it to :func:`nstlab.optimize_pixels` as ``checkpointer=``. A save that fails with an
    ``OSError`` (a full disk, a read-only folder) does not stop the run: the first such
    failure is reported as one :class:`CheckpointWarning`, later ones silently, and
    :attr:`last_error` holds the error of the latest save (None once a save succeeds).

    The caller sets :attr:`scale_index` and :attr:`steps_before` between the scales of a
    coarse-to-fine run.

    Attributes
    ----------
    scale_index : int
        The scale being optimised (0 = the first).
    steps_before : int
        Steps of that scale done before this call to ``optimize_pixels`` (when resuming),
        so the saved step count is the scale's total.
    """

    def __init__(self, directory, every: int = 50, settings: dict | None = None):
        if every < 1:
            raise ValueError(f"checkpoint_every must be at least 1, got {every}")
        self.directory = directory
        self.every = every
        self.settings = settings or {}
        self.scale_index = 0
        self.steps_before = 0
        self.last_error: OSError | None = None
        self._warned = False

    def save(self, image, history: History, optimizer: str, optimizer_state=(), *,
             steps_done: int, backbone: str | None = None) -> bool:
        """Save a checkpoint of the run so far; returns whether it was written.

        ``steps_done`` counts the steps of this call to ``optimize_pixels``.
        """
        checkpoint = Checkpoint(
            image=image, history=history, optimizer=optimizer,
            optimizer_state=list(optimizer_state), scale_index=self.scale_index,
            steps_in_scale=self.steps_before + steps_done, settings=self.settings,
            backbone=backbone)
        try:
            save_checkpoint(self.directory, checkpoint)
        except OSError as error:
            self.last_error = error
            if not self._warned:
                self._warned = True
                warnings.warn(
                    f"could not save a checkpoint in '{self.directory}' "
                    f"({error.strerror or error}); the run goes on and keeps its image, but can "
                    "only be resumed from an earlier checkpoint (this warning is shown once)",
                    CheckpointWarning, stacklevel=2)
            return False
        self.last_error = None
        return True


# --------------------------------------------------------------------------- reading, checked


def _damaged(path: Path, reason: str) -> CheckpointError:
    """The one-line error for a damaged checkpoint file."""
    return CheckpointError(" ".join(f"checkpoint file '{path}' is damaged: {reason}".split()))


def _read_bytes(path: Path) -> bytes:
    if not path.is_file():
        raise CheckpointError(f"the checkpoint in '{path.parent}' is incomplete: {path.name} "
                              "is missing")
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CheckpointError(f"cannot read checkpoint file '{path}': "
                              f"{error.strerror or error}") from None
    if not data:
        raise _damaged(path, "the file is empty")
    return data


def _read_numpy(path: Path, *, archive: bool):
    """The array in a ``.npy`` file, or the arrays by name in a ``.npz`` ``archive``."""
    magic, kind = ((_ZIP_MAGIC, "a NumPy .npz archive") if archive
                   else (_NPY_MAGIC, "a NumPy .npy array"))
    data = _read_bytes(path)
    if not data.startswith(magic):
        raise _damaged(path, f"it is not {kind}")
    try:
        loaded = np.load(io.BytesIO(data))  # allow_pickle=False: never runs code from the file
        if not archive:
            return loaded
        with loaded:
            return {name: loaded[name] for name in loaded.files}
    except _NUMPY_READ_ERRORS as error:
        raise _damaged(path, f"numpy cannot read it ({error})") from None


def _read_image(path: Path, shape: list[int]) -> np.ndarray:
    image = _read_numpy(path, archive=False)
    if image.dtype != np.float32:
        raise _damaged(path, f"it holds {image.dtype} values, not float32 pixels")
    if list(image.shape) != shape:
        raise _damaged(path, f"it holds an array of shape {image.shape}, but {RECORD_FILE} "
                             f"records an image of shape {tuple(shape)}")
    if not np.isfinite(image).all():
        raise _damaged(path, "it has NaN or infinite pixels")
    return image


def _read_optimizer_state(path: Path, image_shape: tuple[int, ...]) -> list[np.ndarray]:
    arrays = _read_numpy(path, archive=True)
    fits = ((), (1, *image_shape))  # a step count or rate, or one value per pixel
    for name, value in arrays.items():
        if not isinstance(value, np.ndarray):
            raise _damaged(path, f"its member {name!r} is not a NumPy array")
        if value.shape not in fits:
            raise _damaged(path, f"its array {name!r} has shape {value.shape}, which does not "
                                 f"fit the {image_shape[1]}x{image_shape[0]} px image")
    return [arrays[name] for name in sorted(arrays)]


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_image_shape(value) -> bool:
    return (isinstance(value, list) and len(value) == 3 and all(map(_is_count, value))
            and min(value) > 0 and value[2] == 3)


def _is_hash_table(value) -> bool:
    return isinstance(value, dict) and all(isinstance(v, str) for v in value.values())


# Entries of checkpoint.json: (what it must be, check, default when absent or None is allowed).
_NEEDED = object()
_ENTRIES = {
    "optimizer": ("a name", lambda v: isinstance(v, str), _NEEDED),
    "scale_index": ("a whole number >= 0", _is_count, _NEEDED),
    "steps_in_scale": ("a whole number >= 0", _is_count, _NEEDED),
    "image_shape": ("an image shape [H, W, 3]", _is_image_shape, _NEEDED),
    "history": ("a history of losses", lambda v: isinstance(v, dict), _NEEDED),
    "settings": ("an object", lambda v: isinstance(v, dict), {}),
    "backbone": ("a name", lambda v: isinstance(v, str), None),
    "sha256": ("a table of hashes", _is_hash_table, {}),
}
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


def _read_record(path: Path) -> dict:
    """The entries of ``checkpoint.json``, checked, with the history rebuilt.

    Checkpoints saved before the backbone and the hashes were recorded have neither: the
    backbone comes from the settings (None if absent) and the files are not hash-checked.
    """
    data = _read_bytes(path)
    try:
        record = json.loads(data)
    except ValueError as error:  # JSONDecodeError, or UnicodeDecodeError for binary bytes
        raise _damaged(path, f"it is not JSON ({error})") from None
    if not isinstance(record, dict):
        raise _damaged(path, f"it holds {_JSON_KINDS.get(type(record), 'a value')}, not the "
                             "checkpoint's entries")
    version = record.get("format")
    if version != FORMAT_VERSION:
        if version is None:
            raise _damaged(path, "it has no 'format' entry")
        raise CheckpointError(f"checkpoint file '{path}' has format {version!r}; this version "
                              f"of nstlab reads format {FORMAT_VERSION}")
    if record.get("backbone") is None and isinstance(record.get("settings"), dict):
        record["backbone"] = record["settings"].get("backbone")
    entries = {}
    for name, (what, valid, default) in _ENTRIES.items():
        value = record.get(name)
        if value is None and default is not _NEEDED:
            value = default
        elif not valid(value):
            raise _damaged(path, f"its {name!r} entry is missing or not {what}")
        entries[name] = value
    entries["history"] = _read_history(path, entries["history"])
    return entries


def _read_history(path: Path, data: dict) -> History:
    try:
        history = History.from_dict(data)
    except (KeyError, TypeError, ValueError, AttributeError):
        raise _damaged(path, "its history is incomplete or holds values that are not "
                             "numbers") from None
    series = [history.total, history.tv, history.time, *history.content.values(),
              *history.style.values()]
    if len({len(values) for values in series}) > 1:
        raise _damaged(path, "its history has lists of different lengths")
    return history
