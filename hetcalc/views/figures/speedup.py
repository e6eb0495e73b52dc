"""The paper's Figure 5: the speedup of a HetConv filter over a standard one against P (eqs. 5, 9), beside
every other registered convolution type's (its closed-form ratio from CONV_TYPES)."""

from __future__ import annotations

from hetcalc.analysis.sweep_totals import int_option, long_int_text, powers_of_two
from hetcalc.convtypes import CONV_TYPES, ConvType
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Conv
from hetcalc.views.figures.axes import figure_legend, fit_texts, part_axis, variant_line
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import ASYMPTOTE_COLOUR, BASELINE, styled, user_text

MAX_K = 1_000  # kernel size of Figure 5
SUBJECT = "hetconv"  # the figure's own type: its P is the x axis (M/P kernels K x K), K^2 its asymptote


def curves() -> list[ConvType]:
    """The types drawn, in registry order: every one but the baseline (whose speedup is 1)."""
    return [t for key, t in CONV_TYPES.items() if key != BASELINE]


def curve_label(ctype: ConvType, N: int) -> str:
    """'HetConv (eqs. 5, 9)', 'GWC+PWC, G = P (eq. 11)', 'DWC+PWC, N = 256 (eq. 7)': the type, what its
    part is set to (a type without one is drawn for the filter's N outputs), the equation of its ratio."""
    if ctype.part is None:  # drawn flat, for the filter's N outputs
        setting = f", N = {N}"
    elif ctype.part != "P":  # its own part option (G) set to P
        setting = f", {ctype.part} = P"
    else:
        setting = ""
    equation = ctype.ratio_equation
    if ctype.key == SUBJECT:  # the figure is its speedup: eq. 9 over that ratio
        equation = equation.replace("eq. ", "eqs. ") + ", 9"
    return f"{ctype.label}{setting} ({equation})"


def speedup_data(K: int = 3, P_max: int = 256, N: int = 256) -> PlotData:
    """Speedup over standard (eq. 9) of each type of `curves()`: HetConv (eq. 5), GWC+PWC with G = P
    (eq. 11) and DWC+PWC (eq. 7) for the built-ins.

    The closed forms come from the CONV_TYPES registry, for a K x K filter with N outputs; a type with a
    part (P or G) has it set to P.
    """
    int_option(K, "K", 2)
    if K > MAX_K:
        raise OptionError(f"K must be at most {MAX_K:,}, got {long_int_text(K)}")
    int_option(N, "N")
    if N > 10**30:
        raise OptionError(f"N must be at most 10**30, got {long_int_text(N)}")
    parts = powers_of_two(P_max, "P_max")
    conv = Conv(name="filter", in_shape=(N, 1, 1), out_shape=(N, 1, 1), kernel=(K, K))
    types = curves()
    rows = tuple((P, *[1 / float(t.closed_form(conv, P if t.part else None)) for t in types], K * K) for P in parts)
    return PlotData(("P", *[f"{t.key}_speedup" for t in types], "asymptote_K2"), rows)


@styled
def speedup_figure(K: int = 3, P_max: int = 256, N: int = 256, *, title: str | None = None, size=None):
    """The paper's Figure 5: speedup of a HetConv filter over a standard one against P (eqs. 5, 9).

    GWC+PWC with G = P (eq. 11), DWC+PWC for N outputs (eq. 7) and any other registered type on the same
    axes; the K^2 asymptote drawn and labelled. `size`: (width, height) in inches, default 6.4 x 4.6.
    """
    data = speedup_data(K, P_max, N)
    parts = data.column("P")
    fig, (ax,) = new_figure(size or (6.4, 4.6))
    types = curves()
    for t in types:
        variant_line(ax, t.key, parts, data.column(f"{t.key}_speedup"), curve_label(t, N))
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
        title = f"{CONV_TYPES[SUBJECT].label} speedup over standard convolution, K = {K}"
    if title:
        fig.suptitle(user_text(title))
    figure_legend(fig, [ax], ncols=len(types))
    fit_texts(fig, [ax], p_axis=ax)
    return fig
