"""ONNX models -> the layer graph, from the graph's structure alone: never runs the model, needs no weights.

Shapes come from the input's declared shape, initializer (or weight-input) dims and op attributes, op by
op; value_info is not needed, but a declared shape that differs from the worked-out one is refused, and it
gives the output shape of an op hetcalc cannot count. What ONNX's checker refuses is refused first
(validate.py), naming the node. Small integer tensors that shape computations use (Reshape's shape, Pad's
pads, Slice's starts, Resize's scales, and torch's Shape -> Gather -> Concat chains) are evaluated
here (fold.py). One handler per op type in `handlers.HANDLERS`; adding an op is one function and one line. A
Conv whose output feeds only a BatchNormalization takes that BatchNorm (its `bn`), and a layer whose output
feeds only an activation takes the activation, as in a YAML spec. docs/onnx.md lists the ops and the rules.
"""

from __future__ import annotations

import math
from pathlib import Path

from hetcalc.core.errors import HetcalcError, SpecError
from hetcalc.network.graph import INPUT, Conv, Network
from hetcalc.network.importers.common import (
    GraphAssembler, Tensor, UncountedOpWarning, check_input_shape, passthrough, report_uncounted, require_countable,
)
from hetcalc.network.importers.onnx.foldable import FOLDABLE, all_constant
from hetcalc.network.importers.hints import warn_if_batchnorm_folded
from hetcalc.network.importers.onnx.handlers import HANDLERS, absorbable_activation, constant
from hetcalc.network.importers.onnx.patterns import rewrite
from hetcalc.network.importers.onnx.reader import dims, read_model, values
from hetcalc.network.importers.onnx.static import static_shape
from hetcalc.network.importers.onnx.tensor_ops import FUSED
from hetcalc.network.importers.onnx.validate import CONTROL_FLOW, control_flow, validate_graph
from hetcalc.network.rules import path_text, printable, text_of

__all__ = ["HANDLERS", "MAX_NODES", "UncountedOpWarning", "load_onnx_file", "network_from_model", "read_model"]

MAX_NODES = 1_000_000
STANDARD = ("", "ai.onnx")  # the domains of the standard ops; any other domain's op is uncounted
# a malformed node's, in one line (OverflowError: a Resize by an infinite scale)
READ_ERRORS = (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError)
FLOAT_TYPES = (1, 10, 11, 16)  # TensorProto FLOAT, FLOAT16, DOUBLE, BFLOAT16: an initializer that may be learnt


def load_onnx_file(path: str | Path, *, input_shape=None, strict: bool = False, name: str | None = None) -> Network:
    """A Network from an .onnx file (external weight data need not be present)."""
    path = Path(path)
    model = read_model(path)
    # a file name that is not UTF-8 (os.fsdecode's surrogates) still gives a printable, encodable name
    source, stem = path_text(path), path_text(path.stem)
    network = network_from_model(model, source, name or stem, input_shape=input_shape, strict=strict)
    warn_if_batchnorm_folded(network)  # a module (importers.torch) is exported with its BatchNorm kept
    return network


def network_from_model(model, source: str, name: str, *, input_shape=None, strict: bool = False,
                       title: str | None = None) -> Network:
    """A Network from a ModelProto; `source` names it in messages."""
    graph = model.graph
    if len(graph.node) > MAX_NODES:
        raise SpecError(f"the graph has {len(graph.node):,} nodes, more than {MAX_NODES:,}", source=source)
    imp = GraphAssembler(source, activation_of=absorbable_activation)
    shape = seed_tensors(imp, graph, input_shape)
    validate_graph(imp, graph)
    walk_nodes(imp, graph.node)
    report_uncounted(imp, strict)
    require_countable(imp, "Conv, Gemm or MatMul")
    convs = [layer for layer in imp.layers if isinstance(layer, Conv)]
    version = text_of(model.producer_version)
    producer_name = printable(text_of(model.producer_name) + (f" {version}" if version else ""))
    return Network(name=name, title=title or name, input=tuple(shape[1:]), layers=tuple(imp.layers),
                   source=source, description=f"imported from ONNX ({producer_name.strip() or 'unknown producer'})",
                   conv_bias=any(c.bias for c in convs), conv_bn=any(c.bn for c in convs),
                   meta={"uncounted": dict(imp.uncounted), "uncounted_macs_bound": imp.uncounted_bound()}
                   if imp.uncounted else {})


def seed_tensors(imp: GraphAssembler, graph, given) -> tuple[int, ...]:
    """The tensors known before any node runs: initializers, the data input (its shape returned, batch 1),
    weights given as graph inputs; and the declared shapes and graph outputs."""
    for init in graph.initializer:
        shape = tuple(int(d) for d in init.dims)
        imp.tensors[init.name] = Tensor(shape, INPUT, values(init) if math.prod(shape) <= 64 else None, param=True,
                                        made_of=learnable(imp, init.name, init.data_type, shape))
    data_inputs = [i for i in graph.input if i.name not in imp.tensors]
    if not data_inputs:
        raise SpecError("the graph has no input that is not an initializer", source=imp.source)
    first = data_inputs[0]
    shape = input_shape_of(first, given, imp.source)
    imp.tensors[first.name] = Tensor(shape, INPUT)
    for extra in data_inputs[1:]:  # weights given as graph inputs (torch's export_params=False)
        d = dims(extra.type)
        d = None if d is None or None in d else d
        elem = extra.type.tensor_type.elem_type if extra.type.HasField("tensor_type") else 0
        imp.tensors[extra.name] = Tensor(d, INPUT, None, param=True,
                                         made_of=frozenset() if d is None else learnable(imp, extra.name, elem, d))
    declared = dims(first.type)
    if declared is None or tuple(declared[1:]) == shape[1:]:  # declared shapes hold for the file's own input
        shapes = ((v.name, dims(v.type)) for v in (*graph.output, *graph.value_info))
        imp.value_info = {name: d for name, d in shapes if d is not None}
    imp.outputs = {o.name for o in graph.output}
    return shape


def learnable(imp: GraphAssembler, name: str, data_type: int, shape) -> frozenset:
    """{name} when the weight may be learnt: floating point and more than one element (a single number is a
    constant the exporter folded: GELU's 0.5, an attention scale, a masked_fill value); recorded with its size."""
    if data_type not in FLOAT_TYPES or math.prod(shape) <= 1:
        return frozenset()
    imp.param_sizes[name] = math.prod(shape)
    return frozenset((name,))


def copy_constant(imp: GraphAssembler, node) -> None:
    """An Identity of an initializer: torch's exporter writes one initializer for equal weights (LayerNorm's
    ones and zeros) and an Identity per further use. Each copy is a learnable tensor of its own."""
    source = imp.tensors[node.input[0]]
    name = node.output[0]
    if source.made_of:
        imp.param_sizes[name] = math.prod(source.shape or ())
    imp.tensors[name] = Tensor(source.shape, INPUT, source.value, param=True,
                               made_of=frozenset((name,)) if source.made_of else frozenset())
    imp.absorbed.add(id(node))


def input_shape_of(first, given, source: str) -> tuple[int, ...]:
    """The data input's shape, batch first (batch 1): `given` (C, H, W) or the file's fixed one."""
    declared = dims(first.type)
    label = printable(text_of(first.name))
    if given is not None:
        shape = (1, *check_input_shape(given))
    elif declared is None or any(d is None for d in declared[1:]):
        raise SpecError(f"input {label!r} has no fixed shape ({declared}); give one with input_shape "
                        "(--input-shape C,H,W)", source=source)
    else:
        shape = (1, *declared[1:])
    if len(shape) != 4 or min(shape) < 1:
        shown = tuple("?" if d is None else d for d in declared) if given is None else shape[1:]
        raise SpecError(f"input {label!r} has shape {shown}: hetcalc counts image networks, input "
                        "[batch, channels, height, width] with positive sizes", source=source)
    return shape


def walk_nodes(imp: GraphAssembler, nodes) -> None:
    """Every node in graph order: folded when its inputs are constants, else through its handler (an op
    without one, or of another domain, is uncounted). Constants come first: an absorbed Clip reads its bounds
    early."""
    fold = None  # fold.fold_constant, loaded with numpy at the first node to fold
    nodes = list(nodes)  # one Python object per node for the whole walk: node ids key the absorbed set
    for node in nodes:
        if node.op_type == "Constant" and node.domain in STANDARD:
            constant(imp, node)
            imp.absorbed.add(id(node))
        elif node.op_type == "Identity" and node.input[0] in imp.tensors and imp.tensors[node.input[0]].param:
            copy_constant(imp, node)  # torch writes its de-duplicated weights last: they are read before
    nodes, fused = rewrite(nodes, set(imp.tensors), imp.outputs)
    imp.marks.update({key: FUSED for key in fused})
    imp.index_consumers(nodes)
    for node in nodes:
        if id(node) in imp.absorbed:
            continue
        standard = node.domain in STANDARD
        try:
            if standard and node.op_type in CONTROL_FLOW:
                control_flow(imp, node)
                continue
            if standard and node.op_type in FOLDABLE and all_constant(imp, node):
                if fold is None:
                    from hetcalc.network.importers.onnx.fold import fold_constant as fold
                if fold(imp, node):
                    continue
            if standard and static_shape(imp, node):
                continue
            handler = HANDLERS.get(node.op_type) if standard else None
            if handler is None:
                imp.uncount(node)
                passthrough(imp, node)
            else:
                handler(imp, node)
        except HetcalcError:
            raise
        except READ_ERRORS as exc:
            raise imp.fail(node, f"cannot read its attributes or inputs ({type(exc).__name__}: {exc})") from None
