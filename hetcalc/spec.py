"""Architecture specs: declarative YAML (or a dict built in Python) -> validated `Network`.

The format and every validation rule are documented in docs/spec.md. A spec says what the network is,
never how it is costed. Every error is a `SpecError` naming the file, the line and column of the entry at
fault, and the value found there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import SpecError
from .graph import ACTIVATIONS, Add, Conv, Linear, Network, Parallel, Pool, Sequence, Shape, output_size
from .yamlsource import YMap, load_yaml_document, read_spec_file

MAX_LAYERS = 100_000  # ResNet-1001 has about 1,000; a bound keeps a stray `repeat` from hanging the run
MAX_VALUE = 10**30  # any integer in a spec; keeps every count exact and every ratio a finite float
MAX_NESTING = 32  # residual blocks inside residual blocks
ACTIVATION_NAMES = {"swish": "silu", "hard_swish": "hardswish", "leakyrelu": "leaky_relu", "relu_6": "relu6",
                    "logistic": "sigmoid", "identity": "none", "linear": "none", "none": "none"}
TOP_KEYS = ("name", "title", "description", "dataset", "input", "defaults", "layers")
LAYER_TYPES = ("conv", "fc", "maxpool", "avgpool", "stage", "residual")
BLOCKS = ("basic", "bottleneck")
STAGE_SHORTCUTS = ("projection", "zero_pad")
RESIDUAL_SHORTCUTS = ("identity", "zero_pad")


def _close_matches(*args, **kwargs):
    """difflib's, imported only when a hint is needed."""
    import difflib

    return difflib.get_close_matches(*args, **kwargs)


# --------------------------------------------------------------------------- locations and values

@dataclass(frozen=True)
class At:
    """Where a value sits: file, line, column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return ":".join(str(p) for p in (self.source, self.line, self.column) if p is not None)

    def error(self, message: str) -> SpecError:
        return SpecError(message, source=self.source, line=self.line, column=self.column)


def _at_mark(mark: Any, fallback: At) -> At:
    return At(fallback.source, *mark) if mark else fallback


def _at_key(mapping: Any, key: Any, fallback: At) -> At:
    """Where the value of `key` sits."""
    return _at_mark((getattr(mapping, "key_marks", None) or {}).get(key), fallback)


def _at_name(mapping: Any, key: Any, fallback: At) -> At:
    """Where `key` itself is written."""
    marks = getattr(mapping, "name_marks", None) or getattr(mapping, "key_marks", None) or {}
    return _at_mark(marks.get(key), fallback)


def _at_item(seq: Any, index: int, fallback: At) -> At:
    marks = getattr(seq, "item_marks", None) or ()
    return _at_mark(marks[index] if index < len(marks) else None, fallback)


def _at_self(value: Any, fallback: At) -> At:
    return _at_mark(getattr(value, "mark", None), fallback)


def _show(value: Any) -> str:
    """A value as the spec would spell it, cut to 60 characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):  # never cut a number short; spell out the giant ones (Python's str() limit)
        if value.bit_length() <= 200:
            return str(value)
        sign = "a negative" if value < 0 else "an"
        return f"{sign} integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value: Any) -> str:
    """'the string 'abc'', 'the float 2.5', 'null', ... for messages."""
    if value is None or isinstance(value, int):
        return _show(value) if not isinstance(value, bool) else f"the boolean {_show(value)}"
    kinds = ((float, "the float"), (str, "the string"), (list, "a list"), (tuple, "a list"),
             (dict, "a mapping"))
    for kind, words in kinds:
        if isinstance(value, kind):
            return f"{words} {_show(value)}"
    return f"a value of type {type(value).__name__}, {_show(value)}"


def _suggest(word: Any, choices: tuple[str, ...]) -> str | None:
    """The choice `word` was probably meant to be: a close spelling, or a prefix either way."""
    if not isinstance(word, str) or not word:
        return None
    close = _close_matches(word, choices, n=1) or _close_matches(word.lower(), choices, n=1)
    if close:
        return close[0]
    low = word.lower()
    prefixed = [c for c in choices if low.startswith(c) or c.startswith(low)]
    return prefixed[0] if len(prefixed) == 1 else None


def positive_int(value: Any, what: str, at: At, minimum: int = 1) -> int:
    """An exact integer in [minimum, MAX_VALUE]; booleans, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_VALUE:
            hint = f" (write {int(value)}, without the fraction)"
        elif isinstance(value, str) and value.strip().lstrip("+-").isdecimal():
            hint = " (remove the quotes)"
        raise at.error(f"{what} must be an integer, got {_got(value)}{hint}")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise at.error(f"{what} must be {bound}, got {_show(value)}")
    if value > MAX_VALUE:
        raise at.error(f"{what} must be at most 10**30, got {_show(value)} (hetcalc's bound on any spec integer: "
                       "counts stay exact and ratios finite)")
    return value


def _pair(value: Any, what: str, at: At, minimum: int = 1) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise at.error(f"{what} must be an integer or a pair [height, width], got {_got(value)}")
        return (positive_int(value[0], what, at, minimum), positive_int(value[1], what, at, minimum))
    n = positive_int(value, what, at, minimum)
    return (n, n)


def _bool(value: Any, what: str, at: At) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"{what} must be true or false, got {_got(value)}")
    return value


def _act(value: Any, what: str, at: At) -> str | None:
    if value is None or value is False or value == "none":
        return None
    if not isinstance(value, str) or value not in ACTIVATIONS:
        close = ACTIVATION_NAMES.get(value.lower()) if isinstance(value, str) else None
        close = close or _suggest(value, ACTIVATIONS)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"{what} must be one of {', '.join(ACTIVATIONS)} or none, got {_got(value)}{hint}")
    return value


def _name(value: Any, what: str, at: At) -> str:
    if not isinstance(value, str) or not value.strip():
        hint = " (quote it: YAML reads yes/no/on/off as booleans)" if isinstance(value, bool) else ""
        raise at.error(f"{what} must be a non-empty string, got {_got(value)}{hint}")
    _no_surrogate(value, what, at)
    return value.strip()


def _no_surrogate(value: str, what: str, at: At) -> None:
    """Refuse a lone surrogate ("\\udcff" in YAML): not a character, and no UTF-8 file could hold it."""
    surrogate = next((ch for ch in value if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if surrogate is not None:
        raise at.error(f"{what} holds a lone surrogate \\u{ord(surrogate):04x}, which is not a character; "
                       "text in a spec must be valid Unicode")


def _choice(value: Any, what: str, at: At, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        close = _suggest(value, choices)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"{what} must be one of {', '.join(choices)}, got {_got(value)}{hint}")
    return value


def _check_keys(mapping: dict, allowed: tuple[str, ...], where: str, at: At) -> None:
    for key in mapping:
        if key not in allowed:
            close = _suggest(key, allowed)
            hint = f"did you mean '{close}'?" if close else f"allowed: {', '.join(allowed)}"
            raise _at_name(mapping, key, at).error(f"unknown key {_show(key)} in {where} ({hint})")


def _fmt_shape(shape: Shape) -> str:
    return "x".join(str(v) for v in shape)


def _marked(args: dict, at: At) -> YMap:
    """`args` with every key located at `at` (for shorthand like `conv: 64` and for plain dicts)."""
    out = YMap(args)
    out.key_marks = dict(getattr(args, "key_marks", None) or {})
    out.name_marks = dict(getattr(args, "name_marks", None) or {})
    if at.line is not None:
        for key in args:
            out.key_marks.setdefault(key, (at.line, at.column))
            out.name_marks.setdefault(key, (at.line, at.column))
    out.mark = getattr(args, "mark", None) or ((at.line, at.column) if at.line is not None else None)
    return out


# --------------------------------------------------------------------------- layer entries

CONV_KEYS = ("out", "in", "kernel", "stride", "padding", "groups", "bias", "bn", "act", "repeat", "name",
             "replace")
FC_KEYS = ("out", "in", "bias", "act", "repeat", "name")
POOL_KEYS = ("kernel", "stride", "padding", "global", "name")
STAGE_KEYS = ("block", "out", "repeat", "stride", "width", "shortcut", "name")
RESIDUAL_KEYS = ("body", "shortcut", "act", "name", "repeat")
DEFAULT_KEYS = {"conv": ("bias", "bn", "act"), "fc": ("bias", "act")}
SHORTHAND = {"conv": "out", "fc": "out", "maxpool": "kernel", "avgpool": "kernel"}


class _Builder:
    """Walks the spec's layer list, resolving shapes and names as it goes."""

    def __init__(self, source: str, defaults: dict) -> None:
        self.source = source
        self.defaults = defaults
        self.layers: list = []
        self.names: dict[str, tuple[At, bool]] = {}  # name -> (where, given in the spec)
        self.counters: dict[str, int] = {}

    # -- helpers
    def _next(self, prefix: str, kind: str) -> str:
        key = f"{prefix}/{kind}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}{kind}{self.counters[key]}"

    def _add(self, layer, at: At, given: bool = False) -> int:
        if layer.name in self.names:
            first, first_given = self.names[layer.name]
            there = f"line {first.line}" if first.line is not None else "an earlier entry"
            if given and not first_given:
                raise at.error(f"layer name {_show(layer.name)} is already the automatic name of the layer at "
                               f"{there}; choose another name")
            if first_given and not given:
                raise at.error(f"this layer's automatic name {_show(layer.name)} is already taken by the layer "
                               f"named at {there}; choose another name there")
            raise at.error(f"duplicate layer name {_show(layer.name)} (already used by the layer at {there})")
        if len(self.layers) >= MAX_LAYERS:
            raise at.error(f"network has more than {MAX_LAYERS:,} layers")
        self.names[layer.name] = (at, given)
        self.layers.append(layer)
        return len(self.layers) - 1

    def _opt(self, args: dict, key: str, at: At) -> At:
        return _at_key(args, key, _at_self(args, at))

    def _repeat(self, args: dict, at: At) -> int:
        where = self._opt(args, "repeat", at)
        repeat = positive_int(args.get("repeat", 1), "repeat", where)
        if len(self.layers) + repeat > MAX_LAYERS:
            raise where.error(f"repeat {_show(repeat)} would make the network longer than {MAX_LAYERS:,} layers")
        return repeat

    def _given_name(self, args: dict, at: At) -> str | None:
        return _name(args["name"], "name", self._opt(args, "name", at)) if "name" in args else None

    # -- entries
    def sequence(self, entries: Any, shape: Shape, prefix: str, at: At, what: str = "'layers'",
                 depth: int = 0) -> tuple[Sequence, Shape]:
        if depth > MAX_NESTING:
            raise at.error(f"residual blocks nested deeper than {MAX_NESTING} levels")
        if not isinstance(entries, (list, tuple)):
            raise at.error(f"{what} must be a list of layer entries, got {_got(entries)}")
        if not entries:
            raise at.error(f"{what} is empty: it needs at least one layer")
        steps: list = []
        for index, entry in enumerate(entries):
            entry_at = _at_item(entries, index, at)
            kind, args, args_at = self._entry(entry, entry_at)
            handler: Callable = getattr(self, f"_{kind}")
            shape = handler(args, shape, prefix, args_at, steps, depth)
        return Sequence(tuple(steps)), shape

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
            args, args_at = entry[kind], _at_key(entry, kind, at)
        else:
            raise at.error(f"a layer entry must be a mapping like 'conv: 64', got {_got(entry)}")
        if kind not in LAYER_TYPES:
            close = _suggest(kind, LAYER_TYPES)
            hint = f"did you mean '{close}'? " if close else ""
            raise at.error(f"unknown layer type {_show(kind)} ({hint}known: {', '.join(LAYER_TYPES)})")
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            if kind.endswith("pool") and args == "global":
                args = {"global": True}
            elif kind.endswith("pool") and isinstance(args, str):
                hint = " (did you mean 'global'?)" if _close_matches(args, ["global"]) else ""
                raise args_at.error(f"'{kind}' takes a kernel size or 'global', got {_got(args)}{hint}")
            elif kind in SHORTHAND:
                args = {SHORTHAND[kind]: args}
            else:
                raise args_at.error(f"'{kind}' needs a mapping of options, got {_got(args)}")
        return kind, _marked(args, args_at), args_at

    def _conv(self, args: YMap, shape: Shape, prefix: str, at: At, steps: list, depth: int) -> Shape:
        _check_keys(args, CONV_KEYS, "conv", at)
        if "out" not in args:
            raise at.error("conv needs 'out' (output channels)")
        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        for j in range(repeat):
            name = None if given is None else given if repeat == 1 else f"{given}.{j + 1}"
            layer = self.make_conv(args, shape, prefix, at, name=name, first=j == 0)
            steps.append(self._add(layer, at, given is not None))
            shape = layer.out_shape
        return shape

    def make_conv(self, args: dict, shape: Shape, prefix: str, at: At, *, name: str | None = None,
                  first: bool = True, **override: Any) -> Conv:
        """One Conv from options (args, then `override`, then the spec's defaults).

        `in` is checked on the first of a run of repeats only: the others take the run's own output.
        The checks depend only on the options and the input shape, so a repeat of the same options on the
        same shape (the blocks of a deep stage) reuses the checked fields and only gets a new name.
        """
        where_text = str(at)
        try:
            key = (tuple(args.items()), shape, first, tuple(override.items()))
            hash(key)
        except TypeError:  # a list value (kernel: [3, 3]): the same options object then
            key = (id(args), shape, first, tuple(override.items()))
            try:
                hash(key)
            except TypeError:
                key = None
        memo = self.__dict__.setdefault("_conv_memo", {})
        if key is not None and key in memo:
            fields, _args = memo[key]
            return Conv(name=name or self._next(prefix, "conv"), where=where_text, **fields)
        layer = self._make_conv(args, shape, prefix, at, name=name, first=first, **override)
        if key is not None:
            fields = {f: getattr(layer, f) for f in Conv.__dataclass_fields__ if f not in ("name", "where")}
            memo[key] = (fields, args)  # holding args keeps its id from being reused
        return layer

    def _make_conv(self, args: dict, shape: Shape, prefix: str, at: At, *, name: str | None = None,
                   first: bool = True, **override: Any) -> Conv:
        opts = {**self.defaults.get("conv", {}), **args, **override}

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        c, h, w = shape
        out = positive_int(opts["out"], "conv out channels", where("out"))
        if "in" in opts:
            declared = positive_int(opts["in"], "conv in channels", where("in"))
            if first and declared != c:
                raise where("in").error(f"conv declares in: {declared} but its input has {c} channels "
                                        "(from the layer before it)")
        kernel = _pair(opts.get("kernel", 3), "kernel", where("kernel"))
        stride = _pair(opts.get("stride", 1), "stride", where("stride"))
        padding = (_pair(opts["padding"], "padding", where("padding"), minimum=0) if "padding" in opts
                   else (kernel[0] // 2, kernel[1] // 2))
        groups = positive_int(opts.get("groups", 1), "groups", where("groups"))
        bias = _bool(opts.get("bias", False), "bias", where("bias"))
        bn = _bool(opts.get("bn", False), "bn", where("bn"))
        act = _act(opts.get("act"), "act", where("act"))
        replace = None if opts.get("replace") is None else _bool(opts["replace"], "replace", where("replace"))
        for p, k in zip(padding, kernel):
            if p >= k:
                raise where("padding").error(f"padding {p} does not fit kernel {k} (conv padding must be "
                                             "less than the kernel size)")
        if c % groups or out % groups:
            raise where("groups").error(f"groups {groups} must divide both the input channels {c} and the "
                                        f"output channels {out}")
        if replace and (groups != 1 or max(kernel) == 1):
            why = f"groups is {groups}" if groups != 1 else "it is a 1 x 1 convolution"
            raise where("replace").error(f"replace: true needs a dense K x K convolution with K > 1, but {why}")
        out_hw = self._spatial((h, w), kernel, stride, padding, where("kernel"), "conv")
        return Conv(name=name or self._next(prefix, "conv"), in_shape=shape, out_shape=(out, *out_hw),
                    kernel=kernel, stride=stride, padding=padding, groups=groups, bias=bias, bn=bn, act=act,
                    replace=replace, where=str(at))

    @staticmethod
    def _spatial(hw: tuple[int, int], kernel, stride, padding, at: At, what: str) -> tuple[int, int]:
        """Output height and width by PyTorch's rule, (size + 2p - k) // s + 1; refused below 1."""
        out = []
        for axis, size, k, s, p in zip(("height", "width"), hw, kernel, stride, padding):
            o = output_size(size, k, s, p)
            if o < 1:  # the same as k > size + 2p
                raise at.error(f"{what} kernel {k} is larger than its padded input {axis} {size}+2*{p}="
                               f"{size + 2 * p}: output size ({size} + 2*{p} - {k}) // {s} + 1 = {o} is below 1 "
                               "(floor division, as in PyTorch)")
            out.append(o)
        return out[0], out[1]

    def _fc(self, args: YMap, shape: Shape, prefix: str, at: At, steps: list, depth: int) -> Shape:
        _check_keys(args, FC_KEYS, "fc", at)
        if "out" not in args:
            raise at.error("fc needs 'out' (output features)")
        opts = {**self.defaults.get("fc", {}), **args}

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        out = positive_int(opts["out"], "fc out features", where("out"))
        bias = _bool(opts.get("bias", True), "bias", where("bias"))
        act = _act(opts.get("act"), "act", where("act"))
        for j in range(repeat):
            features = shape[0] * shape[1] * shape[2]
            if "in" in opts and j == 0:
                declared = positive_int(opts["in"], "fc in features", where("in"))
                if declared != features:
                    raise where("in").error(f"fc declares in: {declared} but its input gives {features} "
                                            f"features ({_fmt_shape(shape)} flattened)")
            name = self._next(prefix, "fc") if given is None else given if repeat == 1 else f"{given}.{j + 1}"
            layer = Linear(name=name, in_shape=shape, out_shape=(out, 1, 1), bias=bias, act=act, where=str(at))
            steps.append(self._add(layer, at, given is not None))
            shape = layer.out_shape
        return shape

    def _pool(self, mode: str, args: YMap, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        kind = f"{mode}pool"
        _check_keys(args, POOL_KEYS, kind, at)

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        c, h, w = shape
        is_global = "global" in args and _bool(args["global"], "global", where("global"))
        if is_global:
            for key in ("kernel", "stride", "padding"):
                if key in args:
                    raise where(key).error(f"a global {kind} takes no '{key}'")
            kernel, stride, padding = (h, w), (h, w), (0, 0)
        else:
            kernel = _pair(args.get("kernel", 2), "kernel", where("kernel"))
            stride = _pair(args.get("stride", list(kernel)), "stride", where("stride"))
            padding = _pair(args.get("padding", 0), "padding", where("padding"), minimum=0)
            for p, k in zip(padding, kernel):
                if p > k // 2:
                    raise where("padding").error(f"padding {p} does not fit kernel {k} (pool padding must be "
                                                 "at most half the kernel size, as in PyTorch)")
        out_hw = self._spatial((h, w), kernel, stride, padding, where("kernel"), kind)
        given = self._given_name(args, at)
        layer = Pool(name=given or self._next(prefix, "pool"), in_shape=shape, out_shape=(c, *out_hw), mode=mode,
                     kernel=kernel, stride=stride, padding=padding, where=str(at), is_global=is_global)
        steps.append(self._add(layer, at, given is not None))
        return layer.out_shape

    def _maxpool(self, args, shape, prefix, at, steps, depth):
        return self._pool("max", args, shape, prefix, at, steps)

    def _avgpool(self, args, shape, prefix, at, steps, depth):
        return self._pool("avg", args, shape, prefix, at, steps)

    def _residual(self, args: YMap, shape: Shape, prefix: str, at: At, steps: list, depth: int) -> Shape:
        _check_keys(args, RESIDUAL_KEYS, "residual", at)
        if "body" not in args:
            raise at.error("residual needs 'body' (the list of layers on the main branch)")
        act = _act(args.get("act", self.defaults.get("conv", {}).get("act")), "act", self._opt(args, "act", at))
        repeat = self._repeat(args, at)
        given = self._given_name(args, at)
        shortcut = args.get("shortcut", "identity")
        short_at = self._opt(args, "shortcut", at)
        if not isinstance(shortcut, (list, tuple)) and shortcut not in RESIDUAL_SHORTCUTS:
            raise short_at.error(f"residual shortcut must be identity, zero_pad or a list of layers, "
                                 f"got {_got(shortcut)}")
        for j in range(repeat):
            block = (self._next(prefix, "res") if given is None else given if repeat == 1
                     else f"{given}.{j + 1}") + "."
            body, body_shape = self.sequence(args["body"], shape, block, self._opt(args, "body", at),
                                             "residual 'body'", depth + 1)
            if isinstance(shortcut, str):
                short_seq = Sequence(())
                self._check_shortcut(shortcut, shape, body_shape, short_at)
            else:
                short_seq, short_shape = self.sequence(shortcut, shape, block + "shortcut.", short_at,
                                                       "residual 'shortcut'", depth + 1)
                if short_shape != body_shape:
                    raise short_at.error(f"residual branches cannot be added: body gives "
                                         f"{_fmt_shape(body_shape)}, shortcut gives {_fmt_shape(short_shape)}")
            steps.append(Parallel((body, short_seq)))
            steps.append(self._add(Add(name=block + "add", in_shape=body_shape, out_shape=body_shape, act=act,
                                       where=str(at)), at, given is not None))
            shape = body_shape
        return shape

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

    def _stage(self, args: YMap, shape: Shape, prefix: str, at: At, steps: list, depth: int) -> Shape:
        _check_keys(args, STAGE_KEYS, "stage", at)

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        for key in ("block", "out"):
            if key not in args:
                raise at.error(f"stage needs '{key}'")
        block = _choice(args["block"], "stage block", where("block"), BLOCKS)
        out = positive_int(args["out"], "stage out channels", where("out"))
        repeat = self._repeat(args, at)
        stride = positive_int(args.get("stride", 1), "stride", where("stride"))
        shortcut = _choice(args.get("shortcut", "projection"), "stage shortcut", where("shortcut"),
                           STAGE_SHORTCUTS)
        if block == "bottleneck":
            width = positive_int(args.get("width", max(out // 4, 1)), "width", where("width"))
        elif "width" in args:
            raise where("width").error("'width' applies to bottleneck blocks only")
        given = self._given_name(args, at)
        stage = given or self._next(prefix, "stage")
        act = _act(self.defaults.get("conv", {}).get("act", "relu"), "act", at)
        for j in range(repeat):
            s = stride if j == 0 else 1
            pre = f"{stage}.{j}."
            c = shape[0]
            body: list[int] = []
            cur = shape
            if block == "basic":
                convs = [dict(out=out, kernel=3, stride=s), dict(out=out, kernel=3, act=None)]
            else:
                convs = [dict(out=width, kernel=1), dict(out=width, kernel=3, stride=s),
                         dict(out=out, kernel=1, act=None)]
            for k, opts in enumerate(convs, start=1):
                opts.setdefault("act", act)
                layer = self.make_conv({}, cur, pre, where("out"), name=f"{pre}conv{k}", **opts)
                body.append(self._add(layer, at, given is not None))
                cur = layer.out_shape
            short: list[int] = []
            if s != 1 or c != out:
                if shortcut == "projection":
                    layer = self.make_conv({}, shape, pre, where("shortcut"), name=f"{pre}shortcut", out=out,
                                           kernel=1, stride=s, act=None)
                    short.append(self._add(layer, at, given is not None))
                else:
                    self._check_shortcut("zero_pad", shape, cur, where("shortcut"))
            steps.append(Parallel((Sequence(tuple(body)), Sequence(tuple(short)))))
            steps.append(self._add(Add(name=f"{pre}add", in_shape=cur, out_shape=cur, act=act, where=str(at)),
                                   at, given is not None))
            shape = cur
        return shape


# --------------------------------------------------------------------------- top level

def build_network(data: Any, source: str = "<spec>", default_name: str = "network", *,
                  root_mark: tuple[int, int] | None = None) -> Network:
    """A validated Network from parsed spec data (a YAML document or a plain dict)."""
    at = _at_self(data, _at_mark(root_mark, At(source)))
    if not isinstance(data, dict):
        raise at.error(f"a spec must be a mapping with 'input' and 'layers', got {_got(data)}")
    _check_keys(data, TOP_KEYS, "the spec", at)
    for key in ("input", "layers"):
        if key not in data:
            raise at.error(f"spec needs '{key}'")
    name = _name(data.get("name", default_name), "name", _at_key(data, "name", at))
    title = _name(data.get("title", name), "title", _at_key(data, "title", at))
    text = {}
    for key in ("description", "dataset"):
        value = data.get(key)
        if value is not None and not isinstance(value, str):
            raise _at_key(data, key, at).error(f"{key} must be a string, got {_got(value)}")
        if value:
            _no_surrogate(value, key, _at_key(data, key, at))
        text[key] = value or ""
    in_at = _at_key(data, "input", at)
    raw_input = data["input"]
    if not isinstance(raw_input, (list, tuple)) or len(raw_input) != 3:
        raise in_at.error(f"input must be [channels, height, width], got {_got(raw_input)}")
    what = ("input channels", "input height", "input width")
    shape = tuple(positive_int(v, what[i], _at_item(raw_input, i, in_at)) for i, v in enumerate(raw_input))
    defaults = _defaults(data.get("defaults"), _at_key(data, "defaults", at))
    builder = _Builder(source, defaults)
    layers_at = _at_key(data, "layers", at)
    topology, _ = builder.sequence(data["layers"], shape, "", layers_at)
    if not any(isinstance(layer, (Conv, Linear)) for layer in builder.layers):
        raise layers_at.error("the network has no conv or fc layer: there is nothing to cost")
    convs = [layer for layer in builder.layers if isinstance(layer, Conv)]
    return Network(name=name, title=title, input=shape, layers=tuple(builder.layers), topology=topology,
                   source=source, description=text["description"],
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs),
                   meta={"dataset": text["dataset"]} if text["dataset"] else {})


def _defaults(value: Any, at: At) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise at.error(f"defaults must be a mapping like {{conv: {{bias: true}}}}, got {_got(value)}")
    _check_keys(value, tuple(DEFAULT_KEYS), "defaults", at)
    out = {}
    for kind, opts in value.items():
        kat = _at_key(value, kind, at)
        if opts is None:
            opts = {}
        if not isinstance(opts, dict):
            raise kat.error(f"defaults.{kind} must be a mapping, got {_got(opts)}")
        _check_keys(opts, DEFAULT_KEYS[kind], f"defaults.{kind}", kat)
        for key, v in opts.items():
            check = _act if key == "act" else _bool
            check(v, f"defaults.{kind}.{key}", _at_key(opts, key, kat))
        out[kind] = dict(opts)
    return out


def load_spec_text(text: str, source: str = "<string>", default_name: str = "network") -> Network:
    """A Network from YAML text (a str, or UTF-8 bytes)."""
    if not isinstance(source, str) or not isinstance(default_name, str):
        raise SpecError(f"source and default_name must be strings, got {source!r}, {default_name!r}")
    if isinstance(text, (bytes, bytearray, memoryview)):
        from .yamlsource import decode_spec_bytes

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
