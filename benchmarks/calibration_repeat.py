"""Are two calibrations of this machine the same model? (issue 19 item 2)

Calibrates this machine several times (or takes saved profiles) and compares what the profiles predict:
for every network (the benchmark grid's and the held-out ones), batch and variant, the predicted time of
one profile over another's. It prints, per pair of calibrations, the median and largest |ratio - 1| and
the overall scale (geometric mean of the ratios), and the spread of each fitted value across runs.
Goal: predictions of two calibrations agree within 5% median.

    python benchmarks/calibration_repeat.py --runs 3 --threads 1       # calibrate three times, then compare
    python benchmarks/calibration_repeat.py --profiles core0a,core0b    # compare saved profiles

Pin it to an idle core for steady figures (`taskset -c 0 ...`); calibrate then only watches that core.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's hetcalc, installed or not

HERE = Path(__file__).resolve().parent
NETWORKS = ["vgg16", "resnet56", "resnet34", "resnet50", "mobilenet",
            *(str(p) for p in sorted((HERE / "heldout").glob("*.yaml")))]
BATCHES = [1, 8, 32]
GOAL = 0.05


def predictions(device, networks=NETWORKS, batches=BATCHES) -> dict[tuple[str, int, str], float]:
    """Predicted seconds per (network, batch, variant): standard, HetConv P=4 and P=8 (split), GWC+PWC, DWC+PWC."""
    import hetcalc

    out = {}
    for net, batch in itertools.product(networks, batches):
        for part in (4, 8):
            report = hetcalc.analyze(net, P=part, G=4, variants="all", device=device, batch=batch,
                                     hetconv_impl="split")
            for v in report.variants:
                out[(Path(net).stem, batch, v.variant if v.variant != "hetconv" else f"hetconv P={part}")] = v.time_s
    return out


def compare(a: dict, b: dict) -> dict:
    """Median and largest |a/b - 1| over the common points, and the geometric-mean scale a/b."""
    ratios = [a[k] / b[k] for k in a if k in b and b[k]]
    errors = [abs(r - 1) for r in ratios]
    return {"median": statistics.median(errors), "max": max(errors),
            "scale": math.exp(statistics.fmean(math.log(r) for r in ratios)), "points": len(ratios)}


def fitted_values(device) -> dict[str, float]:
    """The profile's fitted numbers, flattened: peak, bandwidths, overheads, efficiencies, factors."""
    d = device.to_dict()
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict) and "value" in value and isinstance(value["value"], (int, float)):
            flat[prefix] = float(value["value"])
        elif isinstance(value, dict):
            for k, v in value.items():
                if k not in ("measured", "notes"):
                    walk(f"{prefix}.{k}" if prefix else k, v)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[prefix] = float(value)

    walk("", d)
    return flat


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=2, help="calibrations to make (default 2)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads for calibrate")
    parser.add_argument("--profiles", default=None, help="comma-separated saved profiles to compare instead")
    parser.add_argument("--gap", type=float, default=60.0, help="seconds between calibrations (default 60)")
    args = parser.parse_args(argv)

    from hetcalc.devices import resolve_device

    if args.profiles:
        devices = [resolve_device(name.strip()) for name in args.profiles.split(",")]
    else:
        from hetcalc.calibrate import calibrate

        devices = []
        for run in range(args.runs):
            if run:
                time.sleep(args.gap)
            started = time.perf_counter()
            devices.append(calibrate(threads=args.threads, name=f"repeat{run + 1}"))
            reasons = devices[-1].measured.get("unreliable")
            print(f"calibration {run + 1}: {time.perf_counter() - started:.1f} s"
                  + (f"; UNRELIABLE: {'; '.join(reasons)}" if reasons else ""), file=sys.stderr, flush=True)
    preds = [predictions(d) for d in devices]
    print(f"{len(devices)} calibrations, {len(preds[0])} predicted points each "
          f"({len(NETWORKS)} networks x batch {', '.join(map(str, BATCHES))} x 6 variants)")
    worst = 0.0
    for (i, a), (j, b) in itertools.combinations(enumerate(preds), 2):
        c = compare(a, b)
        worst = max(worst, c["median"])
        print(f"  {devices[i].name} vs {devices[j].name}: median |diff| {c['median']:.1%}, largest {c['max']:.1%}, "
              f"overall scale {c['scale']:.3f}")
    print(f"worst pair's median: {worst:.1%} (goal <= {GOAL:.0%}): {'met' if worst <= GOAL else 'NOT met'}")
    values = [fitted_values(d) for d in devices]
    keys = sorted(set.intersection(*(set(v) for v in values)))
    print("fitted values across calibrations (largest / smallest - 1):")
    for key in keys:
        xs = [v[key] for v in values]
        if min(xs) > 0 and max(xs) != min(xs):
            print(f"  {key:40s} {max(xs) / min(xs) - 1:7.1%}   " + "  ".join(f"{x:.4g}" for x in xs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
