"""Memory traffic: every layer of a variant as the kernels an eager framework runs, in exact bytes.

PyTorch in eval mode runs each operation as its own kernel: a convolution (with its bias), then BatchNorm,
then the activation; pooling, residual additions and FC layers likewise. Each kernel reads its inputs and
weights once and writes its output once (no cache reuse between kernels is assumed here; the time model
may credit a cache). Counts are Python ints. docs/time-model.md states every rule.
"""

from __future__ import annotations

from dataclasses import dataclass

from hetcalc.convtypes import CONV_TYPES, standard_steps
from hetcalc.convtypes.hetconv import IMPLS as HETCONV_IMPLS
from hetcalc.convtypes.steps import ConvStep, MoveStep, PostStep
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import (
    INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, MatMul, Mul, Network, Pool, Reshape,
)

DTYPE_BYTES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
# efficiency classes of the time model (a device profile gives each its attainable fraction of peak)
CONV_CLASSES = ("dense", "pointwise", "grouped", "grouped_pointwise", "depthwise", "linear")
KERNEL_CLASSES = (*CONV_CLASSES, "elementwise")


@dataclass(frozen=True)
class Kernel:
    """One executed kernel: its work in device FLOPs (1 MAC = 2 FLOPs) and its bytes read and written."""

    op: str  # conv | bn | act | pool | add | linear | gather | pad | norm | mul | concat | ...
    kclass: str  # one of KERNEL_CLASSES
    flops: int
    bytes_read: int
    bytes_written: int
    channels_per_group: int = 0  # the smaller of a group's input and output channels (convolutions)
    weight_bytes: int = 0  # of bytes_read: weights, biases, BatchNorm's stored values
    bias_bytes: int = 0  # of weight_bytes: a convolution's or linear layer's bias

    @property
    def activation_bytes(self) -> int:
        return self.bytes_read + self.bytes_written - self.weight_bytes

    @property
    def bytes(self) -> int:
        return self.bytes_read + self.bytes_written


def check_dtype(dtype: str) -> str:
    key = str(dtype).strip().lower()
    if key not in DTYPE_BYTES:
        raise OptionError(f"dtype must be one of {', '.join(DTYPE_BYTES)}, got {dtype!r}")
    return key


def check_batch(batch) -> int:
    if isinstance(batch, str) and batch.strip().isdigit() and batch.strip().isascii():
        batch = int(batch.strip())
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise OptionError(f"batch must be a positive integer, got {batch!r}")
    if batch > 10**9:
        raise OptionError(f"batch must be at most 10**9, got {batch}")
    return batch


def check_impl(impl: str) -> str:
    key = str(impl).strip().lower()
    if key not in HETCONV_IMPLS:
        raise OptionError(f"hetconv_impl must be one of {', '.join(HETCONV_IMPLS)}, got {impl!r}")
    return key


def conv_class(k_area: int, groups: int, in_channels: int) -> str:
    """dense K x K, pointwise 1 x 1, depthwise (one input channel per group), grouped K x K or grouped 1 x 1."""
    if groups > 1:
        if groups == in_channels:
            return "depthwise"
        return "grouped_pointwise" if k_area == 1 else "grouped"
    return "pointwise" if k_area == 1 else "dense"


def conv_kernel(*, M: int, N: int, k_area: int, groups: int, in_area: int, out_area: int, bias: bool,
                batch: int, size: int, weights: int | None = None) -> Kernel:
    """A convolution M -> N: reads its input and weights (and bias), writes its output.

    `weights` overrides N * (M / groups) * K^2 for a fused HetConv kernel (eqs. 2-4).
    """
    if weights is None:
        weights = N * (M // groups) * k_area
    macs = batch * out_area * weights
    read = (batch * M * in_area + weights + (N if bias else 0)) * size
    return Kernel("conv", conv_class(k_area, groups, M), 2 * macs, read, batch * N * out_area * size,
                  min(M // groups, max(N // groups, 1)), (weights + (N if bias else 0)) * size, (N if bias else 0) * size)


def elementwise(op: str, elements: int, size: int, inputs: int = 1, ops_per_element: int = 1,
                read_elements: int | None = None) -> Kernel:
    """A kernel reading `inputs` tensors of `elements` (or `read_elements` in all) and writing one."""
    read = elements * inputs if read_elements is None else read_elements
    return Kernel(op, "elementwise", ops_per_element * elements, read * size, elements * size)


NORM_FLOPS = 5  # per element: sum and sum of squares (3), then subtract-and-scale (2)
AFFINE_FLOPS = 2  # per element: scale and shift


def norm_kernel(elements: int, params: int, size: int) -> Kernel:
    """LayerNorm, GroupNorm or InstanceNorm as one kernel (PyTorch's fused forward): reads its input and its
    `params` stored values (scale and shift, 0 without affine), writes its output; the statistics stay
    on chip."""
    flops = (NORM_FLOPS + (AFFINE_FLOPS if params else 0)) * elements
    return Kernel("norm", "elementwise", flops, (elements + params) * size, elements * size,
                  weight_bytes=params * size)


def _after_conv(N: int, area: int, bn: bool, act: str | None, batch: int, size: int) -> list[Kernel]:
    """BatchNorm (eval: y = x * scale + shift, 4 stored values per channel) and the activation."""
    out = []
    elements = batch * N * area
    if bn:
        out.append(Kernel("bn", "elementwise", 2 * elements, (elements + 4 * N) * size, elements * size,
                          weight_bytes=4 * N * size))
    if act:
        out.append(elementwise("act", elements, size))
    return out


def step_kernels(steps, batch: int, size: int) -> list[Kernel]:
    """The kernels of a convolution type's realization steps (hetcalc.convtypes.steps), in order."""
    kernels: list[Kernel] = []
    for step in steps:
        if isinstance(step, ConvStep):
            c = step.conv
            kernels.append(conv_kernel(M=c.M, N=c.N, k_area=c.kernel[0] * c.kernel[1], groups=c.groups, bias=c.bias,
                                       in_area=c.in_shape[1] * c.in_shape[2], out_area=c.out_area, batch=batch,
                                       size=size, weights=step.weights))
            kernels += _after_conv(c.N, c.out_area, c.bn, c.act, batch, size)
        elif isinstance(step, MoveStep):
            kernels.append(elementwise(step.op, batch * step.elements, size, inputs=step.inputs,
                                       ops_per_element=step.ops_per_element,
                                       read_elements=None if step.read_elements is None else batch * step.read_elements))
        elif isinstance(step, PostStep):
            kernels += _after_conv(step.channels, step.area, step.bn, step.act, batch, size)
        else:
            raise TypeError(f"unknown realization step {step!r}")
    return kernels


def conv_layer_kernels(conv: Conv, variant: str, part: int | None, impl: str, batch: int, size: int,
                       pointwise_bias: bool = True) -> list[Kernel]:
    """The kernels of one convolution layer (with its BN and activation) built as `variant`."""
    ctype = CONV_TYPES[variant]
    if impl not in ctype.impls:
        impl = ctype.impls[0]  # a type with one implementation runs it whatever --hetconv-impl says
    return step_kernels(ctype.realize(conv, part, impl, pointwise_bias), batch, size)


def fixed_layer_kernels(layer, batch: int, size: int, shortcut_in=None, role: str | None = None) -> list[Kernel]:
    """Kernels of a layer every variant keeps: FC (flatten is a view), pooling, residual addition.

    `shortcut_in`: for an addition, the shape entering a parameter-free shortcut that changes shape
    (option A: subsample then zero-pad channels, one copy kernel), else None. `role`: the layer's part
    in an activation the exporter decomposed (`decomposed_activations`), else None.
    """
    if role == SKIP:  # its work is the fused activation's, charged where that ends
        return []
    if role == FUSED:  # the last op of a decomposed activation: one activation kernel, then the layer's own act
        c, h, w = layer.out_shape
        elements = batch * c * h * w
        extra = not isinstance(layer, Activation) and getattr(layer, "act", None)  # a mul's own act after it
        own = [elementwise("act", elements, size)] if extra else []
        return [elementwise("act", elements, size), *own]
    if isinstance(layer, Linear):
        fin, fout, rows = layer.in_features, layer.out_features, layer.rows * batch
        weights = fin * fout
        read = (rows * fin + weights + (fout if layer.bias else 0)) * size
        kernels = [Kernel("linear", "linear", 2 * rows * weights, read, rows * fout * size, fin,
                          (weights + (fout if layer.bias else 0)) * size, (fout if layer.bias else 0) * size)]
        if layer.act:
            kernels.append(elementwise("act", rows * fout, size))
        return kernels
    if isinstance(layer, MatMul):  # two activations in, no weights; the second read taken as large as the first
        c, h, w = layer.out_shape
        ci, hi, wi = layer.in_shape
        elements = batch * c * h * w
        read = 2 * batch * ci * hi * wi * size
        return [Kernel("matmul", "linear", 2 * elements * layer.inner, read, elements * size, layer.inner, 0)]
    if isinstance(layer, Pool):
        cin, hin, win = layer.in_shape
        c, h, w = layer.out_shape
        window = layer.kernel[0] * layer.kernel[1] if (h, w) != (1, 1) or (hin, win) == layer.kernel else hin * win
        return [elementwise("pool", batch * c * h * w, size, ops_per_element=window,
                            read_elements=batch * cin * hin * win)]
    if isinstance(layer, Add):
        c, h, w = layer.out_shape
        elements = batch * c * h * w
        kernels = []
        if shortcut_in is not None:
            cin, hin, win = shortcut_in
            kernels.append(elementwise("pad", elements, size, ops_per_element=0, read_elements=batch * cin * h * w))
        kernels.append(elementwise("add", elements, size, inputs=2))
        if layer.act:
            kernels.append(elementwise("act", elements, size))
        return kernels
    if isinstance(layer, Conv):
        return step_kernels(standard_steps(layer), batch, size)
    c, h, w = layer.out_shape
    elements = batch * c * h * w
    act = [elementwise("act", elements, size)] if getattr(layer, "act", None) else []
    if isinstance(layer, Mul):
        return [elementwise("mul", elements, size, inputs=max(len(layer.inputs), 1)), *act]
    if getattr(layer, "kind", None) == "norm":  # a LayerNorm / GroupNorm / InstanceNorm record
        return [norm_kernel(elements, getattr(layer, "params", 0), size), *act]
    if isinstance(layer, BatchNorm):
        return [*_after_conv(c, h * w, True, None, batch, size), *act]
    if isinstance(layer, Activation):
        return [elementwise("act", elements, size)]
    if isinstance(layer, Concat):  # a copy of every input into the joined tensor
        return [elementwise("concat", elements, size, ops_per_element=0)]
    if isinstance(layer, Reshape):
        if layer.op in ("flatten", "reshape"):  # a view
            return []
        ci, hi, wi = layer.in_shape
        return [elementwise(layer.op, elements, size, ops_per_element=0, read_elements=batch * ci * hi * wi)]
    raise TypeError(f"unknown layer {layer!r}")


SKIP, FUSED = "skip", "fused"  # roles in a decomposed activation


def decomposed_activations(network: Network) -> dict[int, str]:
    """Activations an exporter writes as several ops but a framework runs as one kernel: layer index ->
    SKIP (no kernel of its own) or FUSED (one activation kernel over its output, reading E and writing E).

    - SiLU (Swish), `x * sigmoid(x)`: torch's ONNX exporter writes `Sigmoid(x)` then `Mul(x, sigmoid)`, two
      kernels moving 5E elements, where PyTorch's `nn.SiLU` is one kernel moving 2E. Pattern: a standalone
      sigmoid read only by a `mul` of exactly that sigmoid and the sigmoid's own input.
    - GELU (exact), `x * (erf(x / sqrt 2) + 1) * 0.5`: written `Div`, `Erf`, `Add`, `Mul(x, .)`, `Mul(0.5)`,
      five kernels where `nn.GELU` is one. Pattern: affine [erf] affine back to x, the `mul` by x, then an
      affine; `Erf` is in the graph (read as an activation, or uncounted and passed through).
    """
    layers = network.layers
    consumers = network.consumers()
    erf_seen = "Erf" in (network.meta.get("uncounted") or {}) if isinstance(network.meta, dict) else False
    roles: dict[int, str] = {}
    for m, layer in enumerate(layers):
        if not isinstance(layer, Mul) or len(network.edges[m]) != 2 or m in roles:
            continue
        for x, y in (network.edges[m], network.edges[m][::-1]):
            chain = _chain_back(network, consumers, y, x)
            acts = [layers[j].act for j in chain] if chain else []
            if acts == ["sigmoid"]:
                roles.update({chain[0]: SKIP, m: FUSED})
                break
            tail = consumers[m][0] if len(consumers[m]) == 1 else None
            if (acts in (["affine", "affine"], ["affine", "erf", "affine"]) and ("erf" in acts or erf_seen)
                    and not layer.act and tail is not None and isinstance(layers[tail], Activation)
                    and layers[tail].act == "affine"):
                roles.update({**{j: SKIP for j in chain}, m: SKIP, tail: FUSED})
                break
    return roles


def _chain_back(network: Network, consumers, end: int, start: int, longest: int = 3) -> list[int] | None:
    """The standalone activations leading from `start` to `end` (each with one input and one reader), in
    order, or None if `end` is not reached from `start` that way."""
    chain = []
    j = end
    while j != start:
        if j == INPUT or len(chain) == longest:
            return None
        layer = network.layers[j]
        if not isinstance(layer, Activation) or len(network.edges[j]) != 1 or len(consumers[j]) != 1:
            return None
        chain.append(j)
        j = network.edges[j][0]
    return chain[::-1] or None


def shortcut_inputs(network: Network) -> dict[int, tuple[int, int, int]]:
    """Layer index of each residual addition whose parameter-free shortcut changes shape -> the shape
    entering that shortcut (an input of the addition whose shape is not the sum's)."""
    layers = network.layers
    found: dict[int, tuple[int, int, int]] = {}
    for i, layer in enumerate(layers):
        if isinstance(layer, Add):
            for j in network.edges[i]:
                shape = tuple(network.input if j == INPUT else layers[j].out_shape)
                if shape != tuple(layer.out_shape):
                    found[i] = shape
    return found


def peak_activation_bytes(network: Network, kernels_per_layer: list[list[Kernel]], size: int, batch: int) -> int:
    """A simple bound on live activation memory: the largest kernel's input plus output activations,
    plus every tensor held across it (made before it, read after it: a residual block's shortcut while
    its body runs, a skip connection, a branch waiting for its concatenation)."""
    consumers = network.consumers()
    last_read = {INPUT: max((i for i, ins in enumerate(network.edges) if INPUT in ins), default=-1)}
    for j, readers in enumerate(consumers):
        last_read[j] = max(readers, default=j)

    def nbytes(j: int) -> int:
        c, h, w = network.input if j == INPUT else network.layers[j].out_shape
        return batch * c * h * w * size

    held = [0] * len(network.layers)  # layer index -> bytes alive across it
    for j, end in last_read.items():
        for i in range(j + 1, end):
            held[i] += nbytes(j)
    peak = 0
    for i, kernels in enumerate(kernels_per_layer):
        for k in kernels:
            peak = max(peak, k.activation_bytes + held[i])
    return peak
