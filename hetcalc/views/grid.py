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
    shrink: bool = False  # a name: cells may be shortened with "…" when no optional column is left to hide
    wrap: bool = False  # running text that may wrap onto more lines (see `wraps`)
    legend: str | None = None  # how the legend explains the abbreviation ("red. = FLOPs reduction")
    full: str | None = None  # set by `fit` on an abbreviated column: the header it stands for


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
    wrap_text: bool = True  # left-aligned text columns (not the first) may wrap on a narrow terminal


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
NUMERIC = "0123456789.,"  # characters a number is written with: a name is never cut between two of them
MIN_SHRUNK = 8  # a shortened name keeps at least this many characters, "…" included
MIN_WRAPPED = 12  # a wrapping text column (a reason, a description) keeps at least this many columns


def wraps(grid: Grid, i: int) -> bool:
    """Whether column i is running text that may wrap onto more lines (a description, a reason): left-aligned,
    not the row's name (the first column) and not a shortened name."""
    col = grid.columns[i]
    return col.wrap or (i > 0 and col.justify == "left" and not col.shrink and col.drop == 0 and grid.wrap_text)


def _widths(grid: Grid) -> list[int]:
    lines = [[c.header for c in grid.columns], *grid.rows, *([grid.total] if grid.total else [])]
    return [max(cell_width(cell(line[i])) for line in lines) for i in range(len(grid.columns))]


def natural_width(grid: Grid) -> int:
    """The width of a grid's widest line, every cell whole and on one line (title and notes aside)."""
    return sum(_widths(grid)) + GAP * (len(grid.columns) - 1)


def needed_width(grid: Grid) -> int:
    """The narrowest a grid can be without cutting a cell: running-text columns wrapped at word boundaries
    (no narrower than MIN_WRAPPED or their longest word), every other cell whole."""
    widths = _widths(grid)
    for i, col in enumerate(grid.columns):
        if wraps(grid, i):
            words = [len(w) for r in grid.rows for w in cell(r[i]).split()] or [0]
            widths[i] = min(widths[i], max(MIN_WRAPPED, len(col.header), *words))
    return sum(widths) + GAP * (len(grid.columns) - 1)


def _shorten(text: str, width: int) -> str:
    """Shorten a name to `width` with "…", keeping a trailing replaced mark " *"."""
    if len(text) <= width:
        return text
    mark = " *" if text.endswith(" *") else ""
    cut = width - 1 - len(mark)
    keep = text[:cut]
    following = text[cut:cut + 1]
    # never end inside a number or a quantity: "14.9…" of 14.95, "8…" of 8GB (the whole number goes)
    if (keep[-1:] in NUMERIC and following in NUMERIC) or (keep[-1:].isdigit() and following.isalnum()):
        keep = keep.rstrip(NUMERIC)
    return keep + "…" + mark


def _view(grid: Grid, keep: list[bool], short: bool) -> Grid:
    """The grid's kept columns (a copy), with abbreviated headers if `short` (each remembering its full one)."""
    pick = lambda cells: [c for c, k in zip(cells, keep) if k]  # noqa: E731
    columns = [replace(c, header=c.short, full=c.header) if short and c.short and c.short != c.header else c
               for c in pick(grid.columns)]
    return Grid(grid.title, columns, [pick(r) for r in grid.rows], pick(grid.total) if grid.total else None,
                grid.notes, grid.caption, grid.label, grid.wrap_text)


def _hiding_order(grid: Grid) -> list[int]:
    """The columns a narrow terminal hides, one at a time: the optional ones by their `drop` level (within a
    level the rightmost first), then, as a last resort, any but the first from the right. No cell is ever cut."""
    optional = sorted((c.drop, -i) for i, c in enumerate(grid.columns) if c.drop)
    rest = [i for i in range(len(grid.columns) - 1, 0, -1) if not grid.columns[i].drop]
    return [-i for _, i in optional] + rest


def fit(grid: Grid, width: int) -> tuple[Grid, list[str]]:
    """The grid narrowed to `width` columns (a copy), and the headers of the columns it hid, in the order hidden.

    Whole columns are hidden, never part of a number: the optional columns one at a time (`_hiding_order`),
    each time trying full headers, then abbreviated ones (`Column.short`); once every optional column is
    hidden, the shrinkable names are shortened with "…"; only then are other columns hidden from the right.
    Running text (`wraps`) wraps at word boundaries rather than being hidden.
    """
    keep = [True] * len(grid.columns)
    order, hidden = _hiding_order(grid), []
    optional = sum(1 for c in grid.columns if c.drop)
    for step in range(len(order) + 1):
        for short in (False, True):
            view = _view(grid, keep, short)
            if needed_width(view) <= width:
                return view, hidden
        if step == optional and _shrink_names(view, width):
            return view, hidden
        if step < len(order):
            keep[order[step]] = False
            hidden.append(grid.columns[order[step]].header)
    return view, hidden


def _shrink_names(view: Grid, width: int) -> bool:
    """Shorten the shrinkable cells (names) of `view` in place, no shorter than MIN_SHRUNK; whether it now fits."""
    excess = needed_width(view) - width
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
    return excess <= 0


def abbreviations(view: Grid) -> list[str]:
    """'par = params' for each abbreviated header of a fitted grid (or its `legend`), in column order, once each."""
    return list(dict.fromkeys(c.legend or f"{c.header} = {c.full}" for c in view.columns if c.full))


def hidden_note(hidden: list[str], width: int, view: Grid | None = None) -> str:
    """What fitting changed, in one line: '(ratios (eqs. 11, 7), output hidden to fit 80 columns; --wide shows
    every column. Abbreviated: par = params, % = share)'. Empty when nothing was hidden or abbreviated."""
    ratios = [h[len("ratio (eq. "):-1] for h in hidden if h.startswith("ratio (eq. ") and h.endswith(")")]
    names = list(dict.fromkeys(h for h in hidden if h[len("ratio (eq. "):-1] not in ratios))
    if len(ratios) > 1:  # 'ratio (eq. 11), ratio (eq. 7)' -> 'ratios (eqs. 11, 7)'
        names.insert(0, f"ratios (eqs. {', '.join(ratios)})")
    elif ratios:
        names.insert(0, f"ratio (eq. {ratios[0]})")
    short = abbreviations(view) if view is not None else []
    parts = []
    if names:
        parts.append(f"{', '.join(names)} hidden to fit {width} columns; --wide shows every column")
    if short:
        parts.append(("Abbreviated: " if names else "Abbreviated to fit: ") + ", ".join(short))
    return f"({'. '.join(parts)})" if parts else ""
