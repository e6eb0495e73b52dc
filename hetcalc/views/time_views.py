"""Memory traffic and predicted time as table data (`Grid`s): the report's new figures, nothing printed."""

from __future__ import annotations

from hetcalc.core import formatting as fmt
from hetcalc.convtypes import CONV_TYPES
from hetcalc.analysis.results import Report, costed
from hetcalc.analysis.timed import compiled_on_cpu
from hetcalc.views.grid import Column, Grid

IMPL_WORDS = {"split": "split (grouped KxK + gather + grouped 1x1 + add, as PyTorch runs it)",
              "masked": "masked (a dense KxK)",
              "fused": "fused: a hypothetical single kernel that no framework ships (--hetconv-impl split: what "
                       "PyTorch runs)"}
BOUND_LETTER = {"compute": "C", "memory": "M", "overhead": "O"}


seconds, size = fmt.seconds, fmt.size  # three significant digits (core/formatting.py)


def row_noun(report: Report) -> str:
    """What a row of a per-layer table is: a layer, a stage (--by stage) or a group of layers (--depth N)."""
    return "layer" if report.by in ("layer", None) else "stage" if report.by == "stage" else "group"


def per_image(report: Report) -> str:
    """' (per image)' beside FLOPs when traffic and time are for a batch of more than one image."""
    return " (per image)" if (report.batch or 1) > 1 else ""


def per_batch(report: Report) -> list[str]:
    """The note under a traffic or time table of a batch: what is per batch and what per image."""
    if (report.batch or 1) <= 1:
        return []
    return [f"Traffic and time per batch of {report.batch} images; FLOPs (other tables) per image."]


def header_lines(report: Report) -> list[str]:
    """What the traffic and time figures assume, one line each."""
    if report.dtype is None:
        return []
    layout = (report.layout or "nchw").upper()
    lines = [f"Memory traffic: {report.dtype}, batch {report.batch}, {report.mode} mode, {layout} layout; every kernel "
             "reads its inputs and weights and writes its output once (docs/time-model.md)."]
    if report.batch > 1:
        lines.append(f"FLOPs and parameters are per image; traffic and time are per batch of {report.batch}.")
    if report.device is not None:
        lines.append(report.device.summary() + f"; HetConv as {IMPL_WORDS.get(report.hetconv_impl, report.hetconv_impl)}.")
        lines.append("Time: kernels run one after another (overhead + max(compute, memory) each); "
                     "parallel branches do not overlap.")
        if layout == "NHWC" and not report.device.channels_last:
            measured = report.device.measured if report.device.kind == "cpu" else {}
            why = ("calibrated without PyTorch: `pip install 'hetcalc[torch]'`, then `hetcalc calibrate`"
                   if measured and measured.get("torch") is False else
                   "calibrated without channels-last timings: run `hetcalc calibrate` again" if measured
                   else "it was not checked on channels-last runs")
            lines.append(f"NHWC on {report.device.name}: its profile has no channels-last factors ({why}), so "
                         "kernels are timed at its NCHW rates; only NHWC's copies are added.")
        if (layout == "NHWC" and report.mode == "eager" and report.device.kind == "cpu"
                and report.hetconv_impl == "split" and any(v.variant == "hetconv" for v in report.variants)):
            lines.append("HetConv split channels-last on a CPU: its gathered tensor's layout copy is timed at "
                         "the profile's transpose bandwidth; copies of hundreds of channels on 32 x 32 maps ran "
                         "up to 3x slower where measured (docs/time-model.md).")
        if compiled_on_cpu(report.device, report.mode):
            lines.append("Compiled on a CPU: NHWC whatever --layout says (inductor's layout optimisation makes "
                         "every convolution channels-last), weights read once (frozen: BatchNorm folded).")
    return lines


def time_layer_grid(report: Report) -> Grid:
    """Per-layer predicted time and bound (with a device) or bytes (traffic only) of each variant."""
    timed = report.device is not None
    row_name = row_noun(report)
    columns = [Column(row_name, "left", shrink=True)]
    for v in report.variants:
        columns.append(Column(CONV_TYPES[v.variant].label))
    per = f"Per-{row_name}"
    grid = Grid(title=f"{per} time on {report.device.name}" if timed else f"{per} memory traffic",
                columns=columns)
    for i, first in enumerate(report.variants[0].layers):
        rows = [v.layers[i] for v in report.variants]
        if not costed(rows) and not any(r.bytes for r in rows):
            continue
        cells = [first.name + (" *" if any(r.replaced for r in rows) else "")]
        for r in rows:
            cells.append(f"{seconds(r.time_s)} {BOUND_LETTER[r.bound]}" if timed else size(r.bytes))
        grid.rows.append(cells)
    grid.total = ["total", *[seconds(v.time_s) if timed else size(v.bytes) for v in report.variants]]
    if timed:
        grid.notes = ["Bound: C compute, M memory, O per-kernel overhead (the term that takes most of the "
                      "layer's time). Replaced layers are marked with *."]
    else:
        grid.notes = ["Bytes read and written by each layer's kernels (weights, input and output "
                      "activations, intermediate tensors)."]  # what is per batch: under the summary that follows
    return grid


def time_summary_grid(report: Report) -> Grid:
    """One row per variant: traffic, intensity, peak activations and, with a device, time and speedups."""
    timed = report.device is not None
    # on a narrow terminal: peak act. goes first, then headers shorten, then FLOPs speedup, then FLOP/B
    columns = [Column("variant", "left"), Column("traffic"), Column("FLOP/B", drop=3),
               Column("peak act.", drop=1)]
    if timed:
        columns += [Column("time"), Column("time speedup", short="t-speedup"),
                    Column("FLOPs speedup", short="FLOPs x", drop=2)]
    grid = Grid(title=f"Time on {report.device.title}" if timed else "Memory traffic", columns=columns)
    for v in report.variants:
        device_flops = sum((layer.intensity or 0) * layer.bytes for layer in v.layers)  # a row without bytes: 0
        row = [v.label, size(v.bytes), f"{device_flops / v.bytes:.1f}" if v.bytes else "",
               size(v.peak_activation_bytes)]
        if timed:
            row += [seconds(v.time_s), fmt.speedup(v.time_speedup), fmt.speedup(v.speedup)]
        grid.rows.append(row)
    notes = ["traffic: bytes read and written by all kernels of one forward pass; FLOP/B: device FLOPs "
             "(1 MAC = 2 FLOPs) per byte; "
             "peak act.: the largest kernel's activations plus tensors held for residual shortcuts."]
    if timed:
        notes.append("time speedup = standard's predicted time / the variant's; FLOPs speedup = eq. 9.")
    grid.notes = notes + per_batch(report)
    return grid


def time_grids(report: Report, per_layer: bool = True) -> list[Grid]:
    if report.dtype is None:
        return []
    return [time_layer_grid(report), time_summary_grid(report)] if per_layer else [time_summary_grid(report)]
