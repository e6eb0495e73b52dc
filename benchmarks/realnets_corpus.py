"""Real networks through both torch exporters: does hetcalc read each, and does `hetcalc import` round-trip it?

    /work/venv-tv/bin/python benchmarks/realnets_corpus.py export DIR   (torch, torchvision, timm: no weights)
    python benchmarks/realnets_corpus.py check DIR                       (hetcalc and onnx)

`export` writes NAME.legacy.onnx (torch.onnx.export(dynamo=False, export_params=False, training=PRESERVE,
opset 17): BatchNorm kept apart) and NAME.dynamo.onnx (dynamo=True, opset 18, torch's default exporter, which
folds BatchNorm into the convolutions; weights saved as external data that is then deleted), and params.json: each
model's sum(p.numel() for p in model.parameters()) and BatchNorm channels. `check` prints, per model and
exporter, the standard MACs and parameters, the parameters less sum(numel), whether the BatchNorm-folded hint
applies, and the import round trip; the last column compares the two exports (MACs must be equal). The models are
untrained: the dynamo exporter folds each BatchNorm into a bias that is all zero and drops it with every other
all-zero bias, so its parameters are sum(numel) less 2 per BatchNorm channel and less the zero-initialised
biases. docs/onnx.md has the table of a run. The per-preset figures against the real tools
for the legacy exports are tests/onnx/make_modern.py's and tests/test_onnx_modern.py's.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

TORCHVISION = ("convnext_tiny", "vit_b_16", "swin_t", "efficientnet_b0", "densenet121", "densenet201",
               "inception_v3", "googlenet", "shufflenet_v2_x1_0", "regnet_y_400mf", "mobilenet_v2",
               "mobilenet_v3_large", "resnet18", "squeezenet1_0")
TIMM = ("mixnet_s", "cspdarknet53", "hrnet_w18_small", "ghostnet_100")


def build(name: str):
    import timm
    import torchvision

    if name in TIMM:
        return timm.create_model(name, pretrained=False).eval()
    extra = {"aux_logits": False, "init_weights": False} if name in ("inception_v3", "googlenet") else {}
    return torchvision.models.get_model(name, weights=None, **extra).eval()


def export(folder: Path) -> None:
    import torch

    counts = {}
    for name in TORCHVISION + TIMM:
        model = build(name)
        counts[name] = {"params": sum(p.numel() for p in model.parameters()), "batchnorm_channels": sum(
            m.num_features for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))}
        (folder / "params.json").write_text(json.dumps(counts, indent=1) + "\n")
        x = torch.zeros(1, 3, 299 if name == "inception_v3" else 224, 299 if name == "inception_v3" else 224)
        torch.onnx.export(model, (x,), folder / f"{name}.legacy.onnx", dynamo=False, export_params=False,
                          training=torch.onnx.TrainingMode.PRESERVE, opset_version=17)
        path = folder / f"{name}.dynamo.onnx"
        torch.onnx.export(model, (x,), dynamo=True, opset_version=18, verbose=False).save(str(path), external_data=True)
        Path(f"{path}.data").unlink()
        print(name, flush=True)


def check_one(path: Path, numel: int | None) -> tuple[str, int | None, int | None]:
    """One row's text, and the MACs and parameters (None when the file is refused); `numel`: the torch model's
    parameters."""
    import hetcalc
    from hetcalc.analysis.importing import import_spec
    from hetcalc.core.errors import HetcalcError

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            std = hetcalc.analyze(path, variants="standard").standard
        except HetcalcError as exc:
            return f"refused: {exc}", None, None
    folded = any("BatchNorm" in type(w.message).__name__ for w in caught)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import_spec(path)
        imported = "round-trips"
    except HetcalcError as exc:
        imported = f"refused: {str(exc).split(': ', 1)[-1]}"
    gap = "" if numel is None else f"{std.params - numel:+,}"
    return f"{std.macs:,} | {std.params:,} | {gap} | {'folded' if folded else ''} | {imported}", std.macs, std.params


def check(folder: Path) -> None:
    counts = json.loads((folder / "params.json").read_text()) if (folder / "params.json").exists() else {}
    print("| model | exporter | MACs | parameters | less sum(numel) | BN | import | legacy vs dynamo |")
    print("|---|---|---|---|---|---|---|---|")
    for legacy in sorted(folder.glob("*.legacy.onnx")):
        name = legacy.name.split(".")[0]
        numel = counts.get(name, {}).get("params")
        rows = {tag: check_one(folder / f"{name}.{tag}.onnx", numel) for tag in ("legacy", "dynamo")
                if (folder / f"{name}.{tag}.onnx").exists()}
        (_, macs_l, params_l), (_, macs_d, params_d) = rows["legacy"], rows.get("dynamo", ("", None, None))
        same = "" if macs_d is None or macs_l is None else \
            ("MACs equal" if macs_l == macs_d else "MACs DIFFER") + f", params {params_d - params_l:+,}"
        for tag, (text, _, _) in rows.items():
            print(f"| {name} | {tag} | {text} | {same if tag == 'dynamo' else ''} |")


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("export", "check"):
        sys.exit(__doc__)
    folder = Path(sys.argv[2])
    folder.mkdir(parents=True, exist_ok=True)
    (export if sys.argv[1] == "export" else check)(folder)
