"""The time model's convolution parameters fitted to calibrate's timings (docs/time-model.md).

Model: t = overhead + max(flops / (peak * eff * g) + half_work / peak, memory), with
g = min(1, channels per group / group_channels) ** group_exponent for grouped K x K kernels and
memory = activation bytes / (cache or memory bandwidth) + weight_passes * weight bytes / memory bandwidth.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterator

from hetcalc.measure.calibrate.steps import CONV_PASSES, CONV_ROUNDS, LINEAR_SHAPES, ConvSample
from hetcalc.timing.devices import Value

GROUP_CHANNEL_GRID = [2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
GROUP_EXPONENT_GRID = [0.75, 1.0, 1.5, 2.0]
POINTWISE_CHANNEL_GRID = [1, 2, 4, 8, 16, 32]  # 1: no slowdown (a grouped 1 x 1 has at least one channel)
HUBER = 0.05  # relative residual beyond which a timing's weight falls (iteratively reweighted least squares)
IRLS_STEPS = 4


@dataclass(frozen=True)
class GridPoint:
    group_channels: int
    group_exponent: float
    pointwise_channels: int = 1
    pointwise_exponent: float = 1.0


@dataclass(frozen=True)
class ConvFit:
    """The fitted parameters, each class's rate (FLOP/s) and each sample's relative error."""

    group_channels: int
    group_exponent: float
    half_work: float
    pointwise_channels: int
    pointwise_exponent: float
    weight_passes: float
    peak: float
    rates: dict[str, float]
    median_error: float
    errors: list[float]


def weight_passes(samples: list[ConvSample], overhead: float, peak: float, memory_bw: float) -> float:
    """Passes over the weights from main memory, read off the convolutions their weights bound: weights at
    least 4 times their activations, and FLOPs that would take under a quarter of the time at `peak`.
    The median over them of (t - overhead) * bandwidth / weight bytes; 1 when there are none."""
    bound = [s for s in samples if s.weight_bytes >= 4 * s.activation_bytes and s.flops / peak < 0.25 * s.seconds]
    if not bound:
        return 1.0
    return max(1.0, statistics.median((s.seconds - overhead) * memory_bw / s.weight_bytes for s in bound))


def curve(channels: list[int]) -> Iterator[tuple[int, float]]:
    for gc in channels:
        for exponent in GROUP_EXPONENT_GRID if gc > 2 else [1.0]:
            yield gc, exponent


def grid() -> Iterator[GridPoint]:
    """Every (group_channels, group_exponent); then, at the best of them, every pointwise curve (`fit_convs`)."""
    for gc, exponent in curve(GROUP_CHANNEL_GRID):
        yield GridPoint(gc, exponent)


def group_factor(point: GridPoint, s: ConvSample) -> float:
    """g: a grouped kernel's slowdown below its curve's channels per group (1 for other classes)."""
    if s.kclass == "grouped":
        return min(1.0, s.channels_per_group / point.group_channels) ** point.group_exponent
    if s.kclass == "grouped_pointwise":
        return min(1.0, s.channels_per_group / point.pointwise_channels) ** point.pointwise_exponent
    return 1.0


def rates_at(point: GridPoint, samples: list[ConvSample], memory: list[float],
             overhead: float) -> tuple[float, dict[str, float]]:
    """The fixed time of a convolution and each class's rate at a grid point, by least squares on relative
    error: t = overhead + fixed + flops / g / rate[class] over the timings the memory term does not bound
    (a class whose timings it bounds all keeps them all). One fixed time for every class, so that it cannot
    trade against one class's rate; reweighted (Huber, HUBER) so that a disturbed timing pulls little.
    A negative fixed time is refitted as 0."""
    import numpy as np

    classes = sorted({s.kclass for s in samples})
    free = {c for c in classes if not any(s.kclass == c and m < 0.5 * (s.seconds - overhead)
                                          for s, m in zip(samples, memory))}
    used = [(s, group_factor(point, s)) for s, m in zip(samples, memory)
            if s.kclass in free or m < 0.5 * (s.seconds - overhead)]
    rows = np.zeros((len(used), 1 + len(classes)))
    target = np.empty(len(used))
    for i, (s, g) in enumerate(used):
        rows[i, 0] = 1 / s.seconds
        rows[i, 1 + classes.index(s.kclass)] = s.flops / g / s.seconds
        target[i] = 1 - overhead / s.seconds
    for fixed_free in (True, False):
        a = rows if fixed_free else rows[:, 1:]
        weights = np.ones(len(used))
        for _ in range(IRLS_STEPS):
            x = np.linalg.lstsq(a * weights[:, None], target * weights, rcond=None)[0]
            residual = np.abs(a @ x - target)
            weights = np.sqrt(1 / np.maximum(residual / HUBER, 1))
        if not fixed_free or x[0] >= 0:
            break
    fixed, inverse = (float(x[0]), x[1:]) if fixed_free else (0.0, x)
    top = max(s.flops / (s.seconds * 0.05) for s, _ in used)  # no rate beyond 20x the fastest timing's
    return fixed, {c: float(1 / inv) if inv > 1 / top else top for c, inv in zip(classes, inverse)}


def fit_convs(samples: list[ConvSample], overhead: float, peak: float, memory_bw: float,
              cache_bw: float | None, cache: int | None) -> ConvFit:
    """Fit half_work, weight_passes, group_channels, group_exponent and each class's rate.

    weight_passes comes from the samples their weights bound (`weight_passes`); then at each grid point of
    (group_channels, group_exponent) the fixed time and each class's rate are `rates_at`, and the point with
    the smallest median relative error over all samples wins (ties: the mean), preferring rates where no
    grouped class runs faster than the dense ones.
    """
    def act_bw(s):
        return cache_bw if cache and cache_bw and s.activation_bytes <= cache else memory_bw

    passes = weight_passes(samples, overhead, peak, memory_bw)
    memory = [s.activation_bytes / act_bw(s) + passes * s.weight_bytes / memory_bw for s in samples]
    best = None
    points = list(grid())
    for stage in range(2):  # the K x K curve with no pointwise slowdown; then the pointwise curve at the best
        if stage:
            kxk = best[1]
            points = [GridPoint(kxk.group_channels, kxk.group_exponent, pc, pe)
                      for pc, pe in curve(POINTWISE_CHANNEL_GRID) if pc > 1]
        best = _best_point(points, samples, memory, overhead, peak, best)
    score, point, fixed, rates, errors, _ = best
    top = max(peak, *rates.values())
    return ConvFit(group_channels=point.group_channels, group_exponent=point.group_exponent,
                   half_work=fixed * top, pointwise_channels=point.pointwise_channels,
                   pointwise_exponent=point.pointwise_exponent, weight_passes=passes, peak=top, rates=rates,
                   median_error=statistics.median(errors), errors=errors)


def _best_point(points: list[GridPoint], samples: list[ConvSample], memory: list[float], overhead: float,
                peak: float, best: tuple | None) -> tuple:
    """The best of `best` and `points`: (score, point, fixed, rates, errors, physical)."""
    for point in points:
        fixed, rates = rates_at(point, samples, memory, overhead)
        errors, predicted = [], []
        for s, m in zip(samples, memory):
            compute = s.flops / group_factor(point, s) / rates[s.kclass] + fixed
            predicted.append(overhead + max(compute, m))
            errors.append(abs(predicted[-1] - s.seconds) / s.seconds)
        # the mean |log| error: smooth in every sample, so the few timings a curve moves decide between curves
        # (a rounded median is flat in them and flips between passes)
        score = (statistics.fmean(abs(math.log(p / s.seconds)) for p, s in zip(predicted, samples)),
                 statistics.median(errors))
        ceiling = max(peak, *(r for c, r in rates.items() if c not in ("grouped", "grouped_pointwise")))
        physical = all(r <= 1.05 * ceiling for r in rates.values())  # grouped no faster than dense
        if best is None or (not physical, score) < (not best[-1], best[0]):
            best = (score, point, fixed, rates, errors, physical)
    return best


def efficiencies(fit: ConvFit, samples: list[ConvSample], linear: list[float], overhead: float, threads: int,
                 statistic: str) -> dict[str, Value]:
    """Each convolution class's fitted rate over the peak, and the linear layers' best attained rate."""
    eff = {}
    for c, rate in fit.rates.items():
        n = sum(s.kclass == c for s in samples)
        eff[c] = Value(min(rate / fit.peak, 1.0),
                       f"fitted: {n} torch conv2d timings of this class ({threads} threads, the median over "
                       f"{CONV_PASSES} passes of the {statistic} of {CONV_ROUNDS} rounds); median rate over the "
                       f"shapes")
    # FC layers: attained rate of the largest, capped by the weight traffic the time model adds anyway
    fc_rate = max(2 * b * fin * fout / max(t - overhead, 1e-9) for (b, fin, fout), t in zip(LINEAR_SHAPES, linear))
    eff["linear"] = Value(min(fc_rate / fit.peak, 1.0), f"measured: best of {len(linear)} torch linear timings")
    return eff
