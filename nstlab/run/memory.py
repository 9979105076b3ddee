"""How much memory a style-transfer run needs, worked out before anything is allocated.

A run that asks for more memory than the machine has does not fail politely: the operating
system kills it, possibly after slowing every other program down. So the command and
:func:`nstlab.stylize` first *estimate* the run's peak memory from the shapes of the
network's layers, compare it with what the machine has free, and refuse at once, with the
largest size that would fit, when it is too much.

>>> from nstlab.engine import defaults
>>> from nstlab.run import memory
>>> # A 1024 px run from a 4:3 photo with Starry Night as the style, stylize's defaults:
>>> need = memory.estimate_peak_bytes(
...     768, 1024, style_shapes=[(640, 1024)], content_layers=defaults.DEFAULT_CONTENT_LAYERS,
...     style_layers=defaults.DEFAULT_STYLE_LAYERS, backbone="vgg16", optimizer="lbfgs",
...     lbfgs_history=defaults.LBFGS_HISTORY, precision="auto")
>>> memory.format_bytes(need), memory.format_bytes(memory.available_bytes())  # doctest: +SKIP
('4.4 GiB', '21.7 GiB')

:meth:`nstlab.run.options.StylizeOptions.validate` calls :func:`check_fits`, so
:func:`nstlab.stylize` and ``nstlab stylize`` both refuse such a run with one line, before
they load anything; ``NSTLAB_SKIP_MEMORY_CHECK=1`` (or ``memory_check=False``,
``--no-memory-check``) lets it try anyway.

This module never imports TensorFlow (starting it takes seconds and hundreds of MB, which
is exactly what the check is there to avoid); everything here is arithmetic on shapes.

The model
---------
What a run holds at its peak, at its final (largest) size: a coarse-to-fine run's earlier
scales are smaller, so they need less.

* **The runtime** (:data:`RUNTIME_BYTES`): Python, NumPy and TensorFlow's libraries,
  thread pools and compiled steps, measured once.
* **The weights** (:func:`weight_bytes`): every convolution's kernel and bias as read from
  the weights file (all of the network's layers, kept for reuse), plus the built network's
  copy of the layers it keeps (it is cut after the deepest layer a loss uses).
* **The images as loaded** (``loaded_shapes``): float32 RGB, 12 bytes a pixel, kept for
  the whole run because every scale is resized from them.
* **The targets**: the content layers' activations for the content image (float32), and
  a ``channels x channels`` Gram matrix for each style layer.
* **One pass through the network** (:func:`pass_bytes`): the activations, every
  convolution and pooling output of the truncated network, ``h * w * channels`` numbers,
  4 bytes each in float32 or 2 in mixed precision (which also hands the layers the losses
  read back as float32, 4 bytes more each); plus one more array the size of the largest,
  the next layer's output being written while its input is still held. Each pooling halves
  the height and width, so block 1 (full resolution, 64 channels) holds most of it.
* **A gradient** adds the largest buffer of all: to send the gradient back through a 3x3
  convolution, TensorFlow's own CPU kernel first unfolds every pixel's 3x3 neighbourhood
  into ``9 x input channels`` numbers. For ``block1_conv2`` that is 576 numbers a pixel,
  twice all the activations together. The oneDNN kernels TensorFlow runs on CPUs with
  AVX-512 neural-network instructions (:func:`onednn_kernels`) need no such buffer: there
  the gradient adds one more array the size of the largest activation.
* **The optimiser** (:func:`optimizer_bytes`): image-sized float32 buffers. L-BFGS keeps
  ``lbfgs_history`` pairs (a step and the gradient's change over it), Adam two moments,
  and both work on a few more.

Before the first step, the targets come from one pass (without a gradient) over the
content image, then one over each style image; every step after is one pass with a
gradient over the image being optimised. The peak is the larger of the two. On top of the
arrays, the memory allocator keeps freed blocks for reuse rather than hand them back at
once: about half as much again for a small run, never more than :data:`ALLOCATOR_CAP_BYTES`
(blocks over 32 MB go straight back to the system)::

    arrays = weights + loaded images + targets
             + max(pass over the largest input image,
                   optimiser + pass with gradient over the image)
    peak = runtime + arrays + min(arrays / 2, ALLOCATOR_CAP_BYTES)

:data:`RUNTIME_BYTES` is measured, :data:`ALLOCATOR_FRACTION` and
:data:`ALLOCATOR_CAP_BYTES` are fitted to the peaks of real runs (``benchmarks/memory.py``;
the table is in ``benchmarks/README.md``); everything else follows from the shapes. The
estimate is of the computer's main memory (RAM): on a GPU the activations live in the
GPU's own memory, so there the estimate is generous.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from nstlab.base import hardware
from nstlab.engine import backbones
from nstlab.engine.precision import resolve_precision
from nstlab.imaging.images import fit_within

#: Setting this environment variable to anything but ``""`` or ``"0"`` skips :func:`check_fits`.
SKIP_ENV_VAR = "NSTLAB_SKIP_MEMORY_CHECK"

#: Bytes of one float32 number, the pixels' and the losses' type.
FLOAT32 = 4
#: Bytes of one RGB pixel in float32.
PIXEL_BYTES = 3 * FLOAT32

# Measured with `python benchmarks/memory.py --baseline` (TensorFlow 2.21, Linux, 2-core AMD
# EPYC, 2026-11-30): the peak resident memory of a whole stylize run at 32 px, in a fresh
# process, minus this model's estimate of its size-dependent part. What is left is what every
# run pays: Python, NumPy, TensorFlow's libraries, thread pools and compiled steps (788-805 MB
# over four runs; 820 MB with TF_ENABLE_ONEDNN_OPTS=1).
RUNTIME_BYTES = 800_000_000

# The memory allocator keeps freed blocks for reuse instead of handing them back at once, so a
# process holds more than its live arrays: about half as much again for a small run, at most
# ALLOCATOR_CAP_BYTES (blocks larger than 32 MB go straight back to the system). Fitted to the
# peaks of real runs at 128-1280 px (benchmarks/README.md).
ALLOCATOR_FRACTION = 0.5
ALLOCATOR_CAP_BYTES = 315_000_000

#: The environment variable TensorFlow reads to turn its oneDNN kernels on or off.
ONEDNN_ENV_VAR = "TF_ENABLE_ONEDNN_OPTS"
#: CPU flags (as in /proc/cpuinfo) with which TensorFlow turns oneDNN on by default on Linux
#: (``DefaultOneDnnPolicy`` in TensorFlow's tensorflow/core/util/port.cc).
ONEDNN_CPU_FLAGS = frozenset({"avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8",
                              "amx_bf16"})

#: Image-sized float32 buffers besides L-BFGS's pairs and Adam's moments: the pixels, the
#: gradient, trial points and search directions, and the resized content and start images.
OPTIMIZER_WORK_BUFFERS = {"lbfgs": 12, "adam": 8}


class MemoryBudgetError(ValueError):
    """A run that needs more memory than the machine has free; the message says how much."""


def feature_map_shapes(height: int, width: int, *, backbone: str,
                       deepest: str) -> list[tuple[str, int, int, int]]:
    """``(layer, height, width, channels)`` of every output of the network up to ``deepest``.

    Each convolution keeps the size of its input (3x3 kernels, padded) and has the
    channels of its block (:data:`nstlab.engine.backbones.FILTERS_PER_BLOCK`); each 2x2 pooling
    between blocks halves the height and width, rounding down.

    >>> for shape in feature_map_shapes(64, 48, backbone="vgg16", deepest="block2_conv1"):
    ...     print(shape)
    ('block1_conv1', 64, 48, 64)
    ('block1_conv2', 64, 48, 64)
    ('block1_pool', 32, 24, 64)
    ('block2_conv1', 32, 24, 128)
    """
    names = backbones.layer_names(backbone)
    backbones.check_layers([deepest], backbone)
    shapes = []
    for name in names[: names.index(deepest) + 1]:
        block = int(name[5])
        if shapes and name.endswith("_conv1"):
            height, width = height // 2, width // 2
            shapes.append((f"block{block - 1}_pool", height, width, shapes[-1][3]))
        shapes.append((name, height, width, backbones.FILTERS_PER_BLOCK[block - 1]))
    return shapes


def deepest_layer(layers: Iterable[str], backbone: str) -> str:
    """The layer of ``layers`` furthest into the network: where it is cut."""
    names = backbones.layer_names(backbone)
    return max(backbones.check_layers(list(layers), backbone), key=names.index)


def onednn_kernels(flags=None) -> bool:
    """Whether TensorFlow will run its oneDNN convolutions here, which need far less memory.

    Sending a gradient back through a convolution, TensorFlow's own CPU kernel first unfolds
    every pixel's 3x3 neighbourhood into one large buffer; the oneDNN kernels do without.
    TensorFlow turns oneDNN on by default on Linux for CPUs with neural-network
    instructions (:data:`ONEDNN_CPU_FLAGS`, such as AVX512_BF16), unless
    :data:`ONEDNN_ENV_VAR` is ``0`` or ``false``. Forced on a CPU without them
    (``TF_ENABLE_ONEDNN_OPTS=1`` on an AVX2 CPU) it measured no leaner at 768 px, and on
    other systems the CPU cannot be read, so those count as without: the larger estimate.
    ``flags`` defaults to this machine's (:func:`nstlab.base.hardware.cpu_flags`).
    """
    if os.environ.get(ONEDNN_ENV_VAR, "").strip().lower() in ("0", "false"):
        return False
    flags = hardware.cpu_flags() if flags is None else set(flags)
    return bool(flags & ONEDNN_CPU_FLAGS)


def pass_bytes(height: int, width: int, *, backbone: str, layers: Sequence[str],
               precision: str, gradient: bool, onednn: bool | None = None) -> int:
    """Bytes one pass of a ``height x width`` image through the network holds at its peak.

    The network is cut after the deepest of ``layers``. Every convolution and pooling
    output up to there counts, at 4 bytes a number in float32 and 2 in mixed precision,
    where the ``layers`` the losses read are also converted to float32 (4 bytes more
    each); so does one more array the size of the largest. With ``gradient``, the gradient
    sent back through the layers adds the buffer the largest convolution's input is
    unfolded into (``9 * input channels`` numbers a pixel), or with ``onednn``
    (:func:`onednn_kernels`, the default) one more array the size of the largest. See the
    module docstring.
    """
    layers = set(layers)
    bytes_each = FLOAT32 if resolve_precision(precision, "cpu") == "float32" else 2
    activations = largest = unfolded = 0
    channels_in = 3
    for name, h, w, channels in feature_map_shapes(height, width, backbone=backbone,
                                                   deepest=deepest_layer(layers, backbone)):
        values = h * w * channels
        size = values * (bytes_each + (FLOAT32 if bytes_each != FLOAT32 and name in layers
                                       else 0))
        activations += size
        largest = max(largest, size)
        if not name.endswith("_pool"):
            unfolded = max(unfolded, h * w * 9 * channels_in * bytes_each)
            channels_in = channels
    if not gradient:
        return activations + largest
    onednn = onednn_kernels() if onednn is None else onednn
    return activations + largest + (largest if onednn else unfolded)


def weight_bytes(backbone: str, deepest: str) -> int:
    """Bytes of the network's weights: all of them as read, plus the layers kept to ``deepest``.

    A 3x3 convolution from ``c_in`` to ``c_out`` channels has ``9 * c_in * c_out`` kernel
    weights and ``c_out`` biases, float32.
    """
    def convolution_weights(last: str) -> int:
        count, channels_in = 0, 3
        for name, _, _, channels in feature_map_shapes(1, 1, backbone=backbone, deepest=last):
            if not name.endswith("_pool"):
                count += 9 * channels_in * channels + channels
                channels_in = channels
        return count * FLOAT32

    return convolution_weights(backbones.layer_names(backbone)[-1]) + convolution_weights(deepest)


def optimizer_bytes(height: int, width: int, *, optimizer: str, lbfgs_history: int) -> int:
    """Bytes of the image-sized float32 buffers the optimiser keeps and works on.

    L-BFGS remembers ``lbfgs_history`` pairs (a step and the gradient's change over it);
    Adam keeps two moments. Both also hold :data:`OPTIMIZER_WORK_BUFFERS` working copies.
    """
    if optimizer not in OPTIMIZER_WORK_BUFFERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of "
                         f"{', '.join(OPTIMIZER_WORK_BUFFERS)}")
    kept = 2 * lbfgs_history if optimizer == "lbfgs" else 2
    return (kept + OPTIMIZER_WORK_BUFFERS[optimizer]) * height * width * PIXEL_BYTES


def estimate_peak_bytes(
    height: int,
    width: int,
    *,
    style_shapes: Sequence[tuple[int, int]] = (),
    content_layers: Sequence[str],
    style_layers: Sequence[str],
    backbone: str,
    optimizer: str,
    lbfgs_history: int,
    precision: str | None = None,
    loaded_shapes: Sequence[tuple[int, int]] = (),
    onednn: bool | None = None,
) -> int:
    """The most memory (bytes of RAM) a run is expected to hold at once.

    Parameters
    ----------
    height, width : int
        The image being optimised at the run's final (largest) scale.
    style_shapes : list of (height, width)
        Each style image (and ``coarse_style``) as the network sees it at that scale.
    content_layers, style_layers, backbone, optimizer, lbfgs_history
        As :func:`nstlab.stylize` takes them (its defaults are in :mod:`nstlab.run.options`).
    precision : "float32", "mixed_float16", "mixed_bfloat16", "auto" or None
        ``None`` when not known: float32 is assumed, which needs the most. ``"auto"`` is
        what the CPU would choose (:func:`nstlab.engine.precision.resolve_precision` with
        ``device="cpu"``, which needs no TensorFlow): with a GPU the activations are in its
        memory, not in the RAM estimated here.
    loaded_shapes : list of (height, width)
        The images as loaded, before resizing, kept for the whole run.
    onednn : bool, optional
        Whether TensorFlow runs its oneDNN convolutions; default :func:`onednn_kernels`.

    The model and its measured constants are described in the module docstring.
    """
    content_layers, style_layers = list(content_layers), list(style_layers)
    layers = content_layers + style_layers
    deepest = deepest_layer(layers, backbone)
    network = dict(backbone=backbone, layers=layers,
                   precision=resolve_precision(precision or "float32", "cpu"))
    onednn = onednn_kernels() if onednn is None else onednn
    shapes = feature_map_shapes(height, width, backbone=backbone, deepest=deepest)
    targets = (sum(h * w * channels for name, h, w, channels in shapes if name in content_layers)
               + sum(channels * channels for name, _, _, channels in shapes
                     if name in style_layers)) * FLOAT32
    targets_pass = max(pass_bytes(h, w, gradient=False, **network)
                       for h, w in [(height, width), *style_shapes])
    step = (optimizer_bytes(height, width, optimizer=optimizer, lbfgs_history=lbfgs_history)
            + pass_bytes(height, width, gradient=True, onednn=onednn, **network))
    arrays = (weight_bytes(backbone, deepest) + sum(h * w for h, w in loaded_shapes) * PIXEL_BYTES
              + targets + max(targets_pass, step))
    return int(RUNTIME_BYTES + arrays + min(ALLOCATOR_FRACTION * arrays, ALLOCATOR_CAP_BYTES))


def largest_fitting_size(budget: int, content_shape: tuple[int, int],
                         style_shapes: Sequence[tuple[int, int]] = (), *, limit: int = 1 << 20,
                         **run) -> int:
    """The largest size (longest side, pixels) whose estimate is within ``budget`` bytes.

    ``content_shape`` and ``style_shapes`` are the images at the size asked for; at other
    sizes they are scaled alike, keeping their aspect ratios. ``run`` holds the other
    arguments of :func:`estimate_peak_bytes`. 0 when not even a 1 px run fits; the search
    stops at ``limit`` pixels. The estimate grows with the size, so this is a binary search.
    """
    asked = max(content_shape)

    def fits(size: int) -> bool:
        styles = [fit_within(*shape, max(1, round(max(shape) * size / asked)))
                  for shape in style_shapes]
        return estimate_peak_bytes(*fit_within(*content_shape, size), style_shapes=styles,
                                   **run) <= budget

    low, high = 0, limit  # fits(low) holds (or low == 0); the answer is in [low, high]
    while low < high:
        middle = (low + high + 1) // 2
        if fits(middle):
            low = middle
        else:
            high = middle - 1
    return low


# ----------------------------------------------------------------- how much memory is free


def _read(path: Path) -> str | None:
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError):
        return None


def _meminfo_available(proc: Path) -> int | None:
    """``MemAvailable`` from ``/proc/meminfo`` (free memory plus what the kernel can reclaim)."""
    text = _read(proc / "meminfo")
    if text is None:
        return None
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            fields[name] = int(parts[0]) * (1024 if parts[1:] == ["kB"] else 1)
    if "MemAvailable" in fields:
        return fields["MemAvailable"]
    if "MemFree" in fields:  # kernels before 3.14 have no MemAvailable
        return fields["MemFree"] + fields.get("Cached", 0)
    return None


def _unescape(field: str) -> str:
    """Undo ``/proc/self/mountinfo``'s octal escapes (``\\040`` is a space)."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), field)


def _cgroup_directories(proc: Path) -> list[tuple[int, Path, Path]]:
    """``(version, this process's memory cgroup folder, its mount point)`` for v1 and v2."""
    memberships = _read(proc / "self" / "cgroup")
    mounts = _read(proc / "self" / "mountinfo")
    if memberships is None or mounts is None:
        return []
    wanted = {}  # version -> path of this process's cgroup inside that hierarchy
    for line in memberships.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        hierarchy, controllers, path = parts
        if hierarchy == "0" and controllers == "":
            wanted[2] = path
        elif "memory" in controllers.split(","):
            wanted[1] = path
    found = []
    for line in mounts.splitlines():
        before, _, after = line.partition(" - ")
        fields, tail = before.split(), after.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        root, mount_point = _unescape(fields[3]), Path(_unescape(fields[4]))
        fs_type, super_options = tail[0], tail[2].split(",")
        version = 2 if fs_type == "cgroup2" else 1 if (
            fs_type == "cgroup" and "memory" in super_options) else None
        if version not in wanted:
            continue
        path = wanted.pop(version)
        relative = os.path.relpath(path, root) if path.startswith(root) else "."
        directory = mount_point / relative if relative != "." else mount_point
        found.append((version, directory if directory.is_dir() else mount_point, mount_point))
    return found


def _read_int(path: Path) -> int | None:
    text = _read(path)
    return int(text.split()[0]) if text and text.split()[0].isdigit() else None


def _stat_field(path: Path, name: str) -> int:
    for line in (_read(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0


# cgroup v1 writes "no limit" as the largest multiple of the page size below 2**63.
_NO_LIMIT = 1 << 62


def _cgroup_headroom(version: int, directory: Path, mount_point: Path) -> int | None:
    """The tightest ``limit - usage`` of ``directory`` and its parents; None without a limit.

    Usage leaves out inactive file cache, which the kernel drops before it kills anything.
    """
    limit_file, usage_file, inactive = (
        ("memory.max", "memory.current", "inactive_file") if version == 2 else
        ("memory.limit_in_bytes", "memory.usage_in_bytes", "total_inactive_file"))
    headroom = None
    while True:
        limit = _read_int(directory / limit_file)  # None for v2's "max" (no limit)
        usage = _read_int(directory / usage_file)
        if limit is not None and limit < _NO_LIMIT and usage is not None:
            used = max(0, usage - _stat_field(directory / "memory.stat", inactive))
            room = max(0, limit - used)
            headroom = room if headroom is None else min(headroom, room)
        if directory == mount_point or directory.parent == directory:
            return headroom
        directory = directory.parent


def _resident_bytes(proc: Path) -> int:
    """The memory this process holds now (``VmRSS``); 0 when it cannot be read."""
    for line in (_read(proc / "self" / "status") or "").splitlines():
        if line.startswith("VmRSS:") and line.split()[1:2] and line.split()[1].isdigit():
            return int(line.split()[1]) * 1024
    return 0


def available_bytes(proc: str | os.PathLike = "/proc") -> int | None:
    """The memory (bytes) this process may grow to for a run, or None if it cannot be told.

    What it holds already (a notebook's earlier runs, TensorFlow once started) plus what is
    free. On Linux free means ``MemAvailable`` from ``/proc/meminfo``, the kernel's own
    estimate of what can be had without swapping, lowered to the room left under a cgroup
    memory limit (v2 ``memory.max`` or v1 ``memory.limit_in_bytes``, the way containers and
    batch systems cap a job) when one is set. Elsewhere: the free physical memory where
    ``os.sysconf`` reports it, else None (macOS, Windows). ``proc`` is read instead of
    ``/proc`` (for tests).
    """
    proc = Path(proc)
    candidates = [_meminfo_available(proc)]
    candidates += [_cgroup_headroom(*found) for found in _cgroup_directories(proc)]
    known = [value for value in candidates if value is not None]
    if known:
        return _resident_bytes(proc) + min(known)
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
        return None


# ------------------------------------------------------------------------------ the check


def format_bytes(count: float) -> str:
    """A byte count for people: ``'850 MiB'``, ``'21.7 GiB'`` (powers of 1024)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(count) < 1024 or unit == "PiB":
            break
        count /= 1024
    digits = 0 if unit in ("B", "KiB", "MiB") or abs(count) >= 100 else 1
    return f"{count:.{digits}f} {unit}"


def skip_requested() -> bool:
    """True when :data:`SKIP_ENV_VAR` asks to run without the memory check."""
    return os.environ.get(SKIP_ENV_VAR, "").strip() not in ("", "0")


def check_fits(content_shape: tuple[int, int], style_shapes: Sequence[tuple[int, int]] = (),
               *, content_layers: Sequence[str], style_layers: Sequence[str], backbone: str,
               optimizer: str, lbfgs_history: int, precision: str | None = None,
               loaded_shapes: Sequence[tuple[int, int]] = (), onednn: bool | None = None,
               available: int | None = None, size_name: str = "size") -> int:
    """Refuse a run that would not fit in memory; return its estimate (bytes) otherwise.

    :meth:`nstlab.run.options.StylizeOptions.validate` calls it with the run's options of
    the same names (``content_layers`` ... ``precision``).

    Parameters
    ----------
    content_shape, style_shapes : (height, width)
        The content and each style image (and ``coarse_style``) at the run's final size.
    content_layers, style_layers, backbone, optimizer, lbfgs_history, precision
        The run's options (:func:`estimate_peak_bytes`).
    loaded_shapes, onednn
        As :func:`estimate_peak_bytes` takes them.
    available : int, optional
        The memory the run may use; default :func:`available_bytes`. When it cannot be
        told, nothing is refused.
    size_name : str
        How the message names the size option (``"--size"`` on the command line).

    Raises
    ------
    MemoryBudgetError
        A ``ValueError`` whose one-line message names the estimate, the memory available
        and the largest size that fits, unless :data:`SKIP_ENV_VAR` is set.
    """
    run = dict(content_layers=content_layers, style_layers=style_layers, backbone=backbone,
               optimizer=optimizer, lbfgs_history=lbfgs_history, precision=precision,
               loaded_shapes=loaded_shapes, onednn=onednn)
    needed = estimate_peak_bytes(*content_shape, style_shapes=style_shapes, **run)
    available = available_bytes() if available is None else available
    if available is None or needed <= available or skip_requested():
        return needed
    largest = largest_fitting_size(available, content_shape, style_shapes, **run)
    deepest = deepest_layer([*content_layers, *style_layers], backbone)
    advice = (f"the largest {size_name} that fits is {largest}"
              if largest >= backbones.min_input_size(deepest) else
              "not even the smallest size fits; close other programs")
    raise MemoryBudgetError(
        f"a {max(content_shape)} px run needs about {format_bytes(needed)} of memory but "
        f"{format_bytes(available)} is available; {advice}; set {SKIP_ENV_VAR}=1 to try anyway")


__all__ = [
    "ALLOCATOR_CAP_BYTES", "ALLOCATOR_FRACTION", "RUNTIME_BYTES", "SKIP_ENV_VAR",
    "MemoryBudgetError", "available_bytes", "check_fits", "estimate_peak_bytes",
    "feature_map_shapes", "format_bytes", "largest_fitting_size", "onednn_kernels",
    "optimizer_bytes", "pass_bytes", "skip_requested", "weight_bytes",
]
