"""`hetcalc reconcile ARCH`: each FLOP counter's figure for ARCH and the terms that make it."""

from __future__ import annotations

from functools import partial

import click

from hetcalc.convtypes import CONV_TYPES
from hetcalc.cli.options import (Integer, check_writable, emit_document, format_option, output_option, part_options,
                                 wide_option)

NOT_OFFERED = ("latex",)  # formats reconcile leaves out (an -o file.tex is written as the table)


@click.command("reconcile")
@click.argument("arch", metavar="ARCH")
@click.option("--variant", default="standard", show_default=True, metavar="NAME",
              help=f"The network as built with one convolution type: {', '.join(CONV_TYPES)}.")
@part_options("brief", extra=False)
@click.option("--se", "se", type=Integer(min=1), default=None, metavar="R",
              help="Add Squeeze-and-Excitation blocks with reduction ratio R (as analyze --se).")
@click.option("--replace-first", is_flag=True, help="Replace the network's first K x K convolution too.")
@click.option("--pointwise-bias/--no-pointwise-bias", default=True, show_default=True,
              help="GWC+PWC and DWC+PWC: whether the pointwise conv has a bias when the network's convs do.")
@wide_option
@format_option(exclude=NOT_OFFERED)
@output_option
def reconcile(arch, variant, P, G, se, replace_first, pointwise_bias, wide, fmt, output):
    """Why fvcore, ptflops, thop, torchinfo and FlopCounterMode disagree on ARCH, and with the paper.

    One table: for each tool (its --convention preset), the terms it counts (MACs, bias adds, BatchNorm,
    activations, pools, ...), each a count times how often the tool counts it, adding up exactly to the
    tool's figure, with the paper's figure (conv and FC MACs) first.

    Example:  hetcalc reconcile resnet50 --format csv -o resnet50-counters.csv
    """
    from hetcalc.analysis.reconcile import reconcile as run_reconcile
    from hetcalc.views.reconcile_views import reconcile_csv, reconcile_document, reconcile_json

    check_writable(output, inputs=(arch,))
    rec = run_reconcile(arch, variant=variant, P=P, G=G, se=se, replace_first=replace_first,
                        pointwise_bias=pointwise_bias)
    emit_document(output, fmt, partial(reconcile_document, rec), exclude=NOT_OFFERED, wide=wide,
                  json=partial(reconcile_json, rec), csv=partial(reconcile_csv, rec))
