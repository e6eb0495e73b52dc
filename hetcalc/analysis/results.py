"""The results of an analysis: per-layer rows, per-variant totals and the `Report` that holds them."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from dataclasses import field, replace
from typing import Any, NamedTuple

from hetcalc.convtypes.parts import Part
from hetcalc.core.errors import OptionError
from hetcalc.core.records import Record, record
from hetcalc.counting.convention import Convention
from hetcalc.analysis.stages import depth_of, parse_by, stage_of
from hetcalc.network.graph import Conv, Linear, Network, path_depth

Sums = tuple[int, int, int, int]  # flops, params, macs, depth


class Row(NamedTuple):
    """One layer's counts under one variant, before the layer's own facts are joined in (`LayerRows`)."""

    replaced: bool
    realization: str  # "standard", "hetconv P=4", "fc", ...
    part: int | None  # the part this layer was built with (its own P or the run's), None if none
    sums: Sums
    std_flops: int  # the same layer's standard FLOPs (the ratio's denominator)
    closed_form: Fraction | None  # exact


# How a Report shows itself, filled by hetcalc.views.notebook (analysis never imports views): "text" (the
# summary, for str() and repr()), "table" (the command line's tables as text) and "html" (a notebook's view).
# DISPLAY_LOADERS load the module that fills it; the package root adds its loader (hetcalc/__init__.py).
DISPLAY: dict[str, Any] = {}
DISPLAY_LOADERS: list[Any] = []


def display(name: str):
    """The view registered as `name` in DISPLAY, its module loaded on first use."""
    if name not in DISPLAY:
        for load in DISPLAY_LOADERS:
            load()
    return DISPLAY[name]


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
    closed_form: Fraction | None  # the paper's closed-form ratio (eq. 5, 7 or 11) where replaced, exact
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
        if data["closed_form"] is not None:
            data["closed_form"] = float(data["closed_form"])
        for key in ("kernel", "strides"):
            if data[key] is not None:
                data[key] = list(data[key])
        return data

    @classmethod
    def aggregate(cls, name: str, rows: list, std_rows: list, depth: int) -> "LayerResult":
        """One row for `rows` (a stage): counts summed, `depth` its share of the longest path."""
        flops = sum(r.flops for r in rows)
        std_flops = sum(r.flops for r in std_rows)
        replaced = any(r.replaced for r in rows)
        closed = {r.closed_form for r in rows if r.replaced}
        tags = list(dict.fromkeys(r.realization for r in rows if r.kind in ("conv", "fc") or r.flops))
        return cls(
            name=name, kind="stage", M=rows[0].M, N=rows[-1].N, K=None, stride=None, out=rows[-1].out,
            replaced=replaced, realization=", ".join(tags), flops=flops, params=sum(r.params for r in rows),
            macs=sum(r.macs for r in rows), depth=depth,
            ratio=(flops / std_flops) if (replaced and std_flops) else None,
            closed_form=closed.pop() if len(closed) == 1 else None, count=len(rows), **_stage_time(rows))


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
    part: Part = field(default=None, repr=False)  # its type's part, whatever the option (P, G, a plug-in's S)

    def to_dict(self, layers: bool = True) -> dict:
        """The JSON object of one variant; `layers=False` leaves out its per-layer list (streamed exports)."""
        data = {k: v for k, v in self.__dict__.items()
                if k not in ("layers", "part") and (v is not None or k not in TIME_FIELDS)}
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
    mode: str | None = None  # with traffic: "eager" or "compiled" (timing/fusion.py)
    layout: str | None = None  # with traffic: "nchw" or "nhwc" (timing/layout.py)

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
        """The same report with one row per stage or block instead of one per layer (see analysis.stages)."""
        return stage_report(self)

    def by_depth(self, depth: int) -> "Report":
        """The same report with one row per name prefix of `depth` dot-separated parts (torchinfo's depth:
        1 stages, 2 blocks, ... at any level; see analysis.stages); counts summed, totals unchanged."""
        return self.grouped(f"depth:{depth}")

    def grouped(self, by: str) -> "Report":
        """The report by "layer" (itself, when it is per layer), "stage" or "depth:N"."""
        by = parse_by(by)
        if by == self.by or by == "layer" and self.by == "layer":
            return self
        if self.by != "layer":
            raise OptionError(f"a report by {self.by} cannot be regrouped by {by}: group the per-layer report")
        if by == "stage":
            return stage_report(self)
        base = self.baseline or self.standard
        return group_report(self, depth_of([r.name for r in base.layers], int(by[6:])), by)

    def table(self, by: str | None = None, width: int | None = None, per_layer: bool = True) -> str:
        """The tables `hetcalc ARCH` prints, as text: grouped `by` "layer", "stage" or "depth:N" (default: as
        the report is); fitted to `width` columns as on a terminal of that width (None: every column)."""
        return display("table")(self, by=by, width=width, per_layer=per_layer)

    def __str__(self) -> str:
        """The summary: what was analyzed and one row per variant (totals, reductions, speedup)."""
        return display("text")(self)

    def __repr__(self) -> str:  # a REPL's or notebook's plain view: the summary, not a dump of every field
        return display("text")(self)

    def _repr_html_(self) -> str:
        """Jupyter's view: the HTML report's summary and per-layer (or per-stage) tables."""
        return display("html")(self)

    def to_dict(self, layers: bool = True) -> dict:
        """The JSON object of docs/json.md; `layers=False` leaves out the per-layer lists."""
        return {"architecture": self.architecture, "title": self.title, "source": self.source,
                "input": list(self.input), "convention": self.convention.to_dict(), "se": self.se,
                "by": self.by, **self._time_dict(), "variants": [v.to_dict(layers) for v in self.variants]}

    def _time_dict(self) -> dict:
        if self.dtype is None:
            return {}
        data = {"dtype": self.dtype, "batch": self.batch, "hetconv_impl": self.hetconv_impl, "mode": self.mode,
                "layout": self.layout}
        if self.device is not None:
            data["device"] = {"name": self.device.name, "title": self.device.title,
                              "validated": self.device.validated, "source": self.device.where,
                              "channels_last": bool(self.device.channels_last)}
        return data


def costed(layer_rows) -> bool:
    """Whether one layer's rows (one per variant) carry a cost: conv and FC always; pooling, additions and the
    other layers only where the convention counts something for them. The one rule tables and figures share."""
    return any(r.kind in ("conv", "fc") or r.flops or r.params for r in layer_rows)


def costed_layers(report: "Report") -> list[int]:
    """Indices of the layers of `report` that carry a cost (`costed`)."""
    return [i for i, rows in enumerate(zip(*(v.layers for v in report.variants))) if costed(rows)]


class LayerRows(Sequence):
    """A variant's per-layer results, an immutable sequence of LayerResult built on access.

    The analysis keeps one small row per layer (shared between variants where a layer is not rebuilt);
    a 100,000-layer network's four variants would otherwise hold 400,000 LayerResult objects that a
    summary never reads. Up to KEPT_UP_TO layers, the LayerResults are kept once built: the command line's
    tables read each variant's layers a dozen times, and building them anew was half its time after
    reading a DenseNet. Indexing, slicing, iteration and equality behave as for a tuple.
    """

    __slots__ = ("_layers", "_rows", "_built")
    KEPT_UP_TO = 10_000

    def __init__(self, layers, rows) -> None:
        self._layers = layers
        self._rows = rows
        self._built = None

    def __len__(self) -> int:
        return len(self._rows)

    def __getitem__(self, index):
        if self._built is not None:
            return self._built[index]
        if isinstance(index, slice):
            return tuple(self[i] for i in range(*index.indices(len(self._rows))))
        return _layer_result(_layer_facts(self._layers[index]), self._rows[index])

    def __iter__(self):
        if self._built is not None:
            return iter(self._built)
        built = (_layer_result(_layer_facts(layer), row) for layer, row in zip(self._layers, self._rows))
        if len(self._rows) > self.KEPT_UP_TO:
            return built
        self._built = tuple(built)
        return iter(self._built)

    def part(self, index: int) -> int | None:
        """The part layer `index` was built with (its own P or the run's; None when not rebuilt)."""
        return self._rows[index].part

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
        return _layer_result(dict(zip(_FACT_NAMES, (name, *fact))), row)

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
                M=layer.in_features if isinstance(layer, Linear) else layer.in_shape[0],
                N=layer.out_features if isinstance(layer, Linear) else layer.out_shape[0],
                K=layer.K if conv else None, stride=layer.stride[0] if conv else None,
                out=(layer.out_shape[1], layer.out_shape[2]), kernel=layer.kernel if conv else None,
                strides=layer.stride if conv else None, groups=layer.groups if conv else None)


def _layer_result(facts: dict, row: Row) -> LayerResult:
    flops, params, macs, depth = row.sums
    return LayerResult(**facts, replaced=row.replaced, realization=row.realization, flops=flops, params=params,
                       macs=macs, depth=depth,
                       ratio=(flops / row.std_flops) if (row.replaced and row.std_flops) else None,
                       closed_form=row.closed_form)


def _stage_time(rows: list[LayerResult]) -> dict:
    """Traffic and predicted time of a stage, when the report has them: bytes and time summed, intensity
    from the sums (2 FLOPs per MAC, as docs/time-model.md counts), the bound of its slowest layer."""
    if any(r.bytes is None for r in rows):
        return {}
    data = {"bytes": sum(r.bytes for r in rows)}
    data["intensity"] = 2 * sum(r.macs for r in rows) / data["bytes"] if data["bytes"] else None
    if all(r.time_s is not None for r in rows):
        data["time_s"] = sum(r.time_s for r in rows)
        data["bound"] = max(rows, key=lambda r: r.time_s).bound
    return data


def stage_report(report: "Report") -> "Report":
    """`report` with one row per stage: FLOPs, parameters and MACs summed, latency depth the stage's share
    of the longest path; totals unchanged."""
    if report.by == "stage":
        return report
    base = report.baseline or report.standard
    layers = list(base.layers)
    names = [r.name for r in layers]
    in_sizes = [tuple(report.input[1:]), *[r.out for r in layers[:-1]]]
    return group_report(report, stage_of(names, [r.kind for r in layers], in_sizes), "stage")


def group_report(report: "Report", stages: list[str], by: str) -> "Report":
    """`report` with one row per group (`stages[i]` is layer i's), in the order groups first appear."""
    base = report.baseline or report.standard
    members: dict[str, list[int]] = {}
    for i, s in enumerate(stages):
        members.setdefault(s, []).append(i)
    network = report.network

    base_layers = list(base.layers)  # built once: a report's layers may be built on access (LayerRows)

    def view(v: VariantResult) -> VariantResult:
        layers = base_layers if v is base else list(v.layers)
        rows = []
        for s, inside in members.items():
            if by != "stage" and len(inside) == 1 and layers[inside[0]].name == s:
                rows.append(layers[inside[0]])  # a layer that is its own group stays as it is
                continue
            depth = path_depth(network, lambda i: layers[i].depth if i in inside else 0) if len(inside) > 1 \
                else layers[inside[0]].depth
            rows.append(LayerResult.aggregate(s, [layers[i] for i in inside], [base_layers[i] for i in inside],
                                              depth))
        return replace(v, layers=tuple(rows))

    return replace(report, variants=tuple(view(v) for v in report.variants),
                   baseline=view(base) if report.baseline is not None else None, by=by)
