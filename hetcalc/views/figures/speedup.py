"""The paper's Figure 5: the speedup of a HetConv filter over a standard one against P (eqs. 5, 9)."""

from __future__ import annotations

from hetcalc.analysis.sweep_totals import int_option, long_int_text, powers_of_two
from hetcalc.convtypes.costs import CONV_TYPES
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Conv
from hetcalc.views.figures.axes import figure_legend, fit_texts, part_axis, variant_line
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import ASYMPTOTE_COLOUR, styled, user_text

MAX_K = 1_000  # kernel size of Figure 5


def speedup_data(K: int = 3, P_max: int = 256, N: int = 256) -> PlotData:
    """Speedup over standard (eq. 9) of HetConv (eq. 5), GWC+PWC with G = P (eq. 11) and DWC+PWC (eq. 7).

    The closed forms come from the CONV_TYPES registry, for a K x K filter with N outputs.
    """
    int_option(K, "K", 2)
    if K > MAX_K:
        raise OptionError(f"K must be at most {MAX_K:,}, got {long_int_text(K)}")
    int_option(N, "N")
    if N > 10**30:
        raise OptionError(f"N must be at most 10**30, got {long_int_text(N)}")
    parts = powers_of_two(P_max, "P_max")
    conv = Conv(name="filter", in_shape=(N, 1, 1), out_shape=(N, 1, 1), kernel=(K, K))
    hetconv, gwc_pwc, dwc_pwc = (CONV_TYPES[key].closed_form for key in ("hetconv", "gwc_pwc", "dwc_pwc"))
    rows = tuple((P, 1 / hetconv(conv, P), 1 / gwc_pwc(conv, P), 1 / dwc_pwc(conv, None), K * K) for P in parts)
    return PlotData(("P", "hetconv_speedup", "gwc_pwc_speedup", "dwc_pwc_speedup", "asymptote_K2"), rows)


@styled
def speedup_figure(K: int = 3, P_max: int = 256, N: int = 256, *, title: str | None = None, size=None):
    """The paper's Figure 5: speedup of a HetConv filter over a standard one against P (eqs. 5, 9).

    GWC+PWC with G = P (eq. 11) and DWC+PWC for N outputs (eq. 7) on the same axes; the K^2 asymptote
    drawn and labelled. `size`: (width, height) in inches, default 6.4 x 4.6.
    """
    data = speedup_data(K, P_max, N)
    parts = data.column("P")
    fig, (ax,) = new_figure(size or (6.4, 4.6))
    variant_line(ax, "hetconv", parts, data.column("hetconv_speedup"), "HetConv (eqs. 5, 9)")
    variant_line(ax, "gwc_pwc", parts, data.column("gwc_pwc_speedup"), "GWC+PWC, G = P (eq. 11)")
    variant_line(ax, "dwc_pwc", parts, data.column("dwc_pwc_speedup"), f"DWC+PWC, N = {N} (eq. 7)")
    k2 = K * K
    asymptote = ax.axhline(k2, color=ASYMPTOTE_COLOUR, linestyle=(0, (1, 2)), linewidth=1.2)
    asymptote.set_gid("asymptote")
    ax.annotate(f"asymptote K² = {k2}", xy=(0, k2), xycoords=("axes fraction", "data"), xytext=(4, 3),
                textcoords="offset points", ha="left", va="bottom", fontsize=9, gid="asymptote-label")
    ax.set_ylim(0, k2 * 1.12)
    kernel = f"{K}\u00a0×\u00a0{K}"  # no-break spaces: a wrapped label keeps "3 × 3" on one line
    part_axis(ax, parts, f"part P (M/P kernels of each filter are {kernel}, the rest 1\u00a0×\u00a01)")
    ax.set_ylabel("speedup over standard (×)")
    if title is None:
        title = f"HetConv speedup over standard convolution, K = {K}"
    if title:
        fig.suptitle(user_text(title))
    figure_legend(fig, [ax], ncols=3)
    fit_texts(fig, [ax], p_axis=ax)
    return fig
