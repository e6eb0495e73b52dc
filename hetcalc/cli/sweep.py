"""`hetcalc sweep`: every architecture x every P (and G) x the four variants, and target reductions.

The table view lists, per architecture, the valid part values (at most TABLE_ROWS of them unless
--all-rows: then the powers of two, the first and last valid value and the target's rows) and says how
many values were invalid and why; csv and json carry every value, each invalid one with its reason.
"""

from __future__ import annotations

import json
import re

import click

from .. import formatting as fmt
from ..errors import OptionError
from ..export import EXTENSIONS, FORMATS
from ..tables import Column, Grid, render_text, to_latex, to_markdown, to_rich
from .options import check_writable, convention_options, make_convention, output_option, show, write_atomic

TABLE_ROWS = 24
SWEEP_FIELDS = ("architecture", "variant", "P", "G", "valid", "reason", "flops", "params", "macs",
                "flops_reduction", "speedup", "params_reduction", "latency_depth", "added_latency")
TARGET_FIELDS = ("architecture", "variant", "target", "reached", "P", "G", "flops", "params", "macs",
                 "flops_reduction", "speedup", "params_reduction", "latency_depth", "added_latency")


@click.command("sweep")
@click.argument("archs", nargs=-1, metavar="[ARCH]...")
@click.option("--P", "P", default="1..1024", show_default=True, metavar="VALUES",
              help="HetConv parts to sweep: N, A..B (every integer), pow2:A..B (powers of two), "
                   "comma-separated, e.g. 1..16,pow2:32..1024.")
@click.option("--G", "G", default=None, metavar="VALUES",
              help="GWC+PWC groups to sweep, same syntax [default: the P values].")
@click.option("--target-reduction", "target", default=None, metavar="PCT",
              help="Report, per architecture, the smallest P (HetConv) and G (GWC+PWC) whose FLOPs "
                   "reduction against standard reaches PCT, e.g. 80%.")
@click.option("--all-rows", is_flag=True,
              help=f"Table: list every valid value [default: at most {TABLE_ROWS} rows per architecture].")
@click.option("--format", "fmt_name", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format [default: table, or from the -o file's extension].")
@output_option
@convention_options
def sweep(archs, P, G, target, all_rows, fmt_name, output, **convention_options):
    """Sweep P (and G) over ARCH... (default: every built-in architecture).

    Prints the totals of every architecture x every part value x the four variants. Values that do not
    divide every replaced layer's input depth M are marked invalid, with the reason. The table shows the
    valid values; csv and json carry every value. With --target-reduction, csv gives instead one row per
    architecture and variant: the smallest value reaching the target (or the best one, reached=False).

    Example:  hetcalc sweep resnet50 vgg16 --P 1..1024 --target-reduction 80%
    """
    from ..sweep import parse_target, sweep as run_sweep

    check_writable(output)
    name = (fmt_name or (EXTENSIONS.get(output.suffix.lower(), "table") if output else "table")).lower()
    goal = parse_target(target) if target is not None else None
    convention = make_convention(**convention_options)
    result = run_sweep(archs or None, P=P, G=G, convention=convention)
    if name == "table":
        if output is None:
            show(lambda ascii_only: sweep_renderables(result, goal, all_rows, ascii_only))
        else:
            write_atomic(output, render_text(sweep_renderables(result, goal, all_rows, ascii_only=True)))
        return
    if name == "json":
        text = sweep_json(result, goal)
    elif name == "csv":
        text = sweep_csv(result, goal)
    elif name == "markdown":
        text = "\n".join([*(f"- {line}" for line in header_lines(result, goal)), "",
                          *(to_markdown(g) for g in sweep_grids(result, goal, all_rows))])
    elif name == "latex":
        text = "\n".join([*(f"% {line}" for line in header_lines(result, goal)),
                          *(to_latex(g) for g in sweep_grids(result, goal, all_rows))])
    else:  # pragma: no cover - FORMATS is closed
        raise OptionError(f"unknown format {name!r}")
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)


# --------------------------------------------------------------------------- presentation

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
    valid = sorted(set(arch.hetconv.valid_values()) | set(arch.gwc_pwc.valid_values()))
    if all_rows or len(valid) <= TABLE_ROWS:
        return valid
    keep = {valid[0], valid[-1]} | {v for v in valid if v & (v - 1) == 0}
    keep |= {t.point.P if t.variant == "hetconv" else t.point.G
             for t in targets.values() if t.reached and t.variant != "dwc_pwc"}
    return sorted(keep)[:TABLE_ROWS] if len(keep) > TABLE_ROWS else sorted(keep)


def arch_grid(arch, goal=None, all_rows: bool = False) -> Grid:
    """One architecture: a row per shown part value, HetConv at P and GWC+PWC at G side by side."""
    targets = arch.smallest_part_for(goal) if goal is not None else {}
    marked = {t.variant: (t.point.P if t.variant == "hetconv" else t.point.G)
              for t in targets.values() if t.reached and t.variant != "dwc_pwc"}
    std, dwc = arch.standard, arch.dwc_pwc
    key = "P = G" if arch.hetconv.values == arch.gwc_pwc.values else "P, G"
    columns = [Column(key)]
    for label in ("HetConv", "GWC+PWC"):
        columns += [Column(f"{label} FLOPs"), Column("FLOPs red."), Column("speedup"), Column("params")]
    grid = Grid(title=f"{arch.architecture}: {arch.title}", columns=columns)
    index = {variant: {v: i for i, v in enumerate(getattr(arch, variant).values)}
             for variant in ("hetconv", "gwc_pwc")}
    shown = _shown_rows(arch, all_rows, targets)
    for value in shown:
        cells = [str(value)]
        for variant in ("hetconv", "gwc_pwc"):
            i = index[variant].get(value)
            point = arch.point(variant, i) if i is not None else None
            if point is None or not point.valid:
                cells += ["", "", "", ""]
                continue
            red = fmt.percent(point.flops_reduction) + (" *" if marked.get(variant) == value else "")
            cells += [fmt.si(point.flops), red, fmt.speedup(point.speedup), fmt.si(point.params)]
        grid.rows.append(cells)
    grid.notes = [f"standard: {fmt.si(std.flops)} FLOPs, {fmt.si(std.params)} params, latency depth "
                  f"{std.latency_depth}; DWC+PWC: {fmt.si(dwc.flops)} FLOPs "
                  f"({fmt.percent(dwc.flops_reduction)} red., {fmt.speedup(dwc.speedup)}), "
                  f"{fmt.si(dwc.params)} params, latency +{dwc.added_latency}; HetConv latency "
                  f"+{arch.hetconv.added_latency}, GWC+PWC +{arch.gwc_pwc.added_latency}."]
    valid_count = len(set(arch.hetconv.valid_values()) | set(arch.gwc_pwc.valid_values()))
    if len(shown) < valid_count:
        grid.notes.append(f"{len(shown)} of {valid_count} valid values shown (powers of two, first, last, "
                          "target); --all-rows, csv or json for every one.")
    for variant in ("hetconv", "gwc_pwc"):
        sweep = getattr(arch, variant)
        bad = [i for i, f in enumerate(sweep.flops) if f is None]
        if bad:
            grid.notes.append(f"{CONV_LABEL[variant]}: {len(bad)} of {len(sweep.values)} {sweep.option} values "
                              f"invalid ({sweep.option} must divide gcd(M) = {sweep.gcd}), e.g. "
                              f"{sweep.reasons[bad[0]]}; csv and json give each one's reason.")
    if marked:
        grid.notes.append(f"* smallest value reaching {float(goal):g}% FLOPs reduction.")
    return grid


CONV_LABEL = {"hetconv": "HetConv", "gwc_pwc": "GWC+PWC", "dwc_pwc": "DWC+PWC"}


def target_grid(result, goal) -> Grid:
    """Per architecture, the smallest P and G reaching the target, and whether DWC+PWC does."""
    columns = [Column("architecture", "left"), Column("HetConv P"), Column("FLOPs red."), Column("GWC+PWC G"),
               Column("FLOPs red."), Column("DWC+PWC red.")]
    grid = Grid(title=f"Smallest part reaching {float(goal):g}% FLOPs reduction", columns=columns)
    for arch in result.architectures:
        targets = arch.smallest_part_for(goal)
        cells = [arch.architecture]
        for variant in ("hetconv", "gwc_pwc"):
            t = targets[variant]
            if t.point is None:
                cells += ["no valid value", ""]
                continue
            value = t.point.P if variant == "hetconv" else t.point.G
            red = fmt.percent(t.point.flops_reduction)
            cells += [str(value), red] if t.reached else [f"not reached (best {value})", red]
        dwc = targets["dwc_pwc"]
        cells.append(fmt.percent(dwc.point.flops_reduction) + ("" if dwc.reached else " (not reached)"))
        grid.rows.append(cells)
    grid.notes = ["FLOPs reduction = 1 - variant FLOPs / standard FLOPs, over the swept valid values; "
                  "'best' is the valid value with the fewest FLOPs."]
    return grid


def sweep_grids(result, goal=None, all_rows: bool = False) -> list[Grid]:
    grids = [arch_grid(arch, goal, all_rows) for arch in result.architectures]
    if goal is not None:
        grids.append(target_grid(result, goal))
    return grids


def sweep_renderables(result, goal=None, all_rows: bool = False, ascii_only: bool = False) -> list:
    from rich.text import Text

    lines = header_lines(result, goal)
    items: list = [Text(lines[0], style="bold"), *[Text(line, style="dim") for line in lines[1:]]]
    for grid in sweep_grids(result, goal, all_rows):
        items += [Text(""), to_rich(grid, ascii_only), Text(""), *[Text(note, style="dim") for note in grid.notes]]
    return items


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
        for variant in ("hetconv", "gwc_pwc"):
            points = arch[variant]["points"]
            body = ",\n".join("          " + json.dumps(p) for p in points)
            arch[variant]["points"] = later("[\n" + body + "\n        ]" if points else "[]")
    text = json.dumps(data, indent=2)
    for i, piece in enumerate(inline):
        text = text.replace(f'"\\u0000inline{i}\\u0000"', piece, 1)
    return text + "\n"


def _cell(value):
    return "" if value is None else value


_SPECIAL = re.compile(r'[,"\r\n]')


def _field(value) -> str:
    """One CSV field as csv.writer writes it (minimal quoting); written by hand, thousands of rows at a time."""
    text = "" if value is None else str(value)
    return '"' + text.replace('"', '""') + '"' if _SPECIAL.search(text) else text


def _line(values) -> str:
    return ",".join(map(_field, values)) + "\n"


def sweep_csv(result, goal=None) -> str:
    """Every architecture x variant x value (exact integers), or with a goal one answer row per variant."""
    if goal is not None:
        lines = [_line(TARGET_FIELDS)]
        for t in result.smallest_part_for(goal):
            p = t.point
            head = [t.architecture, t.variant, float(goal), t.reached]
            lines.append(_line(head + ([getattr(p, f) for f in TARGET_FIELDS[4:]] if p else
                                       [None] * (len(TARGET_FIELDS) - 4))))
        return "".join(lines)
    lines = [_line(SWEEP_FIELDS)]
    for arch in result.architectures:
        name = _field(arch.architecture)
        for variant in ("standard", "hetconv", "gwc_pwc", "dwc_pwc"):
            if variant in ("standard", "dwc_pwc"):
                p = getattr(arch, variant)
                lines.append(_line(getattr(p, f) for f in SWEEP_FIELDS))
                continue
            sweep = getattr(arch, variant)
            tail = f",,,,,,,{sweep.latency_depth},{sweep.added_latency}\n"
            for i, value in enumerate(sweep.values):
                if sweep.flops[i] is None:
                    part = f"{value}," if variant == "hetconv" else f",{value}"
                    lines.append(f"{name},{variant},{part},False,{_field(sweep.reasons[i])}{tail}")
                else:
                    p = arch.point(variant, i)
                    lines.append(_line(getattr(p, f) for f in SWEEP_FIELDS))
    return "".join(lines)
