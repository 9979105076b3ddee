"""precision="auto": the fastest arithmetic for the machine, from its CPU flags and GPUs."""

import pytest

import nstlab
from nstlab.base import hardware
from nstlab.engine.features import FeatureExtractor
from nstlab.engine.precision import PRECISIONS, resolve_precision


def test_cpu_flags_are_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\n"
                       "flags\t\t: fpu sse2 avx2 fma avx512_bf16\nbogomips\t: 4000\n")
    assert hardware.cpu_flags(cpuinfo) == {"fpu", "sse2", "avx2", "fma", "avx512_bf16"}


def test_cpu_flags_are_empty_without_cpuinfo(tmp_path):
    assert hardware.cpu_flags(tmp_path / "missing") == set()


@pytest.mark.parametrize("flags, named", [
    ("fpu avx2 fma", "no bfloat16 instructions (precision auto: float32)"),
    ("avx2 avx512_bf16", "AVX512_BF16 (precision auto: bfloat16)"),
    ("avx512_bf16 amx_bf16 amx_tile", "AMX_BF16, AVX512_BF16, AMX (precision auto: bfloat16)"),
])
def test_the_machine_is_described_with_its_bfloat16_instructions(tmp_path, flags, named):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: {flags}\n")
    described = hardware.describe_machine(cpuinfo)
    assert described.startswith("AMD EPYC, ") and described.endswith(named)


@pytest.mark.parametrize("flags, gpus, expected", [
    ({"avx2", "fma"}, [], "float32"),
    ({"avx2", "avx512_bf16"}, [], "mixed_bfloat16"),
    ({"avx2", "amx_bf16"}, [], "mixed_bfloat16"),
    (set(), [(8, 6)], "mixed_bfloat16"),
    ({"avx512_bf16"}, [(7, 5)], "mixed_float16"),  # the GPU decides, not the CPU
    (set(), [(6, 1)], "float32"),
    (set(), [(8, 0), (7, 0)], "mixed_float16"),  # the slowest GPU decides
    (set(), [(0, 0)], "float32"),  # a GPU without a CUDA capability (e.g. ROCm, Metal)
])
def test_fastest_precision(flags, gpus, expected):
    assert hardware.fastest_precision(flags, gpus) == expected


def test_auto_resolves_once_to_a_real_precision(monkeypatch, photo_64, starry_64):
    monkeypatch.setattr(hardware, "fastest_precision", lambda **where: "mixed_bfloat16")
    assert resolve_precision("auto") == "mixed_bfloat16"
    extractor = FeatureExtractor(["block1_conv1"], precision="auto")
    assert extractor.precision == "mixed_bfloat16"
    assert extractor.model.get_layer("block1_conv1").compute_dtype == "bfloat16"
    result = nstlab.stylize(photo_64, starry_64, size=32, steps=2, precision="auto",
                            progress=False)
    assert result.settings["precision"] == "mixed_bfloat16"


def test_auto_is_this_machines_choice():
    assert resolve_precision("auto") == hardware.fastest_precision()
    assert resolve_precision("auto") in PRECISIONS
