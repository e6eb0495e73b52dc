"""Raw, convention-free counts: a `Piece` per realized layer, for the layers every variant keeps as they are."""

from __future__ import annotations

from hetcalc.network.graph import (
    Activation, Add, BatchNorm, Concat, Conv, Layer, Linear, MatMul, Mul, Norm, Pool, Reshape,
)
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
    fused_macs: int = 0  # MACs (inside `macs`) of attention written as one scaled_dot_product_attention call
    product_macs: int = 0  # MACs (inside `macs`) of every matrix product of two activations
    norm_elements: int = 0  # input elements of a LayerNorm, GroupNorm or InstanceNorm
    norm_affine: int = 0  # the same, of the norms with a learnable scale and shift
    resize_nearest: int = 0  # output elements of a nearest-neighbour upsample
    resize_linear: int = 0  # output elements of a bilinear (or bicubic) upsample
    other_rows: int = 0  # MACs and bias adds of an FC layer on every row but its first (a Linear over tokens)
    norm_params: int = 0  # the scale and shift of a LayerNorm, GroupNorm or InstanceNorm
    depth: int = 0  # sequential conv/fc layers on the path (latency)


def conv_piece(*, macs: int, weights: int, out_channels: int, out_area: int, bias: bool, bn: bool,
                act: str | None) -> Piece:
    elements = out_channels * out_area
    return Piece(macs=macs, weights=weights, biases=out_channels if bias else 0, conv_outputs=elements,
                 bias_adds=elements if bias else 0, bn_channels=out_channels if bn else 0,
                 bn_elements=elements if bn else 0, act_elements=elements if act else 0, act_kind=act,
                 depth=1)


def fixed_cost(layer: Layer) -> tuple[Piece, ...]:
    """Counts of a layer that every variant keeps as it is (FC, pooling, additions, data movement)."""
    if isinstance(layer, Conv):  # eq. 1, grouped as the spec writes it
        kh, kw = layer.kernel
        weights = layer.N * (layer.M // layer.groups) * kh * kw
        return (conv_piece(macs=layer.out_area * weights, weights=weights, out_channels=layer.N,
                           out_area=layer.out_area, bias=layer.bias, bn=layer.bn, act=layer.act),)
    if isinstance(layer, Linear):  # `rows` vectors (tokens, pixels) through one weight matrix
        weights = layer.in_features * layer.out_features
        outputs = layer.rows * layer.out_features
        per_row = weights + (layer.out_features if layer.bias else 0)
        return (Piece(macs=layer.rows * weights, weights=weights, biases=layer.out_features if layer.bias else 0,
                      bias_adds=outputs if layer.bias else 0, other_rows=(layer.rows - 1) * per_row,
                      act_elements=outputs if layer.act else 0, act_kind=layer.act, depth=1),)
    if not hasattr(layer, "out_shape"):
        raise TypeError(f"unknown layer {layer!r}")
    c, h, w = layer.out_shape
    elements = c * h * w
    act_kind = getattr(layer, "act", None)
    act = elements if act_kind else 0
    if isinstance(layer, Pool):
        inputs = layer.in_shape[0] * layer.in_shape[1] * layer.in_shape[2]
        if layer.reduce:  # a tensor mean: the module-counting tools' pool rules do not see it
            return (Piece(pool_ops=c * layer.reads),)
        avg = layer.mode == "avg"
        return (Piece(pool_ops=c * layer.reads, pool_inputs=inputs, avg_outputs=elements if avg else 0,
                      gap_inputs=inputs if avg and layer.is_global else 0),)
    if isinstance(layer, MatMul):
        macs = elements * layer.inner
        return (Piece(macs=macs, fused_macs=macs if layer.fused else 0, product_macs=macs),)
    if isinstance(layer, Norm):
        inputs = layer.in_shape[0] * layer.in_shape[1] * layer.in_shape[2]
        return (Piece(weights=layer.params, norm_elements=inputs, norm_affine=inputs if layer.params else 0,
                      norm_params=layer.params,
                      act_elements=act, act_kind=act_kind),)
    if isinstance(layer, (Add, Mul)):  # n inputs: n - 1 operations per output element
        return (Piece(add_ops=elements * max(len(layer.inputs) - 1, 1), act_elements=act, act_kind=act_kind),)
    if isinstance(layer, BatchNorm):
        return (Piece(bn_channels=c, bn_elements=elements, act_elements=act, act_kind=act_kind),)
    if isinstance(layer, Activation):
        return (Piece(act_elements=elements, act_kind=layer.act, weights=layer.params),)
    if isinstance(layer, Concat):
        return (Piece(weights=layer.params),)
    if isinstance(layer, Reshape):  # reshape, pad, slice, upsample: data movement
        if layer.op == "upsample":
            nearest = layer.mode in ("", "nearest")
            return (Piece(resize_nearest=elements if nearest else 0, resize_linear=0 if nearest else elements),)
        return (Piece(),)
    raise TypeError(f"unknown layer {layer!r}")


def se_cost(channels: int, area: int, reduction: int) -> tuple[Piece, ...]:
    """Squeeze-and-Excitation on C channels (Hu et al.'s s = sigmoid(W2 relu(W1 z)), no biases):
    squeeze, FC C -> C/r, FC C/r -> C, scale."""
    hidden = max(channels // reduction, 1)
    return (Piece(macs=channels * hidden, weights=channels * hidden, act_elements=hidden, act_kind="relu",
                  se_ops=channels * area, depth=1),
            Piece(macs=channels * hidden, weights=channels * hidden, act_elements=channels, act_kind="sigmoid",
                  se_ops=channels * area, depth=1))
