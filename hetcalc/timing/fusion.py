"""Compiled inference: a network's eager kernels with the fusions a graph compiler makes (`mode="compiled"`).

torch.compile (inductor, with frozen weights) and TensorRT fold an inference BatchNorm into the convolution
before it and run the element-wise work that follows a convolution in its epilogue, while the output tile is
still on chip:

- BatchNorm right after a convolution (or after a merge the convolution ends, as HetConv split's add) is
  folded into the weights: no kernel, no bytes; its shift becomes the convolution's bias, N values read if
  the convolution had no bias;
- an activation right after a convolution or FC layer runs in its epilogue: no kernel, no read and write of
  the activation;
- a residual addition whose input is a convolution's output read by nothing else runs in that convolution's
  epilogue, which reads the addition's other input; the activation after the addition goes with it.

Nothing else fuses: pooling, concatenation, gathers (HetConv split's index_select), option-A shortcut pads,
norms, SE's multiply, and two convolutions in a row (GWC/DWC+PWC write and read their intermediate tensor).
docs/time-model.md gives the rules and why.
"""

from __future__ import annotations

from dataclasses import replace

from hetcalc.core.errors import OptionError
from hetcalc.network.graph import INPUT, Network
from hetcalc.timing.traffic import Kernel

MODES = ("eager", "compiled")
PRODUCERS = ("conv", "linear")  # kernels with an epilogue
EPILOGUE = ("bn", "act", "add")  # what an epilogue absorbs


def check_mode(mode) -> str:
    key = str(mode).strip().lower()
    if key not in MODES:
        raise OptionError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return key


def absorb(producer: Kernel, k: Kernel) -> Kernel:
    """`producer` with the element-wise kernel `k` that reads its output fused into it."""
    if k.op == "bn":  # folded into the weights; BN's shift becomes the bias (4 stored values per channel: N = /4)
        bias = 0 if producer.bias_bytes else k.weight_bytes // 4
        return replace(producer, bytes_read=producer.bytes_read + bias, weight_bytes=producer.weight_bytes + bias,
                       bias_bytes=producer.bias_bytes + bias)
    other = k.bytes_read - k.bytes_written if k.op == "add" else 0  # the addition's other input(s)
    return replace(producer, flops=producer.flops + k.flops, bytes_read=producer.bytes_read + other)


GENERATED = "fused"  # the op of a generated element-wise kernel (into="kernel")


def join(kernels: list[Kernel], k: Kernel, into: str = "epilogue") -> None:
    """Fuse the element-wise kernel `k` into the end of `kernels`, whose last kernel is a producer (or, with
    into="kernel", the generated kernel after one).

    into="epilogue" (the compiled mode): into the producer itself. into="kernel" (an ablation: inductor's
    default, which leaves the convolution to the library): one generated element-wise kernel after the
    producer reads its output and writes once, however many ops it runs; BN is applied there, not folded."""
    if into == "epilogue":
        kernels[-1] = absorb(kernels[-1], k)
        return
    if kernels[-1].op != GENERATED:
        size = kernels[-1].bytes_written
        kernels.append(Kernel(GENERATED, "elementwise", 0, size, size))
    g = kernels[-1]
    other = k.bytes_read - k.bytes_written if k.op == "add" else 0
    params = k.weight_bytes if k.op == "bn" else 0
    kernels[-1] = replace(g, flops=g.flops + k.flops, bytes_read=g.bytes_read + other + params,
                          weight_bytes=g.weight_bytes + params)


def fuse_within(kernels: list[Kernel], into: str = "epilogue") -> list[Kernel]:
    """One layer's kernels with each BN, activation or add that directly follows a conv or FC fused into it."""
    out: list[Kernel] = []
    for k in kernels:
        if out and out[-1].op in (*PRODUCERS, GENERATED) and k.op in EPILOGUE:
            join(out, k, into)
        else:
            out.append(k)
    return out


def compiled_kernels(network: Network, kernels: list[list[Kernel]], skipped=frozenset(),
                     into: str = "epilogue") -> list[list[Kernel]]:
    """Every layer's kernels after fusion, in the layers' order. A fused layer's work is charged to the layer
    holding the convolution it joined (its own list becomes empty). `skipped`: layers that run no kernel of
    their own (a decomposed activation's inner ops), read through as their input. `into`: see `join`."""
    out = [fuse_within(ks, into) for ks in kernels]
    readers = _readers(network, skipped)
    holder: dict[int, int] = {i: i for i, ks in enumerate(out) if ks and ks[-1].op in (*PRODUCERS, GENERATED)}
    for i, ks in enumerate(out):
        n = 0
        while n < len(ks) and ks[n].op == "pad":  # an option-A shortcut's copy stays a kernel of its own
            n += 1
        lead, rest = ks[:n], ks[n:]
        if not rest or rest[0].op not in EPILOGUE:
            continue
        open_inputs = [j for j in _sources(network, i, skipped)
                       if j in holder and readers.get(j) == {i}]
        if not open_inputs:
            continue
        h = holder[max(open_inputs)]  # the later producer: the other inputs are ready when it runs
        taken = 0
        for k in rest:
            if k.op not in EPILOGUE:
                break
            join(out[h], k, into)
            taken += 1
        out[i] = lead + rest[taken:]
        if taken == len(rest):
            holder[i] = h
    return out


def _sources(network: Network, i: int, skipped) -> set[int]:
    """The layers whose outputs layer i reads, looking through skipped layers."""
    found, todo = set(), list(network.edges[i])
    while todo:
        j = todo.pop()
        if j in skipped:
            todo += network.edges[j]
        else:
            found.add(j)
    return found - {INPUT}


def _readers(network: Network, skipped) -> dict[int, set[int]]:
    """Layer index -> the layers that read its output (through skipped layers)."""
    readers: dict[int, set[int]] = {}
    for i in range(len(network.layers)):
        if i not in skipped:
            for j in _sources(network, i, skipped):
                readers.setdefault(j, set()).add(i)
    return readers
