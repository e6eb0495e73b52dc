"""A report's variants with memory traffic and, given a device, predicted time: report in, report out."""

from __future__ import annotations

import math
from dataclasses import replace

from hetcalc.core.errors import OptionError

from hetcalc.network.graph import Conv
from hetcalc.analysis.results import Report, VariantResult
from hetcalc.timing.fusion import check_mode, compiled_kernels
from hetcalc.timing.layout import check_layout, layout_kernels
from hetcalc.timing.devices import Value
from hetcalc.timing.timemodel import LayerTime, layer_time
from hetcalc.timing.traffic import (DTYPE_BYTES, SKIP, Kernel, conv_layer_kernels, decomposed_activations,
                                    fixed_layer_kernels, peak_activation_bytes, shortcut_inputs)


def check_timing(device, dtype, batch, impl, mode="eager", layout="nchw"):
    """The timing options checked before any work: dtype, batch, HetConv implementation, mode, layout, and the
    device (resolved, and able to run the dtype)."""
    from hetcalc.timing.traffic import check_batch, check_dtype, check_impl

    dtype, batch, impl = check_dtype(dtype or "fp32"), check_batch(1 if batch is None else batch), check_impl(impl)
    mode, layout = check_mode(mode), check_layout(layout)
    if device is not None:
        from hetcalc.timing.devices import resolve_device

        device = resolve_device(device)
        device.peak(dtype)  # refuse a dtype the device has no peak for, before any work
        _warn_provenance(device)
    return device, dtype, batch, impl, mode, layout


def _warn_provenance(device) -> None:
    """One warning line per way a calibrated profile may not fit this machine (timing/provenance.py)."""
    import warnings

    from hetcalc.timing.provenance import ProfileWarning, provenance_warnings

    for text in provenance_warnings(device):
        warnings.warn(text, ProfileWarning, stacklevel=3)


def variant_kernels(report: Report, variant: VariantResult, dtype: str, batch: int,
                    impl: str, mode: str = "eager", layout: str = "nchw") -> list[list[Kernel]]:
    """The kernels each layer of `variant` runs, layer by layer (the order of report.network.layers): a rebuilt
    layer runs its convolution type's realization steps with the part it was counted with. In NHWC, with the
    layout's copies (timing/layout.py); in compiled mode, with BatchNorm folded and epilogues fused
    (timing/fusion.py)."""
    network = report.network
    size = DTYPE_BYTES[dtype]
    shortcuts = shortcut_inputs(network)
    roles = decomposed_activations(network)
    pointwise_bias = report.convention.pointwise_bias
    out = []
    for i, (layer, result) in enumerate(zip(network.layers, variant.layers)):
        if isinstance(layer, Conv) and result.replaced:
            part = variant.layers.part(i)
            out.append(conv_layer_kernels(layer, variant.variant, part, impl, batch, size, pointwise_bias))
        else:
            out.append(fixed_layer_kernels(layer, batch, size, shortcuts.get(i), roles.get(i)))
    out = layout_kernels(network, out, layout, batch, size, eager=mode == "eager")
    if mode == "compiled":
        return compiled_kernels(network, out, frozenset(i for i, role in roles.items() if role == SKIP))
    return out


def _annotate(report: Report, variant: VariantResult, device, dtype: str, batch: int, impl: str,
              std_time: float | None, mode: str = "eager", layout: str = "nchw") -> VariantResult:
    kernels = variant_kernels(report, variant, dtype, batch, impl, mode, layout)
    layers = []
    total_bytes = 0
    total_time = 0.0
    for result, ks in zip(variant.layers, kernels):
        nbytes = sum(k.bytes for k in ks)
        flops = sum(k.flops for k in ks)
        total_bytes += nbytes
        extra = {"bytes": nbytes, "intensity": flops / nbytes if nbytes else 0.0}
        if device is not None:
            t = _finite_time(device, ks, dtype, f"layer {result.name!r} of {variant.label}", layout)
            extra.update(time_s=t.seconds, bound=t.bound)
            total_time += t.seconds
        layers.append(replace(result, **extra))
    extra = {"bytes": total_bytes, "peak_activation_bytes": peak_activation_bytes(report.network, kernels,
                                                                                   DTYPE_BYTES[dtype], batch)}
    if device is not None:
        base = total_time if std_time is None else std_time
        speedup = base / total_time if total_time else 1.0  # no kernel at all: nothing to speed up
        _check_finite(device, total_time, f"{variant.label} in total")
        _check_finite(device, speedup, f"{variant.label}'s speedup", "a speedup")
        extra.update(time_s=total_time, time_speedup=speedup)
    return replace(variant, layers=tuple(layers), **extra)


def _finite_time(device, kernels: list[Kernel], dtype: str, what: str, layout: str = "nchw") -> LayerTime:
    """layer_time, or an OptionError when its seconds do not fit a float (a count too large for the profile's
    rates): a time is printed finite, never inf or nan."""
    try:
        t = layer_time(device, kernels, dtype, layout)
    except (OverflowError, ZeroDivisionError):
        t = LayerTime(math.inf, "compute")
    _check_finite(device, t.seconds, what)
    return t


def compiled_on_cpu(device, mode: str) -> bool:
    """Whether torch.compile's CPU rules apply (docs/time-model.md): compiled mode on a CPU profile runs every
    convolution channels-last (inductor's layout optimisation always converts them when oneDNN runs them) and
    reads weights once per call (frozen: BatchNorm folded, weights reordered into oneDNN's layout once)."""
    return mode == "compiled" and device is not None and device.kind == "cpu"


def compiled_device(device):
    """`device` with `weight_passes` 1 in both layouts, for compiled_on_cpu (a profile without it as it is)."""
    if device.weight_passes is None:
        return device
    once = Value(1.0, "compiled mode: weights prepacked once (inductor's freezing)")
    return replace(device, weight_passes=once,
                   channels_last_weight_passes=once if device.channels_last_weight_passes is not None else None)


def _check_finite(device, value: float, what: str, noun: str = "a predicted time") -> None:
    if not math.isfinite(value):
        raise OptionError(f"{what}: {noun} on device {device.name} ({device.where}) is out of a float's range "
                          "(the network's counts are too large for the time model)")


def attach(report: Report, device=None, dtype: str = "fp32", batch: int = 1, impl: str = "split",
           mode: str = "eager", layout: str = "nchw") -> Report:
    """Every variant (and the baseline) with bytes and intensity; with a device, time and bound too.
    Compiled on a CPU profile runs channels-last whatever `layout` says: inductor's layout optimisation
    always converts convolutions to NHWC when oneDNN runs them (docs/time-model.md)."""
    timing = device
    if compiled_on_cpu(device, mode):
        layout, timing = "nhwc", compiled_device(device)
    baseline = _annotate(report, report.baseline, timing, dtype, batch, impl, None, mode, layout)
    std_time = baseline.time_s
    variants = tuple(baseline if v.variant == "standard" else
                     _annotate(report, v, timing, dtype, batch, impl, std_time, mode, layout) for v in report.variants)
    return replace(report, variants=variants, baseline=baseline, device=device, dtype=dtype, batch=batch,
                   hetconv_impl=impl, mode=mode, layout=layout)
