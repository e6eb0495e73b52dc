"""Architecture specs: declarative YAML (or a dict built in Python) -> validated `Network`.

The format and every validation rule are documented in docs/spec.md. A spec says what the network is,
never how it is costed. Every error is a `SpecError` naming the file, the line and column of the entry at
fault, and the value found there.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hetcalc.core.errors import SpecError
from hetcalc.network.graph import ACTIVATIONS, INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, Mul, Network, Pool, Reshape, Shape
from hetcalc.network.geometry import adaptive_windows, output_size, same_pads
from hetcalc.core.located import (MAX_VALUE, At, at_item, at_key, at_mark, at_name, at_self, boolean, check_keys, choice,  # noqa: F401
                                  close_matches, got, marked, name_value, no_surrogate, pair, positive_int, show, suggest)
from hetcalc.core.yamlio import YMap, load_yaml_document, read_spec_file

MAX_LAYERS = 100_000  # ResNet-1001 has about 1,000; a bound keeps a stray `repeat` from hanging the run
MAX_NESTING = 32  # residual blocks inside residual blocks
ACTIVATION_NAMES = {"swish": "silu", "hard_swish": "hardswish", "leakyrelu": "leaky_relu", "relu_6": "relu6",
                    "logistic": "sigmoid", "identity": "none", "linear": "none", "none": "none"}
TOP_KEYS = ("name", "title", "description", "dataset", "input", "defaults", "layers")
LAYER_TYPES = ("conv", "fc", "maxpool", "avgpool", "stage", "residual", "concat", "add", "mul", "bn", "act", "se",
               "upsample", "pad", "slice", "reshape", "flatten")
BLOCKS = ("basic", "bottleneck")
STAGE_SHORTCUTS = ("projection", "zero_pad")
RESIDUAL_SHORTCUTS = ("identity", "zero_pad")


def _renamed(layer, name: str, inputs: tuple[int, ...]):
    """A checked layer under another name, reading `inputs`: a shallow copy of its fields (a frozen
    dataclass, so copy.copy's reduce protocol or dataclasses.replace would cost many times more)."""
    clone = object.__new__(type(layer))
    fields = clone.__dict__
    fields.update(layer.__dict__)
    fields["name"] = name
    fields["inputs"] = inputs
    return clone


# --------------------------------------------------------------------------- locations and values

def _act(value: Any, what: str, at: At) -> str | None:
    if value is None or value is False or value == "none":
        return None
    if not isinstance(value, str) or value not in ACTIVATIONS:
        close = ACTIVATION_NAMES.get(value.lower()) if isinstance(value, str) else None
        close = close or suggest(value, ACTIVATIONS)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"{what} must be one of {', '.join(ACTIVATIONS)} or none, got {got(value)}{hint}")
    return value


def _fmt_shape(shape: Shape) -> str:
    return "x".join(str(v) for v in shape)



# --------------------------------------------------------------------------- layer entries

CONV_KEYS = ("out", "in", "kernel", "stride", "padding", "dilation", "groups", "bias", "bn", "act", "repeat",
             "name", "replace", "P")
FC_KEYS = ("out", "in", "bias", "act", "repeat", "name")
POOL_KEYS = ("kernel", "stride", "padding", "global", "output", "ceil", "name")
STAGE_KEYS = ("block", "out", "repeat", "stride", "width", "shortcut", "groups", "P", "replace", "name")
RESIDUAL_KEYS = ("body", "shortcut", "act", "name", "repeat")
CONCAT_KEYS = ("branches", "with", "inputs", "repeat", "name")
MERGE_KEYS = ("with", "inputs", "act", "name")
BN_KEYS = ("act", "name")
ACT_KEYS = ("fn", "name")
SE_KEYS = ("reduction", "squeeze", "bias", "act", "gate", "name")
UPSAMPLE_KEYS = ("scale", "size", "mode", "name")
PAD_KEYS = ("padding", "mode", "name")
SHAPE_KEYS = ("out", "name")
FLATTEN_KEYS = ("name",)
DEFAULT_KEYS = {"conv": ("bias", "bn", "act"), "fc": ("bias", "act")}
SHORTHAND = {"conv": "out", "fc": "out", "maxpool": "kernel", "avgpool": "kernel", "act": "fn", "se": "reduction",
             "upsample": "scale", "pad": "padding", "slice": "out", "reshape": "out", "add": "with", "mul": "with",
             "concat": "with"}
UPSAMPLE_MODES = ("nearest", "bilinear", "bicubic")
PAD_MODES = ("constant", "reflect", "edge")
PAD_WORDS = ("same", "valid")
Cur = tuple[int, Shape]  # the node an entry reads (INPUT for the network's input) and its shape


def _pads(value: Any, what: str, at: At) -> tuple[int, int, int, int]:
    """Padding: an integer, [height, width], or [top, left, bottom, right]."""
    if isinstance(value, (list, tuple)) and len(value) == 4:
        t, l, b, r = (positive_int(v, what, at, 0) for v in value)
        return t, l, b, r
    if isinstance(value, (list, tuple)) and len(value) != 2:
        raise at.error(f"{what} must be an integer, [height, width] or [top, left, bottom, right], got "
                       f"{got(value)}")
    h, w = pair(value, what, at, 0)
    return h, w, h, w


def _part_value(value: Any, what: str, at: At) -> int | str:
    if isinstance(value, str) and value.strip().upper() in ("M", "N"):
        return value.strip().upper()
    if isinstance(value, str):
        raise at.error(f"{what} must be a positive integer, M or N, got {got(value)}")
    return positive_int(value, what, at)


def _shape3(value: Any, what: str, at: At) -> Shape:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise at.error(f"{what} must be [channels, height, width], got {got(value)}")
    return tuple(positive_int(v, what, at) for v in value)  # type: ignore[return-value]


def _without(args: YMap, key: str) -> YMap:
    out = YMap({k: v for k, v in args.items() if k != key})
    for attr in ("key_marks", "name_marks", "mark"):
        if hasattr(args, attr):
            setattr(out, attr, getattr(args, attr))
    return out


class _Builder:
    """Walks the spec's layer list, resolving shapes, edges and names as it goes."""

    def __init__(self, source: str, defaults: dict, input_shape: Shape) -> None:
        self.source = source
        self.defaults = defaults
        self.layers: list = []
        self.names: dict[str, tuple[At, bool]] = {}  # name -> (where, given in the spec)
        self.outputs: dict[str, Cur] = {"input": (INPUT, input_shape)}  # what `from:` / `with:` may name
        self.counters: dict[str, int] = {}
        self.entries: dict[int, tuple] = {}  # id(entry) -> (entry, kind, args, where)
        self.convs: dict[tuple, tuple] = {}  # validated convs, by options and input shape

    # -- helpers
    def _next(self, prefix: str, kind: str) -> str:
        key = f"{prefix}/{kind}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}{kind}{self.counters[key]}"

    def _register(self, layer, at: At, given: bool = False) -> Cur:
        if layer.name in self.names or layer.name == "input":
            if layer.name == "input":
                raise at.error("layer name 'input' is reserved: it names the network's input in 'from' and "
                               "'with'")
            first, first_given = self.names[layer.name]
            there = f"line {first.line}" if first.line is not None else "an earlier entry"
            if given and not first_given:
                raise at.error(f"layer name {show(layer.name)} is already the automatic name of the layer at "
                               f"{there}; choose another name")
            if first_given and not given:
                raise at.error(f"this layer's automatic name {show(layer.name)} is already taken by the layer "
                               f"named at {there}; choose another name there")
            raise at.error(f"duplicate layer name {show(layer.name)} (already used by the layer at {there})")
        if len(self.layers) >= MAX_LAYERS:
            raise at.error(f"network has more than {MAX_LAYERS:,} layers")
        self.names[layer.name] = (at, given)
        self.layers.append(layer)
        cur = (len(self.layers) - 1, layer.out_shape)
        self.outputs[layer.name] = cur
        return cur

    def _alias(self, name: str | None, cur: Cur) -> None:
        """A block's given name stands for its output in `from:` and `with:`."""
        if name is not None and name not in self.outputs:
            self.outputs[name] = cur

    def _opt(self, args: dict, key: str, at: At) -> At:
        return at_key(args, key, at_self(args, at))

    def _repeat(self, args: dict, at: At) -> int:
        where = self._opt(args, "repeat", at)
        repeat = positive_int(args.get("repeat", 1), "repeat", where)
        if len(self.layers) + repeat > MAX_LAYERS:
            raise where.error(f"repeat {show(repeat)} would make the network longer than {MAX_LAYERS:,} layers")
        return repeat

    def _given_name(self, args: dict, at: At) -> str | None:
        return name_value(args["name"], "name", self._opt(args, "name", at)) if "name" in args else None

    def _lookup(self, value: Any, what: str, at: At) -> Cur:
        """The output a `from:` / `with:` / `inputs:` name refers to: an earlier layer or block, or `input`."""
        name = name_value(value, what, at)
        if name not in self.outputs:
            close = suggest(name, tuple(self.outputs))
            hint = f" (did you mean '{close}'?)" if close else " (it must name an earlier layer, block or 'input')"
            raise at.error(f"{what} {show(name)} names no earlier layer{hint}")
        return self.outputs[name]

    def _names(self, value: Any, what: str, at: At) -> list[Cur]:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise at.error(f"{what} must name at least one earlier layer, got an empty list")
        return [self._lookup(v, what, at_item(value, i, at) if isinstance(value, (list, tuple)) else at)
                for i, v in enumerate(items)]

    # -- entries
    def sequence(self, entries: Any, cur: Cur, prefix: str, at: At, what: str = "'layers'",
                 depth: int = 0, allow_empty: bool = False) -> Cur:
        if depth > MAX_NESTING:
            raise at.error(f"residual blocks nested deeper than {MAX_NESTING} levels")
        if not isinstance(entries, (list, tuple)):
            raise at.error(f"{what} must be a list of layer entries, got {got(entries)}")
        if not entries and not allow_empty:
            raise at.error(f"{what} is empty: it needs at least one layer")
        for index, entry in enumerate(entries):
            entry_at = at_item(entries, index, at)
            cached = self.entries.get(id(entry))
            if cached is None or cached[0] is not entry:  # a repeated block re-reads the same entries
                cached = (entry, *self._entry(entry, entry_at))
                self.entries[id(entry)] = cached
            _, kind, args, args_at = cached
            if "from" in args:
                cur = self._lookup(args["from"], "from", self._opt(args, "from", args_at))
                args = _without(args, "from")
            handler: Callable = getattr(self, f"_{kind}")
            cur = handler(args, cur, prefix, args_at, depth)
        return cur

    def _entry(self, entry: Any, at: At) -> tuple[str, YMap, At]:
        if isinstance(entry, str):
            kind, args, args_at = entry, None, at
        elif isinstance(entry, dict):
            if not entry:
                raise at.error("a layer entry is an empty mapping; write its type and options, like 'conv: 64'")
            if len(entry) != 1:
                keys = ", ".join(str(k) for k in list(entry)[:5]) + (", ..." if len(entry) > 5 else "")
                raise at.error(f"a layer entry must have exactly one key (its type), got {{{keys}}}; "
                               "indent the options under the type")
            kind = next(iter(entry))
            args, args_at = entry[kind], at_key(entry, kind, at)
        else:
            raise at.error(f"a layer entry must be a mapping like 'conv: 64', got {got(entry)}")
        if kind not in LAYER_TYPES:
            close = suggest(kind, LAYER_TYPES)
            hint = f"did you mean '{close}'? " if close else ""
            raise at.error(f"unknown layer type {show(kind)} ({hint}known: {', '.join(LAYER_TYPES)})")
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            if kind.endswith("pool") and args == "global":
                args = {"global": True}
            elif kind.endswith("pool") and isinstance(args, str):
                hint = " (did you mean 'global'?)" if close_matches(args, ["global"]) else ""
                raise args_at.error(f"'{kind}' takes a kernel size or 'global', got {got(args)}{hint}")
            elif kind in SHORTHAND:
                args = {SHORTHAND[kind]: args}
            else:
                raise args_at.error(f"'{kind}' needs a mapping of options, got {got(args)}")
        return kind, marked(args, args_at), args_at

    def _conv(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, CONV_KEYS, "conv", at)
        if "out" not in args:
            raise at.error("conv needs 'out' (output channels)")
        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        for j in range(repeat):
            name = None if given is None else given if repeat == 1 else f"{given}.{j + 1}"
            layer = self.make_conv(args, cur, prefix, at, name=name, first=j == 0)
            cur = self._register(layer, at, given is not None)
        self._alias(given, cur)
        return cur

    def make_conv(self, args: dict, cur: Cur, prefix: str, at: At, *, name: str | None = None,
                  first: bool = True, **override: Any) -> Conv:
        """One Conv from options (args, then `override`, then the spec's defaults).

        `in` is checked on the first of a run of repeats only: the others take the run's own output.
        The checks depend only on the options and the input shape, so the same entry on the same shape (a
        repeat, the blocks of a repeated residual) reuses the checked layer with a new name and edge.
        """
        index, shape = cur
        try:
            key = (id(args), shape, first, at, tuple(override.items()))
            hit = self.convs.get(key)
        except TypeError:  # an unhashable override value: validate afresh
            key, hit = None, None
        if hit is not None and hit[0] is args:  # the same entry on the same input: validated already
            return _renamed(hit[1], name or self._next(prefix, "conv"), (index,))
        layer = self._make_conv(args, cur, prefix, at, name, first, override)
        if key is not None:
            self.convs[key] = (args, layer)
        return layer

    def _make_conv(self, args: dict, cur: Cur, prefix: str, at: At, name, first, override) -> Conv:
        opts = {**self.defaults.get("conv", {}), **args, **override}

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        index, shape = cur
        c, h, w = shape
        out = positive_int(opts["out"], "conv out channels", where("out"))
        if "in" in opts:
            declared = positive_int(opts["in"], "conv in channels", where("in"))
            if first and declared != c:
                raise where("in").error(f"conv declares in: {declared} but its input has {c} channels "
                                        "(from the layer before it)")
        kernel = pair(opts.get("kernel", 3), "kernel", where("kernel"))
        stride = pair(opts.get("stride", 1), "stride", where("stride"))
        dilation = pair(opts.get("dilation", 1), "dilation", where("dilation"))
        span = tuple(d * (k - 1) + 1 for d, k in zip(dilation, kernel))
        raw_pad = opts.get("padding")
        if raw_pad is None and "padding" not in opts:
            pads = (span[0] // 2, span[1] // 2) * 2
        elif raw_pad in PAD_WORDS:
            if raw_pad == "valid":
                pads = (0, 0, 0, 0)
            else:
                (t, b), (l, r) = (same_pads(size, k, s, d) for size, k, s, d in
                                  zip((h, w), kernel, stride, dilation))
                pads = (t, l, b, r)
        elif isinstance(raw_pad, str):
            close = suggest(raw_pad, PAD_WORDS)
            hint = f" (did you mean '{close}'?)" if close else ""
            raise where("padding").error(f"padding must be an integer, a list, same or valid, got "
                                         f"{got(raw_pad)}{hint}")
        else:
            pads = _pads(raw_pad, "padding", where("padding"))
        groups = positive_int(opts.get("groups", 1), "groups", where("groups"))
        bias = boolean(opts.get("bias", False), "bias", where("bias"))
        bn = boolean(opts.get("bn", False), "bn", where("bn"))
        act = _act(opts.get("act"), "act", where("act"))
        replace = None if opts.get("replace") is None else boolean(opts["replace"], "replace", where("replace"))
        part = None if opts.get("P") is None else _part_value(opts["P"], "P", where("P"))
        for p, k in zip(pads, span * 2):
            if p >= k:
                raise where("padding").error(f"padding {p} does not fit kernel {k} (conv padding must be "
                                             "less than the kernel size, dilation included)")
        if c % groups or out % groups:
            raise where("groups").error(f"groups {groups} must divide both the input channels {c} and the "
                                        f"output channels {out}")
        if replace and (groups != 1 or max(kernel) == 1):
            why = f"groups is {groups}" if groups != 1 else "it is a 1 x 1 convolution"
            raise where("replace").error(f"replace: true needs a dense K x K convolution with K > 1, but {why}")
        if isinstance(part, int) and groups == 1 and max(kernel) > 1 and c % part:
            raise where("P").error(f"P {part} does not divide this convolution's input channels M={c} "
                                   "(HetConv puts M/P kernels K x K in each filter)")
        out_hw = self._spatial((h, w), kernel, stride, pads, where("kernel"), "conv", dilation)
        return Conv(name=name or self._next(prefix, "conv"), in_shape=shape, out_shape=(out, *out_hw),
                    kernel=kernel, stride=stride, padding=pads[:2], groups=groups, bias=bias, bn=bn, act=act,
                    replace=replace, where=str(at), dilation=dilation,
                    padding_end=None if pads[2:] == pads[:2] else pads[2:], P=part, inputs=(index,))

    @staticmethod
    def _spatial(hw: tuple[int, int], kernel, stride, pads, at: At, what: str, dilation=(1, 1),
                 ceil: bool = False) -> tuple[int, int]:
        """Output height and width by PyTorch's rule, (size + 2p - d(k-1) - 1) // s + 1; refused below 1."""
        if len(pads) == 2:
            pads = (*pads, *pads)
        out = []
        for axis, size, k, s, pb, pe, d in zip(("height", "width"), hw, kernel, stride, pads[:2], pads[2:],
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

    def _fc(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, FC_KEYS, "fc", at)
        if "out" not in args:
            raise at.error("fc needs 'out' (output features)")
        opts = {**self.defaults.get("fc", {}), **args}

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        out = positive_int(opts["out"], "fc out features", where("out"))
        bias = boolean(opts.get("bias", True), "bias", where("bias"))
        act = _act(opts.get("act"), "act", where("act"))
        for j in range(repeat):
            index, shape = cur
            features = shape[0] * shape[1] * shape[2]
            if "in" in opts and j == 0:
                declared = positive_int(opts["in"], "fc in features", where("in"))
                if declared != features:
                    raise where("in").error(f"fc declares in: {declared} but its input gives {features} "
                                            f"features ({_fmt_shape(shape)} flattened)")
            name = self._next(prefix, "fc") if given is None else given if repeat == 1 else f"{given}.{j + 1}"
            layer = Linear(name=name, in_shape=shape, out_shape=(out, 1, 1), bias=bias, act=act, where=str(at),
                           inputs=(index,))
            cur = self._register(layer, at, given is not None)
        self._alias(given, cur)
        return cur

    def _pool(self, mode: str, args: YMap, cur: Cur, prefix: str, at: At) -> Cur:
        kind = f"{mode}pool"
        check_keys(args, POOL_KEYS, kind, at)

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        index, shape = cur
        c, h, w = shape
        window = None
        ceil = False
        pads = (0, 0, 0, 0)
        adaptive = "output" in args
        is_global = "global" in args and boolean(args["global"], "global", where("global"))
        if is_global:
            for key in ("kernel", "stride", "padding", "output", "ceil"):
                if key in args:
                    raise where(key).error(f"a global {kind} takes no '{key}'")
            kernel, stride = (h, w), (h, w)
            out_hw = (1, 1)
        elif adaptive:
            for key in ("kernel", "stride", "padding", "ceil"):
                if key in args:
                    raise where(key).error(f"an adaptive {kind} (with 'output') takes no '{key}'")
            out_hw = pair(args["output"], "output", where("output"))
            kernel, stride, window = adaptive_windows((h, w), out_hw)
        else:
            kernel = pair(args.get("kernel", 2), "kernel", where("kernel"))
            stride = pair(args.get("stride", list(kernel)), "stride", where("stride"))
            pads = _pads(args.get("padding", 0), "padding", where("padding"))
            ceil = boolean(args.get("ceil", False), "ceil", where("ceil"))
            for p, k in zip(pads, kernel * 2):
                if p > k // 2:
                    raise where("padding").error(f"padding {p} does not fit kernel {k} (pool padding must be "
                                                 "at most half the kernel size, as in PyTorch)")
            out_hw = self._spatial((h, w), kernel, stride, pads, where("kernel"), kind, ceil=ceil)
        given = self._given_name(args, at)
        layer = Pool(name=given or self._next(prefix, "pool"), in_shape=shape, out_shape=(c, *out_hw), mode=mode,
                     kernel=kernel, stride=stride, padding=pads[:2], where=str(at), inputs=(index,), window=window,
                     adaptive=adaptive, padding_end=None if pads[2:] == pads[:2] else pads[2:], ceil=ceil,
                     is_global=is_global)
        return self._register(layer, at, given is not None)

    def _maxpool(self, args, cur, prefix, at, depth):
        return self._pool("max", args, cur, prefix, at)

    def _avgpool(self, args, cur, prefix, at, depth):
        return self._pool("avg", args, cur, prefix, at)

    def _residual(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, RESIDUAL_KEYS, "residual", at)
        if "body" not in args:
            raise at.error("residual needs 'body' (the list of layers on the main branch)")
        act = _act(args.get("act", self.defaults.get("conv", {}).get("act")), "act", self._opt(args, "act", at))
        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        shortcut = args.get("shortcut", "identity")
        short_at = self._opt(args, "shortcut", at)
        if not isinstance(shortcut, (list, tuple)) and shortcut not in RESIDUAL_SHORTCUTS:
            raise short_at.error(f"residual shortcut must be identity, zero_pad or a list of layers, "
                                 f"got {got(shortcut)}")
        for j in range(repeat):
            block = (self._next(prefix, "res") if given is None else given if repeat == 1
                     else f"{given}.{j + 1}") + "."
            body = self.sequence(args["body"], cur, block, self._opt(args, "body", at), "residual 'body'",
                                 depth + 1)
            body_shape = body[1]
            if isinstance(shortcut, str):
                short = cur
                self._check_shortcut(shortcut, cur[1], body_shape, short_at)
            else:
                short = self.sequence(shortcut, cur, block + "shortcut.", short_at, "residual 'shortcut'",
                                      depth + 1)
                if short[1] != body_shape:
                    raise short_at.error(f"residual branches cannot be added: body gives "
                                         f"{_fmt_shape(body_shape)}, shortcut gives {_fmt_shape(short[1])}")
            cur = self._register(Add(name=block + "add", in_shape=body_shape, out_shape=body_shape, act=act,
                                where=str(at), inputs=(body[0], short[0])), at, given is not None)
        self._alias(given, cur)
        return cur

    @staticmethod
    def _check_shortcut(kind: str, shape: Shape, body_shape: Shape, at: At) -> None:
        if kind == "identity" and shape != body_shape:
            raise at.error(f"residual branches cannot be added: body gives {_fmt_shape(body_shape)}, identity "
                           f"shortcut gives {_fmt_shape(shape)} (use a projection or zero_pad shortcut)")
        if kind == "zero_pad":
            c, h, w = shape
            n, ho, wo = body_shape
            sh, sw = -(-h // ho), -(-w // wo)
            if n < c or -(-h // sh) != ho or -(-w // sw) != wo:
                raise at.error(f"residual branches cannot be added: a zero_pad shortcut cannot turn "
                               f"{_fmt_shape(shape)} into {_fmt_shape(body_shape)} (it subsamples and pads "
                               "channels with zeros)")

    def _stage(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, STAGE_KEYS, "stage", at)

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        for key in ("block", "out"):
            if key not in args:
                raise at.error(f"stage needs '{key}'")
        block = choice(args["block"], "stage block", where("block"), BLOCKS)
        out = positive_int(args["out"], "stage out channels", where("out"))
        repeat = self._repeat(args, at)
        stride = positive_int(args.get("stride", 1), "stride", where("stride"))
        shortcut = choice(args.get("shortcut", "projection"), "stage shortcut", where("shortcut"),
                           STAGE_SHORTCUTS)
        if block == "bottleneck":
            width = positive_int(args.get("width", max(out // 4, 1)), "width", where("width"))
        elif "width" in args:
            raise where("width").error("'width' applies to bottleneck blocks only")
        groups = positive_int(args.get("groups", 1), "groups", where("groups"))
        pinned = {key: args[key] for key in ("P", "replace") if args.get(key) is not None}
        given = self._given_name(args, at)
        stage = given or self._next(prefix, "stage")
        act = _act(self.defaults.get("conv", {}).get("act", "relu"), "act", at)
        keyed_by_conv: dict[int, YMap] = {}
        template: tuple | None = None  # the last block built: its input shape and stride, and its layers
        for j in range(repeat):
            s = stride if j == 0 else 1
            pre = f"{stage}.{j}."
            shape = cur[1]
            c = shape[0]
            if template is not None and template[0] == (shape, s):
                # the same options on the same input give the same checked layers: renamed and re-wired
                base = len(self.layers)
                for layer, tail, ins in template[1]:
                    inputs = tuple(cur[0] if k is None else base + k for k in ins)
                    last = self._register(_renamed(layer, pre + tail, inputs), at, given is not None)
                cur = last
                continue
            start = len(self.layers)
            if block == "basic":
                convs = [dict(out=out, kernel=3, stride=s, groups=groups), dict(out=out, kernel=3, act=None,
                                                                               groups=groups)]
            else:
                convs = [dict(out=width, kernel=1), dict(out=width, kernel=3, stride=s, groups=groups),
                         dict(out=out, kernel=1, act=None)]
            body = cur
            for k, opts in enumerate(convs, start=1):
                opts.setdefault("act", act)
                if k not in keyed_by_conv:  # one options map per conv of the block, so repeats hit make_conv's memo
                    knobs = pinned if opts["kernel"] > 1 else {}
                    spot = {key: where(key) for key in knobs}
                    keyed = YMap(knobs)
                    keyed.key_marks = {key: (w.line, w.column) for key, w in spot.items() if w.line is not None}
                    keyed_by_conv[k] = keyed
                layer = self.make_conv(keyed_by_conv[k], body, pre, where("out"), name=f"{pre}conv{k}", **opts)
                body = self._register(layer, at, given is not None)
            short = cur
            if s != 1 or c != out:
                if shortcut == "projection":
                    layer = self.make_conv({}, cur, pre, where("shortcut"), name=f"{pre}shortcut", out=out,
                                           kernel=1, stride=s, act=None)
                    short = self._register(layer, at, given is not None)
                else:
                    self._check_shortcut("zero_pad", shape, body[1], where("shortcut"))
            block_in = cur[0]
            cur = self._register(Add(name=f"{pre}add", in_shape=body[1], out_shape=body[1], act=act, where=str(at),
                                inputs=(body[0], short[0])), at, given is not None)
            template = ((shape, s), [(layer, layer.name[len(pre):],
                                      tuple(None if k == block_in else k - start for k in layer.inputs))
                                     for layer in self.layers[start:]])
        self._alias(given, cur)
        return cur

    # -- graph entries: branches and merges, standalone normalization and activation, data movement
    def _merge_inputs(self, args: YMap, cur: Cur, at: At, kind: str) -> list[Cur]:
        if "with" in args and "inputs" in args:
            raise self._opt(args, "inputs", at).error(f"{kind} takes 'with' (joined to the flow) or 'inputs' "
                                                      "(the exact list), not both")
        if "inputs" in args:
            found = self._names(args["inputs"], "inputs", self._opt(args, "inputs", at))
            if len(found) < 2:
                raise self._opt(args, "inputs", at).error(f"{kind} 'inputs' needs at least two layers")
            return found
        if "with" not in args:
            raise at.error(f"{kind} needs 'with' (earlier layers to join to the flow) or 'inputs'")
        return [cur, *self._names(args["with"], "with", self._opt(args, "with", at))]

    def _concat(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, CONCAT_KEYS, "concat", at)
        given = self._given_name(args, at)
        if "branches" in args:
            if "with" in args or "inputs" in args:
                key = "with" if "with" in args else "inputs"
                raise self._opt(args, key, at).error(f"concat takes 'branches' or '{key}', not both")
            branches = args["branches"]
            b_at = self._opt(args, "branches", at)
            if not isinstance(branches, (list, tuple)) or len(branches) < 2:
                raise b_at.error(f"concat 'branches' must be a list of at least two layer lists ([] is the "
                                 f"input itself), got {got(branches)}")
            repeat = self._repeat(args, at)
            for j in range(repeat):
                block = (self._next(prefix, "cat") if given is None else given if repeat == 1
                         else f"{given}.{j + 1}") + "."
                ends = [self.sequence(branch, cur, f"{block}b{i + 1}.", at_item(branches, i, b_at),
                                      f"concat branch {i + 1}", depth + 1, allow_empty=True)
                        for i, branch in enumerate(branches)]
                cur = self._join(ends, block + "cat", at, given is not None)
        else:
            if "repeat" in args:
                raise self._opt(args, "repeat", at).error("concat takes 'repeat' only with 'branches'")
            ends = self._merge_inputs(args, cur, at, "concat")
            cur = self._join(ends, given or self._next(prefix, "concat"), at, given is not None)
        self._alias(given, cur)
        return cur

    def _join(self, ends: list[Cur], name: str, at: At, given: bool) -> Cur:
        shapes = [shape for _, shape in ends]
        if len({shape[1:] for shape in shapes}) != 1:
            raise at.error("concat inputs must share height and width, got "
                           + ", ".join(_fmt_shape(s) for s in shapes))
        out = (sum(s[0] for s in shapes), *shapes[0][1:])
        return self._register(Concat(name=name, in_shape=shapes[0], out_shape=out, where=str(at),
                                inputs=tuple(i for i, _ in ends)), at, given)

    def _add_entry(self, kind: str, args: YMap, cur: Cur, prefix: str, at: At) -> Cur:
        check_keys(args, MERGE_KEYS, kind, at)
        ends = self._merge_inputs(args, cur, at, kind)
        shapes = [shape for _, shape in ends]
        if kind == "add":
            if len(set(shapes)) != 1:
                raise at.error("add inputs must have equal shapes, got " + ", ".join(_fmt_shape(s) for s in shapes))
            out = shapes[0]
        else:  # mul broadcasts a 1 x 1 map (a gate) and a single channel
            out = tuple(max(s[i] for s in shapes) for i in range(3))
            for s in shapes:
                if any(v not in (1, o) for v, o in zip(s, out)):
                    raise at.error("mul inputs must have equal shapes or broadcast (sides of 1), got "
                                   + ", ".join(_fmt_shape(x) for x in shapes))
        act = _act(args.get("act"), "act", self._opt(args, "act", at))
        given = self._given_name(args, at)
        cls = Add if kind == "add" else Mul
        layer = cls(name=given or self._next(prefix, kind), in_shape=shapes[0], out_shape=out, act=act,
                    where=str(at), inputs=tuple(i for i, _ in ends))
        return self._register(layer, at, given is not None)

    def _add(self, args, cur, prefix, at, depth):
        return self._add_entry("add", args, cur, prefix, at)

    def _mul(self, args, cur, prefix, at, depth):
        return self._add_entry("mul", args, cur, prefix, at)

    def _bn(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, BN_KEYS, "bn", at)
        act = _act(args.get("act"), "act", self._opt(args, "act", at))
        given = self._given_name(args, at)
        index, shape = cur
        layer = BatchNorm(name=given or self._next(prefix, "bn"), in_shape=shape, out_shape=shape, act=act,
                          where=str(at), inputs=(index,))
        return self._register(layer, at, given is not None)

    def _act(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, ACT_KEYS, "act", at)
        fn = _act(args.get("fn", "relu"), "act", self._opt(args, "fn", at))
        if fn is None:
            raise self._opt(args, "fn", at).error("a standalone act needs an activation, got none")
        given = self._given_name(args, at)
        index, shape = cur
        layer = Activation(name=given or self._next(prefix, "act"), in_shape=shape, out_shape=shape, act=fn,
                           where=str(at), inputs=(index,))
        return self._register(layer, at, given is not None)

    def _se(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        """Squeeze-and-Excitation as a graph: global average pool, 1x1 conv, 1x1 conv, gate, scale."""
        check_keys(args, SE_KEYS, "se", at)

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        index, shape = cur
        c = shape[0]
        if "squeeze" in args:
            if "reduction" in args:
                raise where("squeeze").error("se takes 'reduction' or 'squeeze', not both")
            hidden = positive_int(args["squeeze"], "se squeeze channels", where("squeeze"))
        else:
            hidden = max(c // positive_int(args.get("reduction", 16), "se reduction", where("reduction")), 1)
        bias = boolean(args.get("bias", True), "bias", where("bias"))
        act = _act(args.get("act", "relu"), "act", where("act"))
        gate = _act(args.get("gate", "sigmoid"), "gate", where("gate"))
        given = self._given_name(args, at)
        block = (given or self._next(prefix, "se")) + "."
        pool = self._register(Pool(name=block + "pool", in_shape=shape, out_shape=(c, 1, 1), mode="avg",
                              kernel=shape[1:], stride=shape[1:], where=str(at), inputs=(index,)), at)
        fc1 = self.make_conv({}, pool, block, at, name=block + "fc1", out=hidden, kernel=1, bias=bias, bn=False,
                             act=act)
        fc1_cur = self._register(fc1, at)
        fc2 = self.make_conv({}, fc1_cur, block, at, name=block + "fc2", out=c, kernel=1, bias=bias, bn=False,
                             act=gate)
        fc2_cur = self._register(fc2, at)
        cur = self._register(Mul(name=block + "scale", in_shape=shape, out_shape=shape, where=str(at),
                            inputs=(index, fc2_cur[0])), at)
        self._alias(given, cur)
        return cur

    def _move(self, op: str, args: YMap, cur: Cur, prefix: str, at: At, out: Shape, mode: str = "") -> Cur:
        given = self._given_name(args, at)
        index, shape = cur
        layer = Reshape(name=given or self._next(prefix, op), in_shape=shape, out_shape=out, op=op, mode=mode,
                        where=str(at), inputs=(index,))
        return self._register(layer, at, given is not None)

    def _upsample(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, UPSAMPLE_KEYS, "upsample", at)
        c, h, w = cur[1]
        if ("scale" in args) == ("size" in args):
            raise at.error("upsample needs exactly one of 'scale' (an integer or [height, width]) and 'size'")
        if "size" in args:
            out_hw = pair(args["size"], "size", self._opt(args, "size", at))
        else:
            sh, sw = pair(args["scale"], "scale", self._opt(args, "scale", at))
            out_hw = (h * sh, w * sw)
        mode = choice(args.get("mode", "nearest"), "upsample mode", self._opt(args, "mode", at), UPSAMPLE_MODES)
        return self._move("upsample", args, cur, prefix, at, (c, *out_hw), mode)

    def _pad(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, PAD_KEYS, "pad", at)
        if "padding" not in args:
            raise at.error("pad needs 'padding'")
        t, l, b, r = _pads(args["padding"], "padding", self._opt(args, "padding", at))
        mode = choice(args.get("mode", "constant"), "pad mode", self._opt(args, "mode", at), PAD_MODES)
        c, h, w = cur[1]
        return self._move("pad", args, cur, prefix, at, (c, h + t + b, w + l + r), mode)

    def _slice(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, SHAPE_KEYS, "slice", at)
        if "out" not in args:
            raise at.error("slice needs 'out' ([channels, height, width] kept)")
        out_at = self._opt(args, "out", at)
        out = _shape3(args["out"], "slice out", out_at)
        if any(o > i for o, i in zip(out, cur[1])):
            raise out_at.error(f"slice keeps {_fmt_shape(out)}, more than its input {_fmt_shape(cur[1])}")
        return self._move("slice", args, cur, prefix, at, out)

    def _reshape(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, SHAPE_KEYS, "reshape", at)
        if "out" not in args:
            raise at.error("reshape needs 'out' ([channels, height, width])")
        out_at = self._opt(args, "out", at)
        out = _shape3(args["out"], "reshape out", out_at)
        if out[0] * out[1] * out[2] != cur[1][0] * cur[1][1] * cur[1][2]:
            raise out_at.error(f"reshape to {_fmt_shape(out)} changes the element count of its input "
                               f"{_fmt_shape(cur[1])}")
        return self._move("reshape", args, cur, prefix, at, out)

    def _flatten(self, args: YMap, cur: Cur, prefix: str, at: At, depth: int) -> Cur:
        check_keys(args, FLATTEN_KEYS, "flatten", at)
        c, h, w = cur[1]
        return self._move("flatten", args, cur, prefix, at, (c * h * w, 1, 1))


# --------------------------------------------------------------------------- top level

def build_network(data: Any, source: str = "<spec>", default_name: str = "network", *,
                  root_mark: tuple[int, int] | None = None) -> Network:
    """A validated Network from parsed spec data (a YAML document or a plain dict)."""
    at = at_self(data, at_mark(root_mark, At(source)))
    if not isinstance(data, dict):
        raise at.error(f"a spec must be a mapping with 'input' and 'layers', got {got(data)}")
    check_keys(data, TOP_KEYS, "the spec", at)
    for key in ("input", "layers"):
        if key not in data:
            raise at.error(f"spec needs '{key}'")
    name = name_value(data.get("name", default_name), "name", at_key(data, "name", at))
    title = name_value(data.get("title", name), "title", at_key(data, "title", at))
    text = {}
    for key in ("description", "dataset"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise at_key(data, key, at).error(f"{key} must be a string, got {got(value)}")
        if value:
            no_surrogate(value, key, at_key(data, key, at))
        text[key] = value or ""
    in_at = at_key(data, "input", at)
    raw_input = data["input"]
    if not isinstance(raw_input, (list, tuple)) or len(raw_input) != 3:
        raise in_at.error(f"input must be [channels, height, width], got {got(raw_input)}")
    what = ("input channels", "input height", "input width")
    shape = tuple(positive_int(v, what[i], at_item(raw_input, i, in_at)) for i, v in enumerate(raw_input))
    defaults = _defaults(data.get("defaults"), at_key(data, "defaults", at))
    builder = _Builder(source, defaults, shape)
    layers_at = at_key(data, "layers", at)
    enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: collector passes over the growing heap are superlinear
    try:
        builder.sequence(data["layers"], (INPUT, shape), "", layers_at)
    finally:
        if enabled:
            gc.enable()
    if not any(isinstance(layer, (Conv, Linear)) for layer in builder.layers):
        raise layers_at.error("the network has no conv or fc layer: there is nothing to cost")
    convs = [layer for layer in builder.layers if isinstance(layer, Conv)]
    return Network(name=name, title=title, input=shape, layers=tuple(builder.layers),
                   source=source, description=text["description"],
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs),
                   meta={"dataset": text["dataset"]} if text["dataset"] else {})


def _defaults(value: Any, at: At) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise at.error(f"defaults must be a mapping like {{conv: {{bias: true}}}}, got {got(value)}")
    check_keys(value, tuple(DEFAULT_KEYS), "defaults", at)
    out = {}
    for kind, opts in value.items():
        kat = at_key(value, kind, at)
        if opts is None:
            opts = {}
        if not isinstance(opts, dict):
            raise kat.error(f"defaults.{kind} must be a mapping, got {got(opts)}")
        check_keys(opts, DEFAULT_KEYS[kind], f"defaults.{kind}", kat)
        for key, v in opts.items():
            check = _act if key == "act" else boolean
            check(v, f"defaults.{kind}.{key}", at_key(opts, key, kat))
        out[kind] = dict(opts)
    return out


def load_spec_text(text: str, source: str = "<string>", default_name: str = "network") -> Network:
    """A Network from YAML text (a str, or UTF-8 bytes)."""
    if not isinstance(source, str) or not isinstance(default_name, str):
        raise SpecError(f"source and default_name must be strings, got {source!r}, {default_name!r}")
    if isinstance(text, (bytes, bytearray, memoryview)):
        from hetcalc.core.yamlio import decode_spec_bytes

        text = decode_spec_bytes(bytes(text), source)
    elif not isinstance(text, str):
        raise SpecError(f"spec text must be a str or bytes, got {type(text).__name__}", source=source)
    data, root_mark = load_yaml_document(text, source)
    return build_network(data, source, default_name, root_mark=root_mark)


def load_spec_file(path: str | Path) -> Network:
    """A Network from a YAML file."""
    path = Path(path)
    # a file name that is not UTF-8 (os.fsdecode's surrogates) still gives a printable default name
    stem = path.stem.encode("utf-8", "backslashreplace").decode("utf-8")
    return load_spec_text(read_spec_file(path), str(path), stem)
