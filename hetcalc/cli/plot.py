"""`hetcalc plot`: figures (the paper's Figure 5, per-layer bars, totals against P) written atomically.

hetcalc.plots, and with it matplotlib, is imported inside the commands, never when the CLI loads.
"""

from __future__ import annotations

import math
from pathlib import Path

import click

from hetcalc.core.errors import OptionError
from hetcalc.analysis.api import analyze as run_analysis
from hetcalc.cli.options import (Integer, check_writable, convention_options, layout_option, make_convention,
                                 mode_option, part_options, variants_option, write_atomic)

class PlotGroup(click.Group):
    """`hetcalc plot speedup|sweep ...`; anything else (an architecture, an option) runs `layers`."""

    def parse_args(self, ctx, args):
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["layers", *args]
        return super().parse_args(ctx, args)


def parse_size(text: str | None) -> tuple[float, float] | None:
    """'W,H' in inches -> (W, H); both positive."""
    if text is None:
        return None
    parts = [p.strip() for p in text.lower().replace("x", ",").split(",")]
    try:
        width, height = (float(p) for p in parts)
    except ValueError:
        raise OptionError(f"--size must be two numbers W,H in inches, got {text!r}") from None
    if not all(math.isfinite(v) and v > 0 for v in (width, height)):
        raise OptionError(f"--size must be two positive numbers W,H in inches, got {text!r}")
    return width, height


def figure_options(func):
    """-o, --data, --dpi, --size, --title: where and how a figure is written."""
    func = click.option("--title", default=None, metavar="TEXT",
                        help="Figure title [default: one naming the network or equation; '' for none].")(func)
    func = click.option("--size", default=None, metavar="W,H",
                        help="Figure width and height in inches, e.g. 6.4,4.6 [default: per figure].")(func)
    func = click.option("--dpi", type=click.FloatRange(min=0, min_open=True), default=200, show_default=True,
                        help="Resolution of a PNG (pixels = inches x dpi); SVG and PDF are vector.")(func)
    func = click.option("--data", "data_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        metavar="FILE.csv",
                        help="Also write the plotted numbers as CSV (exact integer counts).")(func)
    func = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        metavar="FILE",
                        help="The figure file; its extension sets the format: .png, .svg, .pdf "
                             "[default: a PNG named for the network and figure, e.g. vgg16-layers.png, "
                             "in the current folder; its name is printed].")(func)
    return func


def default_output(output: Path | None, arch: str | None, figure: str) -> Path:
    """-o, or `<network>-<figure>.png` in the current folder (the network's name: a built-in's, or a spec
    file's stem)."""
    if output is not None:
        return output
    stem = Path(arch).stem if arch else ""
    output = Path(f"{stem}-{figure}.png" if stem else f"{figure}.png")
    click.get_current_context().meta["hetcalc.default_output"] = output  # named once written (_write)
    return output


def _check_outputs(output: Path, data_path: Path | None, arch: str | None = None) -> None:
    """Refuse bad output paths (or ones that would overwrite the ARCH spec) before any work is done."""
    from hetcalc.views import figures as plots

    plots.figure_format(output)
    check_writable(output, inputs=(arch,))
    check_writable(data_path, inputs=(arch,))
    if data_path is not None and data_path.resolve() == output.resolve():
        raise OptionError(f"--data {data_path} is the figure's own file; give the CSV another name")


class one_line_warnings:
    """matplotlib's warnings as `hetcalc: warning:` lines, each once; missing glyphs merged into one line."""

    def __enter__(self):
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self.caught = self._catch.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc) -> bool:
        import re

        self._catch.__exit__(*exc)
        glyphs, seen = [], []
        for w in self.caught:
            text = " ".join(str(w.message).split())
            found = re.match(r"Glyph \d+ \((.*)\) missing from font\(s\) (.*)\.$", text)
            if found:
                if found.group(1) not in glyphs:
                    glyphs.append(found.group(1))
            elif text not in seen:
                seen.append(text)
        if glyphs:
            shown = ", ".join(glyphs[:8]) + (", ..." if len(glyphs) > 8 else "")
            seen.append(f"the figure's font has no glyph for {len(glyphs)} character(s) ({shown}); they are "
                        "drawn as boxes")
        for text in seen:
            click.echo(f"hetcalc: warning: {text}", err=True)
        return False


def _write(fig, data, output: Path, data_path: Path | None, dpi: float) -> None:
    """Render the figure, then write it and its data, each atomically."""
    from hetcalc.views import figures as plots

    image = plots.render_figure(fig, plots.figure_format(output), dpi)
    for problem in plots.layout_problems(fig):
        click.echo(f"hetcalc: warning: {problem}; give a larger --size", err=True)
    write_atomic(output, image)
    if data_path is not None:
        write_atomic(data_path, data.to_csv())
    if click.get_current_context().meta.get("hetcalc.default_output") == output:
        click.echo(f"hetcalc: no -o given: wrote {output}", err=True)


@click.group("plot", cls=PlotGroup, context_settings={"help_option_names": ["-h", "--help"]})
def plot():
    """Figures for papers and slides: PNG, SVG or PDF, chosen by the -o file's extension.

    \b
    hetcalc plot speedup -o FILE        the paper's Figure 5: speedup against P
    hetcalc plot ARCH -o FILE           per-layer FLOPs and parameters of each variant
    hetcalc plot sweep ARCH -o FILE     total FLOPs and parameters against P
    hetcalc plot depth ARCH -o FILE     latency depth of each variant beside its speedup
    hetcalc plot roofline ARCH --device NAME -o FILE
                                        each layer on a device's roofline (predicted time)

    Past 30 layers, `plot ARCH` draws one group of bars per stage so that the default figure fits
    a page (--by layer for every layer).

    Every figure takes --dpi, --size W,H, --title and --data FILE.csv (the plotted numbers).
    Without -o, a PNG named for the network and figure (vgg16-layers.png) is written in the current
    folder, and its name printed. Files are written atomically: a failed plot never leaves a partial file.

    Example:  hetcalc plot vgg16 --P 4 -o layers.svg
    """


@plot.command("speedup")
@click.option("--K", "K", type=int, default=3, show_default=True, help="Kernel size K of the K x K kernels.")
@click.option("--P-max", "P_max", type=int, default=256, show_default=True,
              help="Largest P plotted (a power of two); P = 1, 2, 4, ... up to it.")
@click.option("--N", "N", type=int, default=256, show_default=True,
              help="Output depth N for DWC+PWC (eq. 7 depends on it).")
@figure_options
def speedup(K, P_max, N, output, data_path, dpi, size, title):
    """The paper's Figure 5: speedup of HetConv over standard against P (eqs. 5, 9).

    GWC+PWC with G = P (eq. 11) and DWC+PWC (eq. 7) are drawn for comparison, and the
    K^2 asymptote that HetConv approaches as P grows.

    Example:  hetcalc plot speedup --K 3 --P-max 256 -o fig5.png --data fig5.csv
    """
    size = parse_size(size)
    output = default_output(output, None, f"speedup-K{K}")
    _check_outputs(output, data_path)
    from hetcalc.views import figures as plots

    data = plots.speedup_data(K, P_max, N)
    with one_line_warnings():
        fig = plots.speedup_figure(K, P_max, N, title=title, size=size)
        _write(fig, data, output, data_path, dpi)


@plot.command("layers")
@click.argument("arch", metavar="ARCH")
@part_options("figure")
@variants_option()
@click.option("--scale", type=click.Choice(["linear", "log", "auto", "ratio"]), default="linear",
              show_default=True,
              help="Value axes: linear, log, auto (log when the largest bar exceeds 20x the smallest), or "
                   "ratio (each variant's cost over the standard layer's).")
@click.option("--by", "by", type=click.Choice(["auto", "layer", "stage"], case_sensitive=False), default="auto",
              show_default=True,
              help="One group of bars per layer, or per stage or block (paper-sized); auto: per layer up to 30 "
                   "layers, per stage past that, so that the default figure fits a page.")
@figure_options
@convention_options
def layers(arch, P, G, parts, variants, scale, by, output, data_path, dpi, size, title, **convention):
    """Per-layer FLOPs and parameters of ARCH under each variant, as grouped bars.

    ARCH is a built-in name (see `hetcalc list`) or a path to a YAML spec; `hetcalc plot ARCH`
    is short for `hetcalc plot layers ARCH`. The legend gives each variant's total speedup.

    Example:  hetcalc plot vgg16 --P 4 -o layers.svg --data layers.csv
    """
    size = parse_size(size)
    output = default_output(output, arch, "stages" if by.lower() == "stage" else "layers")
    _check_outputs(output, data_path, arch)
    from hetcalc.views import figures as plots

    report = run_analysis(arch, P=P, G=G, **parts, variants=variants, convention=make_convention(**convention),
                          by="stage" if by.lower() == "stage" else "layer")
    if by.lower() == "auto":
        shown = plots.default_layers_report(report)
        if shown is not report:
            click.echo(f"hetcalc: note: {len(plots.layers_data(report).rows) - 1} layers: one group of bars per "
                       "stage, so that the figure fits a page (--by layer for every layer)", err=True)
        report = shown
    with one_line_warnings():
        fig = plots.layers_figure(report, title=title, size=size, scale=scale)
        _write(fig, plots.layers_data(report), output, data_path, dpi)


@plot.command("sweep")
@click.argument("arch", metavar="ARCH")
@click.option("--P-max", "P_max", type=int, default=None, metavar="N",
              help="Largest P (a power of two) [default: the largest power of two dividing every "
                   "replaced layer's M].")
@variants_option()
@click.option("--reduction", is_flag=True, help="Plot the reduction against standard (%) instead of counts.")
@figure_options
@convention_options
def sweep(arch, P_max, variants, reduction, output, data_path, dpi, size, title, **convention):
    """Total FLOPs and parameters of ARCH against P = 1, 2, 4, ... for HetConv and GWC+PWC (G = P).

    DWC+PWC, which has no part, is a reference line. A P that does not divide every replaced
    layer's M is left out, and the figure and a note say so.

    Example:  hetcalc plot sweep resnet56 -o sweep.pdf --data sweep.csv
    """
    size = parse_size(size)
    output = default_output(output, arch, "sweep")
    _check_outputs(output, data_path, arch)
    from hetcalc.views import figures as plots

    totals = plots.sweep_totals(arch, P_max, variants=variants, convention=make_convention(**convention))
    if totals.skipped:
        click.echo(f"hetcalc: note: {totals.skipped_note}", err=True)
    with one_line_warnings():
        fig = plots.sweep_figure(totals, reduction=reduction, title=title, size=size)
        _write(fig, plots.sweep_data(totals), output, data_path, dpi)


@plot.command("depth")
@click.argument("arch", metavar="ARCH")
@part_options("figure")
@variants_option()
@figure_options
@convention_options
def depth(arch, P, G, parts, variants, output, data_path, dpi, size, title, **convention):
    """Latency depth of each variant of ARCH (conv and FC layers on the longest path) beside its speedup.

    The paper's argument for HetConv (section 3.3): it cuts FLOPs without adding sequential layers,
    where GWC+PWC and DWC+PWC add one per replaced layer.

    Example:  hetcalc plot depth resnet56 --P 4 -o depth.svg --data depth.csv
    """
    size = parse_size(size)
    output = default_output(output, arch, "depth")
    _check_outputs(output, data_path, arch)
    from hetcalc.views import figures as plots

    report = run_analysis(arch, P=P, G=G, **parts, variants=variants, convention=make_convention(**convention))
    with one_line_warnings():
        fig = plots.depth_figure(report, title=title, size=size)
        _write(fig, plots.depth_data(report), output, data_path, dpi)


@plot.command("roofline")
@click.argument("arch", metavar="ARCH")
@click.option("--device", required=True, metavar="NAME|PROFILE",
              help="The device: a built-in (see `hetcalc devices`), 'local', or a profile path.")
@part_options("brief figure")
@variants_option()
@click.option("--dtype", default="fp32", show_default=True,
              type=click.Choice(("fp32", "fp16", "bf16", "int8"), case_sensitive=False), help="Element type.")
@click.option("--batch", default=1, show_default=True, type=Integer(1, 10**9), metavar="B",
              help="Batch size.")
@click.option("--hetconv-impl", "hetconv_impl", default="split", show_default=True,
              type=click.Choice(("fused", "split", "masked"), case_sensitive=False),
              help="How HetConv runs: split (what PyTorch runs), masked, or fused (hypothetical: no framework "
                   "ships it).")
@mode_option
@layout_option
@figure_options
def roofline(arch, device, P, G, parts, variants, dtype, batch, hetconv_impl, mode, layout, output, data_path, dpi,
             size, title):
    """Each variant's layers on DEVICE's roofline: FLOPs per byte against predicted FLOP/s.

    Points are layers (larger where replaced); lines are the device's peak, its dense-convolution
    roof and its memory and cache bandwidths (docs/time-model.md).

    Example:  hetcalc plot roofline vgg16 --device a100 --P 4 -o roofline.png
    """
    size = parse_size(size)
    output = default_output(output, arch, "roofline")
    _check_outputs(output, data_path, arch)
    report = run_analysis(arch, P=P, G=G, **parts, variants=variants, device=device, dtype=dtype, batch=batch,
                          hetconv_impl=hetconv_impl, mode=mode, layout=layout)
    from hetcalc.views.figures import roofline as rf

    with one_line_warnings():
        fig = rf.roofline_figure(report, title=title, size=size)
        _write(fig, rf.roofline_data(report), output, data_path, dpi)
