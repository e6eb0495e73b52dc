"""Calibration's fit recovers known parameters from synthetic timings (no timings taken here)."""

from __future__ import annotations

import pytest

from hetcalc.calibrate import CONV_SHAPES, ConvSample, _fit_convs, profile_yaml
from hetcalc.devices import Device, Value, load_device_text


def synthetic(rates, fixed, gc, overhead, bw):
    """Conv timings made by the time model itself, from known parameters."""
    out = []
    for shape in CONV_SHAPES:
        s = ConvSample(*shape, seconds=0.0)
        g = min(1.0, s.channels_per_group / gc) if s.kclass in ("grouped", "grouped_pointwise") else 1.0
        t = overhead + max(s.flops / g / rates[s.kclass] + fixed, s.bytes / bw)
        out.append(ConvSample(*shape, seconds=t))
    return out


def test_fit_recovers_the_parameters_that_made_the_timings():
    rates = {"dense": 80e9, "pointwise": 40e9, "grouped": 60e9, "grouped_pointwise": 20e9, "depthwise": 5e9}
    samples = synthetic(rates, fixed=20e-6, gc=16, overhead=5e-6, bw=1e15)
    fit = _fit_convs(samples, overhead=5e-6, peak=100e9, bandwidth_of=lambda n: 1e15)
    assert fit["group_channels"] == 16
    assert fit["half_work"] / fit["peak"] == pytest.approx(20e-6)
    for c, r in rates.items():
        assert fit["rates"][c] == pytest.approx(r, rel=1e-6)
    assert fit["median_error"] < 1e-6


def test_fit_never_makes_grouped_faster_than_dense_when_it_can_avoid_it():
    rates = {"dense": 80e9, "pointwise": 40e9, "grouped": 60e9, "grouped_pointwise": 20e9, "depthwise": 5e9}
    samples = synthetic(rates, fixed=10e-6, gc=32, overhead=5e-6, bw=1e15)
    fit = _fit_convs(samples, overhead=5e-6, peak=100e9, bandwidth_of=lambda n: 1e15)
    dense = max(fit["rates"]["dense"], fit["rates"]["pointwise"], 100e9)
    assert fit["rates"]["grouped"] <= 1.05 * dense


def test_written_profile_reads_back():
    v = lambda x, s="measured: test": Value(x, s)  # noqa: E731
    device = Device(name="local", title="test machine", kind="cpu", validated=False,
                    peak_flops={"fp32": v(1.234567e11)}, memory_bandwidth=v(5e9), kernel_overhead=v(4e-6),
                    efficiency={c: v(0.5) for c in ("dense", "pointwise", "grouped", "grouped_pointwise",
                                                     "depthwise", "linear")},
                    half_work=v(1e6), group_channels=v(16), cache_bytes=v(32 * 2**20), cache_bandwidth=v(50e9),
                    measured={"threads": 2, "convolutions": [{"shape": "B1 16->16", "seconds": 1e-4}]})
    back = load_device_text(profile_yaml(device), "local.yaml")
    assert back.peak("fp32") == pytest.approx(1.234567e11, rel=1e-3)
    assert back.group_channels.value == 16 and back.cache_bytes.value == 32 * 2**20
    assert back.measured["threads"] == 2
    assert "calibrated" in back.summary()
