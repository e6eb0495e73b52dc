"""Output formats come from one registry (hetcalc.views.document.RENDERERS): a format registered there is
offered by every command with --format, chosen by its -o extension, and needs no edit anywhere else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import hetcalc
from hetcalc.analysis.reproduce import check_rows
from hetcalc.views import latex, markdown, text
from hetcalc.views.document import RENDERERS, Document, Renderer
from hetcalc.views.grid import Column, Grid
from hetcalc.views.report_views import report_document
from hetcalc.views.reproduce_views import checks_document

ROOT = Path(__file__).resolve().parent.parent


def to_typst(doc: Document) -> str:
    """A toy Typst renderer: the heading, then one #table per grid, then the footer."""
    out = [f"= {doc.lines[0]}"] if doc.lines else []
    for grid in doc.grids:
        cells = [c.header for c in grid.columns] + [cell for row in grid.rows for cell in row]
        out.append(f"#table(columns: {len(grid.columns)}, " + ", ".join(f"[{c}]" for c in cells) + ")")
    return "\n".join([*out, *doc.footer]) + "\n"


@pytest.fixture
def typst(monkeypatch):
    """Typst registered for this test only: one line, as a new format module would add it."""
    monkeypatch.setitem(RENDERERS, "typst", Renderer(to_typst, (".typ",)))


def test_a_registered_format_reaches_analyze(run, typst):
    result = run("vgg16", "--P", "4", "--format", "typst")
    assert result.exit_code == 0, result.output
    assert result.output == to_typst(report_document(hetcalc.analyze("vgg16", P=4)))
    assert result.output.startswith("= VGG-16") and "#table(columns: " in result.output


def test_a_registered_format_reaches_reproduce_by_its_extension(run, typst, tmp_path):
    out = tmp_path / "table1.typ"
    result = run("reproduce", "1", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8") == to_typst(checks_document(check_rows(("1",))))


@pytest.mark.parametrize("args", [["sweep", "resnet56", "--P", "1..8"], ["reconcile", "vgg16"]], ids=" ".join)
def test_every_command_with_a_format_option_offers_it(run, typst, args):
    result = run(*args, "--format", "typst")
    assert result.exit_code == 0, result.output
    assert "#table(columns: " in result.output


def test_help_lists_the_registered_formats(run, typst):
    assert "[table|csv|json|markdown|latex|typst]" in run("analyze", "--help").output


def test_an_unregistered_format_is_refused(run):
    result = run("vgg16", "--format", "typst")
    assert result.exit_code == 2
    assert "'typst' is not one of 'table', 'csv', 'json', 'markdown', 'latex'" in result.output


def test_reconcile_still_leaves_latex_out(run):
    assert "is not one of 'table', 'csv', 'json', 'markdown'" in run("reconcile", "vgg16", "--format", "latex").output


GRID = Grid("T", [Column("name", "left"), Column("n")], [["a", "1"]], total=["total", "1"], notes=["A note."])


def test_each_renderer_shows_the_whole_document():
    doc = Document(["Heading", "a rule"], [GRID], footer=["Verdict."], details=["  path: /x"])
    plain = text.render(doc)
    assert plain == ("Heading\na rule\n\nT\n\nname   n\n--------\na      1\n--------\ntotal  1\n\nA note.\n"
                     "  path: /x\n\nVerdict.\n")
    assert markdown.render(doc).startswith("## Heading\n\n- a rule\n\n### T\n")
    assert markdown.render(doc).endswith("A note.\n\n  path: /x\nVerdict.\n")
    assert latex.render(doc).endswith("\\end{table}\n\n%   path: /x\n% Verdict.\n")


def test_a_grid_without_notes_ends_the_document():
    assert text.render(Document(grids=[Grid("T", [Column("a")], [["1"]])])) == "T\n\na\n-\n1\n"


def test_piped_tables_import_neither_rich_console_nor_rich_table():
    """`hetcalc resnet50 --P 4` into a pipe: rich.text lays the tables out; no console, no rich Table."""
    probe = ("import sys\nfrom hetcalc.cli import main\ncode = main(['resnet50', '--P', '4'], standalone_mode=False)\n"
             "print('RICH=' + ','.join(sorted({'rich.console', 'rich.table'} & set(sys.modules))), file=sys.stderr)\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HetConv" in done.stdout
    assert done.stderr.splitlines()[-1] == "RICH="
