"""`hetcalc reproduce`: the paper's printed figures beside hetcalc's exact counts."""

from __future__ import annotations

from pathlib import Path

import click

from hetcalc.views.export import EXTENSIONS, FORMATS
from hetcalc.cli.options import check_writable, emit, output_format, output_option


@click.command("reproduce")
@click.argument("tables", nargs=-1, metavar="[TABLE ...]")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format [default: table, or from the -o file's extension].")
@output_option
def reproduce(tables, fmt, output: Path | None):
    """Check every FLOPs and parameter figure of the HetConv paper's tables.

    TABLE is 1, 3, 4, 4.3 (section 4.3's text), 5, 6 or 7; default: all. Each figure is shown beside
    hetcalc's exact value, that value at the paper's precision, the table's counting convention and
    a verdict. A figure matches when the computed value, truncated or rounded to the printed
    precision, gives the printed digits.

    Example:  hetcalc reproduce 1 --format csv -o table1.csv
    """
    from hetcalc.views.export import checks_csv, checks_json
    from hetcalc.analysis.reproduce import check_rows
    from hetcalc.views.tables import checks_grids, checks_summary, document_latex, document_markdown, document_renderables

    check_writable(output)
    checks = check_rows(tables)
    grids, summary = checks_grids(checks), [checks_summary(checks)]
    fmt = output_format(fmt, output, EXTENSIONS)
    if fmt == "table":
        emit(output, renderables_for=lambda ascii_only: document_renderables([], grids, ascii_only, summary))
    elif fmt == "json":
        emit(output, checks_json(checks))
    elif fmt == "csv":
        emit(output, checks_csv(checks))
    elif fmt == "markdown":
        emit(output, document_markdown([], grids, summary))
    else:
        emit(output, document_latex([], grids, summary))
