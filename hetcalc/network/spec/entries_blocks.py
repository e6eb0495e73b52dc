"""Block entries: residual and stage (ResNet blocks), concat, and the elementwise merges add and mul."""

from __future__ import annotations

from typing import NamedTuple

from hetcalc.core.located import At, at_item, choice, got, positive_int
from hetcalc.core.yamlio import YMap
from hetcalc.network.graph import Add, Concat, Mul, Shape
from hetcalc.network.rules import broadcast_shape
from hetcalc.network.spec.builder import Flow, GraphBuilder, entry, renamed, repeat_name, where
from hetcalc.network.spec.entries_layers import make_conv
from hetcalc.network.spec.entries_tensor import stated_concat
from hetcalc.network.spec.schema import BLOCKS, RESIDUAL_SHORTCUTS, STAGE_SHORTCUTS
from hetcalc.network.spec.values import activation, fmt_shape


@entry("residual")
def residual(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    if "body" not in args:
        raise at.error("residual needs 'body' (the list of layers on the main branch)")
    act = activation(args.get("act", b.defaults.get("conv", {}).get("act")), "act", where(args, "act", at))
    repeat = b.repeat(args, at)
    given = b.given_name(args, at)
    shortcut = args.get("shortcut", "identity")
    short_at = where(args, "shortcut", at)
    if not isinstance(shortcut, (list, tuple)) and shortcut not in RESIDUAL_SHORTCUTS:
        raise short_at.error(f"residual shortcut must be identity, zero_pad or a list of layers, "
                             f"got {got(shortcut)}")
    for j in range(repeat):
        block = (repeat_name(given, repeat, j) or b.next_name(prefix, "res")) + "."
        body = b.sequence(args["body"], flow, block, where(args, "body", at), "residual 'body'", depth + 1)
        if isinstance(shortcut, str):
            short = flow
            check_shortcut(shortcut, flow.shape, body.shape, short_at)
        else:
            short = b.sequence(shortcut, flow, block + "shortcut.", short_at, "residual 'shortcut'", depth + 1)
            if short.shape != body.shape:
                raise short_at.error(f"residual branches cannot be added: body gives {fmt_shape(body.shape)}, "
                                     f"shortcut gives {fmt_shape(short.shape)}")
        flow = b.register(Add(name=block + "add", in_shape=body.shape, out_shape=body.shape, act=act,
                              where=str(at), inputs=(body.index, short.index)), at, given is not None)
    b.alias(given, flow)
    return flow


def check_shortcut(kind: str, shape: Shape, body_shape: Shape, at: At) -> None:
    """An identity or zero_pad shortcut must carry `shape` to the body's output shape."""
    if kind == "identity" and shape != body_shape:
        raise at.error(f"residual branches cannot be added: body gives {fmt_shape(body_shape)}, identity "
                       f"shortcut gives {fmt_shape(shape)} (use a projection or zero_pad shortcut)")
    if kind == "zero_pad":
        c, h, w = shape
        n, ho, wo = body_shape
        sh, sw = -(-h // ho), -(-w // wo)
        if n < c or -(-h // sh) != ho or -(-w // sw) != wo:
            raise at.error(f"residual branches cannot be added: a zero_pad shortcut cannot turn "
                           f"{fmt_shape(shape)} into {fmt_shape(body_shape)} (it subsamples and pads "
                           "channels with zeros)")


# --------------------------------------------------------------------------- stage

class Stage(NamedTuple):
    """A stage's checked options."""

    block: str  # basic or bottleneck
    out: int
    repeat: int
    stride: int  # of the first block
    shortcut: str  # projection or zero_pad, where a block changes the shape
    width: int | None  # a bottleneck's inner channels
    groups: int
    act: str | None
    convs_at: At  # where the stage's convs point their errors
    shortcut_at: At
    pinned: list[YMap]  # per conv of a block: the stage's P and replace


def stage_options(b: GraphBuilder, args: YMap, at: At) -> Stage:
    """The stage's options, checked, with the places its convs' errors point to."""
    for key in ("block", "out"):
        if key not in args:
            raise at.error(f"stage needs '{key}'")
    block = choice(args["block"], "stage block", where(args, "block", at), BLOCKS)
    out = positive_int(args["out"], "stage out channels", where(args, "out", at))
    repeat = b.repeat(args, at)
    stride = positive_int(args.get("stride", 1), "stride", where(args, "stride", at))
    shortcut = choice(args.get("shortcut", "projection"), "stage shortcut", where(args, "shortcut", at),
                      STAGE_SHORTCUTS)
    width = None
    if block == "bottleneck":
        width = positive_int(args.get("width", max(out // 4, 1)), "width", where(args, "width", at))
    elif "width" in args:
        raise where(args, "width", at).error("'width' applies to bottleneck blocks only")
    groups = positive_int(args.get("groups", 1), "groups", where(args, "groups", at))
    act = activation(b.defaults.get("conv", {}).get("act", "relu"), "act", at)
    pinned = pinned_options(args, at, block_convs(block, width, out, stride, groups, act))
    return Stage(block, out, repeat, stride, shortcut, width, groups, act, where(args, "out", at),
                 where(args, "shortcut", at), pinned)


def pinned_options(args: YMap, at: At, convs: list[dict]) -> list[YMap]:
    """Per conv of a block, the stage's P and replace (on its K x K convs only), located at the stage's keys.
    One map per conv, shared by every block of the stage, so that repeats hit make_conv's memo."""
    pinned = {key: args[key] for key in ("P", "replace") if args.get(key) is not None}
    maps = []
    for conv in convs:
        knobs = pinned if conv["kernel"] > 1 else {}
        spots = {key: where(args, key, at) for key in knobs}
        keyed = YMap(knobs)
        keyed.key_marks = {key: (w.line, w.column) for key, w in spots.items() if w.line is not None}
        maps.append(keyed)
    return maps


def block_convs(block: str, width: int | None, out: int, stride: int, groups: int, act: str | None) -> list[dict]:
    """The options of a block's convs: basic 3x3, 3x3; bottleneck 1x1, 3x3 (grouped), 1x1. The stride sits on
    the first 3x3; the last conv has no activation (it follows the addition)."""
    if block == "basic":
        convs = [dict(out=out, kernel=3, stride=stride, groups=groups), dict(out=out, kernel=3, act=None,
                                                                             groups=groups)]
    else:
        convs = [dict(out=width, kernel=1), dict(out=width, kernel=3, stride=stride, groups=groups),
                 dict(out=out, kernel=1, act=None)]
    for opts in convs:
        opts.setdefault("act", act)
    return convs


@entry("stage")
def stage(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """`repeat` blocks; the first takes the stride. A block on the same input shape and stride as the one
    before it has the same checked layers, so it is replayed: renamed and re-wired, not checked again."""
    opts = stage_options(b, args, at)
    given = b.given_name(args, at)
    name = given or b.next_name(prefix, "stage")
    template: tuple | None = None  # the last block built: (its input shape, its stride), its layers
    for j in range(opts.repeat):
        stride = opts.stride if j == 0 else 1
        pre = f"{name}.{j}."
        built_on = (flow.shape, stride)
        if template is not None and template[0] == built_on:
            flow = replay(b, template[1], flow, pre, at, given is not None)
            continue
        flow, layers = build_block(b, opts, flow, stride, pre, at, given is not None)
        template = (built_on, layers)
    b.alias(given, flow)
    return flow


def build_block(b: GraphBuilder, opts: Stage, flow: Flow, stride: int, pre: str, at: At,
                given: bool) -> tuple[Flow, list[tuple]]:
    """One block: its convs, the shortcut, the addition. Returns the flow out and the block's layers as a
    template for replay: (layer, name after the prefix, inputs as offsets in the block or None for its input)."""
    start = len(b.layers)
    body = flow
    convs = block_convs(opts.block, opts.width, opts.out, stride, opts.groups, opts.act)
    for k, conv_opts in enumerate(convs, start=1):
        layer = make_conv(b, opts.pinned[k - 1], body, pre, opts.convs_at, name=f"{pre}conv{k}", **conv_opts)
        body = b.register(layer, at, given)
    short = flow
    if stride != 1 or flow.shape[0] != opts.out:
        if opts.shortcut == "projection":
            layer = make_conv(b, {}, flow, pre, opts.shortcut_at, name=f"{pre}shortcut", out=opts.out, kernel=1,
                              stride=stride, act=None)
            short = b.register(layer, at, given)
        else:
            check_shortcut("zero_pad", flow.shape, body.shape, opts.shortcut_at)
    out = b.register(Add(name=f"{pre}add", in_shape=body.shape, out_shape=body.shape, act=opts.act, where=str(at),
                         inputs=(body.index, short.index)), at, given)
    layers = [(layer, layer.name[len(pre):], tuple(None if i == flow.index else i - start for i in layer.inputs))
              for layer in b.layers[start:]]
    return out, layers


def replay(b: GraphBuilder, layers: list[tuple], flow: Flow, pre: str, at: At, given: bool) -> Flow:
    """The block of `layers` (build_block's template) again: renamed under `pre`, reading `flow`."""
    base, start = len(b.layers), flow.index
    for layer, tail, ins in layers:
        inputs = tuple(start if k is None else base + k for k in ins)
        last = b.register(renamed(layer, pre + tail, inputs), at, given)
    return last


# --------------------------------------------------------------------------- concat and merges

def merge_inputs(b: GraphBuilder, args: YMap, flow: Flow, at: At, kind: str) -> list[Flow]:
    """What a merge reads: the flow and `with`, or exactly `inputs`."""
    if "with" in args and "inputs" in args:
        raise where(args, "inputs", at).error(f"{kind} takes 'with' (joined to the flow) or 'inputs' "
                                              "(the exact list), not both")
    if "inputs" in args:
        found = b.lookup_all(args["inputs"], "inputs", where(args, "inputs", at))
        if len(found) < 2:
            raise where(args, "inputs", at).error(f"{kind} 'inputs' needs at least two layers")
        return found
    if "with" not in args:
        raise at.error(f"{kind} needs 'with' (earlier layers to join to the flow) or 'inputs'")
    return [flow, *b.lookup_all(args["with"], "with", where(args, "with", at))]


@entry("concat")
def concat(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """Channel concatenation of parallel `branches` (each a layer list from the flow), or of named layers."""
    if "out" in args:  # along any axis, with learnt elements: as `hetcalc import` writes it
        return stated_concat(b, args, flow, prefix, at)
    given = b.given_name(args, at)
    if "branches" in args:
        if "with" in args or "inputs" in args:
            key = "with" if "with" in args else "inputs"
            raise where(args, key, at).error(f"concat takes 'branches' or '{key}', not both")
        branches = args["branches"]
        b_at = where(args, "branches", at)
        if not isinstance(branches, (list, tuple)) or len(branches) < 2:
            raise b_at.error(f"concat 'branches' must be a list of at least two layer lists ([] is the "
                             f"input itself), got {got(branches)}")
        repeat = b.repeat(args, at)
        for j in range(repeat):
            block = (repeat_name(given, repeat, j) or b.next_name(prefix, "cat")) + "."
            ends = [b.sequence(branch, flow, f"{block}b{i + 1}.", at_item(branches, i, b_at),
                               f"concat branch {i + 1}", depth + 1, allow_empty=True)
                    for i, branch in enumerate(branches)]
            flow = join(b, ends, block + "cat", at, given is not None)
    else:
        if "repeat" in args:
            raise where(args, "repeat", at).error("concat takes 'repeat' only with 'branches'")
        ends = merge_inputs(b, args, flow, at, "concat")
        flow = join(b, ends, given or b.next_name(prefix, "concat"), at, given is not None)
    b.alias(given, flow)
    return flow


def join(b: GraphBuilder, ends: list[Flow], name: str, at: At, given: bool) -> Flow:
    shapes = [shape for _, shape in ends]
    if len({shape[1:] for shape in shapes}) != 1:
        raise at.error("concat inputs must share height and width, got " + ", ".join(fmt_shape(s) for s in shapes))
    out = (sum(s[0] for s in shapes), *shapes[0][1:])
    return b.register(Concat(name=name, in_shape=shapes[0], out_shape=out, where=str(at),
                             inputs=tuple(i for i, _ in ends)), at, given)


@entry("add")
def add(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    return merge(b, "add", args, flow, prefix, at)


@entry("mul")
def mul(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    return merge(b, "mul", args, flow, prefix, at)


def merge(b: GraphBuilder, kind: str, args: YMap, flow: Flow, prefix: str, at: At) -> Flow:
    """Elementwise add or mul of shapes that are equal or broadcast (sides of 1: a gate, a single channel),
    by the rule ONNX's Add and Mul follow (network.rules)."""
    ends = merge_inputs(b, args, flow, at, kind)
    shapes = [shape for _, shape in ends]
    out = broadcast_shape(shapes)
    if out is None:
        raise at.error(f"{kind} inputs must have equal shapes or broadcast (sides of 1), got "
                       + ", ".join(fmt_shape(s) for s in shapes))
    act = activation(args.get("act"), "act", where(args, "act", at))
    given = b.given_name(args, at)
    cls = Add if kind == "add" else Mul
    layer = cls(name=given or b.next_name(prefix, kind), in_shape=shapes[0], out_shape=out, act=act,
                where=str(at), inputs=tuple(i for i, _ in ends))
    return b.register(layer, at, given is not None)
