"""Architecture specs: declarative YAML (or a dict built in Python) -> validated `Network`.

The format is documented in docs/spec.md. A spec says what the network is, never how it is costed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import SpecError
from .graph import Add, Conv, Linear, Network, Parallel, Pool, Sequence, Shape, output_size
from .yamlsource import YList, YMap, load_yaml_text, read_spec_file

MAX_LAYERS = 2_000_000
ACTIVATIONS = ("relu", "relu6", "sigmoid", "tanh", "gelu", "silu", "hardswish", "leaky_relu")
TOP_KEYS = ("name", "title", "description", "dataset", "input", "defaults", "layers")
BLOCKS = ("basic", "bottleneck")
SHORTCUTS = ("projection", "zero_pad")


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


def _at_key(mapping: Any, key: Any, fallback: At) -> At:
    marks = getattr(mapping, "key_marks", None)
    if marks and key in marks:
        return At(fallback.source, *marks[key])
    return fallback


def _at_item(seq: Any, index: int, fallback: At) -> At:
    marks = getattr(seq, "item_marks", None)
    if marks and index < len(marks):
        return At(fallback.source, *marks[index])
    return fallback


def _at_self(value: Any, fallback: At) -> At:
    mark = getattr(value, "mark", None)
    return At(fallback.source, *mark) if mark else fallback


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def positive_int(value: Any, what: str, at: At, minimum: int = 1) -> int:
    """An exact integer >= minimum; booleans, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise at.error(f"{what} must be an integer, got {_type_name(value)} {_show(value)}")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise at.error(f"{what} must be {bound}, got {value}")
    return value


def _pair(value: Any, what: str, at: At, minimum: int = 1) -> tuple[int, int]:
    if isinstance(value, list):
        if len(value) != 2:
            raise at.error(f"{what} must be an integer or a pair [height, width], got {_show(value)}")
        return (positive_int(value[0], what, at, minimum), positive_int(value[1], what, at, minimum))
    n = positive_int(value, what, at, minimum)
    return (n, n)


def _bool(value: Any, what: str, at: At) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"{what} must be true or false, got {_type_name(value)} {_show(value)}")
    return value


def _act(value: Any, what: str, at: At) -> str | None:
    if value is None or value is False or value == "none":
        return None
    if not isinstance(value, str) or value not in ACTIVATIONS:
        raise at.error(f"{what} must be one of {', '.join(ACTIVATIONS)} or none, got {_show(value)}")
    return value


def _name(value: Any, what: str, at: At) -> str:
    if not isinstance(value, str) or not value.strip():
        raise at.error(f"{what} must be a non-empty string, got {_type_name(value)} {_show(value)}")
    return value.strip()


def _choice(value: Any, what: str, at: At, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise at.error(f"{what} must be one of {', '.join(choices)}, got {_show(value)}")
    return value


def _check_keys(mapping: dict, allowed: tuple[str, ...], where: str, at: At) -> None:
    for key in mapping:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else f" (allowed: {', '.join(allowed)})"
            raise _at_key(mapping, key, at).error(f"unknown key '{key}' in {where}{hint}")


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
        self.names: set[str] = set()
        self.counters: dict[str, int] = {}

    # -- helpers
    def _next(self, prefix: str, kind: str) -> str:
        key = f"{prefix}/{kind}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}{kind}{self.counters[key]}"

    def _add(self, layer) -> int:
        if layer.name in self.names:
            raise SpecError(f"duplicate layer name '{layer.name}'", source=self.source) if not layer.where \
                else _where_error(layer.where, f"duplicate layer name '{layer.name}'")
        if len(self.layers) >= MAX_LAYERS:
            raise _where_error(layer.where, f"network has more than {MAX_LAYERS:,} layers")
        self.names.add(layer.name)
        self.layers.append(layer)
        return len(self.layers) - 1

    # -- entries
    def sequence(self, entries: Any, shape: Shape, prefix: str, at: At) -> tuple[Sequence, Shape]:
        if not isinstance(entries, list):
            raise at.error(f"'layers' must be a list of layer entries, got {_type_name(entries)}")
        if not entries:
            raise at.error("'layers' is empty: a network needs at least one layer")
        steps: list = []
        for index, entry in enumerate(entries):
            entry_at = _at_item(entries, index, at)
            kind, args, args_at = self._entry(entry, entry_at)
            handler: Callable = getattr(self, f"_{kind}")
            shape = handler(args, shape, prefix, args_at, steps)
        return Sequence(tuple(steps)), shape

    def _entry(self, entry: Any, at: At) -> tuple[str, Any, At]:
        kinds = ("conv", "fc", "maxpool", "avgpool", "stage", "residual")
        if isinstance(entry, str):
            kind, args, args_at = entry, None, at
        elif isinstance(entry, dict):
            if len(entry) != 1:
                keys = ", ".join(str(k) for k in entry)
                raise at.error(f"a layer entry must have exactly one key (its type), got {{{keys}}}; "
                               "indent the options under the type")
            kind = next(iter(entry))
            args, args_at = entry[kind], _at_key(entry, kind, at)
        else:
            raise at.error(f"a layer entry must be a mapping like 'conv: 64', got {_type_name(entry)} "
                           f"{_show(entry)}")
        if kind not in kinds:
            close = difflib.get_close_matches(str(kind), kinds, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise at.error(f"unknown layer type {_show(kind)} ({hint}known: {', '.join(kinds)})")
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            if kind in SHORTHAND or (kind == "avgpool" and args == "global"):
                args = {"global": True} if args == "global" else {SHORTHAND[kind]: args}
            else:
                raise args_at.error(f"'{kind}' needs a mapping of options, got {_type_name(args)} {_show(args)}")
        if isinstance(args, YMap) or not hasattr(args, "key_marks"):
            args = args if isinstance(args, YMap) else _plain_map(args)
        return kind, args, args_at

    def _opt(self, args: dict, key: str, at: At) -> At:
        return _at_key(args, key, _at_self(args, at))

    def _repeat(self, args: dict, at: At) -> int:
        return positive_int(args.get("repeat", 1), "repeat", self._opt(args, "repeat", at))

    def _conv(self, args: dict, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        _check_keys(args, CONV_KEYS, "conv", at)
        if "out" not in args:
            raise at.error("conv needs 'out' (output channels)")
        for _ in range(self._repeat(args, at)):
            layer = self.make_conv(args, shape, prefix, at, name_suffix=None)
            steps.append(self._add(layer))
            shape = layer.out_shape
        return shape

    def make_conv(self, args: dict, shape: Shape, prefix: str, at: At, *, name: str | None = None,
                  name_suffix: str | None = None, **override: Any) -> Conv:
        """One Conv from options (args, then `override`, then the spec's defaults)."""
        opts = {**self.defaults.get("conv", {}), **args, **override}

        def where(key: str) -> At:
            return self._opt(args, key, at) if key in args else at

        c, h, w = shape
        out = positive_int(opts["out"], "conv out channels", where("out"))
        if "in" in opts:
            declared = positive_int(opts["in"], "conv in channels", where("in"))
            if declared != c:
                raise where("in").error(f"conv declares in: {declared} but the previous layer gives {c} "
                                        "channels")
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
                raise where("padding").error(f"padding {p} does not fit kernel {k} (padding must be less "
                                             "than the kernel size)")
        if c % groups or out % groups:
            raise where("groups").error(f"groups {groups} must divide both the input channels {c} and the "
                                        f"output channels {out}")
        out_hw = self._spatial((h, w), kernel, stride, padding, where("kernel"), "conv")
        if name is None:
            name = _name(opts["name"], "name", where("name")) if "name" in args else self._next(prefix, "conv")
            if "name" in args and int(args.get("repeat", 1)) > 1:
                name = self._next(f"{name}.", "")
        return Conv(name=name, in_shape=shape, out_shape=(out, *out_hw), kernel=kernel, stride=stride,
                    padding=padding, groups=groups, bias=bias, bn=bn, act=act, replace=replace, where=str(at))

    def _spatial(self, hw: tuple[int, int], kernel, stride, padding, at: At, what: str) -> tuple[int, int]:
        out = []
        for size, k, s, p in zip(hw, kernel, stride, padding):
            if k > size + 2 * p:
                raise at.error(f"{what} kernel {k} is larger than its padded input {size}+2*{p}={size + 2 * p}")
            o = output_size(size, k, s, p)
            if o < 1:
                raise at.error(f"{what} output size (({size} + 2*{p} - {k}) // {s}) + 1 = {o} is below 1")
            out.append(o)
        return out[0], out[1]

    def _fc(self, args: dict, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        _check_keys(args, FC_KEYS, "fc", at)
        if "out" not in args:
            raise at.error("fc needs 'out' (output features)")
        opts = {**self.defaults.get("fc", {}), **args}
        for _ in range(self._repeat(args, at)):
            where = lambda key: self._opt(args, key, at) if key in args else at  # noqa: E731
            out = positive_int(opts["out"], "fc out features", where("out"))
            features = shape[0] * shape[1] * shape[2]
            if "in" in opts:
                declared = positive_int(opts["in"], "fc in features", where("in"))
                if declared != features:
                    raise where("in").error(f"fc declares in: {declared} but the previous layer gives "
                                            f"{features} features ({shape[0]}x{shape[1]}x{shape[2]})")
            name = _name(args["name"], "name", where("name")) if "name" in args else self._next(prefix, "fc")
            if "name" in args and int(args.get("repeat", 1)) > 1:
                name = self._next(f"{name}.", "")
            layer = Linear(name=name, in_shape=shape, out_shape=(out, 1, 1),
                           bias=_bool(opts.get("bias", True), "bias", where("bias")),
                           act=_act(opts.get("act"), "act", where("act")), where=str(at))
            steps.append(self._add(layer))
            shape = layer.out_shape
        return shape

    def _pool(self, mode: str, args: dict, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        kind = f"{mode}pool"
        _check_keys(args, POOL_KEYS, kind, at)
        where = lambda key: self._opt(args, key, at) if key in args else at  # noqa: E731
        c, h, w = shape
        if "global" in args and _bool(args["global"], "global", where("global")):
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
                                                 "at most half the kernel size)")
        out_hw = self._spatial((h, w), kernel, stride, padding, where("kernel"), kind)
        name = _name(args["name"], "name", where("name")) if "name" in args else self._next(prefix, "pool")
        steps.append(self._add(Pool(name=name, in_shape=shape, out_shape=(c, *out_hw), mode=mode, kernel=kernel,
                                    stride=stride, padding=padding, where=str(at))))
        return (c, *out_hw)

    def _maxpool(self, args, shape, prefix, at, steps):
        return self._pool("max", args, shape, prefix, at, steps)

    def _avgpool(self, args, shape, prefix, at, steps):
        return self._pool("avg", args, shape, prefix, at, steps)

    def _residual(self, args: dict, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        _check_keys(args, RESIDUAL_KEYS, "residual", at)
        if "body" not in args:
            raise at.error("residual needs 'body' (the list of layers on the main branch)")
        act = _act(args.get("act", self.defaults.get("conv", {}).get("act")), "act", self._opt(args, "act", at))
        for _ in range(self._repeat(args, at)):
            block = (_name(args["name"], "name", self._opt(args, "name", at)) + "."
                     if "name" in args and int(args.get("repeat", 1)) == 1 else self._next(prefix, "res") + ".")
            body, body_shape = self.sequence(args["body"], shape, block, self._opt(args, "body", at))
            shortcut = args.get("shortcut", "identity")
            short_at = self._opt(args, "shortcut", at)
            if shortcut in ("identity", "zero_pad"):
                short_seq = Sequence(())
                self._check_shortcut(shortcut, shape, body_shape, short_at)
            else:
                short_seq, short_shape = self.sequence(shortcut, shape, block + "shortcut.", short_at)
                if short_shape != body_shape:
                    raise short_at.error(f"residual branches cannot be added: body gives "
                                         f"{_fmt_shape(body_shape)}, shortcut gives {_fmt_shape(short_shape)}")
            steps.append(Parallel((body, short_seq)))
            steps.append(self._add(Add(name=block + "add", in_shape=body_shape, out_shape=body_shape, act=act,
                                       where=str(at))))
            shape = body_shape
        return shape

    def _check_shortcut(self, kind: str, shape: Shape, body_shape: Shape, at: At) -> None:
        if kind == "identity" and shape != body_shape:
            raise at.error(f"residual branches cannot be added: body gives {_fmt_shape(body_shape)}, identity "
                           f"shortcut gives {_fmt_shape(shape)} (use a projection or zero_pad shortcut)")
        if kind == "zero_pad":
            c, h, w = shape
            n, ho, wo = body_shape
            sh, sw = -(-h // ho), -(-w // wo)
            if n < c or -(-h // sh) != ho or -(-w // sw) != wo:
                raise at.error(f"zero_pad shortcut cannot turn {_fmt_shape(shape)} into "
                               f"{_fmt_shape(body_shape)} (it subsamples and pads channels with zeros)")

    def _stage(self, args: dict, shape: Shape, prefix: str, at: At, steps: list) -> Shape:
        _check_keys(args, STAGE_KEYS, "stage", at)
        where = lambda key: self._opt(args, key, at) if key in args else at  # noqa: E731
        for key in ("block", "out"):
            if key not in args:
                raise at.error(f"stage needs '{key}'")
        block = _choice(args["block"], "block", where("block"), BLOCKS)
        out = positive_int(args["out"], "stage out channels", where("out"))
        repeat = positive_int(args.get("repeat", 1), "repeat", where("repeat"))
        stride = positive_int(args.get("stride", 1), "stride", where("stride"))
        shortcut = _choice(args.get("shortcut", "projection"), "shortcut", where("shortcut"), SHORTCUTS)
        if block == "bottleneck":
            width = positive_int(args.get("width", max(out // 4, 1)), "width", where("width"))
        elif "width" in args:
            raise where("width").error("'width' applies to bottleneck blocks only")
        stage = _name(args["name"], "name", where("name")) if "name" in args else self._next(prefix, "stage")
        act = self.defaults.get("conv", {}).get("act", "relu")
        act = _act(act, "act", at)
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
                body.append(self._add(layer))
                cur = layer.out_shape
            short: list[int] = []
            if s != 1 or c != out:
                if shortcut == "projection":
                    layer = self.make_conv({}, shape, pre, where("shortcut"), name=f"{pre}shortcut", out=out,
                                           kernel=1, stride=s, act=None)
                    short.append(self._add(layer))
                else:
                    self._check_shortcut("zero_pad", shape, cur, where("shortcut"))
            steps.append(Parallel((Sequence(tuple(body)), Sequence(tuple(short)))))
            steps.append(self._add(Add(name=f"{pre}add", in_shape=cur, out_shape=cur, act=act, where=str(at))))
            shape = cur
        return shape


def _fmt_shape(shape: Shape) -> str:
    return "x".join(str(v) for v in shape)


def _where_error(where: str, message: str) -> SpecError:
    parts = where.split(":")
    nums = [int(p) for p in parts[-2:] if p.isdigit()]
    source = ":".join(parts[: len(parts) - len(nums)])
    return SpecError(message, source=source or None, line=nums[0] if nums else None,
                     column=nums[1] if len(nums) > 1 else None)


def _plain_map(value: dict) -> YMap:
    out = YMap(value)
    out.key_marks = {}
    return out


# --------------------------------------------------------------------------- top level

def build_network(data: Any, source: str = "<spec>", default_name: str = "network") -> Network:
    """A validated Network from parsed spec data (a YAML document or a plain dict)."""
    at = _at_self(data, At(source))
    if not isinstance(data, dict):
        raise at.error(f"a spec must be a mapping with 'input' and 'layers', got {_type_name(data)}")
    _check_keys(data, TOP_KEYS, "the spec", at)
    for key in ("input", "layers"):
        if key not in data:
            raise at.error(f"spec needs '{key}'")
    name = _name(data.get("name", default_name), "name", _at_key(data, "name", at))
    title = _name(data.get("title", name), "title", _at_key(data, "title", at))
    description = data.get("description", "")
    if not isinstance(description, str):
        raise _at_key(data, "description", at).error(f"description must be a string, got {_show(description)}")
    in_at = _at_key(data, "input", at)
    raw_input = data["input"]
    if not isinstance(raw_input, list) or len(raw_input) != 3:
        raise in_at.error(f"input must be [channels, height, width], got {_show(raw_input)}")
    shape = tuple(positive_int(v, "input size", _at_item(raw_input, i, in_at)) for i, v in enumerate(raw_input))
    defaults = _defaults(data.get("defaults", {}), _at_key(data, "defaults", at))
    builder = _Builder(source, defaults)
    topology, _ = builder.sequence(data["layers"], shape, "", _at_key(data, "layers", at))
    convs = [layer for layer in builder.layers if isinstance(layer, Conv)]
    return Network(name=name, title=title, input=shape, layers=tuple(builder.layers), topology=topology,
                   source=source, description=description,
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs))


def _defaults(value: Any, at: At) -> dict:
    if not isinstance(value, dict):
        raise at.error(f"defaults must be a mapping like {{conv: {{bias: true}}}}, got {_show(value)}")
    _check_keys(value, tuple(DEFAULT_KEYS), "defaults", at)
    out = {}
    for kind, opts in value.items():
        kat = _at_key(value, kind, at)
        if not isinstance(opts, dict):
            raise kat.error(f"defaults.{kind} must be a mapping, got {_show(opts)}")
        _check_keys(opts, DEFAULT_KEYS[kind], f"defaults.{kind}", kat)
        for key, v in opts.items():
            vat = _at_key(opts, key, kat)
            _act(v, f"defaults.{kind}.act", vat) if key == "act" else _bool(v, f"defaults.{kind}.{key}", vat)
        out[kind] = dict(opts)
    return out


def load_spec_text(text: str, source: str = "<string>", default_name: str = "network") -> Network:
    """A Network from YAML text."""
    return build_network(load_yaml_text(text, source), source, default_name)


def load_spec_file(path: str | Path) -> Network:
    """A Network from a YAML file."""
    path = Path(path)
    return load_spec_text(read_spec_file(path), str(path), path.stem)
