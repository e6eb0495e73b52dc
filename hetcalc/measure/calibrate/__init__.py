"""`hetcalc calibrate`: measure this machine and fit a device profile for the time model.

numpy micro-benchmarks give the memory and cache bandwidth and a GEMM rate; with PyTorch installed the
bandwidths, the per-kernel dispatch overhead and every convolution class are timed in torch itself
(torch.nn.functional.conv2d on a few shapes per class), and the model's parameters are fitted to them.
Every value records how it was obtained. Samples are medians of interleaved rounds: the machine may be
shared. numpy and torch are imported here only.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from dataclasses import dataclass
from typing import Callable

from hetcalc.measure.bench import interleaved
from hetcalc.timing.devices import Device, Value
from hetcalc.timing.timemodel import MMAP_THRESHOLD
from hetcalc.timing.traffic import conv_class

ROUNDS = 5
CONV_ROUNDS = 11  # the convolution timings set the model's scale: more rounds than the rest

# (batch, in channels, out channels, map size, kernel, groups): CIFAR- and ImageNet-sized layers
CONV_SHAPES = [
    # dense 3x3
    (1, 16, 16, 32, 3, 1), (1, 64, 64, 32, 3, 1), (1, 128, 128, 16, 3, 1), (1, 256, 256, 8, 3, 1),
    (1, 512, 512, 4, 3, 1), (1, 64, 64, 56, 3, 1), (1, 256, 256, 14, 3, 1), (8, 32, 32, 16, 3, 1),
    (8, 128, 128, 8, 3, 1),
    # pointwise 1x1
    (1, 64, 128, 32, 1, 1), (1, 256, 256, 8, 1, 1), (1, 256, 64, 56, 1, 1), (1, 1024, 256, 14, 1, 1),
    (8, 128, 128, 16, 1, 1),
    # grouped 3x3 at several channels per group (GWC, and HetConv split's first kernel)
    (1, 64, 64, 32, 3, 4), (1, 128, 128, 16, 3, 8), (1, 256, 256, 8, 3, 4), (1, 256, 256, 14, 3, 16),
    (1, 512, 512, 4, 3, 16), (8, 64, 64, 16, 3, 16), (8, 32, 32, 16, 3, 4), (8, 64, 64, 32, 3, 16),
    # grouped 1x1: HetConv split's second kernel, P groups of M - M/P inputs and N/P outputs
    (1, 192, 64, 32, 1, 4), (1, 896, 128, 16, 1, 8), (1, 7680, 512, 4, 1, 16), (8, 48, 32, 16, 1, 2),
    (8, 240, 16, 32, 1, 16), (1, 1536, 256, 14, 1, 8),
    # depthwise 3x3
    (1, 64, 64, 32, 3, 64), (1, 256, 256, 8, 3, 256), (1, 128, 128, 56, 3, 128), (8, 64, 64, 16, 3, 64),
    # large weights on small maps (batch 1, the ends of VGG and ResNet): bound by the weights' traffic
    (1, 512, 512, 2, 3, 1), (1, 256, 512, 4, 3, 1), (1, 1024, 2048, 2, 1, 1), (1, 768, 768, 2, 3, 1),
    (1, 2048, 2048, 1, 1, 1), (1, 2048, 512, 7, 1, 1),
    # a batch of 32 on CIFAR-sized maps with few channels (grouped down to 2 channels per group)
    (32, 16, 16, 32, 3, 1), (32, 16, 16, 32, 1, 1), (32, 16, 16, 32, 3, 4), (32, 32, 32, 16, 3, 16),
    (32, 64, 64, 8, 3, 4), (32, 48, 16, 32, 1, 4), (32, 16, 16, 32, 3, 16),
]
GROUP_CHANNEL_GRID = [2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
GROUP_EXPONENT_GRID = [0.75, 1.0, 1.5, 2.0]


@dataclass(frozen=True)
class ConvSample:
    batch: int
    cin: int
    cout: int
    size: int
    kernel: int
    groups: int
    seconds: float

    @property
    def kclass(self) -> str:
        return conv_class(self.kernel * self.kernel, self.groups, self.cin)

    @property
    def flops(self) -> int:
        return 2 * self.batch * self.cout * (self.cin // self.groups) * self.kernel ** 2 * self.size ** 2

    @property
    def weight_bytes(self) -> int:
        return 4 * self.cout * (self.cin // self.groups) * self.kernel ** 2

    @property
    def activation_bytes(self) -> int:
        return 4 * self.batch * (self.cin + self.cout) * self.size ** 2

    @property
    def channels_per_group(self) -> int:
        return min(self.cin // self.groups, max(self.cout // self.groups, 1))

    def label(self) -> str:
        return f"B{self.batch} {self.cin}->{self.cout} {self.size}x{self.size} k{self.kernel} g{self.groups}"


def cache_size() -> int | None:
    """One core's own cache (the largest data or unified cache not shared with other cores) from sysfs
    (Linux), or None. A shared last-level cache is not relied on: on a busy machine others fill it."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    best = None
    try:
        entries = sorted(e for e in os.listdir(base) if e.startswith("index"))
    except OSError:
        return None
    for entry in entries:
        try:
            with open(os.path.join(base, entry, "type")) as fh:
                if fh.read().strip() == "Instruction":
                    continue
            with open(os.path.join(base, entry, "shared_cpu_list")) as fh:
                shared = fh.read()
                if "," in shared or "-" in shared:  # shared by several cores
                    continue
            with open(os.path.join(base, entry, "size")) as fh:
                text = fh.read().strip()
            scale = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1:], 1)
            value = int(text.rstrip("KMG")) * scale
        except (OSError, ValueError):
            continue
        best = value if best is None or value > best else best
    return best


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "this machine"


FRESH_BYTES = 2 * MMAP_THRESHOLD  # above glibc's largest mmap threshold: mapped afresh on every call


def page_fault_cost(fill_fresh: Callable[[], object], fill_reused: Callable[[], object],
                    statistic: str) -> float:
    """Seconds per 4 KiB page of first touch: filling a fresh FRESH_BYTES tensor against filling one
    allocated once."""
    fresh, reused = interleaved([fill_fresh, fill_reused], ROUNDS, statistic)
    return max(fresh - reused, 0.0) / (FRESH_BYTES // 4096)


FIXED_GRID_S = [0.0, 5e-6, 10e-6, 20e-6, 30e-6, 50e-6, 80e-6, 120e-6, 160e-6, 200e-6, 250e-6, 300e-6,
                400e-6]


def weight_passes(samples: list[ConvSample], overhead: float, peak: float, memory_bw: float) -> float:
    """Passes over the weights from main memory, read off the convolutions their weights bound: weights at
    least 4 times their activations, and FLOPs that would take under a quarter of the time at `peak`.
    The median over them of (t - overhead) * bandwidth / weight bytes; 1 when there are none."""
    bound = [s for s in samples if s.weight_bytes >= 4 * s.activation_bytes and s.flops / peak < 0.25 * s.seconds]
    if not bound:
        return 1.0
    return max(1.0, statistics.median((s.seconds - overhead) * memory_bw / s.weight_bytes for s in bound))


def _fit_convs(samples: list[ConvSample], overhead: float, peak: float, memory_bw: float,
               cache_bw: float | None, cache: int | None) -> dict:
    """Fit half_work, weight_passes, group_channels, group_exponent and each class's efficiency.

    Model (docs/time-model.md): t = overhead + max(flops / (peak * eff * g) + half_work / peak, memory), with
    g = min(1, channels per group / group_channels) ** group_exponent for grouped K x K kernels and
    memory = activation bytes / (cache or memory bandwidth) + weight_passes * weight bytes / memory bandwidth.
    weight_passes comes from the samples their weights bound (`weight_passes`); then for each grid point
    of the others, each class's rate is the median of flops / g / (t - overhead - fixed) over its samples
    that the memory term does not bound (robust to a disturbed sample); the point with the smallest median
    relative error over all samples wins.
    """
    classes = sorted({s.kclass for s in samples})

    def act_bw(s):
        return cache_bw if cache and cache_bw and s.activation_bytes <= cache else memory_bw

    passes = weight_passes(samples, overhead, peak, memory_bw)
    best = None
    memory = [s.activation_bytes / act_bw(s) + passes * s.weight_bytes / memory_bw for s in samples]
    for gc in GROUP_CHANNEL_GRID:
        for exponent in GROUP_EXPONENT_GRID if gc > 2 else [1.0]:
            gs = [min(1.0, s.channels_per_group / gc) ** exponent if s.kclass == "grouped" else 1.0
                  for s in samples]
            for fixed in FIXED_GRID_S:
                rates = {}
                for c in classes:
                    mine = [s.flops / g / max(s.seconds - overhead - fixed, s.seconds * 0.05)
                            for s, g, m in zip(samples, gs, memory)
                            if s.kclass == c and m < 0.5 * (s.seconds - overhead)]
                    if not mine:  # every sample of the class is bound by memory: use them all
                        mine = [s.flops / g / max(s.seconds - overhead - fixed, s.seconds * 0.05)
                                for s, g in zip(samples, gs) if s.kclass == c]
                    rates[c] = statistics.median(mine)
                errors = []
                for s, g, m in zip(samples, gs, memory):
                    compute = s.flops / g / rates[s.kclass] + fixed
                    errors.append(abs(overhead + max(compute, m) - s.seconds) / s.seconds)
                score = (round(statistics.median(errors), 3), statistics.fmean(errors))  # ties: the mean
                ceiling = max(peak, *(rates[c] for c in classes if c not in ("grouped", "grouped_pointwise")))
                physical = all(rates[c] <= 1.05 * ceiling for c in classes)  # grouped no faster than dense
                if best is None or (not physical, score) < (not best[-1], best[0]):
                    best = (score, gc, exponent, fixed, passes, rates, errors, physical)
    score, gc, exponent, fixed, passes, rates, errors, _ = best
    top = max(peak, *rates.values())
    return {"group_channels": gc, "group_exponent": exponent, "half_work": fixed * top, "weight_passes": passes,
            "peak": top, "rates": rates, "median_error": score[0], "errors": errors}


def calibrate(progress: Callable[[str], None] | None = None, use_torch: bool | None = None,
              name: str = "local", threads: int | None = None, statistic: str = "median") -> Device:
    """Measure this machine; return a profile fitted to the measurements (not yet checked end to end)."""
    import numpy as np

    say = progress or (lambda text: None)
    started = time.perf_counter()
    if use_torch is None:
        import importlib.util

        use_torch = importlib.util.find_spec("torch") is not None
    measured: dict = {"machine": cpu_name(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}

    # bandwidth: a large copy (main memory) and a small one that stays in the cache
    say("memory bandwidth (numpy copies)")
    big = np.ones(16 * 1024 * 1024, np.float32)
    big_out = np.empty_like(big)
    small = np.ones(128 * 1024, np.float32)
    small_out = np.empty_like(small)
    t_big, t_small = interleaved([lambda: np.copyto(big_out, big), lambda: np.copyto(small_out, small)], 5, statistic)
    memory_bw = 2 * big.nbytes / t_big
    cache_bw = 2 * small.nbytes / t_small
    bw_source = f"measured: numpy copy of {big.nbytes >> 20} MiB (read + write), {statistic} of 5 rounds"
    cache_source = f"measured: numpy copy of {small.nbytes >> 10} KiB, median of 5 rounds"
    say("GEMM rate (numpy float32 matmul)")
    a = np.ones((768, 768), np.float32)
    (t_mm,) = interleaved([lambda: a @ a], 5, statistic)
    gemm = 2 * 768 ** 3 / t_mm
    llc = cache_size()

    fresh_value = Value(MMAP_THRESHOLD, "glibc: the largest dynamic mmap threshold on 64-bit (larger blocks are "
                                        "mapped afresh on every allocation)")

    if not use_torch:
        say("page faults of large fresh tensors (numpy)")
        reused = np.empty(FRESH_BYTES // 4, np.float32)
        fault = page_fault_cost(lambda: np.empty(FRESH_BYTES // 4, np.float32).fill(1.0),
                                lambda: reused.fill(1.0), statistic)
        fault_value = Value(fault, f"measured: filling a fresh {FRESH_BYTES >> 20} MiB array against a reused "
                                   f"one, per 4 KiB page, {statistic} of {ROUNDS} rounds")
        threads = os.cpu_count() or 1
        overhead = interleaved([lambda: np.add(small[:16], 1.0)], 5, statistic)[0]
        eff = Value(0.5, "assumed: no PyTorch to time convolutions; half the numpy GEMM rate")
        return Device(
            name=name, title=f"{cpu_name()} (calibrated without PyTorch)", kind="cpu", validated=False,
            peak_flops={"fp32": Value(gemm, "measured: numpy float32 matmul 768x768, median of 5 rounds")},
            memory_bandwidth=Value(memory_bw, bw_source),
            kernel_overhead=Value(overhead, "measured: numpy dispatch of a 16-element add; PyTorch's per-op "
                                            "dispatch is several times longer"),
            efficiency={c: eff for c in ("dense", "pointwise", "grouped", "grouped_pointwise", "depthwise",
                                         "linear")},
            cache_bytes=Value(llc, "sysfs: one core's private cache (the shared last level is not relied on)") if llc else None,
            cache_bandwidth=Value(cache_bw, cache_source) if llc else None,
            page_fault=fault_value, fresh_bytes=fresh_value,
            notes="Calibrated on this machine with numpy only; convolution efficiencies are assumptions.",
            measured={**measured, "torch": False, "seconds": round(time.perf_counter() - started, 1)})

    import torch
    import torch.nn.functional as F

    if threads is not None:
        torch.set_num_threads(threads)
    threads = torch.get_num_threads()
    measured.update(torch=str(torch.__version__), threads=int(threads), statistic=statistic)
    with torch.inference_mode():
        say("dispatch overhead and bandwidth (torch element-wise kernels)")
        relu_module = torch.nn.ReLU()
        bn = torch.nn.BatchNorm2d(64).eval()
        tiny = torch.ones(16)
        large, large_out = torch.ones(16 * 1024 * 1024), torch.empty(16 * 1024 * 1024)
        act = torch.randn(1, 64, 32, 32)  # a CIFAR-sized activation, 256 KiB
        # HetConv split's gather at P = 4 on a batch-8 CIFAR map: 3/4 of the channels, four times over
        gather_in = torch.randn(8, 64, 32, 32)
        index = torch.tensor([c for g in range(4) for c in range(64) if not g * 16 <= c < (g + 1) * 16])
        # each op on a 1x64x4x4 activation (4 KiB): its own fixed cost per call; pooling on 1x64x32x32
        small = torch.randn(1, 64, 4, 4)
        small_index = torch.arange(48)
        pool = torch.nn.MaxPool2d(2)
        (t_tiny, t_large, t_bn, t_relu, t_add, t_gather, t_bn_small, t_relu_small, t_add_small, t_gather_small,
         t_pool_small, t_pool) = interleaved(
            [lambda: relu_module(tiny), lambda: torch.clamp_min(large, 0, out=large_out), lambda: bn(act),
             lambda: relu_module(act), lambda: act + act, lambda: gather_in.index_select(1, index),
             lambda: bn(small), lambda: relu_module(small), lambda: small + small,
             lambda: small.index_select(1, small_index), lambda: pool(small), lambda: pool(act)],
            ROUNDS, statistic)
        op_source = (f"measured: the op as a torch module or call on a 1x64x4x4 activation (4 KiB), {threads} "
                     f"threads, {statistic} of {ROUNDS} rounds")
        op_overhead = {op: Value(t, op_source) for op, t in (("bn", t_bn_small), ("act", t_relu_small),
                                                             ("add", t_add_small), ("gather", t_gather_small),
                                                             ("pool", t_pool_small))}
        pool_bytes = act.numel() * 4 * 5 // 4  # a 2 x 2 max pool reads the map and writes a quarter of it
        pool_bw = Value(max(pool_bytes / max(t_pool - t_pool_small, 1e-9), 1.0),
                        f"measured: MaxPool2d(2) on a 1x64x32x32 activation less its 4 KiB time, {statistic} of "
                        f"{ROUNDS} rounds")
        say("page faults of large fresh tensors (torch)")
        reused_t = torch.empty(FRESH_BYTES // 4)
        fault = page_fault_cost(lambda: torch.empty(FRESH_BYTES // 4).fill_(1.0), lambda: reused_t.fill_(1.0),
                                statistic)
        fault_value = Value(fault, f"measured: torch fill_ of a fresh {FRESH_BYTES >> 20} MiB tensor against a "
                                   f"reused one, per 4 KiB page, {threads} threads, {statistic} of {ROUNDS} rounds")
        gather_bytes = 2 * gather_in.shape[0] * len(index) * 32 * 32 * 4
        gather_bw = max(gather_bytes / max(t_gather - t_tiny, 1e-9), 1.0)
        gather_source = (f"measured: index_select of {len(index)} channels from a 8x64x32x32 tensor "
                         f"({gather_bytes >> 20} MiB read + written), {statistic} of {ROUNDS} rounds")
        overhead = t_tiny
        memory_bw = max(2 * large.numel() * 4 / max(t_large - overhead, 1e-9), 1.0)
        act_bytes = act.numel() * 4
        cache_bw = max(statistics.median([2 * act_bytes / max(t_bn - t_bn_small, 1e-9),
                                          2 * act_bytes / max(t_relu - t_relu_small, 1e-9),
                                          3 * act_bytes / max(t_add - t_add_small, 1e-9)]), memory_bw)
        bw_source = (f"measured: torch.clamp_min into a preallocated output over {large.numel() * 4 >> 20} MiB "
                     f"(read + write) less the overhead, {threads} threads, {statistic} of {ROUNDS} rounds")
        cache_source = (f"measured: the median of BatchNorm2d (eval), ReLU and add on a 1x64x32x32 activation "
                        f"({act_bytes >> 10} KiB), bytes read + written less each op's time on 4 KiB")
        overhead_source = (f"measured: an nn.ReLU module called on 16 elements (module call and eager dispatch), "
                           f"{threads} threads, {statistic} of {ROUNDS} rounds")
        say(f"convolutions: {len(CONV_SHAPES)} shapes over 5 kernel classes (torch conv2d)")
        fns = []
        for b, cin, cout, size, k, groups in CONV_SHAPES:
            x = torch.randn(b, cin, size, size)
            w = torch.randn(cout, cin // groups, k, k)
            fns.append(lambda x=x, w=w, k=k, groups=groups: F.conv2d(x, w, padding=k // 2, groups=groups))
        times = interleaved(fns, CONV_ROUNDS, statistic)
        samples = [ConvSample(*shape, t) for shape, t in zip(CONV_SHAPES, times)]
        say("linear layers (torch linear)")
        fc = [(1, 512, 512), (1, 2048, 1000), (32, 512, 512)]
        fc_fns = []
        for b, fin, fout in fc:
            x, w = torch.randn(b, fin), torch.randn(fout, fin)
            fc_fns.append(lambda x=x, w=w: F.linear(x, w))
        fc_times = interleaved(fc_fns, 5, statistic)

    fit = _fit_convs(samples, overhead, gemm, memory_bw, cache_bw, llc)
    peak = fit["peak"]
    rates = fit["rates"]
    n_by = {c: sum(s.kclass == c for s in samples) for c in rates}
    eff = {c: Value(min(rates[c] / peak, 1.0),
                    f"fitted: {n_by[c]} torch conv2d timings of this class ({threads} threads, {statistic} of {CONV_ROUNDS} rounds); "
                    f"median rate over the shapes") for c in rates}
    # FC layers: attained rate of the largest, capped by the weight traffic the time model adds anyway
    fc_rate = max(2 * b * fin * fout / max(t - overhead, 1e-9) for (b, fin, fout), t in zip(fc, fc_times))
    eff["linear"] = Value(min(fc_rate / peak, 1.0), f"measured: best of {len(fc)} torch linear timings")
    measured.update(
        seconds=round(time.perf_counter() - started, 1),
        conv_fit_median_error=round(fit["median_error"], 3),
        convolutions=[{"shape": s.label(), "class": s.kclass, "seconds": float(f"{s.seconds:.4g}"),
                       "fit_error": round(e, 3)} for s, e in zip(samples, fit["errors"])],
        linear=[{"shape": f"B{b} {fin}->{fout}", "seconds": float(f"{t:.4g}")} for (b, fin, fout), t in zip(fc, fc_times)],
        numpy_gemm_flops=float(f"{gemm:.4g}"),
    )
    peak_source = (f"fitted: the highest of numpy float32 matmul 768x768 ({gemm / 1e9:.1f} GFLOP/s) and the "
                   f"convolution classes' fitted rates, {threads} threads (an attained rate, not the hardware peak)")
    device = Device(
        name=name, title=f"{cpu_name()}, {threads} threads (calibrated)", kind="cpu", validated=False,
        peak_flops={"fp32": Value(peak, peak_source)},
        memory_bandwidth=Value(memory_bw, bw_source),
        kernel_overhead=Value(overhead, overhead_source),
        efficiency={c: eff[c] for c in ("dense", "pointwise", "grouped", "grouped_pointwise", "depthwise",
                                        "linear")},
        half_work=Value(fit["half_work"], "fitted: the fixed time of a convolution beyond the dispatch "
                                          "overhead, times the peak (least squares over the conv timings)"),
        group_channels=Value(fit["group_channels"], "fitted: grid search over the grouped conv timings"),
        group_exponent=Value(fit["group_exponent"], "fitted: grid search over the grouped conv timings"),
        weight_passes=Value(fit["weight_passes"], "measured: the median of (t - overhead) x memory bandwidth / "
                                                  "weight bytes over the conv timings their weights bound "
                                                  "(large weights on small maps; the library reorders them on "
                                                  "every call)"),
        gather_bandwidth=Value(gather_bw, gather_source),
        page_fault=fault_value, fresh_bytes=fresh_value, op_overhead=op_overhead, pool_bandwidth=pool_bw,
        cache_bytes=Value(llc, "sysfs: one core's private cache (the shared last level is not relied on)") if llc else None,
        cache_bandwidth=Value(cache_bw, cache_source) if llc else None,
        notes=("Parameters measured on this machine by `hetcalc calibrate` (micro-benchmarks of single kernels, "
               "scaled by a check on one small network). Not validated end to end: benchmarks/time_model.py "
               "compares whole networks against measurement."),
        measured=measured)
    return network_check(device, threads, say)


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


def network_check(device: Device, threads: int, say: Callable[[str], None]) -> Device:
    """Time CHECK_NETWORK whole (standard and DWC+PWC, batch 1 and 8) against the fitted model, and set
    `network_factor` to the median of measured over predicted: kernels in a network run slower than the
    same kernels timed alone (their inputs and weights no longer in cache, module calls between them)."""
    from dataclasses import replace

    from hetcalc.measure.runs import measure
    from hetcalc.network.spec import load_spec_text

    say("whole-network check (calibrate's own small network, batch 1 and 8)")
    started = time.perf_counter()
    network = load_spec_text(CHECK_NETWORK, "calibrate check network")
    ratios, runs = [], []
    for batch in sorted({b for b, _ in CHECK_RUNS}):
        keys = [key for b, key in CHECK_RUNS if b == batch]
        m = measure(network, P=4, variants=",".join(keys), batch=batch, threads=threads, rounds=7, warmup=2,
                    device=device)
        for v in m.variants:
            if v.key.split(":")[0] in keys:
                ratios.append(v.median_s / v.predicted_s)
                runs.append({"batch": batch, "variant": v.key, "measured_s": float(f"{v.median_s:.4g}"),
                             "predicted_s": float(f"{v.predicted_s:.4g}")})
    factor = min(max(statistics.median(ratios), 0.5), 3.0)
    return replace(device, network_factor=Value(
        factor, f"measured: calibrate's check network (not a benchmark network), {len(ratios)} runs, the median "
                f"of measured / predicted time"),
        measured={**device.measured, "network_check": runs,
                  "seconds": round(device.measured.get("seconds", 0) + time.perf_counter() - started, 1)})


def profile_yaml(device: Device) -> str:
    """The profile as YAML text, with a comment saying how it was made."""
    import yaml

    head = ("# Device profile written by `hetcalc calibrate` (schema: docs/time-model.md).\n"
            "# Every value says how it was obtained; re-run calibrate on a quiet machine for steadier numbers.\n")
    return head + yaml.safe_dump(device.to_dict(), sort_keys=False, width=110, allow_unicode=True)
