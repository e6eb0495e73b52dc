"""A network's total FLOPs and parameters against P (`hetcalc plot sweep`); the totals come from
hetcalc.analysis.sweep_totals."""

from __future__ import annotations

from hetcalc.analysis.sweep_totals import SweepTotals
from hetcalc.convtypes import CONV_TYPES, ConvType
from hetcalc.views.figures.axes import (count_axis, figure_legend, fit_texts, flops_label, part_axis,
                                        reference_line, variant_line)
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import BASELINE, styled, user_text

PART_WORDS = {"P": "part P", "G": "groups G = P"}  # what P sets, by a type's part option


def sweep_label(ctype: ConvType) -> str:
    """A type's name in the legend, with what P sets when its part is not P itself: 'GWC+PWC (G = P)'."""
    return f"{ctype.label} ({ctype.part} = P)" if ctype.part and ctype.part != "P" else ctype.label


def part_axis_label() -> str:
    """'part P (HetConv), groups G = P (GWC+PWC)': what P sets, for every registered type with a part."""
    named: dict[str, list[str]] = {}
    for t in CONV_TYPES.values():
        if t.part:
            named.setdefault(t.part, []).append(t.label)
    return ", ".join(f"{PART_WORDS.get(part, f'{part} = P')} ({', '.join(labels)})"
                     for part, labels in named.items())


def sweep_data(sweep: SweepTotals) -> PlotData:
    """Totals of each variant at each valid P: FLOPs, parameters and their reductions (percent)."""
    fields = ("flops", "params", "flops_reduction", "params_reduction")
    columns = ["P"]
    for key in sweep.variants:
        columns += [f"{key}_{f}" + ("_pct" if f.endswith("reduction") else "") for f in fields]
    rows = []
    for P, report in zip(sweep.parts, sweep.reports):
        row = [P]
        for key in sweep.variants:
            v = report.variant(key)
            row += [getattr(v, f) for f in fields]
        rows.append(tuple(row))
    return PlotData(tuple(columns), tuple(rows))


@styled
def sweep_figure(sweep: SweepTotals, *, reduction: bool = False, title: str | None = None, size=None):
    """Total FLOPs (top) and parameters (bottom) against P for each type with a part: HetConv and GWC+PWC
    (G = P) among the built-ins.

    A type without a part (DWC+PWC, standard) is a horizontal reference line, as is usual when counts are
    plotted. With `reduction`, the panels show the reduction against standard in percent instead.
    `size`: (width, height) in inches, default 6.4 x 6.4.
    """
    fig, (ax_flops, ax_params) = new_figure(size or (6.4, 6.4), 2)
    for ax, attr in ((ax_flops, "flops"), (ax_params, "params")):
        field = f"{attr}_reduction" if reduction else attr
        for key in sweep.variants:
            values = [getattr(r.variant(key), field) for r in sweep.reports]
            ctype = CONV_TYPES[key]
            if ctype.part:
                variant_line(ax, key, sweep.parts, values, sweep_label(ctype))
            elif not (reduction and key == BASELINE):  # the baseline's reduction is the zero line
                reference_line(ax, key, values[0], sweep_label(ctype))
        if reduction:
            ax.axhline(0, color="#000000", linewidth=0.8)
        else:
            count_axis(ax, log=False)
            ax.set_ylim(bottom=0)
    what = " reduction\nagainst standard (%)"
    ax_flops.set_ylabel(flops_label(sweep.convention, "FLOPs" + what if reduction else "FLOPs per image"))
    ax_params.set_ylabel("parameter" + what if reduction else "parameters")
    label = part_axis_label()
    if sweep.skipped:
        label += "\n" + sweep.skipped_note
    part_axis(ax_params, sweep.parts, label)
    if title is None:
        title = (f"{sweep.title}: FLOPs and parameter reduction against P" if reduction else
                 f"{sweep.title}: total cost against P")
    if title:
        fig.suptitle(user_text(title))
    figure_legend(fig, [ax_flops], ncols=min(len(sweep.variants), 4))
    fit_texts(fig, [ax_flops, ax_params], p_axis=ax_params)
    return fig
