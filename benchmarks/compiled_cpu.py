"""Compiled against eager on this CPU: torch.compile (inductor) and eager PyTorch, timed on hetcalc's own networks.

For a few built-in specs and variants (built with hetcalc.build_module, random weights, eval mode) this times
one forward pass eagerly and compiled (`torch.compile(module)`, inductor's default mode, after warm-up), in
interleaved rounds, and prints per case the measured compiled/eager speedup beside the time model's (the
same network's predicted time with `--mode eager` and `--mode compiled`, on the profile given with --device,
`local` by default). The speedup, not the absolute time, is what the comparison checks: it does not depend on
the profile's overall scale.

    python benchmarks/compiled_cpu.py                        # resnet56 and vgg16 at batch 8
    python benchmarks/compiled_cpu.py --arch resnet56 --batch 1 --rounds 9 --device local --threads 1

Other processes' CPU use is read from /proc/stat around every timed run (hetcalc.measure.quiet) and printed
with the figures: on a shared machine the times are noisy, and a run can be repeated when it is quiet.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's hetcalc

VARIANTS = ("standard", "hetconv", "gwc_pwc", "dwc_pwc")


def timed_run(fn, x, seconds: float = 0.2) -> float:
    """Median-free single figure: seconds per call over a run of calls lasting about `seconds`."""
    calls, start = 0, time.perf_counter()
    while True:
        fn(x)
        calls += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and calls >= 2:
            return elapsed / calls


def predicted(arch: str, variant: str, batch: int, device: str | None, mode: str) -> float | None:
    import hetcalc

    if device is None:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = hetcalc.analyze(arch, P=4, variants=variant, device=device, batch=batch, hetconv_impl="split",
                                 mode=mode)
    return report.variant(variant).time_s


def kernels_and_bytes(arch: str, variant: str, batch: int, mode: str) -> tuple[int, int]:
    import hetcalc
    from hetcalc.analysis.timed import variant_kernels

    report = hetcalc.analyze(arch, P=4, variants=variant)  # counted only: variant_kernels prices it
    v = report.variant(variant)
    kernels = [k for layer in variant_kernels(report, v, "fp32", batch, "split", mode) for k in layer]
    return len(kernels), sum(k.bytes for k in kernels)


def measure_case(arch: str, variant: str, batch: int, rounds: int, watch) -> dict:
    import torch

    from hetcalc.measure import build_module

    module = build_module(arch, variant, P=4, hetconv_impl="split").eval()
    network_input = hetcalc_input(arch)
    x = torch.randn(batch, *network_input)
    with torch.inference_mode():
        start = time.perf_counter()
        compiled = torch.compile(module)
        compiled(x)  # compile
        compile_s = time.perf_counter() - start
        for fn in (module, compiled):  # warm-up
            timed_run(fn, x, 0.1)
        eager, comp, busy = [], [], []
        for _ in range(rounds):  # interleaved: both see the same machine
            before = watch.snapshot()
            eager.append(timed_run(module, x))
            comp.append(timed_run(compiled, x))
            others = watch.others_cores(before, watch.snapshot())
            busy.append(others if others is not None else float("nan"))
    return {"eager": statistics.median(eager), "compiled": statistics.median(comp),
            "eager_fastest": min(eager), "compiled_fastest": min(comp), "compile_s": compile_s,
            "others_cores": statistics.median(busy)}


def spearman(a: list[float], b: list[float]) -> float:
    """Spearman's rank correlation (no ties expected among measured speedups)."""
    def ranks(xs):
        order = sorted(range(len(xs)), key=xs.__getitem__)
        out = [0.0] * len(xs)
        for r, i in enumerate(order):
            out[i] = float(r)
        return out

    ra, rb = ranks(a), ranks(b)
    n = len(a)
    if n < 2:
        return float("nan")
    return 1 - 6 * sum((x - y) ** 2 for x, y in zip(ra, rb)) / (n * (n * n - 1))


def hetcalc_input(arch: str) -> tuple[int, int, int]:
    import hetcalc

    return tuple(hetcalc.analyze(arch, variants="standard").input)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--arch", action="append", help="built-in spec (repeatable); default resnet56, vgg16")
    parser.add_argument("--variant", action="append", choices=VARIANTS, help="default: all four")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--device", default="local",
                        help="profile(s) for the predicted speedups, comma-separated ('none': skip)")
    parser.add_argument("--freezing", action="store_true",
                        help="inductor's freezing (weights constant: BatchNorm folded into the convolutions, "
                             "weights prepacked once), as a deployment compiles; the default compiles as timm does")
    parser.add_argument("--threads", type=int, help="torch threads (1 avoids OpenMP stalls on a shared machine)")
    args = parser.parse_args(argv)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)

    from hetcalc.measure import quiet as watch

    if args.freezing:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
    devices = [] if args.device == "none" else [d.strip() for d in args.device.split(",")]
    for device in list(devices):
        try:
            predicted("resnet56", "standard", 1, device, "eager")
        except Exception as exc:  # no such profile: measure only
            print(f"no predictions from {device}: {exc}")
            devices.remove(device)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}; batch {args.batch}, median of {args.rounds} interleaved rounds; "
          f"freezing {'on' if args.freezing else 'off'}")
    print("arch      variant   eager ms  compiled ms  measured x  (fastest x)  "
          + "".join(f"{'pred. ' + d[:12]:>19s}" for d in devices) + "  kernels e/c  bytes c/e  others' cores  compile s")
    measured_x, predicted_x = [], {d: [] for d in devices}
    for arch in args.arch or ["resnet56", "vgg16"]:
        for variant in args.variant or VARIANTS:
            m = measure_case(arch, variant, args.batch, args.rounds, watch)
            measured_x.append(m["eager"] / m["compiled"])
            preds = ""
            for d in devices:
                pe, pc = (predicted(arch, variant, args.batch, d, mode) for mode in ("eager", "compiled"))
                predicted_x[d].append(pe / pc)
                preds += f"{pe / pc:18.2f}x"
            (ke, be), (kc, bc) = (kernels_and_bytes(arch, variant, args.batch, mode) for mode in ("eager", "compiled"))
            print(f"{arch:9s} {variant:9s} {m['eager'] * 1e3:8.2f} {m['compiled'] * 1e3:12.2f} "
                  f"{m['eager'] / m['compiled']:10.2f}x {m['eager_fastest'] / m['compiled_fastest']:11.2f}x "
                  f"{preds}  {ke:5d}/{kc:<5d} {bc / be:9.2f} {m['others_cores']:14.2f} {m['compile_s']:10.1f}",
                  flush=True)
    for d in devices:
        errors = [abs(p / m - 1) for p, m in zip(predicted_x[d], measured_x)]
        within = sum(e <= 0.25 for e in errors)
        print(f"{d}: predicted speedup of compiling {statistics.median(errors):.0%} off the measured (median), "
              f"{within} of {len(errors)} within 25%, Spearman {spearman(predicted_x[d], measured_x):.2f}")
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
