"""Raw counts of every layer, and the registry of the four ways to build a K x K convolution.

Each cost function is pure: a `Conv` and its part (P or G) in, a tuple of `Piece`s out, one piece per
sequential layer of the realization. Adding a convolution type is one function and one registry line.
"""

from __future__ import annotations

from typing import Callable

from hetcalc.network.graph import Activation, Add, BatchNorm, Concat, Conv, Layer, Linear, Mul, Pool, Reshape
from hetcalc.core.records import Record, record


@record
class Piece(Record):
    """One realized layer in raw, convention-free counts (all exact integers)."""

    macs: int = 0
    weights: int = 0
    biases: int = 0  # bias parameters
    bias_adds: int = 0  # one add per biased output element
    bn_channels: int = 0
    bn_elements: int = 0
    act_elements: int = 0
    act_kind: str | None = None  # the activation those elements go through (relu, gelu, ...)
    pool_ops: int = 0
    add_ops: int = 0
    se_ops: int = 0  # Squeeze-and-Excitation squeeze and scale
    pool_inputs: int = 0  # input elements of a pooling layer (max or average)
    avg_outputs: int = 0  # output elements of an average pool (one division each)
    gap_inputs: int = 0  # input elements of a global average pool
    conv_outputs: int = 0  # output elements of a convolution
    depth: int = 0  # sequential conv/fc layers on the path (latency)


def _conv_piece(*, macs: int, weights: int, out_channels: int, out_area: int, bias: bool, bn: bool,
                act: str | None) -> Piece:
    elements = out_channels * out_area
    return Piece(macs=macs, weights=weights, biases=out_channels if bias else 0, conv_outputs=elements,
                 bias_adds=elements if bias else 0, bn_channels=out_channels if bn else 0,
                 bn_elements=elements if bn else 0, act_elements=elements if act else 0, act_kind=act,
                 depth=1)


def standard_cost(conv: Conv, part: int | None = None) -> tuple[Piece, ...]:
    """Standard (possibly grouped) convolution, eq. 1: D_o^2 * M * N * K^2 (divided by its groups)."""
    kh, kw = conv.kernel
    weights = conv.N * (conv.M // conv.groups) * kh * kw
    return (_conv_piece(macs=conv.out_area * weights, weights=weights, out_channels=conv.N,
                        out_area=conv.out_area, bias=conv.bias, bn=conv.bn, act=conv.act),)


def hetconv_cost(conv: Conv, part: int | None) -> tuple[Piece, ...]:
    """HetConv with part P, eqs. 2-4: each filter has M/P kernels K x K and M - M/P kernels 1 x 1."""
    kh, kw = conv.kernel
    big = conv.M // part
    weights = conv.N * (big * kh * kw + conv.M - big)
    return (_conv_piece(macs=conv.out_area * weights, weights=weights, out_channels=conv.N,
                        out_area=conv.out_area, bias=conv.bias, bn=conv.bn, act=conv.act),)


def gwc_pwc_cost(conv: Conv, part: int | None) -> tuple[Piece, ...]:
    """Groupwise K x K conv M -> M with G groups (carrying the stride), then pointwise M -> N (eq. 10).

    Counts the layers as built: D_o^2 * M * (M/G) * K^2 + D_o^2 * M * N, which is eq. 10 when M = N.
    The network's normalization and activation follow the groupwise layer too.
    """
    kh, kw = conv.kernel
    group_weights = conv.M * (conv.M // part) * kh * kw
    pointwise = conv.M * conv.N
    return (
        _conv_piece(macs=conv.out_area * group_weights, weights=group_weights, out_channels=conv.M,
                    out_area=conv.out_area, bias=conv.bias, bn=conv.bn, act=conv.act),
        _conv_piece(macs=conv.out_area * pointwise, weights=pointwise, out_channels=conv.N,
                    out_area=conv.out_area, bias=conv.bias, bn=conv.bn, act=conv.act),
    )


def dwc_pwc_cost(conv: Conv, part: int | None = None) -> tuple[Piece, ...]:
    """Depthwise K x K conv then pointwise (MobileNet), eq. 6: GWC+PWC with G = M."""
    return gwc_pwc_cost(conv, conv.M)


def _k2(conv: Conv) -> int:
    return conv.kernel[0] * conv.kernel[1]


@record
class ConvType(Record):
    """One way to build a K x K convolution, with its closed-form FLOPs ratio to standard."""

    key: str
    label: str
    equation: str
    cost: Callable[[Conv, int | None], tuple[Piece, ...]]
    closed_form: Callable[[Conv, int | None], float]
    part: str | None  # which option sets its part: "P", "G" or None
    closed_form_text: str
    ratio_equation: str  # the paper's equation of the closed-form ratio


CONV_TYPES: dict[str, ConvType] = {
    t.key: t
    for t in (
        ConvType("standard", "standard", "eq. 1", standard_cost, lambda c, p: 1.0, None, "1", "eq. 1"),
        ConvType("hetconv", "HetConv", "eqs. 2-5", hetconv_cost,
                 lambda c, p: 1 / p + (1 - 1 / p) / _k2(c), "P", "1/P + (1 - 1/P)/K^2", "eq. 5"),
        ConvType("gwc_pwc", "GWC+PWC", "eqs. 10-11", gwc_pwc_cost,
                 lambda c, p: 1 / p + 1 / _k2(c), "G", "1/G + 1/K^2", "eq. 11"),
        ConvType("dwc_pwc", "DWC+PWC", "eqs. 6-7", dwc_pwc_cost,
                 lambda c, p: 1 / c.N + 1 / _k2(c), None, "1/N + 1/K^2", "eq. 7"),
    )
}


def fixed_cost(layer: Layer) -> tuple[Piece, ...]:
    """Counts of a layer that every variant keeps as it is (FC, pooling, additions, data movement)."""
    if isinstance(layer, Conv):
        return standard_cost(layer)
    if isinstance(layer, Linear):
        weights = layer.in_features * layer.out_features
        return (Piece(macs=weights, weights=weights, biases=layer.out_features if layer.bias else 0,
                      bias_adds=layer.out_features if layer.bias else 0,
                      act_elements=layer.out_features if layer.act else 0, act_kind=layer.act, depth=1),)
    if not hasattr(layer, "out_shape"):
        raise TypeError(f"unknown layer {layer!r}")
    c, h, w = layer.out_shape
    elements = c * h * w
    act_kind = getattr(layer, "act", None)
    act = elements if act_kind else 0
    if isinstance(layer, Pool):
        inputs = layer.in_shape[0] * layer.in_shape[1] * layer.in_shape[2]
        avg = layer.mode == "avg"
        return (Piece(pool_ops=c * layer.reads, pool_inputs=inputs, avg_outputs=elements if avg else 0,
                      gap_inputs=inputs if avg and layer.is_global else 0),)
    if isinstance(layer, (Add, Mul)):  # n inputs: n - 1 operations per output element
        return (Piece(add_ops=elements * max(len(layer.inputs) - 1, 1), act_elements=act, act_kind=act_kind),)
    if isinstance(layer, BatchNorm):
        return (Piece(bn_channels=c, bn_elements=elements, act_elements=act, act_kind=act_kind),)
    if isinstance(layer, Activation):
        return (Piece(act_elements=elements, act_kind=layer.act),)
    if isinstance(layer, (Concat, Reshape)):  # concatenation, reshape, pad, slice, upsample: data movement
        return (Piece(),)
    raise TypeError(f"unknown layer {layer!r}")
