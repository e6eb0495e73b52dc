"""A network's cost per layer (or per stage): FLOPs and parameters of each variant as grouped bars."""

from __future__ import annotations

from typing import Iterable

from hetcalc.analysis.results import Report, costed_layers
from hetcalc.core.errors import OptionError
from hetcalc.core.formatting import si
from hetcalc.views.figures.axes import as_floats, count_axis, figure_legend, fit_texts, flops_label
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import BASELINE, COLOURS, LINESTYLES, styled, user_text

LOG_SPREAD = 20  # "auto" scale: log when the largest bar exceeds the smallest non-zero one this many times
SCALES = ("linear", "log", "auto", "ratio")  # ratio: each variant's cost over standard's, per layer
MAX_LAYER_BARS = 30  # past this many layers the default figure has one group of bars per stage: it fits a page


def _replaced(report: Report, i: int) -> bool:
    """Whether layer i is built differently by some variant (the standard variant replaces nothing)."""
    return any(v.layers[i].replaced for v in report.variants)


def layers_data(report: Report) -> PlotData:
    """Per-layer FLOPs and parameters of each variant, and a final `total` row (what layers_figure shows)."""
    keys = [v.variant for v in report.variants]
    columns = ("layer", "kind", "replaced", *[f"{k}_flops" for k in keys], *[f"{k}_params" for k in keys])
    rows = []
    for i in costed_layers(report):
        layer = report.variants[0].layers[i]
        flops = [v.layers[i].flops for v in report.variants]
        params = [v.layers[i].params for v in report.variants]
        rows.append((layer.name, layer.kind, _replaced(report, i), *flops, *params))
    rows.append(("total", "", "", *[v.flops for v in report.variants], *[v.params for v in report.variants]))
    return PlotData(columns, tuple(rows))


def use_log(values: Iterable[float], scale: str = "linear") -> bool:
    """Whether a panel of bars is drawn on a log axis: 'log', or 'auto' when their spread exceeds LOG_SPREAD."""
    if scale not in SCALES:
        raise OptionError(f"scale must be one of {', '.join(SCALES)}, got {scale!r}")
    if scale != "auto":
        return scale == "log"
    positive = [v for v in values if v > 0]
    return bool(positive) and max(positive) > LOG_SPREAD * min(positive)


def default_layers_report(report: Report) -> Report:
    """The report the default figure draws: per layer up to MAX_LAYER_BARS costed layers, else per stage
    (a 54-layer ResNet-50 per layer is a 27-inch strip; per stage it is one page wide)."""
    if report.by == "layer" and len(costed_layers(report)) > MAX_LAYER_BARS:
        return report.by_stage()
    return report


PAGE_WIDTH = 7.5  # inches: a page's text width; the default figure of up to MAX_LAYER_BARS groups fits it


def default_layers_size(report: Report) -> tuple[float, float]:
    """Wide enough for every bar: about 0.12 inch per bar, at least 6.4 inches; at most a page's width up to
    MAX_LAYER_BARS groups (thinner bars), beyond that (--by layer on a deep network) as wide as it needs."""
    groups = len(costed_layers(report))
    width = max(6.4, 1.6 + 0.12 * groups * len(report.variants))
    return (round(min(PAGE_WIDTH if groups <= MAX_LAYER_BARS else 40.0, width), 1), 6.4)


@styled
def layers_figure(report: Report, *, title: str | None = None, size=None, scale: str = "linear"):
    """Per-layer (or, for `report.by_stage()`, per-stage) FLOPs (top) and parameters (bottom) of each
    variant as grouped bars.

    The legend gives each variant's total speedup (eq. 9). `scale`: linear (the default: a 3x cut looks
    like one), log, auto (log when the bars span more than LOG_SPREAD times), or ratio (each variant's
    cost over the standard layer's, the standard a line at 1). `size`: (width, height) in inches, default
    `default_layers_size(report)`.
    """
    use_log([], scale)  # validate early
    index = costed_layers(report)
    layers = report.variants[0].layers
    base = report.standard
    ratio = scale == "ratio"
    shown = [v for v in report.variants if not (ratio and v.variant == BASELINE)] or list(report.variants)
    fig, (ax_flops, ax_params) = new_figure(size or default_layers_size(report), 2)
    count = len(shown)
    width = 0.8 / count
    x = range(len(index))
    for ax, attr in ((ax_flops, "flops"), (ax_params, "params")):
        if ratio:
            heights = {v.variant: [getattr(v.layers[i], attr) / getattr(base.layers[i], attr)
                                   if getattr(base.layers[i], attr) else 0 for i in index] for v in shown}
        else:
            heights = {v.variant: as_floats(getattr(v.layers[i], attr) for i in index) for v in shown}
        for j, v in enumerate(shown):
            label = f"{v.label}: {v.speedup:.2f}× ({si(v.flops)} FLOPs)"
            ax.bar([i + (j - (count - 1) / 2) * width for i in x], heights[v.variant], width,
                   color=COLOURS[v.variant], label=label, gid=v.variant)
        values = [h for hs in heights.values() for h in hs]
        if ratio:
            line = ax.axhline(1, color=COLOURS[BASELINE], linestyle=LINESTYLES[BASELINE], linewidth=1.4,
                              label="standard = 1")
            line.set_gid(BASELINE)
            ax.set_ylim(0, max([1.0, *values]) * 1.08)
        else:
            count_axis(ax, use_log(values, scale), values)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, len(index) - 0.4)
    what = "over standard" if ratio else ""
    ax_flops.set_ylabel(f"FLOPs {what}" if ratio else flops_label(report.convention))
    ax_params.set_ylabel(f"parameters {what}".strip())
    names = [user_text(layers[i].name) + ("*" if _replaced(report, i) else "") for i in index]
    ax_params.set_xticks(list(x), names, rotation=90 if len(index) > 8 else 30,
                         ha="center" if len(index) > 8 else "right", fontsize=9 if len(index) <= 30 else 8)
    unit = "stage" if report.by == "stage" else "layer"
    ax_params.set_xlabel(f"{unit} (* replaced; the variants differ only there)" if unit == "layer" else
                         "stage (* holds a replaced layer)")
    if title is None:
        title = f"{report.title}: cost per {unit}" + (", as a ratio to standard" if ratio else "")
    if title:
        fig.suptitle(user_text(title))
    figure_legend(fig, [ax_flops], ncols=min(count, 2), title="variant: total speedup over standard (eq. 9)")
    fit_texts(fig, [ax_flops, ax_params])
    return fig
