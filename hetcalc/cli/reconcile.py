"""`hetcalc reconcile ARCH`: each FLOP counter's figure for ARCH and the terms that make it."""

from __future__ import annotations

import click

from hetcalc.analysis.report import VARIANTS
from hetcalc.cli.options import check_writable, emit, output_format, output_option

FORMATS = ("table", "json", "csv", "markdown")
EXTENSIONS = {".json": "json", ".csv": "csv", ".md": "markdown", ".markdown": "markdown", ".txt": "table"}


@click.command("reconcile")
@click.argument("arch", metavar="ARCH")
@click.option("--variant", default="standard", show_default=True, metavar="NAME",
              help=f"The network as built with one convolution type: {', '.join(VARIANTS)}.")
@click.option("--P", "P", default="4", show_default=True, metavar="INT|M|N", help="HetConv part P.")
@click.option("--G", "G", default=None, metavar="INT|M|N", help="GWC+PWC groups [default: P].")
@click.option("--se", "se", type=click.IntRange(min=1), default=None, metavar="R",
              help="Add Squeeze-and-Excitation blocks with reduction ratio R (as analyze --se).")
@click.option("--replace-first", is_flag=True, help="Replace the network's first K x K convolution too.")
@click.option("--pointwise-bias/--no-pointwise-bias", default=True, show_default=True,
              help="GWC+PWC and DWC+PWC: whether the pointwise conv has a bias when the network's convs do.")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format [default: table, or from the -o file's extension].")
@output_option
def reconcile(arch, variant, P, G, se, replace_first, pointwise_bias, fmt, output):
    """Why fvcore, ptflops, thop, torchinfo and FlopCounterMode disagree on ARCH, and with the paper.

    One table: for each tool (its --convention preset), the terms it counts (MACs, bias adds, BatchNorm,
    activations, pools, ...), each a count times how often the tool counts it, adding up exactly to the
    tool's figure, with the paper's figure (conv and FC MACs) first.

    Example:  hetcalc reconcile resnet50 --format csv -o resnet50-counters.csv
    """
    from hetcalc.analysis.reconcile import reconcile as run_reconcile
    from hetcalc.views.reconcile_views import header_lines, reconcile_csv, reconcile_grid, reconcile_json
    from hetcalc.views.tables import document_markdown, document_renderables

    check_writable(output, inputs=(arch,))
    name = output_format(fmt, output, EXTENSIONS)
    rec = run_reconcile(arch, variant=variant, P=P, G=G, se=se, replace_first=replace_first,
                        pointwise_bias=pointwise_bias)
    if name == "json":
        return emit(output, reconcile_json(rec))
    if name == "csv":
        return emit(output, reconcile_csv(rec))
    lines, grids = header_lines(rec), [reconcile_grid(rec)]
    if name == "table":
        emit(output, renderables_for=lambda ascii_only: document_renderables(lines, grids, ascii_only))
    else:
        emit(output, document_markdown(lines, grids))
