"""A figure's canvas and its output: the formats, the size limits, rendering to bytes, layout problems."""

from __future__ import annotations

import io
from pathlib import Path

from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean
from hetcalc.views.figures.style import STYLE, layout_guard

FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}
DEFAULT_DPI = 200
PNG_MAX_PIXELS = 2**16 - 1  # Agg's limit on each side of a raster image
MAX_RASTER = 50_000_000  # pixels of any raster drawn (the PNG, or the layout pass at the figure's dpi): 200 MB
MAX_INCHES = 200.0  # each side of a figure
MAX_DPI = 10_000


# -o extensions that other commands write
ELSEWHERE = {**dict.fromkeys((".txt", ".csv", ".json", ".md", ".markdown", ".tex"),
                             "; tables and data come from `hetcalc ARCH -o FILE` (or sweep, reproduce)"),
             **dict.fromkeys((".html", ".htm"), "; an HTML report comes from `hetcalc report ARCH -o FILE.html`")}


def figure_format(path) -> str:
    """'png', 'svg' or 'pdf' from a file name's extension."""
    suffix = Path(str(path)).suffix.lower()
    fmt = FORMATS.get(suffix)
    if fmt is None:
        known = ", ".join(f.upper() for f in FORMATS.values())
        raise OptionError(f"cannot tell the figure format of {str(path)!r} from its extension "
                          f"{suffix or '(none)'}; use one of {known} "
                          f"({', '.join(FORMATS)}){ELSEWHERE.get(suffix, '')}")
    return fmt


def check_size(size) -> tuple[float, float]:
    """(width, height) in inches, if a figure of that size can be laid out; an OptionError otherwise."""
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


def new_figure(size, nrows: int = 1):
    """A constrained-layout Figure on an Agg canvas, with `nrows` axes sharing x."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=check_size(size), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, 1, sharex=True, squeeze=False)[:, 0]
    return fig, list(axes)


def render_figure(fig, fmt: str, dpi: float = DEFAULT_DPI) -> bytes:
    """The figure as PNG, SVG or PDF bytes, without a creation date so that output is reproducible.

    Refuses a raster larger than Agg allows and a figure too small for its content.
    """
    import matplotlib.style

    if fmt not in FORMATS.values():
        raise OptionError(f"unknown figure format {fmt!r}{did_you_mean(fmt, FORMATS.values())}; use one of "
                          f"{', '.join(FORMATS.values())}")
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
    with layout_guard(), matplotlib.style.context(STYLE):
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
