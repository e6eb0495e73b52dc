"""Channels-last (NHWC) convolutions on this CPU: the profile's `channels_last` factors, fitted to timings.

oneDNN runs a channels-last convolution with other kernels than an NCHW one: on the 2-core Xeon these were
fitted on, most shapes run 0.5-0.8x their NCHW time (depthwise and grouped 1 x 1 most), while a few run slower
(a 512 -> 512 3 x 3 convolution on a 4 x 4 map 1.8x: oneDNN picks another kernel for that shape). So the fit
gives each convolution class a factor, the grouped K x K curve its own exponent and the layout its own weight
passes. Eager `--layout nhwc` uses them, and so does `--mode compiled` on a CPU profile: inductor's layout
optimisation always converts convolutions to channels-last when oneDNN runs them
(torch._inductor.graph.decide_layout_opt).

Model (timing/timemodel.py, layout="nhwc"): a class's efficiency and its fixed time (half_work) run its factor
faster; grouped K x K convolutions follow the group curve with `channels_last_group_exponent` (none if absent),
grouped 1 x 1 convolutions their NCHW curve; weights are read `channels_last_weight_passes` times. Factors,
exponent and passes are a grid search minimising the mean |log| error of the predicted times.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import replace

from hetcalc.measure.calibrate.steps import ConvSample
from hetcalc.timing.devices import Device, Value
from hetcalc.timing.timemodel import kernel_time

# a subset of CONV_SHAPES (batch, cin, cout, size, kernel, groups): every class, compute- and weight-bound
NHWC_SHAPES = [
    (1, 64, 64, 32, 3, 1), (1, 256, 256, 8, 3, 1), (1, 512, 512, 4, 3, 1), (1, 64, 64, 56, 3, 1),
    (8, 32, 32, 16, 3, 1), (1, 256, 512, 4, 3, 1), (1, 512, 512, 2, 3, 1), (32, 16, 16, 32, 3, 1),
    (1, 64, 128, 32, 1, 1), (1, 256, 64, 56, 1, 1), (1, 2048, 512, 7, 1, 1), (32, 16, 16, 32, 1, 1),
    (1, 1024, 2048, 2, 1, 1),
    (1, 64, 64, 32, 3, 4), (1, 256, 256, 14, 3, 16), (8, 64, 64, 32, 3, 16), (32, 16, 16, 32, 3, 4),
    (1, 192, 64, 32, 1, 4), (8, 448, 64, 16, 1, 8), (1, 240, 16, 32, 1, 16), (1, 960, 64, 8, 1, 16),
    (1, 64, 64, 32, 3, 64), (1, 128, 128, 56, 3, 128), (32, 16, 16, 32, 3, 16),
]
FACTOR_GRID = [round(0.25 * 2 ** (i / 12), 4) for i in range(49)]  # 0.25 to 4, 6% apart
PASSES_GRID = [1 + i / 8 for i in range(41)]  # 1 to 6
EXPONENT_GRID = [0.0, 0.25, 0.5, 0.75, 1.0, 1.5]  # of the grouped K x K curve in NHWC (0: none)
HEADROOM = 4.0  # the peak is raised this much while fitting, so no factor is capped at the peak


def _log_error(device: Device, samples: list[ConvSample]) -> float:
    return statistics.fmean(abs(math.log(kernel_time(device, s.work, "fp32", "nhwc").seconds / s.seconds))
                            for s in samples)


def scaled_peak(device: Device, scale: float, note: str = "") -> Device:
    """The same NCHW predictions with a peak `scale` times higher: efficiencies divided, the fixed time's
    FLOPs (half_work) multiplied."""
    peak = device.peak_flops["fp32"]
    return replace(device, peak_flops={**device.peak_flops, "fp32": Value(peak.value * scale, peak.source + note)},
                   efficiency={c: Value(v.value / scale, v.source) for c, v in device.efficiency.items()},
                   half_work=Value(device.half_work.value * scale, device.half_work.source)
                   if device.half_work is not None else None)


def fit_channels_last(device: Device, samples: list[ConvSample], threads: int) -> Device:
    """`device` with channels-last factors per convolution class, the grouped curve's exponent and the weight
    passes, fitted to `samples` (NHWC timings). Where a class's NHWC rate beats the profile's peak, the peak is
    raised to it (and every efficiency lowered alike), so NCHW predictions do not move."""
    classes = sorted({s.kclass for s in samples})
    roomy = scaled_peak(device, HEADROOM)
    best = None
    for passes in PASSES_GRID:
        base = replace(roomy, channels_last_weight_passes=Value(passes, ""))
        factors, exponent, score = {}, 0.0, 0.0
        for c in classes:
            mine = [s for s in samples if s.kclass == c]
            exponents = EXPONENT_GRID if c == "grouped" and device.group_channels is not None else [0.0]
            error, factors[c], e = min(
                (_log_error(replace(base, channels_last={c: Value(f, "")},
                                    channels_last_group_exponent=Value(e, "") if e else None), mine), f, e)
                for f in FACTOR_GRID for e in exponents)
            exponent = e if c == "grouped" else exponent
            score += error * len(mine)
        if best is None or score < best[0]:
            best = (score, passes, factors, exponent)
    score, passes, factors, exponent = best
    top = max(1.0, *(device.efficiency[c].value * f for c, f in factors.items()))
    source = (f"fitted: {len(samples)} torch conv2d timings in channels-last ({threads} threads, the median over "
              f"3 passes), against the NCHW rates")
    fitted = scaled_peak(device, top, f"; raised {top:.3f}x to the fastest class's channels-last rate, every "
                                      f"efficiency lowered alike") if top > 1.0 else device
    return replace(fitted, channels_last={c: Value(f, source) for c, f in factors.items()},
                   channels_last_weight_passes=Value(passes, source),
                   channels_last_group_exponent=Value(exponent, source) if exponent else None,
                   measured={**device.measured, "channels_last_fit_error": round(score / len(samples), 3),
                             "channels_last": [{"shape": s.label(), "class": s.kclass,
                                                "seconds": float(f"{s.seconds:.4g}")} for s in samples]})
