"""`hetcalc sweep`: every architecture x every P (and G) x the four variants, and target reductions."""

from __future__ import annotations

import click

from hetcalc.views.export import EXTENSIONS, FORMATS
from hetcalc.views.sweep_views import TABLE_ROWS
from hetcalc.cli.options import check_writable, convention_options, emit, make_convention, output_format, output_option


@click.command("sweep")
@click.argument("archs", nargs=-1, metavar="[ARCH]...")
@click.option("--P", "P", default="1..1024", show_default=True, metavar="VALUES",
              help="HetConv parts to sweep: N, A..B (every integer), pow2:A..B (powers of two), "
                   "comma-separated, e.g. 1..16,pow2:32..1024.")
@click.option("--G", "G", default=None, metavar="VALUES",
              help="GWC+PWC groups to sweep, same syntax [default: the P values].")
@click.option("--target-reduction", "target", default=None, metavar="PCT",
              help="Report, per architecture, the smallest P (HetConv) and G (GWC+PWC) whose FLOPs "
                   "reduction against standard reaches PCT, e.g. 80%.")
@click.option("--all-rows", is_flag=True,
              help=f"Table: list every valid value [default: at most {TABLE_ROWS} rows per architecture].")
@click.option("--format", "fmt_name", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format [default: table, or from the -o file's extension].")
@output_option
@convention_options
def sweep(archs, P, G, target, all_rows, fmt_name, output, **convention_options):
    """Sweep P (and G) over ARCH... (default: every built-in architecture).

    Prints the totals of every architecture x every part value x the four variants. Values that do not
    divide every replaced layer's input depth M are marked invalid, with the reason. The table shows the
    valid values; csv and json carry every value. With --target-reduction, csv gives instead one row per
    architecture and variant: the smallest value reaching the target (or the best one, reached=False).

    Example:  hetcalc sweep resnet50 vgg16 --P 1..1024 --target-reduction 80%
    """
    from hetcalc.analysis.sweep import parse_target, sweep as run_sweep
    from hetcalc.views.sweep_views import header_lines, sweep_csv, sweep_grids, sweep_json
    from hetcalc.views.tables import document_latex, document_markdown, document_renderables

    check_writable(output, inputs=archs)
    name = output_format(fmt_name, output, EXTENSIONS)
    goal = parse_target(target) if target is not None else None
    result = run_sweep(archs or None, P=P, G=G, convention=make_convention(**convention_options))
    if name == "json":
        return emit(output, sweep_json(result, goal))
    if name == "csv":
        return emit(output, sweep_csv(result, goal))
    lines, grids = header_lines(result, goal), sweep_grids(result, goal, all_rows)
    if name == "table":
        emit(output, renderables_for=lambda ascii_only: document_renderables(lines, grids, ascii_only))
    elif name == "markdown":
        emit(output, document_markdown(lines, grids))
    else:
        emit(output, document_latex(lines, grids))
