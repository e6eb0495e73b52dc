"""`hetcalc calibrate`: measure this machine and fit a device profile for the time model.

numpy micro-benchmarks give the memory and cache bandwidth and a GEMM rate; with PyTorch installed the
bandwidths, the per-kernel dispatch overhead and every convolution class are timed in torch itself
(torch.nn.functional.conv2d on a few shapes per class), and the model's parameters are fitted to them.
Every value records how it was obtained. Samples are medians of interleaved rounds: the machine may be
shared. numpy and torch are imported inside the steps only.

- `probe`: what the machine says about itself (cache size, CPU name);
- `steps`: the measurements (numpy, then torch);
- `fit`: the convolution fit and the efficiencies.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import statistics
import time
from dataclasses import replace
from typing import Callable

from hetcalc.analysis.api import analyze
from hetcalc.measure.calibrate.fit import ConvFit, efficiencies, fit_convs, weight_passes
from hetcalc.measure.calibrate.nhwc import NHWC_SHAPES, fit_channels_last
from hetcalc.measure.calibrate.probe import CACHE_SOURCE, cache_size, cpu_name
from hetcalc.measure.calibrate.spread import SPREAD_NETWORKS, pass_profile, uncertainty
from hetcalc.measure.calibrate.steps import (CONV_PASSES, CONV_ROUNDS, CONV_SHAPES, FRESH, LINEAR_SHAPES, ROUNDS,
                                             ConvSample, DispatchFit, combine_passes, numpy_bandwidth, numpy_gemm,
                                             numpy_only_profile, torch_conv_samples, torch_dispatch_and_bandwidth,
                                             torch_elementwise, torch_linear, torch_page_fault,
                                             torch_page_fault_seconds, torch_threads)
from hetcalc.measure.calibrate.plan import NUMPY_STEPS, TORCH_STEPS, Plan
from hetcalc.measure.calibrate.plausible import implausible
from hetcalc.measure.quiet import BUSY_CORES, Watch
from hetcalc.network.sources import resolve
from hetcalc.timing.devices import Device, Value, check_device_name
from hetcalc.timing.traffic import CONV_CLASSES

__all__ = ["CHECK_NETWORK", "CHECK_RUNS", "CONV_ROUNDS", "CONV_SHAPES", "ROUNDS", "ConvFit", "ConvSample",
           "cache_size", "calibrate", "check_network", "cpu_name", "fit_convs", "network_factor", "network_timings",
           "profile_yaml", "weight_passes"]


def calibrate(progress: Callable[[str], None] | None = None, use_torch: bool | None = None,
              name: str = "local", threads: int | None = None, statistic: str = "median",
              wait_s: float = 60.0, watch: Watch | None = None) -> Device:
    """Measure this machine; return a profile fitted to the measurements (not yet checked end to end).

    Other processes' CPU use is watched while each step runs (measure/quiet.py): a disturbed step waits for
    quiet (up to `wait_s` seconds in all) and runs again. What stays disturbed, and any fitted value no quiet
    machine would give (calibrate/plausible.py), is listed in the profile's measured.unreliable."""
    check_device_name(name, "name")
    say = progress or (lambda text: None)
    watch = watch or Watch(say=say, wait_s=wait_s)
    if use_torch is None:
        use_torch = importlib.util.find_spec("torch") is not None
    plan = Plan(TORCH_STEPS if use_torch else NUMPY_STEPS, watch, say)
    measured: dict = {"machine": cpu_name(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    _settle(watch, say)
    memory_bw, cache_bw = plan.run("memory bandwidth (numpy copies)", lambda: numpy_bandwidth(statistic))
    gemm = plan.run("GEMM rate (numpy float32 matmul)", lambda: numpy_gemm(statistic))
    cache = cache_size()
    if not use_torch:
        device = plan.run("page faults of large fresh tensors (numpy)",
                          lambda: numpy_only_profile(name, memory_bw, cache_bw, gemm, cache, statistic))
        return _judged(replace(device, measured={**measured, "torch": False}), watch, plan)

    version, threads = torch_threads(threads)
    measured.update(torch=version, threads=threads, statistic=statistic)
    passes, nhwc, elementwise, faults, checks = [], [], [], [], []
    for i in range(1, CONV_PASSES + 1):  # passes apart in time: a slowdown of a few seconds spoils one
        of = f"pass {i} of {CONV_PASSES}"
        passes.append(plan.run(f"convolutions over 5 kernel classes, {of} (torch conv2d)",
                               lambda: torch_conv_samples(statistic)))
        nhwc.append(plan.run(f"channels-last convolutions, {of} (torch conv2d, NHWC)",
                             lambda: torch_conv_samples(statistic, NHWC_SHAPES, channels_last=True)))
        elementwise.append(plan.run(f"dispatch overhead and bandwidth, {of} (torch element-wise kernels)",
                                    lambda: torch_elementwise(statistic)))
        faults.append(plan.run(f"page faults of large fresh tensors, {of} (torch)",
                               lambda: torch_page_fault_seconds(statistic)))
        checks.append(plan.run(f"whole-network check, {of} (calibrate's own small network, batch 1 and 8)",
                               lambda: network_timings(threads)))
    dispatch = torch_dispatch_and_bandwidth(statistic, threads, elementwise)
    page_fault = torch_page_fault(statistic, threads, faults)
    linear = plan.run("linear layers (torch linear)", lambda: torch_linear(statistic))

    samples = combine_passes(passes)
    alone = [(torch_dispatch_and_bandwidth(statistic, threads, [e]), torch_page_fault(statistic, threads, [f]))
             for e, f in zip(elementwise, faults)]  # each pass's own measurements, for the uncertainty
    fits = [_fit(samples, dispatch, gemm, cache)] + [_fit(p, d, gemm, cache) for p, (d, _) in zip(passes, alone)]
    measured.update(_record(fits[0], samples, linear, gemm))
    device = _fitted_profile(name, threads, dispatch, page_fault, fits[0], gemm, cache, measured,
                             efficiencies(fits[0], samples, linear, dispatch.kernel_overhead.value, threads, statistic))
    device = fit_channels_last(device, combine_passes(nhwc), threads)
    device = network_factor(device, checks)
    device = replace(device, measured={**device.measured, "uncertainty": _uncertainty(
        device, list(zip(fits[1:], passes, alone)), linear, threads, statistic)})
    return _judged(device, watch, plan)


def _fit(samples: list[ConvSample], dispatch: DispatchFit, gemm: float, cache: int | None) -> ConvFit:
    return fit_convs(samples, dispatch.kernel_overhead.value, gemm, dispatch.memory_bandwidth.value,
                     dispatch.cache_bandwidth.value, cache)


def _uncertainty(device: Device, pass_fits: list[tuple[ConvFit, list[ConvSample], tuple[DispatchFit, Value]]],
                 linear: list[float], threads: int, statistic: str) -> dict:
    """calibrate/spread.py's record: the profiles of each pass alone (its convolutions, element-wise kernels
    and page faults), predicting fixed networks."""
    from hetcalc.network.spec import load_spec_text

    devices = [pass_profile(device, efficiencies(fit, samples, linear, dispatch.kernel_overhead.value, threads,
                                                 statistic), fit, dispatch, fault)
               for fit, samples, (dispatch, fault) in pass_fits]
    networks = {SPREAD_NETWORKS[0]: check_network(),
                **{n: resolve(n) for n in SPREAD_NETWORKS[1:]}}
    return uncertainty(devices, networks)


def _settle(watch: Watch, say: Callable[[str], None]) -> None:
    """Before timing anything: wait for quiet when other processes are busy."""
    load = watch.wait_for_quiet() if watch.wait_s > 0 else None
    if load is not None and load > BUSY_CORES:
        say(f"other processes use {load:.1f} cores; timing anyway (disturbed steps are repeated)")


def _judged(device: Device, watch: Watch, plan: Plan) -> Device:
    """The profile with how long it took, other processes' load per step, and why it is unreliable, if so."""
    quiet = {"busy_above_cores": BUSY_CORES, "waited_s": round(watch.waited_s, 1),
             "others_cores": {step: None if load is None else round(load, 2) for step, load in watch.loads.items()}}
    measured = {**device.measured, "seconds": _since(plan.started), "quiet": quiet}
    reasons = watch.disturbed() + implausible(replace(device, measured=measured))
    if reasons:
        measured["unreliable"] = reasons
    return replace(device, measured=measured)


def _since(started: float) -> float:
    return round(time.perf_counter() - started, 1)


def _record(fit: ConvFit, samples: list[ConvSample], linear: list[float], gemm: float) -> dict:
    """The timings behind the fit, kept in the profile's `measured` for reference."""
    return {"conv_fit_median_error": round(fit.median_error, 3), "conv_passes": CONV_PASSES,
            "convolutions": [{"shape": s.label(), "class": s.kclass, "seconds": float(f"{s.seconds:.4g}"),
                              "fit_error": round(e, 3)} for s, e in zip(samples, fit.errors)],
            "linear": [{"shape": f"B{b} {fin}->{fout}", "seconds": float(f"{t:.4g}")}
                       for (b, fin, fout), t in zip(LINEAR_SHAPES, linear)],
            "numpy_gemm_flops": float(f"{gemm:.4g}")}


def _fitted_profile(name: str, threads: int, dispatch: DispatchFit, page_fault: Value, fit: ConvFit, gemm: float,
                    cache: int | None, measured: dict, eff: dict[str, Value]) -> Device:
    """The profile from the torch measurements and the fit."""
    fitted_grid = "fitted: grid search over the grouped conv timings"
    return Device(
        name=name, title=f"{cpu_name()}, {threads} threads (calibrated)", kind="cpu", validated=False,
        peak_flops={"fp32": Value(fit.peak, f"fitted: the highest of numpy float32 matmul 768x768 "
                                            f"({gemm / 1e9:.1f} GFLOP/s) and the convolution classes' fitted "
                                            f"rates, {threads} threads (an attained rate, not the hardware peak)")},
        memory_bandwidth=dispatch.memory_bandwidth,
        kernel_overhead=dispatch.kernel_overhead,
        efficiency={c: eff[c] for c in CONV_CLASSES},
        half_work=Value(fit.half_work, "fitted: the fixed time of a convolution beyond the dispatch overhead, "
                                       "times the peak (least squares over the conv timings)")
        if fit.half_work > 0 else None,  # no fixed time fitted: the profile leaves it out (0 is no valid value)
        group_channels=Value(fit.group_channels, fitted_grid),
        group_exponent=Value(fit.group_exponent, fitted_grid),
        pointwise_group_channels=Value(fit.pointwise_channels, "fitted: grid search over the grouped 1 x 1 conv "
                                                               "timings") if fit.pointwise_channels > 1 else None,
        pointwise_group_exponent=Value(fit.pointwise_exponent, "fitted: grid search over the grouped 1 x 1 conv "
                                                               "timings") if fit.pointwise_channels > 1 else None,
        weight_passes=Value(fit.weight_passes, "measured: the median of (t - overhead) x memory bandwidth / weight "
                                               "bytes over the conv timings their weights bound (large weights on "
                                               "small maps; the library reorders them on every call)"),
        gather_bandwidth=dispatch.gather_bandwidth, transpose_bandwidth=dispatch.transpose_bandwidth,
        page_fault=page_fault, fresh_bytes=FRESH, op_overhead=dispatch.op_overhead,
        pool_bandwidth=dispatch.pool_bandwidth,
        cache_bytes=Value(cache, CACHE_SOURCE) if cache else None,
        cache_bandwidth=dispatch.cache_bandwidth if cache else None,
        notes=("Parameters measured on this machine by `hetcalc calibrate` (micro-benchmarks of single kernels, "
               "scaled by a check on one small network). Not validated end to end: benchmarks/time_model.py "
               "compares whole networks against measurement."),
        measured=measured)


# calibrate's own check network: none of the benchmark's (VGG-16, ResNet-34/50/56), a little of each kind
CHECK_NETWORK = """
name: calibration-check
title: calibrate's check network
input: [3, 32, 32]
defaults:
  conv: {bias: false, bn: true, act: relu}
layers:
  - conv: 32
  - conv: {out: 48, stride: 2}
  - stage: {block: basic, out: 48, repeat: 2}
  - maxpool: 2
  - stage: {block: bottleneck, width: 32, out: 128, repeat: 2}
  - conv: {out: 192, stride: 2}
  - conv: {out: 256, kernel: 1}
  - avgpool: global
  - fc: 10
"""
CHECK_RUNS = [(1, "standard"), (1, "dwc_pwc"), (8, "standard"), (8, "dwc_pwc")]


@functools.cache
def check_network():
    """CHECK_NETWORK parsed (once: the passes time it and the fits predict it)."""
    from hetcalc.network.spec import load_spec_text

    return load_spec_text(CHECK_NETWORK, "calibrate check network")


def network_timings(threads: int) -> dict[tuple[int, str], float]:
    """CHECK_NETWORK timed whole, as `hetcalc measure` times networks: seconds per (batch, variant) of
    CHECK_RUNS (the median of 7 interleaved rounds)."""
    from hetcalc.measure.runs import measure

    network = check_network()
    seconds = {}
    for batch in sorted({b for b, _ in CHECK_RUNS}):
        keys = [key for b, key in CHECK_RUNS if b == batch]
        m = measure(network, P=4, variants=",".join(keys), batch=batch, threads=threads, rounds=7, warmup=2)
        for v in m.variants:
            if v.key.split(":")[0] in keys:
                seconds[(batch, v.key.split(":")[0])] = v.median_s
    return seconds


def network_factor(device: Device, passes: list[dict[tuple[int, str], float]]) -> Device:
    """`network_factor` from the check network's timings (`passes`, each from network_timings): per run,
    the median over the passes of measured / predicted time; the factor is the geometric mean over the
    runs, kept within 0.5-3. Kernels in a network run slower than the same kernels timed alone (their
    inputs and weights no longer in cache, module calls between them). The median over passes apart in
    time drops a pass an OpenMP stall or another process slowed; the mean over runs lets no single run
    decide (a median of four is the midpoint of two)."""
    network = check_network()
    ratios, runs = [], []
    for batch, key in CHECK_RUNS:
        report = analyze(network, P=4, variants=key, device=device, dtype="fp32", batch=batch)
        predicted = next(v.time_s for v in report.variants if v.variant == key)
        measured = [p[(batch, key)] for p in passes]
        ratios.append(statistics.median(measured) / predicted)
        runs.append({"batch": batch, "variant": key, "measured_s": [float(f"{t:.4g}") for t in measured],
                     "predicted_s": float(f"{predicted:.4g}")})
    ratio = math.exp(statistics.fmean(math.log(r) for r in ratios))
    factor = min(max(ratio, 0.5), 3.0)
    return replace(device, network_factor=Value(
        factor, f"measured: calibrate's check network (not a benchmark network), {len(ratios)} runs in "
                f"{len(passes)} passes; the geometric mean over the runs of measured (median over the passes) "
                f"/ predicted time"),
        measured={**device.measured, "network_check": runs, "network_ratio": round(ratio, 3)})


def profile_yaml(device: Device) -> str:
    """The profile as YAML text, with a comment saying how it was made."""
    import yaml

    head = ("# Device profile written by `hetcalc calibrate` (schema: docs/time-model.md).\n"
            "# Every value says how it was obtained; re-run calibrate on a quiet machine for steadier numbers.\n")
    return head + yaml.safe_dump(device.to_dict(), sort_keys=False, width=110, allow_unicode=True)
