"""Export timm models to weight-free ONNX for benchmarks/gpu_published.py (run with an interpreter that has
torch and timm, the pinned `models` extra; nothing is downloaded: models are built with random weights and
exported without them).

    python benchmarks/timm_onnx.py resnet50:224 efficientnet_b0:224 [--out benchmarks/.onnx]

Each model is exported in eval mode with BatchNorm kept as its own node (TrainingMode.PRESERVE), as an
eager framework runs it, to OUT/NAME-SIZE.onnx; a file already there is kept.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / ".onnx"


def export(name: str, size: int, out: Path) -> Path:
    import timm
    import torch

    path = out / f"{name}-{size}.onnx"
    if path.is_file():
        return path
    torch.manual_seed(0)
    model = timm.create_model(name, pretrained=False).eval()
    buffer = io.BytesIO()
    with torch.no_grad():
        torch.onnx.export(model, (torch.zeros(1, 3, size, size),), buffer, dynamo=False, export_params=False,
                          training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"], opset_version=17)
    out.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", help="NAME:SIZE, timm's model name and image size")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    failed = 0
    for item in args.models:
        name, _, size = item.partition(":")
        try:
            path = export(name, int(size or 224), args.out)
            print(f"{path.name}: {path.stat().st_size:,} bytes", flush=True)
        except Exception as exc:  # a model the exporter cannot take: say so, go on with the others
            failed += 1
            print(f"{item}: failed: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
