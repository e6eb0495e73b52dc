"""One builder per convolution type (`BUILDERS`, keyed as `CONV_TYPES`), and the modules of the fixed layers.

A builder turns one replaced convolution (with its BatchNorm and activation) into modules exactly as hetcalc
counts that type: `builder(conv, part, options)`, where `part` is the layer's P or G (None where the type has
none) and `options` holds `hetconv_impl` and the `convention`.
"""

from __future__ import annotations

from torch import nn

from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Activation, BatchNorm, Conv, Linear, Pool
from hetcalc.measure.torch.modules import HetConv2d, MaskedHetConv2d, activation, batch_norm, chain


def standard_module(conv: Conv, part: int | None, options: dict) -> nn.Module:
    """Eq. 1: the convolution as the spec writes it (grouped too), then its BatchNorm and activation."""
    return chain([("conv", nn.Conv2d(conv.M, conv.N, conv.kernel, conv.stride, conv.padding, groups=conv.groups,
                                     bias=conv.bias)),
                  ("bn", batch_norm(conv.N, conv.bn)), ("act", activation(conv.act))])


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
    return chain([("conv", layer), ("bn", batch_norm(conv.N, conv.bn)), ("act", activation(conv.act))])


def gwc_pwc_module(conv: Conv, part: int, options: dict) -> nn.Module:
    """Eqs. 10-11: groupwise K x K M -> M (G groups, the stride) then pointwise M -> N, each followed by the
    host's BatchNorm and activation and each with a bias when the host has one (as costs.py counts)."""
    pointwise_bias = conv.bias and options["convention"].pointwise_bias
    return chain([
        ("groupwise", nn.Conv2d(conv.M, conv.M, conv.kernel, conv.stride, conv.padding, groups=part,
                                bias=conv.bias)),
        ("bn1", batch_norm(conv.M, conv.bn)), ("act1", activation(conv.act)),
        ("pointwise", nn.Conv2d(conv.M, conv.N, 1, bias=pointwise_bias)),
        ("bn2", batch_norm(conv.N, conv.bn)), ("act2", activation(conv.act))])


def dwc_pwc_module(conv: Conv, part: int | None, options: dict) -> nn.Module:
    """Eqs. 6-7: depthwise then pointwise, GWC+PWC with G = M."""
    return gwc_pwc_module(conv, conv.M, options)


BUILDERS = {"standard": standard_module, "hetconv": hetconv_module, "gwc_pwc": gwc_pwc_module,
            "dwc_pwc": dwc_pwc_module}


# --------------------------------------------------------------------------- the fixed layers

def linear_module(layer: Linear, flat: bool) -> nn.Module:
    """An FC layer (and its activation), flattening its input first unless it is flat already."""
    return chain([("flatten", nn.Flatten() if not flat else None),
                  ("fc", nn.Linear(layer.in_features, layer.out_features, bias=layer.bias)),
                  ("act", activation(layer.act))])


def pool_module(layer: Pool) -> nn.Module:
    cls = nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d
    return cls(layer.kernel, layer.stride, layer.padding)


def batchnorm_module(layer: BatchNorm) -> nn.Module:
    return chain([("bn", nn.BatchNorm2d(layer.out_shape[0])), ("act", activation(layer.act))])


def activation_module(layer: Activation) -> nn.Module | None:
    return activation(layer.act)


FIXED_BUILDERS = {Pool: pool_module, BatchNorm: batchnorm_module, Activation: activation_module}
