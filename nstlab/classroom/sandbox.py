"""Limits for running code you did not write (a student's notebook) on your own machine.

:func:`restrict` applies them to the current process, and everything it starts afterwards
inherits them. ``python -m nstlab.classroom.sandbox`` applies them and then becomes the command that
follows ``--`` (the grader starts each notebook's Jupyter kernel this way)::

    python -m nstlab.classroom.sandbox --write /tmp/run1 --max-file-mb 500 -- python -m ipykernel ...

What the limits do
------------------
* **Writing only inside the given folders** (Linux 5.13 or newer, with the Landlock
  security module enabled, as most distributions ship it). Creating, changing, renaming
  and deleting files anywhere else fails with ``PermissionError``, even for root: the
  teacher's files, the submissions and the home folder are safe. Reading stays allowed
  everywhere (the code needs Python, TensorFlow and the course data). Writing to
  ``/dev/null`` and its friends stays allowed too.
* **No signals to processes outside** (Landlock ABI 6, Linux 6.12 or newer): the code
  cannot stop or kill the program that runs it.
* **No file larger than a limit** (``RLIMIT_FSIZE``): a write beyond it fails with
  ``OSError: File too large``. This bounds each file, not their number: the grader also
  watches the folder's total size.
* **No core dumps** (``RLIMIT_CORE`` = 0), which would land in the working folder.

What they do not do: limit memory, processor time or the number of processes, or the
network; a process the code starts in a session of its own survives when the kernel is
killed (until it exits). Where Landlock is missing (macOS, Windows, old kernels) only the
resource limits apply: :func:`landlock_abi` returns 0 there, and the grader says so.

Landlock is used through its three system calls (``ctypes``; no extra package): a ruleset
that *handles* every kind of write, one rule per writable folder that allows them beneath
it, then ``landlock_restrict_self``. Rights the kernel does not know (an older ABI) are
left out, so the same code runs on every version.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from collections.abc import Iterable, Sequence

# System call numbers: the same on every Linux architecture (asm-generic table).
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
_PR_SET_NO_NEW_PRIVS = 38

# Filesystem rights (include/uapi/linux/landlock.h) that change something on disk.
_WRITE_FILE = 1 << 1
_REMOVE_DIR, _REMOVE_FILE = 1 << 4, 1 << 5
_MAKE_ANYTHING = sum(1 << bit for bit in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER = 1 << 13  # ABI 2: link or rename a file into another folder
_TRUNCATE = 1 << 14  # ABI 3
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1, 2  # ABI 6

#: Device files the code may still write to (they hold no data).
HARMLESS_DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/tty")


class SandboxError(OSError):
    """The limits could not be applied (a bug or an unusual system, not the sandboxed code)."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1  # declared __attribute__((packed)) in the kernel header
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def _call(libc, number: int, *arguments) -> int:
    result = libc.syscall(ctypes.c_long(number), *arguments)
    if result < 0:
        error = ctypes.get_errno()
        raise SandboxError(error, f"Landlock system call {number} failed: {os.strerror(error)}")
    return result


def landlock_abi() -> int:
    """The Landlock version this system offers; 0 when it has none (not Linux, too old, off)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _libc()
        return max(0, libc.syscall(ctypes.c_long(_CREATE_RULESET), None, ctypes.c_size_t(0),
                                   ctypes.c_uint32(_CREATE_RULESET_VERSION)))
    except (OSError, AttributeError):
        return 0


def _write_rights(abi: int) -> int:
    rights = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE_ANYTHING
    if abi >= 2:
        rights |= _REFER
    if abi >= 3:
        rights |= _TRUNCATE
    return rights


def _restrict_writes(folders: Sequence[str], abi: int) -> None:
    """Allow writes only beneath ``folders`` (and to :data:`HARMLESS_DEVICES`), for good."""
    libc = _libc()
    handled = _write_rights(abi)
    scoped = _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL if abi >= 6 else 0
    attr = _RulesetAttr(handled, 0, scoped)
    size = 8 if abi < 4 else 16 if abi < 6 else 24  # the struct grew with the ABI
    ruleset = _call(libc, _CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size),
                    ctypes.c_uint32(0))
    try:
        file_rights = _WRITE_FILE | (_TRUNCATE if abi >= 3 else 0)
        beneath = [(folder, handled) for folder in folders]
        beneath += [(device, file_rights) for device in HARMLESS_DEVICES if os.path.exists(device)]
        for path, allowed in beneath:
            descriptor = os.open(path, os.O_PATH | os.O_CLOEXEC)
            try:
                rule = _PathBeneathAttr(allowed, descriptor)
                _call(libc, _ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(_RULE_PATH_BENEATH),
                      ctypes.byref(rule), ctypes.c_uint32(0))
            finally:
                os.close(descriptor)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise SandboxError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        _call(libc, _RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0))
    finally:
        os.close(ruleset)


def restrict(writable: Iterable[str | os.PathLike], max_file_bytes: int) -> list[str]:
    """Limit this process (and all it starts from now on) as the module docstring says.

    Parameters
    ----------
    writable : folders
        The only folders (with everything beneath them) where files may be written.
    max_file_bytes : int
        The largest file the process may write.

    Returns
    -------
    list of str
        What is in force, one short phrase each, for a report.

    Raises
    ------
    SandboxError
        When Landlock is there but refuses the rules.
    """
    folders = [os.path.realpath(folder) for folder in writable]
    for folder in folders:
        if not os.path.isdir(folder):
            raise SandboxError(f"cannot allow writes in '{folder}': not a folder")
    active = []
    try:
        import resource
    except ImportError:  # Windows
        resource = None
    if resource is not None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        active.append(f"files up to {max_file_bytes // 2**20} MB, no core dumps")
    abi = landlock_abi()
    if abi:
        _restrict_writes(folders, abi)
        active.append(f"writes only in {', '.join(folders)} (Landlock ABI {abi})")
        if abi >= 6:
            active.append("no signals to other processes")
    return active


def command(writable: Iterable[str | os.PathLike], max_file_bytes: int) -> list[str]:
    """The start of a command line that runs what follows it under :func:`restrict`."""
    line = [sys.executable, "-m", "nstlab.classroom.sandbox", "--max-file-bytes", str(max_file_bytes)]
    for folder in writable:
        line += ["--write", os.fspath(folder)]
    return [*line, "--"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command with writes limited to some folders (:func:`restrict`).

    The command line is ``python -m nstlab.classroom.sandbox --write DIR [--write DIR2]
    --max-file-bytes N -- COMMAND [ARGS]``.
    """
    parser = argparse.ArgumentParser(prog="python -m nstlab.classroom.sandbox",
                                     description="Run COMMAND with writes limited to DIRs.")
    parser.add_argument("--write", action="append", default=[], metavar="DIR", required=True)
    parser.add_argument("--max-file-bytes", type=int, required=True, metavar="N")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command_line = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command_line:
        parser.error("no COMMAND after --")
    try:
        restrict(args.write, args.max_file_bytes)
        os.execvp(command_line[0], command_line)
    except OSError as error:
        print(f"nstlab.classroom.sandbox: error: {error}", file=sys.stderr)
        return 126
    return 0  # not reached: execvp replaced this process


if __name__ == "__main__":
    sys.exit(main())
