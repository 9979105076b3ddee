"""nstlab.run.memory: the peak-memory estimate, the free-memory reader, the check before a run."""

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from nstlab.base import validators
from nstlab.imaging import data
from nstlab.imaging.images import fit_within
from nstlab.run import memory, options

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"

STYLE_LAYERS = ["block1_conv1", "block2_conv1", "block3_conv1", "block4_conv1", "block5_conv1"]
RUN = dict(content_layers=["block4_conv2"], style_layers=STYLE_LAYERS, backbone="vgg16",
           optimizer="lbfgs", lbfgs_history=10, precision="float32", onednn=False)
PHOTO, PAINTING = (600, 512), (640, 1024)  # (height, width) of Grace Hopper and Starry Night


def shapes_at(size, style_scale=1.0):
    """The photo and the painting as a run of ``size`` px resizes them."""
    return fit_within(*PHOTO, size), [fit_within(*PAINTING, round(size * style_scale))]


def estimate(size, style_scale=1.0, **changes):
    content, styles = shapes_at(size, style_scale)
    return memory.estimate_peak_bytes(*content, style_shapes=styles, **{**RUN, **changes})


# ------------------------------------------------------------------------ the arithmetic


def test_feature_maps_halve_at_each_pooling_and_round_down():
    shapes = {name: (h, w, c) for name, h, w, c in
              memory.feature_map_shapes(37, 20, backbone="vgg19", deepest="block5_conv1")}
    assert shapes["block1_conv2"] == (37, 20, 64)
    assert shapes["block1_pool"] == (18, 10, 64)
    assert shapes["block3_conv4"] == (9, 5, 256)  # vgg19 has four convolutions in block 3
    assert shapes["block4_pool"] == (2, 1, 512)
    assert shapes["block5_conv1"] == (2, 1, 512)
    assert "block5_conv2" not in shapes  # cut after the deepest layer


def test_weights_match_the_published_parameter_counts():
    # Keras's VGG16 / VGG19 without the classifier: 14,714,688 and 20,024,384 parameters.
    # Read from the file (all layers) plus built up to the last layer: twice each.
    assert memory.weight_bytes("vgg16", "block5_conv3") == 2 * 14_714_688 * 4
    assert memory.weight_bytes("vgg19", "block5_conv4") == 2 * 20_024_384 * 4
    assert memory.weight_bytes("vgg16", "block1_conv1") == (14_714_688 + 3 * 64 * 9 + 64) * 4


@pytest.mark.parametrize("onednn", [False, True], ids=["tensorflow-kernels", "onednn"])
def test_one_pass_by_hand(onednn):
    # block1_conv1 on 8x8: 8*8*64 activations and one more array as large. The gradient
    # adds, with TensorFlow's own kernels, the input unfolded into 3x3 neighbourhoods of its
    # 3 channels (27 numbers a pixel); with oneDNN's, one more array as large as the largest.
    activations = 8 * 8 * 64
    args = dict(backbone="vgg16", layers=["block1_conv1"], onednn=onednn)

    def gradient_buffer(bytes_each, largest):
        return largest if onednn else 8 * 8 * 27 * bytes_each

    assert memory.pass_bytes(8, 8, precision="float32", gradient=False, **args) == (
        2 * activations * 4)
    assert memory.pass_bytes(8, 8, precision="float32", gradient=True, **args) == (
        2 * activations * 4 + gradient_buffer(4, activations * 4))
    # 16-bit activations, and a float32 copy of the layer the losses read.
    assert memory.pass_bytes(8, 8, precision="mixed_bfloat16", gradient=True, **args) == (
        2 * activations * (2 + 4) + gradient_buffer(2, activations * (2 + 4)))


@pytest.mark.parametrize("flags, onednn", [({"avx2", "fma"}, False),
                                           ({"avx2", "avx512_bf16", "amx_tile"}, True)],
                         ids=["amd-avx2", "intel-amx"])
def test_by_default_a_pass_is_counted_for_this_machine_s_kernels(monkeypatch, flags, onednn):
    monkeypatch.delenv(memory.ONEDNN_ENV_VAR, raising=False)
    monkeypatch.setattr(memory.hardware, "cpu_flags", lambda: flags)
    args = dict(backbone="vgg16", layers=["block1_conv2"], precision="float32", gradient=True)
    assert memory.pass_bytes(8, 8, **args) == memory.pass_bytes(8, 8, onednn=onednn, **args)
    assert estimate(512, onednn=None) == estimate(512, onednn=onednn)


def test_onednn_sends_the_gradient_back_without_unfolding():
    args = dict(backbone="vgg16", layers=["block1_conv2"], precision="float32", gradient=True)
    activations = 2 * 8 * 8 * 64 * 4  # block1_conv1 and block1_conv2
    largest = 8 * 8 * 64 * 4
    assert memory.pass_bytes(8, 8, onednn=False, **args) == (
        activations + largest + 8 * 8 * 9 * 64 * 4)  # block1_conv2's 64 channels unfolded
    assert memory.pass_bytes(8, 8, onednn=True, **args) == activations + 2 * largest
    assert estimate(1024, onednn=True) < 0.7 * estimate(1024, onednn=False)


@pytest.mark.parametrize("setting, flags, expected", [
    (None, {"avx2", "avx512_bf16"}, True),
    (None, {"avx2", "amx_tile"}, True),
    (None, {"avx2", "fma"}, False),
    ("0", {"avx512_vnni"}, False),  # turned off by the user
    ("false", {"avx512_vnni"}, False),
    ("1", {"avx2"}, False),  # forced on an AVX2 CPU it was measured no leaner
])
def test_onednn_kernels_follow_tensorflows_policy(monkeypatch, setting, flags, expected):
    if setting is None:
        monkeypatch.delenv(memory.ONEDNN_ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(memory.ONEDNN_ENV_VAR, setting)
    assert memory.onednn_kernels(flags) is expected


def test_optimizer_buffers_are_image_sized():
    pixels = 100 * 50 * 3 * 4
    lbfgs = memory.optimizer_bytes(100, 50, optimizer="lbfgs", lbfgs_history=10)
    assert lbfgs == (20 + memory.OPTIMIZER_WORK_BUFFERS["lbfgs"]) * pixels
    adam = memory.optimizer_bytes(100, 50, optimizer="adam", lbfgs_history=10)
    assert adam == (2 + memory.OPTIMIZER_WORK_BUFFERS["adam"]) * pixels
    with pytest.raises(ValueError, match="unknown optimizer 'sgd'"):
        memory.optimizer_bytes(100, 50, optimizer="sgd", lbfgs_history=10)


def test_the_estimate_grows_with_the_size():
    estimates = [estimate(size) for size in range(16, 3000, 37)]
    assert all(a < b for a, b in itertools.pairwise(estimates))
    assert estimates[0] > memory.RUNTIME_BYTES


def test_each_history_pair_costs_two_images():
    # At 1024 px the allocator's share is at its cap: each byte of arrays counts once.
    height, width = fit_within(*PHOTO, 1024)
    extra = estimate(1024, lbfgs_history=11) - estimate(1024, lbfgs_history=10)
    assert extra == 2 * height * width * 12


def test_more_or_deeper_layers_cost_more():
    assert estimate(512, style_layers=[*STYLE_LAYERS, "block1_conv2"]) > estimate(512)
    assert estimate(512, style_layers=STYLE_LAYERS[:3]) < estimate(512)  # cut at block4_conv2
    assert estimate(512, backbone="vgg19") > estimate(512)


def test_sixteen_bits_and_adam_cost_less():
    assert estimate(1024, precision="mixed_bfloat16", onednn=False) < estimate(1024, onednn=False)
    assert estimate(1024, optimizer="adam") < estimate(1024)


def test_auto_precision_is_the_cpus_choice(monkeypatch):
    monkeypatch.setattr(memory.hardware, "cpu_flags", lambda: {"avx512_bf16"})
    assert estimate(512, precision="auto") == estimate(512, precision="mixed_bfloat16")
    monkeypatch.setattr(memory.hardware, "cpu_flags", lambda: {"avx2"})
    assert estimate(512, precision="auto") == estimate(512)


def test_a_large_style_scale_makes_the_targets_pass_the_peak():
    # Up to the step's size the style's pass is hidden under the step's; beyond, it shows.
    assert estimate(512, style_scale=0.5) == estimate(512)
    assert estimate(512, style_scale=4) > estimate(512, style_scale=3) > estimate(512)


def test_unknown_precision_counts_as_float32():
    assert estimate(512, precision=None) == estimate(512, precision="float32")


def test_the_images_as_loaded_are_counted():
    assert estimate(1024, loaded_shapes=[(3000, 4000)]) - estimate(1024) == 3000 * 4000 * 12


def test_largest_fitting_size_is_the_edge_of_the_budget():
    budget = 6 * 2**30
    largest = memory.largest_fitting_size(budget, *shapes_at(100_000), **RUN)
    assert estimate(largest) <= budget < estimate(largest + 1)
    assert memory.largest_fitting_size(memory.RUNTIME_BYTES, *shapes_at(512), **RUN) == 0


def test_format_bytes():
    assert memory.format_bytes(512) == "512 B"
    assert memory.format_bytes(850 * 2**20) == "850 MiB"
    assert memory.format_bytes(21.7 * 2**30) == "21.7 GiB"
    assert memory.format_bytes(38.2 * 2**40) == "38.2 TiB"


# ------------------------------------------------------------------------------ the check


def check(size, available, **changes):
    content, styles = shapes_at(size)
    return memory.check_fits(content, styles, available=available, **{**RUN, **changes})


def test_check_refuses_a_huge_run_in_one_line(monkeypatch):
    monkeypatch.delenv(memory.SKIP_ENV_VAR, raising=False)
    available = int(21.7 * 2**30)
    with pytest.raises(memory.MemoryBudgetError) as caught:
        check(100_000, available, size_name="--size")
    message = str(caught.value)
    largest = memory.largest_fitting_size(available, *shapes_at(100_000), **RUN)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in message
    assert message == (
        f"a 100000 px run needs about {memory.format_bytes(estimate(100_000))} of memory but "
        f"21.7 GiB is available; the largest --size that fits is {largest}; "
        "set NSTLAB_SKIP_MEMORY_CHECK=1 to try anyway")
    assert 1000 < largest < 100_000


@pytest.mark.parametrize("fitting", [0, 8])  # 8 px is too small for block5_conv1 (16)
def test_check_says_when_nothing_fits(monkeypatch, fitting):
    monkeypatch.delenv(memory.SKIP_ENV_VAR, raising=False)
    available = estimate(fitting) if fitting else 2**20
    with pytest.raises(memory.MemoryBudgetError, match="not even the smallest size fits"):
        check(256, available)


def test_check_returns_the_estimate_when_it_fits():
    assert check(512, 2**40) == estimate(512)


@pytest.mark.parametrize("value, skipped", [("1", True), ("yes", True), ("0", False),
                                            ("", False)])
def test_the_environment_variable_skips_the_check(monkeypatch, value, skipped):
    monkeypatch.setenv(memory.SKIP_ENV_VAR, value)
    assert memory.skip_requested() is skipped
    if skipped:
        assert check(100_000, 2**30) == estimate(100_000)
    else:
        with pytest.raises(memory.MemoryBudgetError):
            check(100_000, 2**30)


def test_unknown_free_memory_refuses_nothing(monkeypatch):
    monkeypatch.delenv(memory.SKIP_ENV_VAR, raising=False)
    monkeypatch.setattr(memory, "available_bytes", lambda: None)
    assert check(100_000, None) == estimate(100_000)


def test_validate_refuses_what_does_not_fit(monkeypatch):
    """The options' one check calls this one, for stylize() and the command alike."""
    monkeypatch.delenv(memory.SKIP_ENV_VAR, raising=False)
    photo, painting = data.photo_path(), data.painting_path("starry_night")
    with pytest.raises(validators.OptionError, match="^a 100000 px run needs about"):
        options.StylizeOptions(size=100_000).validate(photo, [painting])
    options.StylizeOptions(size=100_000, memory_check=False).validate(photo, [painting])
    monkeypatch.setenv(memory.SKIP_ENV_VAR, "1")
    options.StylizeOptions(size=100_000).validate(photo, [painting])


def test_the_module_does_not_start_tensorflow():
    code = "\n".join([
        "import sys",
        "from nstlab.run import memory",
        "memory.check_fits((512, 437), [(320, 512)], available=2**40, backbone='vgg16',",
        "                  content_layers=['block4_conv2'], style_layers=['block1_conv1'],",
        "                  optimizer='lbfgs', lbfgs_history=10, precision='auto')",
        "memory.available_bytes()",
        "assert 'tensorflow' not in sys.modules, 'nstlab.run.memory started TensorFlow'",
    ])
    subprocess.run([sys.executable, "-c", code], check=True, env={
        **os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})


# -------------------------------------------------------------- how much memory is free


def fake_proc(root: Path, *, meminfo: str, rss_kb: int = 0, cgroup: str = "",
              mountinfo: str = "") -> Path:
    """A folder laid out like /proc, with only the files available_bytes reads."""
    proc = root / "proc"
    (proc / "self").mkdir(parents=True)
    (proc / "meminfo").write_text(meminfo)
    (proc / "self" / "status").write_text(f"Name:\tpython\nVmRSS:\t{rss_kb} kB\n")
    if cgroup:
        (proc / "self" / "cgroup").write_text(cgroup)
        (proc / "self" / "mountinfo").write_text(mountinfo)
    return proc


MEMINFO = "MemTotal:       24000000 kB\nMemFree:  1000000 kB\nMemAvailable:   20000000 kB\n"
GiB = 2**30


def write(folder: Path, **files) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name.replace("_", ".", 1)).write_text(text)


def test_memavailable_plus_what_the_process_holds(tmp_path):
    proc = fake_proc(tmp_path, meminfo=MEMINFO, rss_kb=1000)
    assert memory.available_bytes(proc) == (20_000_000 + 1000) * 1024


def test_old_kernels_without_memavailable(tmp_path):
    proc = fake_proc(tmp_path, meminfo="MemTotal: 8 kB\nMemFree: 3 kB\nCached: 2 kB\n")
    assert memory.available_bytes(proc) == 5 * 1024


def test_a_cgroup_v2_limit_lowers_it(tmp_path):
    mount = tmp_path / "sys" / "fs" / "cgroup"
    job = mount / "jobs" / "42"
    write(mount / "jobs", memory_max="max\n", memory_current=str(3 * GiB))
    write(job, memory_max=str(4 * GiB), memory_current=str(3 * GiB),
          memory_stat=f"anon 100\ninactive_file {GiB}\nactive_file 0\n")
    proc = fake_proc(tmp_path, meminfo=MEMINFO, cgroup="0::/jobs/42\n",
                     mountinfo=f"30 20 0:26 / {mount} rw,nosuid - cgroup2 cgroup2 rw\n")
    # 4 GiB allowed, 3 GiB used of which 1 GiB is cache the kernel can drop.
    assert memory.available_bytes(proc) == 2 * GiB


def test_a_cgroup_v2_limit_on_a_parent_counts(tmp_path):
    mount = tmp_path / "cgroup2"
    write(mount / "user", memory_max=str(6 * GiB), memory_current=str(5 * GiB))
    write(mount / "user" / "session", memory_max="max\n", memory_current=str(GiB))
    proc = fake_proc(tmp_path, meminfo=MEMINFO, cgroup="0::/user/session\n",
                     mountinfo=f"30 20 0:26 / {mount} rw - cgroup2 cgroup2 rw\n")
    assert memory.available_bytes(proc) == GiB


def test_no_cgroup_limit_leaves_memavailable(tmp_path):
    mount = tmp_path / "cgroup2"
    write(mount / "job", memory_max="max\n", memory_current=str(GiB))
    proc = fake_proc(tmp_path, meminfo=MEMINFO, cgroup="0::/job\n",
                     mountinfo=f"30 20 0:26 / {mount} rw - cgroup2 cgroup2 rw\n")
    assert memory.available_bytes(proc) == 20_000_000 * 1024


def test_a_cgroup_v1_limit_lowers_it(tmp_path):
    # A hybrid layout, as on this project's machines: v1 memory controller, v2 mounted too.
    v1 = tmp_path / "sys fs" / "memory"  # a space, escaped as \040 in mountinfo
    write(v1, memory_limit_in_bytes="9223372036854771712\n", memory_usage_in_bytes=str(GiB))
    write(v1 / "docker" / "abc", memory_limit_in_bytes=str(8 * GiB),
          memory_usage_in_bytes=str(5 * GiB), memory_stat=f"total_inactive_file {GiB}\n")
    escaped = str(v1).replace(" ", "\\040")
    proc = fake_proc(
        tmp_path, meminfo=MEMINFO, rss_kb=1024,
        cgroup="5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n0::/\n",
        mountinfo=(f"35 31 0:32 / {escaped} rw,relatime - cgroup cgroup rw,memory\n"
                   f"41 31 0:38 / {tmp_path}/unified rw,relatime - cgroup2 cgroup2 rw\n"))
    assert memory.available_bytes(proc) == 4 * GiB + 1024 * 1024


def test_a_cgroup_v1_without_limit_leaves_memavailable(tmp_path):
    v1 = tmp_path / "memory"
    write(v1, memory_limit_in_bytes="9223372036854771712\n", memory_usage_in_bytes=str(GiB))
    proc = fake_proc(tmp_path, meminfo=MEMINFO, cgroup="4:memory:/\n",
                     mountinfo=f"35 31 0:32 / {v1} rw - cgroup cgroup rw,memory\n")
    assert memory.available_bytes(proc) == 20_000_000 * 1024


def test_without_proc_sysconf_or_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "sysconf", lambda name: {"SC_AVPHYS_PAGES": 3,
                                                     "SC_PAGE_SIZE": 4096}[name], raising=False)
    assert memory.available_bytes(tmp_path / "no-proc") == 3 * 4096

    def unknown(name):  # macOS has no SC_AVPHYS_PAGES
        raise ValueError(f"unrecognized configuration name {name!r}")

    monkeypatch.setattr(os, "sysconf", unknown, raising=False)
    assert memory.available_bytes(tmp_path / "no-proc") is None
    monkeypatch.delattr(os, "sysconf", raising=False)  # Windows has no sysconf at all
    assert memory.available_bytes(tmp_path / "no-proc") is None


@pytest.mark.skipif(not Path("/proc/meminfo").is_file(), reason="Linux only")
def test_this_machine_has_some_memory_free():
    assert 2**27 < memory.available_bytes() < 2**50


# ---------------------------------------------------------------- against real runs


def test_the_estimate_is_within_30_percent_of_the_measured_peak():
    """Real stylize runs, each in a fresh process: peak RSS at 256 and 512 px vs the estimate."""
    command = [sys.executable, str(BENCHMARKS / "memory.py"), "--sizes", "256", "512",
               "--precisions", "float32", "--optimizers", "lbfgs", "--steps", "1", "--json"]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    rows = json.loads(output.strip().splitlines()[-1])["rows"]
    assert [(row["height"], row["width"]) for row in rows] == [(256, 218), (512, 437)]
    for row in rows:
        assert row["estimate_bytes"] == pytest.approx(row["peak_rss_bytes"], rel=0.3), row
    # The two sizes differ by 4x in pixels; the estimate follows the measured growth.
    measured = rows[1]["peak_rss_bytes"] - rows[0]["peak_rss_bytes"]
    estimated = rows[1]["estimate_bytes"] - rows[0]["estimate_bytes"]
    assert estimated == pytest.approx(measured, rel=0.5)
