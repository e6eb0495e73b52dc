"""The analysis report as a Document: header lines, the per-layer (or per-stage) table, the summary and,
with a dtype, the traffic and time tables of time_views. Nothing here prints."""

from __future__ import annotations

from fractions import Fraction

from hetcalc.core import formatting as fmt
from hetcalc.convtypes import CONV_TYPES
from hetcalc.analysis.replace import kept_rule
from hetcalc.analysis.results import Report, costed
from hetcalc.views import time_views
from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid
from hetcalc.views.latex import latex_label


def header_lines(report: Report) -> list[str]:
    """What was analyzed and the counting rules in force, one line each."""
    settings = _settings(report)
    head = f"{report.title} [{report.architecture}]  input {fmt.shape(report.input)}"
    if settings:
        head += f"  {settings}"
    note = report.network.meta.get("note") if report.network is not None else None
    kept = kept_rule(report)
    lines = [head, f"spec: {report.source}", *([f"Note: {note}"] if note else []), *report.convention.rules(),
             *([kept] if kept else [])]
    lines += time_views.header_lines(report)  # none without a dtype
    if report.se:
        lines.append(f"Squeeze-and-Excitation (reduction {report.se}) after every convolution outside "
                     "residual blocks and once per residual block: FC C -> C/R -> C, no biases.")
    return lines


def _pair(values) -> str:
    """(3, 3) -> '3'; (1, 3) -> '1x3': a kernel or stride, both sides only when they differ."""
    if values is None:
        return ""
    return str(values[0]) if len(set(values)) == 1 else fmt.shape(values)


# Columns hidden first on a narrow terminal (see `fit`): the ratios (also in the summary and with --wide),
# then, after the headers are abbreviated, the output size, FLOPs share, groups, parameters, K and s, M and N.
RATIO, OUT, SHARE, GROUPS, PARAMS, KERNEL, DEPTHS = range(1, 8)


def layer_grid(report: Report) -> Grid:
    """Per-layer (or per-stage) FLOPs of each variant, with counted and closed-form ratios for replaced layers;
    the layer's kernel, stride, groups, standard parameters and share of the standard FLOPs."""
    stages = report.by != "layer"  # "stage" or "depth:N": rows that group layers
    base = report.standard
    if stages:  # a stage has no single kernel, stride or group count
        columns = [Column(time_views.row_noun(report), "left", shrink=True),
                   Column("layers", short="n", drop=KERNEL),
                   Column("M", drop=DEPTHS), Column("N", drop=DEPTHS)]
    else:
        columns = [Column("layer", "left", shrink=True), Column("M", drop=DEPTHS), Column("N", drop=DEPTHS),
                   Column("K", drop=KERNEL), Column("s", drop=KERNEL), Column("g", drop=GROUPS)]
    columns += [Column("output", short="out", drop=OUT, legend="out = output C x H x W"),
                Column("params", short="par", drop=PARAMS), Column("share", short="%", drop=SHARE)]
    fixed = len(columns)
    for v in report.variants:
        ctype = CONV_TYPES[v.variant]
        columns.append(Column(ctype.label, short=ctype.short or None,
                              legend=f"{ctype.short} = {ctype.label} FLOPs" if ctype.short else None))
        if v.variant != "standard":  # headed by its equation: unique without abbreviating
            columns.append(Column(f"ratio ({ctype.ratio_equation})", drop=RATIO))
    title = {"layer": "Per-layer FLOPs", "stage": "Per-stage FLOPs"}.get(report.by, f"FLOPs by name, {report.by}")
    grid = Grid(title=title + time_views.per_image(report), columns=columns)
    for i, first in enumerate(report.variants[0].layers):
        rows = [v.layers[i] for v in report.variants]
        if not costed(rows):
            continue
        std = base.layers[i]
        cells = [first.name + (" *" if any(r.replaced for r in rows) else "")]
        if stages:
            cells += [str(first.count), str(first.M), str(first.N)]
        else:
            cells += [str(first.M), str(first.N), _pair(first.kernel), _pair(first.strides),
                      "" if first.groups is None else str(first.groups)]
        cells += [fmt.shape((first.N, *first.out)), fmt.si(std.params),
                  fmt.percent(100 * std.flops / base.flops) if base.flops else ""]
        for v, r in zip(report.variants, rows):
            cells.append(fmt.si(r.flops))
            if v.variant != "standard":
                closed = "" if r.closed_form is None else f" ({fmt.ratio(r.closed_form)})"
                cells.append("" if r.ratio is None else fmt.ratio(Fraction(r.flops, std.flops)) + closed)
        grid.rows.append(cells)
    grid.total = ["total", *[""] * (fixed - 3), fmt.si(base.params), fmt.percent(100.0) if base.flops else ""]
    for v in report.variants:
        grid.total.append(fmt.si(v.flops))
        if v.variant != "standard":
            grid.total.append(fmt.ratio(Fraction(v.flops, base.flops)) if base.flops else "")
    what = (f"{'Stages' if report.by == 'stage' else 'Rows'} with a replaced layer are marked with *." if stages else
            "Replaced layers are marked with *. K, s: kernel and stride (h x w when they differ); g: groups; "
            "output: C x H x W.")
    grid.notes = [f"{what} params, share: the standard network's parameters and share of its FLOPs. ratio: FLOPs "
                  "over standard FLOPs as counted; in parentheses the paper's closed form (eq. 5, 11 or 7)."]
    scoped = any(layer.name.startswith("/") for layer in report.network.layers)
    if report.by.startswith("depth:"):
        n = int(report.by[6:])
        grid.notes.append(f"Each row groups the layers whose names share their first {n} dot-separated "
                          f"part{'s' if n > 1 else ''} (a layer with no more parts is its own row); layers: how many "
                          "it holds.")
    elif stages:
        grid.notes.append("A stage is the part of a layer's name before its first dot; layers without one are "
                          "grouped while their input resolution stays the same; layers: how many it holds."
                          + (" An ONNX node's stage is its top module, or a trunk's children where one top "
                             "module holds most layers (features.1)." if scoped else ""))
    return grid


def _closed_forms(v) -> str:
    """A variant's closed-form ratios (eq. 5, 11 or 7) over its replaced layers: one value or a range."""
    values = sorted({r.closed_form for r in v.layers if r.replaced and r.closed_form is not None})
    if not values:
        return ""
    low, high = fmt.ratio(values[0]), fmt.ratio(values[-1])
    return low if low == high else f"{low}-{high}"


def summary_grid(report: Report) -> Grid:
    """One row per variant: totals, reductions, speedup (eq. 9), latency and the closed-form ratio."""
    grid = Grid(title=f"Summary{time_views.per_image(report)}", columns=[
        Column("variant", "left", shrink=True), Column("FLOPs"),
        Column("FLOPs red.", short="red.", legend="red. = FLOPs reduction"), Column("speedup"), Column("params"),
        Column("params red.", short="par red.", drop=3, legend="par red. = params reduction"),
        Column("latency depth", short="depth"), Column("added latency", short="added", drop=2),
        Column("closed form", drop=4)])  # kept longest: it stands in for the ratios
    for v in report.variants:
        equation = CONV_TYPES[v.variant].ratio_equation
        closed = _closed_forms(v)
        grid.rows.append([v.label, fmt.si(v.flops), fmt.percent(v.flops_reduction), fmt.speedup(v.speedup),
                          fmt.si(v.params), fmt.percent(v.params_reduction), str(v.latency_depth),
                          f"+{v.added_latency}", f"{closed} ({equation})" if closed and equation else closed])
    grid.notes = ["speedup = standard FLOPs / variant FLOPs (eq. 9); latency depth = conv and FC layers on "
                  "the longest path; added latency = extra sequential layers against standard; closed form: "
                  "the paper's FLOPs ratio of the replaced layers (one value, or the range over them)."]
    return grid


def _settings(report: Report) -> str:
    """'P=4, G=4': the parts of the variants shown."""
    parts = [(CONV_TYPES[v.variant].part, v) for v in report.variants if CONV_TYPES[v.variant].part]
    return ", ".join(f"{option}={v.part}" for option, v in parts)


def report_grids(report: Report, per_layer: bool = True) -> list[Grid]:
    """The per-layer (or per-stage) table and the summary, captioned with the network and its P and G."""
    grids = [layer_grid(report), summary_grid(report)] if per_layer else [summary_grid(report)]
    grids += time_views.time_grids(report, per_layer)  # memory traffic and predicted time, if asked for
    settings = _settings(report)
    for grid in grids:
        grid.caption = f"{report.title}{', ' + settings if settings else ''}: {grid.title}"
        grid.label = latex_label(f"{report.architecture} {settings} {grid.title}")
    return grids


def report_document(report: Report, per_layer: bool = True) -> Document:
    """What `hetcalc ARCH` shows, in any format."""
    return Document(header_lines(report), report_grids(report, per_layer))
