"""Channels-last (NHWC) against published measurement: `gpu_published.py --layout nhwc` (issue 19 item 4).

timm publishes, beside its NCHW runs, eager AMP runs with channels-last input and weights on the RTX 4090
(batch 512) and the RTX 3090 (batch 1024): results/benchmark-infer-amp-nhwc-pt240-cu124-*.csv, rows kept in
benchmarks/data/ with their source. The NHWC rules of the time model (hetcalc/timing/timemodel.py,
docs/time-model.md) take each GPU profile as it is for NCHW and scale it by the profile's `channels_last`
factors. What is fitted, on the RTX 4090 file alone (`--fit`), with every profile's NCHW levels unchanged:

- one factor for the tensor-core convolutions (dense K x K and pointwise 1 x 1 together),
- one for grouped K x K convolutions, which in NHWC lose the group curve (their rate no longer falls with
  fewer channels per group),
- one for the bandwidth of element-wise kernels (BatchNorm, activations, additions, pooling).

Depthwise, grouped 1 x 1 and linear keep their NCHW rates (factor 1): at these batches depthwise kernels are
memory-bound (a factor on their compute rate moves nothing; freed, the fit leaves them near 1), no network runs
a grouped 1 x 1, and one FC layer per network cannot be told from a constant. The RTX 3090 file is held out:
its profile gets the 4090's factors, nothing of its NHWC rows is used. The RTX 5090 and PRO 6000 profiles get
them too, unchecked: timm publishes no NHWC run of these GPUs.

    python benchmarks/gpu_published.py --layout nhwc                  # figures with the committed profiles
    python benchmarks/gpu_published.py --layout nhwc --fit            # refit the factors on the 4090 file
    python benchmarks/gpu_published.py --layout nhwc --write-profiles # refit, write channels_last into rtx*.yaml
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import gpu_published as gp  # noqa: E402

FILES = {"rtx4090": "timm-infer-amp-nhwc-pt240-cu124-rtx4090.csv",
         "rtx3090": "timm-infer-amp-nhwc-pt240-cu124-rtx3090.csv"}
FIT_ON = "rtx4090"
UNCHECKED = ("rtx5090", "rtx-pro-6000-maxq")  # no published NHWC run: the fit's factors carried over
FITTED = ("tensor_core", "grouped", "elementwise")  # tensor_core: dense and pointwise, one factor
FACTOR_RANGE = (0.25, 4.0)


def params_of(device) -> dict:
    """The vectorized model's parameters (gpu_published.predict) of a profile as committed, in NCHW."""
    return {"peak": device.peak("fp16"), "bandwidth": device.memory_bandwidth.value,
            "cache_bytes": device.cache_bytes.value, "cache_bandwidth": device.cache_bandwidth.value,
            "overhead": device.kernel_overhead.value, "efficiency": {c: v.value for c, v in device.efficiency.items()},
            "group_channels": device.group_channels.value, "group_exponent": device.group_exponent.value}


def expand(factors: dict) -> dict:
    """Fitted factors -> one per kernel class (tensor_core sets dense and pointwise)."""
    out = {"dense": factors["tensor_core"], "pointwise": factors["tensor_core"]} if "tensor_core" in factors else {}
    return {**out, **{k: v for k, v in factors.items() if k != "tensor_core"}}


def predict(arrays, params: dict, factors: dict) -> float:
    """Seconds in NHWC: hetcalc.timing.timemodel.kernel_time with layout="nhwc", vectorized (no half_work, as
    the GPU profiles give none)."""
    import numpy as np

    codes = gp.CODES
    per_class = expand(factors)
    table = np.ones(len(codes))
    for kclass, value in params["efficiency"].items():
        table[codes[kclass]] = min(1.0, value * per_class.get(kclass, 1.0))
    eff = table[arrays["code"]]  # grouped K x K: no group curve in NHWC
    compute = np.where(arrays["code"] == codes["elementwise"], 0.0, arrays["flops"] / (params["peak"] * eff))
    bw = np.where(arrays["act_bytes"] <= params["cache_bytes"], params["cache_bandwidth"], params["bandwidth"])
    bw = bw * np.where(arrays["code"] == codes["elementwise"], per_class.get("elementwise", 1.0), 1.0)
    return float(np.sum(params["overhead"] + np.maximum(compute, arrays["bytes"] / bw)))


def fit(usable: list[dict], params: dict) -> dict:
    """The factors minimizing the mean squared log error over the fit file's rows (Nelder-Mead on logs,
    each kept in FACTOR_RANGE)."""
    import numpy as np
    from scipy.optimize import minimize

    def unpack(x):
        return {k: float(min(FACTOR_RANGE[1], max(FACTOR_RANGE[0], math.exp(v)))) for k, v in zip(FITTED, x)}

    def loss(x):
        factors = unpack(x)
        return float(np.mean([math.log(predict(d["arrays"], params, factors) / d["measured"]) ** 2 for d in usable]))

    result = minimize(loss, [0.0] * len(FITTED), method="Nelder-Mead",
                      options={"maxiter": 2000, "xatol": 1e-4, "fatol": 1e-9})
    return unpack(result.x)


def datasets() -> dict:
    """Profile name -> (source, usable rows with their NHWC kernels, rows left out)."""
    old = gp.MODE["layout"]
    gp.MODE["layout"] = "nhwc"
    try:
        return {name: gp.dataset(file) for name, file in FILES.items()}
    finally:
        gp.MODE["layout"] = old


def evaluate(name: str, usable: list[dict], factors: dict | None) -> dict:
    """Figures of one NHWC file: the NHWC rules (the fitted factors with the profile's NCHW values, or the
    profile as committed), the same profile with the layout not modelled (NCHW rules), and the baselines."""
    device = gp.load_profile(name)
    measured = [d["measured"] for d in usable]
    old = gp.MODE["layout"]
    try:
        gp.MODE["layout"] = "nchw"
        nchw = [gp.product_time(device, d["kernels"]) for d in usable]
        gp.MODE["layout"] = "nhwc"
        out = gp.evaluate(name, usable, {}, device=device, anchors_out=False)
    finally:
        gp.MODE["layout"] = old
    if factors is not None:
        params = params_of(device)
        model = [predict(d["arrays"], params, factors) for d in usable]
        out["hetcalc"] = gp.figures(model, measured)
        out["models"] = [{**m, "predicted_ms": p * 1e3} for m, p in zip(out["models"], model)]
    out["nchw_rules"] = gp.figures(nchw, measured)
    return out


def run(args) -> dict:
    sets = datasets()
    results = {"gpus": {}, "left_out": {name: s[2] for name, s in sets.items()}}
    factors = None
    if args.fit or args.write_profiles:
        factors = fit(sets[FIT_ON][1], params_of(gp.load_profile(FIT_ON)))
        results["factors"] = factors
    for name, (source, usable, _) in sets.items():
        results["gpus"][name] = {"source": source, **evaluate(name, usable, factors)}
    if args.write_profiles:
        for name in (*FILES, *UNCHECKED):
            path = HERE.parent / "hetcalc" / "profiles" / f"{name}.yaml"
            path.write_text(with_block(path.read_text(), block(name, factors, results["gpus"].get(name))))
    return results


def block(name: str, factors: dict, figs: dict | None) -> str:
    """The `channels_last:` entry of a profile."""
    fitted = f"fitted on {FILES[FIT_ON]} alone (benchmarks/gpu_published.py --layout nhwc --write-profiles)"
    if name == FIT_ON:
        where = fitted
    elif figs is not None:
        f = figs["hetcalc"]
        where = (f"the RTX 4090's, {fitted}; held out on {FILES[name]}: {f['n']} models, median error "
                 f"{f['median']:.1%}, Spearman {f['spearman']:.3f}")
    else:
        where = f"the RTX 4090's, {fitted}; unchecked here: timm publishes no NHWC run of this GPU"
    what = {"dense": "tensor-core convolutions (dense and pointwise: one factor)", "pointwise": "as dense",
            "grouped": "grouped K x K, which in NHWC has no group curve",
            "elementwise": "bandwidth of element-wise kernels (BN, activations, adds, pooling)"}
    lines = ["channels_last:"]
    for kclass, value in expand(factors).items():
        lines.append(f"  {kclass}: {{value: {value:.4g}, source: \"x NCHW, {what[kclass]}: {where}\"}}")
    return "\n".join(lines) + "\n"


def with_block(text: str, entry: str) -> str:
    """A profile's text with its `channels_last:` entry replaced by (or, if it has none, given) `entry`, placed
    before `cache:`."""
    lines = text.splitlines(keepends=True)
    kept, skipping = [], False
    for line in lines:
        if line.startswith("channels_last:"):
            skipping = True
            continue
        if skipping and line.startswith(" "):
            continue
        skipping = False
        kept.append(line)
    at = next((i for i, line in enumerate(kept) if line.startswith("cache:")), len(kept))
    return "".join(kept[:at]) + entry + "".join(kept[at:])


def current_block(text: str) -> str:
    """The `channels_last:` entry of a profile's text ('' if none): what an NCHW rewrite keeps."""
    out, inside = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("channels_last:"):
            inside = True
        elif inside and not line.startswith(" "):
            break
        if inside:
            out.append(line)
    return "".join(out)


COLUMNS = (("hetcalc", "NHWC rules"), ("nchw_rules", "layout not modelled (NCHW rules)"),
           ("a100_copied", "A100 efficiencies copied"), ("flops_peak", "FLOPs / peak"), ("roofline", "plain roofline"))


def report(results: dict, markdown: bool, per_model: bool) -> str:
    out = []
    if "factors" in results:
        text = ", ".join(f"{k} {v:.3f}" for k, v in results["factors"].items())
        out.append(f"channels-last factors (fitted on {FILES[FIT_ON]}): {text}")
    cell = lambda f: f"{f['median']:.1%} / {f['within25']:.0%} / {f['spearman']:.3f}"  # noqa: E731
    if markdown:
        out += ["", "| GPU (NHWC file) | models | " + " | ".join(f"{t}: median / within 25% / Spearman"
                                                          for _, t in COLUMNS) + " |",
                "|---|---|" + "---|" * len(COLUMNS)]
    for name, g in results["gpus"].items():
        role = "fit" if name == FIT_ON else "held out"
        cells = [cell(g[key]) for key, _ in COLUMNS]
        if markdown:
            out.append(f"| {name} ({role}) | {g['hetcalc']['n']} | " + " | ".join(cells) + " |")
        else:
            out.append(f"{name} NHWC ({role}): {g['hetcalc']['n']} models, median bias {g['hetcalc']['bias']:+.1%}")
            out += [f"  {title:34s} median |error| / within 25% / Spearman: {c}" for (_, title), c in zip(COLUMNS, cells)]
    held = [g["hetcalc"] for n, g in results["gpus"].items() if n != FIT_ON]
    met = all(f["median"] <= gp.GOALS["median"] and f["spearman"] >= gp.GOALS["spearman"] for f in held)
    out += ["", f"goal on the held-out NHWC file (median <= {gp.GOALS['median']:.0%}, Spearman >= "
                f"{gp.GOALS['spearman']}): {'met' if met else 'NOT met'}"]
    for name, left in results["left_out"].items():
        out += [f"left out of {name} NHWC: {i['model']} at {i['size']}: {i['why']}" for i in left]
    if per_model:
        for name, g in results["gpus"].items():
            out += ["", f"{name} NHWC: model, measured ms, predicted ms, error"]
            out += [f"  {m['model']}@{m['size']}: {m['measured_ms']:.1f} {m['predicted_ms']:.1f} "
                    f"{m['predicted_ms'] / m['measured_ms'] - 1:+.1%}" for m in g["models"]]
    return "\n".join(out)
