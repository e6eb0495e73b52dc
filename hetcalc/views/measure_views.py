"""A `Measurement` as header lines and a table (`Grid`), CSV and JSON. Nothing here prints."""

from __future__ import annotations

import io

from hetcalc.core import formatting as fmt
from hetcalc.measure.runs import Measurement
from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid

CSV_FIELDS = ("key", "variant", "label", "P", "G", "flops", "params", "batch", "threads", "rounds", "passes",
              "median_s", "q1_s", "q3_s", "spread", "speedup", "flops_speedup", "predicted_s", "predicted_speedup",
              "error", "speedup_error")


def seconds(value: float | None) -> str:
    """Three significant digits in s, ms or us (core/formatting.py); empty for None."""
    return "" if value is None else fmt.seconds(value)


def signed_percent(value: float | None) -> str:
    return "" if value is None else f"{100 * value:+.0f}%"


def header_lines(m: Measurement) -> list[str]:
    """What was measured, how, and where the predictions come from."""
    impl = {"split": "split (grouped K x K + gather + grouped 1 x 1, added)",
            "masked": "masked (dense K x K, masked weights)",
            "fused": "fused, built, timed and predicted as masked (PyTorch has no fused HetConv kernel)"}[m.hetconv_impl]
    lines = [f"{m.title} [{m.architecture}]  input {fmt.shape(m.input)}  batch {m.batch}  {m.dtype}",
             f"Measured: PyTorch {m.torch_version}, CPU, {m.threads} thread{'s' if m.threads != 1 else ''}, eval "
             f"mode, torch.inference_mode{', channels-last (NHWC) modules and input' if m.layout == 'nhwc' else ''}.",
             f"HetConv {impl}.",
             f"Medians of {m.rounds} round{'s' if m.rounds != 1 else ''} interleaved across the variants, after "
             f"{m.warmup} warm-up pass{'es' if m.warmup != 1 else ''}."]
    if m.load_average is not None and m.cpus:
        load = f"Load average {m.load_average:.1f} on {m.cpus} CPUs"
        if m.load_average > m.cpus / 2 and m.threads > 1:
            load = f"{load}: busy; {m.threads} threads can be far slower (--threads 1)"
        elif m.load_average > m.cpus / 2:
            load = f"{load}: busy, timings are noisy"
        lines.append(load + ".")
    if m.device:
        lines.append(f"Predicted: hetcalc's time model on device profile {m.device} ({m.device_title}).")
        if m.layout == "nhwc" and not m.device_channels_last:
            lines.append("Predicted in NHWC: the profile has no channels-last factors (calibrate with PyTorch "
                         "measures them), so its kernels are timed at NCHW rates; NHWC's copies are added.")
    else:
        lines.append("Predicted: not shown (give --device NAME or PROFILE.yaml).")
    return lines


def measurement_grid(m: Measurement) -> Grid:
    """One row per variant: measured median, spread, measured and FLOPs speedups, predicted time and error."""
    predicted = m.device is not None
    columns = [Column("variant", "left", shrink=True), Column("measured"), Column("spread", drop=1),
               Column("speedup"), Column("by FLOPs", drop=2)]
    if predicted:
        columns += [Column("predicted"), Column("error"), Column("by model")]
    grid = Grid(title="Measured time per forward pass", columns=columns)
    for v in m.variants:
        row = [v.label, seconds(v.median_s), f"{100 * v.spread:.0f}%",
               "" if v.speedup is None else fmt.speedup(v.speedup), fmt.speedup(v.flops_speedup)]
        if predicted:
            row += [seconds(v.predicted_s), signed_percent(v.error),
                    "" if v.predicted_speedup is None else fmt.speedup(v.predicted_speedup)]
        grid.rows.append(row)
    notes = ["measured: median time of one forward pass of the batch; spread: interquartile range / median.",
             "speedup: standard's measured time / the variant's; by FLOPs: standard's FLOPs / the variant's "
             "(eq. 9)."]
    if predicted:
        notes.append("predicted: hetcalc's time model; error: predicted / measured - 1; by model: "
                     "predicted speedup.")
    grid.notes = notes
    return grid


def measurement_document(m: Measurement) -> Document:
    return Document(header_lines(m), [measurement_grid(m)])


def measurement_csv(m: Measurement) -> str:
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for v in m.variants:
        data = {**v.to_dict(), "batch": m.batch, "threads": m.threads, "rounds": m.rounds}
        writer.writerow(["" if data[f] is None else data[f] for f in CSV_FIELDS])
    return buf.getvalue()


def measurement_json(m: Measurement) -> str:
    import json

    return json.dumps(m.to_dict(), indent=2) + "\n"
