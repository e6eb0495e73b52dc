"""Report -> table data (`Grid`s) -> rich Table, Markdown or LaTeX. Nothing here prints."""

from __future__ import annotations

import re

from hetcalc.core import formatting as fmt
from hetcalc.convtypes.costs import CONV_TYPES
from hetcalc.analysis.report import Report, costed
from hetcalc.views.grid import GAP, MIN_SHRUNK, Column, Grid, fit, hidden_note, natural_width  # noqa: F401
from hetcalc.views.grid import cell as _cell, cell_width as _width


def header_lines(report: Report) -> list[str]:
    """What was analyzed and the counting rules in force, one line each."""
    settings = _settings(report)
    head = f"{report.title} [{report.architecture}]  input {fmt.shape(report.input)}"
    if settings:
        head += f"  {settings}"
    lines = [head, f"spec: {report.source}", *report.convention.rules()]
    if report.dtype is not None:
        from hetcalc.views.time_views import header_lines as time_header

        lines += time_header(report)
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
SHORT = {"standard": "std", "hetconv": "Het", "gwc_pwc": "GWC", "dwc_pwc": "DWC"}


def layer_grid(report: Report) -> Grid:
    """Per-layer (or per-stage) FLOPs of each variant, with counted and closed-form ratios for replaced layers;
    the layer's kernel, stride, groups, standard parameters and share of the standard FLOPs."""
    stages = report.by == "stage"
    base = report.standard
    if stages:  # a stage has no single kernel, stride or group count
        columns = [Column("stage", "left", shrink=True), Column("layers", short="n", drop=KERNEL),
                   Column("M", drop=DEPTHS), Column("N", drop=DEPTHS)]
    else:
        columns = [Column("layer", "left", shrink=True), Column("M", drop=DEPTHS), Column("N", drop=DEPTHS),
                   Column("K", drop=KERNEL), Column("s", drop=KERNEL), Column("g", drop=GROUPS)]
    columns += [Column("out", drop=OUT), Column("params", short="par", drop=PARAMS),
                Column("share", short="%", drop=SHARE)]
    fixed = len(columns)
    for v in report.variants:
        columns.append(Column(CONV_TYPES[v.variant].label, short=SHORT.get(v.variant)))
        if v.variant != "standard":
            columns.append(Column(f"ratio ({CONV_TYPES[v.variant].ratio_equation})", short="ratio", drop=RATIO))
    grid = Grid(title="Per-stage FLOPs" if stages else "Per-layer FLOPs", columns=columns)
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
        cells += [fmt.shape(first.out), fmt.si(std.params),
                  fmt.percent(100 * std.flops / base.flops) if base.flops else ""]
        for v, r in zip(report.variants, rows):
            cells.append(fmt.si(r.flops))
            if v.variant != "standard":
                closed = "" if r.closed_form is None else f" ({fmt.ratio(r.closed_form)})"
                cells.append("" if r.ratio is None else fmt.ratio(r.ratio) + closed)
        grid.rows.append(cells)
    grid.total = ["total", *[""] * (fixed - 3), fmt.si(base.params), fmt.percent(100.0) if base.flops else ""]
    for v in report.variants:
        grid.total.append(fmt.si(v.flops))
        if v.variant != "standard":
            grid.total.append(fmt.ratio(v.flops / base.flops) if base.flops else "")
    what = ("Stages with a replaced layer are marked with *." if stages else
            "Replaced layers are marked with *. K, s: kernel and stride (h x w when they differ); g: groups.")
    grid.notes = [f"{what} params, share: the standard network's parameters and share of its FLOPs. ratio: FLOPs "
                  "over standard FLOPs as counted; in parentheses the paper's closed form (eq. 5, 11 or 7)."]
    if stages:
        grid.notes.append("A stage is the part of a layer's name before its first dot; layers without one are "
                          "grouped while their input resolution stays the same; layers: how many it holds.")
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
    grid = Grid(title="Summary", columns=[
        Column("variant", "left", shrink=True), Column("FLOPs"), Column("FLOPs red.", short="red."),
        Column("speedup"), Column("params"), Column("params red.", short="red.", drop=3),
        Column("latency depth", short="depth"), Column("added latency", short="added", drop=2),
        Column("closed form", short="closed form", drop=4)])  # kept longest: it stands in for the ratios
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
    return ", ".join(f"{option}={getattr(v, option)}" for option, v in parts)


def report_grids(report: Report, per_layer: bool = True) -> list[Grid]:
    """The per-layer (or per-stage) table and the summary, captioned with the network and its P and G."""
    grids = [layer_grid(report), summary_grid(report)] if per_layer else [summary_grid(report)]
    if report.dtype is not None:  # memory traffic and predicted time (docs/time-model.md)
        from hetcalc.views.time_views import time_grids

        grids += time_grids(report, per_layer)
    settings = _settings(report)
    for grid in grids:
        grid.caption = f"{report.title}{', ' + settings if settings else ''}: {grid.title}"
        grid.label = latex_label(f"{report.architecture} {settings} {grid.title}")
    return grids


def _layout(grid: Grid) -> tuple[str, str, list[str], str | None]:
    """A Grid's lines as aligned text: title, header, body rows and total (or None); no trailing spaces."""
    lines = [[_cell(c.header) for c in grid.columns], *[[_cell(c) for c in row] for row in grid.rows],
             *([[_cell(c) for c in grid.total]] if grid.total else [])]
    widths = [max(_width(line[i]) for line in lines) for i in range(len(grid.columns))]

    def fmt_line(cells) -> str:
        return "  ".join(_pad(cell, w, col.justify) for cell, w, col in zip(cells, widths, grid.columns)).rstrip()

    body = lines[1:len(lines) - (1 if grid.total else 0)]
    return (_cell(grid.title), fmt_line(lines[0]), [fmt_line(row) for row in body],
            fmt_line(lines[-1]) if grid.total else None)


def _rule_width(header: str, body: list[str], total: str | None) -> int:
    return max(_width(line) for line in [header, *body, *([total] if total else [])])


def to_text(grid: Grid) -> str:
    """A Grid as plain aligned text: title, header, rule, rows, rule, total (no trailing spaces)."""
    title, header, body, total = _layout(grid)
    rule = "-" * _rule_width(header, body, total)
    out = [title, "", header, rule, *body]
    if total is not None:
        out += [rule, total]
    return "\n".join(out)


def to_terminal(grid: Grid):
    """A Grid as styled rich Text in the layout of `to_text`, looking as rich's own tables do (italic title,
    bold header and total, a ─ rule under the header, a blank line above the total).

    Not a rich Table: that measures every cell again on every render, about 100 ms for ResNet-50's tables
    on a terminal, where this takes a few milliseconds (docs/performance.md)."""
    from rich.text import Text

    title, header, body, total = _layout(grid)
    rule = "─" * _rule_width(header, body, total)
    text = Text(no_wrap=True, overflow="ignore", end="\n")
    text.append(title, style="italic")
    text.append("\n")
    text.append(header, style="bold")
    text.append("\n" + rule + "\n")
    text.append("\n".join(body))
    if total is not None:
        text.append("\n\n")
        text.append(total, style="bold")
    return text


def _pad(cell: str, width: int, justify: str) -> str:
    gap = " " * (width - _width(cell))
    return cell + gap if justify == "left" else gap + cell


class FittedTable:
    """A Grid as a rich Table that fits the console it is printed on: one line per row, no cell wrapped."""

    def __init__(self, grid: Grid, wide: bool = False):
        self.grid = grid
        self.wide = wide

    def __rich_console__(self, console, options):
        from rich.text import Text

        grid = self.grid
        hidden: list[str] = []
        if not self.wide:
            grid, hidden = fit(grid, options.max_width)
        if self.wide:  # rendered at its natural width: lines run past the window's edge, never wrap
            yield from console.render(to_terminal(grid), options.update(width=max(options.max_width,
                                                                                  natural_width(grid))))
        elif natural_width(grid) > options.max_width:  # nothing left to hide (a reason, a description):
            yield _rich_table(grid, wrap=True)  # rich's table wraps the text cells
        else:
            yield to_terminal(grid)
        if hidden:
            yield Text(hidden_note(hidden, options.max_width), style="dim")


def _rich_table(grid: Grid, wrap: bool = False):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Text objects, not strings: names like "[resnet50]" are data, never rich markup
    table = Table(title=Text(_cell(grid.title)), box=box.SIMPLE_HEAD, title_justify="left",
                  show_footer=grid.total is not None, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    for i, col in enumerate(grid.columns):
        footer = Text(_cell(grid.total[i])) if grid.total else ""
        words = wrap and col.justify == "left" and not col.shrink
        table.add_column(Text(_cell(col.header)), justify=col.justify, footer=footer, no_wrap=not words,
                         overflow="fold" if words else "ellipsis")
    for row in grid.rows:
        table.add_row(*(Text(_cell(cell)) for cell in row))
    return table


def to_rich(grid: Grid, ascii_only: bool = False, wide: bool = False):
    """A rich renderable for a Grid: a table fitted to the console (every column with `wide`), or with
    ascii_only the plain text of `to_text`."""
    from rich.text import Text

    if ascii_only:
        return Text(to_text(grid), no_wrap=True, overflow="ignore")
    return FittedTable(grid, wide)


def document_renderables(lines: list[str], grids: list[Grid], ascii_only: bool = False,
                         footer: list[str] = (), wide: bool = False) -> list:
    """Header lines (the first in bold), each grid with its notes, then footer lines: for a rich Console."""
    from rich.text import Text

    def prose(text: str, style: str) -> list:
        return [Text(piece, style=style) for piece in _wrap(_cell(text))]

    items: list = [*prose(lines[0], "bold"), *[t for line in lines[1:] for t in prose(line, "dim")]] if lines else []
    for grid in grids:
        if items:
            items.append(Text(""))
        items += [to_rich(grid, ascii_only, wide), Text(""), *[t for note in grid.notes for t in prose(note, "dim")]]
    if footer:
        items += [Text(""), *[t for line in footer for t in prose(line, "bold")]]
    return items


PROSE_WIDTH = 80  # header lines and notes, piped or on a terminal: the same lines at 80 columns and up


def _wrap(text: str) -> list[str]:
    """A line of prose as lines of at most PROSE_WIDTH columns, continuations indented two spaces (a
    narrower terminal wraps them again)."""
    if len(text) <= PROSE_WIDTH:
        return [text]
    import textwrap

    return textwrap.wrap(text, PROSE_WIDTH, subsequent_indent="  ", break_long_words=False,
                         break_on_hyphens=False) or [text]


def document_markdown(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    """The same document in Markdown: the first header line as a heading, the others as a list."""
    lines = [_cell(line) for line in lines]
    out = [f"## {lines[0]}", "", *[f"- {line}" for line in lines[1:]], ""] if lines else []
    out += [to_markdown(grid) for grid in grids]
    return "\n".join([*out, *footer]) + ("\n" if footer else "")


def document_latex(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    r"""The same document in LaTeX: header and footer lines as comments, one table per grid
    (needs \usepackage{booktabs,graphicx})."""
    out = ["% needs \\usepackage{booktabs,graphicx}", *[f"% {_cell(line)}" for line in lines],
           *[to_latex(grid) for grid in grids], *[f"% {_cell(line)}" for line in footer]]
    return "\n".join(out) + ("\n" if footer else "")


def report_renderables(report: Report, per_layer: bool = True, ascii_only: bool = False,
                       wide: bool = False) -> list:
    """Header lines, tables and notes of a report, ready for a rich Console."""
    return document_renderables(header_lines(report), report_grids(report, per_layer), ascii_only, wide=wide)


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


_TIMES = re.compile(r"^(\d+(?:\.\d+)?)x$|^\d+(?:x\d+)+$")


def latex_cell(cell: str) -> str:
    r"""A cell in LaTeX: escaped, with a speedup '2.96x' as 2.96$\times$ and a shape '32x32' as 32$\times$32."""
    match = _TIMES.match(cell)
    if match:
        return (match.group(1) + r"$\times$") if match.group(1) else cell.replace("x", r"$\times$")
    return latex_escape(cell)


def latex_label(text: str) -> str:
    r"""A \label key from free text: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_latex(grid: Grid) -> str:
    r"""A booktabs tabular inside a table environment, with caption and label, scaled down to the text
    width only when it is wider (graphicx's \resizebox)."""
    spec = "".join("r" if c.justify == "right" else "l" for c in grid.columns)

    def line(cells):
        return " & ".join(latex_cell(c) for c in cells) + r" \\"

    label = grid.label or latex_label(grid.title)
    out = [r"\begin{table}[t]", r"\centering", f"\\caption{{{latex_escape(grid.caption or grid.title)}}}",
           f"\\label{{tab:{label}}}",
           r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
           f"\\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(latex_escape(c.header) for c in grid.columns)
           + r" \\", r"\midrule"]
    out += [line(row) for row in grid.rows]
    if grid.total:
        out += [r"\midrule", line(grid.total)]
    out += [r"\bottomrule", r"\end{tabular}}"]
    out += [f"% {_cell(note)}" for note in grid.notes]
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def checks_grids(checks) -> list[Grid]:
    """`hetcalc reproduce`: one grid per paper table, its convention in the title."""
    from hetcalc.analysis.reproduce import SETUPS

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
    matched, total = sum(c.match for c in checks), len(checks)
    missed = total - matched
    return (f"{matched} of {total} printed figure{'' if total == 1 else 's'} "
            f"reproduce{'s' if matched == 1 else ''} at the paper's precision "
            f"(truncated or rounded); {missed} {'does' if missed == 1 else 'do'} not. Percentages beside printed totals "
            "are taken from totals at two decimals of the printed unit, as the paper computed them.")
