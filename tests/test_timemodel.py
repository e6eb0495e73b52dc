"""The time model: formulas against hand arithmetic, and its properties (hypothesis)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hetcalc
from hetcalc.devices import Device, Value, resolve_device
from hetcalc.timemodel import bound_of, kernel_time
from hetcalc.traffic import KERNEL_CLASSES, Kernel


def device(**changes) -> Device:
    """A small hand-made profile: 100 GFLOP/s, 10 GB/s, 5 us per kernel, no cache."""
    v = lambda x: Value(x, "test")  # noqa: E731
    base = dict(name="toy", title="toy", kind="cpu", validated=False, peak_flops={"fp32": v(100e9)},
                memory_bandwidth=v(10e9), kernel_overhead=v(5e-6),
                efficiency={c: v(0.5) for c in KERNEL_CLASSES if c != "elementwise"})
    base.update(changes)
    return Device(**base)


def test_roofline_by_hand():
    d = device()
    compute_bound = Kernel("conv", "dense", flops=10**9, bytes_read=10**6, bytes_written=10**6)
    t = kernel_time(d, compute_bound, "fp32")
    assert t.compute == pytest.approx(1e9 / (100e9 * 0.5))
    assert t.memory == pytest.approx(2e6 / 10e9)
    assert t.seconds == pytest.approx(5e-6 + 0.02) and t.bound == "compute"
    memory_bound = Kernel("act", "elementwise", flops=10**6, bytes_read=10**8, bytes_written=10**8)
    t = kernel_time(d, memory_bound, "fp32")
    assert t.seconds == pytest.approx(5e-6 + 2e8 / 10e9) and t.bound == "memory"
    tiny = Kernel("act", "elementwise", flops=4, bytes_read=16, bytes_written=16)
    assert kernel_time(d, tiny, "fp32").bound == "overhead"


def test_cache_group_and_half_work_terms():
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(cache_bytes=v(1e6), cache_bandwidth=v(100e9), group_channels=v(16), half_work=v(1e6))
    small = Kernel("act", "elementwise", 0, 4 * 10**5, 4 * 10**5)
    assert kernel_time(d, small, "fp32").memory == pytest.approx(8e5 / 100e9)
    big = Kernel("act", "elementwise", 0, 4 * 10**6, 4 * 10**6)
    assert kernel_time(d, big, "fp32").memory == pytest.approx(8e6 / 10e9)
    grouped = Kernel("conv", "grouped", 10**9, 0, 0, channels_per_group=4)
    assert kernel_time(d, grouped, "fp32").compute == pytest.approx(1e9 / (100e9 * 0.5 * 4 / 16) + 1e6 / 100e9)


def test_variant_time_is_the_sum_of_its_layers():
    r = hetcalc.analyze("resnet56", P=4, device="x86-server", batch=8)
    for v in r.variants:
        assert v.time_s == pytest.approx(sum(layer.time_s for layer in v.layers))
        assert v.time_speedup == pytest.approx(r.standard.time_s / v.time_s)
        assert {layer.bound for layer in v.layers} <= {"compute", "memory", "overhead"}


def test_masked_hetconv_costs_standard_time_and_split_costs_more_kernels():
    masked = hetcalc.analyze("vgg16", P=4, device="t4", hetconv_impl="masked")
    assert masked.variant("hetconv").time_s == pytest.approx(masked.standard.time_s)
    fused = hetcalc.analyze("vgg16", P=4, device="t4", hetconv_impl="fused")
    split = hetcalc.analyze("vgg16", P=4, device="t4", hetconv_impl="split")
    assert split.variant("hetconv").bytes > fused.variant("hetconv").bytes
    assert split.variant("hetconv").flops == fused.variant("hetconv").flops  # counts do not depend on impl


def test_json_has_time_fields_only_with_a_device(run):
    with_device = json.loads(run("vgg16", "--P", "4", "--device", "a100", "--format", "json").stdout)
    for v in with_device["variants"]:
        assert {"time_s", "time_speedup", "bytes"} <= set(v)
        for layer in v["layers"]:
            assert {"time_s", "bytes", "intensity", "bound"} <= set(layer)
    assert with_device["device"]["name"] == "a100" and with_device["dtype"] == "fp32"
    plain = json.loads(run("vgg16", "--P", "4", "--format", "json").stdout)
    assert "device" not in plain and "dtype" not in plain
    for v in plain["variants"]:
        assert not {"time_s", "time_speedup", "bytes"} & set(v)
        assert not {"time_s", "bytes", "intensity", "bound"} & set(v["layers"][0])
    traffic = json.loads(run("vgg16", "--traffic", "--format", "json").stdout)
    assert "bytes" in traffic["variants"][0] and "time_s" not in traffic["variants"][0]


work = st.integers(min_value=0, max_value=10**13)
kclass = st.sampled_from(KERNEL_CLASSES)


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["a100", "t4", "rpi5", "x86-server"]), cls=kclass, flops=work, more=work,
       nbytes=work, extra=work, cpg=st.integers(1, 512))
def test_more_work_is_never_faster(name, cls, flops, more, nbytes, extra, cpg):
    d = resolve_device(name)
    t = lambda f, b: kernel_time(d, Kernel("conv", cls, f, b, 0, cpg), "fp32").seconds  # noqa: E731
    assert t(flops + more, nbytes) >= t(flops, nbytes)  # more FLOPs at equal bytes
    # more bytes at equal FLOPs (a larger working set may leave the cache: never faster)
    assert t(flops, nbytes + extra) >= t(flops, nbytes)


@settings(max_examples=15, deadline=None)
@given(arch=st.sampled_from(["vgg16", "resnet56"]), b=st.integers(1, 64), extra=st.integers(1, 64),
       name=st.sampled_from(["a100", "rpi5"]), impl=st.sampled_from(["fused", "split", "masked"]))
def test_a_larger_batch_never_takes_less_time(arch, b, extra, name, impl):
    small = hetcalc.analyze(arch, P=4, device=name, batch=b, hetconv_impl=impl)
    large = hetcalc.analyze(arch, P=4, device=name, batch=b + extra, hetconv_impl=impl)
    for s, l in zip(small.variants, large.variants):
        assert l.time_s >= s.time_s
        assert l.bytes > s.bytes


def test_bound_of():
    assert bound_of(1.0, 0.5, 0.2) == "overhead"
    assert bound_of(0.1, 0.5, 0.2) == "compute"
    assert bound_of(0.1, 0.2, 0.5) == "memory"


def test_json_time_keys_are_documented(run, documented_keys):
    data = json.loads(run("resnet56", "--device", "t4", "--format", "json").stdout)
    base = documented_keys["top"]
    assert list(data) == [*base[:-1], *documented_keys["time-top"], base[-1]]
    for variant in data["variants"]:
        assert list(variant) == [*documented_keys["variants[]"][:-1], *documented_keys["time-variants[]"],
                                 "layers"] or set(variant) == {*documented_keys["variants[]"],
                                                               *documented_keys["time-variants[]"]}
        for layer in variant["layers"]:
            assert set(layer) == {*documented_keys["variants[].layers[]"], *documented_keys["time-layers[]"]}


def test_roofline_plot_and_its_data(run, tmp_path):
    out, data = tmp_path / "roof.png", tmp_path / "roof.csv"
    result = run("plot", "roofline", "resnet56", "--device", "t4", "--P", "4", "-o", str(out), "--data", str(data))
    assert result.exit_code == 0, result.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import csv

    rows = list(csv.DictReader(data.open()))
    report = hetcalc.analyze("resnet56", P=4, device="t4")
    layers = [layer for v in report.variants for layer in v.layers if layer.bytes and layer.time_s]
    assert len(rows) == len(layers)
    for row, layer in zip(rows, layers):
        assert int(row["bytes"]) == layer.bytes
        assert float(row["attained_flops_per_s"]) == pytest.approx(layer.intensity * layer.bytes / layer.time_s)
    bad = run("plot", "roofline", "resnet56", "--device", "nope", "-o", str(tmp_path / "x.png"))
    assert bad.exit_code == 2 and "unknown device" in bad.stderr and not (tmp_path / "x.png").exists()


def test_device_table_matches_golden(run, golden):
    result = run("vgg16", "--P", "4", "--device", "a100", "--hetconv-impl", "split")
    assert result.exit_code == 0, result.output
    golden("vgg16_P4_a100_split.txt", result.stdout)


def test_device_table_adds_up(run):
    report = hetcalc.analyze("vgg16", P=4, device="a100", hetconv_impl="split")
    out = run("vgg16", "--P", "4", "--device", "a100", "--hetconv-impl", "split", "--summary-only").stdout
    summary = out.split("Time on NVIDIA A100 SXM4 80GB", 1)[1]
    for v in report.variants:
        line = next(line for line in summary.splitlines() if line.startswith(v.label))
        scaled, unit = (v.time_s * 1e3, "ms") if v.time_s >= 1e-3 else (v.time_s * 1e6, "us")
        shown = f"{scaled:.{2 if scaled < 10 else 1 if scaled < 100 else 0}f} {unit}"  # 3 significant digits
        assert shown in line and f"{v.time_speedup:.2f}x" in line


def test_a_gather_outside_the_cache_moves_at_the_gather_bandwidth():
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(cache_bytes=v(1e6), cache_bandwidth=v(100e9), gather_bandwidth=v(2e9))
    big = Kernel("gather", "elementwise", 0, 4 * 10**6, 4 * 10**6)
    assert kernel_time(d, big, "fp32").memory == pytest.approx(8e6 / 2e9)
    small = Kernel("gather", "elementwise", 0, 4 * 10**5, 4 * 10**5)
    assert kernel_time(d, small, "fp32").memory == pytest.approx(8e5 / 100e9)
    other = Kernel("act", "elementwise", 0, 4 * 10**6, 4 * 10**6)
    assert kernel_time(d, other, "fp32").memory == pytest.approx(8e6 / 10e9)


def test_roofline_ticks_are_plain_text_not_tex():
    # the plot style turns math text off, so a tick written as TeX would show its source ($\mathdefault...)
    import matplotlib

    matplotlib.use("Agg")
    from hetcalc.views.figures import roofline

    fig = roofline.roofline_figure(hetcalc.analyze("vgg16", P=4, device="a100"))
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
    assert labels and not any("$" in text or "mathdefault" in text for text in labels), labels


def test_weight_passes_read_a_convolutions_weights_from_main_memory():
    """A CPU profile's weight_passes: activations at the cache's bandwidth when they fit, the weights
    w times at the main memory's (hand formula)."""
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(cache_bytes=v(1e6), cache_bandwidth=v(100e9), weight_passes=v(3))
    # a 512 x 512 x 3 x 3 convolution on a 2 x 2 map: 9.4 MB of weights, 16 KiB of activations
    weights = 4 * 512 * 512 * 9
    acts_in, acts_out = 4 * 512 * 4, 4 * 512 * 4
    conv = Kernel("conv", "dense", 2 * 512 * 512 * 9 * 4, weights + acts_in, acts_out, 512, weights)
    t = kernel_time(d, conv, "fp32")
    assert t.memory == pytest.approx((acts_in + acts_out) / 100e9 + 3 * weights / 10e9)
    assert t.bound == "memory"
    # without weight_passes the same kernel reads everything once, at the cache's bandwidth
    assert kernel_time(device(cache_bytes=v(1e6), cache_bandwidth=v(100e9)), conv, "fp32").memory == \
        pytest.approx((weights + acts_in + acts_out) / 100e9)
    # other kernels are not affected
    act = Kernel("act", "elementwise", 0, 4 * 10**5, 4 * 10**5)
    assert kernel_time(d, act, "fp32").memory == pytest.approx(8e5 / 100e9)


def test_group_exponent_steepens_the_group_curve_of_grouped_kxk_only():
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(group_channels=v(16), group_exponent=v(2))
    grouped = Kernel("conv", "grouped", 10**9, 0, 0, channels_per_group=4)
    assert kernel_time(d, grouped, "fp32").compute == pytest.approx(1e9 / (100e9 * 0.5 * (4 / 16) ** 2))
    pointwise = Kernel("conv", "grouped_pointwise", 10**9, 0, 0, channels_per_group=1)
    assert kernel_time(d, pointwise, "fp32").compute == pytest.approx(1e9 / (100e9 * 0.5))


def test_page_faults_of_fresh_large_tensors_by_hand():
    """Tensors above fresh_bytes cost a page fault per 4 KiB page; a CPU convolution (weight_passes)
    also writes its input and output once more in the library's layout."""
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(page_fault=v(2e-6), fresh_bytes=v(32 * 2**20))
    big_out = Kernel("gather", "elementwise", 0, 60 * 2**20, 60 * 2**20)
    t = kernel_time(d, big_out, "fp32")
    assert t.fresh == pytest.approx(60 * 2**20 / 4096 * 2e-6)
    assert t.seconds == pytest.approx(5e-6 + 120 * 2**20 / 10e9 + t.fresh)  # added, not overlapped
    small = Kernel("act", "elementwise", 0, 8 * 2**20, 8 * 2**20)
    assert kernel_time(d, small, "fp32").fresh == 0.0  # below the threshold: reused by the allocator
    conv = Kernel("conv", "pointwise", 10**9, 60 * 2**20 + 4096, 8 * 2**20, 64, 4096)
    assert kernel_time(d, conv, "fp32").fresh == 0.0  # no library reorders modelled without weight_passes
    cpu = device(page_fault=v(2e-6), fresh_bytes=v(32 * 2**20), weight_passes=v(1))
    assert kernel_time(cpu, conv, "fp32").fresh == pytest.approx(60 * 2**20 / 4096 * 2e-6)  # the input copy
    assert kernel_time(device(), big_out, "fp32").fresh == 0.0  # profiles without page_fault (GPUs)


def test_op_overhead_pool_bandwidth_and_network_factor_by_hand():
    v = lambda x: Value(x, "test")  # noqa: E731
    d = device(op_overhead={"bn": v(30e-6)}, pool_bandwidth=v(1e9))
    bn = Kernel("bn", "elementwise", 0, 4096, 4096)
    assert kernel_time(d, bn, "fp32").seconds == pytest.approx(30e-6 + 8192 / 10e9)  # its own overhead
    act = Kernel("act", "elementwise", 0, 4096, 4096)
    assert kernel_time(d, act, "fp32").seconds == pytest.approx(5e-6 + 8192 / 10e9)  # kernel_overhead
    pool = Kernel("pool", "elementwise", 0, 4 * 10**6, 10**6)
    assert kernel_time(d, pool, "fp32").memory == pytest.approx(5e6 / 1e9)  # at the pooling bandwidth
    scaled = device(op_overhead={"bn": v(30e-6)}, network_factor=v(1.25))
    conv = Kernel("conv", "dense", 10**9, 10**6, 10**6)
    base, t = kernel_time(device(), conv, "fp32"), kernel_time(scaled, conv, "fp32")
    assert t.seconds == pytest.approx(1.25 * base.seconds) and t.bound == base.bound
    assert kernel_time(scaled, bn, "fp32").seconds == pytest.approx(1.25 * (30e-6 + 8192 / 10e9))


def test_profile_op_overhead_errors_name_the_place():
    from hetcalc.devices import DeviceError, load_device_text, resolve_device

    text = (resolve_device("x86-server").to_dict())
    import yaml

    text["op_overhead"] = {"bn": {"value": 2e-5, "source": "t"}, "bogus": {"value": 1e-6, "source": "t"}}
    with pytest.raises(DeviceError, match="bogus"):
        load_device_text(yaml.safe_dump(text), "p.yaml")
    text["op_overhead"] = {"bn": {"value": 2.0, "source": "t"}}
    with pytest.raises(DeviceError, match=r"op_overhead\.bn\.value must be at most 1"):
        load_device_text(yaml.safe_dump(text), "p.yaml")
    text["op_overhead"] = {"bn": {"value": 2e-5, "source": "t"}}
    back = load_device_text(yaml.safe_dump(text), "p.yaml")
    assert back.op_overhead["bn"].value == 2e-5
    assert load_device_text(yaml.safe_dump(back.to_dict()), "q.yaml").op_overhead == back.op_overhead


def test_the_pointwise_group_curve_slows_grouped_1x1_only():
    """HetConv split's grouped 1 x 1 at P = 16 on 64 outputs: 4 channels per group (the smaller of 60 inputs
    and 4 outputs); with pointwise_group_channels 16 and exponent 2 it runs at (4/16)^2 = 1/16 of the rate."""
    from hetcalc.timing.timemodel import group_factor
    from hetcalc.timing.traffic import Kernel

    d = device(pointwise_group_channels=Value(16, "test"), pointwise_group_exponent=Value(2, "test"))
    pw = Kernel("conv", "grouped_pointwise", flops=2 * 960 // 16 * 64 * 256, bytes_read=1, bytes_written=1,
                channels_per_group=4)
    kxk = Kernel("conv", "grouped", flops=1, bytes_read=1, bytes_written=1, channels_per_group=4)
    dense = Kernel("conv", "dense", flops=1, bytes_read=1, bytes_written=1, channels_per_group=64)
    assert group_factor(d, pw) == pytest.approx((4 / 16) ** 2)
    assert group_factor(d, kxk) == 1.0 and group_factor(d, dense) == 1.0  # no K x K curve in this profile
    assert group_factor(device(), pw) == 1.0  # absent: the class's efficiency covers it
    wide = Kernel("conv", "grouped_pointwise", flops=1, bytes_read=1, bytes_written=1, channels_per_group=32)
    assert group_factor(d, wide) == 1.0
