"""Constant folding: a node whose inputs are all known small constants is evaluated here, not counted.

Exporters write shape arithmetic out as nodes (torch's `Shape -> Gather -> Unsqueeze -> Concat -> Reshape`
for `x.view(x.size(0), -1)`); folding it gives the handlers the constants they need (Reshape's shape, Pad's
pads). One function per op in `FOLDS`. This module loads numpy, so the walk imports it only when a model is
read.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import numpy as np

from hetcalc.network.graph import INPUT
from hetcalc.network.importers.common import GraphAssembler, Tensor
from hetcalc.network.importers.onnx.reader import MAX_CONST, attrs, values
from hetcalc.network.importers.onnx.static import learnt_part

Fold = Callable[[list, dict[str, Any]], Any]  # (input arrays, None for an absent one; attributes) -> array or None


def fold_constant(imp: GraphAssembler, node) -> bool:
    """Evaluate a node whose inputs are all known small constants (torch's shape arithmetic)."""
    arrays = constant_inputs(imp, node)
    if arrays is None:
        return False
    out = FOLDS[node.op_type](arrays, attrs(node))
    if out is None or out.size > MAX_CONST:
        return False
    out = np.asarray(out)
    flat = [int(v) if float(v).is_integer() else float(v) for v in out.reshape(-1).tolist()]
    ins = [imp.tensors.get(n) if n else None for n in node.input]
    imp.tensors[node.output[0]] = Tensor(tuple(out.shape), INPUT, flat, param=True,
                                         made_of=learnt_part(node.op_type, ins))
    return True


def constant_inputs(imp: GraphAssembler, node) -> list | None:
    """The inputs as arrays (None for an absent or unknown one), or None unless every known input has a value."""
    ins = [imp.tensors.get(n) if n else None for n in node.input]
    if not ins or any(t is not None and (t.value is None or t.shape is None) for t in ins) or ins[0] is None:
        return None
    return [None if t is None else np.array(t.value).reshape(t.shape) for t in ins]


def binary(ufunc) -> Fold:
    return lambda arrays, a: ufunc(arrays[0], arrays[1])


def divide(arrays, a):
    x, y = arrays[0], arrays[1]
    return x // y if x.dtype.kind in "iu" and y.dtype.kind in "iu" else x / y


def concat(arrays, a):
    return np.concatenate([v.reshape(v.shape or (1,)) for v in arrays if v is not None], axis=a.get("axis", 0))


def reshape(arrays, a):
    x = arrays[0]
    target = [int(v) for v in arrays[1].reshape(-1)]
    return x.reshape([x.shape[i] if v == 0 else v for i, v in enumerate(target)])


def transpose(arrays, a):
    return arrays[0].transpose(a.get("perm") or None)


def slice_(arrays, a):
    x = arrays[0]
    axes = arrays[3].reshape(-1).tolist() if len(arrays) > 3 and arrays[3] is not None else list(
        range(arrays[1].size))
    steps = arrays[4].reshape(-1).tolist() if len(arrays) > 4 and arrays[4] is not None else [1] * len(axes)
    index = [slice(None)] * x.ndim
    for axis, st, en, sp in zip(axes, arrays[1].reshape(-1).tolist(), arrays[2].reshape(-1).tolist(), steps):
        index[axis] = slice(int(st), int(en), int(sp))
    return x[tuple(index)]


def gather(arrays, a):
    return np.take(arrays[0], arrays[1], axis=a.get("axis", 0))


def squeeze_axes(arrays, a):
    """The axes attribute (opset < 13) or input."""
    return a.get("axes") or (arrays[1].reshape(-1).tolist() if len(arrays) > 1 and arrays[1] is not None else None)


def unsqueeze(arrays, a):
    out = x = arrays[0]
    axes = squeeze_axes(arrays, a)
    for axis in sorted(v % (x.ndim + len(axes)) for v in axes):
        out = np.expand_dims(out, axis)
    return out


def squeeze(arrays, a):
    axes = squeeze_axes(arrays, a)
    return np.squeeze(arrays[0], axis=tuple(axes) if axes else None)


def constant_of_shape(arrays, a):
    shape = [int(v) for v in arrays[0].reshape(-1)]
    if math.prod(shape) > MAX_CONST:
        return None
    fill = values(a["value"]) if "value" in a else [0]
    return np.full(shape, (fill or [0])[0])


def same(arrays, a):
    return arrays[0]


def cast(arrays, a):
    """Cast to an integer type truncates (ONNX's TensorProto codes 2-7, 12, 13); to float, a float."""
    to = a.get("to", 1)
    return arrays[0].astype(np.int64) if to in (2, 3, 4, 5, 6, 7, 12, 13) else arrays[0].astype(
        bool if to == 9 else np.float64)


def modulo(arrays, a):
    return np.fmod(arrays[0], arrays[1]) if a.get("fmod", 0) else np.mod(arrays[0], arrays[1])


def where(arrays, a):
    return np.where(arrays[0], arrays[1], arrays[2])


def expand(arrays, a):
    shape = [int(v) for v in arrays[1].reshape(-1)]
    return arrays[0] * np.ones(shape, dtype=arrays[0].dtype)


def range_(arrays, a):
    start, limit, delta = (v.reshape(-1)[0].item() for v in arrays[:3])
    if delta == 0 or abs((limit - start) / delta) > MAX_CONST:
        return None
    return np.arange(start, limit, delta)


def unary(ufunc) -> Fold:
    return lambda arrays, a: ufunc(arrays[0])


def reduce(ufunc) -> Fold:
    def run(arrays, a):
        axes = a.get("axes") or (arrays[1].reshape(-1).tolist() if len(arrays) > 1 and arrays[1] is not None
                                 else None)
        return ufunc(arrays[0], axis=tuple(axes) if axes else None, keepdims=bool(a.get("keepdims", 1)))
    return run


def scatter_nd(arrays, a):
    out = arrays[0].copy()
    indices, updates = arrays[1], arrays[2]
    for index in np.ndindex(indices.shape[:-1]):
        out[tuple(indices[index])] = updates[index]
    return out


FOLDS: dict[str, Fold] = {
    "Add": binary(np.add), "Sub": binary(np.subtract), "Mul": binary(np.multiply), "Div": divide,
    "Concat": concat, "Reshape": reshape, "Transpose": transpose, "Slice": slice_, "Gather": gather,
    "Unsqueeze": unsqueeze, "Squeeze": squeeze, "ConstantOfShape": constant_of_shape, "Cast": cast, "Identity": same,
    "Mod": modulo, "Pow": binary(np.power), "Max": binary(np.maximum), "Min": binary(np.minimum),
    "Equal": binary(np.equal), "Less": binary(np.less), "Greater": binary(np.greater),
    "LessOrEqual": binary(np.less_equal), "GreaterOrEqual": binary(np.greater_equal), "And": binary(np.logical_and),
    "Or": binary(np.logical_or), "Not": unary(np.logical_not), "Neg": unary(np.negative), "Abs": unary(np.abs),
    "Sqrt": unary(np.sqrt), "Floor": unary(np.floor), "Ceil": unary(np.ceil), "Reciprocal": unary(np.reciprocal),
    "Sign": unary(np.sign), "Where": where, "Expand": expand, "Range": range_, "ScatterND": scatter_nd,
    "ReduceProd": reduce(np.prod), "ReduceSum": reduce(np.sum), "ReduceMax": reduce(np.max),
    "ReduceMin": reduce(np.min),
}
FOLDABLE = tuple(FOLDS)  # foldable.FOLDABLE names the same ops without loading numpy
