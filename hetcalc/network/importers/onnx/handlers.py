"""One handler per ONNX op type, in `HANDLERS`: adding an op is one function and one line.

A handler reads its node's inputs and attributes, works out the output shape and adds the layer the node
is (or passes the tensor through, or evaluates a small constant). Its docstring gives the rule it follows;
docs/onnx.md lists the ops. A node no handler can cost is uncounted: its outputs pass its input's shape on.
"""

from __future__ import annotations

import math
from typing import Any, Callable

from hetcalc.network.graph import INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, Mul, Pool, Reshape
from hetcalc.network.geometry import output_size, same_pads
from hetcalc.network.importers.common import GraphAssembler, Tensor, passthrough
from hetcalc.network.importers.onnx.reader import MAX_CONST, attrs, text, values
from hetcalc.network.importers.onnx.tensor_ops import (
    TENSOR_HANDLERS, concat_params, linear_any_rank, matmul, relative_position_bias,
)
from hetcalc.network.importers.onnx.tensor_ops import gather as gather_activation
from hetcalc.network.rules import broadcast_shape, layer_name, printable

ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "LeakyRelu": "leaky_relu",
                  "HardSwish": "hardswish", "HardSigmoid": "hardsigmoid", "Gelu": "gelu", "Elu": "elu",
                  "Selu": "selu", "Softplus": "softplus", "Mish": "mish", "Clip": "clip", "Softmax": "softmax",
                  "LogSoftmax": "log_softmax", "Silu": "silu"}  # Silu: patterns.py's Sigmoid-Mul pair

def activation_name(node, imp: GraphAssembler) -> str:
    """The graph's name for an activation node's function; Clip(0, 6) is relu6, Clip(0, none) relu."""
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


def absorbable_activation(imp: GraphAssembler, node) -> str | None:
    """The activation `node` applies, when the layer before it may take it (any but Softmax, LogSoftmax)."""
    if node.op_type in ACTIVATION_OPS and node.op_type not in ("Softmax", "LogSoftmax"):
        return activation_name(node, imp)
    return None


def auto_pads(mode: str, sizes, kernel, strides, dilations) -> list[int]:
    """Begins then ends, as ONNX writes pads, for auto_pad SAME_UPPER / SAME_LOWER / VALID."""
    if mode == "VALID":
        return [0] * (2 * len(sizes))
    begins, ends = [], []
    for size, k, s, d in zip(sizes, kernel, strides, dilations):
        small, big = same_pads(size, k, s, d)  # SAME_UPPER; SAME_LOWER puts the odd pad first
        begins.append(small if mode == "SAME_UPPER" else big)
        ends.append(big if mode == "SAME_UPPER" else small)
    return begins + ends


def window(node, imp: GraphAssembler, sizes, kernel):
    """A Conv's or pool's strides, dilations, pads (begins then ends) and ceil_mode, auto_pad resolved."""
    a = attrs(node)
    n = len(kernel)
    strides = list(a.get("strides", [1] * n))
    dilations = list(a.get("dilations", [1] * n))
    mode = text(a.get("auto_pad", "NOTSET"))
    pads = list(a.get("pads", [0] * (2 * n)))
    if mode in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        pads = auto_pads(mode, sizes, kernel, strides, dilations)
    return strides, dilations, pads, bool(a.get("ceil_mode", 0))


# --------------------------------------------------------------------------- handlers

def conv(imp: GraphAssembler, node) -> None:
    """Conv (2-D, else uncounted) -> conv: group, dilations, strides, pads or auto_pad; a bias when it has a
    third input. It takes a BatchNormalization (its `bn`), then an activation, that alone reads its output."""
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
    out = (xs[0], n, *(output_size(size, k, s, pads[i], d, pads[i + 2]) for i, (size, k, s, d) in
                       enumerate(zip(xs[2:], (kh, kw), strides, dilations))))
    if min(out[2:]) < 1:
        raise imp.fail(node, f"output size {out[2:]} is below 1")
    bn, tensor = imp.take_bn(node.output[0], "BatchNormalization")
    act, tensor = imp.take_act(tensor)
    begins, ends = tuple(pads[:2]), tuple(pads[2:4])
    index = imp.add(node, Conv, xs, out, (x.producer,), kernel=(kh, kw), stride=tuple(strides),
                    padding=begins, groups=groups, bias=imp.opt(node, 2) is not None, bn=bn, act=act,
                    dilation=tuple(dilations), padding_end=None if ends == begins else ends)
    imp.tensors[tensor] = imp.tensors[node.output[0]] if tensor == node.output[0] else Tensor(out, index)


def linear(imp: GraphAssembler, node) -> None:
    """Gemm (transB either way; a bias when it has C) -> fc; MatMul by a 2-D weight -> fc over every row of its
    input (tensor_ops.linear_any_rank); MatMul of two activations -> matmul. Gemm with transA is uncounted."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    w = imp.get(node, 1)
    if node.op_type == "MatMul" and not w.param:
        return matmul(imp, node)
    if node.op_type == "MatMul" and w.shape is not None and len(w.shape) == 2 and len(xs) >= 2:
        return linear_any_rank(imp, node, xs, w)
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
    act, tensor = imp.take_act(tensor)
    out = (xs[0], k_out)
    index = imp.add(node, Linear, xs, out, (x.producer,), bias=bias, act=act, rows=xs[0])
    imp.tensors[tensor] = Tensor(out, index)


def batchnorm(imp: GraphAssembler, node) -> None:
    """BatchNormalization that no conv took -> bn, taking an activation that alone reads its output."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    act, tensor = imp.take_act(node.output[0])
    index = imp.add(node, BatchNorm, xs, xs, (x.producer,), act=act)
    imp.tensors[tensor] = Tensor(xs, index)


def activation(imp: GraphAssembler, node) -> None:
    """An activation no layer took (Softmax never is) -> act."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    imp.add(node, Activation, xs, xs, (x.producer,), act=activation_name(node, imp))


def pool(imp: GraphAssembler, node) -> None:
    """MaxPool / AveragePool (2-D, no dilation; else uncounted) -> maxpool / avgpool: kernel_shape, strides,
    pads, auto_pad, ceil_mode."""
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
    out = (xs[0], xs[1], *(output_size(size, k, s, pads[i], 1, pads[i + 2], ceil) for i, (size, k, s) in
                           enumerate(zip(xs[2:], kernel, strides))))
    mode = "max" if node.op_type == "MaxPool" else "avg"
    begins, ends = tuple(pads[:2]), tuple(pads[2:4])
    imp.add(node, Pool, xs, out, (x.producer,), mode=mode, kernel=tuple(kernel), stride=tuple(strides),
            padding=begins, padding_end=None if ends == begins else ends, ceil=ceil)


def global_pool(imp: GraphAssembler, node) -> None:
    """GlobalAveragePool / GlobalMaxPool of a 4-D input -> a global pool."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    if len(xs) != 4:
        imp.uncount(node)
        return passthrough(imp, node)
    mode = "max" if node.op_type == "GlobalMaxPool" else "avg"
    imp.add(node, Pool, xs, (*xs[:2], 1, 1), (x.producer,), mode=mode, kernel=tuple(xs[2:]),
            stride=tuple(xs[2:]), is_global=True)


def reduce_mean(imp: GraphAssembler, node) -> None:
    """ReduceMean over height and width (keepdims): a global average pool (SE blocks often use it); a tensor mean
    (`x.mean((2, 3))`), unless the exporter's metadata says an nn.AdaptiveAvgPool2d module wrote it."""
    xs = imp.shape(node, 0)
    axes = attrs(node).get("axes") or imp.const(node, 1)
    keep = attrs(node).get("keepdims", 1)
    if len(xs) == 4 and axes is not None and sorted(a % 4 for a in axes) == [2, 3]:
        x = imp.get(node, 0)
        out = (*xs[:2], 1, 1) if keep else xs[:2]
        module = torch_module(node) == "torch.nn.modules.pooling.AdaptiveAvgPool2d"  # as GlobalAveragePool
        imp.add(node, Pool, xs, out, (x.producer,), mode="avg", kernel=tuple(xs[2:]), stride=tuple(xs[2:]),
                reduce=not module, is_global=module)
        return
    imp.uncount(node)
    passthrough(imp, node, shape=None)


def torch_module(node) -> str:
    """The torch module class that wrote `node`, from the metadata torch's dynamo exporter gives every node (its
    class hierarchy, the innermost module before the aten op); "" without it."""
    for prop in getattr(node, "metadata_props", ()):
        if prop.key == "pkg.torch.onnx.class_hierarchy":
            classes = [name.strip(" '\"") for name in prop.value.strip("[]").split(",")]
            modules = [name for name in classes if name and not name.startswith("aten.")]
            return modules[-1] if modules else ""
    return ""


def elementwise(imp: GraphAssembler, node) -> None:
    """Add / Sub / Sum -> add, Mul / Div -> mul, of two or more activations (taking an activation after it);
    of one activation and constants -> act: affine (one operation per element); of constants: a constant."""
    ins = [imp.get(node, i) for i in range(len(node.input))]  # all-constant inputs were folded already
    live = [t for t in ins if not t.param and t.value is None]
    if any(t.shape is None for t in ins):
        imp.uncount(node)
        return passthrough(imp, node, shape=None)
    out = broadcast_shape([t.shape for t in ins])
    if out is None:
        raise imp.fail(node, "inputs of shapes " + ", ".join("x".join(map(str, t.shape)) for t in ins)
                       + " do not broadcast (sides must be equal or 1)")
    cls = Mul if node.op_type in ("Mul", "Div") else Add
    if len(live) >= 2:
        act, tensor = imp.take_act(node.output[0])
        index = imp.add(node, cls, live[0].shape, out, [t.producer for t in live], act=act)
        imp.tensors[tensor] = Tensor(out, index)
    elif len(live) == 1:  # x * c, x + c, ...: one operation per element, counted as an activation; a learnable
        # c (a layer-scale gamma, a position embedding, a relative-position bias) is its parameters
        constants = [t for t in ins if t.param]
        bias = relative_position_bias(imp, live[0], constants) if cls is Add else None
        imp.add(node, Activation, live[0].shape, out, (live[0].producer,), act="affine",
                params=imp.new_params(constants) if bias is None else bias)
    else:
        imp.set(node, out, INPUT)


def concat(imp: GraphAssembler, node) -> None:
    """Concat along channels -> concat; of one input (torchvision's DenseNet: torch.cat of a one-tensor list)
    the input itself; of constants, a shape computation; along another axis, uncounted."""
    ins = [imp.get(node, i) for i in range(len(node.input))]
    if len(ins) == 1:
        return imp.alias(node, ins[0])
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
    if any(t.param for t in ins):
        return concat_params(imp, node, ins, out)
    imp.add(node, Concat, ins[0].shape, out, [t.producer for t in ins])


def flatten(imp: GraphAssembler, node) -> None:
    """Flatten at axis 1 -> flatten; at another axis, uncounted."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    axis = attrs(node).get("axis", 1) % max(len(xs), 1)
    out = (math.prod(xs[:axis]), math.prod(xs[axis:]))
    if axis != 1:
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    imp.add(node, Reshape, xs, out, (x.producer,), op="flatten")


def reshape(imp: GraphAssembler, node) -> None:
    """Reshape to a known shape -> flatten (to batch x features) or reshape; of a constant, a constant."""
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
    op = "flatten" if len(dims) == 2 and dims[0] == xs[0] == 1 else "reshape"  # batch x features (batch 1)
    imp.add(node, Reshape, xs, dims, (x.producer,), op=op)


def squeeze(imp: GraphAssembler, node) -> None:
    """Squeeze / Unsqueeze -> reshape; of a constant, a constant."""
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


def transpose(imp: GraphAssembler, node) -> None:
    """Transpose -> reshape (the batch is 1: moving it moves nothing)."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    perm = attrs(node).get("perm") or list(reversed(range(len(xs))))
    out = [xs[p] for p in perm]
    imp.add(node, Reshape, xs, out, (x.producer,), op="reshape")


def pad(imp: GraphAssembler, node) -> None:
    """Pad by known pads of the channels, height and width -> pad (its mode kept; zero channels make an
    option-A shortcut's missing maps); padding the batch is uncounted. Pads that are not known leave the output's
    shape unknown, so a layer reading it is refused rather than shaped as the input."""
    x = imp.get(node, 0)
    xs = imp.shape(node, 0)
    pads = attrs(node).get("pads") or imp.const(node, 1)
    if pads is None:
        imp.uncount(node)
        passthrough(imp, node, shape=None)
        out = imp.tensors[node.output[0]]
        if out.shape is None:
            out.origin = (f"Pad node '{printable(layer_name(node.name))}' pads by {printable(node.input[1])!r}, "
                          "which hetcalc cannot work out from the graph")
        return
    axes = imp.const(node, 3)
    rank = len(xs)
    axes = [a % rank for a in axes] if axes else list(range(rank))
    out = list(xs)
    for i, a in enumerate(axes):
        out[a] += int(pads[i]) + int(pads[i + len(axes)])
    if out[0] != xs[0] or len(xs) != 4:
        imp.uncount(node)
        return passthrough(imp, node, shape=out)
    mode = text(attrs(node).get("mode", "constant"))
    imp.add(node, Reshape, xs, out, (x.producer,), op="pad", mode=mode)


def slice_(imp: GraphAssembler, node) -> None:
    """Slice by known starts and ends, on any axes but the batch -> slice (steps included)."""
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
    imp.add(node, Reshape, xs, out, (x.producer,), op="slice")


def resize(imp: GraphAssembler, node) -> None:
    """Resize / Upsample by known scales or sizes -> upsample; its mode kept (linear is bilinear, cubic
    bicubic)."""
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
    mode = text(attrs(node).get("mode", "nearest"))
    mode = {"linear": "bilinear", "cubic": "bicubic"}.get(mode, mode)
    imp.add(node, Reshape, xs, out, (x.producer,), op="upsample", mode=mode)


def alias(imp: GraphAssembler, node) -> None:
    """Dropout, Identity, Cast: no layer; the output is the input."""
    imp.alias(node, imp.get(node, 0))


def constant(imp: GraphAssembler, node) -> None:
    """Constant: no layer; a small value is kept for the shape arithmetic that reads it."""
    a = attrs(node)
    if "value" in a:
        t = a["value"]
        dims = tuple(t.dims)
        value = values(t) if math.prod(dims) <= MAX_CONST else None
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


def shape_op(imp: GraphAssembler, node) -> None:
    """Shape: no layer; the input's shape (from start to end) as a constant."""
    xs = imp.shape(node, 0)
    a = attrs(node)
    value = list(xs)[a.get("start", 0):a.get("end", len(xs))]
    imp.tensors[node.output[0]] = Tensor((len(value),), INPUT, value, param=True)


def gather(imp: GraphAssembler, node) -> None:
    """Gather from a constant by constant indices: a constant (torch's shape arithmetic); otherwise uncounted."""
    data, idx = imp.get(node, 0), imp.get(node, 1)
    if data.value is not None and idx.value is not None:
        value = [data.value[int(i)] for i in idx.value]
        shape = idx.shape if idx.shape is not None else (len(value),)
        imp.tensors[node.output[0]] = Tensor(shape, INPUT, value, param=True)
        return
    gather_activation(imp, node)


Handler = Callable[[GraphAssembler, Any], None]  # (the graph so far, an ONNX NodeProto)
HANDLERS: dict[str, Handler] = {
    "Conv": conv, "Gemm": linear, "MatMul": linear, "BatchNormalization": batchnorm,
    **{op: activation for op in ACTIVATION_OPS},
    "MaxPool": pool, "AveragePool": pool, "GlobalAveragePool": global_pool, "GlobalMaxPool": global_pool,
    "ReduceMean": reduce_mean,
    "Add": elementwise, "Sub": elementwise, "Mul": elementwise, "Div": elementwise, "Sum": elementwise,
    "Concat": concat, "Flatten": flatten, "Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": squeeze,
    "Transpose": transpose, "Pad": pad, "Slice": slice_, "Resize": resize, "Upsample": resize,
    "Dropout": alias, "Identity": alias, "Constant": constant, "Shape": shape_op, "Gather": gather, "Cast": alias,
    **TENSOR_HANDLERS,
}
