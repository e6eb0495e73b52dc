"""What `hetcalc ARCH` shows a person by default (docs/cli.md): the report of report_views made short.

The counting rules in one line (in full with --rules, and always in a file or another format), a per-stage
table for a network of more than STAGES_OVER layers, and one closing line suggesting the next command.
"""

from __future__ import annotations

import shlex

from hetcalc.analysis.results import Report, costed
from hetcalc.views.document import Document
from hetcalc.views.report_views import report_document, report_grids

STAGES_OVER = 30  # more rows than this in the per-layer table: one row per stage by default (--by layer: each)
EXAMPLE_DEVICE = "a100"


def layer_count(report: Report) -> int:
    """The rows of the per-layer table: the layers with a cost in some variant."""
    return sum(1 for rows in zip(*(v.layers for v in report.variants)) if costed(list(rows)))


def default_by(report: Report) -> str:
    """'stage' for a network of more than STAGES_OVER costed layers, else 'layer'."""
    return "stage" if report.by == "layer" and layer_count(report) > STAGES_OVER else report.by


def rules_line(report: Report) -> str:
    return f"Rules: {report.convention.brief()} (--rules)"


def next_line(report: Report, arch: str, auto_stages: bool) -> str:
    """One line naming the commands a reader is likely to want next."""
    name = shlex.quote(arch)
    steps = []
    if auto_stages:
        steps.append("--by layer for every layer")
    if report.device is None:
        steps.append(f"--device {EXAMPLE_DEVICE} for predicted time (hetcalc devices lists them)")
    steps.append(f"hetcalc report {name} for one HTML page with figures")
    return "Next: " + "; ".join(steps) + "."


def document(report: Report, per_layer: bool = True, stages: bool = False, by: str | None = None) -> Document:
    """report_views.report_document, per stage if `stages` (grouped `by` "stage" or "depth:N" if given): the
    summary still comes from every layer (a stage row keeps a closed form only when its layers share one, and
    the summary gives their range)."""
    by = by or ("stage" if stages else None)
    if by is None or by == report.by:
        return report_document(report, per_layer)
    doc = report_document(report.grouped(by), per_layer)
    summary = report_grids(report, per_layer=False)[0]
    return Document(doc.lines, [summary if g.title == summary.title else g for g in doc.grids], doc.footer,
                    doc.details)


def short_document(report: Report, arch: str, per_layer: bool = True, full_rules: bool = False,
                   stages: bool = False, auto_stages: bool = False, by: str | None = None) -> Document:
    """`document` with the rules in one line (unless `full_rules`) and a closing `Next:` line;
    `auto_stages`: the per-stage table was chosen for the reader (`default_by`), not asked for."""
    doc = document(report, per_layer, stages, by)
    lines = doc.lines
    if not full_rules:
        rules = set(report.convention.rules())
        first = next((i for i, line in enumerate(lines) if line in rules), len(lines))
        lines = [line for line in lines if line not in rules]
        lines.insert(first, rules_line(report))
    return Document(lines, doc.grids, [*doc.footer, next_line(report, arch, auto_stages)], doc.details)
