"""hetcalc answers at once: table commands never import numpy or matplotlib.

Each check runs in a fresh interpreter, since this test session has long imported both. No timings here:
benchmarks/bench.py measures them as ratios.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("numpy", "matplotlib", "onnx", "torch", "google", "ml_dtypes")  # onnx's messages: only for .onnx files
PROBE = """
import sys
{setup}
heavy = sorted({{name.split(".")[0] for name in sys.modules}} & set({heavy!r}))
print("HEAVY=" + ",".join(heavy), file=sys.stderr)
"""
RUN_MAIN = """
from hetcalc.cli import main
code = main({args!r}, standalone_mode=False)
assert code == 0, code
"""


def run_python(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def heavy_modules(setup: str) -> list[str]:
    """The heavy packages in sys.modules after running `setup` in a new interpreter."""
    done = run_python("-c", PROBE.format(setup=setup, heavy=HEAVY))
    assert done.returncode == 0, done.stderr
    line = [s for s in done.stderr.splitlines() if s.startswith("HEAVY=")][-1]
    return [name for name in line[len("HEAVY="):].split(",") if name]


@pytest.mark.parametrize("args", [
    ["resnet50", "--P", "4"],
    ["analyze", "vgg16", "--P", "M", "--format", "csv"],
    ["mobilenet", "--format", "json"],
    ["resnet56", "--P", "2", "--format", "markdown", "--summary-only"],
    ["list"],
    ["vgg16", "--P", "4", "--device", "a100", "--hetconv-impl", "split"],  # the time model is pure Python too
    ["resnet56", "--traffic", "--format", "json"],
    ["devices"],
    ["--help"],  # loads every command's module for the command list
    ["sweep", "--help"],
    ["import", "--help"],
], ids=" ".join)
def test_table_commands_import_neither_numpy_nor_matplotlib(args):
    assert heavy_modules(RUN_MAIN.format(args=args)) == []


@pytest.mark.parametrize("module", ["hetcalc", "hetcalc.cli", "hetcalc.sweep", "hetcalc.cli.sweep"])
def test_importing_the_package_stays_light(module):
    assert heavy_modules(f"import {module}") == []


def test_whole_process_never_imports_numpy():
    """`python -m hetcalc resnet50 --P 4` as a whole process, every import traced by -X importtime."""
    done = run_python("-X", "importtime", "-m", "hetcalc", "resnet50", "--P", "4")
    assert done.returncode == 0, done.stderr
    assert "HetConv" in done.stdout
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0]
                for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "hetcalc" in imported
    assert not imported & set(HEAVY)


def test_the_probe_sees_heavy_imports():
    """The check above would notice: a sweep does import numpy."""
    assert "numpy" in heavy_modules(RUN_MAIN.format(args=["sweep", "resnet56", "--P", "1..4",
                                                          "--format", "csv"]))


def test_the_probe_sees_protobuf_on_the_onnx_path():
    """An .onnx model loads onnx's messages through protobuf (so the YAML checks above would notice it too),
    but not the onnx package's Python layer, whose import alone costs more than the read (ml_dtypes)."""
    pytest.importorskip("onnx")
    model = str(ROOT / "tests" / "onnx" / "resnet50.onnx")
    heavy = heavy_modules(RUN_MAIN.format(args=[model, "--summary-only"]))
    assert "google" in heavy and "onnx" not in heavy and "ml_dtypes" not in heavy
