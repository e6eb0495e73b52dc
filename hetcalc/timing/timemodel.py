"""The time model: kernels and a device profile in, seconds and what bounds them out (pure functions).

Per kernel (docs/time-model.md gives the formulas and their limits):

    compute = flops / (peak[dtype] * efficiency[class] * group_factor) + half_work / peak[dtype]
    memory  = bytes / bandwidth   (cache bandwidth when the kernel's activations fit in the cache)
              or, with the profile's weight_passes w, a convolution's
              activation bytes / bandwidth + w * weight bytes / memory bandwidth
    fresh   = pages of the tensors above fresh_bytes that the kernel writes * page_fault   (CPU profiles)
    t       = (overhead + max(compute, memory) + fresh) * network_factor
              overhead: the profile's op_overhead[op], else kernel_overhead; network_factor 1 if absent

A forward pass runs its kernels one after another on one stream, so a variant's time is the sum over its
kernels; parallel branches (residual shortcuts) do not overlap.

In the channels-last layout (layout="nhwc") a profile's `channels_last` factors scale each class's efficiency
(capped at 1) and element-wise kernels' bandwidth, and grouped K x K convolutions lose the group curve: their
rate no longer falls with fewer channels per group (fitted on published GPU runs: docs/time-model.md). A
profile without the factors times NHWC at its NCHW rates.
"""

from __future__ import annotations

from dataclasses import dataclass

from hetcalc.timing.devices import Device
from hetcalc.timing.traffic import Kernel


@dataclass(frozen=True)
class KernelTime:
    seconds: float
    overhead: float
    compute: float
    memory: float
    fresh: float = 0.0  # page faults of freshly mapped tensors: memory-system time, added, not overlapped

    @property
    def bound(self) -> str:
        return bound_of(self.overhead, self.compute, self.memory + self.fresh)


def bound_of(overhead: float, compute: float, memory: float) -> str:
    """Whichever term dominates: the per-kernel overhead, or the larger of compute and memory."""
    busy = max(compute, memory)
    if overhead >= busy:
        return "overhead"
    return "compute" if compute >= memory else "memory"


def channels_last(device: Device, layout: str) -> bool:
    """Whether the NHWC rules apply: the layout is channels-last and the profile gives its factors."""
    return layout == "nhwc" and bool(device.channels_last)


def layout_factor(device: Device, key: str, layout: str) -> float:
    """The profile's channels-last factor for a kernel class (1 in NCHW, or where it gives none)."""
    if not channels_last(device, layout):
        return 1.0
    factor = device.channels_last.get(key)
    return factor.value if factor is not None else 1.0


def group_factor(device: Device, kernel: Kernel, layout: str = "nchw") -> float:
    """Grouped K x K convolutions with few channels per group reuse each input less: their attained rate
    falls as (channels per group / group_channels) ** group_exponent below the profile's `group_channels`
    (1 when not given). Grouped 1 x 1 convolutions (HetConv split's second kernel: P groups of N/P outputs)
    likewise below `pointwise_group_channels`, with `pointwise_group_exponent` (CPU profiles fit both; 1
    when not given: the class's efficiency covers them). In NHWC, with the profile's channels-last factors,
    grouped K x K convolutions have no curve, or the profile's `channels_last_group_exponent` (docs/time-model.md)."""
    if kernel.kclass == "grouped" and not channels_last(device, layout):
        channels, exponent = device.group_channels, device.group_exponent
    elif kernel.kclass == "grouped" and device.channels_last_group_exponent is not None:
        channels, exponent = device.group_channels, device.channels_last_group_exponent
    elif kernel.kclass == "grouped_pointwise":
        channels, exponent = device.pointwise_group_channels, device.pointwise_group_exponent
    else:
        return 1.0
    if channels is None:
        return 1.0
    power = exponent.value if exponent is not None else 1.0
    return min(1.0, kernel.channels_per_group / channels.value) ** power


def compute_rate(device: Device, kernel: Kernel, dtype: str, layout: str = "nchw") -> float:
    """FLOP/s attained by a large kernel of this class (in NHWC with the profile's channels-last factor)."""
    efficiency = min(1.0, device.efficiency[kernel.kclass].value * layout_factor(device, kernel.kclass, layout))
    return device.peak(dtype) * efficiency * group_factor(device, kernel, layout)


def bandwidth(device: Device, kernel: Kernel, layout: str = "nchw") -> float:
    """Bytes/s for this kernel: cache bandwidth when its activations fit in the cache; a gather's own
    bandwidth (when the profile gives one) when they do not; a layout copy (`transpose`) at the profile's
    transpose_bandwidth, cached or not; element-wise kernels in NHWC scaled by the profile's channels-last
    factor."""
    if kernel.kclass == "elementwise" and channels_last(device, layout):
        return _bandwidth(device, kernel) * layout_factor(device, "elementwise", layout)
    return _bandwidth(device, kernel)


def _bandwidth(device: Device, kernel: Kernel) -> float:
    if kernel.op == "pool" and device.pool_bandwidth is not None:
        return device.pool_bandwidth.value
    if kernel.op == "transpose" and device.transpose_bandwidth is not None:  # strided: no cache, no streaming
        return device.transpose_bandwidth.value
    if kernel.op == "gather" and device.gather_bandwidth is not None and (
            device.cache_bytes is None or kernel.activation_bytes > device.cache_bytes.value):
        return device.gather_bandwidth.value
    if device.cache_bytes is not None and kernel.activation_bytes <= device.cache_bytes.value:
        return device.cache_bandwidth.value
    return device.memory_bandwidth.value


def memory_time(device: Device, kernel: Kernel, layout: str = "nchw") -> float:
    """Seconds of a kernel's memory traffic.

    With `weight_passes`, a convolution's weights come from main memory that many times (a CPU library
    reorders them into its blocked layout on every call, reading and writing them before the
    convolution reads them; a network's weights do not stay in a core's cache), and only its
    activations may be served by the cache. In NHWC with the profile's factors, `channels_last_weight_passes`
    where given."""
    if device.weight_passes is not None and kernel.op == "conv" and kernel.weight_bytes:
        activations = kernel.bytes - kernel.weight_bytes
        act_bw = (device.cache_bandwidth.value if device.cache_bytes is not None
                  and kernel.activation_bytes <= device.cache_bytes.value else device.memory_bandwidth.value)
        passes = device.weight_passes
        if channels_last(device, layout) and device.channels_last_weight_passes is not None:
            passes = device.channels_last_weight_passes
        return activations / act_bw + passes.value * kernel.weight_bytes / device.memory_bandwidth.value
    return kernel.bytes / bandwidth(device, kernel, layout)


PAGE = 4096
MMAP_THRESHOLD = 32 * 2**20  # glibc's largest dynamic mmap threshold on 64-bit: bigger blocks are always mapped


def fresh_time(device: Device, kernel: Kernel) -> float:
    """Seconds of first-touch page faults: a tensor above `fresh_bytes` (32 MiB by default) is mapped
    afresh on every call by the C allocator, and each of its pages faults once when first written.

    A kernel writes its output; a CPU convolution (a profile with weight_passes) also writes its input
    and its output once more in the library's blocked layout."""
    if device.page_fault is None:
        return 0.0
    limit = device.fresh_bytes.value if device.fresh_bytes is not None else MMAP_THRESHOLD
    output = kernel.bytes_written
    tensors = [output]
    if kernel.op == "conv" and device.weight_passes is not None:
        tensors += [kernel.bytes_read - kernel.weight_bytes, output]
    fresh = sum(size for size in tensors if size > limit)
    return -(-fresh // PAGE) * device.page_fault.value


def kernel_time(device: Device, kernel: Kernel, dtype: str, layout: str = "nchw") -> KernelTime:
    """Predicted seconds of one kernel, with its three terms, in `layout` (nchw or nhwc)."""
    compute = 0.0
    if kernel.kclass != "elementwise" and kernel.flops:
        half = device.half_work.value if device.half_work is not None else 0.0
        fixed = half / device.peak(dtype) / layout_factor(device, kernel.kclass, layout)  # NHWC: the class's pace
        compute = kernel.flops / compute_rate(device, kernel, dtype, layout) + fixed
    memory = memory_time(device, kernel, layout)
    fresh = fresh_time(device, kernel)
    own = device.op_overhead.get(kernel.op)
    overhead = own.value if own is not None else device.kernel_overhead.value
    if device.network_factor is not None:  # kernels inside a network run slower than alone (calibrate's check)
        f = device.network_factor.value
        compute, memory, fresh, overhead = compute * f, memory * f, fresh * f, overhead * f
    return KernelTime(overhead + max(compute, memory) + fresh, overhead, compute, memory, fresh)


@dataclass(frozen=True)
class LayerTime:
    seconds: float
    bound: str


def layer_time(device: Device, kernels: list[Kernel], dtype: str, layout: str = "nchw") -> LayerTime:
    """A layer's kernels in sequence; its bound is the term that takes the most of its time."""
    times = [kernel_time(device, k, dtype, layout) for k in kernels]
    total = sum(t.seconds for t in times)
    shares = {"overhead": 0.0, "compute": 0.0, "memory": 0.0}
    for t in times:
        shares["overhead"] += t.overhead
        if t.compute >= t.memory:
            shares["compute"] += t.compute
        else:
            shares["memory"] += t.memory
        shares["memory"] += t.fresh
    bound = max(shares, key=shares.get) if times else "overhead"
    return LayerTime(total, bound)
