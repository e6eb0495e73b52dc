"""Entries for the layers of attention networks, as `hetcalc import` writes them: norm, matmul, and `rows` on fc
(a Linear on [..., features]) and `params` on act and concat (a layer scale, a class token), each with the
shape it gives stated, so an imported ViT, Swin or ConvNeXt reads back as the same layers."""

from __future__ import annotations

from hetcalc.core.located import At, boolean, choice, positive_int
from hetcalc.core.yamlio import YMap
from hetcalc.network.graph import Concat, Linear, MatMul, Norm
from hetcalc.network.spec.builder import Flow, GraphBuilder, entry, where
from hetcalc.network.spec.values import activation, fmt_shape, shape3

NORMS = ("layer", "group", "instance")


@entry("norm")
def norm(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """LayerNorm, GroupNorm or InstanceNorm (`type`) over the flow; `params`: its scale and shift (0 without
    affine)."""
    kind = choice(args.get("type", "layer"), "norm type", where(args, "type", at), NORMS)
    params = positive_int(args.get("params", 0), "norm params", where(args, "params", at), 0)
    act = activation(args.get("act"), "act", where(args, "act", at))
    given = b.given_name(args, at)
    index, shape = flow
    layer = Norm(name=given or b.next_name(prefix, "norm"), in_shape=shape, out_shape=shape, norm=kind,
                 params=params, act=act, where=str(at), inputs=(index,))
    return b.register(layer, at, given is not None)


@entry("matmul")
def matmul(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """A product of two activations (attention's Q K^T, A V): `inputs` (two layers), `out` ([c, h, w]) and
    `inner` (MACs per output element); `fused`: written as one scaled_dot_product_attention call."""
    for key in ("inputs", "out", "inner"):
        if key not in args:
            raise at.error(f"matmul needs '{key}'")
    found = b.lookup_all(args["inputs"], "inputs", where(args, "inputs", at))
    if len(found) != 2:
        raise where(args, "inputs", at).error(f"matmul multiplies two layers, got {len(found)}")
    out = shape3(args["out"], "matmul out", where(args, "out", at))
    inner = positive_int(args["inner"], "matmul inner", where(args, "inner", at))
    fused = boolean(args.get("fused", False), "fused", where(args, "fused", at))
    given = b.given_name(args, at)
    layer = MatMul(name=given or b.next_name(prefix, "matmul"), in_shape=found[0][1], out_shape=out, inner=inner,
                   fused=fused, where=str(at), inputs=tuple(i for i, _ in found))
    return b.register(layer, at, given is not None)


def rows_linear(args: YMap, at: At, shape, out: int, name: str, **fields) -> Linear:
    """An fc on [..., features] (`rows` vectors of the input's elements / rows features each), giving `shape`."""
    rows = positive_int(args["rows"], "fc rows", where(args, "rows", at))
    if "shape" not in args:
        raise at.error("fc with 'rows' needs 'shape' (the [c, h, w] it gives)")
    given = shape3(args["shape"], "fc shape", where(args, "shape", at))
    elements = shape[0] * shape[1] * shape[2]
    if elements % rows or given[0] * given[1] * given[2] != rows * out:
        raise where(args, "rows", at).error(f"fc over {rows} rows of {out} outputs cannot take {fmt_shape(shape)} "
                                            f"to {fmt_shape(given)}")
    return Linear(name=name, in_shape=shape, out_shape=given, rows=rows, **fields)


def stated_concat(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At) -> Flow:
    """A concat along any axis, its shape stated (`out`), of `inputs` (or the flow) and `params` learnt elements
    (ViT's class token): the output holds the inputs' elements, the parameters and any constant joined in."""
    inputs = b.lookup_all(args["inputs"], "inputs", where(args, "inputs", at)) if "inputs" in args else [flow]
    out = shape3(args["out"], "concat out", where(args, "out", at))
    params = positive_int(args.get("params", 0), "concat params", where(args, "params", at), 0)
    held = sum(s[0] * s[1] * s[2] for _, s in inputs) + params
    if out[0] * out[1] * out[2] < held:
        raise where(args, "out", at).error(f"concat out {fmt_shape(out)} does not hold its inputs' "
                                           f"{held - params:,} elements and {params:,} parameters")
    given = b.given_name(args, at)
    layer = Concat(name=given or b.next_name(prefix, "concat"), in_shape=inputs[0][1], out_shape=out, where=str(at),
                   inputs=tuple(i for i, _ in inputs), params=params)
    return b.register(layer, at, given is not None)
