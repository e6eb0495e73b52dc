"""The rules a layer must keep, whoever builds it: the spec loader and the importers (ONNX) ask the same
functions, so that a graph one of them accepts the other accepts too, and `hetcalc import` never writes a
spec that hetcalc refuses.

Each check returns None when the values keep the rule, else the problem in words (the caller adds where).
"""

from __future__ import annotations

from hetcalc.core.formatting import printable  # control characters, lone surrogates escaped
from hetcalc.core.limits import MAX_VALUE  # not core.located: that loads yaml, which a warm start needs not
from hetcalc.network.graph import Conv, Pool, Reshape

__all__ = ["MAX_LAYERS", "MAX_VALUE", "PAD_MODES", "UPSAMPLE_MODES", "broadcast_shape", "conv_pad_problem", "layer_name", "layer_problem",
           "movement_problem", "path_text", "pool_pad_problem", "printable", "shape_problem", "text_of",
           "window_problem"]

MAX_LAYERS = 100_000  # ResNet-1001 has about 1,000; a bound keeps a stray `repeat` from hanging the run
UPSAMPLE_MODES = ("nearest", "bilinear", "bicubic")
PAD_MODES = ("constant", "reflect", "edge", "wrap")  # ONNX Pad's modes (wrap since opset 19)


def text_of(value) -> str:
    """A name or string field as text: protobuf gives bytes for a string that is not UTF-8; those bytes are
    shown as \\xNN, so the name stays printable, comparable and writable."""
    if isinstance(value, str):
        return value
    return bytes(value).decode("utf-8", "backslashreplace")


def path_text(path) -> str:
    """A file's path as printable text: bytes of a name that is not UTF-8 (os.fsdecode's surrogates) as
    \\udcNN, as the spec loader has always shown them, other unprintable characters escaped; for messages,
    titles and a network's `source`."""
    return printable(str(path).encode("utf-8", "backslashreplace").decode("utf-8"))


def layer_name(value) -> str:
    """A layer name as the spec reads it: text without surrounding white space ('' when nothing is left)."""
    return text_of(value).strip()


def shape_problem(shape) -> str | None:
    """Every side of a layer's (channels, height, width) at least 1 and at most MAX_VALUE."""
    for side in shape:
        if side < 1:
            return f"a side of {side}: every size must be at least 1"
        if side > MAX_VALUE:
            return f"a side of {side:,}: sizes are at most 10**30"
    return None


def window_problem(strides, dilations) -> str | None:
    """Strides and dilations are positive integers."""
    for what, values in (("stride", strides), ("dilation", dilations)):
        bad = next((v for v in values if v < 1), None)
        if bad is not None:
            return f"{what} {bad}: strides and dilations must be at least 1"
    return None


def conv_pad_problem(pads, kernel, dilation) -> str | None:
    """A convolution's pads (top, left, bottom, right) are >= 0 and less than the kernel's span (dilation
    included): a pad as wide as the span adds output positions that read nothing but padding."""
    span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
    for p, k in zip(pads, span * 2):
        if p < 0:
            return f"padding {p} is negative (pads must be >= 0)"
        if p >= k:
            return (f"padding {p} does not fit kernel {k} (conv padding must be less than the kernel size, "
                    "dilation included)")
    return None


def pool_pad_problem(pads, kernel) -> str | None:
    """A pool's pads are >= 0 and at most half its kernel, as PyTorch requires."""
    for p, k in zip(pads, tuple(kernel) * 2):
        if p < 0:
            return f"padding {p} is negative (pads must be >= 0)"
        if p > k // 2:
            return (f"padding {p} does not fit kernel {k} (pool padding must be at most half the kernel size, as "
                    "in PyTorch)")
    return None


def broadcast_shape(shapes) -> tuple[int, ...] | None:
    """The shape of an element-wise result by numpy's rule (sides equal or 1, right-aligned); None when the
    shapes do not broadcast."""
    rank = max(len(s) for s in shapes)
    padded = [(1,) * (rank - len(s)) + tuple(s) for s in shapes]
    out = tuple(max(sides) for sides in zip(*padded))
    for s in padded:
        if any(v != 1 and v != o for v, o in zip(s, out)):
            return None
    return out


def layer_problem(layer) -> str | None:
    """What a spec would refuse in `layer` (sizes, a conv's or pool's window and pads, a data movement that
    a spec cannot write), or None. The spec loader checks the same rules option by option, with places."""
    problem = shape_problem(layer.out_shape)
    if problem:
        return f"output {'x'.join(map(str, layer.out_shape))} has {problem}"
    if isinstance(layer, Conv):
        if layer.groups < 1:
            return f"group {layer.groups}: groups must be at least 1"
        return window_problem(layer.stride, layer.dilation) or conv_pad_problem(layer.pads, layer.kernel,
                                                                                layer.dilation)
    if isinstance(layer, Pool) and not (layer.is_global or layer.adaptive):
        pads = (*layer.padding, *(layer.padding_end or layer.padding))
        return window_problem(layer.stride, (1, 1)) or pool_pad_problem(pads, layer.kernel)
    if isinstance(layer, Reshape):
        return movement_problem(layer.op, layer.in_shape, layer.out_shape, layer.mode)
    return None


def movement_problem(op: str, in_shape, out_shape, mode: str = "") -> str | None:
    """A pad only grows channels, height and width, a slice only keeps part of its input (sides no larger); a
    pad's and an upsample's mode is one a spec can state."""
    if op == "pad" and any(o < i for o, i in zip(out_shape, in_shape)):
        return (f"pads {'x'.join(map(str, in_shape))} to {'x'.join(map(str, out_shape))}: a pad may only add "
                "channels, height and width (a negative pad, a crop, is a slice)")
    allowed = {"pad": PAD_MODES, "upsample": UPSAMPLE_MODES}.get(op)
    if allowed and mode not in allowed:
        return f"{op} mode {printable(str(mode))!r} is not one of {', '.join(allowed)}"
    if op == "slice" and any(o > i for o, i in zip(out_shape, in_shape)):
        return f"slice keeps {'x'.join(map(str, out_shape))}, more than its input {'x'.join(map(str, in_shape))}"
    return None
