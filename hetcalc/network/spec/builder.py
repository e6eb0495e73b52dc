"""GraphBuilder: walks a spec's layer list, resolving names, edges and shapes as it goes.

Each layer type has a handler in ENTRIES (registered by the entries_* modules with `@entry(kind)`): it reads
the entry's options and the flow it continues, registers its layers with the builder and returns the flow
after them.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

from hetcalc.core.located import (At, at_item, at_key, at_self, check_keys, close_matches, got, marked, name_value,
                                  positive_int, show, suggest)
from hetcalc.core.yamlio import YMap
from hetcalc.network.graph import INPUT, Shape
from hetcalc.network.spec.schema import ENTRY_KEYS, LAYER_TYPES, MAX_LAYERS, MAX_NESTING, SHORTHAND


class Flow(NamedTuple):
    """The node an entry reads (INPUT for the network's input) and its shape."""

    index: int
    shape: Shape


_new_flow = tuple.__new__  # one Flow a layer: NamedTuple's Python-level __new__ costs a 100,000-layer spec 3%

# handler(builder, options, flow in, name prefix, where the options sit, nesting depth) -> flow out
Handler = Callable[["GraphBuilder", YMap, Flow, str, At, int], Flow]
ENTRIES: dict[str, Handler] = {}


def entry(kind: str) -> Callable[[Handler], Handler]:
    """Register the decorated function as the handler of layer type `kind` (a key of schema.ENTRY_KEYS)."""
    if kind not in ENTRY_KEYS:
        raise ValueError(f"layer type {kind!r} is not in schema.ENTRY_KEYS")

    def add(handler: Handler) -> Handler:
        ENTRIES[kind] = handler
        return handler

    return add


def where(args: dict, key: str, at: At) -> At:
    """Where option `key` of an entry sits: its value's place if it is given, else the entry's."""
    return at_key(args, key, at_self(args, at)) if key in args else at


def repeat_name(given: str | None, repeat: int, j: int) -> str | None:
    """The name of copy j of an entry named `given`: the name itself, or name.1, name.2, ... when repeated."""
    if given is None:
        return None
    return given if repeat == 1 else f"{given}.{j + 1}"


def renamed(layer, name: str, inputs: tuple[int, ...]):
    """A checked layer under another name, reading `inputs`: a shallow copy of its fields (a frozen
    dataclass, so copy.copy's reduce protocol or dataclasses.replace would cost many times more)."""
    clone = object.__new__(type(layer))
    fields = clone.__dict__
    fields.update(layer.__dict__)
    fields["name"] = name
    fields["inputs"] = inputs
    return clone


def without(args: YMap, key: str) -> YMap:
    """The options but `key`, each still located where it was written."""
    out = YMap({k: v for k, v in args.items() if k != key})
    for attr in ("key_marks", "name_marks", "mark"):
        if hasattr(args, attr):
            setattr(out, attr, getattr(args, attr))
    return out


class GraphBuilder:
    """The layers built so far, their names and the outputs `from:` and `with:` may name."""

    def __init__(self, defaults: dict, input_shape: Shape) -> None:
        self.defaults = defaults
        self.layers: list = []
        self.names: dict[str, tuple[At, bool]] = {}  # name -> (where, given in the spec)
        self.outputs: dict[str, Flow] = {"input": Flow(INPUT, input_shape)}  # what `from:` / `with:` may name
        self.counters: dict[str, int] = {}
        self.parsed: dict[int, tuple] = {}  # id(entry) -> (entry, kind, args, where): repeats re-read entries
        self.convs: dict[tuple, tuple] = {}  # validated convs, by options and input shape (make_conv's memo)

    # -- names and layers
    def next_name(self, prefix: str, kind: str) -> str:
        key = f"{prefix}/{kind}"
        self.counters[key] = self.counters.get(key, 0) + 1
        return f"{prefix}{kind}{self.counters[key]}"

    def register(self, layer, at: At, given: bool = False) -> Flow:
        """Append `layer`; its name must be new. Returns the flow out of it."""
        name, layers = layer.name, self.layers
        if name in self.names or name == "input":
            raise self._taken(name, at, given)
        if len(layers) >= MAX_LAYERS:
            raise at.error(f"network has more than {MAX_LAYERS:,} layers")
        self.names[name] = (at, given)
        flow = self.outputs[name] = _new_flow(Flow, (len(layers), layer.out_shape))  # Flow(...), minus its __new__
        layers.append(layer)
        return flow

    def _taken(self, name: str, at: At, given: bool) -> Exception:
        if name == "input":
            return at.error("layer name 'input' is reserved: it names the network's input in 'from' and 'with'")
        first, first_given = self.names[name]
        there = f"line {first.line}" if first.line is not None else "an earlier entry"
        if given and not first_given:
            return at.error(f"layer name {show(name)} is already the automatic name of the layer at {there}; "
                            "choose another name")
        if first_given and not given:
            return at.error(f"this layer's automatic name {show(name)} is already taken by the layer named at "
                            f"{there}; choose another name there")
        return at.error(f"duplicate layer name {show(name)} (already used by the layer at {there})")

    def alias(self, name: str | None, flow: Flow) -> None:
        """A block's given name stands for its output in `from:` and `with:`."""
        if name is not None and name not in self.outputs:
            self.outputs[name] = flow

    # -- options every entry may take
    def repeat(self, args: dict, at: At) -> int:
        place = where(args, "repeat", at)
        repeat = positive_int(args.get("repeat", 1), "repeat", place)
        if len(self.layers) + repeat > MAX_LAYERS:
            raise place.error(f"repeat {show(repeat)} would make the network longer than {MAX_LAYERS:,} layers")
        return repeat

    def given_name(self, args: dict, at: At) -> str | None:
        return name_value(args["name"], "name", where(args, "name", at)) if "name" in args else None

    def lookup(self, value: Any, what: str, at: At) -> Flow:
        """The output a `from:` / `with:` / `inputs:` name refers to: an earlier layer or block, or `input`."""
        name = name_value(value, what, at)
        if name not in self.outputs:
            close = suggest(name, tuple(self.outputs))
            hint = f" (did you mean '{close}'?)" if close else " (it must name an earlier layer, block or 'input')"
            raise at.error(f"{what} {show(name)} names no earlier layer{hint}")
        return self.outputs[name]

    def lookup_all(self, value: Any, what: str, at: At) -> list[Flow]:
        items = list(value) if isinstance(value, (list, tuple)) else [value]
        if not items:
            raise at.error(f"{what} must name at least one earlier layer, got an empty list")
        return [self.lookup(v, what, at_item(value, i, at) if isinstance(value, (list, tuple)) else at)
                for i, v in enumerate(items)]

    # -- entries
    def sequence(self, entries: Any, flow: Flow, prefix: str, at: At, what: str = "'layers'",
                 depth: int = 0, allow_empty: bool = False) -> Flow:
        """Build a list of layer entries that continues `flow`; returns the flow out of the last one."""
        if depth > MAX_NESTING:
            raise at.error(f"residual blocks nested deeper than {MAX_NESTING} levels")
        if not isinstance(entries, (list, tuple)):
            raise at.error(f"{what} must be a list of layer entries, got {got(entries)}")
        if not entries and not allow_empty:
            raise at.error(f"{what} is empty: it needs at least one layer")
        for index, item in enumerate(entries):
            cached = self.parsed.get(id(item))
            if cached is None or cached[0] is not item:  # a repeated block re-reads the same entries
                cached = (item, *self.parse_entry(item, at_item(entries, index, at)))
                self.parsed[id(item)] = cached
            _, kind, args, args_at = cached
            if "from" in args:
                flow = self.lookup(args["from"], "from", where(args, "from", args_at))
                args = without(args, "from")
            check_keys(args, ENTRY_KEYS[kind], kind, args_at)
            flow = ENTRIES[kind](self, args, flow, prefix, args_at, depth)
        return flow

    @staticmethod
    def parse_entry(item: Any, at: At) -> tuple[str, YMap, At]:
        """An entry's layer type, its options as a located mapping, and where they sit."""
        if isinstance(item, str):
            kind, args, args_at = item, None, at
        elif isinstance(item, dict):
            if not item:
                raise at.error("a layer entry is an empty mapping; write its type and options, like 'conv: 64'")
            if len(item) != 1:
                keys = ", ".join(str(k) for k in list(item)[:5]) + (", ..." if len(item) > 5 else "")
                raise at.error(f"a layer entry must have exactly one key (its type), got {{{keys}}}; "
                               "indent the options under the type")
            kind = next(iter(item))
            args, args_at = item[kind], at_key(item, kind, at)
        else:
            raise at.error(f"a layer entry must be a mapping like 'conv: 64', got {got(item)}")
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
