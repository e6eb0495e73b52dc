"""The table names of hetcalc.views before its split, re-exported for callers of `hetcalc.tables`.

New code imports from where each lives: grid (Column, Grid, fit), text, markdown and latex (renderers),
document (Document, RENDERERS), report_views and reproduce_views (what the commands show).
"""

from __future__ import annotations

from hetcalc.analysis.results import Report
from hetcalc.views.document import Document
from hetcalc.views.grid import GAP, MIN_SHRUNK, Column, Grid, fit, hidden_note, natural_width
from hetcalc.views.latex import latex_cell, latex_escape, latex_label, to_latex
from hetcalc.views.latex import render as _latex
from hetcalc.views.markdown import render as _markdown
from hetcalc.views.markdown import to_markdown
from hetcalc.views.report_views import (DEPTHS, GROUPS, KERNEL, OUT, PARAMS, RATIO, SHARE, header_lines,
                                        layer_grid, report_grids, summary_grid)
from hetcalc.views.reproduce_views import checks_grids, checks_summary
from hetcalc.views.text import PROSE_WIDTH, FittedTable, render_text, renderables, to_rich, to_terminal, to_text

__all__ = ["DEPTHS", "GAP", "GROUPS", "KERNEL", "MIN_SHRUNK", "OUT", "PARAMS", "PROSE_WIDTH", "RATIO", "SHARE",
           "Column", "FittedTable", "Grid", "checks_grids", "checks_summary", "document_latex",
           "document_markdown", "document_renderables", "fit", "header_lines", "hidden_note", "latex_cell",
           "latex_escape", "latex_label", "layer_grid", "natural_width", "render_text", "report_grids",
           "report_renderables", "summary_grid", "to_latex", "to_markdown", "to_rich", "to_terminal", "to_text"]


def document_renderables(lines: list[str], grids: list[Grid], ascii_only: bool = False,
                         footer: list[str] = (), wide: bool = False) -> list:
    """Header lines (the first in bold), each grid with its notes, then footer lines: for a rich Console."""
    return renderables(Document(list(lines), list(grids), list(footer)), ascii_only, wide)


def document_markdown(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    return _markdown(Document(list(lines), list(grids), list(footer)))


def document_latex(lines: list[str], grids: list[Grid], footer: list[str] = ()) -> str:
    return _latex(Document(list(lines), list(grids), list(footer)))


def report_renderables(report: Report, per_layer: bool = True, ascii_only: bool = False,
                       wide: bool = False) -> list:
    """Header lines, tables and notes of a report, ready for a rich Console."""
    return document_renderables(header_lines(report), report_grids(report, per_layer), ascii_only, wide=wide)
