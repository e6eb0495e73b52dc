"""Handlers for the ops of today's vision networks (transformers, ConvNeXt, MixNet, CSP): matrix products in any
rank, LayerNorm / GroupNorm / InstanceNorm, Split, Gather and Expand of activations, Einsum contractions.

Registered in handlers.HANDLERS beside the convolution-network ops; docs/onnx.md lists the rules.
"""

from __future__ import annotations

import math

from hetcalc.network.graph import INPUT, Concat, Linear, MatMul, Norm, Reshape
from hetcalc.network.importers.common import GraphAssembler, Tensor, as3, passthrough
from hetcalc.network.importers.onnx.reader import attrs, text
from hetcalc.network.importers.onnx.static import broadcast

FUSED = "fused attention"  # GraphAssembler.marks tag of a scaled_dot_product_attention MatMul (patterns.py)


def linear_any_rank(imp: GraphAssembler, node, xs, w: Tensor) -> None:
    """MatMul of [..., k] by a 2-D weight [k, n] -> fc over prod(...) rows (ConvNeXt's channels-last Linear,
    a transformer's per-token Linear); an Add of a 1-D weight right after it is its bias."""
    k_in, k_out = w.shape
    if k_in != xs[-1]:
        raise imp.fail(node, f"weight {tuple(w.shape)} does not fit {xs[-1]} input features")
    tensor, bias = node.output[0], False
    reader = imp.sole_consumer(tensor)
    if reader is not None and reader.op_type == "Add":
        other = [imp.tensors.get(n) for n in reader.input if n != tensor]
        if len(other) == 1 and other[0] is not None and other[0].param and other[0].shape in ((k_out,), (1, k_out)):
            bias = True
            imp.absorbed.add(id(reader))
            tensor = reader.output[0]
    act, tensor = imp.take_act(tensor)
    out = (*xs[:-1], k_out)
    index = imp.add(node, Linear, xs, out, (imp.get(node, 0).producer,), bias=bias, act=act,
                    rows=math.prod(xs[:-1]))
    imp.tensors[tensor] = Tensor(out, index)


def matmul(imp: GraphAssembler, node) -> None:
    """MatMul of two activations [..., m, k] x [..., k, n] (attention) -> matmul: k MACs per output element."""
    a, b = imp.get(node, 0), imp.get(node, 1)
    if a.shape is None or b.shape is None or len(a.shape) < 2 or len(b.shape) < 2:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    if a.shape[-1] != b.shape[-2]:
        raise imp.fail(node, f"cannot multiply {a.shape} by {b.shape}")
    out = (*broadcast([a.shape[:-2], b.shape[:-2]]), a.shape[-2], b.shape[-1])
    imp.add(node, MatMul, a.shape, out, [t.producer for t in (a, b)], inner=a.shape[-1],
            fused=imp.marks.get(id(node)) == FUSED)


def relative_position_bias(imp: GraphAssembler, scores: Tensor, constants) -> int | None:
    """The parameters of a relative-position bias, when the learnt `constants` added to `scores` are one: heads x N
    x N values (N = w x w tokens of a window) added to the product of a query and a key, [..., heads, N, N]. Swin
    gathers them from a table of (2w - 1)^2 x heads parameters, one per offset between two tokens of a window, by a
    fixed index; torch's exporters fold that gather into the heads x N x N values (the dynamo exporter as N^2 x
    heads, reshaped at run time), which the table's parameters are."""
    if scores.producer == INPUT or not isinstance(imp.layers[scores.producer], MatMul) or len(scores.shape) < 3:
        return None
    heads, rows, cols = scores.shape[-3:]
    side = math.isqrt(rows)
    names = {name for t in constants for name in t.made_of}
    if rows != cols or side < 2 or side * side != rows or not names or \
            sum(imp.param_sizes.get(name, 0) for name in names) != heads * rows * cols:
        return None
    return (2 * side - 1) ** 2 * heads


def norm(imp: GraphAssembler, node) -> None:
    """LayerNormalization / InstanceNormalization / GroupNormalization -> norm; its scale and bias (when given)
    are its parameters."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    kind = {"LayerNormalization": "layer", "InstanceNormalization": "instance"}.get(node.op_type, "group")
    params = imp.new_params([imp.opt(node, i) for i in (1, 2)])
    act, tensor = imp.take_act(node.output[0])
    index = imp.add(node, Norm, xs, xs, (x.producer,), norm=kind, params=params, act=act)
    imp.tensors[tensor] = Tensor(xs, index)


def split(imp: GraphAssembler, node) -> None:
    """Split -> one slice per output, along any axis (MixNet's mixed kernels, CSP's halves)."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    a = attrs(node)
    axis = a.get("axis", 0) % len(xs)
    sizes = a.get("split") or imp.const(node, 1)
    count = len(node.output)
    if not sizes:
        if xs[axis] % count and "num_outputs" not in a:
            raise imp.fail(node, f"cannot split {xs[axis]} into {count} equal parts")
        part = -(-xs[axis] // count)
        sizes = [min(part, xs[axis] - i * part) for i in range(count)]
    if sum(int(s) for s in sizes) != xs[axis] or len(sizes) != count:
        raise imp.fail(node, f"split sizes {list(sizes)} do not add up to {xs[axis]} along axis {axis}")
    for i, size in enumerate(sizes):  # each slice is output i's layer (and checked against its declared shape)
        out = list(xs)
        out[axis] = int(size)
        imp.add(node, Reshape, xs, out, (x.producer,), op="slice", output=i)


def gather(imp: GraphAssembler, node) -> None:
    """Gather of an activation by constant indices (ViT's class token x[:, 0]) -> slice; from a constant, a
    constant of known shape; an embedding lookup (by activation indices) is uncounted."""
    data, idx = imp.get(node, 0), imp.get(node, 1)
    if data.shape is None or idx.shape is None or not idx.param:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    axis = attrs(node).get("axis", 0) % len(data.shape)
    out = (*data.shape[:axis], *idx.shape, *data.shape[axis + 1:])
    kept = (*data.shape[:axis], math.prod(idx.shape), *data.shape[axis + 1:])  # the slice, before the axis goes
    index = imp.add(node, Reshape, data.shape, kept, (data.producer,), op="slice")
    if as3(out) != as3(kept):  # dropping the axis changes the (c, h, w) the next layer reads: a spec states it
        index = imp.add(node, Reshape, kept, out, (index,), op="reshape")
    imp.tensors[node.output[0]] = Tensor(out, index)


def expand(imp: GraphAssembler, node) -> None:
    """Expand of an activation to a known shape -> reshape (a broadcast view)."""
    x = imp.get(node, 0)
    target = imp.const(node, 1)
    if x.shape is None or target is None:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    out = broadcast([x.shape, [int(v) for v in target]])
    imp.add(node, Reshape, x.shape, out, (x.producer,), op="reshape")


def concat_params(imp: GraphAssembler, node, ins, out) -> None:
    """Concat of activations and learnable constants (ViT's class token) -> concat that holds those parameters."""
    live = [t for t in ins if not t.param]
    params = imp.new_params([t for t in ins if t.param])
    imp.add(node, Concat, live[0].shape, out, [t.producer for t in live], params=params)


def einsum(imp: GraphAssembler, node) -> None:
    """Einsum of two operands whose indices each appear once or twice -> matmul: every output element takes
    the product of the summed indices' sizes in MACs."""
    eq = text(attrs(node).get("equation", "")).replace(" ", "")
    ins = [imp.get(node, i) for i in range(len(node.input))]
    if len(ins) != 2 or "->" not in eq or "." in eq or any(t.shape is None for t in ins):
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    lhs, rhs = eq.split("->")
    terms = lhs.split(",")
    sizes: dict[str, int] = {}
    for term, t in zip(terms, ins):
        if len(term) != len(t.shape):
            raise imp.fail(node, f"equation {eq!r} does not fit shape {t.shape}")
        for letter, d in zip(term, t.shape):
            sizes[letter] = max(sizes.get(letter, 1), d)
    out = tuple(sizes[c] for c in rhs) or (1,)
    inner = math.prod(sizes[c] for c in sizes if c not in rhs)
    if any(t.param for t in ins):  # by a weight: a layer kind hetcalc does not have yet
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    imp.add(node, MatMul, ins[0].shape, out, [t.producer for t in ins], inner=inner)


TENSOR_HANDLERS = {"LayerNormalization": norm, "InstanceNormalization": norm, "GroupNormalization": norm,
                   "Split": split, "Expand": expand, "Einsum": einsum}
