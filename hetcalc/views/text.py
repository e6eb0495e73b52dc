"""Grids and Documents as text: plain aligned text for pipes and files, styled rich Text fitted to a terminal.

rich is imported inside the functions: piped, a table needs only rich.text (no console, no rich Table).
"""

from __future__ import annotations

from hetcalc.views.grid import Grid, cell, cell_width, fit, hidden_note, natural_width


def _layout(grid: Grid) -> tuple[str, str, list[str], str | None]:
    """A Grid's lines as aligned text: title, header, body rows and total (or None); no trailing spaces."""
    lines = [[cell(c.header) for c in grid.columns], *[[cell(c) for c in row] for row in grid.rows],
             *([[cell(c) for c in grid.total]] if grid.total else [])]
    widths = [max(cell_width(line[i]) for line in lines) for i in range(len(grid.columns))]

    def aligned(cells) -> str:
        return "  ".join(_pad(text, w, col.justify) for text, w, col in zip(cells, widths, grid.columns)).rstrip()

    body = lines[1:len(lines) - (1 if grid.total else 0)]
    return (cell(grid.title), aligned(lines[0]), [aligned(row) for row in body],
            aligned(lines[-1]) if grid.total else None)


def _pad(text: str, width: int, justify: str) -> str:
    gap = " " * (width - cell_width(text))
    return text + gap if justify == "left" else gap + text


def _rule_width(header: str, body: list[str], total: str | None) -> int:
    return max(cell_width(line) for line in [header, *body, *([total] if total else [])])


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
    table = Table(title=Text(cell(grid.title)), box=box.SIMPLE_HEAD, title_justify="left",
                  show_footer=grid.total is not None, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    for i, col in enumerate(grid.columns):
        footer = Text(cell(grid.total[i])) if grid.total else ""
        words = wrap and col.justify == "left" and not col.shrink
        table.add_column(Text(cell(col.header)), justify=col.justify, footer=footer, no_wrap=not words,
                         overflow="fold" if words else "ellipsis")
    for row in grid.rows:
        table.add_row(*(Text(cell(text)) for text in row))
    return table


def to_rich(grid: Grid, ascii_only: bool = False, wide: bool = False):
    """A rich renderable for a Grid: a table fitted to the console (every column with `wide`), or with
    ascii_only the plain text of `to_text`."""
    from rich.text import Text

    if ascii_only:
        return Text(to_text(grid), no_wrap=True, overflow="ignore")
    return FittedTable(grid, wide)


PROSE_WIDTH = 80  # header lines and notes, piped or on a terminal: the same lines at 80 columns and up


def _wrap(text: str) -> list[str]:
    """A line of prose as lines of at most PROSE_WIDTH columns, continuations indented two spaces (a
    narrower terminal wraps them again)."""
    if len(text) <= PROSE_WIDTH:
        return [text]
    import textwrap

    return textwrap.wrap(text, PROSE_WIDTH, subsequent_indent="  ", break_long_words=False,
                         break_on_hyphens=False) or [text]


def renderables(doc, ascii_only: bool = False, wide: bool = False) -> list:
    """A Document (hetcalc.views.document) for a rich Console: header lines (the first in bold), each grid
    with its notes, the detail lines as they are, then the footer lines in bold."""
    from rich.text import Text

    def prose(text: str, style: str) -> list:
        return [Text(piece, style=style) for piece in _wrap(cell(text))]

    lines = doc.lines
    items: list = [*prose(lines[0], "bold"), *[t for line in lines[1:] for t in prose(line, "dim")]] if lines else []
    for grid in doc.grids:
        if items:
            items.append(Text(""))
        items.append(to_rich(grid, ascii_only, wide))
        if grid.notes:
            items += [Text(""), *[t for note in grid.notes for t in prose(note, "dim")]]
    items += [Text(line) for line in doc.details]
    if doc.footer:
        items += [Text(""), *[t for line in doc.footer for t in prose(line, "bold")]]
    return items


def render_text(items, width: int = 400) -> str:
    """Renderables as plain text (no colour, no trailing spaces): for pipes, files and golden tests.

    Text is taken as it is; a console (rich.console, a few milliseconds to import) is made only for
    anything else, such as a rich Table."""
    from rich.text import Text

    lines: list[str] = []
    con = None
    for item in items:
        if isinstance(item, Text):  # the common case, rendered directly: it is much faster
            lines += item.plain.split("\n")
            continue
        if con is None:
            import io

            from rich.console import Console

            buf = io.StringIO()
            con = Console(file=buf, width=width, color_system=None, highlight=False, emoji=False,
                          soft_wrap=False, force_terminal=False)
        con.print(item)
        lines += buf.getvalue().splitlines()
        buf.seek(0)
        buf.truncate()
    return "\n".join(line.rstrip() for line in lines) + "\n"


def render(doc) -> str:
    """A Document as the plain text a table command prints when piped (the `table` format)."""
    return render_text(renderables(doc, ascii_only=True))
