"""A Network back to an editable YAML spec (`hetcalc import`): every layer named, edges as `from`/`inputs`.

Loading the written spec gives the same layers, shapes and edges, hence identical results;
`round_trip_problem` checks that it does. Options at the spec's defaults are left out, one line per layer,
so the spec of a graph at the 100,000-layer bound stays within the loader's bounds (core/yamlio.py). User text (names, the file name, op types, the producer) goes only into YAML values,
which the YAML emitter quotes and escapes, and into comments through `rules.printable`, so it can never
become a line of its own.
"""

from __future__ import annotations

from dataclasses import fields

from hetcalc.network.graph import (
    INPUT, Activation, Add, BatchNorm, Concat, Conv, Linear, MatMul, Mul, Network, Norm, Pool, Reshape,
)
from hetcalc.network.rules import printable


def _pair(values) -> int | list[int]:
    values = list(values)
    return values[0] if len(set(values)) == 1 else values


def _entry(network: Network, i: int, layer) -> dict:
    ins = network.edges[i]
    names = ["input" if j == INPUT else network.layers[j].name for j in ins]
    opts: dict = {"name": layer.name}
    if len(ins) == 1 and ins[0] != i - 1:
        opts["from"] = names[0]
    if isinstance(layer, Conv):
        opts.update(out=layer.N, kernel=_pair(layer.kernel))
        if layer.stride != (1, 1):
            opts["stride"] = _pair(layer.stride)
        pads = layer.pads
        half = tuple((d * (k - 1) + 1) // 2 for d, k in zip(layer.dilation, layer.kernel))  # the spec's default
        if pads != half * 2:
            opts["padding"] = _pair(pads[:2]) if pads[:2] == pads[2:] else list(pads)
        if layer.dilation != (1, 1):
            opts["dilation"] = _pair(layer.dilation)
        if layer.groups != 1:
            opts["groups"] = layer.groups
        for key in ("bias", "bn"):
            if getattr(layer, key):
                opts[key] = True
        if layer.act:
            opts["act"] = layer.act
        if layer.P is not None:
            opts["P"] = layer.P
        if layer.replace is not None:
            opts["replace"] = layer.replace
        return {"conv": opts}
    if isinstance(layer, Linear):
        opts["out"] = layer.out_features
        if layer.rows > 1:
            opts.update(rows=layer.rows, shape=list(layer.out_shape))
        if not layer.bias:
            opts["bias"] = False
        if layer.act:
            opts["act"] = layer.act
        return {"fc": opts}
    if isinstance(layer, Pool):
        kind = f"{layer.mode}pool"
        if layer.adaptive:
            opts["output"] = _pair(layer.out_shape[1:])
        elif layer.is_global:
            opts["global"] = True
        else:
            opts.update(kernel=_pair(layer.kernel), stride=_pair(layer.stride))
            pads = (*layer.padding, *(layer.padding_end or layer.padding))
            if any(pads):
                opts["padding"] = _pair(pads[:2]) if pads[:2] == pads[2:] else list(pads)
            if layer.ceil:
                opts["ceil"] = True
        if layer.reduce:
            opts["mean"] = True
        return {kind: opts}
    if isinstance(layer, (Norm, MatMul)) or isinstance(layer, Concat) and not _channel_join(network, layer):
        return _tensor_entry(layer, opts, names)
    if isinstance(layer, (Add, Mul, Concat)):
        opts.pop("from", None)
        opts["inputs"] = names
        if getattr(layer, "act", None):
            opts["act"] = layer.act
        return {"concat" if isinstance(layer, Concat) else layer.kind: opts}
    if isinstance(layer, BatchNorm):
        if layer.act:
            opts["act"] = layer.act
        return {"bn": opts}
    if isinstance(layer, Activation):
        opts["fn"] = layer.act
        if layer.params:
            opts["params"] = layer.params
        return {"act": opts}
    if isinstance(layer, Reshape):
        return _movement(layer, opts)
    raise TypeError(f"cannot write layer {layer!r}")


def _channel_join(network: Network, layer: Concat) -> bool:
    """A concat a spec's plain `concat: {inputs: ...}` gives: two or more inputs of one height and width,
    joined along channels, no parameters."""
    shapes = [network.input if j == INPUT else network.layers[j].out_shape for j in layer.inputs]
    return (len(shapes) > 1 and not layer.params and len({tuple(s[1:]) for s in shapes}) == 1
            and layer.out_shape == (sum(s[0] for s in shapes), *shapes[0][1:]))


def _tensor_entry(layer, opts: dict, names: list[str]) -> dict:
    """An attention network's layer (docs/spec.md: norm, matmul, a concat along any axis), its shape stated."""
    if isinstance(layer, Norm):
        if layer.norm != "layer":
            opts["type"] = layer.norm
        if layer.params:
            opts["params"] = layer.params
        if layer.act:
            opts["act"] = layer.act
        return {"norm": opts}
    opts.pop("from", None)
    opts.update(inputs=names, out=list(layer.out_shape))
    if isinstance(layer, MatMul):
        opts["inner"] = layer.inner
        if layer.fused:
            opts["fused"] = True
        return {"matmul": opts}
    if layer.params:
        opts["params"] = layer.params
    return {"concat": opts}


def _movement(layer: Reshape, opts: dict) -> dict:
    """A data-movement layer's entry: flatten, upsample, pad (of channels too), slice or reshape."""
    c, h, w = layer.out_shape
    if layer.op == "flatten" and layer.out_shape == (c, 1, 1) and c == layer.in_shape[0] * layer.in_shape[1] * \
            layer.in_shape[2]:
        return {"flatten": opts}
    if layer.op == "upsample":
        opts.update(size=[h, w], mode=layer.mode or "nearest")
        return {"upsample": opts}
    if layer.op == "pad":
        ci, hi, wi = layer.in_shape
        if h != hi or w != wi:
            opts["padding"] = [0, 0, h - hi, w - wi]
        if c != ci:
            opts["channels"] = [0, c - ci]
        if (c, h, w) == (ci, hi, wi):  # pads of 0 (Swin's, to a window multiple it already is)
            opts["padding"] = 0
        opts["mode"] = layer.mode or "constant"
        return {"pad": opts}
    opts["out"] = [c, h, w]
    return {"slice" if layer.op == "slice" else "reshape": opts}


def network_to_yaml(network: Network) -> str:
    """The YAML text of `network`."""
    import yaml

    data = {"name": network.name, "title": network.title, "description": network.description or "",
            "input": list(network.input)}
    head = (f"# {printable(network.title)}: written by `hetcalc import` from {printable(network.source)}.\n"
            "# Every layer is named as in the source; `from:` or `inputs:` names a layer's inputs where it does\n"
            "# not read the entry above it. Edit freely: docs/spec.md describes every key.\n")
    uncounted = network.meta.get("uncounted")
    if uncounted:
        listed = printable(", ".join(f"{op} x{n}" for op, n in sorted(uncounted.items())))
        head += (f"# Not written and not counted (op types hetcalc cannot count): {listed}; their outputs\n"
                 "# took their inputs' shapes.\n")
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter when there: 5x faster
    top = yaml.dump(data, Dumper=dumper, sort_keys=False, default_flow_style=None, width=110, allow_unicode=True)
    lines = []
    for i, layer in enumerate(network.layers):  # one line per layer: easy to read, grep and edit
        flow = yaml.dump(_entry(network, i, layer), Dumper=dumper, sort_keys=False, default_flow_style=True,
                         width=10**6, allow_unicode=True).strip()
        lines.append(f"  - {flow[1:-1]}\n")
    return head + top + "layers:\n" + "".join(lines)


def round_trip_problem(network: Network, loaded: Network) -> str | None:
    """How `loaded` (the written spec, read back) differs from `network`, or None when every layer, edge and
    option is the same: then every count is."""
    if tuple(loaded.input) != tuple(network.input):
        return f"the input reads back as {list(loaded.input)}, not {list(network.input)}"
    if len(loaded.layers) != len(network.layers):
        return f"it reads back as {len(loaded.layers):,} layers, not {len(network.layers):,}"
    for i, (a, b) in enumerate(zip(network.layers, loaded.layers)):
        if type(a) is not type(b) or network.edges[i] != loaded.edges[i]:
            return f"layer {printable(a.name)!r} reads back as a {b.kind} layer {printable(b.name)!r} or from " \
                   "other layers"
        for f in fields(a):
            if f.name not in ("where", "inputs") and getattr(a, f.name) != getattr(b, f.name):
                return (f"layer {printable(a.name)!r} reads back with {f.name} {getattr(b, f.name)!r}, not "
                        f"{getattr(a, f.name)!r}")
    return None
