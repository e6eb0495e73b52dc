"""Regenerate tests/onnx/modern/: today's vision networks (ConvNeXt, ViT, Swin, MixNet, CSPDarknet,
EfficientNet, HRNet, and DenseNet, ShuffleNet, MobileNetV2/V3, RegNet, Inception, GhostNet, ResNet-18) as small
weight-stripped ONNX files, six of them through both torch exporters, and references.json: what the real counting
tools say on the same torch models, so tests/test_onnx_modern.py and tests/test_onnx_modern_dynamo.py check hetcalc
against figures it never made.

    /work/venv-tv/bin/python tests/onnx/make_modern.py            (torch, torchvision, timm, onnx,
                                                                   fvcore, ptflops, thop installed)
    /work/venv-tv/bin/python tests/onnx/make_modern.py vit_b_16   (one model; those in DYNAMO to modern/dynamo/ too)
    /work/venv-tv/bin/python tests/onnx/make_modern.py --dynamo   (the dynamo exports alone, no references)

Every model is built without weights (nothing is downloaded; Inception-v3 without its auxiliary head and
initial weights, which need scipy), in eval mode, at batch 1 and 224 x 224, and
exported with torch.onnx.export(..., dynamo=False, opset_version=17, training=TrainingMode.PRESERVE), so
BatchNorm stays unfolded. Every initializer of more than 64 elements is then marked as external data in a
file that is never written: the ONNX keeps every dim and no weight, so it stays small.

The reference figures, each from a freshly built model (the tools add hooks and buffers):
- params: sum(p.numel() for p in model.parameters())
- fvcore: fvcore 0.1.5 FlopCountAnalysis(model, x).total(), and .by_operator()
- flopcounter: torch FlopCounterMode(display=False) around model(x), get_total_flops() and per aten op
- ptflops-pytorch, ptflops-aten: ptflops 0.7.5 get_model_complexity_info(model, (3, 224, 224),
  as_strings=False, print_per_layer_stat=False, backend=...), MACs and params
- thop: thop profile(model, inputs=(x,), verbose=False), ops and params
- torchinfo: torchinfo 1.8.0 summary(model, input_size=(1, 3, 224, 224), verbose=0), total_mult_adds and
  total_params
The versions used are written into the file. Intermediate tensors are renamed t0, t1, ... to keep the files
small (node names, which hetcalc shows, are kept).

The dynamo exports (modern/dynamo/NAME.onnx, for the models in DYNAMO) are of the same architecture with every
float parameter and buffer drawn at random, as a trained model's are: on an untrained model torch's default
exporter drops all-zero biases and merges equal initializers (every LayerNorm's ones), which no trained model
shows. torch.onnx.export(..., dynamo=True, opset_version=18), whose optimizer folds BatchNorm into the
convolutions; its metadata (stack traces, module classes) is dropped but for a ReduceMean's class hierarchy
(nn.AdaptiveAvgPool2d or x.mean), and the weights are stripped as above. The references are
the torch model's, whatever the exporter: `batchnorm_channels` (the BatchNorm channels, 2 parameters each in
`params`) says what a folded graph cannot hold.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import warnings
from pathlib import Path

import onnx
import torch

HERE = Path(__file__).resolve().parent / "modern"
SHAPE = (3, 224, 224)


def build(key: str):
    """The model called `key`, without weights, in eval mode, with a fixed seed."""
    torch.manual_seed(0)
    if key in TORCHVISION:
        import torchvision

        extra = {"aux_logits": False, "init_weights": False} if key == "inception_v3" else {}
        model = getattr(torchvision.models, key)(weights=None, **extra)
    else:
        import timm

        model = timm.create_model(key, pretrained=False)
    return model.eval()


TORCHVISION = ("resnet18", "convnext_tiny", "vit_b_16", "swin_t", "densenet121", "shufflenet_v2_x1_0",
               "mobilenet_v3_large", "regnet_y_400mf", "inception_v3", "mobilenet_v2")
MODELS = ("convnext_tiny", "vit_b_16", "swin_t", "mixnet_s", "cspdarknet53", "efficientnet_b0", "hrnet_w18_small",
          "densenet121", "shufflenet_v2_x1_0", "mobilenet_v3_large", "regnet_y_400mf", "inception_v3", "mobilenet_v2",
          "ghostnet_100", "resnet18")
DYNAMO = ("resnet18", "convnext_tiny", "vit_b_16", "swin_t", "efficientnet_b0", "mobilenet_v3_large")


def stripped_onnx(model) -> bytes:
    """The ONNX export with every initializer of > 64 elements moved to external data never written."""
    buffer = io.BytesIO()
    torch.onnx.export(model, (torch.zeros(1, *SHAPE),), buffer, dynamo=False, opset_version=17,
                      training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"], output_names=["output"])
    return stripped(onnx.load_from_string(buffer.getvalue()))


def dynamo_onnx(model) -> bytes:
    """The dynamo export of `model` with random weights, without metadata, stripped as `stripped_onnx`'s."""
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for tensor in itertools.chain(model.parameters(), model.buffers()):
            if tensor.is_floating_point():  # a positive running_var too
                tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(model, (torch.zeros(1, *SHAPE),), dynamo=True, opset_version=18, verbose=False)
    proto = program.model_proto
    del proto.metadata_props[:]
    for node in proto.graph.node:  # a ReduceMean keeps the module class that wrote it (nn.AdaptiveAvgPool2d?)
        kept = [(p.key, p.value) for p in node.metadata_props
                if node.op_type == "ReduceMean" and p.key == "pkg.torch.onnx.class_hierarchy"]
        del node.metadata_props[:]
        for key, value in kept:
            entry = node.metadata_props.add()
            entry.key, entry.value = key, value
    return stripped(proto)


def stripped(proto) -> bytes:
    """`proto` with short intermediate names, every initializer of > 64 elements as absent external data."""
    shorten_names(proto)
    offset = 0
    for init in proto.graph.initializer:
        count = 1
        for d in init.dims:
            count *= d
        if count <= 64:
            continue
        size = len(init.raw_data) or count * 4
        init.ClearField("raw_data")
        for field in ("float_data", "int32_data", "int64_data", "double_data"):
            init.ClearField(field)
        init.data_location = onnx.TensorProto.EXTERNAL
        del init.external_data[:]
        for k, v in (("location", "weights.absent"), ("offset", str(offset)), ("length", str(size))):
            entry = init.external_data.add()
            entry.key, entry.value = k, v
        offset += size
    return proto.SerializeToString()


def shorten_names(proto) -> None:
    """Intermediate tensors renamed t0, t1, ... and Constant nodes unnamed (Swin's 5,700 nodes' long names are
    most of its file); the names of other nodes, initializers, inputs and outputs are kept."""
    keep = {i.name for i in proto.graph.initializer} | {i.name for i in proto.graph.input} | {
        o.name for o in proto.graph.output}
    names: dict[str, str] = {}
    for node in proto.graph.node:
        if node.op_type == "Constant":  # never a layer: its name is never shown
            node.name = ""
        for i, name in enumerate(node.input):
            if name in names:
                node.input[i] = names[name]
        for i, name in enumerate(node.output):
            if name and name not in keep:
                names[name] = node.output[i] = f"t{len(names)}"
    del proto.graph.value_info[:]


def fvcore_figures(key: str) -> dict:
    from fvcore.nn import FlopCountAnalysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(build(key), torch.zeros(1, *SHAPE))
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        total = int(analysis.total())
        by_op = {k: int(v) for k, v in analysis.by_operator().items()}
        skipped = {k: int(v) for k, v in analysis.unsupported_ops().items()}
    return {"total": total, "by_operator": by_op, "unsupported_ops": skipped}


def flopcounter_figures(key: str) -> dict:
    from torch.utils.flop_counter import FlopCounterMode

    model = build(key)
    mode = FlopCounterMode(display=False)
    with mode:  # grad enabled, as a plain call: under no_grad nn.MultiheadAttention takes a fused path it cannot see
        model(torch.zeros(1, *SHAPE))
    by_op = {str(k): int(v) for k, v in mode.get_flop_counts()["Global"].items()}
    return {"total": int(mode.get_total_flops()), "by_operator": by_op}


def ptflops_figures(key: str, backend: str) -> dict:
    from ptflops import get_model_complexity_info

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        macs, params = get_model_complexity_info(build(key), SHAPE, as_strings=False, print_per_layer_stat=False,
                                                 verbose=False, backend=backend)
    return {"macs": None if macs is None else int(macs), "params": None if params is None else int(params)}


def thop_figures(key: str) -> dict:
    from thop import profile

    ops, params = profile(build(key), inputs=(torch.zeros(1, *SHAPE),), verbose=False)
    return {"ops": int(ops), "params": int(params)}


def torchinfo_figures(key: str) -> dict:
    from torchinfo import summary

    stats = summary(build(key), input_size=(1, *SHAPE), verbose=0)
    return {"mult_adds": int(stats.total_mult_adds), "params": int(stats.total_params)}


def versions() -> dict:
    import importlib.metadata as md

    return {name: md.version(name) for name in ("torch", "torchvision", "timm", "onnx", "fvcore", "ptflops", "thop",
                                            "torchinfo")}


def batchnorm_channels(model) -> int:
    return sum(m.num_features for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))


def main(keys) -> None:
    (HERE / "dynamo").mkdir(parents=True, exist_ok=True)
    out = HERE / "references.json"
    refs = json.loads(out.read_text()) if out.exists() else {}
    refs["_how"] = __doc__.split("\n\n", 2)[2].strip()
    refs["_versions"] = versions()
    for key in keys:
        path = HERE / f"{key}.onnx"
        path.write_bytes(stripped_onnx(build(key)))
        if key in DYNAMO:
            (HERE / "dynamo" / f"{key}.onnx").write_bytes(dynamo_onnx(build(key)))
        model = build(key)
        entry = {"input": list(SHAPE), "params": sum(p.numel() for p in model.parameters()),
                 "batchnorm_channels": batchnorm_channels(model)}
        for name, figures in (("fvcore", lambda: fvcore_figures(key)),
                              ("flopcounter", lambda: flopcounter_figures(key)),
                              ("ptflops-pytorch", lambda: ptflops_figures(key, "pytorch")),
                              ("ptflops-aten", lambda: ptflops_figures(key, "aten")),
                              ("thop", lambda: thop_figures(key)),
                              ("torchinfo", lambda: torchinfo_figures(key))):
            try:
                entry[name] = figures()
            except Exception as exc:  # noqa: BLE001 - a tool that fails on a model is recorded as such
                entry[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        refs[key] = entry
        out.write_text(json.dumps(refs, indent=1, sort_keys=True) + "\n")
        print(f"{path.name}: {path.stat().st_size:,} bytes; params {entry['params']:,}", flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--dynamo"]:
        for name in DYNAMO:
            (HERE / "dynamo" / f"{name}.onnx").write_bytes(dynamo_onnx(build(name)))
    else:
        main(sys.argv[1:] or MODELS)
