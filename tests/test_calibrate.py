"""Calibration's fit recovers known parameters from synthetic timings (no timings taken here)."""

from __future__ import annotations

import pytest

from hetcalc.measure.calibrate import CONV_SHAPES, ConvSample, profile_yaml
from hetcalc.measure.calibrate.fit import fit_convs
from hetcalc.devices import Device, Value, load_device_text


def synthetic(rates, fixed, gc, overhead, memory_bw, passes=1.0, exponent=1.0, cache=None, cache_bw=None,
              pw=(1, 1.0)):
    """Conv timings made by the time model's formula (hand-written here), from known parameters."""
    out = []
    for shape in CONV_SHAPES:
        s = ConvSample(*shape, seconds=0.0)
        b, cin, cout, size, k, groups = shape
        fewest = min(cin // groups, cout // groups)
        g = (min(1.0, fewest / gc) ** exponent if s.kclass == "grouped"
             else min(1.0, fewest / pw[0]) ** pw[1] if s.kclass == "grouped_pointwise" else 1.0)
        weights = 4 * cout * (cin // groups) * k * k
        activations = 4 * b * (cin + cout) * size * size
        act_bw = cache_bw if cache and activations <= cache else memory_bw
        memory = activations / act_bw + passes * weights / memory_bw
        t = overhead + max(s.flops / g / rates[s.kclass] + fixed, memory)
        out.append(ConvSample(*shape, seconds=t))
    return out


RATES = {"dense": 80e9, "pointwise": 40e9, "grouped": 60e9, "grouped_pointwise": 20e9, "depthwise": 5e9}


def test_fit_recovers_the_parameters_that_made_the_timings():
    samples = synthetic(RATES, fixed=20e-6, gc=16, overhead=5e-6, memory_bw=1e15)
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    assert fit.group_channels == 16
    assert fit.half_work / fit.peak == pytest.approx(20e-6)
    for c, r in RATES.items():
        assert fit.rates[c] == pytest.approx(r, rel=1e-6)
    assert fit.median_error < 1e-6


def test_fit_recovers_weight_passes_and_the_group_exponent():
    """Timings where large weights on small maps are bound by 3 passes over them at 10 GB/s, and grouped
    kernels slow down with the square of their channel shortfall."""
    samples = synthetic(RATES, fixed=10e-6, gc=32, overhead=5e-6, memory_bw=10e9, passes=3.0, exponent=2.0,
                        cache=512 * 1024, cache_bw=50e9)
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=10e9, cache_bw=50e9, cache=512 * 1024)
    assert fit.weight_passes == pytest.approx(3.0, rel=0.02)  # read off the weight-bound shapes
    assert (fit.group_channels, fit.group_exponent) == (32, 2.0)
    assert fit.median_error < 1e-6
    weight_bound = [s for s in samples if s.size <= 2 and s.weight_bytes > 4e6]
    assert weight_bound  # the shapes that pin weight_passes are in the calibration set


def test_fit_never_makes_grouped_faster_than_dense_when_it_can_avoid_it():
    samples = synthetic(RATES, fixed=10e-6, gc=32, overhead=5e-6, memory_bw=1e15)
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    dense = max(fit.rates["dense"], fit.rates["pointwise"], 100e9)
    assert fit.rates["grouped"] <= 1.05 * dense


def test_written_profile_reads_back():
    v = lambda x, s="measured: test": Value(x, s)  # noqa: E731
    device = Device(name="local", title="test machine", kind="cpu", validated=False,
                    peak_flops={"fp32": v(1.234567e11)}, memory_bandwidth=v(5e9), kernel_overhead=v(4e-6),
                    efficiency={c: v(0.5) for c in ("dense", "pointwise", "grouped", "grouped_pointwise",
                                                     "depthwise", "linear")},
                    half_work=v(1e6), group_channels=v(16), group_exponent=v(1.5), weight_passes=v(3),
                    cache_bytes=v(32 * 2**20), cache_bandwidth=v(50e9),
                    measured={"threads": 2, "convolutions": [{"shape": "B1 16->16", "seconds": 1e-4}]})
    back = load_device_text(profile_yaml(device), "local.yaml")
    assert back.peak("fp32") == pytest.approx(1.234567e11, rel=1e-3)
    assert back.group_channels.value == 16 and back.cache_bytes.value == 32 * 2**20
    assert back.group_exponent.value == 1.5 and back.weight_passes.value == 3
    assert back.measured["threads"] == 2
    assert "calibrated" in back.summary()


def test_check_network_is_none_of_the_benchmark_networks():
    """network_factor is measured on calibrate's own network, so the benchmark never checks the model on
    the network it was scaled on."""
    import hetcalc
    from hetcalc.measure.calibrate import CHECK_NETWORK
    from hetcalc.spec import load_spec_text

    mine = load_spec_text(CHECK_NETWORK, "check")
    shapes = lambda net: [(c.in_shape, c.out_shape, c.kernel) for c in net.convs]  # noqa: E731
    for arch in ("vgg16", "resnet34", "resnet50", "resnet56"):
        assert shapes(mine) != shapes(hetcalc.resolve(arch))
    assert len(mine.convs) >= 8 and any(layer.kind == "pool" for layer in mine.layers)


def test_fit_finds_a_fixed_time_between_grid_steps():
    """The fixed time is solved for (least squares), not picked from a list: 23 us is recovered exactly."""
    samples = synthetic(RATES, fixed=23e-6, gc=16, overhead=5e-6, memory_bw=1e15)
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    assert fit.half_work / fit.peak == pytest.approx(23e-6, rel=1e-6)
    for c, r in RATES.items():
        assert fit.rates[c] == pytest.approx(r, rel=1e-6)


def test_one_disturbed_timing_barely_moves_the_fit():
    """A timing three times too slow (another process ran meanwhile) is down-weighted: the rates stay
    within 2% and the fixed time within 2 us of the ones that made the other timings."""
    samples = synthetic(RATES, fixed=20e-6, gc=16, overhead=5e-6, memory_bw=1e15)
    i = next(i for i, s in enumerate(samples) if s.kclass == "dense")
    samples[i] = ConvSample(*CONV_SHAPES[i], seconds=3 * samples[i].seconds)
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    assert abs(fit.half_work / fit.peak - 20e-6) < 2e-6
    for c, r in RATES.items():
        assert fit.rates[c] == pytest.approx(r, rel=0.02)


def test_passes_combine_by_their_median_per_shape():
    from hetcalc.measure.calibrate.steps import combine_passes

    shapes = CONV_SHAPES[:2]
    passes = [[ConvSample(*shape, seconds=t) for shape, t in zip(shapes, ts)]
              for ts in ([1.0, 9.0], [3.0, 2.0], [2.0, 4.0])]
    combined = combine_passes(passes)
    assert [s.seconds for s in combined] == [2.0, 4.0]
    assert [(s.cin, s.cout, s.groups) for s in combined] == [shape[1:3] + shape[5:] for shape in shapes]


def test_uncertainty_is_the_spread_of_the_passes_predictions():
    """Two profiles that differ only in network_factor (1 and 1.5) predict every point exactly 1.5x apart:
    the spread is 50% everywhere; identical profiles spread 0."""
    from dataclasses import replace

    from hetcalc.devices import resolve_device
    from hetcalc.measure.calibrate.spread import SPREAD_BATCHES, spread_points, uncertainty

    base = resolve_device("x86-server")
    one = replace(base, network_factor=Value(1.0, "test"))
    other = replace(base, network_factor=Value(1.5, "test"))
    networks = {"resnet56": "resnet56"}
    points = spread_points([one, other], networks)
    assert len(points) == len(SPREAD_BATCHES) * 4  # standard, HetConv, GWC+PWC, DWC+PWC
    assert points == pytest.approx([0.5] * len(points))
    record = uncertainty([one, one], networks)
    assert record["median_spread"] == 0 and record["largest_spread"] == 0 and record["passes"] == 2


def test_fit_recovers_the_grouped_pointwise_curve():
    """Grouped 1 x 1 timings slowed as (channels per group / 8) ** 0.75 below 8 (HetConv split at large P):
    the fit finds that curve, and with it the K x K curve and every rate."""
    samples = synthetic(RATES, fixed=20e-6, gc=16, overhead=5e-6, memory_bw=1e15, pw=(8, 0.75))
    fit = fit_convs(samples, overhead=5e-6, peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    assert (fit.pointwise_channels, fit.pointwise_exponent) == (8, 0.75)
    assert fit.group_channels == 16
    for c, r in RATES.items():
        assert fit.rates[c] == pytest.approx(r, rel=1e-6)
    plain = fit_convs(synthetic(RATES, fixed=20e-6, gc=16, overhead=5e-6, memory_bw=1e15), overhead=5e-6,
                      peak=100e9, memory_bw=1e15, cache_bw=None, cache=None)
    assert plain.pointwise_channels == 1  # no slowdown in the timings: none fitted (the profile leaves it out)


def quiet_watch():
    """A Watch that sees no other process: the machine running the tests may be busy, and a step it saw
    disturbed would run again, asking the fakes for one pass more than they hold."""
    from hetcalc.measure.quiet import CpuSnapshot, Watch

    clock = iter(range(10**6))
    return Watch(wait_s=0, probe=lambda: CpuSnapshot(float(next(clock)), 0.0, 0.0), sleep=lambda s: None)


def _fake_torch_steps(monkeypatch, conv_passes):
    """calibrate's torch path with every timing replaced: `conv_passes` are the convolution passes in order."""
    from dataclasses import replace

    import hetcalc.measure.calibrate as cal

    passes = iter(conv_passes)
    elementwise = {"tiny": 2e-6, "large": 1e-2, "bn": 12e-6, "relu": 4e-6, "add": 3e-6, "gather": 2e-4,
                   "bn_small": 8e-6, "relu_small": 2e-6, "add_small": 1e-6, "gather_small": 1e-6,
                   "pool_small": 5e-6, "pool": 3e-4, "transpose": 1e-3}
    monkeypatch.setattr(cal, "numpy_bandwidth", lambda statistic: (Value(10e9, "t"), Value(50e9, "t")))
    monkeypatch.setattr(cal, "numpy_gemm", lambda statistic: 100e9)
    monkeypatch.setattr(cal, "cache_size", lambda: 2 << 20)
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")  # this run's: the profile is not "calibrated with another torch"
    except PackageNotFoundError:
        torch_version = "2.13.0"
    monkeypatch.setattr(cal, "torch_threads", lambda threads: (torch_version, 1))
    def conv_samples(statistic, shapes=None, channels_last=False):
        if not channels_last:
            return next(passes)
        seconds = {(s.batch, s.cin, s.cout, s.size, s.kernel, s.groups): s.seconds for s in conv_passes[0]}
        return [ConvSample(*shape, seconds=seconds[shape]) for shape in shapes]

    monkeypatch.setattr(cal, "torch_conv_samples", conv_samples)
    monkeypatch.setattr(cal, "torch_elementwise", lambda statistic: dict(elementwise))
    monkeypatch.setattr(cal, "torch_page_fault_seconds", lambda statistic: 1e-6)
    monkeypatch.setattr(cal, "torch_linear", lambda statistic: [1e-5, 5e-5, 1e-4])
    monkeypatch.setattr(cal, "network_timings", lambda threads: {run: 1e-3 for run in cal.CHECK_RUNS})
    monkeypatch.setattr(cal, "network_factor", lambda device, passes: replace(
        device, network_factor=Value(1.1, "t"), measured={**device.measured, "network_ratio": 1.1}))
    return cal


def test_three_equal_passes_make_a_profile_with_no_spread(monkeypatch):
    samples = synthetic(RATES, fixed=20e-6, gc=16, overhead=2e-6, memory_bw=1e15)
    cal = _fake_torch_steps(monkeypatch, [samples] * 3)
    device = cal.calibrate(use_torch=True, wait_s=0, threads=1, watch=quiet_watch())
    record = device.measured["uncertainty"]
    assert record["passes"] == 3 and record["median_spread"] == 0 and record["largest_spread"] == 0
    assert "unreliable" not in device.measured
    assert device.half_work.value / device.peak("fp32") == pytest.approx(20e-6, rel=1e-6)


def test_one_slow_pass_leaves_the_profile_alone_but_shows_in_its_uncertainty(monkeypatch):
    """A pass during which the machine ran every convolution 1.5x slower: the median over the passes is the
    other two passes' timings (the profile is the quiet one), while that pass's own fit predicts slower
    than the others, which the recorded spread says."""
    quiet = synthetic(RATES, fixed=20e-6, gc=16, overhead=2e-6, memory_bw=1e15)
    slow = [ConvSample(*shape, seconds=1.5 * s.seconds) for shape, s in zip(CONV_SHAPES, quiet)]
    cal = _fake_torch_steps(monkeypatch, [quiet, slow, quiet])
    device = cal.calibrate(use_torch=True, wait_s=0, threads=1, watch=quiet_watch())
    assert device.half_work.value / device.peak("fp32") == pytest.approx(20e-6, rel=1e-6)
    assert device.measured["uncertainty"]["median_spread"] > 0.10
    assert any("passes disagree" in reason for reason in device.measured["unreliable"])


def test_network_factor_is_the_geometric_mean_over_runs_of_the_median_over_passes():
    """Check-network timings made from the profile's own predictions times known ratios: per run the median
    over three passes (one pass 3x slow is dropped), then the geometric mean over the four runs."""
    import math
    from statistics import median

    import hetcalc
    import hetcalc.measure.calibrate as cal
    from hetcalc.devices import resolve_device
    from hetcalc.network.spec import load_spec_text

    device = resolve_device("x86-server")
    network = load_spec_text(cal.CHECK_NETWORK, "check")
    predicted = {}
    for batch, key in cal.CHECK_RUNS:
        report = hetcalc.analyze(network, P=4, variants=key, device=device, dtype="fp32", batch=batch)
        predicted[(batch, key)] = next(v.time_s for v in report.variants if v.variant == key)
    ratios = {run: r for run, r in zip(cal.CHECK_RUNS, (0.9, 0.8, 1.5, 1.8))}
    per_pass = [{run: ratios[run] * (3.0 if i == 1 and run == cal.CHECK_RUNS[0] else 1.0 + 0.01 * i)
                 * predicted[run] for run in cal.CHECK_RUNS} for i in range(3)]
    fitted = cal.network_factor(device, per_pass)
    expected = math.exp(sum(math.log(median(p[run] for p in per_pass) / predicted[run])
                            for run in cal.CHECK_RUNS) / len(cal.CHECK_RUNS))
    assert fitted.network_factor.value == pytest.approx(expected, rel=1e-9)
    assert fitted.network_factor.value == pytest.approx((0.9 * 0.8 * 1.5 * 1.8) ** 0.25, rel=0.02)
    assert [len(r["measured_s"]) for r in fitted.measured["network_check"]] == [3] * len(cal.CHECK_RUNS)
    slow = cal.network_factor(device, [{run: 10 * t for run, t in p.items()} for p in per_pass])
    assert slow.network_factor.value == 3.0  # kept within 0.5-3; the ratio itself is recorded
    assert slow.measured["network_ratio"] == pytest.approx(10 * expected, rel=1e-3)
