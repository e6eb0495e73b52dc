"""Per-layer parts: `--P-at PATTERN=P` (CLI) or `P_at={"PATTERN": P}` (API) on top of a network's own.

A pattern is a shell-style pattern (fnmatch: `*`, `?`, `[...]`) matched against layer names, so
`layer3.*` selects a torchvision stage and `*conv2` one convolution of every block; on an imported ONNX
graph a pattern matches a node's name or the torch module its scope names (`matches`). The value is a
HetConv part (an integer, M or N) or `off`, which keeps the matched layers standard (`replace: false`).
Later items win over earlier ones; a pattern that matches no convolution is an error, never ignored.
"""

from __future__ import annotations

from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any, Iterable

from hetcalc.convtypes.parts import parse_part
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Conv, Network
from hetcalc.network.importers.torch import module_path

OFF = ("off", "standard", "none")


def parse_items(items: Any) -> list[tuple[str, Any]]:
    """(pattern, part) pairs from a mapping, or from 'PATTERN=P' strings (or pairs)."""
    if isinstance(items, dict):
        pairs = list(items.items())
    elif isinstance(items, str):
        pairs = [items]
    else:
        pairs = list(items)
    out = []
    for item in pairs:
        if isinstance(item, str):
            pattern, sep, value = item.rpartition("=")
            if not sep or not pattern.strip() or not value.strip():
                raise OptionError(f"--P-at takes PATTERN=P (like 'layer3.*=2' or 'conv1=off'), got {item!r}")
            item = (pattern.strip(), value.strip())
        pattern, value = item
        out.append((str(pattern), _value(value, pattern)))
    return out


def _value(value: Any, pattern: str) -> int | str | None:
    if isinstance(value, str) and value.strip().lower() in OFF:
        return None
    if value is None or value is False:
        return None
    return parse_part(value, f"P for '{pattern}'")


def apply_parts(network: Network, items: Any) -> Network:
    """The network with each matched convolution's own P set (or pinned standard, for `off`)."""
    pairs = parse_items(items)
    layers = list(network.layers)
    for pattern, part in pairs:
        hits = [i for i, layer in enumerate(layers) if isinstance(layer, Conv) and matches(layer.name, pattern)]
        if not hits:
            names = [c.name for c in network.convs[:3]]
            raise OptionError(f"--P-at pattern '{pattern}' matches no convolution of {network.name} "
                              f"(names look like {', '.join(names)}{', ...' if len(network.convs) > 3 else ''})")
        for i in hits:
            conv = layers[i]
            if part is None:
                layers[i] = replace(conv, replace=False, P=None)
            else:
                layers[i] = replace(conv, P=part, replace=None if conv.replace is False else conv.replace)
    return replace(network, layers=tuple(layers))


def matches(name: str, pattern: str) -> bool:
    """The pattern matches the layer's name, or the torch module an exporter's node name stands for (an
    imported '/layer4/layer4.0/conv1/Conv' is module 'layer4.0.conv1', as `analyze(module)` names it), so one
    pattern serves a spec, a module and its ONNX file alike."""
    if fnmatchcase(name, pattern):
        return True
    if not name.startswith("/"):
        return False
    path, _ = module_path(name)
    return bool(path) and fnmatchcase(path, pattern)


def describe(items: Iterable[tuple[str, Any]]) -> str:
    """'layer3.*=2, conv1=off' for report headers."""
    return ", ".join(f"{p}={'off' if v is None else v}" for p, v in items)
