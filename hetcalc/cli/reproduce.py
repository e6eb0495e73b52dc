"""`hetcalc reproduce`: the paper's printed figures beside hetcalc's exact counts."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import click

from .options import check_writable, output_option, show, write_atomic

FORMATS = ("table", "json", "csv", "markdown")


@click.command("reproduce")
@click.argument("tables", nargs=-1, metavar="[TABLE ...]")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False), default="table",
              show_default=True, help="Output format.")
@output_option
def reproduce(tables, fmt, output: Path | None):
    """Check every FLOPs and parameter figure of the HetConv paper's tables.

    TABLE is 1, 3, 4, 4.3 (section 4.3's text), 5, 6 or 7; default: all. Each figure is shown beside
    hetcalc's exact value, that value at the paper's precision, the table's counting convention and
    a verdict. A figure matches when the computed value, truncated or rounded to the printed
    precision, gives the printed digits.

    Example:  hetcalc reproduce 1 --format csv -o table1.csv
    """
    from ..reproduce import check_rows
    from ..tables import checks_grids, checks_summary, render_text, to_markdown, to_rich

    check_writable(output)
    checks = check_rows(tables)
    fmt = fmt.lower()
    if fmt == "table":
        def items(ascii_only: bool) -> list:
            from rich.text import Text

            out: list = []
            for grid in checks_grids(checks):
                out += [to_rich(grid, ascii_only), *[Text(n, style="dim") for n in grid.notes], Text("")]
            return [*out, Text(checks_summary(checks), style="bold")]

        if output is None:
            show(items)
            return
        text = render_text(items(True))
    elif fmt == "json":
        text = json.dumps([c.to_dict() for c in checks], indent=2) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        fields = list(checks[0].to_dict()) if checks else []
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for c in checks:
            writer.writerow(c.to_dict())
        text = buf.getvalue()
    else:
        parts = []
        for grid in checks_grids(checks):
            parts.append(to_markdown(grid))
        text = "\n".join(parts) + "\n" + checks_summary(checks) + "\n"
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
