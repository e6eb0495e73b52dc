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
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.network.graph import Network
from hetcalc.network.importers.common import check_input_shape
from hetcalc.network.rules import layer_name


def to_onnx_bytes(module: Any, input_shape: Any, calls: set | None = None) -> bytes:
    """The module as ONNX bytes: structure and shapes, no weights. `calls`, when given, receives
    (module path, name) for each call of a functional in PATCHED while the module is traced."""
    import torch

    shape = check_input_shape(input_shape)
    was_training = module.training
    module.eval()
    buffer = io.BytesIO()
    try:
        with warnings.catch_warnings(), recording(module, calls):
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


PATCHED = ("relu", "gelu", "silu", "relu6")  # the F.* activations ptflops patches: torch.relu is not one


@contextmanager
def recording(module: Any, calls: set | None):
    """While the module runs: each call of F.<PATCHED> noted with the path of the module it runs in."""
    if calls is None:
        yield
        return
    import torch.nn.functional as F

    stack: list[str] = [""]
    hooks = []
    for path, child in module.named_modules():
        if path:
            hooks.append(child.register_forward_pre_hook(lambda m, a, path=path: stack.append(path)))
            hooks.append(child.register_forward_hook(lambda m, a, o: stack.pop() and None))  # None: output kept
    originals = {name: getattr(F, name) for name in PATCHED}

    def wrap(name, function):
        def called(*args, **kwargs):
            calls.add((stack[-1], name))
            return function(*args, **kwargs)
        return called

    try:
        for name, function in originals.items():
            setattr(F, name, wrap(name, function))
        yield
    finally:
        for name, function in originals.items():
            setattr(F, name, function)
        for hook in hooks:
            hook.remove()


def network_from_module(module: Any, input_shape: Any, *, strict: bool = False) -> Network:
    """A Network from a torch.nn.Module traced at `input_shape` (channels, height, width)."""
    try:
        import onnx
    except ImportError:
        raise SpecError("costing a torch module needs the onnx package: pip install 'hetcalc[torch]'") from None
    from hetcalc.network.importers.onnx import network_from_model

    calls: set = set()
    model = onnx.load_from_string(to_onnx_bytes(module, input_shape, calls))
    name = type(module).__name__
    network = network_from_model(model, f"<torch {name}>", name, strict=strict, title=name)
    network = replace(network, meta={**network.meta, "modules": module_facts(module, model, network, calls)})
    return module_names(network)


# the torch class each part of a layer must be an instance of to count as that module's own op; otherwise
# the op was a functional call (F.relu, F.batch_norm, F.linear, ...) in its parent module's forward
FAMILIES = {"conv": "modules.conv._ConvNd", "fc": "Linear", "bn": "modules.batchnorm._BatchNorm",
            "pool": ("MaxPool1d", "MaxPool2d", "AvgPool1d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"),
            "act:relu": "ReLU", "act:relu6": ("ReLU6", "Hardtanh"), "act:gelu": "GELU", "act:silu": "SiLU",
            "act:leaky_relu": "LeakyReLU", "act:elu": "ELU", "act:sigmoid": "Sigmoid", "act:tanh": "Tanh",
            "act:hardswish": "Hardswish", "act:hardsigmoid": "Hardsigmoid", "act:mish": "Mish",
            "act:softplus": "Softplus", "act:selu": "SELU", "resize": "Upsample",
            "norm": ("LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")}
POOL_OPS = ("MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool")
RESIZE_OPS = ("Resize", "Upsample")


def module_facts(module: Any, model: Any, network: Network, calls: set = frozenset()) -> tuple:
    """Per layer, the torch module each of its parts came from, as the peer tools that count by module class
    see it (ptflops and thop look up type(module), torchinfo counts leaf modules): ((role, class, leaf), ...)
    with role 'conv', 'fc', 'bn', 'pool' or 'act:KIND', class the module's exact class ('torch.nn.modules.
    activation.ReLU') or None for a functional call ('' for an activation no F.* call made: torch.relu, x.relu()),
    leaf whether the module has no children. The exporter's node names carry the module scope
    ('/layer1/layer1.0/relu_1/Relu': the second call of layer1.0.relu); `calls` the F.* calls seen."""
    modules = dict(module.named_modules())
    nodes = {layer_name(node.name): node for node in model.graph.node}
    readers: dict[str, list] = {}
    for node in model.graph.node:
        for tensor in node.input:
            readers.setdefault(tensor, []).append(node)
    facts = []
    for layer in network.layers:
        node = nodes.get(layer.name)
        parts = [] if node is None else layer_parts(layer, node, readers)
        found = ((role, tensor_call(module_of(modules, part, role), role, part, calls)) for role, part in parts)
        facts.append(tuple((role, *fact) for role, fact in found if fact is not None))  # unfound: as torchvision
    return tuple(facts)


def layer_parts(layer, node, readers: dict) -> list[tuple[str, Any]]:
    """(role, ONNX node) for the layer's own op and the BatchNorm and activation it took (each the first reader
    of the tensor before it, as the importer absorbs them)."""
    own = {"conv": "conv", "fc": "fc", "bn": "bn", "norm": "norm",
           "act": f"act:{getattr(layer, 'act', '')}"}.get(layer.kind)
    if layer.kind == "pool" and node.op_type in POOL_OPS:
        own = "pool"
    if node.op_type in RESIZE_OPS and getattr(layer, "op", "") == "upsample":
        own = "resize"
    parts = [(own, node)] if own else []
    if layer.kind not in ("conv", "fc", "bn", "add", "mul"):
        return parts
    tensor = node.output[0]

    def reader(op_type: str | None = None):
        following = readers.get(tensor, [])
        return following[0] if following and (op_type is None or following[0].op_type == op_type) else None

    if layer.kind == "conv" and layer.bn and reader("BatchNormalization") is not None:
        parts.append(("bn", reader()))
        tensor = reader().output[0]
    if layer.kind == "fc" and node.op_type == "MatMul" and layer.bias and reader("Add") is not None:
        tensor = reader().output[0]
    if layer.act and reader() is not None:
        parts.append((f"act:{layer.act}", reader()))
    return parts


def tensor_call(fact, role: str, node, calls: set):
    """A functional activation that no patched F.* call made in its module (torch.relu, x.relu()): class ''."""
    if fact is None or fact[0] is not None or role[4:] not in PATCHED or not calls:
        return fact
    path, _ = module_path(node.name)
    return fact if (path, role[4:]) in calls else ("", fact[1])


def module_of(modules: dict, node, role: str) -> tuple[str | None, bool] | None:
    """The exact class of the module whose scope wrote `node` when it is of the role's family (else None: a
    functional call), and whether that module is a leaf; None when no module has that scope."""
    import torch.nn as nn

    path, _ = module_path(node.name)
    found = modules.get(path)
    if found is None and "_" in path.rsplit(".", 1)[-1]:  # 'relu_1': a module called again
        found = modules.get(path.rsplit("_", 1)[0])
    if found is None:
        return None
    families = FAMILIES.get(role, ())
    classes = []
    for family in (families,) if isinstance(families, str) else families:
        target = nn
        for attr in family.split("."):
            target = getattr(target, attr)
        classes.append(target)
    leaf = next(iter(found.children()), None) is None
    if not isinstance(found, tuple(classes)):
        return None, leaf
    return f"{type(found).__module__}.{type(found).__qualname__}", leaf


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
