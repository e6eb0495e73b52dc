"""Load budgets of a 100,000-layer spec (issue 13): wall time and peak memory of whole `hetcalc` runs.

    python benchmarks/load.py [--layers 100000] [--repeats 3]

Each case runs as its own process (so peak RSS is that run's own, read from the kernel after it exits);
rounds are interleaved and each figure is the median over rounds. Budgets (docs/performance.md):

    --summary-only --format csv -o FILE     < 5 s and < 200 MB
    --format json -o FILE (streamed)        < 20 s and < 500 MB
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import generate_spec, hetcalc_command  # noqa: E402

CASES = {  # name -> (extra arguments, output suffix, seconds budget, MB budget)
    "summary csv": (["--summary-only", "--format", "csv"], ".csv", 5.0, 200.0),
    "full json": (["--format", "json"], ".json", 20.0, 500.0),
}


def run_once(command: list[str]) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MB) and CPU seconds (user + system) of one child process.

    On a shared machine the wall time includes waiting for a core; the CPU time does not."""
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(command)}: {proc.stderr.read().decode()}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # ru_maxrss: kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = generate_spec(args.layers, Path(tmp) / "deep.yaml")
        figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in CASES}
        for _ in range(args.repeats):
            for name, (extra, suffix, _, _) in CASES.items():
                out = Path(tmp) / f"out{suffix}"
                figures[name].append(run_once([*hetcalc_command(), str(spec), *extra, "-o", str(out)]))
                size = out.stat().st_size
        print(f"{args.layers:,}-layer spec, median of {args.repeats} interleaved rounds")
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"{'case':<14} {'wall s':>7} {'CPU s':>7} {'budget':>7} {'peak MB':>8} {'budget':>7}  verdict (CPU, MB)")
        for name, (_, suffix, seconds, megabytes) in CASES.items():
            wall = statistics.median(w for w, _, _ in figures[name])
            peak = statistics.median(m for _, m, _ in figures[name])
            cpu = statistics.median(c for _, _, c in figures[name])
            verdict = "PASS" if cpu < seconds and peak < megabytes else "FAIL"
            print(f"{name:<14} {wall:>7.2f} {cpu:>7.2f} {seconds:>7.0f} {peak:>8.0f} {megabytes:>7.0f}  {verdict}")
        print(f"(last full JSON: {size / 1e6:.0f} MB on disk)" if size else "")


if __name__ == "__main__":
    main()
