"""Channels-last on a CPU profile (issue 19 item 5): the NHWC rules of the time model, their fit in calibrate
(calibrate/nhwc.py) and compiled mode on a CPU, each checked by a hand formula."""

from dataclasses import replace

import pytest

import hetcalc
from hetcalc.devices import resolve_device
from hetcalc.measure.calibrate.nhwc import NHWC_SHAPES, fit_channels_last
from hetcalc.measure.calibrate.steps import ConvSample
from hetcalc.timing.devices import Value
from hetcalc.timing.timemodel import kernel_time

PEAK, OVERHEAD, HALF = 100e9, 5e-6, 2e6  # FLOP/s, s, FLOPs (fixed time 20 us)
EFF = {"dense": 0.8, "pointwise": 0.4, "grouped": 0.6, "grouped_pointwise": 0.2, "depthwise": 0.05}
BW = 20e9


def cpu_profile(**changes):
    """A CPU profile whose every rate is set here (no cache, no network factor, no page faults)."""
    base = resolve_device("x86-server")
    fields = dict(channels_last={}, channels_last_weight_passes=None, channels_last_group_exponent=None,
                  weight_passes=Value(1.0, "t"), cache_bytes=None, cache_bandwidth=None)
    return replace(base, peak_flops={"fp32": Value(PEAK, "t")}, memory_bandwidth=Value(BW, "t"),
                   kernel_overhead=Value(OVERHEAD, "t"), op_overhead={},
                   efficiency={**{c: Value(e, "t") for c, e in EFF.items()}, "linear": Value(0.5, "t")},
                   half_work=Value(HALF, "t"), group_channels=Value(16, "t"), group_exponent=Value(1.0, "t"),
                   pointwise_group_channels=None, pointwise_group_exponent=None,
                   network_factor=None, page_fault=None,
                   **{**fields, **changes})


def by_hand(shape, eff, fixed_factor=1.0, passes=1.0, g=1.0):
    """overhead + max(flops / (peak * eff * g) + fixed / factor, activations / bw + passes * weights / bw)."""
    b, cin, cout, size, k, groups = shape
    flops = 2 * b * cout * (cin // groups) * k * k * size * size
    weights = 4 * cout * (cin // groups) * k * k
    activations = 4 * b * (cin + cout) * size * size
    compute = flops / (PEAK * eff * g) + HALF / PEAK / fixed_factor
    return OVERHEAD + max(compute, activations / BW + passes * weights / BW)


def test_nhwc_scales_a_class_and_its_fixed_time_and_uses_its_own_weight_passes():
    device = cpu_profile(channels_last={"dense": Value(1.25, "t")}, channels_last_weight_passes=Value(2.0, "t"))
    compute_bound = (1, 64, 64, 32, 3, 1)
    weight_bound = (1, 512, 512, 2, 3, 1)
    for shape in (compute_bound, weight_bound):
        work = ConvSample(*shape, seconds=0).work
        assert kernel_time(device, work, "fp32", "nchw").seconds == pytest.approx(by_hand(shape, 0.8), rel=1e-12)
        assert kernel_time(device, work, "fp32", "nhwc").seconds == pytest.approx(
            by_hand(shape, 0.8 * 1.25, fixed_factor=1.25, passes=2.0), rel=1e-12)
    # a class without a factor keeps its NCHW rate in NHWC (and the layout's own weight passes)
    pointwise = (1, 64, 128, 32, 1, 1)
    assert kernel_time(device, ConvSample(*pointwise, seconds=0).work, "fp32", "nhwc").seconds == pytest.approx(
        by_hand(pointwise, 0.4, passes=2.0), rel=1e-12)


def test_grouped_nhwc_curve_is_the_profiles_own_exponent_or_none():
    shape = (8, 64, 64, 32, 3, 16)  # 4 channels per group, below group_channels 16
    work = ConvSample(*shape, seconds=0).work
    flat = cpu_profile(channels_last={"grouped": Value(1.0, "t")})
    assert kernel_time(flat, work, "fp32", "nchw").seconds == pytest.approx(by_hand(shape, 0.6, g=4 / 16))
    assert kernel_time(flat, work, "fp32", "nhwc").seconds == pytest.approx(by_hand(shape, 0.6))  # GPU rule
    curved = replace(flat, channels_last_group_exponent=Value(0.5, "t"))
    assert kernel_time(curved, work, "fp32", "nhwc").seconds == pytest.approx(
        by_hand(shape, 0.6, g=(4 / 16) ** 0.5))


def test_fit_recovers_the_factors_weight_passes_and_exponent_that_made_the_timings():
    """NHWC timings made by hand from known factors (on the fit's grid): the fit finds them."""
    factors = {"dense": 1.1892, "pointwise": 1.4142, "grouped": 1.0, "grouped_pointwise": 2.0,
               "depthwise": 2.3784}
    exponent, passes = 0.5, 2.0
    samples = []
    for shape in NHWC_SHAPES:
        s = ConvSample(*shape, seconds=0)
        c = s.kclass
        g = (min(1.0, s.channels_per_group / 16) ** exponent) if c == "grouped" else 1.0
        samples.append(ConvSample(*shape, seconds=by_hand(shape, EFF[c] * factors[c], factors[c], passes, g)))
    device = fit_channels_last(cpu_profile(), samples, threads=1)
    assert device.channels_last_weight_passes.value == passes
    assert device.channels_last_group_exponent.value == exponent
    for c, f in factors.items():
        assert device.channels_last[c].value == pytest.approx(f, rel=1e-3), c
    assert device.measured["channels_last_fit_error"] < 1e-3


def test_fit_raises_the_peak_where_nhwc_beats_it_and_nchw_does_not_move():
    """dense at 0.8 of the peak runs 1.5x faster in NHWC: 1.2 of the peak. The fitted profile's peak is 1.2x
    higher, every efficiency 1.2x lower and half_work 1.2x larger: every NCHW time is unchanged."""
    samples = [ConvSample(*shape, seconds=by_hand(shape, EFF[ConvSample(*shape, seconds=0).kclass] * 1.4983,
                                                  1.4983)) for shape in NHWC_SHAPES]
    base = cpu_profile()
    device = fit_channels_last(base, samples, threads=1)
    top = 0.8 * device.channels_last["dense"].value
    assert top > 1
    assert device.peak("fp32") == pytest.approx(PEAK * top)
    assert device.efficiency["dense"].value == pytest.approx(0.8 / top)
    for shape in NHWC_SHAPES:
        work = ConvSample(*shape, seconds=0).work
        assert kernel_time(device, work, "fp32", "nchw").seconds == pytest.approx(
            kernel_time(base, work, "fp32", "nchw").seconds, rel=1e-9)


def test_compiled_on_a_cpu_runs_channels_last_with_weights_read_once():
    """resnet56 compiled on a CPU profile with NHWC factors: every variant's time is the NHWC time of the
    compiled kernels with weight_passes 1; on a GPU profile the layout stays as asked."""
    device = cpu_profile(channels_last={"dense": Value(1.3, "t")}, weight_passes=Value(3.0, "t"),
                         channels_last_weight_passes=Value(4.0, "t"))
    report = hetcalc.analyze("resnet56", P=4, variants="standard", device=device, batch=2, mode="compiled")
    assert report.layout == "nhwc"
    once = replace(device, weight_passes=Value(1.0, "t"), channels_last_weight_passes=Value(1.0, "t"))
    by_layout = hetcalc.analyze("resnet56", P=4, variants="standard", device=once, batch=2, mode="compiled",
                                layout="nhwc")
    assert report.variant("standard").time_s == pytest.approx(by_layout.variant("standard").time_s, rel=1e-12)
    eager = hetcalc.analyze("resnet56", P=4, variants="standard", device=device, batch=2)
    assert eager.layout == "nchw"
    gpu = hetcalc.analyze("resnet56", P=4, variants="standard", device="rtx4090", batch=2, mode="compiled")
    assert gpu.layout == "nchw"


def test_eager_nhwc_copies_each_gathered_tensor_and_compiled_does_not():
    """ResNet-56, HetConv split at P = 4, batch 2: in eager NHWC every gather (index_select of P x (M - M/P)
    channels of an M x H x W map) is followed by one copy kernel reading and writing that gathered tensor;
    compiled mode has none after its gathers."""
    from hetcalc.analysis.timed import variant_kernels
    from hetcalc.network.graph import Conv

    report = hetcalc.analyze("resnet56", P=4, variants="hetconv")
    v = report.variant("hetconv")
    eager = variant_kernels(report, v, "fp32", 2, "split", "eager", "nhwc")
    nchw = variant_kernels(report, v, "fp32", 2, "split", "eager", "nchw")
    gathers = 0
    for layer, ks, plain in zip(report.network.layers, eager, nchw):
        ops = [k.op for k in ks]
        if "gather" not in ops:
            assert ks == plain
            continue
        gathers += 1
        i = ops.index("gather")
        assert ops[i + 1] == "transpose" and len(ks) == len(plain) + 1
        assert isinstance(layer, Conv)
        m, h, w = layer.in_shape
        elements = 2 * 4 * (m - m // 4) * h * w  # batch 2, P = 4 gathered copies of M - M/P channels
        assert ks[i + 1].bytes_read == ks[i + 1].bytes_written == 4 * elements
        assert ks[i + 1].flops == 0
    assert gathers > 0
    compiled = variant_kernels(report, v, "fp32", 2, "split", "compiled", "nhwc")
    assert not any(k.op == "transpose" for ks in compiled for k in ks)


def test_a_layout_copy_runs_at_the_transpose_bandwidth_in_cache_or_not():
    """A copy of E elements (fp32) between layouts takes overhead + 8E / transpose_bandwidth, even where its
    bytes fit the cache (whose bandwidth a streaming element-wise kernel gets); without the entry, the
    cache or memory bandwidth as for any element-wise kernel."""
    from hetcalc.timing.layout import COPY
    from hetcalc.timing.traffic import elementwise

    device = cpu_profile(cache_bytes=Value(2 << 20, "t"), cache_bandwidth=Value(100e9, "t"),
                         transpose_bandwidth=Value(5e9, "t"))
    for elements in (16 * 32 * 32, 4 * 240 * 32 * 32):  # 64 KiB, in the cache; 3.75 MiB, not
        copy = elementwise(COPY, elements, 4, ops_per_element=0)
        assert kernel_time(device, copy, "fp32", "nhwc").seconds == pytest.approx(OVERHEAD + 8 * elements / 5e9)
    plain = replace(device, transpose_bandwidth=None)
    small = elementwise(COPY, 16 * 32 * 32, 4, ops_per_element=0)
    assert kernel_time(plain, small, "fp32", "nhwc").seconds == pytest.approx(OVERHEAD + 8 * 16 * 32 * 32 / 100e9)


def test_the_header_says_compiled_runs_channels_last_on_a_cpu_only():
    from click.testing import CliRunner

    from hetcalc.cli import main

    def header(device):
        r = CliRunner().invoke(main, ["resnet56", "--device", device, "--mode", "compiled", "--layout", "nchw",
                                      "--summary-only"])
        assert r.exit_code == 0, r.output
        return " ".join(r.output.split())

    cpu = header("x86-server")
    assert "compiled mode, NHWC layout" in cpu and "Compiled on a CPU: NHWC whatever --layout says" in cpu
    gpu = header("rtx4090")
    assert "compiled mode, NCHW layout" in gpu and "Compiled on a CPU" not in gpu


@pytest.mark.parametrize("factors", [False, True])
def test_measure_says_nhwc_runs_at_nchw_rates_only_without_factors(factors):
    from hetcalc.measure.runs import Measurement
    from hetcalc.views.measure_views import header_lines

    m = Measurement(architecture="resnet56", title="ResNet-56", input=(3, 32, 32), batch=1, threads=2, rounds=3,
                    warmup=1, hetconv_impl="split", torch_version="2.13.0", variants=(), device="mine",
                    device_title="a CPU", layout="nhwc", device_channels_last=factors)
    said = any("no channels-last factors" in line for line in header_lines(m))
    assert said is not factors
