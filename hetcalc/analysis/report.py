"""Analysis: a network and options in, a typed `Report` of per-layer and total costs out."""

from __future__ import annotations

import gc
from dataclasses import field, replace
from fractions import Fraction
from collections.abc import Sequence
from typing import Any, Iterable, Union

from hetcalc.network.sources import resolve
from hetcalc.convtypes.costs import CONV_TYPES, Piece, fixed_cost
from hetcalc.counting.convention import Convention
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Add, Conv, Linear, Network
from hetcalc.core.records import Record, record

Part = Union[int, str, None]  # an integer, "M" / "N" (each layer's own input / output depth), or None
VARIANTS = tuple(CONV_TYPES)
SHOWN_LAYERS = 20  # an error names at most this many layers, then counts the rest
TIME_FIELDS = ("bytes", "intensity", "time_s", "bound", "peak_activation_bytes", "time_speedup")


@record(slots=True)
class LayerResult(Record):
    """One layer's cost under one variant.

    Slotted: a 100,000-layer network has 400,000 of these, and a slotted instance takes a fifth of the
    memory of one with a __dict__. Add a field as usual; `to_dict()` follows the fields.
    """

    name: str
    kind: str  # conv | fc | pool | add | mul | concat | bn | act | flatten | reshape | pad | slice | upsample
    M: int
    N: int
    K: int | None
    stride: int | None
    out: tuple[int, int]
    replaced: bool
    realization: str  # "standard", "hetconv P=4", "gwc_pwc G=4", "dwc_pwc", "fc", ...
    flops: int
    params: int
    macs: int
    depth: int
    ratio: float | None  # this layer's FLOPs / its standard FLOPs
    closed_form: float | None  # the paper's closed-form ratio (eq. 5, 7 or 11) where replaced
    kernel: tuple[int, int] | None = None  # (kh, kw) of a convolution
    strides: tuple[int, int] | None = None  # (sh, sw) of a convolution
    groups: int | None = None  # a convolution's groups (M for depthwise)
    count: int = 1  # layers aggregated in this row (more than 1 in a per-stage view)
    # memory traffic and time (docs/time-model.md): None unless asked for (device, dtype or batch)
    bytes: int | None = None
    intensity: float | None = None  # device FLOPs (1 MAC = 2 FLOPs) per byte
    time_s: float | None = None
    bound: str | None = None  # "compute" | "memory" | "overhead"

    def to_dict(self) -> dict:
        data = {name: getattr(self, name) for name in _field_names(type(self))
                if getattr(self, name) is not None or name not in TIME_FIELDS}
        data["out"] = list(self.out)
        for key in ("kernel", "strides"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls) -> tuple[str, ...]:
    """A dataclass's field names, in order (cached: to_dict runs once per layer and variant)."""
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(cls.__dataclass_fields__)
    return names


@record
class VariantResult(Record):
    """Totals and layers of one way of building the network."""

    variant: str
    label: str
    P: Part
    G: Part
    flops: int
    params: int
    macs: int
    latency_depth: int
    added_latency: int
    speedup: float
    flops_reduction: float  # percent
    params_reduction: float  # percent
    replaced_layers: int
    layers: Sequence[LayerResult] = field(repr=False)  # a LayerRows: built on access
    bytes: int | None = None  # memory traffic of one forward pass of the batch
    peak_activation_bytes: int | None = None
    time_s: float | None = None  # predicted seconds of one forward pass of the batch
    time_speedup: float | None = None  # standard's time_s / this variant's

    def to_dict(self, layers: bool = True) -> dict:
        """The JSON object of one variant; `layers=False` leaves out its per-layer list (streamed exports)."""
        data = {k: v for k, v in self.__dict__.items()
                if k != "layers" and (v is not None or k not in TIME_FIELDS)}
        if layers:
            data["layers"] = [layer.to_dict() for layer in self.layers]
        return data


@record
class Report(Record):
    """The comparison of a network's variants under one counting convention."""

    architecture: str
    title: str
    source: str
    input: tuple[int, int, int]
    convention: Convention
    variants: tuple[VariantResult, ...]  # the chosen variants, in canonical order
    network: Network = field(repr=False, compare=False)
    se: int | None = None  # Squeeze-and-Excitation reduction ratio, if SE blocks were added
    baseline: VariantResult | None = field(default=None, repr=False)  # standard, even when not chosen
    device: Any = field(default=None, repr=False, compare=False)  # a hetcalc.devices.Device, when timed
    dtype: str | None = None  # with traffic: element type and batch of the forward pass
    batch: int | None = None
    hetconv_impl: str | None = None
    by: str = "layer"  # "layer", or "stage" when each row aggregates a stage (see `by_stage`)

    def variant(self, key: str) -> VariantResult:
        for v in self.variants:
            if v.variant == key:
                return v
        if key == "standard" and self.baseline is not None:
            return self.baseline
        raise KeyError(key)

    @property
    def standard(self) -> VariantResult:
        """The standard variant: the baseline of every reduction and speedup."""
        return self.variant("standard")

    def by_stage(self) -> "Report":
        """The same report with one row per stage or block instead of one per layer (see hetcalc.stages)."""
        from hetcalc.analysis.stages import stage_report

        return stage_report(self)

    def to_dict(self, layers: bool = True) -> dict:
        """The JSON object of docs/json.md; `layers=False` leaves out the per-layer lists."""
        return {"architecture": self.architecture, "title": self.title, "source": self.source,
                "input": list(self.input), "convention": self.convention.to_dict(), "se": self.se,
                "by": self.by, **self._time_dict(), "variants": [v.to_dict(layers) for v in self.variants]}

    def _time_dict(self) -> dict:
        if self.dtype is None:
            return {}
        data = {"dtype": self.dtype, "batch": self.batch, "hetconv_impl": self.hetconv_impl}
        if self.device is not None:
            data["device"] = {"name": self.device.name, "title": self.device.title,
                              "validated": self.device.validated, "source": self.device.where}
        return data


def costed(layer_rows) -> bool:
    """Whether one layer's rows (one per variant) carry a cost: conv and FC always; pooling, additions and the
    other layers only where the convention counts something for them. The one rule tables and figures share."""
    return any(r.kind in ("conv", "fc") or r.flops or r.params for r in layer_rows)


def costed_layers(report: "Report") -> list[int]:
    """Indices of the layers of `report` that carry a cost (`costed`)."""
    return [i for i, rows in enumerate(zip(*(v.layers for v in report.variants))) if costed(rows)]


def is_replaced(conv: Conv, first: bool, convention: Convention) -> bool:
    """The paper's rule: every K x K conv (K > 1) except the first; a spec's `replace:` pin wins."""
    replaceable = conv.groups == 1 and conv.K > 1
    if conv.replace is not None:
        return conv.replace and replaceable
    return replaceable and (convention.replace_first or not first)


def parse_part(value: Any, option: str) -> Part:
    """An option value for P or G: a positive integer, 'M' (each layer's input depth) or 'N' (output depth)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("M", "N"):
            return text.upper()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()):
            raise OptionError(f"{option} must be a positive integer, M or N, got {value!r}")
        try:
            value = int(text)
        except ValueError:  # more digits than Python will read
            raise OptionError(f"{option} must be a positive integer, M or N, got a number of "
                              f"{len(text):,} digits") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{option} must be a positive integer, M or N, got {value!r}")
    if value < 1:
        raise OptionError(f"{option} must be a positive integer, M or N, got {value}")
    return value


def parse_variants(variants: Iterable[str] | str | None) -> tuple[str, ...]:
    """Variant keys in canonical order; accepts 'all', 'gwc', 'dwc', 'het', commas."""
    if variants is None:
        return VARIANTS
    if isinstance(variants, str):
        variants = variants.split(",")
    aliases = {"std": "standard", "het": "hetconv", "gwc": "gwc_pwc", "dwc": "dwc_pwc",
               "gwc+pwc": "gwc_pwc", "dwc+pwc": "dwc_pwc", "gwc-pwc": "gwc_pwc", "dwc-pwc": "dwc_pwc"}
    try:
        variants = list(variants)
    except TypeError:
        raise OptionError(f"variants must be a comma-separated string or a list of variant names, got "
                          f"{variants!r}") from None
    chosen = set()
    for raw in variants:
        if not isinstance(raw, str):
            raise OptionError(f"a variant must be a name ({', '.join(VARIANTS)}, all), got {raw!r}")
        key = raw.strip().lower()
        if not key:
            continue
        if key == "all":
            chosen.update(VARIANTS)
            continue
        key = aliases.get(key, key)
        if key not in CONV_TYPES:
            raise OptionError(f"unknown variant '{raw.strip()}' (known: {', '.join(VARIANTS)}, all)")
        chosen.add(key)
    if not chosen:
        raise OptionError("no variant chosen (known: " + ", ".join(VARIANTS) + ")")
    return tuple(v for v in VARIANTS if v in chosen)


def layer_part(part: Part, conv: Conv) -> int:
    """The integer part a layer gets: P itself, or the layer's M or N."""
    if part is None:
        part = "M"
    if part == "M":
        return conv.M
    if part == "N":
        return conv.N
    return int(part)


def check_part(network: Network, replaced: list[Conv], part: Part, option: str, what: str,
               own: bool = True) -> None:
    """Refuse a P or G that does not divide the input depth M of every layer it applies to.

    With `own`, a layer's own P (from its spec or --P-at) stands in for `part`; such a layer is named
    with its own value.
    """
    pinned = [c for c in replaced if own and c.P is not None and not (option == "G" and c.P == "N")
              and c.M % layer_part(c.P, c)]
    if pinned:
        c = pinned[0]
        value = f"N (its output depth {c.N})" if c.P == "N" else c.P
        raise OptionError(f"{option}={value} set for layer {c.name} does not divide its input depth M={c.M}"
                          + (f" (and {len(pinned) - 1} more layer(s) with their own {option})"
                             if len(pinned) > 1 else ""))
    if own:
        replaced = [c for c in replaced if c.P is None]
    if part is None or part == "M":
        return
    bad = [conv for conv in replaced if conv.M % layer_part(part, conv)]
    if bad:
        big = [c for c in bad if isinstance(part, int) and part > c.M]
        if big:
            shown = ", ".join(f"{c.name} (M={c.M})" for c in big[:SHOWN_LAYERS])
            more = f" and {len(big) - SHOWN_LAYERS} more" if len(big) > SHOWN_LAYERS else ""
            raise OptionError(f"{option}={part} is larger than the input depth M of {len(big)} {what} "
                              f"layer(s) in {network.name}: {shown}{more}; {option} must divide every "
                              f"replaced layer's M (or use {option}=M)")
        value = part if part != "N" else "N (each layer's output depth)"
        shown = ", ".join(f"{c.name} (M={c.M}" + (f", N={c.N})" if part == "N" else ")") for c in bad[:SHOWN_LAYERS])
        more = f" and {len(bad) - SHOWN_LAYERS} more" if len(bad) > SHOWN_LAYERS else ""
        hint = (f"use {option}=M" + (", or --hetconv ratio, which scales each layer's standard count by eq. 5 "
                                     "and needs no divisor" if option == "P" else "")
                if part == "N" else f"use a divisor of every M, or {option}=M")
        raise OptionError(f"{option}={value} does not divide the input depth M of {len(bad)} {what} "
                          f"layer(s) in {network.name}: {shown}{more}; {option} must divide every "
                          f"replaced layer's M ({hint})")


Sums = tuple[int, int, int, int]  # flops, params, macs, depth


def _sum(pieces: Iterable[Piece], convention: Convention) -> Sums:
    flops = params = macs = depth = 0
    for piece in pieces:
        flops += convention.flops(piece)
        params += convention.param_count(piece)
        macs += piece.macs
        depth += piece.depth
    return flops, params, macs, depth


def _add(a: Sums, b: Sums) -> Sums:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3]


def _scaled(sums: Sums, ratio: Fraction) -> Sums:
    """Ratio accounting: counts times a closed-form ratio, rounded to the nearest integer."""
    flops, params, macs, depth = sums
    return round(flops * ratio), round(params * ratio), round(macs * ratio), depth


def hetconv_ratio(P: int, k2: int) -> Fraction:
    """Eq. 5 exactly: 1/P + (1 - 1/P)/K^2."""
    return Fraction(1, P) + Fraction(P - 1, P * k2)


def se_cost(channels: int, area: int, reduction: int) -> tuple[Piece, ...]:
    """Squeeze-and-Excitation on C channels (Hu et al.'s s = sigmoid(W2 relu(W1 z)), no biases):
    squeeze, FC C -> C/r, FC C/r -> C, scale."""
    hidden = max(channels // reduction, 1)
    return (Piece(macs=channels * hidden, weights=channels * hidden, act_elements=hidden, act_kind="relu",
                  se_ops=channels * area, depth=1),
            Piece(macs=channels * hidden, weights=channels * hidden, act_elements=channels, act_kind="sigmoid",
                  se_ops=channels * area, depth=1))


def analyze(arch: Any, P: Any = 4, G: Any = None, variants: Iterable[str] | str | None = None,
            convention: Convention | str | None = None, se: int | None = None, by: str = "layer", *,
            P_at: Any = None, input_shape: Any = None, strict: bool = False, device: Any = None,
            dtype: str | None = None, batch: int | None = None, hetconv_impl: str = "fused",
            traffic: bool | None = None, **convention_options: Any) -> Report:
    """Cost every variant of `arch`: a built-in name, a YAML or .onnx path, a spec dict, a Network, or a
    torch module (with `input_shape`, e.g. (3, 224, 224)).

    P: HetConv part, an integer, "M" (each layer's input depth, the paper's PC) or "N" (its output depth).
    P_at: per-layer parts, {"pattern": P} or "pattern=P" items (shell-style patterns on layer names;
    P "off" keeps a layer standard), applied after the network's own `P:` / `replace:` (see overrides.py).
    strict: an ONNX op or torch layer hetcalc cannot count is an error instead of a warning.
    G: GWC+PWC groups; defaults to P. se: add Squeeze-and-Excitation with this reduction ratio after every
    convolution outside residual blocks and once per residual block. Other keyword options build a
    `Convention`. by: "layer" (one row per layer) or "stage" (one per stage or block, `Report.by_stage`).

    device: a built-in name, a saved profile's name, a profile path or a `Device`: adds predicted time
    (docs/time-model.md). dtype ("fp32", "fp16", "bf16", "int8"; default fp32) and batch (default 1) set
    the memory traffic; traffic (bytes, intensity) is computed with a device, a dtype or a batch, or
    traffic=True. hetconv_impl: how HetConv runs ("fused", "split" or "masked").
    """
    if by not in ("layer", "stage"):
        raise OptionError(f"by must be 'layer' or 'stage', got {by!r}")
    timed = device is not None or dtype is not None or batch is not None or bool(traffic)
    if timed:
        from hetcalc.timing.traffic import check_batch, check_dtype, check_impl

        dtype, batch = check_dtype(dtype or "fp32"), check_batch(1 if batch is None else batch)
        hetconv_impl = check_impl(hetconv_impl)
        if device is not None:
            from hetcalc.timing.devices import resolve_device

            device = resolve_device(device)
            device.peak(dtype)  # refuse a dtype the device has no peak for, before any work
    enabled = gc.isenabled()
    gc.disable()  # it builds many small acyclic objects: collector passes over the growing heap are superlinear
    try:
        report = _analyze(arch, P, G, variants, convention, se, convention_options, P_at, input_shape, strict)
        if timed:
            from hetcalc.analysis.timed import attach

            report = attach(report, device, dtype, batch, hetconv_impl)
        return report.by_stage() if by == "stage" else report
    finally:
        if enabled:
            gc.enable()


def make_convention(convention: Any, options: dict) -> Convention:
    """The Convention of an API call: the one given, a preset's name with the replacement fields as keywords
    (convention="fvcore", replace_first=True), or one built from keyword options (not both)."""
    if isinstance(convention, str):
        from hetcalc.counting.presets import preset_convention

        known = Convention.__dataclass_fields__
        unknown = [k for k in options if k not in known]
        if unknown:
            raise OptionError(f"unknown option {unknown[0]!r} (known: {', '.join(known)})")
        return preset_convention(convention, **options)
    if convention is not None:
        if not isinstance(convention, Convention):
            raise OptionError(f"convention must be a hetcalc.Convention or a preset's name, got {convention!r}")
        if options:
            raise OptionError(f"give either convention= or its fields as keywords, not both "
                              f"(got {', '.join(sorted(options))})")
        return convention
    known = Convention.__dataclass_fields__
    unknown = [k for k in options if k not in known]
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r} (known: {', '.join(known)})")
    return Convention(**options)


def _analyze(arch, P, G, variants, convention, se, convention_options, P_at=None, input_shape=None,
             strict=False) -> Report:
    network = resolve(arch, input_shape=input_shape, strict=strict)
    if P_at:
        from hetcalc.analysis.overrides import apply_parts

        network = apply_parts(network, P_at)
    convention = make_convention(convention, convention_options)
    keys = parse_variants(variants)
    part_p = parse_part(P, "P")
    # G defaults to P; a per-layer P = N cannot be a group count (it need not divide M), so G = M then
    part_g = parse_part(G, "G") if G is not None else ("M" if part_p == "N" else part_p)
    if part_p is None and "hetconv" in keys:
        raise OptionError("P is needed for the hetconv variant")
    if part_g is None and "gwc_pwc" in keys:
        raise OptionError("G is needed for the gwc_pwc variant")
    if se is not None and (isinstance(se, bool) or not isinstance(se, int) or se < 1):
        raise OptionError(f"SE reduction ratio must be a positive integer, got {se!r}")

    layers = network.layers
    convs = network.convs
    first = convs[0] if convs else None
    replaced_flags = [isinstance(layer, Conv) and is_replaced(layer, layer is first, convention)
                      for layer in layers]
    replaced = [layer for layer, flag in zip(layers, replaced_flags) if flag]
    ratio_k2 = max((c.kernel[0] * c.kernel[1] for c in replaced), default=9)
    ratio_flags = [flag or (convention.ratio_1x1 and isinstance(layer, Conv) and layer.K == 1
                            and layer.groups == 1 and layer.replace is not False
                            and (layer is not first or convention.replace_first))
                   for layer, flag in zip(layers, replaced_flags)]
    # a layer's own P is its HetConv part and, when G is not given, its GWC+PWC groups
    g_own = G is None
    if "hetconv" in keys and convention.hetconv == "exact":
        check_part(network, replaced, part_p, "P", "HetConv")
    if "gwc_pwc" in keys:
        check_part(network, replaced, part_g, "G", "GWC+PWC", own=g_own)

    memo: dict = {}  # layers of the same kind and shapes cost the same: count each kind once
    std_memo: dict = {}

    def kind_of(layer):
        """Every field but the name, the spec location and the edges (only their number counts): layers of
        one kind cost the same in every variant. None for a layer with an unhashable field."""
        fields = _COST_FIELDS.get(type(layer))
        if fields is None:
            fields = _COST_FIELDS[type(layer)] = _cost_fields(type(layer))
        kind = (type(layer), len(getattr(layer, "inputs", ())), fields(layer.__dict__))
        try:
            return kind_ids.setdefault(kind, len(kind_ids))  # a small int: hashed once, not per lookup
        except TypeError:
            return None

    def std_of(layer, kind):
        if kind is None:
            return _sum(fixed_cost(layer), convention)
        hit = std_memo.get(kind)
        if hit is None:
            hit = std_memo[kind] = _sum(fixed_cost(layer), convention)
        return hit

    kind_ids: dict = {}
    kinds = [kind_of(layer) for layer in layers]
    std_sums = [std_of(layer, kind) for layer, kind in zip(layers, kinds)]
    trunk = network.trunk() if se else set()
    se_sums = [_sum(se_cost(layer.out_shape[0], layer.out_shape[1] * layer.out_shape[2], se), convention)
               if se and ((isinstance(layer, Conv) and i in trunk) or isinstance(layer, Add))
               else (0, 0, 0, 0) for i, layer in enumerate(layers)]
    std_rows = [(False, "standard" if isinstance(layer, Conv) else layer.kind, _add(std, extra) if se else std,
                 std[0] + extra[0], None) for layer, std, extra in zip(layers, std_sums, se_sums)]
    std_depths = [row[2][3] for row in std_rows]
    std_totals = (sum(row[2][0] for row in std_rows), sum(row[2][1] for row in std_rows),
                  sum(row[2][2] for row in std_rows), network.longest_path(std_depths))
    parts = {"standard": None, "hetconv": part_p, "gwc_pwc": part_g, "dwc_pwc": None}
    own_parts = any(c.P is not None for c in replaced)  # some replaced layers have their own P

    def rebuilt_row(key, part, layer, std, extra):
        """A replaced layer's row under variant `key`: (replaced, realization, sums, standard FLOPs, closed form)."""
        ctype = CONV_TYPES[key]
        own = layer.P if (key == "hetconv" or (key == "gwc_pwc" and g_own)) else None
        if key == "gwc_pwc" and own == "N":  # as for --P N: a group count must divide M
            own = "M"
        p = None if key == "dwc_pwc" else layer_part(own if own is not None else part, layer)
        if key == "hetconv" and convention.hetconv == "ratio":
            ratio = hetconv_ratio(p, ratio_k2 if layer.K == 1 else layer.kernel[0] * layer.kernel[1])
            sums, closed = _scaled(std, ratio), float(ratio)
        else:
            kind = (key, p, layer.in_shape, layer.out_shape, layer.kernel, layer.groups, layer.bias,
                    layer.bn, layer.act)
            if kind not in memo:
                pieces = ctype.cost(layer, p)
                if key != "hetconv" and not convention.pointwise_bias:
                    pieces = (*pieces[:-1], replace(pieces[-1], biases=0, bias_adds=0))
                memo[kind] = _sum(pieces, convention), ctype.closed_form(layer, p)
            sums, closed = memo[kind]
        tag = key + (f" {ctype.part}={p}" if ctype.part else "")
        return (True, tag, _add(sums, extra) if se else sums, std[0] + extra[0], closed)

    results = []
    for key in ("standard", *[k for k in keys if k != "standard"]):
        part = parts[key]
        flags = ratio_flags if key == "hetconv" and convention.hetconv == "ratio" else replaced_flags
        flops, params, macs, depth = std_totals
        if key == "standard":  # a layer no variant rebuilds has the same row in every variant
            rows, rebuilt = std_rows, []
        else:
            rows = list(std_rows)
            depths = None
            rebuilt = [i for i, flag in enumerate(flags) if flag]
            row_of: dict = {}  # rebuilt layers of one kind get the same row
            for i in rebuilt:
                row_key = None if kinds[i] is None else (kinds[i], se_sums[i]) if se else kinds[i]
                row = row_of.get(row_key) if row_key is not None else None
                if row is None:
                    row = rebuilt_row(key, part, layers[i], std_sums[i], se_sums[i])
                    if row_key is not None:
                        row_of[row_key] = row
                before = rows[i][2]
                flops += row[2][0] - before[0]
                params += row[2][1] - before[1]
                macs += row[2][2] - before[2]
                if row[2][3] != before[3]:
                    if depths is None:
                        depths = list(std_depths)
                    depths[i] = row[2][3]
                rows[i] = row
            if depths is not None:  # the rebuilt layers are deeper: the longest path may change
                depth = network.longest_path(depths)
        s_flops, s_params, _, s_depth = std_totals
        results.append(VariantResult(
            variant=key, label=_label(key, part, own_parts and (key == "hetconv" or (key == "gwc_pwc" and g_own))),
            P=part_p if key == "hetconv" else None,
            G=part_g if key == "gwc_pwc" else ("M" if key == "dwc_pwc" else None),
            flops=flops, params=params, macs=macs, latency_depth=depth, added_latency=depth - s_depth,
            speedup=s_flops / flops if flops else float("inf"),
            flops_reduction=100.0 * (s_flops - flops) / s_flops if s_flops else 0.0,
            params_reduction=100.0 * (s_params - params) / s_params if s_params else 0.0,
            replaced_layers=len(rebuilt), layers=LayerRows(layers, rows)))
    chosen = tuple(r for r in results if r.variant in keys)
    return Report(architecture=network.name, title=network.title, source=network.source,
                  input=network.input, convention=convention, variants=chosen, network=network, se=se,
                  baseline=results[0])


_COST_FIELDS: dict = {}


def _cost_fields(cls):
    """A function from a layer's field dict to the values its cost can depend on: all but its name, its
    place in the spec and its edges (counted by number)."""
    from operator import itemgetter

    names = [name for name in cls.__dataclass_fields__ if name not in ("name", "where", "inputs")]
    return itemgetter(*names) if names else (lambda fields: ())


def _label(key: str, part: Part, per_layer: bool = False) -> str:
    ctype = CONV_TYPES[key]
    if ctype.part and part is not None:
        return f"{ctype.label} ({ctype.part}={part}{', per-layer' if per_layer else ''})"
    return ctype.label


class LayerRows(Sequence):
    """A variant's per-layer results, an immutable sequence of LayerResult built on access.

    The analysis keeps one small row per layer (shared between variants where a layer is not rebuilt);
    a 100,000-layer network's four variants would otherwise hold 400,000 LayerResult objects that a
    summary never reads. Indexing, slicing, iteration and equality behave as for a tuple.
    """

    __slots__ = ("_layers", "_rows")

    def __init__(self, layers, rows) -> None:
        self._layers = layers
        self._rows = rows

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self._rows))))
        row = self._rows[index]
        return _layer_result(_layer_facts(self._layers[index]), *row)

    def __iter__(self):
        for layer, row in zip(self._layers, self._rows):
            yield _layer_result(_layer_facts(layer), *row)

    def keyed(self, facts_cache: dict):
        """Each layer's name and a key: rows with equal keys are equal but for their names (`by_key` builds
        one back). `facts_cache` keeps the per-layer part between the variants of one report."""
        facts = facts_cache.get(id(self._layers))
        if facts is None:
            facts = [tuple(_layer_facts(layer).values())[1:] for layer in self._layers]
            facts_cache[id(self._layers)] = facts
        for layer, fact, row in zip(self._layers, facts, self._rows):
            yield layer.name, (fact, row)

    @staticmethod
    def by_key(key, name: str) -> LayerResult:
        """The LayerResult of a `keyed` key under `name`."""
        fact, row = key
        return _layer_result(dict(zip(_FACT_NAMES, (name, *fact))), *row)

    def __eq__(self, other) -> bool:
        if isinstance(other, LayerRows):
            return self._rows == other._rows and (self._layers is other._layers or tuple(self) == tuple(other))
        if isinstance(other, (tuple, list)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))

    def __repr__(self) -> str:
        return f"LayerRows({len(self)} layers)"


_FACT_NAMES = ("name", "kind", "M", "N", "K", "stride", "out", "kernel", "strides", "groups")


def _layer_facts(layer) -> dict:
    """The fields of a layer's result that every variant shares."""
    conv = isinstance(layer, Conv)
    return dict(name=layer.name, kind=layer.kind,
                M=layer.in_features if isinstance(layer, Linear) else layer.in_shape[0], N=layer.out_shape[0],
                K=layer.K if conv else None, stride=layer.stride[0] if conv else None,
                out=(layer.out_shape[1], layer.out_shape[2]), kernel=layer.kernel if conv else None,
                strides=layer.stride if conv else None, groups=layer.groups if conv else None)


def _layer_result(facts: dict, replaced: bool, tag: str, sums, std_flops: int, closed) -> LayerResult:
    flops, params, macs, depth = sums
    return LayerResult(**facts, replaced=replaced, realization=tag, flops=flops, params=params, macs=macs,
                       depth=depth, ratio=(flops / std_flops) if (replaced and std_flops) else None,
                       closed_form=closed)
