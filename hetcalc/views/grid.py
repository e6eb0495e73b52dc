"""A table as plain strings (`Grid`), and how it narrows to a terminal's width. The bottom of views: every
renderer and every *_views module builds on it; it imports nothing from them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hetcalc.core.formatting import printable
from hetcalc.core.records import Record, record


@record
class Column(Record):
    header: str
    justify: str = "right"  # "left" | "right"
    short: str | None = None  # the header abbreviated, for a narrow terminal
    drop: int = 0  # 0: always shown; 1, 2, ...: hidden in this order when the terminal is too narrow
    shrink: bool = False  # cells may be shortened with "…" when nothing else is left to hide


@dataclass
class Grid:
    """A table as plain strings: the one source for every rendered form."""

    title: str
    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    total: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    caption: str | None = None  # LaTeX: the caption (default: the title)
    label: str | None = None  # LaTeX: the \label key


def cell(text: str) -> str:
    """A cell as shown: control characters and lone surrogates escaped (formatting.printable)."""
    return printable(str(text))


def cell_width(text: str) -> int:
    """Terminal columns a cell takes (wide East Asian characters count two)."""
    if text.isascii():
        return len(text)
    from rich.cells import cell_len

    return cell_len(text)


GAP = 2  # spaces between columns, in plain text and on a terminal
MIN_SHRUNK = 8  # a shortened cell keeps at least this many characters, "…" included


def natural_width(grid: Grid) -> int:
    """The width of a grid's widest line, every cell whole (title and notes aside)."""
    lines = [[c.header for c in grid.columns], *grid.rows, *([grid.total] if grid.total else [])]
    return (sum(max(cell_width(cell(line[i])) for line in lines) for i in range(len(grid.columns)))
            + GAP * (len(grid.columns) - 1))


def _shorten(text: str, width: int) -> str:
    """Shorten a cell to `width` with "…", keeping a trailing replaced mark " *"."""
    if len(text) <= width:
        return text
    mark = " *" if text.endswith(" *") else ""
    return text[:width - 1 - len(mark)] + "…" + mark


def _view(grid: Grid, keep: list[bool], short: bool) -> Grid:
    """The grid's kept columns (a copy), with abbreviated headers if `short`."""
    pick = lambda cells: [c for c, k in zip(cells, keep) if k]  # noqa: E731
    columns = [replace(c, header=c.short or c.header) if short else c for c in pick(grid.columns)]
    return Grid(grid.title, columns, [pick(r) for r in grid.rows], pick(grid.total) if grid.total else None,
                grid.notes, grid.caption, grid.label)


def fit(grid: Grid, width: int) -> tuple[Grid, list[str]]:
    """The grid narrowed to `width` columns (a copy), and the headers of the columns it hid.

    In order: hide the ratio columns (drop 1); abbreviate headers; hide the other optional columns (drop 2,
    3, ...); shorten the shrinkable cells (layer names) with "…". Cells never wrap; if even that is too
    wide, the grid is returned as narrow as it could be made.
    """
    keep = [True] * len(grid.columns)
    levels = sorted({c.drop for c in grid.columns if c.drop})
    hidden: list[str] = []  # in the order they were hidden
    short = False
    view = _view(grid, keep, short)
    while natural_width(view) > width and (levels or not short):
        if levels and (levels[0] == 1 or short):
            level = levels.pop(0)
            hidden += [c.header for c in grid.columns if c.drop == level]
            keep = [k and c.drop != level for k, c in zip(keep, grid.columns)]
        else:
            short = True
        view = _view(grid, keep, short)
    excess = natural_width(view) - width
    for i, col in enumerate(view.columns):
        if excess <= 0 or not col.shrink:
            continue
        cells = [r[i] for r in view.rows] + ([view.total[i]] if view.total else [])
        current = max(len(c) for c in [col.header, *cells])
        target = max(MIN_SHRUNK, len(col.header), current - excess)
        if target < current:
            for row in view.rows:
                row[i] = _shorten(row[i], target)
            excess -= current - target
    return view, hidden


def hidden_note(hidden: list[str], width: int) -> str:
    """'(ratios, out hidden to fit 80 columns; --wide shows every column)'."""
    names = list(dict.fromkeys("ratios" if h.startswith("ratio (") else h for h in hidden))
    return f"({', '.join(names)} hidden to fit {width} columns; --wide shows every column)"
