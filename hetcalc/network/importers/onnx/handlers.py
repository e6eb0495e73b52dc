"""ONNX models -> the layer graph, from the graph's structure alone: never runs the model, needs no weights.

Shapes come from the input's declared shape, initializer (or weight-input) dims and op attributes, op by
op; value_info is not needed. Small integer tensors that shape computations use (Reshape's shape, Pad's
pads, Slice's starts, Resize's scales, and torch's Shape -> Gather -> Concat chains) are evaluated
here. One handler per op type in `HANDLERS`; adding an op is one function and one line. A Conv whose
output feeds only a BatchNormalization takes that BatchNorm (its `bn`), and a layer whose output feeds
only an activation takes the activation, as in a YAML spec. docs/onnx.md lists the ops and the rules.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from hetcalc.core.errors import HetcalcError, SpecError
from hetcalc.network.graph import INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, Mul, Network, Pool, Reshape
from hetcalc.network.importers.common import check_input_shape

MAX_NODES = 1_000_000


class UncountedOpWarning(UserWarning):
    """An ONNX op type hetcalc cannot count: its nodes add nothing to the totals."""


ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu",
                  "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid", "Gelu": "gelu", "Elu": "elu",
                  "Selu": "selu", "Softplus": "softplus", "Mish": "mish", "Clip": "clip", "Softmax": "softmax",
                  "LogSoftmax": "log_softmax"}
ALIAS_OPS = ("Identity", "Dropout")


@dataclass
class Tensor:
    """What the importer knows of one tensor: its shape (batch first), the layer that made it, its value."""

    shape: tuple[int, ...] | None
    producer: int = INPUT
    value: list | None = None  # flat int/float values of a small constant
    param: bool = False  # a weight (initializer or weight input), not an activation


@dataclass
class Importer:
    source: str
    tensors: dict[str, Tensor] = field(default_factory=dict)
    layers: list = field(default_factory=list)
    names: set = field(default_factory=set)
    uncounted: dict[str, int] = field(default_factory=dict)
    consumers: dict[str, list] = field(default_factory=dict)
    outputs: set = field(default_factory=set)
    absorbed: set = field(default_factory=set)  # ids of nodes folded into an earlier layer
    value_info: dict = field(default_factory=dict)  # declared shapes, used only for uncounted ops' outputs

    # -- helpers
    def fail(self, node, message: str) -> SpecError:
        return SpecError(f"node {node.name or node.op_type!r} ({node.op_type}): {message}", source=self.source)

    def get(self, node, index: int) -> Tensor:
        names = list(node.input)
        if index >= len(names) or not names[index]:
            raise self.fail(node, f"input {index + 1} is missing")
        name = names[index]
        if name not in self.tensors:
            raise self.fail(node, f"input {name!r} is produced by no earlier node, initializer or graph input")
        return self.tensors[name]

    def opt(self, node, index: int) -> Tensor | None:
        names = list(node.input)
        if index >= len(names) or not names[index]:
            return None
        return self.get(node, index)

    def shape(self, node, index: int = 0) -> tuple[int, ...]:
        t = self.get(node, index)
        if t.shape is None:
            raise self.fail(node, f"the shape of input {node.input[index]!r} is unknown (not fixed in the file, "
                                  "or a dimension of 0)")
        return t.shape

    def const(self, node, index: int) -> list | None:
        t = self.opt(node, index)
        return None if t is None else t.value

    def set(self, node, shape, producer: int, value=None, index: int = 0) -> None:
        self.tensors[node.output[index]] = Tensor(tuple(int(v) for v in shape) if shape is not None else None,
                                                  producer, value)

    def name_of(self, node) -> str:
        base = node.name or f"{node.op_type}_{len(self.layers)}"
        name, k = base, 1
        while name in self.names or name == "input":
            k += 1
            name = f"{base}.{k}"
        self.names.add(name)
        return name

    def add(self, node, layer_cls, in_shape, out_full, inputs, **fields) -> int:
        layer = layer_cls(name=self.name_of(node), in_shape=as3(in_shape), out_shape=as3(out_full),
                          where=f"{self.source}: node {node.name or node.op_type}", inputs=tuple(inputs), **fields)
        self.layers.append(layer)
        index = len(self.layers) - 1
        self.set(node, out_full, index)
        return index

    def sole_consumer(self, tensor: str):
        """The one node reading `tensor`, when exactly one does and it is not a graph output."""
        readers = self.consumers.get(tensor, [])
        if len(readers) == 1 and tensor not in self.outputs:
            return readers[0]
        return None

    def take_act(self, tensor: str) -> tuple[str | None, str]:
        """An activation that alone reads `tensor`: absorbed, with the tensor it writes."""
        node = self.sole_consumer(tensor)
        if node is not None and node.op_type in ACTIVATION_OPS and node.op_type not in ("Softmax", "LogSoftmax"):
            act = activation_name(node, self)
            if act is not None:
                self.absorbed.add(id(node))
                return act, node.output[0]
        return None, tensor

    def alias(self, node, source: Tensor, index: int = 0) -> None:
        self.tensors[node.output[index]] = source

    def uncount(self, node) -> None:
        self.uncounted[node.op_type] = self.uncounted.get(node.op_type, 0) + 1


def as3(shape) -> tuple[int, int, int]:
    """A batch-first shape as the graph's (channels, height, width): leading dims fold into channels."""
    dims = list(shape[1:]) if len(shape) > 1 else [1]
    if len(dims) == 1:
        return (dims[0], 1, 1)
    if len(dims) == 2:
        return (dims[0], dims[1], 1)
    return (math.prod(dims[:-2]), dims[-2], dims[-1])


def attrs(node) -> dict[str, Any]:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


def _text(value):
    return value.decode() if isinstance(value, bytes) else value


def activation_name(node, imp: Importer) -> str | None:
    if node.op_type == "Clip":
        lo, hi = imp.const(node, 1), imp.const(node, 2)
        a = attrs(node)
        lo = lo[0] if lo else a.get("min")
        hi = hi[0] if hi else a.get("max")
        if lo == 0 and hi == 6:
            return "relu6"
        if lo == 0 and hi is None:
            return "relu"
        return "clip"
    return ACTIVATION_OPS[node.op_type]


def spatial_out(size, k, s, pb, pe, d=1, ceil=False) -> int:
    span = size + pb + pe - d * (k - 1) - 1
    return (-(-span // s) if ceil else span // s) + 1


def auto_pads(mode: str, sizes, kernel, strides, dilations) -> list[int]:
    """Begins then ends, as ONNX writes pads, for auto_pad SAME_UPPER / SAME_LOWER / VALID."""
    if mode == "VALID":
        return [0] * (2 * len(sizes))
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        total = max((-(-size // s) - 1) * s + d * (k - 1) + 1 - size, 0)
        small, big = total // 2, total - total // 2
        begins.append(small if mode == "SAME_UPPER" else big)
        ends.append(big if mode == "SAME_UPPER" else small)
    return begins + ends


def window(node, imp: Importer, sizes, kernel):
    a = attrs(node)
    n = len(kernel)
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    mode = _text(a.get("auto_pad", "NOTSET"))
    pads = list(a.get("pads", [0] * (2 * n)))
    if mode in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        pads = auto_pads(mode, sizes, kernel, strides, dilations)
    return strides, dilations, pads, bool(a.get("ceil_mode", 0))


# --------------------------------------------------------------------------- handlers

def conv(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    w = imp.shape(node, 1)
    xs = imp.shape(node, 0)
    if len(w) != 4 or len(xs) != 4:
        imp.uncount(node)
        return passthrough(imp, node)
    n, per_group, kh, kw = w
    if min(w) < 1:
        raise imp.fail(node, f"weight {node.input[1]!r} has shape {tuple(w)}: every dimension must be positive")
    groups = int(attrs(node).get("group", 1))
    strides, dilations, pads, _ = window(node, imp, xs[2:], (kh, kw))
    if xs[1] != per_group * groups:
        raise imp.fail(node, f"weight {tuple(w)} with group {groups} does not fit input channels {xs[1]}")
    out = (xs[0], n, *(spatial_out(size, k, s, pads[i], pads[i + 2], d) for i, (size, k, s, d) in
                       enumerate(zip(xs[2:], (kh, kw), strides, dilations))))
    if min(out[2:]) < 1:
        raise imp.fail(node, f"output size {out[2:]} is below 1")
    tensor = node.output[0]
    bn = False
    reader = imp.sole_consumer(tensor)
    if reader is not None and reader.op_type == "BatchNormalization" and reader.input[0] == tensor:
        bn = True
        imp.absorbed.add(id(reader))
        tensor = reader.output[0]
    act, tensor = imp.take_act(tensor)
    begins, ends = tuple(pads[:2]), tuple(pads[2:4])
    index = imp.add(node, Conv, xs, out, (x.producer,), kernel=(kh, kw), stride=tuple(strides),
                    padding=begins, groups=groups, bias=imp.opt(node, 2) is not None, bn=bn, act=act,
                    dilation=tuple(dilations), padding_end=None if ends == begins else ends)
    imp.tensors[tensor] = imp.tensors[node.output[0]] if tensor == node.output[0] else Tensor(out, index)


def linear(imp: Importer, node) -> None:
    """Gemm, or MatMul by a 2-D weight (an Add of a 1-D constant right after it is its bias)."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    w = imp.get(node, 1)
    if w.shape is None or len(w.shape) != 2 or not w.param or len(xs) != 2:
        imp.uncount(node)
        return passthrough(imp, node, shape=None if w.shape is None else (*xs[:-1], w.shape[-1]))
    a = attrs(node)
    if node.op_type == "Gemm" and a.get("transA", 0):
        imp.uncount(node)
        return passthrough(imp, node)
    if min(w.shape) < 1:
        raise imp.fail(node, f"weight {node.input[1]!r} has shape {tuple(w.shape)}: every dimension must be positive")
    k_in, k_out = (w.shape[1], w.shape[0]) if a.get("transB", 0) else w.shape
    if k_in != xs[1]:
        raise imp.fail(node, f"weight {tuple(w.shape)} does not fit {xs[1]} input features")
    bias = node.op_type == "Gemm" and imp.opt(node, 2) is not None
    tensor = node.output[0]
    if node.op_type == "MatMul":
        reader = imp.sole_consumer(tensor)
        if reader is not None and reader.op_type == "Add":
            other = [imp.tensors.get(n) for n in reader.input if n != tensor]
            if len(other) == 1 and other[0] is not None and other[0].param and other[0].shape in ((k_out,),
                                                                                               (1, k_out)):
                bias = True
                imp.absorbed.add(id(reader))
                tensor = reader.output[0]
    act, tensor = imp.take_act(tensor)
    out = (xs[0], k_out)
    index = imp.add(node, Linear, xs, out, (x.producer,), bias=bias, act=act)
    imp.tensors[tensor] = Tensor(out, index)


def batchnorm(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    act, tensor = imp.take_act(node.output[0])
    index = imp.add(node, BatchNorm, xs, xs, (x.producer,), act=act)
    imp.tensors[tensor] = Tensor(xs, index)


def activation(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    imp.add(node, Activation, xs, xs, (x.producer,), act=activation_name(node, imp))


def pool(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    a = attrs(node)
    kernel = list(a.get("kernel_shape", []))
    if len(xs) != 4 or len(kernel) != 2:
        imp.uncount(node)
        return passthrough(imp, node)
    strides, dilations, pads, ceil = window(node, imp, xs[2:], kernel)
    if dilations != [1, 1]:
        imp.uncount(node)
        return passthrough(imp, node)
    out = (xs[0], xs[1], *(spatial_out(size, k, s, pads[i], pads[i + 2], 1, ceil) for i, (size, k, s) in
                           enumerate(zip(xs[2:], kernel, strides))))
    mode = "max" if node.op_type == "MaxPool" else "avg"
    begins, ends = tuple(pads[:2]), tuple(pads[2:4])
    imp.add(node, Pool, xs, out, (x.producer,), mode=mode, kernel=tuple(kernel), stride=tuple(strides),
            padding=begins, padding_end=None if ends == begins else ends, ceil=ceil)


def global_pool(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    if len(xs) != 4:
        imp.uncount(node)
        return passthrough(imp, node)
    mode = "max" if node.op_type == "GlobalMaxPool" else "avg"
    imp.add(node, Pool, xs, (*xs[:2], 1, 1), (x.producer,), mode=mode, kernel=tuple(xs[2:]),
            stride=tuple(xs[2:]), is_global=True)


def reduce_mean(imp: Importer, node) -> None:
    """ReduceMean over height and width (keepdims): a global average pool (SE blocks often use it)."""
    xs = imp.shape(node, 0)
    axes = attrs(node).get("axes") or imp.const(node, 1)
    keep = attrs(node).get("keepdims", 1)
    if len(xs) == 4 and axes is not None and sorted(a % 4 for a in axes) == [2, 3]:
        x = imp.get(node, 0)
        out = (*xs[:2], 1, 1) if keep else xs[:2]
        imp.add(node, Pool, xs, out, (x.producer,), mode="avg", kernel=tuple(xs[2:]), stride=tuple(xs[2:]))
        return
    imp.uncount(node)
    passthrough(imp, node, shape=None)


def broadcast(shapes) -> tuple[int, ...]:
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    return tuple(max(dims) for dims in zip(*padded))


def elementwise(imp: Importer, node) -> None:
    """Add / Sub / Mul / Div / Sum: a merge of activations, a constant folded, or x op constant."""
    ins = [imp.get(node, i) for i in range(len(node.input))]  # all-constant inputs were folded already
    live = [t for t in ins if not t.param and t.value is None]
    if any(t.shape is None for t in ins):
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    out = broadcast([t.shape for t in ins])
    cls = Mul if node.op_type in ("Mul", "Div") else Add
    if len(live) >= 2:
        act, tensor = imp.take_act(node.output[0])
        index = imp.add(node, cls, live[0].shape, out, [t.producer for t in live], act=act)
        imp.tensors[tensor] = Tensor(out, index)
    elif len(live) == 1:  # x * c, x + c, ...: one operation per element, counted as an activation
        imp.add(node, Activation, live[0].shape, out, (live[0].producer,), act="affine")
    else:
        imp.set(node, out, INPUT)


def concat(imp: Importer, node) -> None:
    ins = [imp.get(node, i) for i in range(len(node.input))]
    axis = attrs(node).get("axis", 1)
    if all(t.value is not None for t in ins):  # a shape computation
        value = [v for t in ins for v in t.value]
        imp.tensors[node.output[0]] = Tensor((len(value),), INPUT, value, param=True)
        return
    if any(t.shape is None for t in ins):
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    rank = len(ins[0].shape)
    axis %= rank
    out = list(ins[0].shape)
    out[axis] = sum(t.shape[axis] for t in ins)
    if axis != 1 or rank < 2:
        imp.uncount(node)
        return passthrough(imp, node, shape=tuple(out))
    imp.add(node, Concat, ins[0].shape, out, [t.producer for t in ins])


def flatten(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    axis = attrs(node).get("axis", 1) % max(len(xs), 1)
    out = (math.prod(xs[:axis]), math.prod(xs[axis:]))
    if axis != 1:
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    imp.add(node, Reshape, xs, out, (x.producer,), op="flatten")


def reshape(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    target = imp.const(node, 1)
    if node.op_type in ("Squeeze", "Unsqueeze"):
        return squeeze(imp, node)
    if x.value is not None and target is not None:  # reshaping a constant
        imp.tensors[node.output[0]] = Tensor(tuple(int(v) for v in target if v != 0) or (len(x.value),),
                                             INPUT, x.value, param=True)
        return
    xs = imp.shape(node, 0)
    if target is None:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    dims = [xs[i] if (v == 0 and not attrs(node).get("allowzero", 0)) else int(v) for i, v in enumerate(target)]
    if dims.count(-1) == 1:
        known = math.prod(d for d in dims if d != -1)
        dims[dims.index(-1)] = math.prod(xs) // known if known else 0
    if math.prod(dims) != math.prod(xs):
        raise imp.fail(node, f"cannot reshape {xs} to {tuple(target)}")
    op = "flatten" if len(dims) == 2 and dims[0] == xs[0] else "reshape"
    imp.add(node, Reshape, xs, dims, (x.producer,), op=op)


def squeeze(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    axes = attrs(node).get("axes") or imp.const(node, 1)
    if x.value is not None:
        imp.tensors[node.output[0]] = Tensor((len(x.value),) if node.op_type == "Unsqueeze" else (),
                                             INPUT, x.value, param=True)
        return
    xs = imp.shape(node, 0)
    if node.op_type == "Squeeze":
        rank = len(xs)
        drop = {a % rank for a in axes} if axes else {i for i, d in enumerate(xs) if d == 1}
        out = [d for i, d in enumerate(xs) if i not in drop]
    else:
        out = list(xs)
        rank = len(xs) + len(axes or [])
        for a in sorted(v % rank for v in axes or []):
            out.insert(a, 1)
    imp.add(node, Reshape, xs, out, (x.producer,), op="reshape")


def transpose(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    perm = attrs(node).get("perm") or list(reversed(range(len(xs))))
    out = [xs[p] for p in perm]
    if perm[0] != 0:
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    imp.add(node, Reshape, xs, out, (x.producer,), op="reshape")


def pad(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    pads = attrs(node).get("pads") or imp.const(node, 1)
    if pads is None:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    axes = imp.const(node, 3)
    rank = len(xs)
    axes = [a % rank for a in axes] if axes else list(range(rank))
    out = list(xs)
    for i, a in enumerate(axes):
        out[a] += int(pads[i]) + int(pads[i + len(axes)])
    if out[:2] != list(xs[:2]):
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    mode = _text(attrs(node).get("mode", "constant"))
    imp.add(node, Reshape, xs, out, (x.producer,), op="pad", mode=mode)


def slice_(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    a = attrs(node)
    starts = a.get("starts") or imp.const(node, 1)
    ends = a.get("ends") or imp.const(node, 2)
    axes = a.get("axes") or imp.const(node, 3)
    steps = imp.const(node, 4)
    if starts is None or ends is None:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    xs = imp.shape(node, 0)
    rank = len(xs)
    axes = [v % rank for v in axes] if axes else list(range(len(starts)))
    out = list(xs)
    for i, axis in enumerate(axes):
        step = int(steps[i]) if steps else 1
        out[axis] = len(range(*slice(int(starts[i]), int(ends[i]), step).indices(xs[axis])))
    if out[0] != xs[0]:
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    imp.add(node, Reshape, xs, out, (x.producer,), op="slice")


def resize(imp: Importer, node) -> None:
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    if node.op_type == "Upsample":
        scales, sizes = imp.const(node, 1) or attrs(node).get("scales"), None
    else:
        scales, sizes = imp.const(node, 2), imp.const(node, 3)
    if sizes:
        out = [int(v) for v in sizes]
    elif scales:
        out = [math.floor(d * s) for d, s in zip(xs, scales)]
    else:
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    mode = _text(attrs(node).get("mode", "nearest"))
    mode = {"linear": "bilinear", "cubic": "bicubic"}.get(mode, mode)
    imp.add(node, Reshape, xs, out, (x.producer,), op="upsample", mode=mode)


def alias(imp: Importer, node) -> None:
    imp.alias(node, imp.get(node, 0))


def constant(imp: Importer, node) -> None:
    a = attrs(node)
    if "value" in a:
        t = a["value"]
        dims = tuple(t.dims)
        value = _values(t) if math.prod(dims) <= MAX_CONST else None
        imp.tensors[node.output[0]] = Tensor(dims, INPUT, value, param=True)
    else:
        for key in ("value_int", "value_float"):
            if key in a:
                imp.tensors[node.output[0]] = Tensor((), INPUT, [a[key]], param=True)
                return
        for key in ("value_ints", "value_floats"):
            if key in a:
                imp.tensors[node.output[0]] = Tensor((len(a[key]),), INPUT, list(a[key]), param=True)
                return
        imp.tensors[node.output[0]] = Tensor(None, INPUT, None, param=True)


def shape_op(imp: Importer, node) -> None:
    xs = imp.shape(node, 0)
    a = attrs(node)
    value = list(xs)[a.get("start", 0):a.get("end", len(xs))]
    imp.tensors[node.output[0]] = Tensor((len(value),), INPUT, value, param=True)


def gather(imp: Importer, node) -> None:
    data, idx = imp.get(node, 0), imp.get(node, 1)
    if data.value is not None and idx.value is not None:
        value = [data.value[int(i)] for i in idx.value]
        shape = idx.shape if idx.shape is not None else (len(value),)
        imp.tensors[node.output[0]] = Tensor(shape, INPUT, value, param=True)
        return
    imp.uncount(node)
    passthrough(imp, node, shape=None)




def passthrough(imp: Importer, node, shape="same") -> None:
    """An op not counted: its outputs take its first live input's shape (or `shape`) and producer."""
    src = next((imp.tensors[n] for n in node.input if n in imp.tensors and not imp.tensors[n].param), None)
    if src is None:
        src = next((imp.tensors[n] for n in node.input if n in imp.tensors), Tensor(None))
    out_shape = src.shape if isinstance(shape, str) else shape
    if out_shape is None:
        declared = imp.value_info.get(node.output[0])
        out_shape = declared if declared and None not in declared else None
    for out in node.output:
        if out:
            imp.tensors[out] = Tensor(out_shape, src.producer)


FOLDABLE = ("Add", "Sub", "Mul", "Div", "Concat", "Reshape", "Transpose", "Slice", "Gather", "Unsqueeze", "Squeeze",
            "Cast", "ConstantOfShape", "Identity")
MAX_CONST = 4096  # elements of a constant computed here (shape arithmetic is tiny)


def fold_constant(imp: Importer, node) -> bool:
    """Evaluate a node whose inputs are all known small constants (torch's shape arithmetic)."""
    import numpy as np

    names = [n for n in node.input]
    ins = [imp.tensors.get(n) if n else None for n in names]
    if not ins or any(t is not None and (t.value is None or t.shape is None) for t in ins) or ins[0] is None:
        return False
    arrays = [None if t is None else np.array(t.value).reshape(t.shape) for t in ins]
    a = attrs(node)
    op = node.op_type
    x = arrays[0]
    if op in ("Add", "Sub", "Mul", "Div"):
        y = arrays[1]
        if op == "Div":
            out = x // y if x.dtype.kind in "iu" and y.dtype.kind in "iu" else x / y
        else:
            out = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}[op](x, y)
    elif op == "Concat":
        out = np.concatenate([v.reshape(v.shape or (1,)) for v in arrays if v is not None], axis=a.get("axis", 0))
    elif op == "Reshape":
        target = [int(v) for v in arrays[1].reshape(-1)]
        target = [x.shape[i] if v == 0 else v for i, v in enumerate(target)]
        out = x.reshape(target)
    elif op == "Transpose":
        out = x.transpose(a.get("perm") or None)
    elif op == "Slice":
        axes = arrays[3].reshape(-1).tolist() if len(arrays) > 3 and arrays[3] is not None else list(
            range(arrays[1].size))
        steps = arrays[4].reshape(-1).tolist() if len(arrays) > 4 and arrays[4] is not None else [1] * len(axes)
        index = [slice(None)] * x.ndim
        for axis, st, en, sp in zip(axes, arrays[1].reshape(-1).tolist(), arrays[2].reshape(-1).tolist(), steps):
            index[axis] = slice(int(st), int(en), int(sp))
        out = x[tuple(index)]
    elif op == "Gather":
        out = np.take(x, arrays[1], axis=a.get("axis", 0))
    elif op in ("Unsqueeze", "Squeeze"):
        axes = a.get("axes") or (arrays[1].reshape(-1).tolist() if len(arrays) > 1 and arrays[1] is not None else None)
        if op == "Unsqueeze":
            out = x
            for axis in sorted(v % (x.ndim + len(axes)) for v in axes):
                out = np.expand_dims(out, axis)
        else:
            out = np.squeeze(x, axis=tuple(axes) if axes else None)
    elif op == "ConstantOfShape":
        shape = [int(v) for v in x.reshape(-1)]
        if math.prod(shape) > MAX_CONST:
            return False
        fill = _values(a["value"]) if "value" in a else [0]
        out = np.full(shape, (fill or [0])[0])
    else:  # Cast, Identity
        out = x
    if out.size > MAX_CONST:
        return False
    flat = [int(v) if float(v).is_integer() else float(v) for v in out.reshape(-1).tolist()]
    imp.tensors[node.output[0]] = Tensor(tuple(out.shape), INPUT, flat, param=True)
    return True


Handler = Callable[[Importer, Any], None]
HANDLERS: dict[str, Handler] = {
    "Conv": conv, "Gemm": linear, "MatMul": linear, "BatchNormalization": batchnorm,
    **{op: activation for op in ACTIVATION_OPS},
    "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool,
    "ReduceMean": reduce_mean,
    "Add": elementwise, "Sub": elementwise, "Mul": elementwise, "Div": elementwise, "Sum": elementwise,
    "Concat": concat, "Flatten": flatten, "Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": squeeze,
    "Transpose": transpose, "Pad": pad, "Slice": slice_, "Resize": resize, "Upsample": resize,
    "Dropout": alias, "Identity": alias, "Constant": constant, "Shape": shape_op, "Gather": gather, "Cast": alias,
}


def _values(tensor) -> list | None:
    """The values of a small initializer or constant, when they are stored in the file."""
    from onnx import numpy_helper

    if tensor.data_location == 1:  # external data, absent here
        return None
    try:
        array = numpy_helper.to_array(tensor)
    except Exception:  # noqa: BLE001 - an unreadable constant is simply not known
        return None
    flat = array.reshape(-1).tolist()
    return [int(v) if float(v).is_integer() and abs(v) < 2**62 else v for v in flat]


def _dims(type_proto) -> tuple[int, ...] | None:
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    dims = []
    for d in t.shape.dim:
        dims.append(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None)
    return tuple(dims)


def read_model(path: Path):
    """The ModelProto, without external weight data; one line if the file is not an ONNX model."""
    try:
        import onnx
    except ImportError:
        raise SpecError("reading .onnx models needs the onnx package: pip install 'hetcalc[onnx]'",
                        source=str(path)) from None
    if path.is_dir():
        raise SpecError("is a directory, not an .onnx file", source=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    if not data:
        raise SpecError("the file is empty, not an ONNX model", source=str(path))
    try:
        model = onnx.load_from_string(data)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning, ...
        kind = "it looks like text" if _is_text(data[:512]) else "truncated or corrupt"
        raise SpecError(f"not a readable ONNX model ({kind}: {type(exc).__name__})", source=str(path)) from None
    if not model.graph.node:
        raise SpecError("not a readable ONNX model (truncated or corrupt: no graph nodes)", source=str(path))
    return model


def _is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def load_onnx_file(path: str | Path, *, input_shape=None, strict: bool = False, name: str | None = None) -> Network:
    """A Network from an .onnx file (external weight data need not be present)."""
    path = Path(path)
    model = read_model(path)
    return network_from_model(model, str(path), name or path.stem, input_shape=input_shape, strict=strict)


def network_from_model(model, source: str, name: str, *, input_shape=None, strict: bool = False,
                       title: str | None = None) -> Network:
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise SpecError(f"the graph has {len(graph.node):,} nodes, more than {MAX_NODES:,}", source=source)
    imp = Importer(source)
    for init in graph.initializer:
        dims = tuple(int(d) for d in init.dims)
        imp.tensors[init.name] = Tensor(dims, INPUT, _values(init) if math.prod(dims) <= 64 else None, param=True)
    data_inputs = [i for i in graph.input if i.name not in imp.tensors]
    if not data_inputs:
        raise SpecError("the graph has no input that is not an initializer", source=source)
    first = data_inputs[0]
    dims = _dims(first.type)
    if input_shape is not None:
        shape = (1, *check_input_shape(input_shape))
    elif dims is None or any(d is None for d in dims[1:]):
        raise SpecError(f"input {first.name!r} has no fixed shape ({dims}); give one with input_shape "
                        "(--input C,H,W)", source=source)
    else:
        shape = (1, *dims[1:])
    if len(shape) != 4 or min(shape) < 1:
        shown = tuple("?" if d is None else d for d in dims) if input_shape is None else shape[1:]
        raise SpecError(f"input {first.name!r} has shape {shown}: hetcalc counts image networks, input "
                        "[batch, channels, height, width] with positive sizes", source=source)
    imp.tensors[first.name] = Tensor(shape, INPUT)
    for extra in data_inputs[1:]:  # weights given as graph inputs (torch's export_params=False)
        d = _dims(extra.type)
        imp.tensors[extra.name] = Tensor(None if d is None or None in d else d, INPUT, None, param=True)
    imp.value_info = {v.name: _dims(v.type) for v in graph.value_info}
    imp.outputs = {o.name for o in graph.output}
    for node in graph.node:
        for tensor in node.input:
            if tensor:
                imp.consumers.setdefault(tensor, []).append(node)
    for node in graph.node:  # constants first: an absorbed Clip reads its bounds early
        if node.op_type == "Constant" and node.domain in ("", "ai.onnx"):
            constant(imp, node)
            imp.absorbed.add(id(node))
    for node in graph.node:
        if id(node) in imp.absorbed:
            continue
        handler = HANDLERS.get(node.op_type)
        standard = node.domain in ("", "ai.onnx")
        try:
            if standard and node.op_type in FOLDABLE and fold_constant(imp, node):
                continue
            if not standard or handler is None:
                imp.uncount(node)
                passthrough(imp, node)
                continue
            handler(imp, node)
        except HetcalcError:
            raise
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise imp.fail(node, f"cannot read its attributes or inputs ({type(exc).__name__}: {exc})") from None
    if imp.uncounted:
        listed = ", ".join(f"{op} x{n}" for op, n in sorted(imp.uncounted.items()))
        message = (f"{source}: {sum(imp.uncounted.values())} node(s) of op types hetcalc cannot count, left "
                   f"out of every total: {listed}")
        if strict:
            raise SpecError(f"op types hetcalc cannot count (--strict): {listed}", source=source)
        warnings.warn(message, UncountedOpWarning, stacklevel=2)
    if not any(isinstance(layer, (Conv, Linear)) for layer in imp.layers):
        raise SpecError("the graph has no Conv, Gemm or MatMul layer hetcalc can count", source=source)
    convs = [layer for layer in imp.layers if isinstance(layer, Conv)]
    producer_name = model.producer_name + (f" {model.producer_version}" if model.producer_version else "")
    return Network(name=name, title=title or name, input=tuple(shape[1:]), layers=tuple(imp.layers),
                   source=source, description=f"imported from ONNX ({producer_name.strip() or 'unknown producer'})",
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs),
                   meta={"uncounted": dict(imp.uncounted)} if imp.uncounted else {})
