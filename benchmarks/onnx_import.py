"""Time ONNX import: a torchvision-style ResNet-50 graph (no weights), read and costed.

    python benchmarks/onnx_import.py      (needs torch and onnx to build the graph once)

Prints the median of interleaved rounds of: reading the graph (`load_onnx_file`), and the whole
`analyze()` of the four variants from the file.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

ROUNDS = 15


def main() -> None:
    from torch_models import resnet50

    import hetcalc
    from hetcalc.network.importers.onnx import load_onnx_file
    from hetcalc.network.importers.torch import to_onnx_bytes

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "resnet50.onnx"
        path.write_bytes(to_onnx_bytes(resnet50(), (3, 224, 224)))
        print(f"resnet50.onnx: {path.stat().st_size:,} bytes (no weights), "
              f"{len(load_onnx_file(path).layers)} layers")
        load, full = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            load_onnx_file(path)
            load.append(time.perf_counter() - start)
            start = time.perf_counter()
            hetcalc.analyze(path, P=4)
            full.append(time.perf_counter() - start)
        print(f"read graph: median {statistics.median(load) * 1e3:.1f} ms over {ROUNDS} rounds")
        print(f"analyze (4 variants): median {statistics.median(full) * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
