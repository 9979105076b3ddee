"""Which arithmetic this machine computes fastest: the choice behind ``precision="auto"``.

Running the network in 16 bits halves its memory traffic and, on hardware built for it,
multiplies faster: NVIDIA GPUs with tensor cores (compute capability 7.0 on for float16,
8.0 on for bfloat16 as well) and x86 CPUs with the AVX512_BF16 or AMX-BF16 instructions.
Elsewhere 16-bit arithmetic is emulated and slower than float32, so float32 stays.

bfloat16 is preferred where both exist: it has float32's range, so a large style loss
cannot overflow it the way it can overflow float16.

:func:`nstlab.stylize` and ``nstlab stylize`` use this choice by default; the building
blocks (:class:`nstlab.Objective`, :class:`~nstlab.engine.features.FeatureExtractor`) only when
asked with ``precision="auto"``.
"""

from __future__ import annotations

from pathlib import Path

#: CPU flags (as Linux lists them in /proc/cpuinfo) that mean native bfloat16 arithmetic.
BFLOAT16_CPU_FLAGS = frozenset({"avx512_bf16", "amx_bf16"})


def cpu_flags(cpuinfo: str | Path = "/proc/cpuinfo") -> set[str]:
    """The instruction-set flags the Linux kernel reports for the CPU (empty elsewhere)."""
    try:
        text = Path(cpuinfo).read_text()
    except OSError:  # not Linux, or no /proc
        return set()
    for line in text.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cpu_model(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The processor's model name as Linux reports it (``"AMD EPYC"``), else the platform's."""
    import platform

    try:
        for line in Path(cpuinfo).read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe_machine(cpuinfo: str | Path = "/proc/cpuinfo") -> str:
    """The machine in one line, to write beside a measured figure.

    >>> describe_machine()  # doctest: +SKIP
    'AMD EPYC, 2 cores, AVX512_BF16 (precision auto: bfloat16)'

    The same model name can come with or without the bfloat16 instructions, which decide
    ``precision="auto"`` and speed, so they are named.
    """
    import os

    flags = cpu_flags(cpuinfo)
    native = sorted(flag.upper() for flag in flags & BFLOAT16_CPU_FLAGS)
    if "amx_tile" in flags:
        native.append("AMX")
    kind = ", ".join(native) if native else "no bfloat16 instructions"
    auto = "bfloat16" if flags & BFLOAT16_CPU_FLAGS else "float32"
    return f"{cpu_model(cpuinfo)}, {os.cpu_count()} cores, {kind} (precision auto: {auto})"


def gpu_compute_capabilities() -> list[tuple[int, int]]:
    """The CUDA compute capability of each GPU TensorFlow sees; ``(0, 0)`` if unknown."""
    import tensorflow as tf

    capabilities = []
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capabilities.append(tuple(details.get("compute_capability", (0, 0))))
    return capabilities


def fastest_precision(flags=None, gpus=None) -> str:
    """The precision (:data:`nstlab.engine.precision.PRECISIONS`) this machine runs VGG fastest in.

    With a GPU, the slowest GPU decides: ``"mixed_bfloat16"`` from compute capability 8.0
    (Ampere) on, ``"mixed_float16"`` from 7.0 (Volta, Turing), else ``"float32"``. Without
    one, ``"mixed_bfloat16"`` if the CPU has bfloat16 instructions, else ``"float32"``.

    ``flags`` (a set of CPU flags) and ``gpus`` (a list of compute capabilities) default to
    this machine's (:func:`cpu_flags`, :func:`gpu_compute_capabilities`).
    """
    gpus = gpu_compute_capabilities() if gpus is None else list(gpus)
    if gpus:
        slowest = min(tuple(capability) for capability in gpus)
        if slowest >= (8, 0):
            return "mixed_bfloat16"
        if slowest >= (7, 0):
            return "mixed_float16"
        return "float32"
    flags = cpu_flags() if flags is None else set(flags)
    return "mixed_bfloat16" if flags & BFLOAT16_CPU_FLAGS else "float32"
