"""GPU profiles against published measurement: predict timm's eager AMP inference step times (issue 19 item 4).

timm (huggingface/pytorch-image-models) publishes, per GPU, the time of one forward pass of a batch (1024
images; 2048 on the RTX Pro 6000) for hundreds of models, run eagerly with torch.autocast (fp16). The rows
used here are kept in benchmarks/data/ with their source (repository, path, commit). For each row this
script reads the model's ONNX graph (exported without weights, benchmarks/timm_onnx.py), predicts the step
time with hetcalc's time model and each built-in GPU profile (dtype fp16, the row's batch), and prints per
GPU the median |error|, the share of models within 25%, and Spearman's rank correlation across models, beside
three baselines that use the same kernels and spec sheets: the A100 built-in's efficiencies copied, FLOPs /
peak (total device FLOPs over the fp16 tensor peak) and a plain roofline (each kernel max(FLOPs / peak,
bytes / bandwidth), summed).

    python benchmarks/gpu_published.py                    # every GPU with the built-in profiles
    python benchmarks/gpu_published.py --markdown         # the tables of docs/gpu-validation.md
    python benchmarks/gpu_published.py --fit              # refit the shared shape on the RTX 4090 file
    python benchmarks/gpu_published.py --write-profiles   # refit, then rewrite hetcalc/profiles/rtx*.yaml
    python benchmarks/gpu_published.py --export-with /path/to/python-with-torch-and-timm   # missing ONNX files
    python benchmarks/gpu_published.py --layout nhwc      # channels-last runs (benchmarks/gpu_layout.py)

Which numbers come from where (docs/gpu-validation.md): peaks, bandwidths and L2 sizes from NVIDIA's spec
sheets; the efficiency of each kernel class relative to dense convolutions and the group curve (the shape)
are fitted on the RTX 4090 file alone (`--fit`); each GPU's own levels (its dense efficiency and the share of
its spec bandwidth it attains) come from two published networks of its own file (the anchors: ResNet-50,
compute-bound, and MobileNetV2-1.0, memory-bound), solved so the profile reproduces them. The anchors are
left out of that GPU's figures; every other row of the RTX 3090, RTX 5090 and RTX PRO 6000 files is held out.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import statistics
import subprocess
import sys
import warnings
from dataclasses import asdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's hetcalc, installed or not

DATA = HERE / "data"
ONNX_DIR = HERE / ".onnx"  # gitignored: benchmarks/timm_onnx.py writes here
# device profile name -> published file; the first is the one anything shared is fitted on
FILES = {
    "rtx4090": "timm-infer-amp-nchw-pt240-cu124-rtx4090.csv",
    "rtx3090": "timm-infer-amp-nchw-pt240-cu124-rtx3090.csv",
    "rtx5090": "timm-infer-amp-nchw-pt291-cu130-5090.csv",
    "rtx-pro-6000-maxq": "timm-infer-amp-nchw-pt291-cu130-pro6000maxq.csv",
}
FIT_ON = "rtx4090"
# published files checked with a profile as it is (nothing solved or fitted on them): the RTX 4090 again,
# measured with torch 2.9.1 and CUDA 12.8 where the profile's file used torch 2.4.0 and CUDA 12.4; and its
# channels-last (NHWC) runs timed with the NCHW rules: how far off ignoring the layout is (--layout nhwc models it)
CHECKS = {"rtx4090 (torch 2.9.1 file)": ("rtx4090", "timm-infer-amp-nchw-pt291-cu128-4090.csv"),
          "rtx4090 NHWC file, NCHW rules (--layout nhwc models it)": ("rtx4090", "timm-infer-amp-nhwc-pt240-cu124-rtx4090.csv")}
ANCHORS = (("resnet50", 224), ("mobilenetv2_100", 224))  # compute-bound, memory-bound
# a published row whose MACs differ more from the ONNX graph's is another network (timm's re-parameterized
# RepVGG: 11% fewer); counters differ by a few percent on SE and depthwise blocks, and rows round to 0.01 GMACs
MACS_TOLERANCE = 0.08
GOALS = {"median": 0.10, "spearman": 0.98}
# timm models the ONNX reader cannot count today, and why (docs/gpu-validation.md)
SKIPPED = {
    "convnext_*, convnextv2_*": "LayerNormalization and Erf are not counted yet (the onnxops branch adds them)",
    "vit_*, deit_*, swin_*, levit_*, efficientformer*": "attention: class-token shapes, MatMul of two activations",
    "ecaresnet*, eca_*": "ECA's 1-D Conv and its Expand are not counted",
    "efficientvit_*, mobilevit*": "LayerNormalization, MatMul and Split are not counted",
    "resnest*": "split attention: the reader stops on a ReduceSum's shape",
    "skresnet*": "the reader refuses the selective-kernel path convolutions",
    "nfnet*, nf_*": "weight standardization: weights computed in the graph",
}


def read_rows(name: str) -> tuple[str, list[dict]]:
    """(source line, rows) of one published file (a profile's name in FILES, or a file name); `#` lines carry
    the source."""
    path = DATA / FILES.get(name, name)
    lines = path.read_text().splitlines()
    source = lines[0].lstrip("# ").removeprefix("source: ").strip()
    rows = list(csv.DictReader(line for line in lines if not line.startswith("#")))
    for row in rows:
        row["infer_img_size"] = int(row["infer_img_size"])
        row["infer_batch_size"] = int(row["infer_batch_size"])
        row["infer_step_time"] = float(row["infer_step_time"]) / 1000.0  # ms -> s
        row["infer_gmacs"] = float(row["infer_gmacs"])
    return source, rows


def onnx_path(model: str, size: int) -> Path:
    return ONNX_DIR / f"{model}-{size}.onnx"


def export_missing(pairs: set[tuple[str, int]], python: str) -> None:
    missing = [f"{m}:{s}" for m, s in sorted(pairs) if not onnx_path(m, s).is_file()]
    if missing:
        subprocess.run([python, "-W", "ignore", str(HERE / "timm_onnx.py"), *missing, "--out", str(ONNX_DIR)],
                       check=False)


UNFUSED = {"on": False}  # --unfused-activations: charge SiLU and GELU as the exporter writes them (an ablation)
MODE = {"mode": "eager", "layout": "nchw"}  # the time model's mode and layout (gpu_compiled.py, --layout)


def network_kernels(model: str, size: int, batch: int) -> tuple[int, list[dict]] | None:
    """(MACs of one image, the kernels of a batch) of the model's eager forward pass, cached beside its ONNX."""
    unfused = "-unfused" if UNFUSED["on"] else ""
    mode = ("" if MODE["mode"] == "eager" else f"-{MODE['mode']}") + ("" if MODE["layout"] == "nchw" else "-nhwc")
    cache = ONNX_DIR / f"{model}-{size}-b{batch}{unfused}{mode}.kernels.json"
    source = onnx_path(model, size)
    if not source.is_file():
        return None
    if cache.is_file() and cache.stat().st_mtime >= source.stat().st_mtime:
        data = json.loads(cache.read_text())
        if data.get("rules") == RULES_VERSION:
            return data["macs"], data["kernels"]
    import hetcalc
    from hetcalc.analysis.timed import variant_kernels

    import hetcalc.analysis.timed as timed

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = hetcalc.analyze(str(source), variants="standard", dtype="fp16", batch=batch)
    rules = timed.decomposed_activations
    if UNFUSED["on"]:
        timed.decomposed_activations = lambda network: {}
    try:
        kernels = [asdict(k) for layer in variant_kernels(report, report.baseline, "fp16", batch, "fused",
                                                          MODE["mode"], MODE["layout"]) for k in layer]
    finally:
        timed.decomposed_activations = rules
    macs = report.baseline.macs
    cache.write_text(json.dumps({"rules": RULES_VERSION, "macs": macs, "kernels": kernels}))
    return macs, kernels


RULES_VERSION = 4  # bump when traffic rules change (the kernel caches are then rebuilt)


# --- the time model, vectorized over kernels (the same formula as hetcalc.timing.timemodel.kernel_time) ---

def kernel_arrays(kernels: list[dict]):
    import numpy as np

    return {
        "flops": np.array([k["flops"] for k in kernels], dtype=float),
        "bytes": np.array([k["bytes_read"] + k["bytes_written"] for k in kernels], dtype=float),
        "act_bytes": np.array([k["bytes_read"] + k["bytes_written"] - k["weight_bytes"] for k in kernels], dtype=float),
        "cpg": np.array([k["channels_per_group"] for k in kernels], dtype=float),
        "kclass": np.array([k["kclass"] for k in kernels]),
        "code": np.array([CODES[k["kclass"]] for k in kernels]),
    }


CODES = {c: i for i, c in enumerate(("dense", "pointwise", "grouped", "grouped_pointwise", "depthwise", "linear",
                                     "elementwise"))}


def predict(arrays, params: dict) -> float:
    """Seconds for one network: params holds peak, bandwidth, cache_bytes, cache_bandwidth, overhead,
    efficiency (class -> fraction), group_channels, group_exponent and optionally half_work."""
    import numpy as np

    table = np.ones(len(CODES))
    for kclass, value in params["efficiency"].items():
        table[CODES[kclass]] = value
    eff = table[arrays["code"]]
    if params.get("group_channels"):
        factor = np.minimum(1.0, arrays["cpg"] / params["group_channels"]) ** params.get("group_exponent", 1.0)
        eff = np.where(arrays["code"] == CODES["grouped"], eff * factor, eff)
    fixed = params.get("half_work", 0.0) / params["peak"]
    compute = np.where(arrays["code"] == CODES["elementwise"], 0.0, arrays["flops"] / (params["peak"] * eff) + fixed)
    bw = np.where(arrays["act_bytes"] <= params["cache_bytes"], params["cache_bandwidth"], params["bandwidth"])
    memory = arrays["bytes"] / bw
    return float(np.sum(params["overhead"] + np.maximum(compute, memory)))


def flops_over_peak(arrays, peak: float) -> float:
    return float(arrays["flops"].sum() / peak)


def plain_roofline(arrays, peak: float, bandwidth: float) -> float:
    import numpy as np

    return float(np.sum(np.maximum(arrays["flops"] / peak, arrays["bytes"] / bandwidth)))


# --- statistics ---

def ranks(values: list[float]) -> list[float]:
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
    ra, rb = ranks(a), ranks(b)
    ma, mb = statistics.fmean(ra), statistics.fmean(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va and vb else 0.0


def figures(predicted: list[float], measured: list[float]) -> dict:
    errors = [abs(p / m - 1) for p, m in zip(predicted, measured)]
    signed = [p / m - 1 for p, m in zip(predicted, measured)]
    return {"median": statistics.median(errors), "within25": sum(e <= 0.25 for e in errors) / len(errors),
            "spearman": spearman(predicted, measured), "bias": statistics.median(signed), "n": len(errors)}


# --- spec sheets: what every profile starts from (NVIDIA's published figures, dense, no sparsity) ---

SPECS = {
    "rtx4090": {"title": "NVIDIA GeForce RTX 4090", "fp16": 165.2e12, "fp32": 82.6e12, "bandwidth": 1008e9,
                "l2": 72 * 2**20, "sheet": "NVIDIA Ada GPU architecture whitepaper (2022), RTX 4090: FP16 Tensor "
                "with FP32 accumulate 165.2 TFLOPS dense, FP32 82.6 TFLOPS, 1008 GB/s GDDR6X, 72 MB L2"},
    "rtx3090": {"title": "NVIDIA GeForce RTX 3090", "fp16": 71e12, "fp32": 35.6e12, "bandwidth": 936e9,
                "l2": 6 * 2**20, "sheet": "NVIDIA Ampere GA102 GPU architecture whitepaper (2020), RTX 3090: FP16 "
                "Tensor with FP32 accumulate 71 TFLOPS dense, FP32 35.6 TFLOPS, 936 GB/s GDDR6X, 6 MB L2"},
    "rtx5090": {"title": "NVIDIA GeForce RTX 5090", "fp16": 209.5e12, "fp32": 104.8e12, "bandwidth": 1792e9,
                "l2": 96 * 2**20, "sheet": "NVIDIA RTX Blackwell GPU architecture whitepaper (2025), RTX 5090: FP16 "
                "Tensor with FP32 accumulate 209.5 TFLOPS dense, FP32 104.8 TFLOPS, 1792 GB/s GDDR7, 96 MB L2"},
    "rtx-pro-6000-maxq": {"title": "NVIDIA RTX PRO 6000 Blackwell Max-Q Workstation Edition", "fp16": 438.9e12,
                          "fp32": 110e12, "bandwidth": 1792e9, "l2": 128 * 2**20,
                          "sheet": "NVIDIA RTX PRO 6000 Blackwell Max-Q data sheet (2025): 3511 AI TOPS (FP4, "
                          "sparse) = 438.9 TFLOPS FP16 Tensor dense (no GeForce half rate for FP32 accumulate), "
                          "FP32 110 TFLOPS, 1792 GB/s GDDR7, 128 MB L2, 300 W"},
}
OVERHEAD = 6e-6  # per kernel: PyTorch eager dispatch plus launch (an estimate; 0.1-1% of a batch-1024 step)
CACHE_SPEEDUP = 2.5  # L2 over DRAM bandwidth (an estimate: few kernels of a batch of 1024 fit any L2)
CLASSES = ("dense", "pointwise", "grouped", "grouped_pointwise", "depthwise", "linear")
# what the A100 built-in says (the way GPU profiles were written before: efficiencies copied across devices)
A100_COPIED = {"efficiency": {"dense": 0.70, "pointwise": 0.60, "grouped": 0.35, "grouped_pointwise": 0.21,
                              "depthwise": 0.05, "linear": 0.60}, "group_channels": 32, "group_exponent": 1.0,
               "half_work": 0.2e9}


def spec_params(name: str, **extra) -> dict:
    spec = SPECS[name]
    params = {"peak": spec["fp16"], "bandwidth": spec["bandwidth"], "cache_bytes": spec["l2"],
              "cache_bandwidth": CACHE_SPEEDUP * spec["bandwidth"], "overhead": OVERHEAD}
    params.update(extra)
    return params


def with_levels(name: str, shape: dict, compute: float, memory: float) -> dict:
    """A device's parameters: the shared shape (relative efficiencies, group curve) at its own levels."""
    efficiency = {c: min(1.0, compute * shape["relative"][c]) for c in CLASSES}
    bandwidth = memory * SPECS[name]["bandwidth"]
    return spec_params(name, efficiency=efficiency, bandwidth=bandwidth, cache_bandwidth=CACHE_SPEEDUP * bandwidth,
                       group_channels=shape["group_channels"], group_exponent=shape["group_exponent"])


def solve_levels(name: str, shape: dict, anchors: list[tuple], iterations: int = 20) -> tuple[float, float]:
    """The compute level (dense efficiency) and memory level (attained share of the spec bandwidth) at which
    the device's two anchors are reproduced: alternating bisections on log scale (each anchor mostly moves
    with one level)."""
    (compute_arrays, compute_time), (memory_arrays, memory_time) = anchors
    compute, memory = 0.5, 0.8
    for _ in range(iterations):
        compute = _bisect(lambda c: predict(compute_arrays, with_levels(name, shape, c, memory)) - compute_time,
                          1e-3, 1.0)
        memory = _bisect(lambda m: predict(memory_arrays, with_levels(name, shape, compute, m)) - memory_time,
                         0.05, 1.5)
    return compute, memory


def _bisect(f, lo: float, hi: float) -> float:
    """Root of a decreasing f on [lo, hi] (time falls as a level rises), clamped to the ends."""
    if f(hi) >= 0:
        return hi
    if f(lo) <= 0:
        return lo
    for _ in range(30):
        mid = math.sqrt(lo * hi)
        if f(mid) > 0:
            lo = mid
        else:
            hi = mid
    return math.sqrt(lo * hi)


# where the fit starts (a guess); profiles are only ever written from the fit
DEFAULT_SHAPE = {"relative": {"dense": 1.0, "pointwise": 0.85, "grouped": 0.5, "grouped_pointwise": 0.3,
                              "depthwise": 0.08, "linear": 0.85}, "group_channels": 32, "group_exponent": 1.0}
# linear is not fitted: one FC per network is too little to tell its rate from a per-network constant
FITTED = ("pointwise", "grouped", "grouped_pointwise", "depthwise")
UNFITTED = {"grouped_pointwise": "no network of the fit file runs a grouped 1 x 1 convolution",
            "linear": "one FC layer per network is too little to tell its rate from a per-network constant"}
RELATIVE_RANGE = (0.05, 1.5)  # of dense: outside it a class's efficiency stops describing that class


def fit_shape(dataset: list[dict], anchors: list[tuple], start: dict) -> dict:
    """Relative efficiencies and the group curve that minimize the mean squared log error on the fit file,
    with the levels solved from its anchors at every step (as on every other device)."""
    import numpy as np
    from scipy.optimize import minimize

    present = {c for d in dataset for c in d["arrays"]["kclass"]}

    def unpack(x):  # a class the fit file never runs keeps its start; the others stay physically plausible
        relative = {"dense": 1.0, **{c: float(min(RELATIVE_RANGE[1], max(RELATIVE_RANGE[0], math.exp(v))))
                                     if c in present else start["relative"][c] for c, v in zip(FITTED, x)},
                    "linear": start["relative"]["linear"]}
        return {"relative": relative, "group_channels": float(math.exp(x[len(FITTED)])),
                "group_exponent": float(min(4.0, max(0.0, x[len(FITTED) + 1]))),
                "fitted": [c for c in FITTED if c in present]}

    def loss(x):
        shape = unpack(x)
        compute, memory = solve_levels(FIT_ON, shape, anchors, iterations=6)
        params = with_levels(FIT_ON, shape, compute, memory)
        errors = [math.log(predict(d["arrays"], params) / d["measured"]) for d in dataset]
        return float(np.mean(np.square(errors)))

    x0 = [math.log(start["relative"][c]) for c in FITTED] + [math.log(start["group_channels"]),
                                                            start["group_exponent"]]
    result = minimize(loss, x0, method="Nelder-Mead", options={"maxiter": 400, "xatol": 1e-3, "fatol": 1e-6})
    return unpack(result.x)


# --- data sets: published rows joined with their kernels ---

def dataset(name: str) -> tuple[str, list[dict], list[dict]]:
    """(source, usable rows with their kernels, rows left out with the reason)."""
    source, rows = read_rows(name)
    usable, left_out = [], []
    for row in rows:
        model, size, batch = row["model"], row["infer_img_size"], row["infer_batch_size"]
        found = network_kernels(model, size, batch)
        if found is None:
            left_out.append({"model": model, "size": size, "why": "no ONNX file (run with --export-with)"})
            continue
        macs, kernels = found
        published = row["infer_gmacs"] * 1e9
        if abs(macs - published) > max(MACS_TOLERANCE * published, 0.005e9):
            left_out.append({"model": model, "size": size, "why": f"{macs / 1e9:.2f} GMACs in timm 1.0.31's graph, "
                                                                  f"{row['infer_gmacs']} published: another network"})
            continue
        usable.append({"model": model, "size": size, "batch": batch, "measured": row["infer_step_time"],
                       "arrays": kernel_arrays(kernels), "kernels": kernels})
    return source, usable, left_out


def anchors_of(name: str, usable: list[dict]) -> list[tuple]:
    by_key = {(d["model"], d["size"]): d for d in usable}
    missing = [f"{m}@{s}" for m, s in ANCHORS if (m, s) not in by_key]
    if missing:
        raise SystemExit(f"gpu_published: {FILES[name]} lacks the anchor rows {', '.join(missing)}")
    return [(by_key[key]["arrays"], by_key[key]["measured"]) for key in ANCHORS]


def product_time(device, kernels: list[dict]) -> float:
    """The step time hetcalc itself predicts with a profile (hetcalc.timing.timemodel.kernel_time), in the
    layout MODE names."""
    from hetcalc.timing.timemodel import kernel_time
    from hetcalc.timing.traffic import Kernel

    return sum(kernel_time(device, Kernel(**k), "fp16", MODE["layout"]).seconds for k in kernels)


def evaluate(name: str, usable: list[dict], params: dict, device=None, anchors_out: bool = True) -> dict:
    """Figures of one GPU: the profile (hetcalc's own time model when `device` is given), the A100-copied
    efficiencies, FLOPs / peak and the plain roofline, over the rows that are not anchors."""
    held = [d for d in usable if not anchors_out or (d["model"], d["size"]) not in ANCHORS]
    measured = [d["measured"] for d in held]
    spec = SPECS[name]
    if device is not None:
        model = [product_time(device, d["kernels"]) for d in held]
    else:
        model = [predict(d["arrays"], params) for d in held]
    copied = spec_params(name, **A100_COPIED)
    rows = {
        "hetcalc": model,
        "a100_copied": [predict(d["arrays"], copied) for d in held],
        "flops_peak": [flops_over_peak(d["arrays"], spec["fp16"]) for d in held],
        "roofline": [plain_roofline(d["arrays"], spec["fp16"], spec["bandwidth"]) for d in held],
    }
    out = {key: figures(values, measured) for key, values in rows.items()}
    out["models"] = [{"model": d["model"], "size": d["size"], "measured_ms": d["measured"] * 1e3,
                      "predicted_ms": p * 1e3} for d, p in zip(held, model)]
    return out


# --- profiles: written from the fit, read back for the figures ---

def profile_yaml(name: str, shape: dict, compute: float, memory: float, fit: dict, anchors: dict) -> str:
    """A built-in profile (hetcalc/profiles/NAME.yaml) with its levels, its sources and its figures."""
    spec = SPECS[name]
    params = with_levels(name, shape, compute, memory)
    held = "fitted on (in sample)" if name == FIT_ON else "held out"
    anchor_text = ", ".join(f"{m} at {s} px {anchors[(m, s)] * 1e3:g} ms" for m, s in ANCHORS)
    level = (f"{FILES[name]}: the level that reproduces {anchor_text} (benchmarks/gpu_published.py "
             f"--write-profiles)")
    shape_src = f"x {{r:.3g}} of dense: the shape fitted on {FILES[FIT_ON]} alone"
    lines = [
        f"# {spec['title']}: spec-sheet peaks, levels from two of timm's published eager AMP runs on this GPU.",
        "# Written by benchmarks/gpu_published.py --write-profiles; docs/gpu-validation.md explains every number.",
        f"name: {name}",
        f"title: {spec['title']}",
        "kind: gpu",
        "validated: published benchmark",
        "notes: >-",
        f"  Checked against timm's published eager AMP (fp16) inference step times ({FILES[name]}, batch "
        f"{fit['batch']}): {fit['n']} models {held}, median error {fit['median']:.1%}, {fit['within25']:.0%} within "
        f"25%, Spearman {fit['spearman']:.3f} (FLOPs / peak: median {fit['flops_peak']:.0%}; plain roofline: "
        f"{fit['roofline']:.0%}). Valid for large batches in PyTorch eager mode with autocast (fp16, NCHW); "
        "batch 1 is bound by launch overhead, an estimate here; fp32 applies the same efficiencies to the FP32 "
        "peak, unchecked.",
        "peak_flops:",
        f"  fp16: {{value: {spec['fp16']:.4g}, source: \"{spec['sheet']}\"}}",
        f"  bf16: {{value: {spec['fp16']:.4g}, source: \"as fp16 (same tensor-core rate)\"}}",
        f"  fp32: {{value: {spec['fp32']:.4g}, source: \"spec sheet: FP32 (CUDA cores, no TF32)\"}}",
        f"memory_bandwidth: {{value: {params['bandwidth']:.4g}, source: \"spec {spec['bandwidth'] / 1e9:g} GB/s x "
        f"{memory:.3f} attained: {level}\"}}",
        f"kernel_overhead: {{value: {OVERHEAD:g}, source: \"estimate: PyTorch eager dispatch plus CUDA launch "
        "(not measured; under 1% of a batch-1024 step)\"}",
        f"group_channels: {{value: {shape['group_channels']:.4g}, source: \"fitted on {FILES[FIT_ON]}\"}}",
        f"group_exponent: {{value: {shape['group_exponent']:.4g}, source: \"fitted on {FILES[FIT_ON]}\"}}",
        "efficiency:",
    ]
    for c in CLASSES:
        r = shape["relative"][c]
        if c == "dense":
            what = f"dense level {compute:.3f}: {level}"
        elif c in shape.get("fitted", ()):
            what = shape_src.format(r=r)
        else:
            what = f"x {r:.3g} of dense, a guess: {UNFITTED[c]}"
        lines.append(f"  {c}: {{value: {params['efficiency'][c]:.4g}, source: \"{what}\"}}")
    lines += [
        "cache:",
        f"  bytes: {{value: {spec['l2']}, source: \"spec sheet: L2 cache\"}}",
        f"  bandwidth: {{value: {params['cache_bandwidth']:.4g}, source: \"estimate: {CACHE_SPEEDUP:g} x the "
        "attained DRAM bandwidth\"}",
        "measured:",
        "  published_benchmark:",
        f"    file: {FILES[name]}",
        f"    source: \"{read_rows(name)[0]}\"",
        f"    anchors: [{', '.join(f'{m}@{s}' for m, s in ANCHORS)}]",
        f"    models: {fit['n']}",
        f"    median_error: {fit['median']:.4f}",
        f"    within_25: {fit['within25']:.4f}",
        f"    spearman: {fit['spearman']:.4f}",
        f"    held_out: {str(name != FIT_ON).lower()}",
    ]
    return "\n".join(lines) + "\n"


def write_keeping_layout(path: Path, text: str) -> None:
    """Write a profile rewritten from the NCHW fit, keeping its channels_last entry (fitted by --layout nhwc)."""
    import gpu_layout

    kept = gpu_layout.current_block(path.read_text()) if path.is_file() else ""
    path.write_text(gpu_layout.with_block(text, kept) if kept else text)


def load_profile(name: str):
    from hetcalc.timing.devices import resolve_device

    return resolve_device(name)


def run(args) -> dict:
    names = list(FILES)
    sets = {}
    if args.export_with:
        pairs = set()
        for name in names:
            pairs |= {(r["model"], r["infer_img_size"]) for r in read_rows(name)[1]}
        export_missing(pairs, args.export_with)
    for name in names:
        sets[name] = dataset(name)
    results = {"gpus": {}, "left_out": {}}
    if args.write_profiles and args.one_anchor:
        raise SystemExit("gpu_published: --one-anchor is an experiment; profiles are written with both anchors")
    if args.write_profiles:
        args.fit = True  # profiles are written from the shape fitted on the RTX 4090, never from the start guess
    if args.fit:
        source, usable, _ = sets[FIT_ON]
        results["shape"] = fit_shape(usable, anchors_of(FIT_ON, usable), DEFAULT_SHAPE)
    for name in names:
        source, usable, left_out = sets[name]
        results["left_out"][name] = left_out
        if args.fit:
            anchors = anchors_of(name, usable)
            compute, memory = solve_levels(name, results["shape"], anchors)
            if args.one_anchor:  # ResNet-50 alone; the bandwidth share carried over from the fit GPU
                memory = results["gpus"][FIT_ON]["levels"]["memory"] if name != FIT_ON else memory
                (arrays, seconds), _ = anchors
                compute = _bisect(lambda c: predict(arrays, with_levels(name, results["shape"], c, memory))
                                  - seconds, 1e-3, 1.0)
            params = with_levels(name, results["shape"], compute, memory)
            figs = evaluate(name, usable, params)
            results["gpus"][name] = {"source": source, "levels": {"compute": compute, "memory": memory},
                                     "params": params, **figs}
            if args.write_profiles:
                by_key = {(d["model"], d["size"]): d["measured"] for d in usable}
                summary = {"batch": usable[0]["batch"], "n": figs["hetcalc"]["n"], **figs["hetcalc"],
                           "flops_peak": figs["flops_peak"]["median"], "roofline": figs["roofline"]["median"]}
                text = profile_yaml(name, results["shape"], compute, memory, summary, by_key)
                path = HERE.parent / "hetcalc" / "profiles" / f"{name}.yaml"
                write_keeping_layout(path, text)
        else:
            device = load_profile(name)
            figs = evaluate(name, usable, {}, device=device)
            results["gpus"][name] = {"source": source, **figs}
    for label, (name, file) in CHECKS.items():
        source, usable, left_out = dataset(file)
        results["left_out"][label] = left_out
        params = results["gpus"][name].get("params")
        device = None if params else load_profile(name)
        figs = evaluate(name, usable, params or {}, device=device, anchors_out=False)
        results["gpus"][label] = {"source": source, "check": True, **figs}
    return results


COLUMNS = (("hetcalc", "hetcalc profile"), ("a100_copied", "A100 efficiencies copied"),
           ("flops_peak", "FLOPs / peak"), ("roofline", "plain roofline"))


def report(results: dict, markdown: bool, per_model: bool) -> str:
    out = []
    if "shape" in results:
        shape = results["shape"]
        rel = ", ".join(f"{c} {v:.3f}" for c, v in shape["relative"].items())
        out.append(f"shape (fitted on {FILES[FIT_ON]}): relative efficiency {rel}; group_channels "
                   f"{shape['group_channels']:.1f}, group_exponent {shape['group_exponent']:.2f}")
    header = "| GPU | models | " + " | ".join(f"{t}: median / within 25% / Spearman" for _, t in COLUMNS) + " |"
    out += ["", header, "|---|---|" + "---|" * len(COLUMNS)] if markdown else [""]
    for name, g in results["gpus"].items():
        role = "check: profile unchanged, no anchor" if g.get("check") else ("fit" if name == FIT_ON else "held out")
        cells = [f"{g[k]['median']:.1%} / {g[k]['within25']:.0%} / {g[k]['spearman']:.3f}" for k, _ in COLUMNS]
        levels = g.get("levels")
        extra = f" (dense level {levels['compute']:.3f}, bandwidth share {levels['memory']:.3f})" if levels else ""
        if markdown:
            out.append(f"| {name} ({role}) | {g['hetcalc']['n']} | " + " | ".join(cells) + " |")
        else:
            out.append(f"{name} ({role}){extra}: {g['hetcalc']['n']} models, median bias "
                       f"{g['hetcalc']['bias']:+.1%}")
            for (key, title), cell in zip(COLUMNS, cells):
                out.append(f"  {title:26s} median |error| / within 25% / Spearman: {cell}")
    goal = all(g["hetcalc"]["median"] <= GOALS["median"] and g["hetcalc"]["spearman"] >= GOALS["spearman"]
               for n, g in results["gpus"].items() if n in FILES and n != FIT_ON)
    out.append("")
    out.append(f"goal on held-out GPUs (median <= {GOALS['median']:.0%}, Spearman >= {GOALS['spearman']}): "
               f"{'met' if goal else 'NOT met'}")
    out.append("timm families not in the benchmark (the ONNX reader cannot count them yet):")
    out += [f"  {family}: {why}" for family, why in SKIPPED.items()]
    for name, left in results["left_out"].items():
        for item in left:
            out.append(f"left out of {name}: {item['model']} at {item['size']}: {item['why']}")
    if per_model:
        for name, g in results["gpus"].items():
            out += ["", f"{name}: model, measured ms, predicted ms, error"]
            for m in g["models"]:
                out.append(f"  {m['model']}@{m['size']}: {m['measured_ms']:.1f} {m['predicted_ms']:.1f} "
                           f"{m['predicted_ms'] / m['measured_ms'] - 1:+.1%}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fit", action="store_true", help="refit the shared shape on the RTX 4090 file")
    parser.add_argument("--write-profiles", action="store_true",
                        help="refit (as --fit) and write hetcalc/profiles/rtx*.yaml from the fit")
    parser.add_argument("--one-anchor", action="store_true", help="with --fit: each GPU's level from ResNet-50 "
                        "alone, the RTX 4090's bandwidth share carried over (an experiment; profiles keep two)")
    parser.add_argument("--unfused-activations", action="store_true", help="charge SiLU and GELU as the "
                        "exporter writes them, several kernels (an ablation)")
    parser.add_argument("--export-with", metavar="PYTHON", help="an interpreter with torch and timm: export "
                        "missing ONNX files with benchmarks/timm_onnx.py")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--models", action="store_true", help="also print every model's times")
    parser.add_argument("--json", metavar="FILE", help="write the figures as JSON")
    parser.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw", help="nhwc: the channels-last "
                        "files (RTX 4090 fit, RTX 3090 held out) with the NHWC rules (benchmarks/gpu_layout.py)")
    args = parser.parse_args(argv)
    UNFUSED["on"] = args.unfused_activations
    if args.layout == "nhwc":
        import gpu_layout

        results = gpu_layout.run(args)
        print(gpu_layout.report(results, args.markdown, args.models))
    else:
        results = run(args)
        print(report(results, args.markdown, args.models))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
