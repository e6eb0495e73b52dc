"""Replaced convolutions as modules, built from their type's realization steps, and the fixed layers' modules.

A replaced convolution (with its BatchNorm and activation) is built exactly as hetcalc counts its type: from the
type's steps (`steps_module`), or by the type's own entry in `BUILDERS` (HetConv, whose split gathers channels
per group). `builder(conv, part, options)`: `part` is the layer's part (None where the type has none), `options`
holds `hetconv_impl` and the `convention`.
"""

from __future__ import annotations

from typing import Callable

from torch import nn

from hetcalc.convtypes import CONV_TYPES
from hetcalc.convtypes.steps import ConvStep, MoveStep

from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.network.graph import Activation, BatchNorm, Conv, Linear, Pool
from hetcalc.measure.torch.modules import HetConv2d, MaskedHetConv2d, activation, batch_norm, chain


def conv2d(c: Conv) -> nn.Module:
    """One convolution step as PyTorch's Conv2d (as the spec writes it: grouped, dilated; asymmetric padding
    as a zero pad before it)."""
    conv = nn.Conv2d(c.M, c.N, c.kernel, c.stride, c.padding if symmetric(c) else 0, groups=c.groups,
                     bias=c.bias, **({"dilation": c.dilation} if c.dilation != (1, 1) else {}))
    return conv if symmetric(c) else padded(c, conv)


def symmetric(c: Conv) -> bool:
    """Whether the convolution pads the same on both sides of each axis (what nn.Conv2d can do itself)."""
    return c.padding_end is None or c.padding_end == c.padding


def padded(c: Conv, conv: nn.Module) -> nn.Module:
    """`conv` (built with no padding) after a zero pad of the layer's top, left, bottom and right."""
    top, left, bottom, right = c.pads
    return nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)), conv)


# Modules of the data-movement steps a type's realization may have (`MoveStep.op` -> factory(conv, part,
# options)): a type whose steps include a movement PyTorch has no layer for registers one entry here.
STEP_MODULES: dict[str, Callable[[Conv, int | None, dict], nn.Module]] = {}


def steps_module(key: str, conv: Conv, part: int | None, options: dict) -> nn.Module:
    """A replaced convolution built from its type's realization steps (hetcalc.convtypes.steps), the same steps
    counting and traffic read: each convolution step a Conv2d with its BatchNorm and activation."""
    ctype = CONV_TYPES[key]
    impl = options["hetconv_impl"] if options["hetconv_impl"] in ctype.impls else ctype.impls[0]
    steps = ctype.realize(conv, part, impl, options["convention"].pointwise_bias)
    convs = [s for s in steps if isinstance(s, ConvStep)]
    suffix = (lambda i: str(i + 1)) if len(convs) > 1 else (lambda i: "")
    parts: list[tuple[str, nn.Module | None]] = []
    for step in steps:
        if isinstance(step, ConvStep):
            c, i = step.conv, convs.index(step)
            name = step.role if step.role != "conv" else "groupwise" if len(convs) > 1 and c.groups > 1 else "conv"
            parts += [(name, conv2d(c)), (f"bn{suffix(i)}", batch_norm(c.N, c.bn)),
                      (f"act{suffix(i)}", activation(c.act))]
        elif isinstance(step, MoveStep) and step.op in STEP_MODULES:
            parts.append((step.op, STEP_MODULES[step.op](conv, part, options)))
        else:
            raise HetcalcError(f"the torch builder has no module for the {step.op if isinstance(step, MoveStep) else step} "
                               f"step of {ctype.label}: register one in hetcalc.measure.torch.STEP_MODULES or a "
                               f"builder in BUILDERS")
    return chain(parts)


def standard_module(conv: Conv, part: int | None, options: dict) -> nn.Module:
    """Eq. 1: the convolution as the spec writes it (grouped too), then its BatchNorm and activation."""
    return chain([("conv", conv2d(conv)), ("bn", batch_norm(conv.N, conv.bn)), ("act", activation(conv.act))])


def hetconv_module(conv: Conv, part: int, options: dict) -> nn.Module:
    """Eqs. 2-4: one HetConv layer (split, masked or fused), then the host's BatchNorm and activation. Its split
    steps gather channels per group, which one module (HetConv2d) does; fused is built masked (dense compute)."""
    impl = options["hetconv_impl"]
    padding = conv.padding if symmetric(conv) else (0, 0)
    if impl == "split":
        if conv.N % part:
            raise OptionError(f"HetConv split realization needs P to divide the output depth N too: layer "
                              f"{conv.name} has N={conv.N}, P={part} (use --hetconv-impl masked)")
        layer: nn.Module = HetConv2d(conv.M, conv.N, conv.kernel, conv.stride, padding, part, conv.bias,
                                     conv.dilation)
    else:
        layer = MaskedHetConv2d(conv.M, conv.N, conv.kernel, conv.stride, padding, part, conv.bias, conv.dilation)
    layer = layer if symmetric(conv) else padded(conv, layer)
    return chain([("conv", layer), ("bn", batch_norm(conv.N, conv.bn)), ("act", activation(conv.act))])


# Types whose realization the generic `steps_module` cannot build; every other type is built from its steps.
BUILDERS: dict[str, Callable[[Conv, int | None, dict], nn.Module]] = {"hetconv": hetconv_module}


def build_replaced(key: str, conv: Conv, part: int | None, options: dict) -> nn.Module:
    """A replaced convolution of type `key`: its own builder if it has one, else built from its steps."""
    builder = BUILDERS.get(key)
    return builder(conv, part, options) if builder else steps_module(key, conv, part, options)


# --------------------------------------------------------------------------- the fixed layers

def linear_module(layer: Linear, flat: bool) -> nn.Module:
    """An FC layer (and its activation), flattening its input first unless it is flat already."""
    return chain([("flatten", nn.Flatten() if not flat else None),
                  ("fc", nn.Linear(layer.in_features, layer.out_features, bias=layer.bias)),
                  ("act", activation(layer.act))])


def pool_module(layer: Pool) -> nn.Module:
    """A pool as the spec writes it: global and adaptive ones adaptive in PyTorch, asymmetric padding padded
    first (with -inf for max pooling, zeros for average pooling), `ceil` as ceil_mode."""
    if layer.is_global or layer.adaptive:
        cls = nn.AdaptiveMaxPool2d if layer.mode == "max" else nn.AdaptiveAvgPool2d
        return cls(layer.out_shape[1:])
    cls = nn.MaxPool2d if layer.mode == "max" else nn.AvgPool2d
    if layer.padding_end is None or layer.padding_end == layer.padding:
        return cls(layer.kernel, layer.stride, layer.padding, ceil_mode=layer.ceil)
    (top, left), (bottom, right) = layer.padding, layer.padding_end
    fill = float("-inf") if layer.mode == "max" else 0.0
    return nn.Sequential(nn.ConstantPad2d((left, right, top, bottom), fill),
                         cls(layer.kernel, layer.stride, 0, ceil_mode=layer.ceil))


def batchnorm_module(layer: BatchNorm) -> nn.Module:
    return chain([("bn", nn.BatchNorm2d(layer.out_shape[0])), ("act", activation(layer.act))])


def activation_module(layer: Activation) -> nn.Module | None:
    return activation(layer.act)


FIXED_BUILDERS = {Pool: pool_module, BatchNorm: batchnorm_module, Activation: activation_module}
