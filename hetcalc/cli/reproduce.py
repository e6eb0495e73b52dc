"""`hetcalc reproduce`: the paper's printed figures beside hetcalc's exact counts."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from hetcalc.cli.options import check_writable, emit_document, format_option, output_option, wide_option


@click.command("reproduce")
@click.argument("tables", nargs=-1, metavar="[TABLE ...]")
@wide_option
@format_option()
@output_option
def reproduce(tables, wide, fmt, output: Path | None):
    """Check every FLOPs and parameter figure of the HetConv paper's tables.

    TABLE is 1, 3, 4, 4.3 (section 4.3's text), 5, 6 or 7; default: all. Each figure is shown beside
    hetcalc's exact value, that value at the paper's precision, the table's counting convention and
    a verdict. A figure matches when the computed value, truncated or rounded to the printed
    precision, gives the printed digits.

    Example:  hetcalc reproduce 1 --format csv -o table1.csv
    """
    from hetcalc.analysis.reproduce import check_rows
    from hetcalc.views.reproduce_views import checks_csv, checks_document, checks_json

    check_writable(output)
    checks = check_rows(tables)
    emit_document(output, fmt, partial(checks_document, checks), wide=wide, json=partial(checks_json, checks),
                  csv=partial(checks_csv, checks))
