r"""Grids and Documents as LaTeX: booktabs tables (\usepackage{booktabs,graphicx}), prose as comments."""

from __future__ import annotations

import re

from hetcalc.views.grid import Grid, cell

_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in cell(text))


_TIMES = re.compile(r"^(\d+(?:\.\d+)?)x$|^\d+(?:x\d+)+$")


def latex_cell(text: str) -> str:
    r"""A cell in LaTeX: escaped, with a speedup '2.96x' as 2.96$\times$ and a shape '32x32' as 32$\times$32."""
    match = _TIMES.match(text)
    if match:
        return (match.group(1) + r"$\times$") if match.group(1) else text.replace("x", r"$\times$")
    return _range_cell(text) or _text(text)


def latex_label(text: str) -> str:
    r"""A \label key from free text: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


PAGE_CHARS = 110  # characters of a table row that still reads on an article's page (scaled at most ~0.75)
ROWS_PER_TABLE = 36  # rows of one table float: with its notes it fits an article's page
LONG_CELL = 40  # characters: a longer text cell becomes a numbered note under the table, so the table keeps its type size
_RANGE = re.compile(r"^(-?\d[\d.,]*%?)-(\d[\d.,]*%?)(\s.*)?$")  # '0.1131-0.1267 (eq. 7)'
_TABLE_NUMBER = re.compile(r"^Table\s+\d+[.:]\s*", re.IGNORECASE)  # LaTeX numbers the table itself
_UNICODE = {"\u00d7": r"$\times$", "\u2026": r"\ldots{}", "\u2248": r"$\approx$", "\u2264": r"$\le$",
            "\u2265": r"$\ge$", "\u2192": r"$\to$", "\u2212": r"$-$", "\u2013": "--", "\u2014": "---"}


def _text(text: str) -> str:
    """Escaped text with the few non-ASCII signs hetcalc writes spelt for pdflatex."""
    return "".join(_UNICODE.get(ch, ch) for ch in latex_escape(text)).replace("--", "-{}-")  # not a dash


def _range_cell(text: str) -> str | None:
    """'0.1131-0.1267 (eq. 7)' -> '0.1131--0.1267 (eq. 7)': a range takes an en dash."""
    match = _RANGE.match(cell(text))
    if not match:
        return None
    return f"{_text(match.group(1))}--{_text(match.group(2))}{_text(match.group(3) or '')}"


def _footnoted(grid: Grid) -> tuple[list[list[str]], list[str]]:
    """The rows with each long text cell replaced by a mark [n], and the texts in mark order (a repeated
    text keeps its first number)."""
    texts: list[str] = []
    rows = []
    for row in grid.rows:
        out = []
        for value in row:
            if len(cell(value)) > LONG_CELL:
                if value not in texts:
                    texts.append(value)
                value = f"[{texts.index(value) + 1}]"
            out.append(value)
        rows.append(out)
    return rows, texts


def _page_view(grid: Grid) -> Grid:
    """The grid without its first-dropped columns (the ratios: drop 1) when it is wider than PAGE_CHARS
    characters, which \\resizebox would shrink to unreadable type; a note says where they are."""
    lines = [[c.header for c in grid.columns], *grid.rows, *([grid.total] if grid.total else [])]
    width = sum(max(len(cell(row[i])) for row in lines) + 2 for i in range(len(grid.columns)))
    if width <= PAGE_CHARS or not any(c.drop == 1 for c in grid.columns):
        return grid
    keep = [c.drop != 1 for c in grid.columns]
    pick = lambda cells: [c for c, k in zip(cells, keep) if k]  # noqa: E731
    names = ", ".join(dict.fromkeys("ratio" if c.header.startswith("ratio") else c.header
                                    for c in grid.columns if c.drop == 1))
    return Grid(grid.title, pick(grid.columns), [pick(r) for r in grid.rows], pick(grid.total) if grid.total else None,
                [*grid.notes, f"Columns left out to fit the page: {names} (--format csv or json has them)."],
                grid.caption, grid.label)


def to_latex(grid: Grid) -> str:
    r"""A booktabs tabular inside a table environment, with caption, label and notes (the legend) under it,
    scaled down to the text width only when it is wider (graphicx's \resizebox). Long text cells become
    numbered notes, so that a reason column does not shrink the table to unreadable type; a table of more
    than ROWS_PER_TABLE rows continues in further tables, since a float cannot break across pages."""
    grid = _page_view(grid)
    spec = "".join("r" if c.justify == "right" else "l" for c in grid.columns)

    def line(cells):
        return " & ".join(latex_cell(c) for c in cells) + r" \\"

    rows, long_texts = _footnoted(grid)
    label = grid.label or latex_label(grid.title)
    caption = _text(_TABLE_NUMBER.sub("", grid.caption or grid.title) or grid.title)
    chunks = [rows[i:i + ROWS_PER_TABLE] for i in range(0, len(rows), ROWS_PER_TABLE)] or [[]]
    out = []
    for n, chunk in enumerate(chunks):
        last = n == len(chunks) - 1
        if n:  # the continuation keeps the table's number
            out.append(r"\addtocounter{table}{-1}")
        out += [r"\begin{table}[t]" if n == 0 else r"\begin{table}[p]", r"\centering",
                f"\\caption{{{caption}}}" if n == 0 else f"\\caption[]{{{caption} (continued)}}"]
        if n == 0:
            out.append(f"\\label{{tab:{label}}}")
        out += [r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                f"\\begin{{tabular}}{{{spec}}}", r"\toprule",
                " & ".join(_text(c.header) for c in grid.columns) + r" \\", r"\midrule"]
        out += [line(row) for row in chunk]
        if grid.total and last:
            out += [r"\midrule", line(grid.total)]
        out += [r"\bottomrule", r"\end{tabular}}"]
        notes = [f"[{i}] {_text(t)}" for i, t in enumerate(long_texts, 1)] + [_text(x) for x in grid.notes]
        if notes and last:  # in the compiled table, under it: what its marks and abbreviations mean
            out += [r"\par\smallskip", r"{\footnotesize\raggedright", *[f"{x}\\par" for x in notes], "}"]
        out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def render(doc) -> str:
    r"""A Document (hetcalc.views.document) in LaTeX: one table per grid, header, detail and footer lines as
    comments (needs \usepackage{booktabs,graphicx})."""
    tail = [*doc.details, *doc.footer]
    out = ["% needs \\usepackage{booktabs,graphicx}", *[f"% {cell(line)}" for line in doc.lines],
           *[to_latex(grid) for grid in doc.grids], *[f"% {cell(line)}" for line in tail]]
    return "\n".join(out) + ("\n" if tail else "")
