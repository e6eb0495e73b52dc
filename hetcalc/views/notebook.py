"""A Report in a notebook or a REPL: `str(report)` and `repr(report)` (the summary), `report.table()` (the tables
the command line prints) and Jupyter's `_repr_html_` (the HTML report's tables). Registered in the analysis
layer's display slot (`hetcalc.analysis.results.DISPLAY`), which the package root loads when a report is shown.
"""

from __future__ import annotations

import html

from hetcalc.analysis.results import DISPLAY, Report
from hetcalc.views.html import grid_html
from hetcalc.views.report_views import header_lines, layer_grid, summary_grid
from hetcalc.views.short_report import document
from hetcalc.views.text import render, render_text, renderables, to_text

# the HTML report's table style, scoped to the notebook cell (no page-wide rules)
CSS = """
.hetcalc table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .85em; margin: .3em 0; }
.hetcalc caption { text-align: left; font-weight: 600; padding: .2em 0 .4em; }
.hetcalc th, .hetcalc td { padding: .15em .55em; white-space: nowrap; text-align: right; }
.hetcalc th { border-bottom: 1.5px solid currentColor; font-weight: 600; }
.hetcalc th.left, .hetcalc td.left { text-align: left; }
.hetcalc tr.replaced td:first-child { color: #0072B2; font-weight: 600; }
.hetcalc tfoot td { border-top: 1.5px solid currentColor; font-weight: 600; }
.hetcalc p.note, .hetcalc p.meta { opacity: .75; font-size: .85em; margin: .3em 0; max-width: 60em; }
.hetcalc .scroll { overflow-x: auto; }
"""
OPEN_ROWS = 30  # a longer per-layer table starts folded (<details>): the summary stays on the first screen


def summary_text(report: Report) -> str:
    """What was analyzed (the header's first line) and the summary table, as plain text."""
    return f"{header_lines(report)[0]}\n\n{to_text(summary_grid(report))}"


def table_text(report: Report, by: str | None = None, width: int | None = None, per_layer: bool = True) -> str:
    """The document `hetcalc ARCH -o FILE.txt` writes (the rules in full, no `Next:` line), as plain text:
    every column, or fitted to a terminal of `width` columns."""
    doc = document(report, per_layer, by=None if by is None else report.grouped(by).by)
    if width is None:
        return render(doc)
    return render_text(renderables(doc), width)


def report_html(report: Report) -> str:
    """A notebook cell's view: what was analyzed, the summary and the per-layer (or per-stage) table."""
    head, spec = header_lines(report)[:2]
    grid = layer_grid(report)
    table = grid_html(grid, "hetcalc-layers")
    if len(grid.rows) > OPEN_ROWS:
        table = (f"<details><summary>{len(grid.rows)} rows: {grid.title} (report.table(by='stage') or "
                 f"by='depth:N' groups them)</summary>\n{table}\n</details>")
    return "\n".join([f'<div class="hetcalc"><style>{CSS}</style>', f'<p class="meta"><b>{_esc(head)}</b><br>'
                      f"{_esc(spec)}</p>", grid_html(summary_grid(report), "hetcalc-summary"), table, "</div>"])


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


DISPLAY.update(text=summary_text, table=table_text, html=report_html)
