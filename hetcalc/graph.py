"""The validated layer graph: what a spec describes, with every shape resolved."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union

# activation names a spec may give (hetcalc.spec checks them; here so that counting need not load spec)
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "hardswish", "leaky_relu")

Shape = tuple[int, int, int]  # (channels, height, width)


def output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Spatial output size, floor division as in PyTorch: (size + 2p - k) // s + 1."""
    return (size + 2 * padding - kernel) // stride + 1


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution, with the BatchNorm and activation that follow it."""

    name: str
    in_shape: Shape
    out_shape: Shape
    kernel: tuple[int, int]
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    groups: int = 1
    bias: bool = False
    bn: bool = False
    act: str | None = None
    replace: bool | None = None  # pinned by the spec: True/False, or None for the default rule
    where: str = ""

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


@dataclass(frozen=True)
class Linear:
    """A fully connected layer; a spatial input is flattened first."""

    name: str
    in_shape: Shape
    out_shape: Shape
    bias: bool = True
    act: str | None = None
    where: str = ""

    kind = "fc"

    @property
    def in_features(self) -> int:
        c, h, w = self.in_shape
        return c * h * w

    @property
    def out_features(self) -> int:
        return self.out_shape[0]


@dataclass(frozen=True)
class Pool:
    """Max or average pooling; `global` pools the whole map to 1 x 1."""

    name: str
    in_shape: Shape
    out_shape: Shape
    mode: str  # "max" | "avg"
    kernel: tuple[int, int]
    stride: tuple[int, int]
    padding: tuple[int, int] = (0, 0)
    where: str = ""
    is_global: bool = False  # written `global` in the spec: an adaptive pool to 1 x 1 in PyTorch

    kind = "pool"


@dataclass(frozen=True)
class Add:
    """The element-wise sum that closes a residual block (and its activation)."""

    name: str
    in_shape: Shape
    out_shape: Shape
    act: str | None = None
    where: str = ""

    kind = "add"


Layer = Union[Conv, Linear, Pool, Add]


@dataclass(frozen=True)
class Parallel:
    """Branches that run side by side and meet again (a residual block)."""

    branches: tuple["Sequence", ...]


@dataclass(frozen=True)
class Sequence:
    """Steps run one after another: indices into Network.layers, or Parallel blocks."""

    steps: tuple[Union[int, Parallel], ...] = ()


@dataclass(frozen=True)
class Network:
    """A network as a flat, ordered layer list plus its topology for latency depth."""

    name: str
    title: str
    input: Shape
    layers: tuple[Layer, ...]
    topology: Sequence
    source: str = ""
    description: str = ""
    conv_bias: bool = False  # whether the network's convolutions carry a bias
    conv_bn: bool = False  # whether the network normalizes after its convolutions
    meta: dict = field(default_factory=dict, compare=False)

    @property
    def convs(self) -> list[Conv]:
        return [layer for layer in self.layers if isinstance(layer, Conv)]


def path_depth(topology: Sequence, weight) -> int:
    """Longest path through `topology`, where `weight(i)` is the depth layer i adds."""
    total = 0
    for step in topology.steps:
        if isinstance(step, Parallel):
            total += max(path_depth(branch, weight) for branch in step.branches)
        else:
            total += weight(step)
    return total
