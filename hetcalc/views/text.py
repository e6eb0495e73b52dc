"""Grids and Documents as text: plain aligned text for pipes and files, styled rich Text fitted to a terminal.

rich is imported inside the functions: piped, a table needs only rich.text (no console, no rich Table).
"""

from __future__ import annotations

from hetcalc.views.grid import Grid, cell, cell_width, fit, hidden_note, natural_width, wraps


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


def to_terminal(grid: Grid, title: bool = True):
    """A Grid as styled rich Text in the layout of `to_text`, looking as rich's own tables do (italic title,
    bold header and total, a ─ rule under the header, a blank line above the total).

    Not a rich Table: that measures every cell again on every render, about 100 ms for ResNet-50's tables
    on a terminal, where this takes a few milliseconds (docs/performance.md)."""
    from rich.text import Text

    heading, header, body, total = _layout(grid)
    rule = "─" * _rule_width(header, body, total)
    text = Text(no_wrap=True, overflow="ignore", end="\n")
    if title:
        text.append(heading, style="italic")
        text.append("\n")
    text.append(header, style="bold")
    text.append("\n" + rule + "\n")
    text.append("\n".join(body))
    if total is not None:
        text.append("\n\n")
        text.append(total, style="bold")
    return text


class FittedTable:
    """A Grid as a rich renderable that fits the console it is printed on (`fit`): whole columns hidden, never
    a number cut; one line per row unless a running-text column (a reason, a description) has to wrap."""

    def __init__(self, grid: Grid, wide: bool = False):
        self.grid = grid
        self.wide = wide

    def __rich_console__(self, console, options):
        grid = self.grid
        hidden: list[str] = []
        width = options.max_width
        if not self.wide:
            grid, hidden = fit(grid, width)
            order = {c.header: i for i, c in enumerate(self.grid.columns)}
            hidden = sorted(hidden, key=lambda h: order.get(h, len(order)))  # as the table reads, left to right
        yield Prose(cell(grid.title), "italic")  # a long title wraps like prose
        if self.wide:  # rendered at its natural width: lines run past the window's edge, never wrap
            yield from console.render(to_terminal(grid, title=False),
                                      options.update(width=max(width, natural_width(grid))))
        elif natural_width(grid) > width:  # running text wraps at word boundaries, every other cell whole
            yield _rich_table(grid, wrap=True, title=False)
        else:
            yield to_terminal(grid, title=False)
        note = "" if self.wide else hidden_note(hidden, width, grid)
        if note:
            yield Prose(note, "dim", indent=1)


def _rich_table(grid: Grid, wrap: bool = False, title: bool = True):
    from rich import box
    from rich.table import Table
    from rich.text import Text

    # Text objects, not strings: names like "[resnet50]" are data, never rich markup
    table = Table(title=Text(cell(grid.title)) if title else None, box=box.SIMPLE_HEAD, title_justify="left",
                  show_footer=grid.total is not None, show_edge=False, pad_edge=False, padding=(0, 0, 0, 1))
    for i, col in enumerate(grid.columns):
        footer = Text(cell(grid.total[i])) if grid.total else ""
        words = wrap and wraps(grid, i)
        table.add_column(Text(cell(col.header)), justify=col.justify, footer=footer, no_wrap=not words,
                         overflow="fold" if words else "ignore", min_width=None if words else _width(grid, i))
    for row in grid.rows:
        table.add_row(*(Text(cell(text)) for text in row))
    return table


def _width(grid: Grid, i: int) -> int:
    cells = [grid.columns[i].header, *(r[i] for r in grid.rows), *([grid.total[i]] if grid.total else [])]
    return max(cell_width(cell(c)) for c in cells)


def to_rich(grid: Grid, ascii_only: bool = False, wide: bool = False):
    """A rich renderable for a Grid: a table fitted to the console (every column with `wide`), or with
    ascii_only the plain text of `to_text`."""
    from rich.text import Text

    if ascii_only:
        return Text(to_text(grid), no_wrap=True, overflow="ignore")
    return FittedTable(grid, wide)


PROSE_WIDTH = 80  # header lines and notes where there is no terminal (a pipe, a file): wrapped at 80 columns


def wrap_prose(text: str, width: int = PROSE_WIDTH, indent: int = 2) -> list[str]:
    """A line of prose as lines of at most `width` columns; continuations indented `indent` spaces more than
    the line's own indentation. A word longer than the width stays whole on its own line."""
    if cell_width(text) <= width:
        return [text]
    import textwrap

    lead = " " * (len(text) - len(text.lstrip(" ")))
    return textwrap.wrap(text.lstrip(" "), max(width, 20), initial_indent=lead, subsequent_indent=lead + " " * indent,
                         break_long_words=False, break_on_hyphens=False) or [text]


class Prose:
    """A line of prose wrapped at the width of the console it is printed on, continuations indented."""

    def __init__(self, text: str, style: str = "", indent: int = 2):
        self.text, self.style, self.indent = text, style, indent

    def __rich_console__(self, console, options):
        from rich.text import Text

        for piece in wrap_prose(self.text, options.max_width, self.indent):
            yield Text(piece, style=self.style, no_wrap=True, overflow="ignore")


def renderables(doc, ascii_only: bool = False, wide: bool = False) -> list:
    """A Document (hetcalc.views.document) for a rich Console: header lines (the first in bold), each grid
    with its notes, the detail lines as they are, then the footer lines in bold."""
    from rich.text import Text

    def prose(text: str, style: str) -> list:
        if ascii_only:  # a pipe or a file: wrapped here, at PROSE_WIDTH
            return [Text(piece, style=style) for piece in wrap_prose(cell(text))]
        return [Prose(cell(text), style)]  # a terminal: wrapped at its width when printed

    lines = doc.lines
    items: list = [*prose(lines[0], "bold"), *[t for line in lines[1:] for t in prose(line, "dim")]] if lines else []
    for grid in doc.grids:
        if items:
            items.append(Text(""))
        items.append(to_rich(grid, ascii_only, wide))
        if grid.notes:
            items += [Text(""), *[t for note in grid.notes for t in prose(note, "dim")]]
    items += [Text(line) if ascii_only else Prose(cell(line)) for line in doc.details]  # piped: as they are
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
