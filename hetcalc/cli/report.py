"""`hetcalc report ARCH`: one self-contained HTML page with the rules, tables and figures."""

from __future__ import annotations

from pathlib import Path

import click

from hetcalc.analysis.api import analyze as run_analysis
from hetcalc.cli.options import (by_option, check_writable, convention_options, make_convention, part_options,
                                 variants_option, write_atomic)


@click.command("report")
@click.argument("arch", metavar="ARCH")
@part_options("analysis")
@variants_option()
@by_option("The detailed table: one row per layer, or per stage or block.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="The HTML file [default: ARCH-report.html in the current folder; its name is printed].")
@convention_options
def report(arch, P, G, parts, variants, by, output, **convention_options):
    """Write one self-contained HTML page for ARCH: counting rules, summary, figures, per-layer table.

    CSS and SVG figures are inline: the page fetches nothing and runs no script. It reads on a laptop
    screen and prints (a print style sheet keeps tables and figures whole).

    Example:  hetcalc report resnet50 --P 4 -o report.html
    """
    from hetcalc.core.version import __version__
    from hetcalc.views.html import report_figures, report_html

    named = output is None
    if named:
        output = Path(f"{Path(arch).stem}-report.html")
    if output.suffix.lower() not in (".html", ".htm") and not (output.exists() and not output.is_file()):
        raise click.UsageError(f"the report is HTML: give -o a .html file name, got {str(output)!r}")
    check_writable(output, inputs=(arch,))
    result = run_analysis(arch, P=P, G=G, **parts, variants=variants, convention=make_convention(**convention_options),
                          by=by.lower())
    write_atomic(output, report_html(result, report_figures(result), version=__version__))
    if named:
        click.echo(f"hetcalc: no -o given: wrote {output}", err=True)
