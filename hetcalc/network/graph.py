"""The validated layer graph: what every input (a YAML spec, an ONNX file, a torch module) becomes.

`Network.layers` is a flat tuple in topological order; each layer's `inputs` holds the indices of the
layers it reads (`INPUT`, -1, is the network's input). A layer built without `inputs` reads the layer
before it, so a plain chain needs no edges written out.
"""

from __future__ import annotations

from dataclasses import field
from typing import Union

from hetcalc.core.records import Record, record
from hetcalc.network.geometry import output_size  # noqa: F401 - re-exported: importers and tests read it here

# activation names a spec may give (hetcalc.network.spec checks them; here so that counting need not load spec)
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "hardswish", "leaky_relu", "hardsigmoid", "elu",
               "selu", "softplus", "mish", "clip", "softmax", "log_softmax", "affine")

Shape = tuple[int, int, int]  # (channels, height, width)
INPUT = -1  # the index that stands for the network's input in `inputs`


@record
class Conv(Record):
    """A 2-D convolution, with the BatchNorm and activation that follow it."""

    name: str
    in_shape: Shape
    out_shape: Shape
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)  # top, left (and bottom, right unless padding_end says otherwise)
    groups: int = 1
    bias: bool = False
    bn: bool = False
    act: str | None = None
    replace: bool | None = None  # pinned by the spec: True/False, or None for the default rule
    where: str = ""
    dilation: tuple[int, int] = (1, 1)
    padding_end: tuple[int, int] | None = None  # bottom, right when they differ from `padding`
    P: int | str | None = None  # this layer's own HetConv part (an integer, "M" or "N"), or None
    inputs: tuple[int, ...] = ()

    kind = "conv"

    @property
    def M(self) -> int:  # noqa: N802 - the paper's names
        return self.in_shape[0]

    @property
    def N(self) -> int:  # noqa: N802
        return self.out_shape[0]

    @property
    def K(self) -> int:  # noqa: N802
        """Kernel size; for a non-square kernel, the larger side."""
        return max(self.kernel)

    @property
    def out_area(self) -> int:
        """D_o x D_o (H_o x W_o for non-square maps)."""
        return self.out_shape[1] * self.out_shape[2]

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """Top, left, bottom, right."""
        end = self.padding if self.padding_end is None else self.padding_end
        return (*self.padding, *end)


@record
class Linear(Record):
    """A fully connected layer; a spatial input is flattened first."""

    name: str
    in_shape: Shape
    out_shape: Shape
    bias: bool = True
    act: str | None = None
    where: str = ""
    inputs: tuple[int, ...] = ()
    rows: int = 1  # vectors the layer maps, one per token or pixel (a Linear on [..., features]: channels-last)

    kind = "fc"

    @property
    def in_features(self) -> int:
        c, h, w = self.in_shape
        return c * h * w // self.rows

    @property
    def out_features(self) -> int:
        c, h, w = self.out_shape
        return c * h * w // self.rows


@record
class Pool(Record):
    """Max or average pooling; `global` pools the whole map to 1 x 1, adaptive pooling to a fixed size.

    `window` is the number of input elements read per output channel when windows differ in size
    (adaptive pooling whose input does not divide evenly); otherwise kernel area x output area.
    """

    name: str
    in_shape: Shape
    out_shape: Shape
    mode: str  # "max" | "avg"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)
    where: str = ""
    inputs: tuple[int, ...] = ()
    window: int | None = None
    adaptive: bool = False
    padding_end: tuple[int, int] | None = None
    ceil: bool = False
    is_global: bool = False  # written `global` in the spec: an adaptive pool to 1 x 1 in PyTorch
    reduce: bool = False  # a tensor mean (x.mean((2, 3)), ONNX ReduceMean), not a pooling module

    kind = "pool"

    @property
    def reads(self) -> int:
        """Window elements read per channel over the whole output."""
        if self.window is not None:
            return self.window
        return self.out_shape[1] * self.out_shape[2] * self.kernel[0] * self.kernel[1]


@record
class Add(Record):
    """An element-wise sum of its inputs (a residual block's, with its activation)."""

    name: str
    in_shape: Shape
    out_shape: Shape
    act: str | None = None
    where: str = ""
    inputs: tuple[int, ...] = ()

    kind = "add"


@record
class Mul(Record):
    """An element-wise product of its inputs (Squeeze-and-Excitation's scaling), broadcasting 1 x 1 maps."""

    name: str
    in_shape: Shape
    out_shape: Shape
    act: str | None = None
    where: str = ""
    inputs: tuple[int, ...] = ()

    kind = "mul"


@record
class MatMul(Record):
    """A matrix product of two activations (attention's Q K^T and A V): `inner` MACs per output element.

    `fused`: written as one scaled_dot_product_attention call (exported as Mul-MatMul-Softmax-MatMul), which some
    counters do not see."""

    name: str
    in_shape: Shape
    out_shape: Shape
    inner: int
    fused: bool = False
    where: str = ""
    inputs: tuple[int, ...] = ()

    kind = "matmul"


@record
class Norm(Record):
    """LayerNorm, GroupNorm or InstanceNorm over its input; `params` is its scale and shift (0 without affine)."""

    name: str
    in_shape: Shape
    out_shape: Shape
    norm: str = "layer"  # "layer" | "group" | "instance"
    params: int = 0
    act: str | None = None
    where: str = ""
    inputs: tuple[int, ...] = ()

    kind = "norm"


@record
class Concat(Record):
    """Channel concatenation of its inputs (Inception, DenseNet, UNet skips)."""

    name: str
    in_shape: Shape  # the first input's shape
    out_shape: Shape
    where: str = ""
    inputs: tuple[int, ...] = ()
    params: int = 0  # learnable elements joined in (ViT's class token)

    kind = "concat"


@record
class BatchNorm(Record):
    """A BatchNorm that follows no convolution directly (pre-activation networks)."""

    name: str
    in_shape: Shape
    out_shape: Shape
    act: str | None = None
    where: str = ""
    inputs: tuple[int, ...] = ()

    kind = "bn"


@record
class Activation(Record):
    """An activation that stands on its own."""

    name: str
    in_shape: Shape
    out_shape: Shape
    act: str = "relu"
    where: str = ""
    inputs: tuple[int, ...] = ()
    params: int = 0  # learnable elements it applies (a layer-scale gamma, a position embedding)

    kind = "act"


@record
class Reshape(Record):
    """Data movement without arithmetic: flatten, reshape, pad, slice, upsample (`op` says which).

    Counted as zero FLOPs and zero parameters: nearest upsampling copies, bilinear interpolation
    is not a multiply-accumulate of a conv or FC layer.
    """

    name: str
    in_shape: Shape
    out_shape: Shape
    op: str = "reshape"  # "flatten" | "reshape" | "pad" | "slice" | "upsample"
    mode: str = ""  # upsample: nearest | bilinear; pad: constant | reflect | edge
    where: str = ""
    inputs: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return self.op


Layer = Union[Conv, Linear, Pool, Add, Mul, MatMul, Norm, Concat, BatchNorm, Activation, Reshape]
WEIGHTED = (Conv, Linear)  # the layers that count toward latency depth


@record
class Network(Record):
    """A network as a flat layer tuple in topological order, its edges in each layer's `inputs`."""

    name: str
    title: str
    input: Shape
    layers: tuple[Layer, ...]
    source: str = ""
    description: str = ""
    conv_bias: bool = False  # whether the network's convolutions carry a bias
    conv_bn: bool = False  # whether the network normalizes after its convolutions
    meta: dict = field(default_factory=dict, compare=False)
    edges: tuple[tuple[int, ...], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        edges = []
        for i, layer in enumerate(self.layers):
            ins = tuple(getattr(layer, "inputs", ()) or (i - 1,))
            for j in ins:
                if not INPUT <= j < i:
                    raise ValueError(f"layer {layer.name!r} (#{i}) reads #{j}: inputs must come earlier")
            edges.append(ins)
        object.__setattr__(self, "edges", tuple(edges))

    @property
    def convs(self) -> list[Conv]:
        return [layer for layer in self.layers if isinstance(layer, Conv)]

    def consumers(self) -> list[list[int]]:
        """For every layer, the layers that read it."""
        out: list[list[int]] = [[] for _ in self.layers]
        for i, ins in enumerate(self.edges):
            for j in ins:
                if j >= 0:
                    out[j].append(i)
        return out

    def longest_path(self, weight) -> int:
        """The largest sum of layer weights along any input-to-output path (latency depth).

        `weight` is a sequence (layer i weighs weight[i]) or a function of the layer index."""
        weights = [weight(i) for i in range(len(self.layers))] if callable(weight) else weight
        best = [0] * (len(self.edges) + 1)  # best[-1] stays 0: the network's input
        for i, (w, ins) in enumerate(zip(weights, self.edges)):
            best[i] = w + (best[ins[0]] if len(ins) == 1 else max(best[j] for j in ins))
        return max(best[:-1], default=0)

    def trunk(self) -> set[int]:
        """Layers every input-to-output path passes through (those outside residual and parallel blocks).

        Layer i is one when no edge jumps over it: none from a layer before i (or the input) to one after.
        """
        consumers = self.consumers()
        reach = max((i for i, ins in enumerate(self.edges) if INPUT in ins), default=0)
        last = len(self.layers) - 1
        on_all: set[int] = set()
        for i in range(len(self.layers)):
            if reach <= i and (consumers[i] or i == last):
                on_all.add(i)
            reach = max(reach, *consumers[i]) if consumers[i] else reach
        return on_all


def path_depth(network: Network, weight) -> int:
    """Longest path through `network`, where `weight(i)` is the depth layer i adds."""
    return network.longest_path(weight)
