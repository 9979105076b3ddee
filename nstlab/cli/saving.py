"""Writing what a run made: checked first, written atomically, and never lost to a full disk.

An output is checked before any work starts (it may not exist without ``--overwrite``). When
it cannot be written at the end, it goes to the system's temporary folder instead and the
command says where; the run's exit code is then 1.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from nstlab.base import validators


def check_outputs(args) -> Path:
    """The image the command writes (``-o``), after checking it and ``--history`` can be."""
    from nstlab.imaging.images import SAVE_FORMATS

    output = validators.check_output_path(args.output, overwrite=args.overwrite,
                                          suffixes=tuple(SAVE_FORMATS))
    if args.history:
        validators.check_output_path(args.history, overwrite=args.overwrite)
    return output


def partial_path(output: Path) -> Path:
    """Where a stopped run keeps its image so far: ``out.png`` -> ``out.partial.png``."""
    return output.with_name(f"{output.stem}.partial{output.suffix}")


def intermediate_saver(output: Path, every: int):
    """A callback saving OUT_0050.png ... every ``every`` steps; a failed write only warns."""
    from nstlab.imaging.images import ImageError, save_image

    warned = []

    def save_intermediate(info):
        if info.step % every:
            return
        path = output.with_name(f"{output.stem}_{info.step:04d}{output.suffix}")
        try:
            save_image(info.image, path)
        except ImageError as error:
            if not warned:
                print(f"nstlab: warning: {error}; the run goes on", file=sys.stderr)
            warned.append(path)

    return save_intermediate


def save_or_fall_back(image, path: Path) -> list[str]:
    """Save the image to ``path``, else to the temporary folder; returns the problems."""
    from nstlab.imaging.images import encode_image

    return write_or_fall_back(path, encode_image(image, path.suffix))


def write_or_fall_back(path: Path, data: bytes) -> list[str]:
    """Write ``data`` to ``path``, else to the temporary folder; returns the problems."""
    from nstlab.base.files import write_atomically

    try:
        write_atomically(path, data)
        return []
    except OSError as error:
        return _fall_back(path, f"cannot write '{path}': {error.strerror or error}", data)


def _fall_back(path: Path, problem: str, data: bytes) -> list[str]:
    """Write ``data`` to the system's temporary folder after ``path`` failed; say where."""
    from nstlab.base.files import write_atomically

    name = Path(tempfile.gettempdir()) / f"nstlab-{path.stem}-{os.getpid()}{path.suffix}"
    try:
        write_atomically(name, data)
    except OSError as second:
        print(f"nstlab: error: {problem}; writing it to {name} failed too "
              f"({second.strerror or second}): the result is lost", file=sys.stderr)
    else:
        print(f"nstlab: error: {problem}; wrote it to {name} instead", file=sys.stderr)
    return [problem]
