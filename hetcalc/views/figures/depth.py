"""Latency depth of each variant beside its FLOPs speedup (the paper's section 3.3 argument)."""

from __future__ import annotations

from hetcalc.analysis.results import Report
from hetcalc.views.figures.axes import fit_texts
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import COLOURS, styled, user_text


def depth_data(report: Report) -> PlotData:
    """Each variant's latency depth (conv and FC layers on the longest path), added depth and speedup."""
    rows = tuple((v.variant, v.label, v.latency_depth, v.added_latency, v.flops, v.speedup)
                 for v in report.variants)
    return PlotData(("variant", "label", "latency_depth", "added_latency", "flops", "speedup"), rows)


@styled
def depth_figure(report: Report, *, title: str | None = None, size=None):
    """Latency depth of each variant (the paper's section 3.3 argument: HetConv adds no sequential layer,
    GWC+PWC and DWC+PWC add one per replaced layer), beside its FLOPs speedup (eq. 9).

    Horizontal bars, one per variant, labelled with the added depth and the speedup. `size`: (width,
    height) in inches, default 6.4 x (1.6 + 0.45 per variant).
    """
    variants = list(report.variants)
    fig, (ax,) = new_figure(size or (6.4, round(1.6 + 0.45 * len(variants), 2)))
    y = list(range(len(variants)))[::-1]
    for pos, v in zip(y, variants):
        ax.barh(pos, v.latency_depth, 0.6, color=COLOURS[v.variant], gid=v.variant)
        ax.annotate(f"{v.latency_depth} (+{v.added_latency}); FLOPs speedup {v.speedup:.2f}×",
                    xy=(v.latency_depth, pos), xytext=(4, 0), textcoords="offset points", va="center",
                    ha="left", fontsize=9, gid=f"{v.variant}-label")
    ax.set_yticks(y, [v.label for v in variants])
    ax.grid(axis="y", visible=False)
    longest = max((v.latency_depth for v in variants), default=1)
    ax.set_xlim(0, longest * 1.75)
    ax.set_xlabel("latency depth: conv and FC layers on the longest path (+ added against standard)")
    if title is None:
        title = f"{report.title}: latency depth against FLOPs speedup"
    if title:
        fig.suptitle(user_text(title))
    fit_texts(fig, [ax])
    return fig
