"""A report as one self-contained HTML page: rules, summary, per-layer (or per-stage) table, figures.

Inline CSS and inline SVG only: the page fetches nothing, runs no script, and prints (a print style sheet
drops the screen's colours and keeps tables and figures whole). `report_html` returns the text; only the
CLI writes it.
"""

from __future__ import annotations

import html
import re

from hetcalc.core.formatting import printable
from hetcalc.analysis.results import Report, costed_layers
from hetcalc.views.tables import Grid, header_lines, layer_grid, summary_grid

CSS = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d0d0d0; --band: #f4f6f8; --mark: #0072B2; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 84rem; padding: 1.5rem 2rem 3rem; color: var(--ink); background: #fff;
       font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
h1 { font-size: 1.55rem; margin: 0 0 .25rem; }
h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
ul.rules { margin: .25rem 0 0; padding-left: 1.2rem; color: var(--muted); }
ul.rules li { margin: .15rem 0; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .8rem; margin: .3rem 0; }
caption { text-align: left; font-weight: 600; padding: .2rem 0 .4rem; }
th, td { padding: .15rem .42rem; white-space: nowrap; }
th { border-bottom: 1.5px solid var(--ink); text-align: right; font-weight: 600; white-space: normal;
     vertical-align: bottom; }
td { text-align: right; border-bottom: 1px solid #eee; }
th.left, td.left { text-align: left; }
tbody tr:nth-child(even) { background: var(--band); }
tr.replaced td:first-child { color: var(--mark); font-weight: 600; }
tfoot td { border-top: 1.5px solid var(--ink); border-bottom: 0; font-weight: 600; }
p.note { color: var(--muted); font-size: .85rem; margin: .3rem 0 0; max-width: 60rem; }
figure { margin: 1rem 0 1.5rem; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .85rem; margin-top: .3rem; }
/* the figures share the page width: side by side on a laptop screen, one a row on a narrow one */
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(30rem, 1fr)); gap: 0 2rem;
           align-items: start; }
details.layers { margin-top: 1rem; }
details.layers > summary { cursor: pointer; font-weight: 600; color: var(--mark); }
footer { margin-top: 2.5rem; color: var(--muted); font-size: .8rem; }
@media print {
  @page { size: A4 landscape; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  table { font-size: 7pt; }
  th, td { padding: .05rem .35rem; }
  tbody tr:nth-child(even) { background: none; }
  tr { break-inside: avoid; }
  h2 { break-after: avoid; }
  figure, .summary { break-inside: avoid; }
  .figures { display: block; }
  figure svg { width: auto; max-width: 100%; }
}
"""


def _esc(text: str) -> str:
    """Text for HTML: markup escaped, and control and bidirectional characters (U+202E) shown as escapes, as
    the text tables show them, so that no name can reorder or hide what the page says."""
    return html.escape("\n".join(printable(part) for part in str(text).split("\n")), quote=True)


def grid_html(grid: Grid, table_id: str, caption: bool = True) -> str:
    """A Grid as an HTML table (header, body, total as the footer) and its notes."""
    align = ["left" if c.justify == "left" else "" for c in grid.columns]

    def cell(tag: str, text: str, i: int) -> str:
        cls = f' class="{align[i]}"' if align[i] else ""
        return f"<{tag}{cls}>{_esc(text)}</{tag}>"

    out = [f'<div class="scroll"><table id="{table_id}">', f"<caption>{_esc(grid.title)}</caption>" if caption else "",
           "<thead><tr>" + "".join(cell("th", c.header, i) for i, c in enumerate(grid.columns)) + "</tr></thead>",
           "<tbody>"]
    for row in grid.rows:
        cls = ' class="replaced"' if row[0].endswith(" *") else ""
        out.append(f"<tr{cls}>" + "".join(cell("td", c, i) for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody>")
    if grid.total:
        out.append("<tfoot><tr>" + "".join(cell("td", c, i) for i, c in enumerate(grid.total)) + "</tr></tfoot>")
    out.append("</table></div>")
    out += [f'<p class="note">{_esc(note)}</p>' for note in grid.notes]
    return "\n".join(out)


def inline_svg(svg: bytes | str, prefix: str = "") -> str:
    """An SVG document as an element to inline: no XML declaration, DOCTYPE or comments; with `prefix`,
    its ids (and references to them) prefixed, so that several figures on one page never share an id."""
    text = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)  # RDF naming matplotlib: not needed
    if prefix:
        text = re.sub(r'\bid="', f'id="{prefix}', text)
        text = re.sub(r"url\(#", f"url(#{prefix}", text)
        text = re.sub(r'href="#', f'href="#{prefix}', text)
    return text.strip()


def report_html(report: Report, figures: list[tuple[str, bytes | str]] = (), version: str = "") -> str:
    """The page: title, what was analyzed, the counting rules, summary, figures and the per-layer (or,
    for `report.by_stage()`, per-stage) table. `figures`: (caption, SVG) pairs, drawn inline."""
    lines = header_lines(report)
    rules = lines[2:]
    parts = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(report.title)}: hetcalc report</title>", f"<style>{CSS}</style>", "</head>", "<body>",
        f"<h1>{_esc(report.title)}</h1>", f'<p class="meta">{_esc(lines[0])}<br>{_esc(lines[1])}</p>',
        '<section id="rules"><h2>Counting rules</h2><ul class="rules">',
        *[f"<li>{_esc(rule)}</li>" for rule in rules], "</ul></section>",
        '<section id="summary" class="summary"><h2>Summary</h2>', grid_html(summary_grid(report), "summary-table", caption=False),
        "</section>",
    ]
    if figures:
        parts.append('<section id="figures"><h2>Figures</h2><div class="figures">')
        for i, (caption, svg) in enumerate(figures, 1):
            parts += [f'<figure id="figure-{i}">', inline_svg(svg, f"f{i}-"),
                      f"<figcaption>Figure {i}. {_esc(caption)}</figcaption>", "</figure>"]
        parts.append("</div></section>")
    parts += [*_per_layer_section(report),
              f"<footer>Made by hetcalc{' ' + _esc(version) if version else ''}: exact counts from the "
              "HetConv paper's equations 1-12; every figure here follows the rules stated above.</footer>",
              "</body>", "</html>"]
    return "\n".join(parts) + "\n"


MAX_TABLE_LAYERS = 30  # past this many costed layers the page shows stages, the per-layer table behind a toggle


def _per_layer_section(report: Report) -> list[str]:
    """The per-layer (or per-stage) table; for a deep network, the per-stage table with the per-layer one in
    a <details> toggle (no script), so that the page opens on a table that fits."""
    unit = "stage" if report.by == "stage" else "layer"
    count = len(costed_layers(report))
    if unit == "stage" or count <= MAX_TABLE_LAYERS:
        return [f'<section id="per-{unit}"><h2>Per {unit}</h2>', grid_html(layer_grid(report), f"{unit}-table"),
                "</section>"]
    return ['<section id="per-stage"><h2>Per stage</h2>', grid_html(layer_grid(report.by_stage()), "stage-table"),
            f'<details class="layers"><summary>Every layer ({count} layers)</summary>',
            grid_html(layer_grid(report), "layer-table"), "</details></section>"]


def report_figures(report: Report) -> list[tuple[str, bytes]]:
    """The report's figures as SVG: per-layer (or per-stage) bars, and latency depth."""
    from hetcalc.views import figures as plots

    # a deep network's per-layer bars would be too narrow to read on a page: draw its stages instead
    bars_of = report if len(costed_layers(report)) <= 24 else report.by_stage()
    unit = "stage" if bars_of.by == "stage" else "layer"
    bars = plots.layers_figure(bars_of, size=None if unit == "layer" else (7.0, 5.6))
    depth = plots.depth_figure(report)
    return [(f"FLOPs and parameters per {unit} of each variant (linear axes).",
             plots.render_figure(bars, "svg")),
            ("Latency depth of each variant (conv and FC layers on the longest path) beside its FLOPs speedup.",
             plots.render_figure(depth, "svg"))]
