"""The wall around a student's notebook: bubblewrap, resource limits, and a clean kill.

Each notebook runs in a sandbox of its own, built with bubblewrap (``bwrap``, Debian's
``bubblewrap`` package, the tool Flatpak uses). :func:`command` gives its command line:

* **namespaces**: new user, PID, network, IPC, UTS and mount namespaces (``--unshare-all``,
  no network: not even 127.0.0.1 of the machine is reachable), a session of its own
  (``--new-session``: no typing into the teacher's terminal), killed with the grader
  (``--die-with-parent``);
* **what it sees**: the Python environment read-only (the interpreter's prefix, the
  virtual environment and nstlab's package folder, ``/usr``), the Keras weights folder
  read-only (each opened by the grader and handed over as a descriptor), the student's
  own staged copy read-only at ``/sandbox/submission``, a fresh ``/sandbox/work`` (a
  tmpfs of ``--disk-limit`` MB) where the notebook runs, its own ``/tmp`` and
  ``/dev/shm`` (:data:`SCRATCH_MB` each), ``/proc`` of its own PID namespace and a
  minimal ``/dev``; everything else read-only. Not the other
  submissions, not the course notebooks (with their solutions), not the teacher's home,
  not the grader's processes, sockets or environment;
* **who it is**: uid 1000 inside its user namespace, with no capabilities outside it (a
  root grader's sandbox is still root's uid to the kernel, but without any of root's
  powers, and it sees only what is mounted for it);
* **environment**: built from nothing (``--clearenv``) and a short allowlist
  (:func:`environment`);
* **limits** (rlimits, set before bwrap starts and inherited by everything inside):
  address space (:attr:`Limits.memory_mb`), processes and threads
  (:attr:`Limits.processes`; for a root grader through a ``pids`` cgroup,
  :func:`pids_cgroup`), the largest file (:attr:`Limits.disk_mb`, also the size of the
  work folder's tmpfs), open files, no core dumps. The grader also counts the files in
  ``/sandbox/work`` (unlinked ones included) while it runs (:func:`usage`) and stops the
  sandbox beyond :attr:`Limits.files`;
* **the interpreter**: ``python -I -B``, so nothing in ``/sandbox/work`` shadows a module
  (``argparse.py``, a folder ``nstlab/``) and no ``PYTHON*`` variable applies.

Stopping: SIGKILL to bwrap. With ``--die-with-parent`` its child, PID 1 of the
namespace, dies too, and the kernel kills every process of the namespace with it: a
``setsid`` child or a daemon cannot outlive the sandbox.

Where bubblewrap or user namespaces are missing (macOS, Windows, some containers),
:func:`unavailable` says why, and ``nstlab grade`` refuses unless told the notebooks are
trusted (``--trusted``): then :func:`command` runs them with the same limits but no wall.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

#: The uid the notebook has inside the sandbox.
INSIDE_UID = 1000
WORK, SUBMISSION = "/sandbox/work", "/sandbox/submission"
KERAS_INSIDE = "/sandbox/keras"
#: The size of the sandbox's /tmp and of its /dev/shm, each.
SCRATCH_MB = 64
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_SYSTEM_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/localtime", "/etc/fonts",
                 "/etc/mime.types")


@dataclasses.dataclass(frozen=True)
class Limits:
    """How long a notebook may run and what it may use.

    ``timeout``: seconds for the notebook's cells (the grader's own checks not counted);
    ``disk_mb``: the largest file, and the most ``/sandbox/work`` may hold; ``memory_mb``: its
    address space; ``processes``: processes and threads; ``files``: files in ``/sandbox/work``;
    ``quick``: quick mode (``NSTLAB_QUICK=1``).
    """

    timeout: float = 300.0
    disk_mb: int = 500
    memory_mb: int = 4096
    processes: int = 100
    files: int = 10_000
    quick: bool = True

    def check(self) -> None:
        """Raise ValueError unless every limit is positive."""
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name != "quick" and not value > 0:
                raise ValueError(f"the {field.name.replace('_', ' ')} limit must be positive")


@functools.cache
def unavailable() -> str:
    """Why no sandbox can be built here, in one line; empty when it can."""
    if not sys.platform.startswith("linux"):
        return (f"this system ({sys.platform}) has no bubblewrap sandbox; grade on Linux, "
                "or pass --trusted if you trust these notebooks")
    if shutil.which("bwrap") is None:
        return ("bubblewrap is not installed (apt-get install bubblewrap), so notebooks "
                "cannot be isolated; install it, or pass --trusted if you trust them")
    probe, fds = _by_descriptor([*_bwrap_base(), "--", "/bin/true"])
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, pass_fds=fds,
                              preexec_fn=_limiter(Limits()))
    except (OSError, subprocess.SubprocessError) as error:
        return f"bubblewrap does not start ({error}); pass --trusted if you trust them"
    finally:
        for descriptor in fds:
            os.close(descriptor)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        return (f"bubblewrap cannot build a sandbox here ({said[-1] if said else 'no reason'}"
                "; user namespaces may be off); pass --trusted if you trust the notebooks")
    return ""


def _bwrap_base() -> list[str]:
    line = ["bwrap", "--unshare-all", "--die-with-parent", "--new-session",
            "--uid", str(INSIDE_UID), "--gid", str(INSIDE_UID), "--clearenv",
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(SCRATCH_MB * 2**20), "--tmpfs", "/dev/shm",
            "--size", str(SCRATCH_MB * 2**20), "--tmpfs", "/tmp"]
    for folder in _SYSTEM_DIRS:
        if os.path.islink(folder):
            line += ["--symlink", os.readlink(folder), folder]
        elif os.path.isdir(folder):
            line += ["--ro-bind", folder, folder]
    for path in _SYSTEM_FILES:
        if os.path.exists(path):
            line += ["--ro-bind", path, path]
    return line


def python_folders() -> list[str]:
    """The folders the interpreter and its packages are read from: the interpreter's
    prefix, the virtual environment, and nstlab's own package folder (not the checkout
    around it, which holds the course notebooks with their solutions)."""
    import nstlab

    folders = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix),
               os.path.realpath(Path(nstlab.__file__).parent)}
    return sorted(folder for folder in folders
                  if not any(folder.startswith(other + os.sep) for other in folders))


def keras_models() -> Path | None:
    """The folder of downloaded Keras weights, if there is one."""
    home = Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")
    return home if (home / "models").is_dir() else None


def environment(quick: bool) -> dict[str, str]:
    """The notebook's whole environment: nothing of the grader's but these."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": f"{WORK}/.home", "TMPDIR": "/tmp", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp/matplotlib", "OMP_NUM_THREADS": "1",
        "NSTLAB_QUICK": "1" if quick else "0", "TF_CPP_MIN_LOG_LEVEL": "2",
    }
    if keras_models() is not None:
        env["KERAS_HOME"] = KERAS_INSIDE
    return env


def command(staged: Path, overlay: list[tuple[str, str]], limits: Limits,
            trusted: bool = False) -> list[str]:
    """The command line that runs :mod:`nstlab.classroom.grading.inside` for one notebook.

    ``staged`` is the student's staged copy (mounted read-only at ``/sandbox/submission``);
    ``overlay`` pairs (file or folder made by the grader, path it hides) replace parts of
    the Python environment inside (:mod:`nstlab.classroom.grading.overlay`). ``trusted``:
    no sandbox, the same program in ``staged`` (only for notebooks you trust).
    """
    program = [sys.executable, "-I", "-B", "-m", "nstlab.classroom.grading.inside"]
    if trusted:
        return [*program, "--submission", str(staged), "--work", str(staged.parent / "work")]
    line = _bwrap_base()
    for folder in python_folders():
        line += ["--ro-bind", folder, folder]
    if (models := keras_models()) is not None:
        line += ["--ro-bind", str(models), KERAS_INSIDE]
    for made, hidden in overlay:
        line += ["--ro-bind", made, hidden]
    size = str(limits.disk_mb * 2**20)
    line += ["--ro-bind", str(staged), SUBMISSION, "--size", size, "--tmpfs", WORK,
             "--chdir", WORK]
    for name, value in environment(limits.quick).items():
        line += ["--setenv", name, value]
    line += ["--remount-ro", "/dev", "--remount-ro", "/"]  # only the tmpfs can be written
    return [*line, "--", *program, "--submission", SUBMISSION, "--work", WORK]


_PIDS_CGROUPS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


def pids_cgroup(limits: Limits) -> Path | None:
    """A new cgroup that holds at most ``limits.processes`` tasks, where the machine lets
    the grader make one (cgroup v1 ``pids`` or v2 with the ``pids`` controller); None else.

    Needed for a root grader: the kernel does not apply ``RLIMIT_NPROC`` to root's uid.
    """
    for base in map(Path, _PIDS_CGROUPS):
        if not (base / "cgroup.procs").exists():
            continue
        if base.name != "pids":
            try:
                if "pids" not in (base / "cgroup.subtree_control").read_text().split():
                    continue
            except OSError:
                continue
        try:
            group = Path(tempfile.mkdtemp(prefix="nstlab-grade-", dir=base))
        except OSError:
            continue
        try:
            (group / "pids.max").write_text(str(limits.processes))
            return group
        except OSError:
            remove_cgroup(group)
    return None


def remove_cgroup(group: Path | None) -> None:
    """Remove a cgroup of :func:`pids_cgroup` (once the sandbox is gone)."""
    if group is not None:
        try:
            group.rmdir()
        except OSError:
            pass


def _tasks_of(uid: int) -> int:
    """How many processes and threads ``uid`` runs now (what ``RLIMIT_NPROC`` counts)."""
    count = 0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and entry.stat().st_uid == uid:
                count += sum(1 for _ in (entry / "task").iterdir())
        except OSError:
            continue
    return count


def _limiter(limits: Limits, group: Path | None = None):
    """The function run in the child before bwrap: its limits (inherited by all inside).

    Without a cgroup, ``RLIMIT_NPROC`` counts every process of the grader's uid, so the
    sandbox gets what the uid runs already plus :attr:`Limits.processes`.
    """
    import resource

    megabyte = 2**20
    processes = limits.processes
    if group is None and sys.platform.startswith("linux") and os.getuid() != 0:
        processes += _tasks_of(os.getuid())

    def apply() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        for name, value in (("RLIMIT_AS", limits.memory_mb * megabyte),
                            ("RLIMIT_FSIZE", limits.disk_mb * megabyte),
                            ("RLIMIT_NPROC", processes),
                            ("RLIMIT_NOFILE", 1024), ("RLIMIT_CORE", 0)):
            resource.setrlimit(getattr(resource, name), (value, value))
        if group is not None:
            with open(group / "cgroup.procs", "w") as procs:
                procs.write(str(os.getpid()))

    return apply


def _by_descriptor(line: list[str]) -> tuple[list[str], list[int]]:
    """``line`` with each ``--ro-bind SOURCE DEST`` made ``--ro-bind-fd FD DEST``.

    The grader opens every source itself (``O_PATH``), so the sandbox's unprivileged uid
    needs no access to the folders around them (a virtual environment under ``/root``,
    a private temporary folder); it still reads only what the files' own modes allow.
    """
    out, fds, index = [], [], 0
    while index < len(line):
        if line[index] == "--ro-bind" and "--" not in out:
            descriptor = os.open(line[index + 1], os.O_PATH | os.O_CLOEXEC)
            fds.append(descriptor)
            out += ["--ro-bind-fd", str(descriptor), line[index + 2]]
            index += 3
        else:
            out.append(line[index])
            index += 1
    return out, fds


def start(line: list[str], limits: Limits, group: Path | None, channel: tuple[int, int],
          log) -> subprocess.Popen:
    """Start ``line`` (from :func:`command`) with its limits and the two ``channel`` fds.

    The sandbox reads requests on the first fd and writes answers on the second; its
    stdout goes nowhere (a 300 MB print costs nothing) and stderr to ``log``, a file the
    grader reads only the end of, for a message.
    """
    line, fds = _by_descriptor(line)
    try:
        return subprocess.Popen(line, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=log, pass_fds=(*channel, *fds),
                                preexec_fn=_limiter(limits, group), start_new_session=True,
                                close_fds=True)
    finally:
        for descriptor in fds:
            os.close(descriptor)


def kill(process: subprocess.Popen) -> None:
    """Kill the sandbox and, with its PID namespace, every process inside it."""
    for target in (lambda: os.killpg(process.pid, signal.SIGKILL), process.kill):
        try:
            target()
        except (ProcessLookupError, PermissionError, OSError):
            pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        pass


def usage(process: subprocess.Popen) -> tuple[int, int] | None:
    """(bytes, files) in the sandbox's work folder, unlinked open files included; None if gone.

    Read from outside through ``/proc/PID/root`` of the process inside the namespace.
    """
    try:
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        inner = children[0] if children else str(process.pid)
        info = os.statvfs(f"/proc/{inner}/root{WORK}")
    except (OSError, IndexError):
        return None
    return ((info.f_blocks - info.f_bfree) * info.f_frsize, info.f_files - info.f_ffree)
