"""What ONNX's own checker and strict shape inference refuse, checked before a graph is counted, naming the node.

One pass over the nodes: every tensor is written once (no two nodes share an output name, no node writes a
graph input or initializer, no two graph outputs share a name), and the window attributes of Conv and the
pools are what the operator schema allows (auto_pad one of its four words, strides and dilations positive,
kernel_shape positive, as many pads as twice the spatial axes). Sizes that come out below 1 are refused
where the layer is made (network.rules). Control flow (If, Loop, Scan) is not counted: its outputs' shapes
are the declared ones, else unknown, and a node that needs one names the control flow.
"""

from __future__ import annotations

from hetcalc.core.errors import SpecError
from hetcalc.network.importers.common import GraphAssembler, Tensor
from hetcalc.network.importers.onnx.reader import attrs
from hetcalc.network.rules import printable, text_of

AUTO_PADS = ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
WINDOW_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")
CONTROL_FLOW = ("If", "Loop", "Scan")
COUNTED_INSIDE = ("Conv", "ConvTranspose", "Gemm", "MatMul")  # what control flow would hide from the totals


def validate_graph(imp: GraphAssembler, graph) -> None:
    """Refuse, naming the node, a graph that ONNX's checker or strict shape inference refuses."""
    written = {i.name for i in graph.input} | {t.name for t in graph.initializer}
    outputs = [o.name for o in graph.output]
    if len(set(outputs)) != len(outputs):
        twice = next(name for name in outputs if outputs.count(name) > 1)
        raise imp_error(imp, f"the graph lists output '{printable(text_of(twice))}' twice")
    for node in graph.node:
        for name in node.output:
            if not name:
                continue
            if name in written:
                what = "a graph input or initializer" if name in imp.tensors else "an earlier node"
                raise imp.fail(node, f"writes '{printable(text_of(name))}', which {what} already holds (every "
                                     "tensor is written once in ONNX)")
            written.add(name)
        if node.op_type in WINDOW_OPS:
            try:
                check_window(imp, node)
            except (TypeError, ValueError) as exc:  # an attribute of another type (pads as a tensor)
                raise imp.fail(node, f"cannot read its attributes ({type(exc).__name__}: {exc})") from None


def imp_error(imp: GraphAssembler, message: str) -> SpecError:
    return SpecError(message, source=imp.source)


def check_window(imp: GraphAssembler, node) -> None:
    """auto_pad, strides, dilations, kernel_shape and pads as the operator schema allows them."""
    a = attrs(node)
    mode = text_of(a.get("auto_pad", "NOTSET"))  # strict decoding would fail on bytes that are not UTF-8
    if mode not in AUTO_PADS:
        raise imp.fail(node, f"auto_pad '{printable(mode)}' is not one of {', '.join(AUTO_PADS)}")
    kernel = a.get("kernel_shape")
    weight = weight_shape(imp, node)
    rank = len(kernel) if kernel else None if weight is None else len(weight) - 2
    if kernel and weight is not None and tuple(kernel) != tuple(weight[2:]):
        raise imp.fail(node, f"kernel_shape {list(kernel)} differs from its weight's {list(weight[2:])} "
                             f"('{printable(text_of(node.input[1]))}' is {'x'.join(map(str, weight))})")
    for key in ("kernel_shape", "strides", "dilations"):
        values = a.get(key)
        if values is None:
            continue
        bad = next((v for v in values if v < 1), None)
        if bad is not None:
            raise imp.fail(node, f"{key} {list(values)}: every value must be at least 1")
        if rank is not None and len(values) != rank:
            raise imp.fail(node, f"{key} {list(values)} has {len(values)} values for {rank} spatial axes")
    pads = a.get("pads")
    if pads is not None and rank is not None and len(pads) != 2 * rank:
        raise imp.fail(node, f"pads {list(pads)} has {len(pads)} values; {rank} spatial axes take {2 * rank} "
                             "(begins, then ends)")


def weight_shape(imp: GraphAssembler, node) -> tuple[int, ...] | None:
    """A Conv's weight dims, when they are known before the walk (an initializer or a weight input)."""
    if node.op_type != "Conv" or len(node.input) < 2:
        return None
    weight = imp.tensors.get(node.input[1])
    return None if weight is None or weight.shape is None or len(weight.shape) < 3 else weight.shape


def control_flow(imp: GraphAssembler, node) -> None:
    """If / Loop / Scan: uncounted. Its outputs take their declared shapes; without one a shape is unknown,
    and the node that needs it names this one (rather than failing on a guessed shape)."""
    imp.uncount(node)
    inside = counted_inside(node)
    held = ", ".join(f"{op} x{n}" for op, n in sorted(inside.items())) or "no counted op"
    label = printable(text_of(node.name)) or node.op_type
    why = (f"it comes from {node.op_type} node {label!r}: control flow, which hetcalc does not count; its "
           f"subgraphs hold {held}. Declare the output's shape (value_info) or remove the control flow")
    for out in node.output:
        if out:
            declared = imp.value_info.get(out)
            fixed = declared is not None and None not in declared[1:]
            shape = (1 if declared[0] is None else declared[0], *declared[1:]) if fixed else None
            imp.tensors[out] = Tensor(shape, origin=None if fixed else why)


def counted_inside(node) -> dict[str, int]:
    """The counted op types in a control-flow node's subgraphs, nested ones included."""
    found: dict[str, int] = {}
    stack = [node]
    while stack:
        current = stack.pop()
        for attr in current.attribute:
            graphs = [attr.g] if attr.HasField("g") else list(attr.graphs)
            for graph in graphs:
                for inner in graph.node:
                    if inner.op_type in COUNTED_INSIDE:
                        found[inner.op_type] = found.get(inner.op_type, 0) + 1
                    stack.append(inner)
    return found
