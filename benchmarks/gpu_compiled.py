"""Compiled mode against published measurement: predict timm's torch.compile (`-dynamo`) inference step times.

timm publishes, beside its eager runs, the same models compiled with torch.compile (dynamo + inductor, AMP
fp16, NCHW input, which inductor converts to channels-last: --layout nhwc predicts in that layout) on some GPUs. This script reads those rows (benchmarks/data/*-dynamo.csv, source named in
each file), predicts each step time with hetcalc's time model in compiled mode (BatchNorm folded, activations
and residual adds in the convolution's epilogue: docs/time-model.md) on the built-in profile of that GPU,
unchanged (its efficiencies come from the eager files: nothing is fitted here), and prints per GPU median
|error|, share within 25% and Spearman, beside the same profile in eager mode and the baselines of
gpu_published.py. It also checks the speedup of compiling: the published eager over compiled time per image
(the eager file of the same GPU) against the model's eager over compiled prediction.

    python benchmarks/gpu_compiled.py               # the figures of docs/gpu-validation.md#compiled-mode
    python benchmarks/gpu_compiled.py --models      # every model's measured and predicted times
    python benchmarks/gpu_compiled.py --ranking     # the HetConv variants' ranking, eager against compiled
    python benchmarks/gpu_compiled.py --generated-kernel   # an ablation: inductor's generated kernel, no epilogue
    python benchmarks/gpu_compiled.py --layout nhwc        # compiled mode in channels-last, as inductor runs it
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gpu_published as gp  # noqa: E402

# profile -> (published compiled file, published eager file of the same GPU)
DYNAMO = {
    "rtx4090": ("timm-infer-amp-nchw-pt240-cu124-rtx4090-dynamo.csv", "timm-infer-amp-nchw-pt240-cu124-rtx4090.csv"),
    "rtx5090": ("timm-infer-amp-nchw-pt291-cu130-5090-dynamo.csv", "timm-infer-amp-nchw-pt291-cu130-5090.csv"),
    "rtx-pro-6000-maxq": ("timm-infer-amp-nchw-pt291-cu130-pro6000maxq-dynamo.csv",
                          "timm-infer-amp-nchw-pt291-cu130-pro6000maxq.csv"),
}


# the published eager channels-last file of the same GPU and software: inductor converts convolution graphs to
# channels-last; in NCHW (without --layout nhwc, which models it) dividing by the measured NHWC / NCHW gain
# shows how much of the miss that is
NHWC = {"rtx4090": "timm-infer-amp-nhwc-pt240-cu124-rtx4090.csv"}
ABLATION = {"on": False}  # --generated-kernel


def generated_kernel_times(name: str, compiled_file: str, device) -> dict:
    """An ablation: the compiled mode with the fused ops as one generated element-wise kernel after the library
    convolution (hetcalc.timing.fusion, into="kernel"), inductor's default mode, not cached."""
    import functools
    import warnings

    import hetcalc
    import hetcalc.analysis.timed as timed
    from hetcalc.timing.fusion import compiled_kernels

    _, usable, _ = with_mode("compiled", gp.dataset, compiled_file)
    original = timed.compiled_kernels
    timed.compiled_kernels = functools.partial(compiled_kernels, into="kernel")
    predicted = []
    try:
        for d in usable:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                report = hetcalc.analyze(str(gp.onnx_path(d["model"], d["size"])), variants="standard")
            kernels = [k for layer in timed.variant_kernels(report, report.baseline, "fp16", d["batch"], "fused",
                                                            "compiled", LAYOUT["compiled"]) for k in layer]
            predicted.append(_time(device, kernels))
    finally:
        timed.compiled_kernels = original
    out = gp.figures(predicted, [d["measured"] for d in usable])
    out["models"] = {(d["model"], d["size"]): p for d, p in zip(usable, predicted)}
    return out


def _time(device, kernels) -> float:
    from hetcalc.timing.timemodel import kernel_time

    return sum(kernel_time(device, k, "fp16", LAYOUT["compiled"]).seconds for k in kernels)


LAYOUT = {"compiled": "nchw"}  # --layout: the layout of the compiled predictions (eager ones stay NCHW, as published)


def with_mode(mode: str, fn, *args):
    """fn(*args) with the time model in `mode`; compiled mode in the layout --layout names, eager in NCHW."""
    old = dict(gp.MODE)
    gp.MODE.update(mode=mode, layout=LAYOUT["compiled"] if mode == "compiled" else "nchw")
    try:
        return fn(*args)
    finally:
        gp.MODE.update(old)


def evaluate_gpu(name: str) -> dict:
    compiled_file, eager_file = DYNAMO[name]
    device = gp.load_profile(name)
    source, usable, left_out = with_mode("compiled", gp.dataset, compiled_file)
    out = {"source": source, "left_out": left_out}
    out["compiled"] = with_mode("compiled", gp.evaluate, name, usable, {}, device, False)
    if ABLATION["on"]:
        out["generated_kernel"] = generated_kernel_times(name, compiled_file, device)
    _, eager_rows, _ = with_mode("eager", gp.dataset, compiled_file)  # the same rows, kernels as eager mode
    eager_pred = [with_mode("eager", gp.product_time, device, d["kernels"]) for d in eager_rows]
    measured = [d["measured"] for d in eager_rows]
    out["eager_model"] = gp.figures(eager_pred, measured)
    # the speedup of compiling, per image: published eager file over compiled file, predicted eager over compiled
    _, eager_published, _ = with_mode("eager", gp.dataset, eager_file)
    published_eager = {(d["model"], d["size"]): d["measured"] / d["batch"] for d in eager_published}
    pairs = []
    for d, pe, m in zip(usable, eager_pred, out["compiled"]["models"]):
        key = (d["model"], d["size"])
        if key in published_eager:
            measured_x = published_eager[key] / (d["measured"] / d["batch"])
            predicted_x = pe / (m["predicted_ms"] / 1e3)
            pairs.append({"model": d["model"], "size": d["size"], "measured_x": measured_x, "predicted_x": predicted_x})
    out["speedup"] = gp.figures([p["predicted_x"] for p in pairs], [p["measured_x"] for p in pairs])
    out["speedup"]["measured_median"] = statistics.median(p["measured_x"] for p in pairs)
    out["speedup"]["predicted_median"] = statistics.median(p["predicted_x"] for p in pairs)
    out["pairs"] = pairs
    if name in NHWC and LAYOUT["compiled"] == "nchw":  # a diagnostic: the layout gain taken from measurement
        gain = {(d["model"], d["size"]): d["measured"] / d["batch"] for d in with_mode("eager", gp.dataset, NHWC[name])[1]}
        keep = [(m["predicted_ms"] / (published_eager[k] / gain[k]), m["measured_ms"]) for m in out["compiled"]["models"]
                if (k := (m["model"], m["size"])) in gain and k in published_eager]
        out["with_nhwc_gain"] = gp.figures([p for p, _ in keep], [m for _, m in keep])
        if "generated_kernel" in out:
            models = out["generated_kernel"]["models"]
            both = [(models[k] / (published_eager[k] / gain[k]), d["measured"]) for d in usable
                    if (k := (d["model"], d["size"])) in gain and k in published_eager]
            out["generated_with_nhwc_gain"] = gp.figures([p for p, _ in both], [m for _, m in both])
    return out


def report(results: dict, per_model: bool) -> str:
    lines = ["| GPU (profile unchanged) | models | compiled mode: median / within 25% / Spearman / bias | "
             "eager mode on the same rows | FLOPs / peak | plain roofline | speedup of compiling: published / "
             "predicted median, median error, Spearman |", "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        c, e, s = r["compiled"]["hetcalc"], r["eager_model"], r["speedup"]
        cell = lambda f: f"{f['median']:.1%} / {f['within25']:.0%} / {f['spearman']:.3f}"  # noqa: E731
        lines.append(f"| {name} ({DYNAMO[name][0]}) | {c['n']} | {cell(c)} / {c['bias']:+.1%} | {cell(e)} / "
                     f"{e['bias']:+.1%} | {cell(r['compiled']['flops_peak'])} | {cell(r['compiled']['roofline'])} | "
                     f"{s['measured_median']:.2f}x / {s['predicted_median']:.2f}x, {s['median']:.1%}, "
                     f"{s['spearman']:.3f} |")
    for name, r in results.items():
        if "generated_kernel" in r:
            f = r["generated_kernel"]
            lines.append(f"{name}, fused ops as one generated kernel after the convolution (--generated-kernel): "
                         f"{f['median']:.1%} / {f['within25']:.0%} / {f['spearman']:.3f}, bias {f['bias']:+.1%}")
        if "generated_with_nhwc_gain" in r:
            f = r["generated_with_nhwc_gain"]
            lines.append(f"{name}, generated kernel and the published channels-last gain together (a diagnostic): "
                         f"{f['median']:.1%} / {f['within25']:.0%} / {f['spearman']:.3f}, bias {f['bias']:+.1%}")
        if "with_nhwc_gain" in r:
            f = r["with_nhwc_gain"]
            lines.append(f"{name}, compiled prediction divided by the published channels-last gain (eager NHWC / NCHW "
                         f"file, a diagnostic): {f['median']:.1%} / {f['within25']:.0%} / {f['spearman']:.3f}, bias "
                         f"{f['bias']:+.1%} over {f['n']} models")
    for name, r in results.items():
        for item in r["left_out"]:
            lines.append(f"left out of {name}: {item['model']} at {item['size']}: {item['why']}")
    if per_model:
        for name, r in results.items():
            lines += ["", f"{name}: model, measured ms, predicted ms (compiled), error; speedup published / predicted"]
            speed = {(p["model"], p["size"]): p for p in r["pairs"]}
            for m in r["compiled"]["models"]:
                p = speed.get((m["model"], m["size"]))
                extra = f"; {p['measured_x']:.2f}x / {p['predicted_x']:.2f}x" if p else ""
                lines.append(f"  {m['model']}@{m['size']}: {m['measured_ms']:.1f} {m['predicted_ms']:.1f} "
                             f"{m['predicted_ms'] / m['measured_ms'] - 1:+.1%}{extra}")
    return "\n".join(lines)


def ranking(archs=("resnet50", "vgg16-imagenet", "vgg16"), device="rtx4090", batch=256) -> str:
    """The convolution types of hetcalc's built-ins, timed eager and compiled (fp16, both in --layout's layout):
    how the order changes."""
    import warnings

    import hetcalc

    lines = [f"| network | HetConv as | variant | eager: time, speedup, rank | compiled: time, speedup, rank |",
             "|---|---|---|---|---|"]
    for arch in archs:
        for impl in ("fused", "split"):
            rows = {}
            for mode in ("eager", "compiled"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    r = hetcalc.analyze(arch, P=4, device=device, dtype="fp16", batch=batch, hetconv_impl=impl,
                                        mode=mode, layout=LAYOUT["compiled"])
                rows[mode] = {v.variant: (v.time_s, v.time_speedup) for v in r.variants}
            order = {m: sorted(rows[m], key=lambda k: rows[m][k][0]) for m in rows}
            for v in rows["eager"]:
                cells = [f"{rows[m][v][0] * 1e3:.2f} ms, {rows[m][v][1]:.2f}x, {order[m].index(v) + 1}"
                         for m in ("eager", "compiled")]
                lines.append(f"| {arch} | {impl} | {v} | {cells[0]} | {cells[1]} |")
    return f"{device}, fp16, batch {batch}, P = G = 4, {LAYOUT['compiled'].upper()}\n" + "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", action="store_true", help="also print every model's times")
    parser.add_argument("--ranking", action="store_true", help="the HetConv variants' ranking, eager and compiled")
    parser.add_argument("--generated-kernel", action="store_true", help="an ablation: the fused ops as one "
                        "generated element-wise kernel after the convolution (inductor's default), not its epilogue")
    parser.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw", help="the layout of the compiled "
                        "predictions: nhwc as inductor runs convolution graphs (channels-last); eager stays NCHW")
    args = parser.parse_args(argv)
    ABLATION["on"] = args.generated_kernel
    LAYOUT["compiled"] = args.layout
    if args.ranking:
        print(ranking())
        return 0
    results = {name: evaluate_gpu(name) for name in DYNAMO}
    print(report(results, args.models))
    return 0


if __name__ == "__main__":
    sys.exit(main())
