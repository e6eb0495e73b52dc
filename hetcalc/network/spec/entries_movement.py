"""Data-movement entries, which change a shape without arithmetic: upsample, pad, slice, reshape and flatten."""

from __future__ import annotations

from hetcalc.core.located import At, choice, got, pair, positive_int
from hetcalc.core.yamlio import YMap
from hetcalc.network.graph import Reshape, Shape
from hetcalc.network.spec.builder import Flow, GraphBuilder, entry, where
from hetcalc.network.spec.schema import PAD_MODES, UPSAMPLE_MODES
from hetcalc.network.spec.values import fmt_shape, pads, shape3


def move(b: GraphBuilder, op: str, args: YMap, flow: Flow, prefix: str, at: At, out: Shape, mode: str = "") -> Flow:
    given = b.given_name(args, at)
    layer = Reshape(name=given or b.next_name(prefix, op), in_shape=flow.shape, out_shape=out, op=op, mode=mode,
                    where=str(at), inputs=(flow.index,))
    return b.register(layer, at, given is not None)


@entry("upsample")
def upsample(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    c, h, w = flow.shape
    if ("scale" in args) == ("size" in args):
        raise at.error("upsample needs exactly one of 'scale' (an integer or [height, width]) and 'size'")
    if "size" in args:
        out_hw = pair(args["size"], "size", where(args, "size", at))
    else:
        sh, sw = pair(args["scale"], "scale", where(args, "scale", at))
        out_hw = (h * sh, w * sw)
    mode = choice(args.get("mode", "nearest"), "upsample mode", where(args, "mode", at), UPSAMPLE_MODES)
    return move(b, "upsample", args, flow, prefix, at, (c, *out_hw), mode)


@entry("pad")
def pad(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    """Zero cost; `padding` of height and width, `channels` ([before, after] or one number for both) of the
    channel axis (an option-A shortcut's zero channels)."""
    if "padding" not in args and "channels" not in args:
        raise at.error("pad needs 'padding' (or 'channels')")
    t, l, bottom, r = pads(args.get("padding", 0), "padding", where(args, "padding", at))
    front, back = channel_pads(args.get("channels", 0), where(args, "channels", at))
    mode = choice(args.get("mode", "constant"), "pad mode", where(args, "mode", at), PAD_MODES)
    c, h, w = flow.shape
    return move(b, "pad", args, flow, prefix, at, (c + front + back, h + t + bottom, w + l + r), mode)


def channel_pads(value, at: At) -> tuple[int, int]:
    """A pad's `channels`: one number (before and after alike) or [before, after], each at least 0."""
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise at.error(f"channels must be an integer or [before, after], got {got(value)}")
        return positive_int(value[0], "channels", at, 0), positive_int(value[1], "channels", at, 0)
    n = positive_int(value, "channels", at, 0)
    return n, n


@entry("slice")
def slice_(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    if "out" not in args:
        raise at.error("slice needs 'out' ([channels, height, width] kept)")
    out_at = where(args, "out", at)
    out = shape3(args["out"], "slice out", out_at)
    if any(o > i for o, i in zip(out, flow.shape)):
        raise out_at.error(f"slice keeps {fmt_shape(out)}, more than its input {fmt_shape(flow.shape)}")
    return move(b, "slice", args, flow, prefix, at, out)


@entry("reshape")
def reshape(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    if "out" not in args:
        raise at.error("reshape needs 'out' ([channels, height, width])")
    out_at = where(args, "out", at)
    out = shape3(args["out"], "reshape out", out_at)
    c, h, w = flow.shape
    if out[0] * out[1] * out[2] != c * h * w:
        raise out_at.error(f"reshape to {fmt_shape(out)} changes the element count of its input "
                           f"{fmt_shape(flow.shape)}")
    return move(b, "reshape", args, flow, prefix, at, out)


@entry("flatten")
def flatten(b: GraphBuilder, args: YMap, flow: Flow, prefix: str, at: At, depth: int) -> Flow:
    c, h, w = flow.shape
    return move(b, "flatten", args, flow, prefix, at, (c * h * w, 1, 1))
