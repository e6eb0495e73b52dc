"""Is a fitted profile believable? Bounds that a quiet CPU always meets, so that a profile timed while the
machine was busy (17.7 ms per BatchNorm call, the network factor pinned at its floor, a 49% fit) is refused
instead of saved silently. Each limit is generous: an order of magnitude beyond what a slow, quiet CPU shows."""

from __future__ import annotations

from hetcalc.timing.devices import Device

MAX_FIT_ERROR = 0.25  # the convolution fit's median error (a quiet machine: a few percent)
MAX_CALL_S = 1e-3  # seconds of fixed cost per kernel or op call (a quiet CPU: microseconds)
MIN_BANDWIDTH = 1e8  # bytes/s from memory (any CPU of the last twenty years: gigabytes per second)
MAX_PASS_SPREAD = 0.10  # the timing passes' own fits predicting this far apart (median): a quiet machine, ~1-3%
NETWORK_RATIO = (0.5, 3.0)  # the whole-network check's measured / predicted: outside, the kernels do not explain it


def implausible(device: Device) -> list[str]:
    """Why `device`, just calibrated, cannot be trusted (empty when every value is plausible)."""
    reasons = []
    fit = device.measured.get("conv_fit_median_error")
    if isinstance(fit, (int, float)) and fit > MAX_FIT_ERROR:
        reasons.append(f"the convolution fit's median error is {fit:.0%} (a quiet machine: under "
                       f"{MAX_FIT_ERROR:.0%})")
    calls = [("kernel_overhead", device.kernel_overhead)] + [(f"op_overhead.{op}", value)
                                                              for op, value in device.op_overhead.items()]
    for label, value in calls:
        if value is not None and value.value > MAX_CALL_S:
            reasons.append(f"{label} is {value.value * 1e3:.1f} ms per call (a quiet CPU: microseconds, under "
                           f"{MAX_CALL_S * 1e3:g} ms)")
    if device.memory_bandwidth.value < MIN_BANDWIDTH:
        reasons.append(f"memory_bandwidth is {device.memory_bandwidth.value / 1e6:.0f} MB/s (under "
                       f"{MIN_BANDWIDTH / 1e6:.0f} MB/s)")
    ratio = device.measured.get("network_ratio")
    low, high = NETWORK_RATIO
    if isinstance(ratio, (int, float)) and not low <= ratio <= high:
        reasons.append(f"the whole-network check ran {ratio:.2f}x the fitted kernels' time (outside {low}-{high}: "
                       f"the kernels timed alone do not explain the network)")
    spread = (device.measured.get("uncertainty") or {}).get("median_spread")
    if isinstance(spread, (int, float)) and spread > MAX_PASS_SPREAD:
        reasons.append(f"the convolution timing passes disagree: fitted alone, they predict {spread:.0%} apart "
                       f"(median; a quiet machine: a few percent, under {MAX_PASS_SPREAD:.0%})")
    return reasons
