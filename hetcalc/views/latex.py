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
    return latex_escape(text)


def latex_label(text: str) -> str:
    r"""A \label key from free text: lower case letters, digits and dashes."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def to_latex(grid: Grid) -> str:
    r"""A booktabs tabular inside a table environment, with caption and label, scaled down to the text
    width only when it is wider (graphicx's \resizebox)."""
    spec = "".join("r" if c.justify == "right" else "l" for c in grid.columns)

    def line(cells):
        return " & ".join(latex_cell(c) for c in cells) + r" \\"

    label = grid.label or latex_label(grid.title)
    out = [r"\begin{table}[t]", r"\centering", f"\\caption{{{latex_escape(grid.caption or grid.title)}}}",
           f"\\label{{tab:{label}}}",
           r"\resizebox{\ifdim\width>\linewidth\linewidth\else\width\fi}{!}{%",
           f"\\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(latex_escape(c.header) for c in grid.columns)
           + r" \\", r"\midrule"]
    out += [line(row) for row in grid.rows]
    if grid.total:
        out += [r"\midrule", line(grid.total)]
    out += [r"\bottomrule", r"\end{tabular}}"]
    out += [f"% {cell(note)}" for note in grid.notes]
    out.append(r"\end{table}")
    return "\n".join(out) + "\n"


def render(doc) -> str:
    r"""A Document (hetcalc.views.document) in LaTeX: one table per grid, header, detail and footer lines as
    comments (needs \usepackage{booktabs,graphicx})."""
    tail = [*doc.details, *doc.footer]
    out = ["% needs \\usepackage{booktabs,graphicx}", *[f"% {cell(line)}" for line in doc.lines],
           *[to_latex(grid) for grid in doc.grids], *[f"% {cell(line)}" for line in tail]]
    return "\n".join(out) + ("\n" if tail else "")
