"""Report -> table data (`Grid`s) -> rich Table, Markdown or LaTeX. Nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import formatting as fmt
from .costs import CONV_TYPES
from .report import Report


@dataclass(frozen=True)
class Column:
    header: str
    justify: str = "right"  # "left" | "right"


@dataclass
class Grid:
    """A table as plain strings: the one source for every rendered form."""

    title: str
    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    total: list[str] | None = None
    notes: list[str] = field(default_factory=list)


def header_lines(report: Report) -> list[str]:
    """What was analyzed and the counting rules in force, one line each."""
    parts = [(CONV_TYPES[v.variant].part, v) for v in report.variants if CONV_TYPES[v.variant].part]
    settings = ", ".join(f"{option}={getattr(v, option)}" for option, v in parts)
    head = f"{report.title} [{report.architecture}]  input {fmt.shape(report.input)}"
    if settings:
        head += f"  {settings}"
    lines = [head, f"spec: {report.source}", *report.convention.rules()]
    if report.dtype is not None:
        from .time_views import header_lines as time_header

        lines += time_header(report)
    if report.se:
        lines.append(f"Squeeze-and-Excitation (reduction {report.se}) after every convolution outside "
                     "residual blocks and once per residual block: FC C -> C/R -> C, no biases.")
    return lines


def _shown(layer_rows) -> bool:
    """Conv and FC rows always; pooling and additions only where they carry a cost."""
    return any(r.kind in ("conv", "fc") or r.flops or r.params for r in layer_rows)


def layer_grid(report: Report) -> Grid:
    """Per-layer FLOPs of each variant, with counted and closed-form ratios for replaced layers."""
    columns = [Column("layer", "left"), Column("M"), Column("N"), Column("K"), Column("s"), Column("out")]
    for v in report.variants:
        columns.append(Column(CONV_TYPES[v.variant].label))
        if v.variant != "standard":
            columns.append(Column(f"ratio ({CONV_TYPES[v.variant].ratio_equation})"))
    grid = Grid(title="Per-layer FLOPs", columns=columns)
    for i, first in enumerate(report.variants[0].layers):
        rows = [v.layers[i] for v in report.variants]
        if not _shown(rows):
            continue
        cells = [first.name + (" *" if any(r.replaced for r in rows) else ""), str(first.M), str(first.N),
                 "" if first.K is None else str(first.K), "" if first.stride is None else str(first.stride),
                 fmt.shape(first.out)]
        for v, r in zip(report.variants, rows):
            cells.append(fmt.si(r.flops))
            if v.variant != "standard":
                cells.append("" if r.ratio is None else f"{fmt.ratio(r.ratio)} ({fmt.ratio(r.closed_form)})")
        grid.rows.append(cells)
    grid.total = ["total", "", "", "", "", ""]
    for v in report.variants:
        grid.total.append(fmt.si(v.flops))
        if v.variant != "standard":
            grid.total.append(fmt.ratio(v.flops / report.standard.flops) if report.standard.flops else "")
    grid.notes = ["Replaced layers are marked with *. ratio: the layer's FLOPs over its standard FLOPs as "
                  "counted; in parentheses the paper's closed form (eq. 5, 11 or 7)."]
    return grid


def summary_grid(report: Report) -> Grid:
    """One row per variant: totals, reductions, speedup (eq. 9) and latency."""
    grid = Grid(title="Summary", columns=[
        Column("variant", "left"), Column("FLOPs"), Column("FLOPs red."), Column("speedup"), Column("params"),
        Column("params red."), Column("latency depth"), Column("added latency")])
    for v in report.variants:
        grid.rows.append([v.label, fmt.si(v.flops), fmt.percent(v.flops_reduction), fmt.speedup(v.speedup),
                          fmt.si(v.params), fmt.percent(v.params_reduction), str(v.latency_depth),
                          f"+{v.added_latency}"])
    grid.notes = ["speedup = standard FLOPs / variant FLOPs (eq. 9); latency depth = conv and FC layers on "
                  "the longest path; added latency = extra sequential layers against standard."]
    return grid


def report_grids(report: Report, per_layer: bool = True) -> list[Grid]:
    grids = [layer_grid(report), summary_grid(report)] if per_layer else [summary_grid(report)]
    if report.dtype is not None:  # memory traffic and predicted time (docs/time-model.md)
        from .time_views import time_grids

        grids += time_grids(report, per_layer)
    return grids


def to_text(grid: Grid) -> str:
    """A Grid as plain aligned text: title, header, rule, rows, rule, total (no trailing spaces)."""
    lines = [[_cell(c.header) for c in grid.columns], *[[_cell(c) for c in row] for row in grid.rows],
             *([[_cell(c) for c in grid.total]] if grid.total else [])]
    widths = [max(_width(line[i]) for line in lines) for i in range(len(grid.columns))]

    def fmt_line(cells) -> str:
        return "  ".join(_pad(cell, w, col.justify) for cell, w, col in zip(cells, widths, grid.columns)).rstrip()

    rule = "-" * (sum(widths) + 2 * (len(widths) - 1))
    body = lines[1:len(lines) - (1 if grid.total else 0)]
    out = [_cell(grid.title), "", fmt_line(lines[0]), rule, *[fmt_line(row) for row in body]]
    if grid.total:
        out += [rule, fmt_line(lines[-1])]
    return "\n".join(out)


def _cell(text: str) -> str:
    """A cell as shown: control characters and lone surrogates escaped (fmt.printable)."""
    return fmt.printable(str(text))


def _width(text: str) -> int:
    """Terminal columns a cell takes (wide East Asian characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


def _pad(cell: str, width: int, justify: str) -> str:
    gap = " " * (width - _width(cell))
    return cell + gap if justify == "left" else gap + cell


def to_rich(grid: Grid, ascii_only: bool = False):
    """A rich renderable for a Grid: a Table, or with ascii_only the plain text of `to_text`."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    if ascii_only:
        return Text(to_text(grid), no_wrap=True, overflow="ignore")
    # Text objects, not strings: names like "[resnet50]" are data, never rich markup
    table = Table(title=Text(_cell(grid.title)), box=box.SIMPLE_HEAD, title_justify="left",
                  show_footer=grid.total is not None, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    for i, col in enumerate(grid.columns):
        footer = Text(_cell(grid.total[i])) if grid.total else ""
        table.add_column(Text(_cell(col.header)), justify=col.justify, footer=footer, overflow="fold")
    for row in grid.rows:
        table.add_row(*(Text(_cell(cell)) for cell in row))
    return table


def document_renderables(lines: list[str], grids: list[Grid], ascii_only: bool = False,
                         footer: list[str] = ()) -> list:
    """Header lines (the first in bold), each grid with its notes, then footer lines: for a rich Console."""
    from rich.text import Text

    lines = [_cell(line) for line in lines]
    items: list = [Text(lines[0], style="bold"), *[Text(line, style="dim") for line in lines[1:]]] if lines else []
    for grid in grids:
        if items:
            items.append(Text(""))
        items += [to_rich(grid, ascii_only), Text(""), *[Text(_cell(note), style="dim") for note in grid.notes]]
    if footer:
        items += [Text(""), *[Text(_cell(line), style="bold") for line in footer]]
    return items


def document_markdown(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    """The same document in Markdown: the first header line as a heading, the others as a list."""
    lines = [_cell(line) for line in lines]
    out = [f"## {lines[0]}", "", *[f"- {line}" for line in lines[1:]], ""] if lines else []
    out += [to_markdown(grid) for grid in grids]
    return "\n".join([*out, *footer]) + ("\n" if footer else "")


def document_latex(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    """The same document in LaTeX: header and footer lines as comments, one table per grid."""
    out = ([f"% {_cell(line)}" for line in lines] + [to_latex(grid) for grid in grids]
           + [f"% {_cell(line)}" for line in footer])
    return "\n".join(out) + ("\n" if footer else "")


def report_renderables(report: Report, per_layer: bool = True, ascii_only: bool = False) -> list:
    """Header lines, tables and notes of a report, ready for a rich Console."""
    return document_renderables(header_lines(report), report_grids(report, per_layer), ascii_only)


def render_text(renderables, width: int = 400) -> str:
    """Renderables as plain text (no colour, no trailing spaces): for pipes, files and golden tests."""
    import io

    from rich.console import Console
    from rich.text import Text

    lines: list[str] = []
    con = None
    for item in renderables:
        if isinstance(item, Text):  # the common case, rendered directly: it is much faster
            lines += item.plain.split("\n")
            continue
        if con is None:
            buf = io.StringIO()
            con = Console(file=buf, width=width, color_system=None, highlight=False, emoji=False,
                          soft_wrap=False, force_terminal=False)
        con.print(item)
        lines += buf.getvalue().splitlines()
        buf.seek(0)
        buf.truncate()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def to_markdown(grid: Grid) -> str:
    """A GitHub-flavoured Markdown table, with the title as a heading."""
    def line(cells):
        return "| " + " | ".join(_cell(c).replace("|", "\\|") for c in cells) + " |"

    out = [f"### {_cell(grid.title)}", "", line([c.header for c in grid.columns]),
           "|" + "|".join("---:" if c.justify == "right" else ":---" for c in grid.columns) + "|"]
    out += [line(row) for row in grid.rows]
    if grid.total:
        out.append(line([f"**{c}**" if c else "" for c in grid.total]))
    if grid.notes:
        out += ["", *map(_cell, grid.notes)]
    return "\n".join(out) + "\n"


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in _cell(text))


def to_latex(grid: Grid) -> str:
    """A booktabs tabular inside a table environment."""
    spec = "".join("r" if c.justify == "right" else "l" for c in grid.columns)

    def line(cells):
        return " & ".join(latex_escape(c) for c in cells) + r" \\"

    out = [r"\begin{table}[t]", r"\centering", f"\\caption{{{latex_escape(grid.title)}}}",
           f"\\begin{{tabular}}{{{spec}}}", r"\toprule", line([c.header for c in grid.columns]), r"\midrule"]
    out += [line(row) for row in grid.rows]
    if grid.total:
        out += [r"\midrule", line(grid.total)]
    out += [r"\bottomrule", r"\end{tabular}"]
    out += [f"% {_cell(note)}" for note in grid.notes]
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def checks_grids(checks) -> list[Grid]:
    """`hetcalc reproduce`: one grid per paper table, its convention in the title."""
    from .reproduce import SETUPS

    grids: dict[str, Grid] = {}
    for c in checks:
        if c.table not in grids:
            setup = SETUPS[c.table]
            label = f"Section {c.table}" if "." in c.table else f"Table {c.table}"
            grids[c.table] = Grid(
                title=f"{label}: {setup.title} [{setup.architecture}]",
                columns=[Column("row", "left"), Column("quantity", "left"), Column("paper"), Column("hetcalc"),
                         Column("computed"), Column("match", "left"), Column("reason", "left")],
                notes=[f"convention: {setup.note}"])
        exact = f"{c.computed:,}" if isinstance(c.computed, int) else f"{c.computed:.4f}"
        grids[c.table].rows.append([c.row, c.quantity, c.reported, c.shown, exact,
                                    "yes" if c.match else "NO", c.reason])
    return list(grids.values())


def checks_summary(checks) -> str:
    matched = sum(c.match for c in checks)
    return (f"{matched} of {len(checks)} printed figures reproduce at the paper's precision "
            f"(truncated or rounded); {len(checks) - matched} do not. Percentages beside printed totals "
            "are taken from totals at two decimals of the printed unit, as the paper computed them.")
