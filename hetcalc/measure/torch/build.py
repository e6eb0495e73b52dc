"""`build(arch, variant, P, G)`: any hetcalc network as a PyTorch module, each variant as hetcalc counts it.

It follows hetcalc's replacement rule (`report.is_replaced`: the first conv kept, `replace:` pins), so a user
can train or time what they analyzed.
"""

from __future__ import annotations

from typing import Any

from torch import nn

from hetcalc.analysis.api import analyze
from hetcalc.analysis.options import make_convention, parse_variants, split_part_options
from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.counting.convention import Convention
from hetcalc.network.graph import Activation, Add, BatchNorm, Conv, Linear, Network, Pool, Reshape
from hetcalc.measure.torch.builders import build_replaced, standard_module
from hetcalc.measure.torch.modules import HETCONV_IMPLS, MaskedHetConv2d, hetconv_mask
from hetcalc.measure.torch.graph import graph_modules
from hetcalc.measure.torch.walker import Sequence, Walker, topology


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
    parts, convention_options = split_part_options(convention_options)  # a registered type's own part (S=2)
    convention = make_convention(convention, convention_options)  # a preset's name, or fields as keywords
    report = analyze(arch, P=P, G=G, variants=key, convention=convention, se=se, **parts)
    result = report.variant(key)
    network = report.network
    options = {"hetconv_impl": hetconv_impl, "convention": convention}

    def build_conv(index: int, conv: Conv) -> nn.Module:
        if not result.layers[index].replaced:
            return standard_module(conv, None, options)
        return build_replaced(key, conv, result.layers.part(index), options)  # the part it was counted with

    shape = topology_or_none(network)
    if shape is None:  # concat, mul, pad, slice, upsample, ...: every layer a module of one LayerGraph
        modules = {"graph": graph_modules(network, build_conv, se)}
    else:  # chains and residual blocks: nested modules named as the spec nests them
        modules, _ = Walker(network, build_conv, se).sequence(shape, "", nested=False)
    model = BuiltNetwork(modules, architecture=network.name, variant=key, P=result.P, G=result.G,
                         hetconv_impl=hetconv_impl, input_shape=network.input)
    return model.eval()


WALKED = (Conv, Linear, Pool, BatchNorm, Activation, Add)  # the layers the walker builds (and flatten)


def topology_or_none(network: Network) -> Sequence | None:
    """The chains-and-residual-blocks shape of `network` when the walker can build it, else None."""
    if not all(isinstance(layer, WALKED) or (isinstance(layer, Reshape) and layer.op == "flatten")
               for layer in network.layers):
        return None
    try:
        return topology(network)
    except HetcalcError:  # branches that are not a two-branch residual block
        return None


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
