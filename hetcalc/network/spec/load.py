"""Spec data, YAML text or a YAML file -> a validated Network."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.core.keywords import checked_keywords
from hetcalc.core.located import (At, at_item, at_key, at_mark, at_self, boolean, check_keys, got, name_value,
                                  no_surrogate, positive_int)
from hetcalc.core.yamlio import load_yaml_document, read_spec_file
from hetcalc.network.graph import INPUT, Conv, Linear, Network
from hetcalc.network.rules import path_text
from hetcalc.network.spec import (  # noqa: F401 - they fill ENTRIES
    entries_blocks, entries_layers, entries_movement, entries_tensor,
)
from hetcalc.network.spec.builder import Flow, GraphBuilder
from hetcalc.network.spec.schema import DEFAULT_KEYS, TOP_KEYS
from hetcalc.network.spec.values import activation


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
    for key in ("description", "note", "dataset"):
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
    builder = GraphBuilder(read_defaults(data.get("defaults"), at_key(data, "defaults", at)), shape)
    layers_at = at_key(data, "layers", at)
    enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: collector passes over the growing heap are superlinear
    try:
        builder.sequence(data["layers"], Flow(INPUT, shape), "", layers_at)
    finally:
        if enabled:
            gc.enable()
    if not any(isinstance(layer, (Conv, Linear)) for layer in builder.layers):
        raise layers_at.error("the network has no conv or fc layer: there is nothing to cost")
    convs = [layer for layer in builder.layers if isinstance(layer, Conv)]
    return Network(name=name, title=title, input=shape, layers=tuple(builder.layers),
                   source=source, description=text["description"],
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs),
                   meta={key: text[key] for key in ("dataset", "note") if text[key]})


def read_defaults(value: Any, at: At) -> dict:
    """The spec's `defaults` (options every conv or fc takes unless it says otherwise), checked."""
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
            check = activation if key == "act" else boolean
            check(v, f"defaults.{kind}.{key}", at_key(opts, key, kat))
        out[kind] = dict(opts)
    return out


@checked_keywords()
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


@checked_keywords()
def load_spec_file(path: str | Path) -> Network:
    """A Network from a YAML file."""
    path = Path(path)
    # a file name that is not UTF-8 (os.fsdecode's surrogates) still gives a printable name and source
    return load_spec_text(read_spec_file(path), path_text(path), path_text(path.stem))
