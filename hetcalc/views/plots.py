"""Figures: the paper's Figure 5, a network's per-layer costs, and its totals against P.

Each figure has a data function that returns the numbers it shows (`PlotData`, CSV-ready, counts as exact
integers) and a figure function that returns a matplotlib `Figure` on an Agg canvas (no display needed).
Only the CLI saves. matplotlib is imported inside the functions, so `import hetcalc` stays light.
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import textwrap
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

from hetcalc.convtypes.costs import CONV_TYPES
from hetcalc.counting.convention import Convention
from hetcalc.core.errors import OptionError
from hetcalc.core.formatting import csv_value, si
from hetcalc.network.graph import Conv
from hetcalc.analysis.report import Report, costed_layers
from hetcalc.analysis.sweep_totals import (  # noqa: F401 (re-exported: the sweep moved to analysis)
    MAX_P, SweepTotals, int_option, largest_common_part, long_int_text, powers_of_two, sweep_totals)


def _prepare_matplotlib() -> None:
    """Before matplotlib is first imported: figures are only ever saved, so the Agg backend whatever
    MPLBACKEND says (a bogus value would make the import fail), and a private config folder when the
    user's is not writable (matplotlib would warn on every run)."""
    import os
    import sys

    if "matplotlib" in sys.modules:
        return
    os.environ["MPLBACKEND"] = "Agg"
    if not os.environ.get("MPLCONFIGDIR"):
        home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        folder = os.path.join(home, "matplotlib")
        probe = folder if os.path.isdir(folder) else home
        if not (os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)):
            os.environ["MPLCONFIGDIR"] = _private_config_dir()
    elif not os.access(os.environ["MPLCONFIGDIR"], os.W_OK | os.X_OK):
        os.environ["MPLCONFIGDIR"] = _private_config_dir()


def _private_config_dir() -> str:
    """A folder of our own for matplotlib's font cache: kept between runs (building the cache takes
    seconds), in the temporary folder, owned by this user and private to them; a fresh one otherwise."""
    import os
    import stat
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"hetcalc-matplotlib-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077 \
                and os.access(folder, os.W_OK | os.X_OK):
            return folder
    except OSError:
        pass
    import atexit
    import shutil

    private = tempfile.mkdtemp(prefix="hetcalc-mpl-")
    atexit.register(shutil.rmtree, private, True)
    return private


_prepare_matplotlib()

# One colour per variant in every figure: the Okabe-Ito palette, safe for colour-blind readers
# (grey for the baseline). Markers and dashes keep the variants apart in greyscale print too.
COLOURS = {"standard": "#999999", "hetconv": "#0072B2", "gwc_pwc": "#E69F00", "dwc_pwc": "#009E73"}
MARKERS = {"standard": "", "hetconv": "o", "gwc_pwc": "s", "dwc_pwc": ""}
LINESTYLES = {"standard": ":", "hetconv": "-", "gwc_pwc": "-", "dwc_pwc": "--"}
ASYMPTOTE_COLOUR = "#000000"

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DEFAULT_DPI = 200
PNG_MAX_PIXELS = 2**16 - 1  # Agg's limit on each side of a raster image
MAX_RASTER = 50_000_000  # pixels of any raster drawn (the PNG, or the layout pass at the figure's dpi): 200 MB
MAX_INCHES = 200.0  # each side of a figure
MAX_DPI = 10_000
MAX_K = 1_000  # kernel size of Figure 5
LOG_SPREAD = 20  # "auto" scale: log when the largest bar exceeds the smallest non-zero one this many times
SCALES = ("linear", "log", "auto", "ratio")  # ratio: each variant's cost over standard's, per layer

# Sizes for a figure that will be printed at about its own size in a paper or on a slide.
_STYLE = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "legend.title_fontsize": 9, "figure.titlesize": 11, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.color": "#d9d9d9", "grid.linewidth": 0.6,
    "axes.axisbelow": True, "lines.linewidth": 1.8, "lines.markersize": 5, "legend.frameon": False,
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "hetcalc",
    "svg.fonttype": "none",  # SVG text stays text: searchable, selectable, editable in a paper's figure
    # text from a user (a title, a layer name like "$\\foo$") is text, never TeX math
    "text.parse_math": False, "text.usetex": False,
}


@dataclass(frozen=True)
class PlotData:
    """The numbers a figure shows, as CSV columns and rows (counts exact integers, ratios floats)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([csv_value(v) for v in row] for row in self.rows)
        return buf.getvalue()


# --------------------------------------------------------------------------- validation

def figure_format(path) -> str:
    """'png', 'svg' or 'pdf' from a file name's extension."""
    suffix = Path(str(path)).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        known = ", ".join(f.upper() for f in FORMATS.values())
        raise OptionError(f"cannot tell the figure format of {str(path)!r} from its extension "
                          f"{suffix or '(none)'}; use one of {known} "
                          f"({', '.join(FORMATS)})")
    return fmt


def _check_size(size) -> tuple[float, float]:
    try:
        width, height = (float(v) for v in size)
    except (TypeError, ValueError, OverflowError):
        raise OptionError(f"size must be two numbers (width, height) in inches, got {size!r}") from None
    if not (0 < width < float("inf") and 0 < height < float("inf")):
        raise OptionError(f"size must be two positive numbers (width, height) in inches, got {size!r}")
    if max(width, height) > MAX_INCHES or min(width, height) < 0.5:
        raise OptionError(f"size must be between 0.5 and {MAX_INCHES:g} inches a side, got {width:g} x {height:g}")
    if width * height * 100**2 > MAX_RASTER:  # the layout pass draws at 100 dpi
        raise OptionError(f"a {width:g} x {height:g} inch figure is too large to lay out "
                          f"(at most {MAX_RASTER // 10**4:,} square inches)")
    return width, height


# --------------------------------------------------------------------------- shared drawing

def _figure(size, nrows: int = 1):
    """A constrained-layout Figure on an Agg canvas, with `nrows` axes sharing x."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=_check_size(size), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def _styled(build):
    """Run a figure builder under hetcalc's figure style, whatever the user's matplotlibrc says."""
    import functools

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        import matplotlib.style

        with _layout_guard(), matplotlib.style.context(["default", _STYLE]):
            return build(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def _layout_guard():
    """Turn matplotlib's 'axes sizes collapsed' layout warning into a one-line OptionError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if "collapsed" in str(w.message):
            raise OptionError("the figure is too small for its content (its axes collapsed); give a larger "
                              "size (--size W,H in inches)")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def user_text(text) -> str:
    """Text from a user as a figure shows it: line breaks kept, other control characters escaped (a font
    has no glyph for them). Math text is off in the style, so '$' is a dollar sign."""
    from hetcalc.core.formatting import printable

    return "\n".join(printable(line) for line in str(text).split("\n"))


def tick_text(value: float) -> str:
    """A count for an axis tick: 0, 500, 2K, 1.5M, 10G."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"


def _count_axis(ax, log: bool, values: Iterable[float] = ()) -> None:
    """Counts on the y axis as 500, 2K, 1.5M; a log axis starts at the decade below its smallest value."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    if log:
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_minor_formatter(NullFormatter())
        positive = [v for v in values if v > 0]
        if positive:
            ax.set_ylim(bottom=10 ** math.floor(math.log10(min(positive))))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: tick_text(v)))


def _part_axis(ax, values: Iterable[int], label: str) -> None:
    """A log2 x axis with a tick labelled at each P plotted (`_fit_texts` thins the labels if crowded)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    values = list(values)
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticks(values, [str(v) for v in values])
    if len(values) == 1:
        ax.set_xlim(values[0] / 1.5, values[0] * 1.5)
    else:
        ax.set_xlim(values[0] / 2**0.25, values[-1] * 2**0.25)
    ax.set_xlabel(label)


def _legend(fig, axes, ncols: int, title: str | None = None):
    """One legend for the figure, outside the axes (below them), so it covers no data.

    Starts with `ncols` columns and uses fewer while the legend is wider than the figure.
    """
    handles, labels = [], []
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    renderer = fig.canvas.get_renderer()
    for columns in range(max(1, ncols), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=columns, title=title,
                            columnspacing=1.4, handlelength=2.2)
        if columns == 1 or legend.get_window_extent(renderer).width <= 0.98 * fig.bbox.width:
            return legend
        legend.remove()


def _thin_part_labels(ax, renderer) -> bool:
    """Label every 2nd (4th, ...) P of a log2 axis when the labels would touch; True if changed."""
    values = [int(v) for v in ax.get_xticks()]
    if len(values) < 2:
        return False
    widest = max(t.get_window_extent(renderer).width for t in ax.get_xticklabels() if t.get_text())
    spacing = ax.bbox.width / (len(values) - 0.5)  # the axis spans the P values plus a quarter octave a side
    step = 1
    while step < len(values) and widest + 6 > spacing * step:
        step *= 2
    labels = [str(v) if i % step == 0 else "" for i, v in enumerate(values)]
    if labels == [t.get_text() for t in ax.get_xticklabels()]:
        return False
    ax.set_xticks(values, labels)
    return True


def _wrap(paragraphs: list[str], chars: int) -> str:
    """Each paragraph wrapped at `chars`, then as narrow as it can be on as many lines (balanced lines)."""
    lines = []
    for paragraph in paragraphs:
        width = max(chars, 10)
        count = len(textwrap.wrap(paragraph, width))
        while width > 10 and len(textwrap.wrap(paragraph, width - 1)) == count:
            width -= 1
        lines += textwrap.wrap(paragraph, width) or [""]
    return "\n".join(lines)


def _fit_texts(fig, axes, part_axis=None) -> None:
    """Wrap a title or axis label longer than the laid-out figure allows (e.g. in a one-column figure),
    and thin out the labels of a crowded P axis."""
    renderer = fig.canvas.get_renderer()

    def length(text, vertical):
        box = text.get_window_extent(renderer)
        return box.height if vertical else box.width

    texts = [*fig.texts, *[ax.xaxis.label for ax in axes], *[ax.yaxis.label for ax in axes]]
    paragraphs = {id(text): text.get_text().split("\n") for text in texts}
    for _ in range(3):  # wrapping changes the layout, which changes the room for the labels
        fig.get_layout_engine().execute(fig)
        fits = [(text, 0.96 * fig.bbox.width, False) for text in fig.texts]  # the title
        for ax in axes:  # an x label is centred on its axes, which sit right of the figure's centre
            centre = (ax.bbox.x0 + ax.bbox.x1) / 2
            fits.append((ax.xaxis.label, 0.96 * 2 * min(centre, fig.bbox.width - centre), False))
        fits += [(ax.yaxis.label, 0.98 * ax.bbox.height, True) for ax in axes]
        changed = part_axis is not None and _thin_part_labels(part_axis, renderer)
        for text, limit, vertical in fits:
            chars = max(map(len, text.get_text().split("\n")))
            while length(text, vertical) > limit and chars > 10:
                chars = min(chars - 1, int(chars * limit / length(text, vertical)))
                text.set_text(_wrap(paragraphs[id(text)], chars))
                changed = True
        if not changed:
            return


def _flops_label(convention: Convention, what: str = "FLOPs per image") -> str:
    """The FLOPs axis label with the counting rule: 1 or 2 FLOPs per MAC, and the extra ops counted."""
    mac = "1 MAC = 1 FLOP" if convention.flops_per_mac == 1 else "1 MAC = 2 FLOPs"
    extra = f",\nplus {', '.join(dict.fromkeys(convention.ops))}" if convention.ops else ""
    if convention.preset is not None:  # its terms can be many: name the preset (docs/conventions.md)
        extra = f",\ncounted as {convention.preset}"
    return f"{what}\n({mac}{extra})"


def _floats(values) -> list[float]:
    """Counts as floats for drawing only (numpy cannot hold integers beyond int64); CSV keeps them exact."""
    return [float(v) for v in values]


def _line(ax, key: str, x, y, label: str, **style):
    options = dict(color=COLOURS[key], marker=MARKERS[key], linestyle=LINESTYLES[key], label=label, gid=key)
    options.update(style)
    return ax.plot(_floats(x), _floats(y), **options)[0]


def _reference(ax, key: str, y, label: str):
    """A horizontal line across the axes for a value that does not depend on P."""
    line = ax.axhline(float(y), color=COLOURS[key], linestyle=LINESTYLES[key], linewidth=1.4, label=label)
    line.set_gid(key)
    return line


# --------------------------------------------------------------------------- Figure 5: speedup against P

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


@_styled
def speedup_figure(K: int = 3, P_max: int = 256, N: int = 256, *, title: str | None = None, size=None):
    """The paper's Figure 5: speedup of a HetConv filter over a standard one against P (eqs. 5, 9).

    GWC+PWC with G = P (eq. 11) and DWC+PWC for N outputs (eq. 7) on the same axes; the K^2 asymptote
    drawn and labelled. `size`: (width, height) in inches, default 6.4 x 4.6.
    """
    data = speedup_data(K, P_max, N)
    parts = data.column("P")
    fig, (ax,) = _figure(size or (6.4, 4.6))
    _line(ax, "hetconv", parts, data.column("hetconv_speedup"), "HetConv (eqs. 5, 9)")
    _line(ax, "gwc_pwc", parts, data.column("gwc_pwc_speedup"), "GWC+PWC, G = P (eq. 11)")
    _line(ax, "dwc_pwc", parts, data.column("dwc_pwc_speedup"), f"DWC+PWC, N = {N} (eq. 7)")
    k2 = K * K
    asymptote = ax.axhline(k2, color=ASYMPTOTE_COLOUR, linestyle=(0, (1, 2)), linewidth=1.2)
    asymptote.set_gid("asymptote")
    ax.annotate(f"asymptote K² = {k2}", xy=(0, k2), xycoords=("axes fraction", "data"), xytext=(4, 3),
                textcoords="offset points", ha="left", va="bottom", fontsize=9, gid="asymptote-label")
    ax.set_ylim(0, k2 * 1.12)
    kernel = f"{K}\u00a0×\u00a0{K}"  # no-break spaces: a wrapped label keeps "3 × 3" on one line
    _part_axis(ax, parts, f"part P (M/P kernels of each filter are {kernel}, the rest 1\u00a0×\u00a01)")
    ax.set_ylabel("speedup over standard (×)")
    if title is None:
        title = f"HetConv speedup over standard convolution, K = {K}"
    if title:
        fig.suptitle(user_text(title))
    _legend(fig, [ax], ncols=3)
    _fit_texts(fig, [ax], part_axis=ax)
    return fig


# --------------------------------------------------------------------------- per-layer bars of one network

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


def default_layers_size(report: Report) -> tuple[float, float]:
    """Wide enough for every bar: about 0.12 inch per bar, at least 6.4 inches."""
    bars = len(costed_layers(report)) * len(report.variants)
    return (round(min(40.0, max(6.4, 1.6 + 0.12 * bars)), 1), 6.4)


@_styled
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
    shown = [v for v in report.variants if not (ratio and v.variant == "standard")] or list(report.variants)
    fig, (ax_flops, ax_params) = _figure(size or default_layers_size(report), 2)
    count = len(shown)
    width = 0.8 / count
    x = range(len(index))
    for ax, attr in ((ax_flops, "flops"), (ax_params, "params")):
        if ratio:
            heights = {v.variant: [getattr(v.layers[i], attr) / getattr(base.layers[i], attr)
                                   if getattr(base.layers[i], attr) else 0 for i in index] for v in shown}
        else:
            heights = {v.variant: _floats(getattr(v.layers[i], attr) for i in index) for v in shown}
        for j, v in enumerate(shown):
            label = f"{v.label}: {v.speedup:.2f}× ({si(v.flops)} FLOPs)"
            ax.bar([i + (j - (count - 1) / 2) * width for i in x], heights[v.variant], width,
                   color=COLOURS[v.variant], label=label, gid=v.variant)
        values = [h for hs in heights.values() for h in hs]
        if ratio:
            line = ax.axhline(1, color=COLOURS["standard"], linestyle=LINESTYLES["standard"], linewidth=1.4,
                              label="standard = 1")
            line.set_gid("standard")
            ax.set_ylim(0, max([1.0, *values]) * 1.08)
        else:
            _count_axis(ax, use_log(values, scale), values)
        ax.grid(axis="x", visible=False)
        ax.set_xlim(-0.6, len(index) - 0.4)
    what = "over standard" if ratio else ""
    ax_flops.set_ylabel(f"FLOPs {what}" if ratio else _flops_label(report.convention))
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
    _legend(fig, [ax_flops], ncols=min(count, 2), title="variant: total speedup over standard (eq. 9)")
    _fit_texts(fig, [ax_flops, ax_params])
    return fig


# --------------------------------------------------------------------------- totals against P

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


@_styled
def sweep_figure(sweep: SweepTotals, *, reduction: bool = False, title: str | None = None, size=None):
    """Total FLOPs (top) and parameters (bottom) against P for HetConv and GWC+PWC (G = P).

    DWC+PWC, which has no part, is a horizontal reference line, as is standard when counts are plotted.
    With `reduction`, the panels show the reduction against standard in percent instead.
    `size`: (width, height) in inches, default 6.4 x 6.4.
    """
    fig, (ax_flops, ax_params) = _figure(size or (6.4, 6.4), 2)
    labels = {"standard": "standard", "hetconv": "HetConv", "gwc_pwc": "GWC+PWC (G = P)",
              "dwc_pwc": "DWC+PWC"}
    for ax, attr in ((ax_flops, "flops"), (ax_params, "params")):
        field = f"{attr}_reduction" if reduction else attr
        for key in sweep.variants:
            values = [getattr(r.variant(key), field) for r in sweep.reports]
            if CONV_TYPES[key].part:
                _line(ax, key, sweep.parts, values, labels[key])
            elif not (reduction and key == "standard"):  # standard's reduction is the zero line
                _reference(ax, key, values[0], labels[key])
        if reduction:
            ax.axhline(0, color="#000000", linewidth=0.8)
        else:
            _count_axis(ax, log=False)
            ax.set_ylim(bottom=0)
    what = " reduction\nagainst standard (%)"
    ax_flops.set_ylabel(_flops_label(sweep.convention, "FLOPs" + what if reduction else "FLOPs per image"))
    ax_params.set_ylabel("parameter" + what if reduction else "parameters")
    label = "part P (HetConv), groups G = P (GWC+PWC)"
    if sweep.skipped:
        label += "\n" + sweep.skipped_note
    _part_axis(ax_params, sweep.parts, label)
    if title is None:
        title = (f"{sweep.title}: FLOPs and parameter reduction against P" if reduction else
                 f"{sweep.title}: total cost against P")
    if title:
        fig.suptitle(user_text(title))
    _legend(fig, [ax_flops], ncols=min(len(sweep.variants), 4))
    _fit_texts(fig, [ax_flops, ax_params], part_axis=ax_params)
    return fig


# --------------------------------------------------------------------------- output

def render_figure(fig, fmt: str, dpi: float = DEFAULT_DPI) -> bytes:
    """The figure as PNG, SVG or PDF bytes, without a creation date so that output is reproducible.

    Refuses a raster larger than Agg allows and a figure too small for its content.
    """
    import matplotlib.style

    if fmt not in FORMATS.values():
        raise OptionError(f"unknown figure format {fmt!r}; use one of {', '.join(FORMATS.values())}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not 1 <= dpi < float("inf"):
        raise OptionError(f"dpi must be a number from 1 to {MAX_DPI:,}, got {dpi!r}")
    width, height = fig.get_size_inches()
    if fmt == "png" and min(width, height) * dpi < 16:
        raise OptionError(f"a {width:g} x {height:g} inch figure at {dpi:g} dpi is smaller than 16 pixels a "
                          "side; raise --dpi or --size")
    if fmt == "png" and max(width, height) * dpi > PNG_MAX_PIXELS:
        raise OptionError(f"a {width:g} x {height:g} inch figure at {dpi:g} dpi is "
                          f"{round(width * dpi)} x {round(height * dpi)} pixels; PNG allows at most "
                          f"{PNG_MAX_PIXELS} on each side (lower --dpi or --size)")
    if fmt == "png" and width * height * dpi * dpi > MAX_RASTER:
        raise OptionError(f"a {width:g} x {height:g} inch figure at {dpi:g} dpi is "
                          f"{round(width * dpi):,} x {round(height * dpi):,} pixels; at most {MAX_RASTER:,} "
                          "pixels in all (lower --dpi or --size)")
    if dpi > MAX_DPI:
        raise OptionError(f"dpi must be a number from 1 to {MAX_DPI:,}, got {dpi!r}")
    metadata = {"png": {}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}[fmt]
    buf = io.BytesIO()
    with _layout_guard(), matplotlib.style.context(_STYLE):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=metadata)
    return buf.getvalue()


def _drawn_texts(fig) -> list:
    """The non-empty texts a drawn figure shows: titles, axis and tick labels, annotations, legends."""
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks():
                if low <= tick.get_loc() <= high:
                    texts += [tick.label1, tick.label2]
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        texts += [legend.get_title(), *legend.get_texts()]
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def layout_problems(fig) -> list[str]:
    """What keeps a figure from print quality: text past its edges, texts on top of each other."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    problems = []
    content = fig.get_tightbbox(renderer)
    width, height = fig.get_size_inches()
    excess = max(0.0, -content.x0, -content.y0, content.x1 - width, content.y1 - height)
    if excess > 0.01:
        problems.append(f"the content reaches {excess:.2f} inch past the figure's edge")
    boxes = [(t.get_text(), t.get_window_extent(renderer).padded(-1)) for t in _drawn_texts(fig)]
    for i, (text_a, box_a) in enumerate(boxes):
        for text_b, box_b in boxes[i + 1:]:
            if box_a.overlaps(box_b):
                problems.append(f"the texts {text_a!r} and {text_b!r} overlap")
    return problems


# --------------------------------------------------------------------------- latency depth

def depth_data(report: Report) -> PlotData:
    """Each variant's latency depth (conv and FC layers on the longest path), added depth and speedup."""
    rows = tuple((v.variant, v.label, v.latency_depth, v.added_latency, v.flops, v.speedup)
                 for v in report.variants)
    return PlotData(("variant", "label", "latency_depth", "added_latency", "flops", "speedup"), rows)


@_styled
def depth_figure(report: Report, *, title: str | None = None, size=None):
    """Latency depth of each variant (the paper's section 3.3 argument: HetConv adds no sequential layer,
    GWC+PWC and DWC+PWC add one per replaced layer), beside its FLOPs speedup (eq. 9).

    Horizontal bars, one per variant, labelled with the added depth and the speedup. `size`: (width,
    height) in inches, default 6.4 x (1.6 + 0.45 per variant).
    """
    variants = list(report.variants)
    fig, (ax,) = _figure(size or (6.4, round(1.6 + 0.45 * len(variants), 2)))
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
        fig.suptitle(title)
    _fit_texts(fig, [ax])
    return fig
