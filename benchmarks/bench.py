"""Measure hetcalc's speed budgets of issue #6 as ratios to a start-up floor, in one run.

    python benchmarks/bench.py [--repeats 7] [--markdown]

Every timing is a whole process, started the same way; the runs are interleaved (one round runs every
task once) and repeated, and each task's figure is the median over rounds of its time divided by the
floor's time in the same round, so that a machine that slows down or speeds up mid-run moves both.

The floor is `python -c "import click, rich.console, rich.table, yaml"`: the least any Python CLI with
hetcalc's dependencies pays before doing anything. Budgets (PASS/FAIL):

  hetcalc resnet50 --P 4          <= 1.3 x floor  (all four variants, per-layer tables, stdout to /dev/null,
                                                  and again on a 100-column pseudo-terminal: styled tables)
  hetcalc sweep (table and csv)   <= 6 x floor    (six architectures x P = 1..1024 x four variants)
  10,000-layer spec, analyzed     <= 6 x floor    (python -c "import hetcalc; hetcalc.analyze(SPEC)")
  100,000 / 10,000 layers         <= 12           (CPU time of load + analysis, inside those processes)

Where torch and ptflops or fvcore are installed, they are timed on ResNet-50 the same way (torchvision's
model, or the same network defined here when torchvision is missing), with `python -c "import torch"`
beside them; otherwise the script says they were skipped.

Python's bytecode cache is used as an installed package uses it: PYTHONDONTWRITEBYTECODE is removed
from the children's environment and a warm-up round fills hetcalc's __pycache__ (git-ignored). Pass
--no-bytecode to keep the environment as it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FLOOR = "import click, rich.console, rich.table, yaml"
# prints the CPU time of loading and analyzing the spec (CPU time: other processes do not inflate it)
ANALYZE_PROBE = ("import sys, time\n"
                 "import hetcalc\n"
                 "start = time.process_time()\n"
                 "report = hetcalc.analyze(sys.argv[1])\n"
                 "print(time.process_time() - start, len(report.network.layers))\n")
# ResNet-50 as torchvision builds it ("v1.5", stride on the 3x3 conv), for machines without torchvision.
RESNET50 = """
import torch
from torch import nn

def resnet50():
    try:
        import torchvision
        return torchvision.models.resnet50()
    except ImportError:
        pass

    class Bottleneck(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            out = width * 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                nn.Conv2d(width, out, 1, bias=False), nn.BatchNorm2d(out))
            self.short = (nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out))
                          if stride != 1 or cin != out else nn.Identity())
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.body(x) + self.short(x))

    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                   nn.MaxPool2d(3, 2, 1)], 64
    for width, blocks, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(blocks):
            layers.append(Bottleneck(cin, width, stride if i == 0 else 1))
            cin = width * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers)
"""
PTFLOPS = (RESNET50 + "from ptflops import get_model_complexity_info\n"
           "macs, params = get_model_complexity_info(resnet50(), (3, 224, 224), as_strings=False,\n"
           "                                         print_per_layer_stat=False, verbose=False)\n"
           "print(int(macs), int(params))\n")
FVCORE = (RESNET50 + "from fvcore.nn import FlopCountAnalysis\n"
          "flops = FlopCountAnalysis(resnet50().eval(), torch.zeros(1, 3, 224, 224))\n"
          "flops.unsupported_ops_warnings(False)\n"
          "flops.uncalled_modules_warnings(False)\n"
          "print(int(flops.total()))\n")


@dataclass
class Task:
    """One command to time, with its budget against the floor (None: shown, not judged)."""

    key: str
    label: str
    argv: list[str]
    budget: float | None = None
    inner: bool = False  # the command prints its own inner timing first on stdout
    counts: bool = False  # the command prints the MACs it counted first on stdout
    tty: bool = False  # stdout is a 100 x 50 pseudo-terminal (styled tables), not /dev/null
    counted: str = ""
    times: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    cpu_ratios: list[float] = field(default_factory=list)  # the child's CPU time over the floor's
    inner_times: list[float] = field(default_factory=list)


def hetcalc_command() -> list[str]:
    """The `hetcalc` console script of this interpreter, or `python -m hetcalc`."""
    script = Path(sys.executable).with_name("hetcalc")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hetcalc"]


def generate_spec(layers: int, path: Path) -> Path:
    """A deep residual network of exactly `layers` layers (conv, add, pool and fc), 64 channels at 32 x 32.

    One cycle is a bottleneck stage (10 blocks x 4 layers), a basic stage (10 x 3) and 10 plain 3 x 3
    convolutions: 80 layers; plain convolutions make up the rest.
    """
    cycles, rest = divmod(layers - 3, 80)
    if layers < 3:
        raise ValueError("a generated spec has at least 3 layers")
    lines = [f"name: generated-{layers}", f"title: Generated residual network ({layers:,} layers)",
             "input: [3, 32, 32]", "defaults:", "  conv: {bias: false, bn: true, act: relu}", "layers:",
             "  - conv: 64"]
    for _ in range(cycles):
        lines += ["  - stage: {block: bottleneck, width: 16, out: 64, repeat: 10}",
                  "  - stage: {block: basic, out: 64, repeat: 10}",
                  "  - conv: {out: 64, repeat: 10}"]
    if rest:
        lines.append(f"  - conv: {{out: 64, repeat: {rest}}}")
    lines += ["  - avgpool: global", "  - fc: 10"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def available(*modules: str) -> list[str]:
    """Which of `modules` cannot be found (without importing any of them)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


def build_tasks(tmp: Path, layer_counts: list[int]) -> tuple[list[Task], list[str]]:
    het = hetcalc_command()
    py = [sys.executable]
    tasks = [
        Task("floor", f'python -c "{FLOOR}"', [*py, "-c", FLOOR]),
        Task("analyze", "hetcalc resnet50 --P 4", [*het, "resnet50", "--P", "4"], 1.3),
        Task("analyze_tty", "hetcalc resnet50 --P 4 (on a terminal)", [*het, "resnet50", "--P", "4"], 1.3,
             tty=True),
        Task("sweep", "hetcalc sweep (6 archs x P=1..1024, table)", [*het, "sweep"], 6.0),
        Task("sweep_csv", "hetcalc sweep --format csv (every P)", [*het, "sweep", "--format", "csv"], 6.0),
    ]
    for n in layer_counts:
        spec = generate_spec(n, tmp / f"generated-{n}.yaml")
        tasks.append(Task(f"spec{n}", f"analyze a {n:,}-layer spec", [*py, "-c", ANALYZE_PROBE, str(spec)],
                          6.0 if n == layer_counts[0] else None, inner=True))
    skipped = []
    if available("torch"):
        skipped.append("torch, ptflops, fvcore: skipped: not installed (torch)")
        return tasks, skipped
    tasks.append(Task("torch", 'python -c "import torch"', [*py, "-c", "import torch"]))
    for key, script in (("ptflops", PTFLOPS), ("fvcore", FVCORE)):
        if available(key):
            skipped.append(f"{key} on ResNet-50: skipped: not installed ({key})")
        else:
            tasks.append(Task(key, f"{key} on ResNet-50, end to end", [*py, "-c", script], counts=True))
    return tasks, skipped


def run_once(task: Task, env: dict) -> tuple[float, float, float | None]:
    """Wall time, CPU time (user + system) of the child, and the time it reported itself."""
    if task.tty:
        return run_on_terminal(task, env)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(task.argv, env=env, cwd=ROOT, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE if task.inner or task.counts else subprocess.DEVNULL,
                          stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"bench: '{task.label}' failed (exit {done.returncode}):\n"
                         f"{done.stderr.decode(errors='replace')[-2000:]}")
    inner = float(done.stdout.split()[0]) if task.inner else None
    if task.counts:
        task.counted = done.stdout.split()[0].decode()
    return elapsed, cpu, inner


def run_on_terminal(task: Task, env: dict) -> tuple[float, float, None]:
    """Like run_once, with the child's stdout and stderr on a 100-column pseudo-terminal, read to the end."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 100, 0, 0))
    env = {k: v for k, v in env.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.Popen(task.argv, env={**env, "TERM": "xterm-256color"}, cwd=ROOT, stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    while True:
        try:
            if not os.read(master, 65536):
                break
        except OSError:  # EIO: the child closed the terminal
            break
    os.close(master)
    code = proc.wait()
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"bench: '{task.label}' failed (exit {code})")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), None


def measure(tasks: list[Task], repeats: int, env: dict, progress) -> None:
    for task in tasks:  # warm-up: bytecode caches, disk cache; not counted
        run_once(task, env)
    for round_no in range(repeats):
        floor = floor_cpu = None
        for task in tasks:  # the floor first in every round, so each ratio has its own floor
            elapsed, cpu, inner = run_once(task, env)
            task.times.append(elapsed)
            if inner is not None:
                task.inner_times.append(inner)
            if task.key == "floor":
                floor, floor_cpu = elapsed, cpu
            task.ratios.append(elapsed / floor)
            task.cpu_ratios.append(cpu / floor_cpu if floor_cpu else float("nan"))
        progress(f"round {round_no + 1}/{repeats} done")


@dataclass
class Verdict:
    what: str
    value: float
    budget: float

    @property
    def ok(self) -> bool:
        return self.value <= self.budget


def verdicts(tasks: list[Task], layer_counts: list[int]) -> list[Verdict]:
    by_key = {t.key: t for t in tasks}
    out = [Verdict(f"{t.label} / floor", statistics.median(t.ratios), t.budget) for t in tasks
           if t.budget is not None]
    if len(layer_counts) == 2:
        small, large = (by_key[f"spec{n}"] for n in layer_counts)
        grow = layer_counts[1] / layer_counts[0]
        out.append(Verdict(f"analysis CPU time, {layer_counts[1]:,} / {layer_counts[0]:,} layers (inside the process)",
                           statistics.median(large.inner_times) / statistics.median(small.inner_times),
                           1.2 * grow))
    return out


def environment(env: dict, bytecode: bool) -> list[str]:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        commit = (commit + (" (with uncommitted changes)" if dirty else "")) if commit else "(not a git checkout)"
    except OSError:
        commit = "(git not found)"
    return [f"Python {platform.python_version()} ({sys.executable}), {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs",
            f"hetcalc at {ROOT} commit {commit}",
            "bytecode cache: " + ("used (PYTHONDONTWRITEBYTECODE removed for the children)" if bytecode
                                  else "as the environment has it")]


def report(tasks, skipped, checks, repeats, env_lines, markdown: bool) -> str:
    floor = statistics.median(next(t for t in tasks if t.key == "floor").times)
    rows = []
    for t in tasks:
        median = statistics.median(t.times)
        ratio = statistics.median(t.ratios)
        inner = (f"{statistics.median(t.inner_times):.3f} s" if t.inner_times
                 else f"{int(t.counted):,} MACs" if t.counted else "")
        budget = "" if t.budget is None else f"<= {t.budget:g}x"
        verdict = "" if t.budget is None else ("PASS" if ratio <= t.budget else "FAIL")
        cpu = f"{statistics.median(t.cpu_ratios):.2f}x"
        rows.append([t.label, f"{median:.3f} s", f"{ratio:.2f}x", cpu, inner, budget, verdict])
    head = ["task", "median", "/ floor", "CPU / floor", "analysis CPU (inside) / count", "budget", "verdict"]
    lines = [f"{repeats} interleaved rounds; medians; '/ floor' = median over rounds of the task's wall time "
             f"over that round's floor (floor median {floor:.3f} s); 'CPU / floor' the same with the "
             "processes' CPU time (user + system), which other load on the machine does not inflate.",
             *env_lines, ""]
    if markdown:
        lines += ["| " + " | ".join(head) + " |", "|:---|" + "---:|" * (len(head) - 2) + ":---|"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
    else:
        widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
        def fmt(row):
            return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths)))

        lines += [fmt(head), "  ".join("-" * w for w in widths), *[fmt(r) for r in rows]]
    lines.append("")
    for check in checks:
        lines.append(f"{'PASS' if check.ok else 'FAIL'}  {check.what}: {check.value:.2f} (budget <= {check.budget:g})")
    lines += [f"      {s}" for s in skipped]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--layers", default="10000,100000",
                        help="sizes of the generated specs, comma-separated (default 10000,100000)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="keep PYTHONDONTWRITEBYTECODE as the environment sets it")
    parser.add_argument("--startup", action="store_true",
                        help="only the floor and `hetcalc resnet50 --P 4` (piped and on a terminal): heavier "
                             "tasks in the same rounds disturb these short timings")
    args = parser.parse_args(argv)
    layer_counts = [int(n) for n in args.layers.split(",") if n.strip()]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("COLUMNS", None)
    if not args.no_bytecode:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory(prefix="hetcalc-bench-") as tmp:
        tasks, skipped = build_tasks(Path(tmp), [] if args.startup else layer_counts)
        if args.startup:
            tasks, skipped, layer_counts = [t for t in tasks if t.key in ("floor", "analyze", "analyze_tty")], [], []
        measure(tasks, args.repeats, env, lambda msg: print(f"bench: {msg}", file=sys.stderr, flush=True))
    checks = verdicts(tasks, layer_counts)
    print(report(tasks, skipped, checks, args.repeats, environment(env, not args.no_bytecode), args.markdown))
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
