"""`hetcalc ARCH` / `hetcalc analyze ARCH` and `hetcalc list`."""

from __future__ import annotations

import click

from ..architectures import builtin_names, builtin_path
from ..export import EXTENSIONS, FORMATS, streamed
from ..report import analyze as run_analysis
from ..spec import load_spec_file
from ..tables import Column, Grid, report_renderables, to_rich
from .options import (check_writable, convention_options, emit, make_convention, output_format, output_option,
                      show, time_options)


@click.command("analyze")
@click.argument("arch", metavar="ARCH")
@click.option("--P", "P", default="4", show_default=True, metavar="INT|M|N",
              help="HetConv part P for every replaced layer; M: each layer's own input depth (the paper's "
                   "PC); N: each layer's output depth.")
@click.option("--G", "G", default=None, metavar="INT|M|N", help="GWC+PWC groups [default: P].")
@click.option("--variants", default="all", show_default=True, metavar="LIST",
              help="Comma-separated: standard, hetconv, gwc_pwc, dwc_pwc, all.")
@click.option("--per-layer/--summary-only", default=True, help="Show the per-layer table [default: shown].")
@click.option("--format", "fmt", type=click.Choice(FORMATS, case_sensitive=False), default=None,
              help="Output format [default: table, or from the -o file's extension].")
@click.option("--se", "se", type=click.IntRange(min=1), default=None, metavar="R",
              help="Add Squeeze-and-Excitation blocks with reduction ratio R after every convolution "
                   "outside residual blocks and once per residual block.")
@output_option
@time_options
@convention_options
def analyze(arch, P, G, variants, per_layer, fmt, output, se, device, dtype, batch, hetconv_impl, traffic,
            **convention_options):
    """Compare the cost of ARCH under the four convolution types.

    ARCH is a built-in name (see `hetcalc list`) or a path to a YAML spec.

    With --device, adds predicted time per layer and variant, the time-based speedup and what bounds
    each layer (docs/time-model.md).

    Example:  hetcalc vgg16 --P 4 --format json -o vgg16.json
    """
    check_writable(output, inputs=(arch,))
    fmt = output_format(fmt, output, EXTENSIONS)
    report = run_analysis(arch, P=P, G=G, variants=variants, convention=make_convention(**convention_options),
                          se=se, device=device, dtype=dtype, batch=batch, hetconv_impl=hetconv_impl,
                          traffic=traffic or None)
    if fmt == "table":
        emit(output, renderables_for=lambda ascii_only: report_renderables(report, per_layer, ascii_only))
    else:
        emit(output, streamed(report, fmt, per_layer))


@click.command("list")
def list_architectures():
    """List the built-in architectures, one line each.

    Example:  hetcalc list
    """
    grid = Grid(title="Built-in architectures", columns=[Column(h, "left") for h in
                                                         ("name", "network", "input", "description")])
    for name in builtin_names():
        net = load_spec_file(builtin_path(name))
        grid.rows.append([name, net.title, "x".join(map(str, net.input)), net.description])
    show(lambda ascii_only: [to_rich(grid, ascii_only)])
