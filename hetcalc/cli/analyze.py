"""`hetcalc ARCH` / `hetcalc analyze ARCH` and `hetcalc list`."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import click

from hetcalc.network.sources import builtin_names, builtin_path
from hetcalc.core.errors import OptionError
from hetcalc.network.rules import MAX_VALUE
from hetcalc.views.export import json_writer, to_csv
from hetcalc.analysis.api import analyze as run_analysis
from hetcalc.views.short_report import default_by, document, short_document
from hetcalc.cli.options import (Integer, by_option, check_writable, check_yaml_output, convention_options, emit,
                                 emit_document, format_option, make_convention, output_format, output_option,
                                 part_options, time_options, variants_option, wide_option)


PER_LAYER_P = click.option(
    "--P-at", "P_at", multiple=True, metavar="PATTERN=P",
    help="Per-layer P: layers whose name matches the shell-style PATTERN get part P (an integer, M, N, or off to "
         "keep them standard); repeatable, later ones win. Example: --P-at 'layer4.*=8'.")


@click.command("analyze")
@click.argument("arch", metavar="ARCH")
@part_options("analysis", after_lead=[PER_LAYER_P])
@variants_option()
@click.option("--per-layer/--summary-only", default=True, help="Show the per-layer table [default: shown].")
@by_option("Rows of the per-layer table and exports: one per layer, or one per stage or block (a layer name's "
           "part before its first dot) [default: the table shows stages for a network of more than 30 layers; "
           "files and other formats, layers].", default=None)
@click.option("--depth", "depth", type=Integer(min=1), default=None, metavar="N",
              help="Rows group the layers whose names share their first N dot-separated parts, as torchinfo's "
                   "depth (1: stages, 2: blocks, ...); sums are exact. Example: --depth 2.")
@wide_option
@click.option("--rules", "-v", "full_rules", is_flag=True,
              help="Print the counting rules in full, one per line (by default one line sums them up; files "
                   "and other formats always carry them in full).")
@format_option()
@click.option("--se", "se", type=Integer(min=1), default=None, metavar="R",
              help="Add Squeeze-and-Excitation blocks with reduction ratio R after every convolution "
                   "outside residual blocks and once per residual block.")
@click.option("--strict", is_flag=True,
              help="An ONNX op type hetcalc cannot count is an error (default: one warning line).")
@click.option("--input-shape", "input_shape", default=None, metavar="C,H,W",
              help="Input size for an .onnx model whose input height or width is not fixed.")
@output_option
@time_options
@convention_options
def analyze(arch, P, P_at, G, parts, variants, per_layer, by, depth, wide, full_rules, fmt, output, se, strict,
            input_shape, device, dtype, batch, hetconv_impl, traffic, mode, layout, **convention_options):
    """Compare the cost of ARCH under the four convolution types.

    ARCH is a built-in name (see `hetcalc list`), a path to a YAML spec, or an .onnx model (needs
    `pip install 'hetcalc[onnx]'`; weights are not needed).

    Shown to a person (the table format, on a terminal or a pipe), the counting rules take one line
    (--rules: in full), a network of more than 30 layers gets one row per stage (--by layer: per
    layer) and a last line suggests what to run next; a file (-o) or another format gets everything.
    On a terminal, tables fit its width: whole columns are hidden, ratios first, and named under the
    table; --wide shows them all.
    With --device, adds predicted time per layer and variant, the time-based speedup and what bounds
    each layer (docs/time-model.md).

    Example:  hetcalc vgg16 --P 4 --format json -o vgg16.json
    """
    check_writable(output, inputs=(arch,))
    if depth is not None and (by or "layer").lower() != "layer":
        raise OptionError(f"--depth {depth} groups the per-layer rows: give it without --by {by}")
    report = run_analysis(arch, P=P, G=G, **parts, variants=variants, convention=make_convention(**convention_options),
                          se=se, P_at=list(P_at) or None, strict=strict, input_shape=parse_shape(input_shape),
                          device=device, dtype=dtype, batch=batch, hetconv_impl=hetconv_impl,
                          traffic=traffic or None, mode=mode, layout=layout)
    if depth is not None:  # torchinfo's depth: rows per name prefix, for a person and in every format
        grouping = f"depth:{depth}"
        auto = False
    else:
        auto = output is None and output_format(fmt, output) == "table" and by is None \
            and default_by(report) == "stage"
        grouping = "stage" if auto or (by or "").lower() == "stage" else None
    if output is None and output_format(fmt, output) == "table":  # read by a person: short (docs/cli.md)
        shown = partial(short_document, report, arch, per_layer, full_rules, by=grouping, auto_stages=auto)
    else:
        shown = partial(document, report, per_layer, by=grouping)
    exported = report.grouped(grouping) if grouping else report
    emit_document(output, fmt, shown, wide=wide,
                  json=partial(json_writer, exported), csv=partial(to_csv, exported, per_layer))


def parse_shape(text: str | None):
    """'3,224,224' -> (3, 224, 224): three ASCII integers, each at most 10**30 (the spec's bound)."""
    if text is None:
        return None
    parts = [p.strip() for p in text.replace("x", ",").split(",")]
    if len(parts) != 3 or not all(p.isascii() and p.isdigit() and len(p) <= 31 and 0 < int(p) <= MAX_VALUE
                                  for p in parts):
        shown = text if len(text) <= 60 else f"{text[:40]}... ({len(text):,} characters)"
        raise OptionError(f"--input-shape must be C,H,W (three positive integers up to 10**30), got {shown!r}")
    return tuple(int(p) for p in parts)


@click.command("list")
@wide_option
def list_architectures(wide):
    """List the built-in architectures, one line each.

    Example:  hetcalc list
    """
    from hetcalc.network.spec import load_spec_file
    from hetcalc.views.list_views import architectures_document

    networks = [(name, load_spec_file(builtin_path(name))) for name in builtin_names()]
    emit_document(None, "table", architectures_document(networks), wide=wide)


@click.command("import")
@click.argument("model", metavar="MODEL.onnx", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the spec to FILE (atomically) instead of standard output.")
@click.option("--strict", is_flag=True, help="An ONNX op type hetcalc cannot count is an error.")
@click.option("--input-shape", "input_shape", default=None, metavar="C,H,W",
              help="Input size for a model whose input height or width is not fixed.")
def import_model(model, output, strict, input_shape):
    """Write an ONNX model as an editable YAML spec that gives identical results.

    Every layer keeps its ONNX node name; edges that do not run from one entry to the next are written
    as `from:` (one input) or `inputs:` (add, mul, concat). The spec is read back and its counts compared
    with the model's before anything is written; a model that no spec can state is refused with the reason.

    Example:  hetcalc import resnet50.onnx -o resnet50.yaml
    """
    from hetcalc.analysis.importing import import_spec

    check_writable(output, inputs=(model,))
    check_yaml_output(output, "the spec")
    emit(output, import_spec(model, strict=strict, input_shape=parse_shape(input_shape)))
