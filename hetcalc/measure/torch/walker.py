"""The network's topology as chains and two-branch residual blocks, and the walk that turns it into modules."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

from torch import nn

from hetcalc.core.errors import HetcalcError
from hetcalc.network.graph import INPUT, Add, Conv, Linear, Network, Reshape
from hetcalc.measure.torch.builders import FIXED_BUILDERS, linear_module
from hetcalc.measure.torch.modules import Residual, SqueezeExcitation, ZeroPadShortcut, activation


@dataclass(frozen=True)
class Parallel:
    """Branches that run side by side and meet in the Add after them (a residual block)."""

    branches: tuple["Sequence", ...]


@dataclass(frozen=True)
class Sequence:
    """Steps run one after another: layer indices, or Parallel blocks."""

    steps: tuple = ()


def topology(network: Network) -> Sequence:
    """The graph as chains and two-branch residual blocks (what this builder makes), from its edges.

    A layer read by more than one later layer of its stretch starts a block: its first reader begins the
    body, its second begins the shortcut (or is the block's Add, for an identity or zero-pad shortcut).
    """
    edges = network.edges
    layers = network.layers

    def seq(lo: int, hi: int, entry: int) -> Sequence:
        steps: list = []
        cur, i = entry, lo
        while i < hi:
            readers = [j for j in range(i, hi) if cur in edges[j]]
            if not readers or readers[0] != i:
                raise HetcalcError(f"the torch builder makes chains and residual blocks; layer "
                                   f"{layers[i].name} does not read the layer before it")
            if len(readers) == 1:
                if len(edges[i]) != 1:
                    raise HetcalcError(f"the torch builder makes chains and residual blocks; "
                                       f"{layers[i].name} ({layers[i].kind}) joins other branches")
                steps.append(i)
                cur, i = i, i + 1
                continue
            second = readers[1]
            if isinstance(layers[second], Add) and len(edges[second]) == 2:
                add, short = second, Sequence(())
            else:
                add = next((a for a in range(second + 1, hi) if isinstance(layers[a], Add)
                            and len(edges[a]) == 2 and min(edges[a]) < second <= max(edges[a])), None)
                if add is None:
                    raise HetcalcError(f"the torch builder makes chains and residual blocks; the branches "
                                       f"from {layers[i].name} do not meet in an add")
                short = seq(second, add, cur)
            steps.append(Parallel((seq(i, second, cur), short)))
            steps.append(add)
            cur, i = add, add + 1
        return Sequence(tuple(steps))

    return seq(0, len(layers), INPUT)


class Walker:
    """Builds modules from the network's topology: sequences, residual blocks (a Parallel then its Add).

    `build_conv(index, conv)` makes each convolution's module; `se` adds squeeze-and-excitation blocks
    where hetcalc counts them (after every top-level convolution, once per residual block).
    """

    def __init__(self, network: Network, build_conv: Callable[[int, Conv], nn.Module], se: int | None) -> None:
        self.network, self.build_conv, self.se = network, build_conv, se

    def sequence(self, seq: Sequence, prefix: str, nested: bool) -> tuple[dict[str, nn.Module], bool]:
        """Named modules of a sequence, and whether its output is flat (B, features) after an FC layer."""
        modules: dict[str, nn.Module] = {}
        flat = False
        steps = seq.steps
        i = 0
        while i < len(steps):
            step = steps[i]
            if not isinstance(step, Parallel):
                flat = self.layer(modules, step, prefix, nested, flat)
                i += 1
                continue
            if i + 1 >= len(steps) or not isinstance(self.network.layers[steps[i + 1]], Add):
                raise HetcalcError("the torch builder expects every parallel block to end in an add")
            if flat:
                modules[module_name(modules, "unflatten", "")] = nn.Unflatten(1, block_input(step, self.network))
                flat = False
            add = self.network.layers[steps[i + 1]]
            modules[module_name(modules, add.name.removesuffix("add").rstrip("."), prefix)] = \
                self.residual(step, add)
            i += 2
        return modules, flat

    def layer(self, modules: dict[str, nn.Module], index: int, prefix: str, nested: bool, flat: bool) -> bool:
        """Add the module of layer `index` to `modules`; return whether its output is flat."""
        layer = self.network.layers[index]
        if isinstance(layer, Reshape) and layer.op == "flatten":  # the FC after it takes it flat
            modules[module_name(modules, layer.name, prefix)] = nn.Flatten() if not flat else nn.Identity()
            return True
        if isinstance(layer, Linear):
            modules[module_name(modules, layer.name, prefix)] = linear_module(layer, flat)
            return True
        if flat:
            modules[module_name(modules, "unflatten", "")] = nn.Unflatten(1, layer.in_shape)
        if isinstance(layer, Conv):
            module = self.build_conv(index, layer)
            if self.se and not nested:
                module.add_module("se", SqueezeExcitation(layer.N, self.se))
        elif type(layer) in FIXED_BUILDERS:
            module = FIXED_BUILDERS[type(layer)](layer)
        else:
            raise HetcalcError(f"the torch builder cannot build layer {layer.name} ({layer.kind}) here")
        modules[module_name(modules, layer.name, prefix)] = module
        return False

    def residual(self, block: Parallel, add: Add) -> Residual:
        prefix = add.name.removesuffix("add")
        branches = []
        for branch in block.branches:
            modules, flat = self.sequence(branch, prefix, nested=True)
            if flat:  # an FC branch: back to (B, C, 1, 1) so both branches add element by element
                modules[module_name(modules, "unflatten", "")] = nn.Unflatten(1, add.out_shape)
            branches.append(modules)
        body = nn.Sequential(OrderedDict(branches[0]))
        if self.se:  # once per residual block, on the body before the add (Hu et al.'s SE-ResNet)
            body.add_module("se", SqueezeExcitation(add.out_shape[0], self.se))
        if len(branches) > 2:
            raise HetcalcError(f"the torch builder handles two-branch residual blocks, {add.name} has "
                               f"{len(branches)}")
        shortcut = nn.Sequential(OrderedDict(branches[1])) if branches[1] else self.empty_shortcut(block, add)
        return Residual(body, shortcut, activation(add.act))

    def empty_shortcut(self, block: Parallel, add: Add) -> nn.Module:
        """identity, or zero_pad when the body changes the shape (the spec has checked that it fits)."""
        c, h, w = block_input(block, self.network)
        n, ho, wo = add.out_shape
        if (c, h, w) == (n, ho, wo):
            return nn.Identity()
        return ZeroPadShortcut((-(-h // ho), -(-w // wo)), n - c)


def module_name(modules: dict, name: str, prefix: str) -> str:
    """A module name from a layer name: the block prefix dropped, dots (not allowed) as underscores."""
    if prefix and name.startswith(prefix):
        name = name[len(prefix):]
    name = name.replace(".", "_") or "block"
    base, k = name, 1
    while name in modules or hasattr(nn.Sequential, name):
        k += 1
        name = f"{base}_{k}"
    return name


def _first_layer(seq: Sequence, network: Network):
    for step in seq.steps:
        if isinstance(step, Parallel):
            return _first_layer(step.branches[0], network) or _first_layer(step.branches[1], network)
        return network.layers[step]
    return None


def block_input(block: Parallel, network: Network) -> tuple[int, int, int]:
    """The shape entering a residual block: its body's first layer's input."""
    for branch in block.branches:
        first = _first_layer(branch, network)
        if first is not None:
            return first.in_shape
    raise HetcalcError("a residual block with no layer on either branch")
