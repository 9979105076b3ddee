"""Files written safely and files checked by hash: the two file helpers every module shares.

* :func:`write_atomically` writes to a temporary file beside the target and renames it over
  the target in one step, so a crash, a full disk or Ctrl-C never leaves a half-written
  image, checkpoint or JSON record behind (the old file, if any, stays as it was).
* :func:`sha256_of` hashes a file in chunks, for the shipped paintings and weights.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path, content: bytes | Callable[[BinaryIO], object]) -> Path:
    """Write ``content`` (bytes, or a function that writes to a binary file) to ``path``.

    The data goes to a hidden temporary file in the same folder, is flushed to disk, and
    then replaces ``path`` in one rename. On any error (including Ctrl-C) the temporary
    file is removed and the error propagates; ``path`` is untouched. The new file gets the
    usual permissions (the umask decides), like one written with ``open``.
    """
    target = Path(path)
    write = content if callable(content) else (lambda file: file.write(content))
    # os.open with O_EXCL and mode 0o666 respects the umask; tempfile.mkstemp would give 0o600.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        try:
            descriptor = os.open(temporary, flags, 0o666)
            break
        except FileExistsError:
            continue
    else:
        raise FileExistsError(f"could not create a temporary file beside '{target}'")
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def sha256_of(path) -> str:
    """The hex SHA-256 digest of the file at ``path``, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
