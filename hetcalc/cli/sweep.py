"""`hetcalc sweep`: every architecture x every P (and G) x the four variants, and target reductions."""

from __future__ import annotations

from functools import partial

import click

from hetcalc.views.sweep_views import TABLE_ROWS
from hetcalc.cli.options import (check_writable, convention_options, emit_document, format_option, make_convention,
                                 output_option, part_options, wide_option)


@click.command("sweep")
@click.argument("archs", nargs=-1, metavar="[ARCH]...")
@part_options("swept")
@click.option("--target-reduction", "target", default=None, metavar="PCT",
              help="Report, per architecture, the smallest P (HetConv) and G (GWC+PWC) whose FLOPs "
                   "reduction against standard reaches PCT, e.g. 80%.")
@click.option("--all-rows", is_flag=True,
              help=f"Table: list every valid value [default: at most {TABLE_ROWS} rows per architecture].")
@wide_option
@format_option()
@output_option
@convention_options
def sweep(archs, P, G, parts, target, all_rows, wide, fmt, output, **convention_options):
    """Sweep P (and G) over ARCH... (default: every built-in architecture).

    Prints the totals of every architecture x every part value x the four variants. Values that do not
    divide every replaced layer's input depth M are marked invalid, with the reason. The table shows the
    valid values; csv and json carry every value. With --target-reduction, csv gives instead one row per
    architecture and variant: the smallest value reaching the target (or the best one, reached=False).

    Example:  hetcalc sweep resnet50 vgg16 --P 1..1024 --target-reduction 80%
    """
    from hetcalc.analysis.sweep import parse_target, sweep as run_sweep
    from hetcalc.views.sweep_views import sweep_csv, sweep_document, sweep_json

    check_writable(output, inputs=archs)
    goal = parse_target(target) if target is not None else None
    result = run_sweep(archs or None, P=P, G=G, parts=parts, convention=make_convention(**convention_options))
    emit_document(output, fmt, partial(sweep_document, result, goal, all_rows), wide=wide, json=partial(sweep_json, result, goal),
                  csv=partial(sweep_csv, result, goal))
