"""Measured time of a network's variants on this machine, as PyTorch modules (the time model's cross-check).

`measure(arch, P, ...)` builds each variant with `hetcalc.measure.torch`, times forward passes under
torch.inference_mode (warm-up, then rounds interleaved across the variants so that drift on a shared
machine hits them all alike) and returns per-variant medians. With a device profile it puts hetcalc's
predicted time beside each, with the error. torch is imported inside the functions only.
"""

from __future__ import annotations

import math
import os
import statistics
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Callable, Iterable

from hetcalc.convtypes import CONV_TYPES
from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.core.keywords import checked_keywords
from hetcalc.core.optional import require_torch
from hetcalc.analysis.api import analyze
from hetcalc.convtypes.parts import parse_part
from hetcalc.analysis.options import parse_variants
from hetcalc.measure.bench import Interleaved
from hetcalc.timing.fusion import check_mode
from hetcalc.timing.layout import check_layout

DEFAULT_ROUNDS = 10
DEFAULT_WARMUP = 2


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
    layout: str = "nchw"  # of the modules and input timed, and of the predictions
    device_channels_last: bool = False  # whether the profile gives channels-last factors

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


MAX_THREADS = 1024  # as calibrate's --threads: beyond it OpenMP's runtime dies without a word


def _check_count(value: Any, what: str, minimum: int, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise OptionError(f"{what} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise OptionError(f"{what} must be at most {maximum:,}, got {value:,}")
    return value


def _check_batch_fits(batch: int, input_shape, arch: str) -> None:
    """The input batch alone (fp32) must fit in this machine's memory: refused before torch tries."""
    need = 4 * batch * math.prod(input_shape)
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not on every platform
        return
    if need > memory:
        raise OptionError(f"batch {batch:,} of {arch} needs {need / 1e9:,.1f} GB for its fp32 input alone, more "
                          f"than this machine's {memory / 1e9:,.1f} GB of memory")


@dataclass
class _Entry:
    key: str
    result: Any  # VariantResult
    model: Any = None
    passes: int = 1
    samples: list = field(default_factory=list)


@checked_keywords()
def measure(arch: Any, P: Any = 4, G: Any = None, variants: Iterable[str] | str | None = None, *, batch: int = 1,
            threads: int | None = None, rounds: int = DEFAULT_ROUNDS, warmup: int = DEFAULT_WARMUP,
            hetconv_impl: str = "split", device: Any = None, seed: int = 0,
            progress: Callable[[str], None] | None = None, mode: str = "eager", layout: str = "nchw") -> Measurement:
    """Time each variant of `arch` on this machine (CPU, fp32, eval mode, inference_mode).

    P: one HetConv part or several ("2,4,8" or [2, 4, 8]): each is a variant of its own, timed in the same
    interleaved rounds. G: GWC+PWC groups (default: the first P). threads: torch.set_num_threads for the
    run (restored after). rounds: samples per variant, after `warmup` untimed passes. device: a device
    profile (name or path) whose predicted times go beside the measured ones. progress: called with a short
    status line as the run goes. Standard is always timed: speedups are against it. mode: only "eager" (the
    modules run eagerly; compiled time is predicted by analyze(mode="compiled")). layout: "nchw", or "nhwc"
    (modules and input channels-last, predicted in NHWC).
    """
    if check_mode(mode) != "eager":
        raise OptionError(f"measure times eager PyTorch modules: mode {mode!r} cannot apply (predict compiled "
                          "time with analyze or `hetcalc ARCH --device NAME --mode compiled`)")
    layout = check_layout(layout)
    batch = _check_count(batch, "batch", 1)
    rounds = _check_count(rounds, "rounds", 1)
    warmup = _check_count(warmup, "warmup", 0)
    if threads is not None:
        threads = _check_count(threads, "threads", 1, MAX_THREADS)
    keys = parse_variants(variants)
    parts = _parts(P)
    torch = require_torch("hetcalc measure")
    from hetcalc.measure.torch import HETCONV_IMPLS

    if hetconv_impl not in HETCONV_IMPLS:
        raise OptionError(f"HetConv realization must be one of {', '.join(HETCONV_IMPLS)}, got {hetconv_impl!r}")
    reports = [_report(arch, part, G, keys, device, batch, hetconv_impl, layout) for part in parts]
    report = reports[0]
    _check_batch_fits(batch, report.input, report.architecture)
    entries = _entries(reports, keys, parts)
    _build_models(entries, report, parts[0], hetconv_impl, batch)
    load = _load_average()
    used_threads = _time_models(torch, entries, report, batch, threads=threads, rounds=rounds, warmup=warmup,
                                seed=seed, progress=progress, layout=layout)
    timings = _timings(entries, report)
    _warn_threads(getattr(report, "device", None), used_threads)
    chosen = tuple(t for t in timings if t.key != "standard" or "standard" in keys)
    profile = getattr(report, "device", None)
    return Measurement(architecture=report.architecture, title=report.title, input=report.input,
                       batch=batch, threads=used_threads, rounds=rounds, warmup=warmup, hetconv_impl=hetconv_impl,
                       torch_version=str(torch.__version__).split("+")[0], variants=chosen,
                       device=getattr(profile, "name", None), device_title=getattr(profile, "title", None),
                       cpus=os.cpu_count(), load_average=load, baseline=timings[0], layout=layout,
                       device_channels_last=bool(getattr(profile, "channels_last", None)))


def _entries(reports, keys: list[str], parts: list[Any]) -> list[_Entry]:
    """What is timed: standard first, then each chosen variant (HetConv once per P)."""
    entries = [_Entry("standard", reports[0].standard)]
    for key in keys:
        option = CONV_TYPES[key].part
        if option == "P":  # the part --P lists: timed once per value
            entries += [_Entry(f"{key}:{part}", r.variant(key)) for part, r in zip(parts, reports)]
        elif key != "standard":
            v = reports[0].variant(key)
            entries.append(_Entry(key + (f":{v.part}" if option else ""), v))
    return entries


def _build_models(entries: list[_Entry], report, first_part: Any, hetconv_impl: str, batch: int) -> None:
    from hetcalc.measure.torch import build

    for entry in entries:
        v = entry.result
        try:
            option = CONV_TYPES[v.variant].part
            entry.model = build(report.network, v.variant, P=v.P if option == "P" else first_part,
                                G=v.G if option == "G" else None, hetconv_impl=hetconv_impl)
        except (RuntimeError, MemoryError) as exc:
            raise _torch_failure("build", v.label, report.architecture, batch, exc) from None


def _time_models(torch, entries: list[_Entry], report, batch: int, *, threads: int | None, rounds: int,
                 warmup: int, seed: int, progress: Callable[[str], None] | None, layout: str = "nchw") -> int:
    """Time every entry's model on one random batch in interleaved rounds (channels-last in NHWC); return the
    threads used."""
    previous_threads = torch.get_num_threads()
    torch.set_flush_denormal(True)  # denormal activations would time the FPU's slow path, not the model
    say = progress or (lambda text: None)
    bench = None
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        used_threads = torch.get_num_threads()
        x = torch.randn(batch, *report.input, generator=torch.Generator().manual_seed(seed))
        if layout == "nhwc":
            x = x.contiguous(memory_format=torch.channels_last)
            for entry in entries:
                entry.model.to(memory_format=torch.channels_last)
        bench = Interleaved([partial(entry.model, x) for entry in entries])
        with torch.inference_mode():
            bench.warm_up(warmup, lambda i: say(f"warm-up {entries[i].result.label} ({i + 1}/{len(entries)})"))
            bench.run(rounds, lambda r: say(f"round {r + 1}/{rounds}"))
    except (RuntimeError, MemoryError) as exc:  # out of memory, mostly: one line, not a traceback
        failed = entries[bench.current if bench else 0]
        raise _torch_failure("run", failed.result.label, report.architecture, batch, exc) from None
    finally:
        torch.set_num_threads(previous_threads)
        torch.set_flush_denormal(False)  # PyTorch's default (it has no getter to restore from)
    for entry, passes, samples in zip(entries, bench.calls, bench.samples):
        entry.passes, entry.samples = passes, samples
    return used_threads


def local_profile() -> str | None:
    """'local' when `hetcalc calibrate` has saved this machine's profile, else None."""
    from hetcalc.timing.devices import config_dir

    return "local" if (config_dir() / "local.yaml").is_file() else None


def _report(arch, part, G, keys, device, batch, hetconv_impl, layout="nchw"):
    """hetcalc's analysis of one P: FLOPs always, predicted times with a device profile."""
    if device is None:
        return analyze(arch, P=part, G=G, variants=keys)
    # fused runs as masked here (PyTorch has no fused HetConv kernel): predict what runs
    return analyze(arch, P=part, G=G, variants=keys, device=device, dtype="fp32", batch=batch,
                   hetconv_impl="masked" if hetconv_impl == "fused" else hetconv_impl, layout=layout)


def _warn_threads(profile, threads: int) -> None:
    """A warning when the device profile was calibrated with another thread count than this run used."""
    if profile is None:
        return
    import warnings

    from hetcalc.timing.provenance import ProfileWarning, thread_mismatch

    text = thread_mismatch(profile, threads)
    if text:
        warnings.warn(text, ProfileWarning, stacklevel=3)


def _load_average() -> float | None:
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):  # not on Windows
        return None


def _torch_failure(what: str, label: str, arch: str, batch: int, exc: BaseException) -> HetcalcError:
    """A PyTorch failure (out of memory, mostly) as one line."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return HetcalcError(f"PyTorch could not {what} {label} of {arch} at batch {batch}: {reason}")


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
