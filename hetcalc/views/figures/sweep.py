"""A network's total FLOPs and parameters against P (`hetcalc plot sweep`); the totals come from
hetcalc.analysis.sweep_totals."""

from __future__ import annotations

from hetcalc.analysis.sweep_totals import SweepTotals
from hetcalc.convtypes.costs import CONV_TYPES
from hetcalc.views.figures.axes import (count_axis, figure_legend, fit_texts, flops_label, part_axis,
                                        reference_line, variant_line)
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import styled, user_text


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
    """Total FLOPs (top) and parameters (bottom) against P for HetConv and GWC+PWC (G = P).

    DWC+PWC, which has no part, is a horizontal reference line, as is standard when counts are plotted.
    With `reduction`, the panels show the reduction against standard in percent instead.
    `size`: (width, height) in inches, default 6.4 x 6.4.
    """
    fig, (ax_flops, ax_params) = new_figure(size or (6.4, 6.4), 2)
    labels = {"standard": "standard", "hetconv": "HetConv", "gwc_pwc": "GWC+PWC (G = P)",
              "dwc_pwc": "DWC+PWC"}
    for ax, attr in ((ax_flops, "flops"), (ax_params, "params")):
        field = f"{attr}_reduction" if reduction else attr
        for key in sweep.variants:
            values = [getattr(r.variant(key), field) for r in sweep.reports]
            if CONV_TYPES[key].part:
                variant_line(ax, key, sweep.parts, values, labels[key])
            elif not (reduction and key == "standard"):  # standard's reduction is the zero line
                reference_line(ax, key, values[0], labels[key])
        if reduction:
            ax.axhline(0, color="#000000", linewidth=0.8)
        else:
            count_axis(ax, log=False)
            ax.set_ylim(bottom=0)
    what = " reduction\nagainst standard (%)"
    ax_flops.set_ylabel(flops_label(sweep.convention, "FLOPs" + what if reduction else "FLOPs per image"))
    ax_params.set_ylabel("parameter" + what if reduction else "parameters")
    label = "part P (HetConv), groups G = P (GWC+PWC)"
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
