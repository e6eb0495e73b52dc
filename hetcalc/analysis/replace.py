"""Which layers a variant rebuilds: the paper's replacement rule and the convention's ratio accounting."""

from __future__ import annotations

from dataclasses import dataclass

from hetcalc.counting.convention import Convention
from hetcalc.network.graph import Conv, Network


def is_replaced(conv: Conv, first: bool, convention: Convention) -> bool:
    """The paper's rule: every K x K conv (K > 1) except the first; a spec's `replace:` pin wins."""
    replaceable = conv.groups == 1 and conv.K > 1
    if conv.replace is not None:
        return conv.replace and replaceable
    return replaceable and (convention.replace_first or not first)


@dataclass(frozen=True)
class Plan:
    """The layers each variant rebuilds, by index of network.layers."""

    flags: list[bool]  # replaced by the rule (every variant but standard)
    ratio_flags: list[bool]  # with ratio accounting: also 1 x 1 convolutions under ratio_1x1
    replaced: list[Conv]
    ratio_k2: int  # K^2 of the replaced layers, which a 1 x 1 layer's ratio takes (ratio_1x1)


def plan(network: Network, convention: Convention) -> Plan:
    layers = network.layers
    convs = network.convs
    first = convs[0] if convs else None
    flags = [isinstance(layer, Conv) and is_replaced(layer, layer is first, convention) for layer in layers]
    replaced = [layer for layer, flag in zip(layers, flags) if flag]
    ratio_flags = [flag or (convention.ratio_1x1 and isinstance(layer, Conv) and layer.K == 1
                            and layer.groups == 1 and layer.replace is not False
                            and (layer is not first or convention.replace_first))
                   for layer, flag in zip(layers, flags)]
    ratio_k2 = max((c.kernel[0] * c.kernel[1] for c in replaced), default=9)
    return Plan(flags, ratio_flags, replaced, ratio_k2)



TRANSFORMER_KINDS = ("matmul", "norm")  # layers of attention networks that no variant rebuilds


def kept_rule(report) -> str | None:
    """For a network with attention products, norms or per-token FC layers, the rule that only its convolutions
    are replaced, with the share of the standard FLOPs the other layers hold; None for a plain CNN."""
    layers = report.network.layers if report.network is not None else ()
    if not any(layer.kind in TRANSFORMER_KINDS or getattr(layer, "rows", 1) > 1 for layer in layers):
        return None
    total = report.standard.macs
    conv_macs = sum(c.out_area * c.N * (c.M // c.groups) * c.kernel[0] * c.kernel[1] for c in report.network.convs)
    share = f" ({100 * (total - conv_macs) / total:.1f}% of the standard MACs)" if total else ""
    return (f"Only convolutions are replaced: attention's products, norms and FC layers{share} stay standard "
            "in every variant.")
