"""PyTorch modules from a hetcalc network: each variant built exactly as hetcalc counts it.

`build(arch, variant, P, G)` turns any `Network` (a built-in, a YAML spec, a dict) into an `nn.Module` in
eval mode, following hetcalc's replacement rule (`report.is_replaced`: the first conv kept, `replace:`
pins), so a user can train or time what they analyzed. torch is imported here and nowhere on the main path:
`hetcalc.build_module` loads this module only when it is called.

HetConv has three realizations (`hetconv_impl`):
- `split`: a grouped K x K convolution with P groups, plus a gather of each group's M - M/P other input
  channels and a grouped 1 x 1 convolution over them, added (`HetConv2d`);
- `masked`: a dense K x K convolution whose weights are masked to HetConv's pattern (`MaskedHetConv2d`);
- `fused`: the paper's one kernel with HetConv's FLOPs. PyTorch has no such kernel, so it is built as
  `masked` (dense compute); the time model prices it, `hetcalc measure` cannot.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hetcalc.counting.convention import Convention
from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.network.graph import INPUT, Activation, Add, BatchNorm, Conv, Linear, Network, Pool, Reshape
from hetcalc.analysis.report import analyze, layer_part, parse_variants


@dataclass(frozen=True)
class Parallel:
    """Branches that run side by side and meet in the Add after them (a residual block)."""

    branches: tuple["Sequence", ...]


@dataclass(frozen=True)
class Sequence:
    """Steps run one after another: layer indices, or Parallel blocks."""

    steps: tuple = ()


HETCONV_IMPLS = ("split", "masked", "fused")


# --------------------------------------------------------------------------- HetConv realizations

def _centre(kernel: tuple[int, int]) -> tuple[int, int]:
    """The tap a 1 x 1 kernel sits on inside a K x K window: the middle, the upper-left one if K is even."""
    return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2


def group_of_filter(n: int, out_channels: int, part: int) -> int:
    """Which input block filter n owns K x K kernels on: contiguous runs of N/P filters per block."""
    return n * part // out_channels


class HetConv2d(nn.Module):
    """HetConv with part P, split (eqs. 2-4 as built): a grouped K x K conv (P groups, M -> N) on the input,
    plus a grouped 1 x 1 conv (P groups) over a gather of each group's M - M/P other input channels, added.

    Filter n of group g (n // (N/P) = g) has K x K kernels on input channels [g M/P, (g+1) M/P) and 1 x 1
    kernels on every other channel, aligned with the K x K window's centre tap.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel, stride=1, padding=0, part: int = 1,
                 bias: bool = False) -> None:
        super().__init__()
        kernel, stride, padding = _pair(kernel), _pair(stride), _pair(padding)
        if part < 1 or in_channels % part or out_channels % part:
            raise OptionError(f"HetConv split needs P to divide both M and N, got P={part}, M={in_channels}, "
                              f"N={out_channels}")
        self.in_channels, self.out_channels, self.part = in_channels, out_channels, part
        self.kernel_size, self.stride, self.padding = kernel, stride, padding
        self.kxk = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, groups=part, bias=bias)
        block = in_channels // part
        others = in_channels - block
        if others == 0:  # P = 1: every kernel is K x K, a standard convolution
            self.pointwise = None
            self.register_buffer("index", torch.zeros(0, dtype=torch.long), persistent=False)
            self.shift = None
            return
        index = [c for g in range(part) for c in range(in_channels) if not g * block <= c < (g + 1) * block]
        self.register_buffer("index", torch.tensor(index, dtype=torch.long), persistent=False)
        # tap alignment: output o of the K x K conv has its centre tap on input row o*s - p + centre
        offset = tuple(p - c for p, c in zip(padding, _centre(kernel)))
        self.pointwise = nn.Conv2d(part * others, out_channels, 1, stride, 0, groups=part, bias=False)
        self.shift = offset  # padding of the 1 x 1 path per axis (negative: crop), fixed up in forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.kxk(x)
        if self.pointwise is None:
            return y
        (oh, ow), (ho, wo) = self.shift, y.shape[-2:]
        sh, sw = self.stride
        # the 1 x 1 path needs input rows o*s + (centre - p) for o < ho: pad (negative: crop) to exactly that
        bottom = (ho - 1) * sh + 1 - (x.shape[-2] + oh)
        right = (wo - 1) * sw + 1 - (x.shape[-1] + ow)
        if (oh, ow) != (0, 0) or bottom > 0 or right > 0:
            x = F.pad(x, (ow, right, oh, bottom))
        z = self.pointwise(x.index_select(1, self.index))
        if z.shape[-2:] != y.shape[-2:]:  # a stride left a row or column over
            z = z[..., :ho, :wo]
        return y + z

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, part={self.part}")


def hetconv_mask(in_channels: int, out_channels: int, kernel, part: int, device=None) -> torch.Tensor:
    """HetConv's pattern on a dense (N, M, kh, kw) weight: filter n in group g keeps its full K x K kernel on
    input block g and only the centre tap on the M - M/P other channels."""
    kh, kw = _pair(kernel)
    block = in_channels // part
    groups = torch.arange(out_channels, device=device) * part // out_channels  # group_of_filter, vectorized
    own = (torch.arange(in_channels, device=device) // block)[None, :] == groups[:, None]  # (N, M)
    mask = own[:, :, None, None].expand(out_channels, in_channels, kh, kw).clone()
    ch, cw = _centre((kh, kw))
    mask[:, :, ch, cw] = True
    return mask.to(torch.get_default_dtype())


class MaskedHetConv2d(nn.Conv2d):
    """HetConv as a dense K x K convolution whose weights are masked to HetConv's pattern in every forward
    pass (standard's compute; its nonzero weights are HetConv's parameters)."""

    def __init__(self, in_channels: int, out_channels: int, kernel, stride=1, padding=0, part: int = 1,
                 bias: bool = False) -> None:
        if part < 1 or in_channels % part:
            raise OptionError(f"HetConv needs P to divide M, got P={part}, M={in_channels}")
        super().__init__(in_channels, out_channels, kernel, stride, padding, bias=bias)
        self.part = part
        self.register_buffer("mask", hetconv_mask(in_channels, out_channels, self.kernel_size, part))
        if not self.weight.is_meta:
            with torch.no_grad():
                self.weight.mul_(self.mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", part={self.part}"


# --------------------------------------------------------------------------- other building blocks

class ZeroPadShortcut(nn.Module):
    """He et al.'s option-A shortcut: subsample, then append zero channels. No parameters, no FLOPs."""

    def __init__(self, stride: tuple[int, int], extra_channels: int) -> None:
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sh, sw = self.stride
        if (sh, sw) != (1, 1):
            x = x[:, :, ::sh, ::sw]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels)) if self.extra_channels else x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


class SqueezeExcitation(nn.Module):
    """Hu et al.'s s = sigmoid(W2 relu(W1 z)) on C channels, FC C -> C/r -> C without biases (as hetcalc counts)."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class Residual(nn.Module):
    """A residual block: body and shortcut side by side, added, then the block's activation."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, act: nn.Module | None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class BuiltNetwork(nn.Sequential):
    """The module `build` returns: an nn.Sequential that remembers what it was built from."""

    def __init__(self, modules: dict[str, nn.Module], *, architecture: str, variant: str, P: Any, G: Any,
                 hetconv_impl: str, input_shape: tuple[int, int, int]) -> None:
        super().__init__()
        for name, module in modules.items():
            self.add_module(name, module)
        self.architecture, self.variant, self.P, self.G = architecture, variant, P, G
        self.hetconv_impl, self.input_shape = hetconv_impl, input_shape

    def extra_repr(self) -> str:
        return f"architecture={self.architecture!r}, variant={self.variant!r}, P={self.P!r}, G={self.G!r}"


ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True), "relu6": lambda: nn.ReLU6(inplace=True), "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh, "gelu": nn.GELU, "silu": lambda: nn.SiLU(inplace=True),
    "hardswish": lambda: nn.Hardswish(inplace=True), "leaky_relu": lambda: nn.LeakyReLU(inplace=True),
}


def _pair(value) -> tuple[int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def _act(name: str | None) -> nn.Module | None:
    if name is None:
        return None
    if name not in ACTIVATIONS:
        raise HetcalcError(f"the torch builder has no activation {name!r}")
    return ACTIVATIONS[name]()


def _block(parts: list[tuple[str, nn.Module | None]]) -> nn.Sequential:
    return nn.Sequential(OrderedDict((name, m) for name, m in parts if m is not None))


def _bn(channels: int, on: bool) -> nn.Module | None:
    return nn.BatchNorm2d(channels) if on else None


# --------------------------------------------------------------------------- one builder per conv type

def standard_module(conv: Conv, part: int | None, options: dict) -> nn.Module:
    """Eq. 1: the convolution as the spec writes it (grouped too), then its BatchNorm and activation."""
    return _block([("conv", nn.Conv2d(conv.M, conv.N, conv.kernel, conv.stride, conv.padding, groups=conv.groups,
                                      bias=conv.bias)),
                   ("bn", _bn(conv.N, conv.bn)), ("act", _act(conv.act))])


def hetconv_module(conv: Conv, part: int, options: dict) -> nn.Module:
    """Eqs. 2-4: one HetConv layer (split, masked or fused), then the host's BatchNorm and activation."""
    impl = options["hetconv_impl"]
    if impl == "split":
        if conv.N % part:
            raise OptionError(f"HetConv split realization needs P to divide the output depth N too: layer "
                              f"{conv.name} has N={conv.N}, P={part} (use --hetconv-impl masked)")
        layer: nn.Module = HetConv2d(conv.M, conv.N, conv.kernel, conv.stride, conv.padding, part, conv.bias)
    else:
        layer = MaskedHetConv2d(conv.M, conv.N, conv.kernel, conv.stride, conv.padding, part, conv.bias)
    return _block([("conv", layer), ("bn", _bn(conv.N, conv.bn)), ("act", _act(conv.act))])


def gwc_pwc_module(conv: Conv, part: int, options: dict) -> nn.Module:
    """Eqs. 10-11: groupwise K x K M -> M (G groups, the stride) then pointwise M -> N, each followed by the
    host's BatchNorm and activation and each with a bias when the host has one (as costs.py counts)."""
    pointwise_bias = conv.bias and options["convention"].pointwise_bias
    return _block([
        ("groupwise", nn.Conv2d(conv.M, conv.M, conv.kernel, conv.stride, conv.padding, groups=part,
                                bias=conv.bias)),
        ("bn1", _bn(conv.M, conv.bn)), ("act1", _act(conv.act)),
        ("pointwise", nn.Conv2d(conv.M, conv.N, 1, bias=pointwise_bias)),
        ("bn2", _bn(conv.N, conv.bn)), ("act2", _act(conv.act))])


def dwc_pwc_module(conv: Conv, part: int | None, options: dict) -> nn.Module:
    """Eqs. 6-7: depthwise then pointwise, GWC+PWC with G = M."""
    return gwc_pwc_module(conv, conv.M, options)


BUILDERS = {"standard": standard_module, "hetconv": hetconv_module, "gwc_pwc": gwc_pwc_module,
            "dwc_pwc": dwc_pwc_module}


# --------------------------------------------------------------------------- the network

class _Walker:
    """Builds modules from the network's topology: sequences, residual blocks (a Parallel then its Add)."""

    def __init__(self, network: Network, replaced: list[bool], build_conv, se: int | None) -> None:
        self.network, self.replaced, self.build_conv, self.se = network, replaced, build_conv, se

    def sequence(self, seq: Sequence, prefix: str, nested: bool) -> tuple[dict[str, nn.Module], bool]:
        """Named modules of a sequence, and whether its output is flat (B, features) after an FC layer."""
        modules: dict[str, nn.Module] = {}
        flat = False
        steps = seq.steps
        i = 0
        while i < len(steps):
            step = steps[i]
            if isinstance(step, Parallel):
                if i + 1 >= len(steps) or not isinstance(self.network.layers[steps[i + 1]], Add):
                    raise HetcalcError("the torch builder expects every parallel block to end in an add")
                if flat:
                    modules[self._name(modules, "unflatten", "")] = _unflatten(step, self.network)
                    flat = False
                add = self.network.layers[steps[i + 1]]
                modules[self._name(modules, add.name.removesuffix("add").rstrip("."), prefix)] = \
                    self.residual(step, add)
                i += 2
                continue
            layer = self.network.layers[step]
            if isinstance(layer, Reshape) and layer.op == "flatten":  # the FC after it takes it flat
                modules[self._name(modules, layer.name, prefix)] = nn.Flatten() if not flat else nn.Identity()
                flat = True
                i += 1
                continue
            if isinstance(layer, Linear):
                modules[self._name(modules, layer.name, prefix)] = _block([
                    ("flatten", nn.Flatten() if not flat else None),
                    ("fc", nn.Linear(layer.in_features, layer.out_features, bias=layer.bias)),
                    ("act", _act(layer.act))])
                flat = True
            else:
                if flat:
                    modules[self._name(modules, "unflatten", "")] = nn.Unflatten(1, layer.in_shape)
                    flat = False
                if isinstance(layer, Conv):
                    module = self.build_conv(step, layer)
                    if self.se and not nested:
                        module.add_module("se", SqueezeExcitation(layer.N, self.se))
                elif isinstance(layer, Pool):
                    module = _pool(layer)
                elif isinstance(layer, BatchNorm):
                    module = _block([("bn", nn.BatchNorm2d(layer.out_shape[0])), ("act", _act(layer.act))])
                elif isinstance(layer, Activation):
                    module = _act(layer.act)
                else:
                    raise HetcalcError(f"the torch builder cannot build layer {layer.name} ({layer.kind}) here")
                modules[self._name(modules, layer.name, prefix)] = module
            i += 1
        return modules, flat

    def residual(self, block: Parallel, add: Add) -> Residual:
        prefix = add.name.removesuffix("add")
        branches = []
        for branch in block.branches:
            modules, flat = self.sequence(branch, prefix, nested=True)
            if flat:  # an FC branch: back to (B, C, 1, 1) so both branches add element by element
                modules[self._name(modules, "unflatten", "")] = nn.Unflatten(1, add.out_shape)
            branches.append(modules)
        body = nn.Sequential(OrderedDict(branches[0]))
        if self.se:  # once per residual block, on the body before the add (Hu et al.'s SE-ResNet)
            body.add_module("se", SqueezeExcitation(add.out_shape[0], self.se))
        if len(branches) > 2:
            raise HetcalcError(f"the torch builder handles two-branch residual blocks, {add.name} has "
                               f"{len(branches)}")
        shortcut = nn.Sequential(OrderedDict(branches[1])) if branches[1] else self.empty_shortcut(block, add)
        return Residual(body, shortcut, _act(add.act))

    def empty_shortcut(self, block: Parallel, add: Add) -> nn.Module:
        """identity, or zero_pad when the body changes the shape (the spec has checked that it fits)."""
        c, h, w = _block_input(block, self.network)
        n, ho, wo = add.out_shape
        if (c, h, w) == (n, ho, wo):
            return nn.Identity()
        return ZeroPadShortcut((-(-h // ho), -(-w // wo)), n - c)

    @staticmethod
    def _name(modules: dict, name: str, prefix: str) -> str:
        """A module name from a layer name: the block prefix dropped, dots (not allowed) as underscores."""
        if prefix and name.startswith(prefix):
            name = name[len(prefix):]
        name = name.replace(".", "_") or "block"
        base, k = name, 1
        while name in modules or hasattr(nn.Sequential, name):
            k += 1
            name = f"{base}_{k}"
        return name


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


def _first_layer(seq: Sequence, network: Network):
    for step in seq.steps:
        if isinstance(step, Parallel):
            return _first_layer(step.branches[0], network) or _first_layer(step.branches[1], network)
        return network.layers[step]
    return None


def _block_input(block: Parallel, network: Network) -> tuple[int, int, int]:
    """The shape entering a residual block: its body's first layer's input."""
    for branch in block.branches:
        first = _first_layer(branch, network)
        if first is not None:
            return first.in_shape
    raise HetcalcError("a residual block with no layer on either branch")


def _unflatten(block: Parallel, network: Network) -> nn.Module:
    return nn.Unflatten(1, _block_input(block, network))


def _pool(layer: Pool) -> nn.Module:
    cls = nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d
    return cls(layer.kernel, layer.stride, layer.padding)


def build(arch: Any, variant: str = "standard", P: Any = 4, G: Any = None, hetconv_impl: str = "split",
          convention: Convention | None = None, se: int | None = None, **convention_options: Any) -> BuiltNetwork:
    """`arch` (a built-in name, a YAML path, a spec dict or a Network) as a PyTorch module in eval mode.

    `variant` is one of standard, hetconv, gwc_pwc, dwc_pwc (aliases as in `analyze`); P, G, `convention`
    (or its fields as keywords: replace_first, pointwise_bias) and `se` mean what they mean to `analyze`,
    whose checks they pass through. Weights are PyTorch's default initialization.
    """
    keys = parse_variants(variant)
    if len(keys) != 1:
        raise OptionError(f"build makes one variant at a time, got {variant!r}")
    key = keys[0]
    if hetconv_impl not in HETCONV_IMPLS:
        raise OptionError(f"HetConv realization must be one of {', '.join(HETCONV_IMPLS)}, got {hetconv_impl!r}")
    convention = convention or Convention(**convention_options)
    report = analyze(arch, P=P, G=G, variants=key, convention=convention, se=se)
    result = report.variant(key)
    network = report.network
    part = result.P if key == "hetconv" else result.G if key == "gwc_pwc" else None
    options = {"hetconv_impl": hetconv_impl, "convention": convention}
    replaced = [layer.replaced for layer in result.layers]

    def build_conv(index: int, conv: Conv) -> nn.Module:
        if not replaced[index]:
            return standard_module(conv, None, options)
        _, _, own = result.layers[index].realization.partition("=")  # its own P (spec, --P-at) or the run's
        p = int(own) if own.isdigit() else (None if part is None else layer_part(part, conv))
        return BUILDERS[key](conv, p, options)

    modules, _ = _Walker(network, replaced, build_conv, se).sequence(topology(network), "", nested=False)
    model = BuiltNetwork(modules, architecture=network.name, variant=key, P=result.P, G=result.G,
                         hetconv_impl=hetconv_impl, input_shape=network.input)
    return model.eval()


def parameter_count(module: nn.Module) -> int:
    """Learnable parameters: sum of numel(), except that a masked HetConv weight counts its nonzeros only
    (HetConv's parameters, eqs. 2-4)."""
    total = 0
    for m in module.modules():
        for name, p in m.named_parameters(recurse=False):
            if isinstance(m, MaskedHetConv2d) and name == "weight":
                mask = m.mask if not m.mask.is_meta else hetconv_mask(m.in_channels, m.out_channels,
                                                                      m.kernel_size, m.part, "cpu")
                total += int(mask.count_nonzero())
            else:
                total += p.numel()
    return total
