"""What every figure draws alike: count and P axes, a variant's line, one legend, and labels that fit."""

from __future__ import annotations

import math
import textwrap
from typing import Iterable

from hetcalc.counting.convention import Convention
from hetcalc.views.figures.style import COLOURS, LINESTYLES, MARKERS, tick_text


def count_axis(ax, log: bool, values: Iterable[float] = ()) -> None:
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


def part_axis(ax, values: Iterable[int], label: str) -> None:
    """A log2 x axis with a tick labelled at each P plotted (`fit_texts` thins the labels if crowded)."""
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


def figure_legend(fig, axes, ncols: int, title: str | None = None):
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


def fit_texts(fig, axes, p_axis=None) -> None:
    """Wrap a title or axis label longer than the laid-out figure allows (e.g. in a one-column figure),
    and thin out the labels of a crowded P axis (`p_axis`)."""
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
        changed = p_axis is not None and _thin_part_labels(p_axis, renderer)
        for text, limit, vertical in fits:
            chars = max(map(len, text.get_text().split("\n")))
            while length(text, vertical) > limit and chars > 10:
                chars = min(chars - 1, int(chars * limit / length(text, vertical)))
                text.set_text(_wrap(paragraphs[id(text)], chars))
                changed = True
        if not changed:
            return


def flops_label(convention: Convention, what: str = "FLOPs per image") -> str:
    """The FLOPs axis label with the counting rule: 1 or 2 FLOPs per MAC, and the extra ops counted."""
    mac = "1 MAC = 1 FLOP" if convention.flops_per_mac == 1 else "1 MAC = 2 FLOPs"
    extra = f",\nplus {', '.join(dict.fromkeys(convention.ops))}" if convention.ops else ""
    if convention.preset is not None:  # its terms can be many: name the preset (docs/conventions.md)
        extra = f",\ncounted as {convention.preset}"
    return f"{what}\n({mac}{extra})"


def as_floats(values) -> list[float]:
    """Counts as floats for drawing only (numpy cannot hold integers beyond int64); CSV keeps them exact."""
    return [float(v) for v in values]


def variant_line(ax, key: str, x, y, label: str, **style):
    """A variant's values against P, in its colour, marker and dashes."""
    options = dict(color=COLOURS[key], marker=MARKERS[key], linestyle=LINESTYLES[key], label=label, gid=key)
    options.update(style)
    return ax.plot(as_floats(x), as_floats(y), **options)[0]


def reference_line(ax, key: str, y, label: str):
    """A horizontal line across the axes for a value that does not depend on P."""
    line = ax.axhline(float(y), color=COLOURS[key], linestyle=LINESTYLES[key], linewidth=1.4, label=label)
    line.set_gid(key)
    return line
