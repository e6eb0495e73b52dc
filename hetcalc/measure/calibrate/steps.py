"""The measurements calibrate takes: numpy copies and a matrix product; with PyTorch, element-wise kernels,
page faults, convolutions of every class and linear layers. Each step returns numbers (or `Value`s that say
how they were measured); `fit.py` turns the convolution timings into the model's parameters.

Every timing is `hetcalc.measure.bench.interleaved`: medians (or the fastest) of interleaved rounds, as
`hetcalc measure` times networks. numpy and torch are imported inside the steps only.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Callable

from hetcalc.measure.bench import interleaved
from hetcalc.measure.calibrate.probe import CACHE_SOURCE, cpu_name
from hetcalc.timing.devices import Device, Value
from hetcalc.timing.timemodel import MMAP_THRESHOLD
from hetcalc.timing.traffic import CONV_CLASSES, DTYPE_BYTES, Kernel, conv_kernel

ROUNDS = 5
CONV_ROUNDS = 7  # rounds per pass of the convolution timings
CONV_PASSES = 3  # the convolutions are timed in this many passes, apart in time (calibrate's steps between them):
# a slowdown of the machine lasting seconds (another tenant, a helper on the other core) spoils one pass, not
# the median over passes; the passes' own fits are the calibration's uncertainty (calibrate/spread.py)
ELEMENTWISE_PASSES = 3  # element-wise probes: median of this many back-to-back runs

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
    (1, 32, 32, 16, 3, 16), (1, 64, 64, 16, 3, 16),
    # grouped 1x1: HetConv split's second kernel, P groups of M - M/P inputs and N/P outputs
    (1, 192, 64, 32, 1, 4), (1, 896, 128, 16, 1, 8), (1, 7680, 512, 4, 1, 16), (8, 48, 32, 16, 1, 2),
    (8, 240, 16, 32, 1, 16), (1, 1536, 256, 14, 1, 8), (8, 448, 64, 16, 1, 8), (8, 960, 64, 16, 1, 16),
    # ... with few outputs per group (HetConv split at P = 8, 16) on maps that stay in the cache, so that the
    # compute term, not the memory term, shows how they slow down
    (1, 240, 16, 32, 1, 16), (1, 96, 32, 32, 1, 16), (1, 960, 64, 8, 1, 16), (1, 448, 64, 16, 1, 8),
    # depthwise 3x3
    (1, 64, 64, 32, 3, 64), (1, 256, 256, 8, 3, 256), (1, 128, 128, 56, 3, 128), (8, 64, 64, 16, 3, 64),
    # large weights on small maps (batch 1, the ends of VGG and ResNet): bound by the weights' traffic
    (1, 512, 512, 2, 3, 1), (1, 256, 512, 4, 3, 1), (1, 1024, 2048, 2, 1, 1), (1, 768, 768, 2, 3, 1),
    (1, 2048, 2048, 1, 1, 1), (1, 2048, 512, 7, 1, 1),
    # a batch of 32 on CIFAR-sized maps with few channels (grouped down to 2 channels per group)
    (32, 16, 16, 32, 3, 1), (32, 16, 16, 32, 1, 1), (32, 16, 16, 32, 3, 4), (32, 32, 32, 16, 3, 16),
    (32, 64, 64, 8, 3, 4), (32, 48, 16, 32, 1, 4), (32, 16, 16, 32, 3, 16),
]
LINEAR_SHAPES = [(1, 512, 512), (1, 2048, 1000), (32, 512, 512)]  # (batch, in features, out features)

FRESH_BYTES = 2 * MMAP_THRESHOLD  # above glibc's largest mmap threshold: mapped afresh on every call
FRESH = Value(MMAP_THRESHOLD, "glibc: the largest dynamic mmap threshold on 64-bit (larger blocks are mapped "
                              "afresh on every allocation)")


@dataclass(frozen=True)
class ConvSample:
    """One timed convolution (stride 1, same padding, fp32) and its seconds per call."""

    batch: int
    cin: int
    cout: int
    size: int
    kernel: int
    groups: int
    seconds: float

    @cached_property
    def work(self) -> Kernel:
        """The convolution as the time model sees it: its FLOPs, bytes and class (`timing.traffic`)."""
        area = self.size ** 2
        return conv_kernel(M=self.cin, N=self.cout, k_area=self.kernel ** 2, groups=self.groups, in_area=area,
                           out_area=area, bias=False, batch=self.batch, size=DTYPE_BYTES["fp32"])

    @property
    def kclass(self) -> str:
        return self.work.kclass

    @property
    def flops(self) -> int:
        return self.work.flops

    @property
    def weight_bytes(self) -> int:
        return self.work.weight_bytes

    @property
    def activation_bytes(self) -> int:
        return self.work.activation_bytes

    @property
    def channels_per_group(self) -> int:
        return self.work.channels_per_group

    def label(self) -> str:
        return f"B{self.batch} {self.cin}->{self.cout} {self.size}x{self.size} k{self.kernel} g{self.groups}"


def page_fault_cost(fill_fresh: Callable[[], object], fill_reused: Callable[[], object],
                    statistic: str) -> float:
    """Seconds per 4 KiB page of first touch: filling a fresh FRESH_BYTES tensor against filling one
    allocated once."""
    fresh, reused = interleaved([fill_fresh, fill_reused], ROUNDS, statistic)
    return max(fresh - reused, 0.0) / (FRESH_BYTES // 4096)


# --------------------------------------------------------------------------- numpy

def numpy_bandwidth(statistic: str) -> tuple[Value, Value]:
    """Main memory and cache bandwidth: a large numpy copy, and a small one that stays in the cache."""
    import numpy as np

    big = np.ones(16 * 1024 * 1024, np.float32)
    big_out = np.empty_like(big)
    small = np.ones(128 * 1024, np.float32)
    small_out = np.empty_like(small)
    t_big, t_small = interleaved([lambda: np.copyto(big_out, big), lambda: np.copyto(small_out, small)], 5,
                                 statistic)
    memory = Value(2 * big.nbytes / t_big,
                   f"measured: numpy copy of {big.nbytes >> 20} MiB (read + write), {statistic} of 5 rounds")
    cache = Value(2 * small.nbytes / t_small, f"measured: numpy copy of {small.nbytes >> 10} KiB, median of 5 rounds")
    return memory, cache


def numpy_gemm(statistic: str) -> float:
    """FLOP/s of a float32 768 x 768 matrix product in numpy."""
    import numpy as np

    a = np.ones((768, 768), np.float32)
    (t_mm,) = interleaved([lambda: a @ a], 5, statistic)
    return 2 * 768 ** 3 / t_mm


def numpy_only_profile(name: str, memory_bandwidth: Value, cache_bandwidth: Value, gemm: float,
                       cache: int | None, statistic: str) -> Device:
    """The profile without PyTorch: numpy's page faults and dispatch measured here, efficiencies assumed."""
    import numpy as np

    reused = np.empty(FRESH_BYTES // 4, np.float32)
    fault = page_fault_cost(lambda: np.empty(FRESH_BYTES // 4, np.float32).fill(1.0), lambda: reused.fill(1.0),
                            statistic)
    tiny = np.ones(16, np.float32)
    overhead = interleaved([lambda: np.add(tiny, 1.0)], 5, statistic)[0]
    assumed = Value(0.5, "assumed: no PyTorch to time convolutions; half the numpy GEMM rate")
    return Device(
        name=name, title=f"{cpu_name()} (calibrated without PyTorch)", kind="cpu", validated=False,
        peak_flops={"fp32": Value(gemm, "measured: numpy float32 matmul 768x768, median of 5 rounds")},
        memory_bandwidth=memory_bandwidth,
        kernel_overhead=Value(overhead, "measured: numpy dispatch of a 16-element add; PyTorch's per-op "
                                        "dispatch is several times longer"),
        efficiency={c: assumed for c in CONV_CLASSES},
        cache_bytes=Value(cache, CACHE_SOURCE) if cache else None,
        cache_bandwidth=cache_bandwidth if cache else None,
        page_fault=Value(fault, f"measured: filling a fresh {FRESH_BYTES >> 20} MiB array against a reused one, "
                                f"per 4 KiB page, {statistic} of {ROUNDS} rounds"),
        fresh_bytes=FRESH,
        notes="Calibrated on this machine with numpy only; convolution efficiencies are assumptions.")


# --------------------------------------------------------------------------- torch

def torch_threads(threads: int | None) -> tuple[str, int]:
    """Set torch's threads (when given); return torch's version and the threads it will use."""
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    return str(torch.__version__), int(torch.get_num_threads())


@dataclass(frozen=True)
class DispatchFit:
    """What element-wise torch kernels tell: the dispatch overhead, bandwidths, and each op's fixed cost."""

    kernel_overhead: Value
    memory_bandwidth: Value
    cache_bandwidth: Value
    op_overhead: dict[str, Value]
    pool_bandwidth: Value
    gather_bandwidth: Value
    transpose_bandwidth: Value


ACT_SHAPE = (1, 64, 32, 32)  # a CIFAR-sized activation, 256 KiB
LARGE = 16 * 1024 * 1024  # elements: 64 MiB, far beyond any cache
GATHER_SHAPE, GATHER_PART = (8, 64, 32, 32), 4  # HetConv split's gather at P = 4 on a batch-8 CIFAR map
TRANSPOSE_SHAPE = (4, 240, 32, 32)  # HetConv split's gathered tensor at P = 16 (16 channels) converted to NHWC


def _elementwise_times(statistic: str) -> dict[str, float]:
    """Seconds per call of each element-wise probe. Each op runs on a 1x64x4x4 activation (4 KiB) for its
    own fixed cost per call, and on ACT_SHAPE; the gather takes 3/4 of the channels, four times over."""
    import torch

    relu_module = torch.nn.ReLU()
    bn = torch.nn.BatchNorm2d(64).eval()
    pool = torch.nn.MaxPool2d(2)
    tiny = torch.ones(16)
    large, large_out = torch.ones(LARGE), torch.empty(LARGE)
    act = torch.randn(*ACT_SHAPE)
    gather_in = torch.randn(*GATHER_SHAPE)
    index = torch.tensor(_gather_index())
    small = torch.randn(1, 64, 4, 4)
    small_index = torch.arange(48)
    nchw = torch.randn(*TRANSPOSE_SHAPE)
    probes = {
        "tiny": lambda: relu_module(tiny), "large": lambda: torch.clamp_min(large, 0, out=large_out),
        "bn": lambda: bn(act), "relu": lambda: relu_module(act), "add": lambda: act + act,
        "gather": lambda: gather_in.index_select(1, index), "bn_small": lambda: bn(small),
        "relu_small": lambda: relu_module(small), "add_small": lambda: small + small,
        "gather_small": lambda: small.index_select(1, small_index), "pool_small": lambda: pool(small),
        "pool": lambda: pool(act), "transpose": lambda: nchw.contiguous(memory_format=torch.channels_last)}
    return dict(zip(probes, interleaved(list(probes.values()), ROUNDS, statistic)))


def _gather_index() -> list[int]:
    channels = GATHER_SHAPE[1]
    block = channels // GATHER_PART
    return [c for g in range(GATHER_PART) for c in range(channels) if not g * block <= c < (g + 1) * block]


def torch_elementwise(statistic: str) -> dict[str, float]:
    """One pass of the element-wise probes: seconds per call of each (`torch_dispatch_and_bandwidth` takes
    the median over the passes)."""
    import torch

    with torch.inference_mode():
        return _elementwise_times(statistic)


def torch_dispatch_and_bandwidth(statistic: str, threads: int, runs: list[dict[str, float]] | None = None
                                 ) -> DispatchFit:
    """The dispatch overhead, main memory, cache and gather bandwidths, pooling's bandwidth and each op's
    fixed cost, from element-wise torch kernels timed together: the median over `runs` (passes of
    `torch_elementwise` made apart in time), or over ELEMENTWISE_PASSES runs made now."""
    runs = runs or [torch_elementwise(statistic) for _ in range(ELEMENTWISE_PASSES)]
    t = {probe: statistics.median(run[probe] for run in runs) for probe in runs[0]}
    rounds = f"median of {len(runs)} passes of the {statistic} of {ROUNDS} rounds"
    op_source = (f"measured: the op as a torch module or call on a 1x64x4x4 activation (4 KiB), {threads} threads, "
                 f"{rounds}")
    op_overhead = {op: Value(t[probe], op_source) for op, probe in (
        ("bn", "bn_small"), ("act", "relu_small"), ("add", "add_small"), ("gather", "gather_small"),
        ("pool", "pool_small"))}
    act_bytes = 4 * ACT_SHAPE[0] * ACT_SHAPE[1] * ACT_SHAPE[2] * ACT_SHAPE[3]
    pool_bytes = act_bytes * 5 // 4  # a 2 x 2 max pool reads the map and writes a quarter of it
    gathered = len(_gather_index())
    gather_bytes = 2 * GATHER_SHAPE[0] * gathered * GATHER_SHAPE[2] * GATHER_SHAPE[3] * 4
    overhead = t["tiny"]
    transpose_bytes = 2 * 4 * TRANSPOSE_SHAPE[0] * TRANSPOSE_SHAPE[1] * TRANSPOSE_SHAPE[2] * TRANSPOSE_SHAPE[3]
    memory_bw = max(2 * LARGE * 4 / max(t["large"] - overhead, 1e-9), 1.0)
    cache_bw = max(statistics.median([2 * act_bytes / max(t["bn"] - t["bn_small"], 1e-9),
                                      2 * act_bytes / max(t["relu"] - t["relu_small"], 1e-9),
                                      3 * act_bytes / max(t["add"] - t["add_small"], 1e-9)]), memory_bw)
    return DispatchFit(
        kernel_overhead=Value(overhead, f"measured: an nn.ReLU module called on 16 elements (module call and "
                                        f"eager dispatch), {threads} threads, {rounds}"),
        memory_bandwidth=Value(memory_bw, f"measured: torch.clamp_min into a preallocated output over "
                                          f"{LARGE * 4 >> 20} MiB (read + write) less the overhead, {threads} "
                                          f"threads, {rounds}"),
        cache_bandwidth=Value(cache_bw, f"measured: the median of BatchNorm2d (eval), ReLU and add on a "
                                        f"1x64x32x32 activation ({act_bytes >> 10} KiB), bytes read + written "
                                        f"less each op's time on 4 KiB"),
        op_overhead=op_overhead,
        pool_bandwidth=Value(max(pool_bytes / max(t["pool"] - t["pool_small"], 1e-9), 1.0),
                             f"measured: MaxPool2d(2) on a 1x64x32x32 activation less its 4 KiB time, {rounds}"),
        gather_bandwidth=Value(max(gather_bytes / max(t["gather"] - t["tiny"], 1e-9), 1.0),
                               f"measured: index_select of {gathered} channels from a 8x64x32x32 tensor "
                               f"({gather_bytes >> 20} MiB read + written), {rounds}"),
        transpose_bandwidth=Value(max(transpose_bytes / max(t["transpose"] - t["tiny"], 1e-9), 1.0),
                                  f"measured: a {'x'.join(map(str, TRANSPOSE_SHAPE))} NCHW tensor copied to "
                                  f"channels-last ({transpose_bytes >> 20} MiB read + written), {rounds}"))


def torch_page_fault_seconds(statistic: str) -> float:
    """One pass: seconds per 4 KiB page of a freshly mapped torch tensor."""
    import torch

    with torch.inference_mode():
        reused = torch.empty(FRESH_BYTES // 4)
        return page_fault_cost(lambda: torch.empty(FRESH_BYTES // 4).fill_(1.0), lambda: reused.fill_(1.0),
                               statistic)


def torch_page_fault(statistic: str, threads: int, runs: list[float] | None = None) -> Value:
    """Seconds per 4 KiB page of a freshly mapped torch tensor: the median over `runs` (passes made apart in
    time), or one pass made now."""
    runs = runs or [torch_page_fault_seconds(statistic)]
    return Value(statistics.median(runs), f"measured: torch fill_ of a fresh {FRESH_BYTES >> 20} MiB tensor "
                                          f"against a reused one, per 4 KiB page, {threads} threads, median of "
                                          f"{len(runs)} passes of the {statistic} of {ROUNDS} rounds")


def combine_passes(passes: list[list[ConvSample]]) -> list[ConvSample]:
    """One sample per shape: the median over the passes of its seconds."""
    return [replace(first, seconds=statistics.median(p[i].seconds for p in passes))
            for i, first in enumerate(passes[0])]


def torch_conv_samples(statistic: str, shapes: list[tuple] | None = None,
                       channels_last: bool = False) -> list[ConvSample]:
    """Every shape of `shapes` (CONV_SHAPES) timed as torch.nn.functional.conv2d (random input and weights),
    one pass of CONV_ROUNDS interleaved rounds; with `channels_last`, input and weights in NHWC (as a module
    moved with .to(memory_format=torch.channels_last) runs)."""
    import torch
    import torch.nn.functional as F

    shapes = CONV_SHAPES if shapes is None else shapes
    layout = torch.channels_last if channels_last else torch.contiguous_format
    with torch.inference_mode():
        fns = []
        for b, cin, cout, size, k, groups in shapes:
            x = torch.randn(b, cin, size, size).contiguous(memory_format=layout)
            w = torch.randn(cout, cin // groups, k, k).contiguous(memory_format=layout)
            fns.append(lambda x=x, w=w, k=k, groups=groups: F.conv2d(x, w, padding=k // 2, groups=groups))
        times = interleaved(fns, CONV_ROUNDS, statistic)
    return [ConvSample(*shape, t) for shape, t in zip(shapes, times)]


def torch_linear(statistic: str) -> list[float]:
    """Seconds per call of torch.nn.functional.linear at each of LINEAR_SHAPES."""
    import torch
    import torch.nn.functional as F

    with torch.inference_mode():
        fns = []
        for b, fin, fout in LINEAR_SHAPES:
            x, w = torch.randn(b, fin), torch.randn(fout, fin)
            fns.append(lambda x=x, w=w: F.linear(x, w))
        return interleaved(fns, 5, statistic)
