"""How a sweep is shown: table grids, JSON and CSV. Nothing here prints; `hetcalc sweep` does.

The table lists, per architecture, the valid part values (at most TABLE_ROWS of them unless all_rows:
then the powers of two, the first and last valid value and the target's rows) and says how many values
were invalid and why; csv and json carry every value, each invalid one with its reason.
"""

from __future__ import annotations

import json

from hetcalc.core import formatting as fmt
from hetcalc.analysis.sweep import fixed_types, swept_types
from hetcalc.convtypes import CONV_TYPES
from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid

TABLE_ROWS = 24
SWEEP_FIELDS = ("architecture", "variant", "P", "G", "valid", "reason", "flops", "params", "macs",
                "flops_reduction", "speedup", "params_reduction", "latency_depth", "added_latency")
TARGET_FIELDS = ("architecture", "variant", "target", "reached", "P", "G", "flops", "params", "macs",
                 "flops_reduction", "speedup", "params_reduction", "latency_depth", "added_latency")

def _describe(values: tuple[int, ...]) -> str:
    """1..1024 (1024 values) for a full range, else the values themselves (shortened)."""
    if len(values) > 2 and values[-1] - values[0] + 1 == len(values):
        return f"{values[0]}..{values[-1]} ({len(values)} values)"
    shown = ", ".join(map(str, values[:12])) + (", ..." if len(values) > 12 else "")
    return f"{shown} ({len(values)} value{'s' if len(values) != 1 else ''})"


def header_lines(result, goal=None) -> list[str]:
    """What was swept and the counting rules in force, one line each."""
    g = "G = P" if result.G_is_P else f"G in {_describe(result.G)}"
    head = f"Sweep of {len(result.architectures)} architecture(s): P in {_describe(result.P)}; {g}"
    if goal is not None:
        head += f"; target FLOPs reduction {float(goal):g}%"
    return [head, *result.convention.rules(),
            "A part value is valid when it divides the input depth M of every replaced layer."]


def _shown_rows(arch, all_rows: bool, targets) -> list[int]:
    """The part values a table lists for one architecture."""
    valid = sorted(set().union(*(sweep.valid_values() for sweep in arch.swept.values())))
    if all_rows or len(valid) <= TABLE_ROWS:
        return valid
    keep = {valid[0], valid[-1]} | {v for v in valid if v & (v - 1) == 0}
    keep |= {t.point.part for t in targets.values() if t.reached and t.variant in arch.swept}
    return sorted(keep)[:TABLE_ROWS] if len(keep) > TABLE_ROWS else sorted(keep)


def arch_grid(arch, goal=None, all_rows: bool = False) -> Grid:
    """One architecture: a row per shown part value, HetConv at P and GWC+PWC at G side by side."""
    targets = arch.smallest_part_for(goal) if goal is not None else {}
    marked = {t.variant: t.point.part for t in targets.values() if t.reached and t.variant in arch.swept}
    swept = arch.swept
    options = [sweep.option for sweep in swept.values()]
    same = len({sweep.values for sweep in swept.values()}) <= 1
    columns = [Column((" = " if same else ", ").join(options))]
    for variant in swept:  # a narrow terminal hides params, then speedup (it follows from the reduction)
        label, short = CONV_TYPES[variant].label, CONV_TYPES[variant].short or CONV_TYPES[variant].label
        columns += [Column(f"{label} FLOPs", short=short, legend=f"{short} = {label} FLOPs"),
                    Column(f"{short} FLOPs red.", short=f"{short} red.", legend="red. = FLOPs reduction"),
                    Column(f"{short} speedup", short=f"{short} x", drop=2, legend="x = speedup"),
                    Column(f"{short} params", short=f"{short} par", drop=1, legend="par = params")]
    grid = Grid(title=f"{arch.architecture}: {arch.title}", columns=columns)
    index = {variant: {v: i for i, v in enumerate(sweep.values)} for variant, sweep in swept.items()}
    shown = _shown_rows(arch, all_rows, targets)
    for value in shown:
        cells = [str(value)]
        for variant in swept:
            i = index[variant].get(value)
            point = arch.point(variant, i) if i is not None else None
            if point is None or not point.valid:
                cells += ["", "", "", ""]
                continue
            red = fmt.percent(point.flops_reduction) + (" *" if marked.get(variant) == value else "")
            cells += [fmt.si(point.flops), red, fmt.speedup(point.speedup), fmt.si(point.params)]
        grid.rows.append(cells)
    std = arch.standard
    fixed = "".join(f"; {p.label}: {fmt.si(p.flops)} FLOPs ({fmt.percent(p.flops_reduction)} red., "
                    f"{fmt.speedup(p.speedup)}), {fmt.si(p.params)} params, latency +{p.added_latency}"
                    for key, p in arch.fixed.items() if key != "standard")
    latency = ", ".join(f"{CONV_TYPES[variant].label}" + (" latency" if i == 0 else "") + f" +{sweep.added_latency}"
                        for i, (variant, sweep) in enumerate(swept.items()))
    grid.notes = [f"standard: {fmt.si(std.flops)} FLOPs, {fmt.si(std.params)} params, latency depth "
                  f"{std.latency_depth}{fixed}; {latency}."]
    valid_count = len(set().union(*(sweep.valid_values() for sweep in swept.values())))
    if len(shown) < valid_count:
        grid.notes.append(f"{len(shown)} of {valid_count} valid values shown (powers of two, first, last, "
                          "target); --all-rows, csv or json for every one.")
    for variant, sweep in swept.items():
        bad = [i for i, f in enumerate(sweep.flops) if f is None]
        if bad:
            grid.notes.append(f"{CONV_TYPES[variant].label}: {len(bad)} of {len(sweep.values)} {sweep.option} values "
                              f"invalid ({sweep.option} must divide gcd(M) = {sweep.gcd}), e.g. "
                              f"{sweep.reasons[bad[0]]}; csv and json give each one's reason.")
    if marked:
        grid.notes.append(f"* smallest value reaching {float(goal):g}% FLOPs reduction.")
    return grid


def target_grid(result, goal) -> Grid:
    """Per architecture, the smallest P and G reaching the target, and whether DWC+PWC does."""
    swept, fixed = swept_types(), [key for key in fixed_types() if key != "standard"]
    columns = [Column("architecture", "left")]
    for variant, option in swept.items():
        short = CONV_TYPES[variant].short or CONV_TYPES[variant].label
        columns += [Column(f"{CONV_TYPES[variant].label} {option}", short=f"{short} {option}",
                           legend=f"{short} = {CONV_TYPES[variant].label}"),
                    Column(f"{short} FLOPs red.", short=f"{short} red.", legend="red. = FLOPs reduction")]
    columns += [Column(f"{CONV_TYPES[variant].label} FLOPs red.", short=f"{CONV_TYPES[variant].short} red.",
                       legend=f"{CONV_TYPES[variant].short} = {CONV_TYPES[variant].label}") for variant in fixed]
    grid = Grid(title=f"Smallest part reaching {float(goal):g}% FLOPs reduction", columns=columns)
    for arch in result.architectures:
        targets = arch.smallest_part_for(goal)
        cells = [arch.architecture]
        for variant in swept:
            t = targets[variant]
            if t.point is None:
                cells += ["no valid value", ""]
                continue
            value = t.point.part
            red = fmt.percent(t.point.flops_reduction)
            cells += [str(value), red] if t.reached else [f"not reached (best {value})", red]
        for variant in fixed:
            t = targets[variant]
            cells.append(fmt.percent(t.point.flops_reduction) + ("" if t.reached else " (not reached)"))
        grid.rows.append(cells)
    grid.notes = ["FLOPs reduction = 1 - variant FLOPs / standard FLOPs, over the swept valid values; "
                  "'best' is the valid value with the fewest FLOPs."]
    return grid


def sweep_grids(result, goal=None, all_rows: bool = False) -> list[Grid]:
    grids = [arch_grid(arch, goal, all_rows) for arch in result.architectures]
    if goal is not None:
        grids.append(target_grid(result, goal))
    return grids


def sweep_document(result, goal=None, all_rows: bool = False) -> Document:
    """What `hetcalc sweep` shows: the header lines, a grid per architecture and, with a goal, the targets."""
    return Document(header_lines(result, goal), sweep_grids(result, goal, all_rows))


def sweep_json(result, goal=None) -> str:
    """The sweep as JSON: indented, with each point (and each value list) on one line, so thousands of
    points stay readable and quick to write."""
    data = result.to_dict(goal)
    inline: list[str] = []

    def later(text: str) -> str:
        inline.append(text)
        return f"\0inline{len(inline) - 1}\0"

    for key in ("P", "G"):
        if isinstance(data[key], list):
            data[key] = later(json.dumps(data[key]))
    for arch in data["architectures"]:
        for variant in swept_types():
            points = arch[variant]["points"]
            body = ",\n".join("          " + json.dumps(p) for p in points)
            arch[variant]["points"] = later("[\n" + body + "\n        ]" if points else "[]")
    text = json.dumps(data, indent=2)
    for i, piece in enumerate(inline):
        text = text.replace(f'"\\u0000inline{i}\\u0000"', piece, 1)
    return text + "\n"


def sweep_csv(result, goal=None) -> str:
    """Every architecture x variant x value (exact integers), or with a goal one answer row per variant."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if goal is not None:
        writer.writerow(TARGET_FIELDS)
        for t in result.smallest_part_for(goal):
            values = [getattr(t.point, f) for f in TARGET_FIELDS[4:]] if t.point else [None] * (len(TARGET_FIELDS) - 4)
            writer.writerow([fmt.csv_value(v) for v in (t.architecture, t.variant, float(goal), t.reached, *values)])
        return buf.getvalue()
    writer.writerow(SWEEP_FIELDS)
    for arch in result.architectures:
        for variant in CONV_TYPES:
            writer.writerows([fmt.csv_value(getattr(p, f)) for f in SWEEP_FIELDS] for p in arch.points(variant))
    return buf.getvalue()
