"""Measured time of a network's variants on this machine, as PyTorch modules (the time model's cross-check).

`measure(arch, P, ...)` builds each variant with `hetcalc.measure.torch`, times forward passes under
torch.inference_mode (warm-up, then rounds interleaved across the variants so that drift on a shared
machine hits them all alike) and returns per-variant medians. With a device profile it puts hetcalc's
predicted time beside each, with the error. torch is imported inside the functions only.
"""

from __future__ import annotations

import gc
import math
import os
import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.core.optional import require_torch
from hetcalc.analysis.report import analyze, parse_part, parse_variants

DEFAULT_ROUNDS = 10
DEFAULT_WARMUP = 2
MIN_SAMPLE_S = 0.02  # a sample repeats a fast forward pass until it lasts this long: the timer's noise stays small
MAX_PASSES = 10_000


@dataclass(frozen=True)
class VariantTiming:
    """One variant's measured time per forward pass of the batch, beside its FLOPs (and predicted time)."""

    key: str  # "standard", "hetconv:4", "gwc_pwc:4", "dwc_pwc": unique within a measurement
    variant: str
    label: str
    P: Any
    G: Any
    flops: int
    params: int
    samples_s: tuple[float, ...]  # seconds per forward pass, one per round
    passes: int  # forward passes timed together in each sample
    median_s: float
    q1_s: float
    q3_s: float
    speedup: float | None  # measured: standard's median / this median
    flops_speedup: float  # standard's FLOPs / this variant's (eq. 9)
    predicted_s: float | None = None  # hetcalc's time model, with a device profile
    predicted_speedup: float | None = None
    error: float | None = None  # predicted / measured - 1
    speedup_error: float | None = None  # predicted speedup / measured speedup - 1

    @property
    def spread(self) -> float:
        """Interquartile range over the median: how much the rounds disagree."""
        return (self.q3_s - self.q1_s) / self.median_s if self.median_s else 0.0

    def to_dict(self) -> dict:
        data = dict(self.__dict__)
        data["samples_s"] = list(self.samples_s)
        data["spread"] = self.spread
        return data


@dataclass(frozen=True)
class Measurement:
    """Measured times of a network's variants on this machine."""

    architecture: str
    title: str
    input: tuple[int, int, int]
    batch: int
    threads: int
    rounds: int
    warmup: int
    hetconv_impl: str
    torch_version: str
    variants: tuple[VariantTiming, ...]
    device: str | None = None  # the profile predictions come from
    device_title: str | None = None
    dtype: str = "fp32"
    cpus: int | None = None  # os.cpu_count()
    load_average: float | None = None  # the 1-minute load average as the run started (None where unknown)
    baseline: VariantTiming | None = field(default=None, repr=False)  # standard, even when not chosen

    def variant(self, key: str) -> VariantTiming:
        """A variant by key: "standard", "hetconv" (the only or first P), "hetconv:8", "gwc_pwc", "dwc_pwc"."""
        for v in self.variants:
            if v.key == key or v.variant == key:
                return v
        if key == "standard" and self.baseline is not None:
            return self.baseline
        raise KeyError(key)

    def to_dict(self) -> dict:
        data = {k: v for k, v in self.__dict__.items() if k not in ("variants", "baseline")}
        data["input"] = list(self.input)
        data["variants"] = [v.to_dict() for v in self.variants]
        return data


def _parts(P: Any) -> list[Any]:
    """P as a list: one value, a comma-separated string ("2,4,8") or an iterable."""
    if isinstance(P, str) and "," in P:
        P = [p for p in P.split(",") if p.strip()]
    values = list(P) if isinstance(P, (list, tuple)) else [P]
    if not values:
        raise OptionError("P needs at least one value")
    parts = []
    for value in values:
        part = parse_part(value, "P")
        if part not in parts:
            parts.append(part)
    return parts


def _check_count(value: Any, what: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{what} must be an integer >= {minimum}, got {value!r}")
    return value


@dataclass
class _Entry:
    key: str
    result: Any  # VariantResult
    model: Any = None
    passes: int = 1
    samples: list = field(default_factory=list)


def measure(arch: Any, P: Any = 4, G: Any = None, variants: Iterable[str] | str | None = None, *, batch: int = 1,
            threads: int | None = None, rounds: int = DEFAULT_ROUNDS, warmup: int = DEFAULT_WARMUP,
            hetconv_impl: str = "split", device: Any = None, seed: int = 0,
            progress: Callable[[str], None] | None = None) -> Measurement:
    """Time each variant of `arch` on this machine (CPU, fp32, eval mode, inference_mode).

    P: one HetConv part or several ("2,4,8" or [2, 4, 8]): each is a variant of its own, timed in the same
    interleaved rounds. G: GWC+PWC groups (default: the first P). threads: torch.set_num_threads for the
    run (restored after). rounds: samples per variant, after `warmup` untimed passes. device: a device
    profile (name or path) whose predicted times go beside the measured ones. progress: called with a short
    status line as the run goes. Standard is always timed: speedups are against it.
    """
    batch = _check_count(batch, "batch", 1)
    rounds = _check_count(rounds, "rounds", 1)
    warmup = _check_count(warmup, "warmup", 0)
    if threads is not None:
        threads = _check_count(threads, "threads", 1)
    keys = parse_variants(variants)
    parts = _parts(P)
    torch = require_torch("hetcalc measure")
    from hetcalc.measure.torch import HETCONV_IMPLS, build

    if hetconv_impl not in HETCONV_IMPLS:
        raise OptionError(f"HetConv realization must be one of {', '.join(HETCONV_IMPLS)}, got {hetconv_impl!r}")
    reports = [_report(arch, part, G, keys, device, batch, hetconv_impl) for part in parts]
    entries = [_Entry("standard", reports[0].standard)]
    for key in keys:
        if key == "hetconv":
            entries += [_Entry(f"hetconv:{part}", r.variant("hetconv")) for part, r in zip(parts, reports)]
        elif key != "standard":
            entries.append(_Entry(key + (f":{reports[0].variant(key).G}" if key == "gwc_pwc" else ""),
                                  reports[0].variant(key)))
    for entry in entries:
        v = entry.result
        try:
            entry.model = build(reports[0].network, v.variant, P=v.P if v.variant == "hetconv" else parts[0],
                                G=v.G if v.variant == "gwc_pwc" else None, hetconv_impl=hetconv_impl)
        except (RuntimeError, MemoryError) as exc:
            raise _torch_failure("build", v.label, reports[0].architecture, batch, exc) from None

    previous_threads = torch.get_num_threads()
    load = _load_average()
    torch.set_flush_denormal(True)  # denormal activations would time the FPU's slow path, not the model
    enabled = gc.isenabled()
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        used_threads = torch.get_num_threads()
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, *reports[0].input, generator=generator)
        current = entries[0]
        with torch.inference_mode():
            for i, current in enumerate(entries):
                if progress:
                    progress(f"warm-up {current.result.label} ({i + 1}/{len(entries)})")
                current.passes = _passes(current.model, x, warmup)
            gc.collect()
            gc.disable()
            for r in range(rounds):
                if progress:
                    progress(f"round {r + 1}/{rounds}")
                for k in range(len(entries)):  # a rotating order: no variant always runs first or last
                    current = entries[(k + r) % len(entries)]
                    current.samples.append(_time(current.model, x, current.passes))
    except (RuntimeError, MemoryError) as exc:  # out of memory, mostly: one line, not a traceback
        raise _torch_failure("run", current.result.label, reports[0].architecture, batch, exc) from None
    finally:
        if enabled:
            gc.enable()
        torch.set_num_threads(previous_threads)
        torch.set_flush_denormal(False)  # PyTorch's default (it has no getter to restore from)
    timings = _timings(entries, reports[0])
    chosen = tuple(t for t in timings if t.key != "standard" or "standard" in keys)
    profile = getattr(reports[0], "device", None)
    return Measurement(architecture=reports[0].architecture, title=reports[0].title, input=reports[0].input,
                       batch=batch, threads=used_threads, rounds=rounds, warmup=warmup, hetconv_impl=hetconv_impl,
                       torch_version=str(torch.__version__).split("+")[0], variants=chosen,
                       device=getattr(profile, "name", None), device_title=getattr(profile, "title", None),
                       cpus=os.cpu_count(), load_average=load, baseline=timings[0])


def local_profile() -> str | None:
    """'local' when `hetcalc calibrate` has saved this machine's profile, else None."""
    from hetcalc.timing.devices import config_dir

    return "local" if (config_dir() / "local.yaml").is_file() else None


def _report(arch, part, G, keys, device, batch, hetconv_impl):
    """hetcalc's analysis of one P: FLOPs always, predicted times with a device profile."""
    if device is None:
        return analyze(arch, P=part, G=G, variants=keys)
    # fused runs as masked here (PyTorch has no fused HetConv kernel): predict what runs
    return analyze(arch, P=part, G=G, variants=keys, device=device, dtype="fp32", batch=batch,
                   hetconv_impl="masked" if hetconv_impl == "fused" else hetconv_impl)


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return None


def _torch_failure(what: str, label: str, arch: str, batch: int, exc: BaseException) -> HetcalcError:
    """A PyTorch failure (out of memory, mostly) as one line."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return HetcalcError(f"PyTorch could not {what} {label} of {arch} at batch {batch}: {reason}")


def _passes(model, x, warmup: int) -> int:
    """Run the warm-up passes, and return how many passes make one sample last MIN_SAMPLE_S."""
    elapsed = None
    for _ in range(max(warmup, 1)):
        start = time.perf_counter()
        model(x)
        elapsed = time.perf_counter() - start
    return max(1, min(MAX_PASSES, math.ceil(MIN_SAMPLE_S / max(elapsed, 1e-9))))


def _time(model, x, passes: int) -> float:
    """Seconds per forward pass, over `passes` passes timed together."""
    start = time.perf_counter()
    for _ in range(passes):
        model(x)
    return (time.perf_counter() - start) / passes


def _quartiles(samples: list[float]) -> tuple[float, float, float]:
    if len(samples) == 1:
        return samples[0], samples[0], samples[0]
    q1, median, q3 = statistics.quantiles(samples, n=4, method="inclusive")
    return q1, statistics.median(samples), q3


def _timings(entries, report) -> list[VariantTiming]:
    std_flops = report.standard.flops
    out: list[VariantTiming] = []
    std_median = None
    for entry in entries:
        v = entry.result
        q1, median, q3 = _quartiles(entry.samples)
        if std_median is None:
            std_median = median
        speedup = std_median / median if median else None
        predicted = getattr(v, "time_s", None)
        predicted_speedup = getattr(v, "time_speedup", None)  # std_pred / predicted, as the report has it
        out.append(VariantTiming(
            key=entry.key, variant=v.variant, label=v.label, P=v.P, G=v.G, flops=v.flops, params=v.params,
            samples_s=tuple(entry.samples), passes=entry.passes, median_s=median, q1_s=q1, q3_s=q3,
            speedup=speedup, flops_speedup=std_flops / v.flops if v.flops else float("inf"),
            predicted_s=predicted, predicted_speedup=predicted_speedup,
            error=predicted / median - 1 if predicted is not None and median else None,
            speedup_error=(predicted_speedup / speedup - 1 if predicted_speedup is not None and speedup
                           else None)))
    return out
