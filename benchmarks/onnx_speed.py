"""How fast hetcalc reads ONNX files, as whole processes (issue 18's goals).

    python benchmarks/onnx_speed.py [--rounds 7] [--onnx-tool-python /path/to/venv/bin/python]

1. `hetcalc tests/onnx/resnet50.onnx` (a torchvision-style ResNet-50 graph without weights, committed)
   against the import floor, `python -c "import click, rich.console, rich.table, yaml"`, in interleaved
   rounds: goal at most 3x the floor.
2. A generated chain of 50,000 Conv + Relu nodes (weights declared external and absent), analysed whole
   in one process: wall and CPU time and peak memory (goal: within 5 s and 400 MB).
3. With --onnx-tool-python (a Python with onnx-tool 1.0.1, torch and torchvision installed): the same
   torchvision models with random weights (onnx-tool cannot read stripped files), `onnx_tool.model_profile`
   against `hetcalc FILE`, whole processes, paired rounds: goal hetcalc at least 5x faster.

Prints medians; nothing here is a test. Children may write bytecode caches, as an installed package has them.

Figures (2026-12-03, core 1 shared with other jobs, load 4-5; docs/performance.md has the history): 1.25x the
floor; the chain 10.8 s wall, 3.25 s CPU (3.1 s wall on a quiet machine), 257 MB; against onnx-tool, with the
weights no longer read (importers/onnx/wire.py): resnet50 10.3x, mobilenet_v2 6.8x, densenet121 6.4x,
efficientnet_b0 6.9x (paired against main's hetcalc in the same rounds: 8.3x, 6.6x, 5.9x, 6.6x against 4.1x,
5.5x, 4.3x, 5.2x; under lighter load 8.8x, 6.8x, 6.2x, 6.7x against 4.0x, 5.6x, 4.4x, 5.2x).
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

ROOT = Path(__file__).resolve().parent.parent
FLOOR = [sys.executable, "-c", "import click, rich.console, rich.table, yaml"]
CHAIN = 50_000
# children write and use bytecode caches, as an installed package has them (pip compiles on install):
# under PYTHONDONTWRITEBYTECODE a source checkout compiles every module it imports in every run (~60 ms)
CHILD_ENV = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
TORCHVISION = ("resnet50", "mobilenet_v2", "densenet121", "efficientnet_b0")


def run(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak resident MB of one whole process (it must succeed)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, env=CHILD_ENV)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def interleaved(cmds: dict[str, list[str]], rounds: int) -> dict[str, list[float]]:
    """Wall seconds of each command, every round running each once in turn (after one warm-up each)."""
    for cmd in cmds.values():
        run(cmd)
    walls: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(rounds):
        for name, cmd in cmds.items():
            walls[name].append(run(cmd)[0])
    return walls


def chain_model(path: Path, convs: int, channels: int = 8) -> None:
    """A chain of `convs` 3x3 convolutions with ReLU on a 1 x channels x 8 x 8 input, weights absent."""
    from onnx import TensorProto, helper

    nodes, weights, previous = [], [], "input"
    for i in range(convs):
        weight = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[channels, channels, 3, 3])
        weight.data_location = TensorProto.EXTERNAL
        entry = weight.external_data.add()
        entry.key, entry.value = "location", "absent.bin"
        weights.append(weight)
        nodes.append(helper.make_node("Conv", [previous, f"w{i}"], [f"c{i}"], kernel_shape=[3, 3],
                                      pads=[1, 1, 1, 1], name=f"conv{i}"))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"relu{i}"))
        previous = f"r{i}"
    graph = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                                             [1, channels, 8, 8])],
                              [helper.make_tensor_value_info(previous, TensorProto.FLOAT, None)], initializer=weights)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path.write_bytes(model.SerializeToString())


def startup(rounds: int) -> None:
    model = ROOT / "tests" / "onnx" / "resnet50.onnx"
    walls = interleaved({"floor": FLOOR, "hetcalc": [sys.executable, "-m", "hetcalc", str(model)]}, rounds)
    floor, mine = statistics.median(walls["floor"]), statistics.median(walls["hetcalc"])
    print(f"1. hetcalc {model.relative_to(ROOT)}: {mine:.3f} s, floor {floor:.3f} s: {mine / floor:.2f}x the floor "
          f"(goal <= 3x), median of {rounds} rounds")


def large(folder: Path) -> None:
    path = folder / "chain50k.onnx"
    chain_model(path, CHAIN)
    # the child reports its own peak (VmHWM, kB): ru_maxrss keeps the forked parent's pages from before exec
    code = (f"import hetcalc; r = hetcalc.analyze({str(path)!r}, P=4); "
            f"assert len(r.network.convs) == {CHAIN}; "
            f"print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT, env=CHILD_ENV)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit("the 50,000-conv chain failed")
    peak = int(out.split()[-1]) / 1024
    print(f"2. a {CHAIN:,}-conv ONNX chain ({path.stat().st_size / 1e6:.1f} MB), analysed whole: {wall:.2f} s wall "
          f"({usage.ru_utime + usage.ru_stime:.2f} s CPU), {peak:.0f} MB peak (goal 5 s, 400 MB)")


EXPORT = """
import sys, torch, torchvision
name, out = sys.argv[1], sys.argv[2]
model = getattr(torchvision.models, name)(weights=None).eval()
torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), out, dynamo=False, opset_version=17)
"""
ONNX_TOOL = "import sys, onnx_tool; onnx_tool.model_profile(sys.argv[1], save_profile=None)"


def against_onnx_tool(python: str, folder: Path, rounds: int) -> None:
    print("3. against onnx-tool (whole processes, full files with random weights):")
    for name in TORCHVISION:
        path = folder / f"{name}.onnx"
        subprocess.run([python, "-c", EXPORT, name, str(path)], check=True, capture_output=True)
        walls = interleaved({"onnx-tool": [python, "-c", ONNX_TOOL, str(path)],
                             "hetcalc": [sys.executable, "-m", "hetcalc", str(path)]}, rounds)
        theirs, mine = statistics.median(walls["onnx-tool"]), statistics.median(walls["hetcalc"])
        paired = statistics.median(t / m for t, m in zip(walls["onnx-tool"], walls["hetcalc"]))
        print(f"   {name} ({path.stat().st_size / 1e6:.0f} MB): onnx-tool {theirs:.2f} s, hetcalc {mine:.2f} s: "
              f"{theirs / mine:.1f}x faster, {paired:.1f}x the median round (goal >= 5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--onnx-tool-python", help="a Python with onnx-tool, torch and torchvision")
    args = parser.parse_args()
    startup(args.rounds)
    with tempfile.TemporaryDirectory() as tmp:
        large(Path(tmp))
        if args.onnx_tool_python:
            against_onnx_tool(args.onnx_tool_python, Path(tmp), max(3, args.rounds // 2))


if __name__ == "__main__":
    main()
