"""The finished frames of a run, kept on disk as they are made, so a stopped run resumes.

A store is a folder of frames (``frame_000001.png`` ...) and a record, ``video.json``: the
run's settings, the clip's frame count, and how far each pass got. Each frame is written
atomically before the record says it is done, and a Ctrl-C or SIGTERM waits until both
are written. So a stopped run loses at most the frame it was working on; a crash, at most
a frame on disk that the record does not count, which the next run makes again. A folder
that holds another run's frames (other settings, another clip) is refused, never mixed
or overwritten.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from nstlab.base.files import write_atomically
from nstlab.base.messages import interrupts_deferred
from nstlab.base.validators import OptionError
from nstlab.imaging.images import load_image
from nstlab.video.frames import frame_name, write_frame

RECORD = "video.json"
#: The sub-folder that keeps what each chunk made (:mod:`.chunks`), its warm-up too.
CHUNKS = ".chunks"


class FrameStore:
    """A folder of a run's finished frames and its record (see the module's docstring).

    Parameters
    ----------
    folder : path
        Made if missing.
    settings : dict
        Plain JSON values that decide the frames (the options, the inputs' names, the
        clip's size): a folder made with other settings is refused.
    frames : int
        How many frames the clip has.
    """

    def __init__(self, folder, settings: dict, frames: int):
        self.folder = Path(folder)
        self.frames = int(frames)
        self.settings = json.loads(json.dumps(settings))
        self.progress = {"pass": 1, "done": 0}
        record = self.folder / RECORD
        if record.exists():
            kept = json.loads(record.read_text())
            if kept.get("settings") != self.settings or kept.get("frames") != self.frames:
                raise OptionError(f"{self.folder} holds the frames of another run (other "
                                  "options, input or engine); choose another output, or "
                                  "--overwrite")
            self.progress = kept["progress"]
        elif self.folder.exists() and any(self.folder.iterdir()):
            raise OptionError(f"{self.folder} is not empty and is not a video run's folder; "
                              "choose another output, or --overwrite")
        self.folder.mkdir(parents=True, exist_ok=True)

    @property
    def finished(self) -> bool:
        """Whether every pass is done (the record says so)."""
        return self.progress.get("complete", False)

    def done_in(self, pass_number: int) -> int:
        """How many frames pass ``pass_number`` has finished (in its own order)."""
        if pass_number < self.progress["pass"]:
            return self.frames
        return self.progress["done"] if pass_number == self.progress["pass"] else 0

    def load(self, index: int) -> np.ndarray:
        """Finished frame ``index`` (0-based)."""
        return load_image(self.folder / frame_name(index))

    def save(self, index: int, frame: np.ndarray, pass_number: int, done: int) -> None:
        """Keep frame ``index``; then record that ``pass_number`` has ``done`` frames.

        A stop (Ctrl-C, SIGTERM) that arrives meanwhile waits until both are written.
        """
        with interrupts_deferred():
            write_frame(frame, self.folder, index)
            self.progress = {"pass": pass_number, "done": done}
            self._write()

    def chunk_done(self, first: int, end: int) -> bool:
        """Whether the chunk keeping frames ``first .. end - 1`` is kept (:mod:`.chunks`)."""
        return [first, end] in self.progress.get("chunks", [])

    def _chunk_folder(self, first: int) -> Path:
        return self.folder / CHUNKS / f"from_{first + 1:06d}"

    def save_chunk(self, first: int, end: int, frames: list) -> None:
        """Keep all the frames a chunk made (its warm-up too), then record it as done."""
        folder = self._chunk_folder(first)
        folder.mkdir(parents=True, exist_ok=True)
        with interrupts_deferred():
            for offset, frame in enumerate(frames):
                write_frame(frame, folder, offset)
            self.progress = dict(self.progress, chunks=[*self.progress.get("chunks", []),
                                                        [first, end]])
            self._write()

    def load_chunk(self, first: int, count: int) -> list[np.ndarray]:
        """The ``count`` frames a chunk made, its warm-up first."""
        return [load_image(self._chunk_folder(first) / frame_name(i)) for i in range(count)]

    def complete(self, summary: dict) -> None:
        """Record that the run is finished, with its ``summary`` (the warping error ...)."""
        self.progress = dict(self.progress, complete=True, summary=summary)
        self._write()

    def _write(self) -> None:
        record = {"settings": self.settings, "frames": self.frames, "progress": self.progress}
        write_atomically(self.folder / RECORD, json.dumps(record, indent=1).encode())
