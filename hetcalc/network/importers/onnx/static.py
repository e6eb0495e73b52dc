"""Shapes of constants too big to fold: a node that reads no activation computes a constant, whatever its values.

Swin's attention mask (64 x 49 x 49, built with Range, Expand, ScatterND, Where at run time), a Gather from a
position-bias table, an Expand of ViT's class token: none of it depends on the image, so it costs nothing here;
only its shape matters to the layers that read it. Each rule works out the output shape from the input shapes and
the small constants (an Expand's shape, a Reshape's target) that fold.py did evaluate. The learnable
initializers a constant is made of travel with it (`Tensor.made_of`), so the layer that applies it counts them.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from hetcalc.network.graph import INPUT
from hetcalc.network.importers.common import GraphAssembler, Tensor
from hetcalc.network.importers.onnx.reader import attrs


def broadcast(shapes) -> tuple[int, ...]:
    """The shape of an element-wise result, by numpy's broadcasting rule."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(dims) for dims in zip(*padded))


def elementwise(ins, a, consts):
    return broadcast([t.shape for t in ins if t is not None])


def first(ins, a, consts):
    return ins[0].shape


def expand(ins, a, consts):
    return None if consts[1] is None else broadcast([ins[0].shape, [int(v) for v in consts[1]]])


def reshape(ins, a, consts):
    target = consts[1]
    if target is None:
        return None
    xs = ins[0].shape
    dims = [xs[i] if v == 0 else int(v) for i, v in enumerate(target)]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = math.prod(xs) // known if known else 0
    return tuple(dims)


def transpose(ins, a, consts):
    xs = ins[0].shape
    return tuple(xs[p] for p in (a.get("perm") or reversed(range(len(xs)))))


def axes_of(a, consts):
    axes = a.get("axes")
    return list(axes) if axes else (consts[1] if len(consts) > 1 else None)


def unsqueeze(ins, a, consts):
    out = list(ins[0].shape)
    axes = axes_of(a, consts) or []
    for axis in sorted(v % (len(out) + len(axes)) for v in axes):
        out.insert(axis, 1)
    return tuple(out)


def squeeze(ins, a, consts):
    xs = ins[0].shape
    axes = axes_of(a, consts)
    drop = {v % len(xs) for v in axes} if axes else {i for i, d in enumerate(xs) if d == 1}
    return tuple(d for i, d in enumerate(xs) if i not in drop)


def gather(ins, a, consts):
    xs, idx = ins[0].shape, ins[1].shape
    axis = a.get("axis", 0) % len(xs)
    return (*xs[:axis], *idx, *xs[axis + 1:])


def concat(ins, a, consts):
    shapes = [t.shape for t in ins if t is not None]
    axis = a.get("axis", 0) % len(shapes[0])
    out = list(shapes[0])
    out[axis] = sum(s[axis] for s in shapes)
    return tuple(out)


def slice_(ins, a, consts):
    starts, ends = consts[1], consts[2]
    if starts is None or ends is None:
        return None
    xs = ins[0].shape
    axes = [v % len(xs) for v in consts[3]] if len(consts) > 3 and consts[3] else list(range(len(starts)))
    steps = consts[4] if len(consts) > 4 and consts[4] else [1] * len(axes)
    out = list(xs)
    for axis, st, en, sp in zip(axes, starts, ends, steps):
        out[axis] = len(range(*slice(int(st), int(en), int(sp)).indices(xs[axis])))
    return tuple(out)


def constant_of_shape(ins, a, consts):
    return None if consts[0] is None else tuple(int(v) for v in consts[0])


def tile(ins, a, consts):
    return None if consts[1] is None else tuple(d * int(r) for d, r in zip(ins[0].shape, consts[1]))


Rule = Callable[[list, dict[str, Any], list], Any]  # (input tensors, attributes, input values) -> shape or None
RULES: dict[str, Rule] = {
    **{op: elementwise for op in ("Add", "Sub", "Mul", "Div", "Mod", "Pow", "Equal", "Less", "Greater", "And", "Or",
                                  "Where", "Max", "Min", "LessOrEqual", "GreaterOrEqual")},
    **{op: first for op in ("Cast", "Identity", "Not", "Neg", "Abs", "Sqrt", "Floor", "Ceil", "Reciprocal",
                            "ScatterND", "Sign", "Dropout")},
    "Expand": expand, "Reshape": reshape, "Transpose": transpose, "Unsqueeze": unsqueeze, "Squeeze": squeeze,
    "Gather": gather, "Concat": concat, "Slice": slice_, "ConstantOfShape": constant_of_shape, "Tile": tile,
}


def static_shape(imp: GraphAssembler, node) -> bool:
    """The output of a node that reads only constants (no activation) as a constant of known shape."""
    rule = RULES.get(node.op_type)
    if rule is None:
        return False
    ins = [imp.tensors.get(n) if n else None for n in node.input]
    if not ins or ins[0] is None or any(t is not None and (not t.param or t.shape is None) for t in ins):
        return False
    shape = rule(ins, attrs(node), [None if t is None else t.value for t in ins])
    if shape is None:
        return False
    imp.tensors[node.output[0]] = Tensor(tuple(int(d) for d in shape), INPUT, None, param=True,
                                         made_of=learnt_part(node.op_type, ins))
    return True


def learnt_part(op_type: str, ins) -> frozenset:
    """The learnable initializers a constant computed by `op_type` from `ins` is made of. A comparison's result
    is a truth value, and so is a Where's condition; what ScatterND writes is assembled by index assignment
    (`img_mask[h, w] = count`: Swin's attention mask, which the dynamo exporter folds into float initializers):
    none of it holds learnt values."""
    if op_type in NOT_LEARNT:
        return frozenset()
    if op_type == "Where":
        ins = ins[1:]
    return frozenset().union(*(t.made_of for t in ins if t is not None))


NOT_LEARNT = ("ScatterND", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not")
