"""How a reconciliation is shown: one grid (each tool's terms and figure), JSON and CSV. Nothing prints."""

from __future__ import annotations

import json

from hetcalc.core.formatting import shape
from hetcalc.analysis.reconcile import Reconciliation
from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid

RECONCILE_FIELDS = ("convention", "tool", "term", "label", "count", "times", "ops", "figure", "params", "vs_paper")


def header_lines(rec: Reconciliation) -> list[str]:
    return [f"{rec.title} [{rec.architecture}]  input {shape(rec.input)}  {rec.label}",
            f"spec: {rec.source}", *rec.rules]


def _figure(tool, paper: int) -> str:
    if tool.preset.name == "paper":
        return "= figure"
    return f"= figure ({tool.figure - paper:+,})"


def reconcile_grid(rec: Reconciliation) -> Grid:
    """Per tool: each term (count x times = ops), then its figure; the terms add up to the figure."""
    grid = Grid(title=f"What each counter counts: {rec.title}, {rec.label}", columns=[
        Column("counter", "left"), Column("term", "left"), Column("count", drop=1), Column("x"),
        Column("ops")])  # a narrow terminal hides the count (ops = count x times) before anything else
    paper = rec.paper.figure
    for tool in rec.tools:
        shown = [t for t in tool.terms if t.count or t.term == "macs"]  # a kind the network lacks: 0
        for i, term in enumerate(shown):
            grid.rows.append([tool.preset.name if i == 0 else "", term.label, f"{term.count:,}", str(term.times),
                              f"{term.ops:,}"])
        grid.rows.append(["", _figure(tool, paper), "", "", f"{tool.figure:,}"])
    params = {t.params for t in rec.tools[1:] if t.params is not None}
    counted = ", ".join(t.preset.name for t in rec.tools[1:] if t.params is not None)
    silent = ", ".join(t.preset.name for t in rec.tools[1:] if t.params is None)
    grid.notes = [f"{t.preset.name}: {t.preset.tool}, {t.preset.call} ({t.preset.unit})." for t in rec.tools[1:]]
    grid.notes.append(f"Parameters: {', '.join(f'{p:,}' for p in sorted(params))} (PyTorch's numel) as "
                      f"{counted} report them" + (f"; {silent} gives none." if silent else "."))
    grid.notes.append("count x times = ops; each tool's ops add up to its figure, in parentheses its difference "
                      "from the paper's (terms the network has none of are left out; JSON and CSV list them).")
    if any(t.term == "modules" for tool in rec.tools for t in tool.terms):
        grid.notes.append("The torch module's own classes: 'by module class' is what they change for the tools "
                          "that count by class (functional calls, subclasses; docs/conventions.md).")
    else:
        grid.notes.append("Each figure is the tool's for the model written as torchvision writes it (modules for "
                          "layers, `+=` and flatten as tensor operations, eval mode); docs/conventions.md names "
                          "what moves it.")
    grid.notes += list(rec.notes)
    return grid


def reconcile_document(rec: Reconciliation) -> Document:
    return Document(header_lines(rec), [reconcile_grid(rec)])


def reconcile_json(rec: Reconciliation) -> str:
    return json.dumps(rec.to_dict(), indent=2) + "\n"


def reconcile_csv(rec: Reconciliation) -> str:
    """One row per tool and term, exact integers; each tool's figure and parameters repeated on its rows."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(RECONCILE_FIELDS)
    for tool in rec.tools:
        for term in tool.terms:
            writer.writerow([tool.preset.name, tool.preset.tool, term.term, term.label, term.count, term.times,
                             term.ops, tool.figure, "" if tool.params is None else tool.params,
                             tool.figure - rec.paper.figure])
    return buf.getvalue()
