"""Regenerate tests/onnx/: small weight-stripped ONNX exports of tests/torch_models.py's networks, and
expected.json with counts taken off the running torch model (forward hooks, sum(numel())), so the
torch-free tests in tests/test_onnx_import.py check hetcalc against measurements it never made.

    python tests/onnx/make_corpus.py        (needs torch and onnx)

resnet50.onnx (torchvision's ResNet-50, no weights) is checked against the built-in resnet50 spec.
resnet18 is saved with its weights as external data, and the data file is then deleted: the importer
must work from initializer dims alone. The others are exported without parameters at all.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import onnx  # noqa: E402
import torch  # noqa: E402

from hetcalc.network.importers.torch import to_onnx_bytes  # noqa: E402
from torch_models import MODELS, hooked_counts  # noqa: E402

CORPUS = ("resnet18", "inception", "densenet", "unet", "se_resnet", "mobilenet_v2")


def main() -> None:
    expected = {}
    for key in CORPUS:
        build, shape = MODELS[key]
        torch.manual_seed(0)
        model = build().eval()
        convs, linear_macs, params = hooked_counts(model, shape)
        expected[key] = {"input": list(shape), "convs": convs, "linear_macs": linear_macs, "params": params}
        path = HERE / f"{key}.onnx"
        if key == "resnet18":  # with weights, stored outside, then the weights file removed
            import io

            buffer = io.BytesIO()
            torch.onnx.export(model, (torch.zeros(1, *shape),), buffer, dynamo=False,
                              training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"])
            proto = onnx.load_from_string(buffer.getvalue())
            onnx.save(proto, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                      location=f"{key}.weights", size_threshold=256)
            (HERE / f"{key}.weights").unlink()
        else:
            path.write_bytes(to_onnx_bytes(model, shape))
        print(f"{path.name}: {path.stat().st_size:,} bytes")
    (HERE / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    # torchvision's ResNet-50 at 224 x 224, structure only: tested against the built-in resnet50 spec
    from torch_models import resnet50

    path = HERE / "resnet50.onnx"
    path.write_bytes(to_onnx_bytes(resnet50(), (3, 224, 224)))
    print(f"{path.name}: {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
