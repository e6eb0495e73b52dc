"""Layer entries: conv (and make_conv, which stage and se share), fc, maxpool and avgpool, bn, act and se."""

from __future__ import annotations

from typing import Any

from hetcalc.core.located import At, boolean, got, pair, positive_int, suggest
from hetcalc.core.yamlio import YMap
from hetcalc.network.geometry import adaptive_windows, output_size, same_pads
from hetcalc.network.graph import Activation, BatchNorm, Conv, Linear, Mul, Pool
from hetcalc.network.rules import conv_pad_problem, pool_pad_problem
from hetcalc.network.spec.builder import Flow, GraphBuilder, entry, renamed, repeat_name, where
from hetcalc.network.spec.entries_tensor import rows_linear
from hetcalc.network.spec.schema import PAD_WORDS
from hetcalc.network.spec.values import activation, fmt_shape, pads, part_value


@entry("conv")
def conv(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    if "out" not in args:
        raise at.error("conv needs 'out' (output channels)")
    repeat = b.repeat(args, at)
    given = b.given_name(args, at)
    for j in range(repeat):
        layer = make_conv(b, args, flow, prefix, at, name=repeat_name(given, repeat, j), first=j == 0)
        flow = b.register(layer, at, given is not None)
    b.alias(given, flow)
    return flow


def make_conv(b: GraphBuilder, args: dict, flow: Flow, prefix: str, at: At, *, name: str | None = None,
              first: bool = True, **override: Any) -> Conv:
    """One Conv from options (args, then `override`, then the spec's defaults).

    `in` is checked on the first of a run of repeats only: the others take the run's own output.
    The checks depend only on the options and the input shape, so the same entry on the same shape (a
    repeat, the blocks of a repeated residual) reuses the checked layer with a new name and edge.
    """
    index, shape = flow
    try:
        key = (id(args), shape, first, at, tuple(override.items()))
        hit = b.convs.get(key)
    except TypeError:  # an unhashable override value: validate afresh
        key, hit = None, None
    if hit is not None and hit[0] is args:  # the same entry on the same input: validated already
        return renamed(hit[1], name or b.next_name(prefix, "conv"), (index,))
    layer = new_conv(b, args, flow, prefix, at, name, first, override)
    if key is not None:
        b.convs[key] = (args, layer)
    return layer


def new_conv(b: GraphBuilder, args: dict, flow: Flow, prefix: str, at: At, name: str | None, first: bool,
             override: dict) -> Conv:
    """A Conv checked from scratch (make_conv's memo had none): its options one by one, then together."""
    opts = {**b.defaults.get("conv", {}), **args, **override}
    c, h, w = flow.shape
    out = positive_int(opts["out"], "conv out channels", where(args, "out", at))
    if "in" in opts:
        declared = positive_int(opts["in"], "conv in channels", where(args, "in", at))
        if first and declared != c:
            raise where(args, "in", at).error(f"conv declares in: {declared} but its input has {c} channels "
                                              "(from the layer before it)")
    kernel = pair(opts.get("kernel", 3), "kernel", where(args, "kernel", at))
    stride = pair(opts.get("stride", 1), "stride", where(args, "stride", at))
    dilation = pair(opts.get("dilation", 1), "dilation", where(args, "dilation", at))
    padding = conv_padding(opts, (h, w), kernel, stride, dilation, where(args, "padding", at))
    groups = positive_int(opts.get("groups", 1), "groups", where(args, "groups", at))
    bias = boolean(opts.get("bias", False), "bias", where(args, "bias", at))
    bn = boolean(opts.get("bn", False), "bn", where(args, "bn", at))
    act = activation(opts.get("act"), "act", where(args, "act", at))
    replace = None if opts.get("replace") is None else boolean(opts["replace"], "replace", where(args, "replace", at))
    part = None if opts.get("P") is None else part_value(opts["P"], "P", where(args, "P", at))
    check_conv(args, at, channels=c, out=out, kernel=kernel, dilation=dilation, padding=padding, groups=groups,
               replace=replace, part=part)
    out_hw = output_hw((h, w), kernel, stride, padding, where(args, "kernel", at), "conv", dilation)
    return Conv(name=name or b.next_name(prefix, "conv"), in_shape=flow.shape, out_shape=(out, *out_hw),
                kernel=kernel, stride=stride, padding=padding[:2], groups=groups, bias=bias, bn=bn, act=act,
                replace=replace, where=str(at), dilation=dilation,
                padding_end=None if padding[2:] == padding[:2] else padding[2:], P=part, inputs=(flow.index,))


def conv_padding(opts: dict, hw: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int],
                 dilation: tuple[int, int], at: At) -> tuple[int, int, int, int]:
    """(top, left, bottom, right): by default half the kernel's span (dilation included) on each side; `same`
    as ONNX's SAME_UPPER; `valid` none; else as written."""
    raw = opts.get("padding")
    if raw is None and "padding" not in opts:
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        return (span[0] // 2, span[1] // 2) * 2
    if raw == "valid":
        return 0, 0, 0, 0
    if raw == "same":
        (t, b), (l, r) = (same_pads(size, k, s, d) for size, k, s, d in zip(hw, kernel, stride, dilation))
        return t, l, b, r
    if isinstance(raw, str):
        close = suggest(raw, PAD_WORDS)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"padding must be an integer, a list, same or valid, got {got(raw)}{hint}")
    return pads(raw, "padding", at)


def check_conv(args: dict, at: At, *, channels: int, out: int, kernel: tuple[int, int], dilation: tuple[int, int],
               padding: tuple[int, int, int, int], groups: int, replace: bool | None, part: int | str | None) -> None:
    """The checks that relate a conv's options to each other and to its input channels."""
    problem = conv_pad_problem(padding, kernel, dilation)
    if problem:
        raise where(args, "padding", at).error(problem)
    if channels % groups or out % groups:
        raise where(args, "groups", at).error(f"groups {groups} must divide both the input channels {channels} "
                                              f"and the output channels {out}")
    if replace and (groups != 1 or max(kernel) == 1):
        why = f"groups is {groups}" if groups != 1 else "it is a 1 x 1 convolution"
        raise where(args, "replace", at).error(f"replace: true needs a dense K x K convolution with K > 1, but "
                                               f"{why}")
    if isinstance(part, int) and groups == 1 and max(kernel) > 1 and channels % part:
        raise where(args, "P", at).error(f"P {part} does not divide this convolution's input channels "
                                         f"M={channels} (HetConv puts M/P kernels K x K in each filter)")


def output_hw(hw: tuple[int, int], kernel, stride, padding, at: At, what: str, dilation=(1, 1),
              ceil: bool = False) -> tuple[int, int]:
    """Output height and width by PyTorch's rule, (size + 2p - d(k-1) - 1) // s + 1; refused below 1."""
    if len(padding) == 2:
        padding = (*padding, *padding)
    out = []
    for axis, size, k, s, pb, pe, d in zip(("height", "width"), hw, kernel, stride, padding[:2], padding[2:],
                                           dilation):
        o = output_size(size, k, s, pb, d, pe, ceil)
        span = d * (k - 1) + 1
        if o < 1 or span > size + pb + pe:
            pad = f"2*{pb}" if pb == pe else f"{pb}+{pe}"
            padded = size + pb + pe
            kern = f"kernel {k}" if d == 1 else f"kernel {k} (dilation {d}: span {span})"
            rule = (f"output size ({size} + {pad} - {k}) // {s} + 1 = {o} is below 1" if d == 1
                    else f"output size ({size} + {pad} - {span}) // {s} + 1 = {o} is below 1")
            raise at.error(f"{what} {kern} is larger than its padded input {axis} {size}+{pad}="
                           f"{padded}: {rule} (floor division, as in PyTorch)")
        out.append(o)
    return out[0], out[1]


@entry("fc")
def fc(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    if "out" not in args:
        raise at.error("fc needs 'out' (output features)")
    opts = {**b.defaults.get("fc", {}), **args}
    repeat = b.repeat(args, at)
    given = b.given_name(args, at)
    out = positive_int(opts["out"], "fc out features", where(args, "out", at))
    bias = boolean(opts.get("bias", True), "bias", where(args, "bias", at))
    act = activation(opts.get("act"), "act", where(args, "act", at))
    for j in range(repeat):
        index, shape = flow
        features = shape[0] * shape[1] * shape[2]
        if "in" in opts and j == 0:
            declared = positive_int(opts["in"], "fc in features", where(args, "in", at))
            if declared != features:
                raise where(args, "in", at).error(f"fc declares in: {declared} but its input gives {features} "
                                                  f"features ({fmt_shape(shape)} flattened)")
        name = repeat_name(given, repeat, j) or b.next_name(prefix, "fc")
        if "rows" in args:  # on [..., features]: one vector per token or pixel (entries_tensor.py)
            layer = rows_linear(args, at, shape, out, name, bias=bias, act=act, where=str(at), inputs=(index,))
        else:
            layer = Linear(name=name, in_shape=shape, out_shape=(out, 1, 1), bias=bias, act=act, where=str(at),
                           inputs=(index,))
        flow = b.register(layer, at, given is not None)
    b.alias(given, flow)
    return flow


@entry("maxpool")
def maxpool(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    return pool(b, "max", args, flow, prefix, at)


@entry("avgpool")
def avgpool(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    return pool(b, "avg", args, flow, prefix, at)


def pool(b: GraphBuilder, mode: str, args: YMap, flow: Flow, prefix: str, at: At) -> Flow:
    """A pool: global (`global: true`), adaptive (`output: [h, w]`), or with a kernel, stride and padding;
    `mean: true` on an avgpool: written as a tensor mean (x.mean((2, 3)), ONNX ReduceMean), not a module."""
    kind = f"{mode}pool"
    c, h, w = flow.shape
    window = None
    ceil = False
    padding = (0, 0, 0, 0)
    adaptive = "output" in args
    is_global = "global" in args and boolean(args["global"], "global", where(args, "global", at))
    if is_global:
        for key in ("kernel", "stride", "padding", "output", "ceil"):
            if key in args:
                raise where(args, key, at).error(f"a global {kind} takes no '{key}'")
        kernel, stride = (h, w), (h, w)
        out_hw = (1, 1)
    elif adaptive:
        for key in ("kernel", "stride", "padding", "ceil"):
            if key in args:
                raise where(args, key, at).error(f"an adaptive {kind} (with 'output') takes no '{key}'")
        out_hw = pair(args["output"], "output", where(args, "output", at))
        kernel, stride, window = adaptive_windows((h, w), out_hw)
    else:
        kernel = pair(args.get("kernel", 2), "kernel", where(args, "kernel", at))
        stride = pair(args.get("stride", list(kernel)), "stride", where(args, "stride", at))
        padding = pads(args.get("padding", 0), "padding", where(args, "padding", at))
        ceil = boolean(args.get("ceil", False), "ceil", where(args, "ceil", at))
        problem = pool_pad_problem(padding, kernel)
        if problem:
            raise where(args, "padding", at).error(problem)
        out_hw = output_hw((h, w), kernel, stride, padding, where(args, "kernel", at), kind, ceil=ceil)
    mean = "mean" in args and boolean(args["mean"], "mean", where(args, "mean", at))
    if mean and mode != "avg":
        raise where(args, "mean", at).error("only an avgpool can be a tensor mean ('mean: true')")
    given = b.given_name(args, at)
    layer = Pool(name=given or b.next_name(prefix, "pool"), in_shape=flow.shape, out_shape=(c, *out_hw), mode=mode,
                 kernel=kernel, stride=stride, padding=padding[:2], where=str(at), inputs=(flow.index,),
                 window=window, adaptive=adaptive, padding_end=None if padding[2:] == padding[:2] else padding[2:],
                 ceil=ceil, is_global=is_global, reduce=mean)
    return b.register(layer, at, given is not None)


@entry("bn")
def bn(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    act = activation(args.get("act"), "act", where(args, "act", at))
    given = b.given_name(args, at)
    index, shape = flow
    layer = BatchNorm(name=given or b.next_name(prefix, "bn"), in_shape=shape, out_shape=shape, act=act,
                      where=str(at), inputs=(index,))
    return b.register(layer, at, given is not None)


@entry("act")
def act(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    fn = activation(args.get("fn", "relu"), "act", where(args, "fn", at))
    if fn is None:
        raise where(args, "fn", at).error("a standalone act needs an activation, got none")
    given = b.given_name(args, at)
    index, shape = flow
    params = positive_int(args.get("params", 0), "act params", where(args, "params", at), 0)  # a layer scale
    layer = Activation(name=given or b.next_name(prefix, "act"), in_shape=shape, out_shape=shape, act=fn,
                       where=str(at), inputs=(index,), params=params)
    return b.register(layer, at, given is not None)


@entry("se")
def se(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """Squeeze-and-Excitation as a graph: global average pool, 1x1 conv, 1x1 conv, gate, scale."""
    index, shape = flow
    c = shape[0]
    if "squeeze" in args:
        if "reduction" in args:
            raise where(args, "squeeze", at).error("se takes 'reduction' or 'squeeze', not both")
        hidden = positive_int(args["squeeze"], "se squeeze channels", where(args, "squeeze", at))
    else:
        hidden = max(c // positive_int(args.get("reduction", 16), "se reduction", where(args, "reduction", at)), 1)
    bias = boolean(args.get("bias", True), "bias", where(args, "bias", at))
    act = activation(args.get("act", "relu"), "act", where(args, "act", at))
    gate = activation(args.get("gate", "sigmoid"), "gate", where(args, "gate", at))
    given = b.given_name(args, at)
    block = (given or b.next_name(prefix, "se")) + "."
    pooled = b.register(Pool(name=block + "pool", in_shape=shape, out_shape=(c, 1, 1), mode="avg",
                             kernel=shape[1:], stride=shape[1:], where=str(at), inputs=(index,)), at)
    fc1 = b.register(make_conv(b, {}, pooled, block, at, name=block + "fc1", out=hidden, kernel=1, bias=bias,
                               bn=False, act=act), at)
    fc2 = b.register(make_conv(b, {}, fc1, block, at, name=block + "fc2", out=c, kernel=1, bias=bias, bn=False,
                               act=gate), at)
    flow = b.register(Mul(name=block + "scale", in_shape=shape, out_shape=shape, where=str(at),
                          inputs=(index, fc2.index)), at)
    b.alias(given, flow)
    return flow
