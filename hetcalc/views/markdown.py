"""Grids and Documents as GitHub-flavoured Markdown."""

from __future__ import annotations

from hetcalc.views.grid import Grid, cell


def to_markdown(grid: Grid) -> str:
    """A GitHub-flavoured Markdown table, with the title as a heading."""
    def line(cells):
        return "| " + " | ".join(cell(c).replace("|", "\\|") for c in cells) + " |"

    out = [f"### {cell(grid.title)}", "", line([c.header for c in grid.columns]),
           "|" + "|".join("---:" if c.justify == "right" else ":---" for c in grid.columns) + "|"]
    out += [line(row) for row in grid.rows]
    if grid.total:
        out.append(line([f"**{c}**" if c else "" for c in grid.total]))
    if grid.notes:
        out += ["", *map(cell, grid.notes)]
    return "\n".join(out) + "\n"


def render(doc) -> str:
    """A Document (hetcalc.views.document) in Markdown: the first header line as a heading, the others as a
    list, then each grid, the detail lines and the footer lines."""
    lines = [cell(line) for line in doc.lines]
    out = [f"## {lines[0]}", "", *[f"- {line}" for line in lines[1:]], ""] if lines else []
    out += [to_markdown(grid) for grid in doc.grids]
    tail = [*doc.details, *doc.footer]
    return "\n".join([*out, *tail]) + ("\n" if tail else "")
