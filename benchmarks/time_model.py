"""How good is the time model? Predicted against measured time on this machine (issue 9's benchmark).

For each configuration (network, batch) it measures every variant with `hetcalc.measure.measure` (PyTorch
modules, HetConv as the split realization, warm-up and interleaved rounds) and predicts it with
`hetcalc.analyze(..., device=PROFILE, hetconv_impl="split")`. It prints, per configuration and overall:

- the median |error| of predicted time (goal: 20%),
- the median |error| of the predicted speedup against standard (goal: 15%),
- the mean Spearman rank correlation of the variants' predicted and measured times (goal: 0.8),
- beside them, how far the FLOPs-only speedups (eq. 9) are off and how well FLOPs rank the variants.

Measured time is the median of the rounds (as `hetcalc measure` reports it) and, on a shared machine, also
the fastest round (other processes only ever slow a round down). Runs in a few minutes on 2 cores.

    python benchmarks/time_model.py                      # calibrate first (a minute), then all configurations
    python benchmarks/time_model.py --device local       # use a saved profile (after `hetcalc calibrate`)
    python benchmarks/time_model.py --configs vgg16:32,resnet56:1 --rounds 5
    python benchmarks/time_model.py --markdown           # the tables of docs/performance.md
    python benchmarks/time_model.py --heldout            # the held-out networks of benchmarks/heldout/
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's hetcalc, installed or not

CONFIGS = ["vgg16:1", "vgg16:32", "resnet56:1", "resnet56:32", "resnet34:1", "resnet50:1"]
# never used to fit anything (calibrate fits single kernels and its own check network): other depths and widths,
# a VGG with BN, a wide ResNet, a MobileNet-shaped network; CIFAR and ImageNet inputs; batch 1 to 32
HELDOUT_DIR = Path(__file__).resolve().parent / "heldout"
HELDOUT = ["resnet20:1", "resnet20:32", "wrn16-4:8", "vgg11-bn:16", "resnet18:1", "mobilenet-160:4"]
PARTS = [2, 4, 8, 16]
G = 4
GOALS = {"time": 0.20, "speedup": 0.15, "rank": 0.8}


def ranks(values: list[float]) -> list[float]:
    """Ranks 1..n, ties sharing their mean rank."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation: Pearson's on the ranks."""
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def run_config(arch: str, batch: int, device, rounds: int, threads: int | None, warmup: int,
               layout: str = "nchw") -> dict:
    from hetcalc.measure import measure

    started = time.perf_counter()
    spec = HELDOUT_DIR / f"{arch}.yaml"
    m = measure(str(spec) if spec.is_file() else arch, P=PARTS, G=G, variants="all", batch=batch, threads=threads, rounds=rounds, warmup=warmup,
                hetconv_impl="split", device=device, layout=layout)
    rows = []
    std = m.variant("standard")
    std_min = min(std.samples_s)
    for v in m.variants:
        fastest = min(v.samples_s)
        rows.append({"key": v.key, "label": v.label, "flops": v.flops, "measured_s": v.median_s,
                     "fastest_s": fastest, "spread": v.spread, "predicted_s": v.predicted_s,
                     "measured_speedup": std.median_s / v.median_s, "fastest_speedup": std_min / fastest,
                     "predicted_speedup": v.predicted_speedup, "flops_speedup": v.flops_speedup})
    return {"arch": arch, "batch": batch, "threads": m.threads, "rounds": rounds, "rows": rows,
            "seconds": time.perf_counter() - started}


def metrics(configs: list[dict], measured: str = "measured") -> dict:
    """The issue's three figures, and the FLOPs-only ones, against `measured` (median) or `fastest`."""
    t_err, s_err, f_err, rank, f_rank = [], [], [], [], []
    for c in configs:
        rows = c["rows"]
        for r in rows:
            t_err.append(abs(r["predicted_s"] / r[f"{measured}_s"] - 1))
            if r["key"] != "standard":
                s_err.append(abs(r["predicted_speedup"] / r[f"{measured}_speedup"] - 1))
                f_err.append(abs(r["flops_speedup"] / r[f"{measured}_speedup"] - 1))
        times = [r[f"{measured}_s"] for r in rows]
        rank.append(spearman([r["predicted_s"] for r in rows], times))
        f_rank.append(spearman([float(r["flops"]) for r in rows], times))
    return {"time_error": statistics.median(t_err), "speedup_error": statistics.median(s_err),
            "rank": statistics.fmean(rank), "flops_speedup_error": statistics.median(f_err),
            "flops_rank": statistics.fmean(f_rank), "per_config_rank": rank}


def config_table(c: dict, markdown: bool) -> str:
    head = ["variant", "measured", "spread", "predicted", "error", "speedup meas.", "speedup pred.", "FLOPs speedup"]
    lines = []
    for r in c["rows"]:
        lines.append([r["label"], f"{r['measured_s'] * 1e3:.2f} ms", f"{r['spread']:.0%}",
                      f"{r['predicted_s'] * 1e3:.2f} ms", f"{r['predicted_s'] / r['measured_s'] - 1:+.0%}",
                      f"{r['measured_speedup']:.2f}x", f"{r['predicted_speedup']:.2f}x", f"{r['flops_speedup']:.2f}x"])
    title = f"{c['arch']}, batch {c['batch']} ({c['threads']} threads, {c['rounds']} rounds, {c['seconds']:.0f} s)"
    if markdown:
        out = [f"**{title}**", "", "| " + " | ".join(head) + " |", "|:---|" + "---:|" * (len(head) - 1)]
        out += ["| " + " | ".join(row) + " |" for row in lines]
        return "\n".join(out) + "\n"
    widths = [max(len(x[i]) for x in [head, *lines]) for i in range(len(head))]
    fmt = lambda row: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))  # noqa: E731
    return "\n".join([title, fmt(head), *[fmt(row) for row in lines]]) + "\n"


def summary(configs: list[dict], markdown: bool) -> str:
    med, fast = metrics(configs, "measured"), metrics(configs, "fastest")
    rows = [
        ("median abs. error of time", f"{GOALS['time']:.0%}", f"{med['time_error']:.0%}", f"{fast['time_error']:.0%}", "n/a"),
        ("median abs. error of speedup vs standard", f"{GOALS['speedup']:.0%}", f"{med['speedup_error']:.0%}",
         f"{fast['speedup_error']:.0%}", f"{med['flops_speedup_error']:.0%}"),
        ("mean rank correlation (Spearman) per configuration", f">= {GOALS['rank']}", f"{med['rank']:.2f}",
         f"{fast['rank']:.2f}", f"{med['flops_rank']:.2f}"),
    ]
    head = ("figure", "goal", "model vs median", "model vs fastest round", "FLOPs only vs median")
    if markdown:
        out = ["| " + " | ".join(head) + " |", "|:---|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(r) + " |" for r in rows]
        return "\n".join(out) + "\n"
    widths = [max(len(x[i]) for x in [head, *rows]) for i in range(len(head))]
    fmt = lambda row: "  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths)))  # noqa: E731
    ranks_text = ", ".join(f"{c['arch']}:{c['batch']} {r:.2f}" for c, r in zip(configs, med["per_config_rank"]))
    return "\n".join([fmt(head), *[fmt(r) for r in rows], f"rank correlation per configuration: {ranks_text}"]) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--configs", default=None,
                        help=f"comma-separated ARCH:BATCH (default: {','.join(CONFIGS)}); ARCH is a built-in "
                             "or a spec in benchmarks/heldout/")
    parser.add_argument("--heldout", action="store_true",
                        help=f"the held-out configurations ({','.join(HELDOUT)}) instead")
    parser.add_argument("--device", default=None,
                        help="a profile name or path; default: run `hetcalc calibrate` now into a temporary profile")
    parser.add_argument("--rounds", type=int, default=7, help="measured rounds per variant (default 7)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed passes per variant (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--statistic", choices=("median", "fastest"), default="median",
                        help="calibration statistic (default: median of rounds, as measure reports)")
    parser.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw",
                        help="modules, input and predictions channels-last with nhwc (default nchw)")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure to this JSON file")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/performance.md)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.device is None:
        from hetcalc.calibrate import calibrate

        print("calibrating (hetcalc calibrate) ...", file=sys.stderr, flush=True)
        device = calibrate(threads=args.threads, name="benchmark", statistic=args.statistic)
        print(f"  done in {device.measured['seconds']} s; convolution fit median error "
              f"{device.measured.get('conv_fit_median_error', float('nan')):.0%}", file=sys.stderr)
    else:
        from hetcalc.devices import resolve_device

        device = resolve_device(args.device)
    configs = []
    chosen = args.configs or ",".join(HELDOUT if args.heldout else CONFIGS)
    for spec in chosen.split(","):
        arch, _, batch = spec.strip().partition(":")
        print(f"measuring {arch} batch {batch or 1} ...", file=sys.stderr, flush=True)
        configs.append(run_config(arch, int(batch or 1), device, args.rounds, args.threads, args.warmup,
                                  args.layout))
        print(config_table(configs[-1], args.markdown))
    print(summary(configs, args.markdown))
    print(f"device profile: {device.title}; total {time.perf_counter() - started:.0f} s. The machine may be shared "
          "with other work: compare 'vs median' and 'vs fastest round', and rerun on a quiet machine.")
    if args.json:
        args.json.write_text(json.dumps({"device": device.to_dict(), "configs": configs,
                                         "median": metrics(configs, "measured"),
                                         "fastest": metrics(configs, "fastest")}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
