"""`hetcalc report ARCH`: one self-contained HTML page with the rules, tables and figures."""

from __future__ import annotations

from pathlib import Path

import click

from hetcalc.analysis.report import analyze as run_analysis
from hetcalc.cli.options import check_writable, convention_options, make_convention, write_atomic


@click.command("report")
@click.argument("arch", metavar="ARCH")
@click.option("--P", "P", default="4", show_default=True, metavar="INT|M|N",
              help="HetConv part P for every replaced layer; M: each layer's own input depth (the paper's "
                   "PC); N: each layer's output depth.")
@click.option("--G", "G", default=None, metavar="INT|M|N",
              help="GWC+PWC groups [default: P; M when P is N, since a per-layer N need not divide M].")
@click.option("--variants", default="all", show_default=True, metavar="LIST",
              help="Comma-separated: standard, hetconv, gwc_pwc, dwc_pwc, all.")
@click.option("--by", "by", type=click.Choice(["layer", "stage"], case_sensitive=False), default="layer",
              show_default=True, help="The detailed table: one row per layer, or per stage or block.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None, metavar="FILE",
              help="The HTML file [default: ARCH-report.html in the current folder; its name is printed].")
@convention_options
def report(arch, P, G, variants, by, output, **convention_options):
    """Write one self-contained HTML page for ARCH: counting rules, summary, figures, per-layer table.

    CSS and SVG figures are inline: the page fetches nothing and runs no script. It reads on a laptop
    screen and prints (a print style sheet keeps tables and figures whole).

    Example:  hetcalc report resnet50 --P 4 -o report.html
    """
    from hetcalc.core.version import __version__
    from hetcalc.views.html import report_figures, report_html

    if output is None:
        output = Path(f"{Path(arch).stem}-report.html")
        click.echo(f"hetcalc: no -o given: writing {output}", err=True)
    if output.suffix.lower() not in (".html", ".htm") and not (output.exists() and not output.is_file()):
        raise click.UsageError(f"the report is HTML: give -o a .html file name, got {str(output)!r}")
    check_writable(output, inputs=(arch,))
    result = run_analysis(arch, P=P, G=G, variants=variants, convention=make_convention(**convention_options),
                          by=by.lower())
    write_atomic(output, report_html(result, report_figures(result), version=__version__))
