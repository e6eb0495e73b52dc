"""The calibration's own uncertainty: how far the profiles fitted to each timing pass alone disagree.

calibrate times the convolutions, the element-wise kernels and the page faults in CONV_PASSES passes, apart in
time, and fits the profile to the median over the passes. Each pass alone gives a profile of its own; their predictions for a fixed set of networks
(calibrate's check network and two built-ins, every variant, batch 1 and 8) differ by what the timings' noise
moves. The profile records the median and the largest spread (largest / smallest prediction - 1) over those
points: a second calibration on the same quiet machine is expected to land within about that of this one.
"""

from __future__ import annotations

import statistics
from dataclasses import replace

from hetcalc.analysis.api import analyze
from hetcalc.measure.calibrate.fit import ConvFit
from hetcalc.measure.calibrate.steps import DispatchFit
from hetcalc.timing.devices import Device, Value

SPREAD_NETWORKS = ("calibration-check", "resnet56", "vgg16")
SPREAD_BATCHES = (1, 8)


def spread_points(devices: list[Device], networks: dict[str, object]) -> list[float]:
    """Per (network, batch, variant): largest over smallest predicted time among `devices`, less 1."""
    points = []
    for network in networks.values():
        for batch in SPREAD_BATCHES:
            times = [[v.time_s for v in analyze(network, P=4, variants="all", device=d, batch=batch).variants]
                     for d in devices]
            points += [max(ts) / min(ts) - 1 for ts in zip(*times) if min(ts) > 0]
    return points


def uncertainty(devices: list[Device], networks: dict[str, object]) -> dict:
    """The `measured.uncertainty` record of a profile whose passes gave `devices`."""
    points = spread_points(devices, networks)
    return {"passes": len(devices), "median_spread": round(statistics.median(points), 4),
            "largest_spread": round(max(points), 4), "points": len(points),
            "meaning": "predictions of the profiles fitted to each convolution timing pass alone, largest / "
                       "smallest - 1, over calibrate's check network, ResNet-56 and VGG-16 (every variant, "
                       "batch 1 and 8); the profile itself fits the median over the passes"}


def pass_profile(device: Device, efficiency: dict[str, Value], fit: ConvFit, dispatch: DispatchFit,
                 page_fault: Value) -> Device:
    """`device` with one pass's measurements and fitted convolution parameters in place of the combined ones."""
    source = "fitted: one timing pass alone (for the calibration's uncertainty)"
    pointwise = fit.pointwise_channels > 1
    return replace(device, efficiency=efficiency, kernel_overhead=dispatch.kernel_overhead,
                   memory_bandwidth=dispatch.memory_bandwidth, op_overhead=dispatch.op_overhead,
                   pool_bandwidth=dispatch.pool_bandwidth, gather_bandwidth=dispatch.gather_bandwidth,
                   cache_bandwidth=dispatch.cache_bandwidth if device.cache_bandwidth is not None else None,
                   page_fault=page_fault, peak_flops={**device.peak_flops, "fp32": Value(fit.peak, source)},
                   half_work=Value(fit.half_work, source) if fit.half_work > 0 else None,
                   group_channels=Value(fit.group_channels, source), group_exponent=Value(fit.group_exponent, source),
                   pointwise_group_channels=Value(fit.pointwise_channels, source) if pointwise else None,
                   pointwise_group_exponent=Value(fit.pointwise_exponent, source) if pointwise else None,
                   weight_passes=Value(fit.weight_passes, source))
