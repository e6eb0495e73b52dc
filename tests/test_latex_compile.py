"""Every LaTeX output compiles with pdflatex and reads as a table should: one table number per caption,
long reasons as notes under the table (not a column that shrinks it to unreadable type), the legend in the
compiled notes, ranges with an en dash. Skipped without pdflatex, unless HETCALC_REQUIRE_LATEX=1 (CI)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from hetcalc.views import latex
from hetcalc.views.grid import Column, Grid

PDFLATEX = shutil.which("pdflatex")
needs_latex = pytest.mark.skipif(PDFLATEX is None and os.environ.get("HETCALC_REQUIRE_LATEX") != "1",
                                 reason="pdflatex is not installed (Debian: texlive-latex-base, "
                                        "texlive-latex-recommended)")

# every command with --format latex, on a network that exercises each kind of table
OUTPUTS = {
    "analyze": ("vgg16", "--P", "4"),
    "analyze-stages-device": ("resnet50", "--by", "stage", "--device", "t4", "--batch", "8"),
    "analyze-mobilenet": ("mobilenet",),
    "sweep": ("sweep", "vgg16"),
    "reproduce": ("reproduce",),
}


def compile_tex(tmp_path, body: str) -> str:
    """pdflatex on `body` inside an article; the log (the test fails on any LaTeX error)."""
    assert PDFLATEX is not None, "HETCALC_REQUIRE_LATEX=1 but pdflatex is missing"
    (tmp_path / "body.tex").write_text(body, encoding="utf-8")
    (tmp_path / "doc.tex").write_text("\\documentclass{article}\n\\usepackage{booktabs,graphicx}\n"
                                      "\\begin{document}\n\\input{body}\n\\end{document}\n", encoding="utf-8")
    done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "doc.log").read_text(encoding="latin-1") if (tmp_path / "doc.log").exists() else done.stdout
    assert done.returncode == 0, log[-3000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 0
    return log


@needs_latex
@pytest.mark.parametrize("name", OUTPUTS)
def test_every_latex_output_compiles(run, tmp_path, name):
    result = run(*OUTPUTS[name], "--format", "latex")
    assert result.exit_code == 0, result.output
    log = compile_tex(tmp_path, result.stdout)
    assert "Missing character" not in log and "Undefined control sequence" not in log


@needs_latex
def test_reproduce_tables_keep_their_type_size(run, tmp_path):
    """A reason column of 150-character cells shrank Table 1 to a fraction of its size: no table is scaled
    below 70% of the text width's natural size (resizebox reports nothing, so measure: every tabular fits)."""
    tex = run("reproduce", "--format", "latex").stdout
    body = tex.replace(r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
                       r"\setbox0\hbox{%").replace(r"\end{tabular}}", r"\end{tabular}}\typeout{WIDTH=\the\wd0}"
                                                                     r"\box0")
    log = compile_tex(tmp_path, body)
    widths = [float(w) for w in re.findall(r"WIDTH=([\d.]+)pt", log)]
    assert widths and max(widths) <= 345 / 0.7  # article's \linewidth is 345pt


def test_captions_do_not_repeat_the_table_number(run):
    tex = run("reproduce", "--format", "latex").stdout
    captions = re.findall(r"\\caption\{([^}]*)\}", tex)
    assert captions and not any(re.match(r"Table \d", c) for c in captions)  # LaTeX prints 'Table N:' itself
    assert "The paper's Table 1: VGG-16 on CIFAR-10 [vgg16]" in captions
    grid = Grid("Table 3: something", [Column("a")], [["1"]])
    assert "\\caption{something}" in latex.to_latex(grid)


def test_the_legend_is_in_the_compiled_table_not_only_in_comments(run):
    tex = run("vgg16", "--P", "4", "--format", "latex").stdout
    table = tex[tex.index("\\begin{table}"):tex.index("\\end{table}")]
    legend = next(line for line in table.splitlines() if line.startswith("Replaced layers are marked with *"))
    assert not legend.startswith("%")


def test_long_reasons_become_numbered_notes_each_once(run):
    tex = run("reproduce", "1", "--format", "latex").stdout
    reason = "the printed parameter percentages follow neither"
    assert tex.count(reason) == 1
    assert re.search(r"& NO & \[1\] \\\\", tex)
    assert re.search(r"^\[1\] " + reason, tex, re.MULTILINE)


def test_ranges_take_an_en_dash(run):
    tex = run("vgg16", "--P", "4", "--format", "latex").stdout
    assert "0.1131--0.1267 (eq. 7)" in tex and "0.1131-0.1267" not in tex
    assert latex.latex_cell("-3") == "-3" and latex.latex_cell("conv1-2") == "conv1-2"


def test_an_option_in_a_note_keeps_its_two_hyphens_and_wide_tables_drop_their_ratios(run):
    tex = run("resnet50", "--P", "4", "--format", "latex").stdout
    assert "(-{}-format csv or json has them)" in tex  # '--' alone would print an en dash
    per_layer = tex[:tex.index("Summary")]
    assert "ratio (eq. 5)" not in per_layer  # 16 columns scaled to a third of their size otherwise
    assert tex.count("(continued)") == 1  # 58 rows: a float cannot break across pages
    assert "\\addtocounter{table}{-1}\n\\begin{table}[p]" in tex  # ... and the continuation keeps its number
