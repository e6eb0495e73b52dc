"""Any layer graph as one module: every layer a module, run in topological order over the network's edges.

The walker (`walker.py`) makes readable nested modules for chains and residual blocks; a network it cannot
express (concat, mul, Squeeze-and-Excitation written out, pad, slice, upsample, reshape, branches that do not
meet in an add) is built here instead. Tensors stay (B, C, H, W) between layers, an FC layer's output as
(B, N, 1, 1); the network's output is flattened to (B, N) when it ends in an FC layer or a flatten.
Data movement follows the layer's shapes as `hetcalc import` writes them: padding goes below and right, a
slice keeps the leading channels, rows and columns.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
import torch.nn.functional as F
from torch import nn

from hetcalc.core.errors import HetcalcError
from hetcalc.network.graph import (INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, Mul, Network, Pool,
                                   Reshape, Shape)
from hetcalc.measure.torch.builders import batchnorm_module, pool_module
from hetcalc.measure.torch.modules import SqueezeExcitation, ZeroPadShortcut, activation


class Join(nn.Module):
    """Add, Mul (broadcasting a 1 x 1 map, as SE's scale) or Concat of a layer's inputs, then its activation.

    An add whose input differs in shape from its output (a parameter-free shortcut) is subsampled and padded
    with zero channels to fit, as the spec's `zero_pad` shortcut."""

    def __init__(self, op: str, in_shapes: tuple[Shape, ...], out_shape: Shape, act: str | None = None) -> None:
        super().__init__()
        self.op = op
        self.fit = nn.ModuleList(
            nn.Identity() if op != "add" or s == out_shape else
            ZeroPadShortcut((-(-s[1] // out_shape[1]), -(-s[2] // out_shape[2])), out_shape[0] - s[0])
            for s in in_shapes)
        self.act = activation(act) or nn.Identity()

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        xs = tuple(fit(x) for fit, x in zip(self.fit, xs))
        if self.op == "concat":
            return self.act(torch.cat(xs, 1))
        out = xs[0]
        for x in xs[1:]:
            out = out + x if self.op == "add" else out * x
        return self.act(out)

    def extra_repr(self) -> str:
        return self.op


class Move(nn.Module):
    """Data movement without arithmetic: flatten, reshape, pad, slice or upsample to the layer's out shape."""

    def __init__(self, op: str, in_shape: Shape, out_shape: Shape, mode: str = "") -> None:
        super().__init__()
        self.op, self.in_shape, self.out_shape, self.mode = op, in_shape, out_shape, mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, h, w = self.out_shape
        if self.op in ("flatten", "reshape"):
            return x.reshape(x.shape[0], c, h, w)
        if self.op == "slice":
            return x[:, :c, :h, :w]
        if self.op == "pad":
            bottom, right = h - x.shape[-2], w - x.shape[-1]
            mode = {"edge": "replicate", "": "constant"}.get(self.mode, self.mode)
            return F.pad(x, (0, right, 0, bottom), mode=mode)
        if self.op == "upsample":
            mode = self.mode or "nearest"
            extra = {} if mode == "nearest" else {"align_corners": False}
            return F.interpolate(x, size=(h, w), mode=mode, **extra)
        raise HetcalcError(f"the torch builder has no module for a {self.op!r} layer")

    def extra_repr(self) -> str:
        return f"{self.op}{' ' + self.mode if self.mode else ''} -> {self.out_shape}"


class Dense(nn.Module):
    """An FC layer on a (B, C, H, W) input: flattened, the linear map, its activation, back to (B, N, 1, 1)."""

    def __init__(self, layer: Linear) -> None:
        super().__init__()
        self.fc = nn.Linear(layer.in_features, layer.out_features, bias=layer.bias)
        self.act = activation(layer.act) or nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.fc(x.flatten(1)))[:, :, None, None]


class WithSE(nn.Module):
    """A layer (of any number of inputs) followed by a squeeze-and-excitation block (the `se` option)."""

    def __init__(self, layer: nn.Module, se: nn.Module) -> None:
        super().__init__()
        self.layer, self.se = layer, se

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return self.se(self.layer(*xs))


class LayerGraph(nn.Module):
    """The network's layers, one module each (named after the layer), run in order over `reads`.

    `reads[i]` are the indices layer i takes (-1: the network's input); an output is dropped after its last
    reader, so memory follows the graph's width, not its length."""

    def __init__(self, modules: dict[str, nn.Module], reads: list[tuple[int, ...]], flat_output: bool) -> None:
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)
        self.names = list(modules)
        self.reads = reads
        last_use: dict[int, int] = {}
        for i, ins in enumerate(reads):
            for j in ins:
                last_use[j] = i
        self.release = [[j for j in set(ins) if last_use[j] == i and j != len(reads) - 1] for i, ins in
                        enumerate(reads)]
        self.flat_output = flat_output

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outputs: dict[int, torch.Tensor] = {INPUT: x}
        for i, (name, ins) in enumerate(zip(self.names, self.reads)):
            outputs[i] = getattr(self, name)(*(outputs[j] for j in ins))
            for j in self.release[i]:
                del outputs[j]
        out = outputs[len(self.reads) - 1]
        return out.flatten(1) if self.flat_output else out


def layer_module(layer: Any, in_shapes: tuple[Shape, ...]) -> nn.Module:
    """The module of one layer other than a convolution."""
    if isinstance(layer, Linear):
        return Dense(layer)
    if isinstance(layer, (Add, Mul, Concat)):
        return Join(layer.kind, in_shapes, layer.out_shape, getattr(layer, "act", None))
    if isinstance(layer, Pool):
        return pool_module(layer)
    if isinstance(layer, BatchNorm):
        return batchnorm_module(layer)
    if isinstance(layer, Activation):
        return activation(layer.act)
    if isinstance(layer, Reshape):
        return Move(layer.op, layer.in_shape, layer.out_shape, layer.mode)
    raise HetcalcError(f"the torch builder cannot build layer {layer.name} ({layer.kind})")


def graph_modules(network: Network, build_conv: Callable[[int, Conv], nn.Module], se: int | None) -> LayerGraph:
    """Every layer of `network` as a module of one LayerGraph; `se` adds squeeze-and-excitation where hetcalc
    counts it (after each convolution every path passes through, and after each add)."""
    trunk = network.trunk() if se else set()
    shapes = [layer.out_shape for layer in network.layers]
    modules: dict[str, nn.Module] = {}
    for i, (layer, ins) in enumerate(zip(network.layers, network.edges)):
        if isinstance(layer, Conv):
            module = build_conv(i, layer)
        else:
            module = layer_module(layer, tuple(network.input if j == INPUT else shapes[j] for j in ins))
        module = module if module is not None else nn.Identity()
        if se and ((isinstance(layer, Conv) and i in trunk) or isinstance(layer, Add)):
            module = WithSE(module, SqueezeExcitation(layer.out_shape[0], se))
        modules[unique_name(modules, layer.name)] = module
    last = network.layers[-1]
    flat = isinstance(last, Linear) or (isinstance(last, Reshape) and last.op == "flatten")
    return LayerGraph(modules, [tuple(ins) for ins in network.edges], flat)


def unique_name(modules: dict, name: str) -> str:
    """A module name from a layer name: dots (not allowed in module names) as underscores, made unique."""
    name = name.replace(".", "_").replace("/", "_") or "layer"
    base, k = name, 1
    while name in modules or hasattr(LayerGraph, name):
        k += 1
        name = f"{base}_{k}"
    return name
