"""torch modules -> the layer graph, through torch's ONNX exporter and the ONNX importer.

The module is traced once on a zero input of `input_shape` (torch's legacy TorchScript exporter,
`dynamo=False`, without parameters: `export_params=False`), BatchNorm kept apart from the convolutions
(`training=PRESERVE`), and the ONNX graph is read by `importers.onnx`. One importer serves both paths, so
a module and its exported .onnx file give the same counts by construction; tracing also follows any
Python control flow the forward pass takes, where torch.fx's symbolic trace stops at data-dependent
branches. Needs `pip install 'hetcalc[torch]'` (torch and onnx).
"""

from __future__ import annotations

import io
import warnings
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.network.graph import Network
from hetcalc.network.importers.common import check_input_shape


def to_onnx_bytes(module: Any, input_shape: Any) -> bytes:
    """The module as ONNX bytes: structure and shapes, no weights."""
    import torch

    shape = check_input_shape(input_shape)
    was_training = module.training
    module.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(module, (torch.zeros(1, *shape),), buffer, dynamo=False, export_params=False,
                              training=torch.onnx.TrainingMode.PRESERVE, input_names=["input"],
                              output_names=["output"])
    except Exception as exc:  # noqa: BLE001 - the exporter raises many kinds; report one line
        raise SpecError(f"torch could not trace {type(module).__name__} on input {shape}: "
                        f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from None
    finally:
        module.train(was_training)
    return buffer.getvalue()


def network_from_module(module: Any, input_shape: Any, *, strict: bool = False) -> Network:
    """A Network from a torch.nn.Module traced at `input_shape` (channels, height, width)."""
    try:
        import onnx
    except ImportError:
        raise SpecError("costing a torch module needs the onnx package: pip install 'hetcalc[torch]'") from None
    from hetcalc.network.importers.onnx import network_from_model

    model = onnx.load_from_string(to_onnx_bytes(module, input_shape))
    name = type(module).__name__
    network = network_from_model(model, f"<torch {name}>", name, strict=strict, title=name)
    return module_names(network)


FUNCTIONAL = ("add", "sub", "mul", "div", "sum", "concat", "reshape", "flatten", "pad", "slice", "resize",
              "transpose", "squeeze", "unsqueeze")


def module_path(node_name: str) -> tuple[str, str]:
    """'/layer1/layer1.0/conv1/Conv' -> ('layer1.0.conv1', 'conv'): the exporter's scope as the module's
    qualified name (as in `named_modules()`), and the op."""
    parts = [p for p in node_name.split("/") if p]
    if not parts:
        return "", node_name.lower()
    op = parts[-1].split(".")[0].split("_")[0].lower()
    path = ""
    last = ""
    for part in parts[:-1]:
        if last and part.startswith(last + "."):
            path += part[len(last):]
        else:
            path = f"{path}.{part}" if path else part
        last = part
    return path, op


def module_names(network: Network) -> Network:
    """Layers named by their torch module (`layer1.0.conv1`); a module's further ops get `.op` after it."""
    from dataclasses import replace

    used: set[str] = set()
    layers = []
    for layer in network.layers:
        path, op = module_path(layer.name)
        leaf = op not in FUNCTIONAL  # a leaf module's own op takes the module's name
        name = path if path and leaf and path not in used else (f"{path}.{op}" if path else op)
        base, k = name, 1
        while name in used or name == "input":
            k += 1
            name = f"{base}.{k}"
        used.add(name)
        layers.append(replace(layer, name=name))
    return replace(network, layers=tuple(layers))
