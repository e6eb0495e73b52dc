"""`hetcalc plot roofline`: each variant's layers on a device's roofline (predicted attained FLOP/s).

matplotlib is imported inside the figure function only.
"""

from __future__ import annotations

from hetcalc.analysis.results import Report
from hetcalc.timing.timemodel import layout_factor
from hetcalc.views.figures.axes import fit_texts
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.render import new_figure
from hetcalc.views.figures.style import COLOURS, SCATTER_MARKERS, styled, tick_text, user_text


def _unit(value: float, unit: str) -> str:
    for scale, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M")):
        if value >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _device_flops(layer) -> int:
    return round(layer.intensity * layer.bytes)


def _not_default(report: Report) -> str:
    """The mode and layout in the title when they are not eager and NCHW."""
    words = [f"{report.mode} mode"] if report.mode not in (None, "eager") else []
    words += [(report.layout or "").upper()] if report.layout not in (None, "nchw") else []
    return "".join(f", {w}" for w in words)


def roofline_data(report: Report) -> PlotData:
    """One row per variant and layer that moves bytes: intensity, predicted time, attained FLOP/s, bound."""
    rows = []
    for v in report.variants:
        for layer in v.layers:
            if not layer.bytes or not layer.time_s:
                continue
            flops = _device_flops(layer)
            rows.append((v.variant, layer.name, layer.replaced, flops, layer.bytes, layer.intensity,
                         layer.time_s, flops / layer.time_s, layer.bound))
    return PlotData(("variant", "layer", "replaced", "device_flops", "bytes", "intensity", "time_s",
                     "attained_flops_per_s", "bound"), tuple(rows))


@styled
def roofline_figure(report: Report, *, title: str | None = None, size=None):
    """Log-log roofline of report.device: the compute roof (peak x dense efficiency), the memory and
    cache slopes, and each layer at (FLOPs per byte, FLOPs / predicted time)."""
    device = report.device
    data = roofline_data(report)
    fig, (ax,) = new_figure(size or (6.4, 4.6))
    intensity = data.column("intensity")
    lo = min([x for x in intensity if x > 0] or [0.1]) / 3
    hi = max(intensity or [100]) * 3
    peak = device.peak(report.dtype)
    dense = min(1.0, device.efficiency["dense"].value * layout_factor(device, "dense", report.layout or "nchw"))
    roof = peak * dense
    xs = [lo * (hi / lo) ** (i / 200) for i in range(201)]
    ax.plot(xs, [min(peak, device.memory_bandwidth.value * x) for x in xs], color="#000000", lw=1.4,
            label=f"peak {_unit(peak, 'FLOP/s')}, memory {_unit(device.memory_bandwidth.value, 'B/s')}")
    ax.plot(xs, [min(roof, device.memory_bandwidth.value * x) for x in xs], color="#000000", lw=0.9, ls="--",
            label=f"dense-conv roof ({dense:.0%} of peak)")
    if device.cache_bandwidth is not None:
        ax.plot(xs, [min(roof, device.cache_bandwidth.value * x) for x in xs], color="#777777", lw=0.9, ls=":",
                label=f"cache {_unit(device.cache_bandwidth.value, 'B/s')}")
    ax.add_artist(ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9))
    roofs = len(ax.get_lines())
    for v in report.variants:
        pts = [(r[5], r[7], r[2]) for r in data.rows if r[0] == v.variant]
        if not pts:
            continue
        ax.scatter([p[0] for p in pts], [p[1] for p in pts], s=[26 if p[2] else 14 for p in pts],
                   marker=SCATTER_MARKERS[v.variant], color=COLOURS[v.variant], alpha=0.8, linewidths=0,
                   label=f"{v.label}: {v.time_s * 1e3:.3g} ms, {v.time_speedup:.2f}x", gid=v.variant)
    ax.set_xscale("log")
    ax.set_yscale("log")
    # the style turns math text off (user text is text), so log ticks must not be written as TeX
    from matplotlib.ticker import FuncFormatter

    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: tick_text(v)))
    ax.set_xlabel("arithmetic intensity (FLOPs per byte, 1 MAC = 2 FLOPs)")
    ax.set_ylabel("attained FLOP/s (predicted)")
    ax.set_xlim(lo, hi)
    if title is None:
        title = (f"{report.title} on {device.title}: layers on the roofline "
                 f"({report.dtype}, batch {report.batch}{_not_default(report)})")
    if title:
        fig.suptitle(user_text(title), fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    fig.legend(handles[roofs:], labels[roofs:], loc="outside lower center", ncols=2,
               title="variant: predicted time, time speedup over standard")
    fit_texts(fig, [ax])  # a long network or device name wraps the title instead of clipping it
    return fig
