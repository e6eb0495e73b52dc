"""What every importer shares, whatever the file format: the graph it assembles, one node at a time.

A node is anything with `name`, `op_type`, `input` and `output` (tensor names, "" for an absent input), as
ONNX's NodeProto has. A format's handlers read its nodes' attributes and call `GraphAssembler.add`; the
assembler keeps the tensor table, names the layers, absorbs a BatchNorm or activation into the layer before
it, and counts the nodes no handler could cost, which `report_uncounted` then names.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from hetcalc.core.errors import OptionError, SpecError
from hetcalc.network.graph import INPUT, Conv, Linear, MatMul
from hetcalc.network.rules import (
    MAX_LAYERS, MAX_VALUE, broadcast_shape, layer_name, layer_problem, printable, text_of,
)


class UncountedOpWarning(UserWarning):
    """An op type hetcalc cannot count (ONNX's, or another importer's): its nodes add nothing to the totals."""


@dataclass
class Tensor:
    """What the importer knows of one tensor: its shape (batch first), the layer that made it, its value."""

    shape: tuple[int, ...] | None
    producer: int = INPUT
    value: list | None = None  # flat int/float values of a small constant
    param: bool = False  # a weight (initializer or weight input), not an activation
    origin: str | None = None  # why the shape is unknown, when a node hetcalc cannot follow made it
    made_of: frozenset = frozenset()  # the learnable initializers this constant is made of


def no_activation(assembler: GraphAssembler, node) -> None:
    return None


@dataclass
class GraphAssembler:
    """The layers of one graph as its nodes are read, and what is known of every tensor so far."""

    source: str
    # the format's rule: the activation a node applies, when a layer before it may take it (else None)
    activation_of: Callable[[GraphAssembler, Any], str | None] = no_activation
    tensors: dict[str, Tensor] = field(default_factory=dict)
    layers: list = field(default_factory=list)
    names: set = field(default_factory=set)
    uncounted: dict[str, int] = field(default_factory=dict)
    consumers: dict[str, list] = field(default_factory=dict)
    outputs: set = field(default_factory=set)
    absorbed: set = field(default_factory=set)  # ids of nodes folded into an earlier layer
    value_info: dict = field(default_factory=dict)  # declared shapes, used only for uncounted ops' outputs
    param_sizes: dict = field(default_factory=dict)  # learnable initializer -> its number of elements
    marks: dict = field(default_factory=dict)  # node id -> a tag the format's pattern pass gave it
    left_out: list = field(default_factory=list)  # the uncounted nodes

    def new_params(self, tensors) -> int:
        """Elements of the learnable initializers `tensors` are made of, each once: the parameters of the layer
        that applies them. A layer counts what it applies as a conv counts its weight, even when another layer
        reads the same initializer: torch's dynamo exporter writes equal tensors (every LayerNorm's ones on an
        untrained model) as one initializer, where the legacy exporter writes an Identity per copy."""
        names = {n for t in tensors if t is not None for n in t.made_of}
        return sum(self.param_sizes.get(n, 0) for n in names)

    def index_consumers(self, nodes) -> None:
        for node in nodes:
            for tensor in node.input:
                if tensor:
                    self.consumers.setdefault(tensor, []).append(node)

    def fail(self, node, message: str) -> SpecError:
        op = printable(text_of(node.op_type))
        label = printable(layer_name(node.name)) or op
        return SpecError(f"node '{label}' ({op}): {message}", source=self.source)

    def get(self, node, index: int) -> Tensor:
        names = list(node.input)
        if index >= len(names) or not names[index]:
            raise self.fail(node, f"input {index + 1} is missing")
        name = names[index]
        if name not in self.tensors:
            raise self.fail(node, f"input {name!r} is produced by no earlier node, initializer or graph input")
        return self.tensors[name]

    def opt(self, node, index: int) -> Tensor | None:
        names = list(node.input)
        if index >= len(names) or not names[index]:
            return None
        return self.get(node, index)

    def shape(self, node, index: int = 0) -> tuple[int, ...]:
        t = self.get(node, index)
        if t.shape is None:
            why = t.origin or "not fixed in the file, or a dimension of 0"
            raise self.fail(node, f"the shape of input {node.input[index]!r} is unknown ({why})")
        return t.shape

    def const(self, node, index: int) -> list | None:
        t = self.opt(node, index)
        return None if t is None else t.value

    def set(self, node, shape, producer: int, value=None, index: int = 0) -> None:
        self.tensors[node.output[index]] = Tensor(tuple(int(v) for v in shape) if shape is not None else None,
                                                  producer, value)

    def alias(self, node, source: Tensor, index: int = 0) -> None:
        self.tensors[node.output[index]] = source

    def name_of(self, node) -> str:
        base = layer_name(node.name) or f"{text_of(node.op_type)}_{len(self.layers)}"  # as a spec reads names
        name, k = base, 1
        while name in self.names or name == "input":
            k += 1
            name = f"{base}.{k}"
        self.names.add(name)
        return name

    def add(self, node, layer_cls, in_shape, out_full, inputs, *, output: int = 0, **fields) -> int:
        """A layer for `node` (shapes batch first); its output number `output` is the layer's. Returns the
        layer's index."""
        name = self.name_of(node)
        layer = layer_cls(name=name, in_shape=as3(in_shape), out_shape=as3(out_full),
                          where=f"{self.source}: node {name}", inputs=tuple(inputs), **fields)
        problem = layer_problem(layer) or self.declared_problem(node, out_full, output) or self.merge_problem(layer)
        if problem:
            raise self.fail(node, problem)
        if len(self.layers) >= MAX_LAYERS:
            raise self.fail(node, f"the graph has more than {MAX_LAYERS:,} layers hetcalc counts (a spec's bound)")
        self.layers.append(layer)
        index = len(self.layers) - 1
        self.set(node, out_full, index, index=output)
        return index

    def merge_problem(self, layer) -> str | None:
        """An add or mul whose input layers' shapes do not broadcast (an op left uncounted between a layer and
        the merge changed the shape): counted as it stands, it would add maps that differ."""
        if layer.kind not in ("add", "mul") or any(j == INPUT for j in layer.inputs):
            return None
        shapes = [self.layers[j].out_shape for j in layer.inputs]
        if broadcast_shape(shapes) is not None:
            return None
        listed = ", ".join(f"{printable(self.layers[j].name)} {'x'.join(map(str, s))}" for j, s in
                           zip(layer.inputs, shapes))
        why = f" ({', '.join(sorted(self.uncounted))} left uncounted between them changed a shape)" \
            if self.uncounted else ""
        return f"its input layers' outputs do not fit together: {listed}{why}"

    def declared_problem(self, node, out_full, output: int = 0) -> str | None:
        """The file's declared shape of the node's output number `output` (value_info), when it is fixed and
        differs from the one worked out from the node's inputs and attributes (batch aside): ONNX's strict
        shape inference refuses such a file."""
        declared = self.value_info.get(node.output[output])
        if declared and len(declared) != len(out_full):  # a Gather kept as a slice of its axis: ranks differ
            return None
        if declared and None not in declared[1:] and tuple(declared[1:]) != tuple(out_full)[1:]:
            got = "x".join(str(d) for d in tuple(out_full)[1:])
            return f"the file declares its output {node.output[output]!r} as {'x'.join(map(str, declared[1:]))}, " \
                   f"but its inputs and attributes give {got}"
        return None

    def sole_consumer(self, tensor: str):
        """The one node reading `tensor`, when exactly one does and it is not a graph output."""
        readers = self.consumers.get(tensor, [])
        if len(readers) == 1 and tensor not in self.outputs:
            return readers[0]
        return None

    def take_bn(self, tensor: str, op_type: str) -> tuple[bool, str]:
        """A batch norm (a node of `op_type`) that alone reads `tensor` as its data: absorbed, with the
        tensor it writes."""
        node = self.sole_consumer(tensor)
        if node is not None and node.op_type == op_type and node.input[0] == tensor:
            self.absorbed.add(id(node))
            return True, node.output[0]
        return False, tensor

    def take_act(self, tensor: str) -> tuple[str | None, str]:
        """An activation that alone reads `tensor`: absorbed, with the tensor it writes."""
        node = self.sole_consumer(tensor)
        act = None if node is None else self.activation_of(self, node)
        if act is not None:
            self.absorbed.add(id(node))
            return act, node.output[0]
        return None, tensor

    def uncount(self, node) -> None:
        op = printable(text_of(node.op_type))
        self.uncounted[op] = self.uncounted.get(op, 0) + 1
        self.left_out.append(node)

    def uncounted_bound(self) -> int | None:
        """At most how many MACs the uncounted nodes do, if each output element reads each element of its largest
        input at most once (true of element-wise, linear and pooling ops); None where a shape is unknown."""
        bound = 0
        for node in self.left_out:
            outs = [self.tensors.get(n) for n in node.output if n]
            ins = [self.tensors.get(n) for n in node.input if n]
            if any(t is None or t.shape is None for t in outs + ins):
                return None
            bound += sum(math.prod(t.shape) for t in outs) * max((math.prod(t.shape) for t in ins), default=1)
        return bound

    def counted_macs(self) -> int:
        """The MACs of the layers read so far (eq. 1 and its FC and matmul kin), to weigh the uncounted part."""
        total = 0
        for layer in self.layers:
            if isinstance(layer, Conv):
                total += math.prod(layer.out_shape) * layer.M // layer.groups * layer.kernel[0] * layer.kernel[1]
            elif isinstance(layer, Linear):
                total += layer.rows * layer.in_features * layer.out_features
            elif isinstance(layer, MatMul):
                total += math.prod(layer.out_shape) * layer.inner
        return total


def as3(shape) -> tuple[int, int, int]:
    """A batch-first shape as the graph's (channels, height, width): leading dims fold into channels. The batch
    is 1; a first dimension that is not 1 is a real one (attention's sequence-first tensors) and is kept."""
    dims = list(shape[1:]) if len(shape) > 1 and shape[0] == 1 else list(shape) or [1]
    if len(dims) == 1:
        return (dims[0], 1, 1)
    if len(dims) == 2:
        return (dims[0], dims[1], 1)
    return (math.prod(dims[:-2]), dims[-2], dims[-1])


def passthrough(imp: GraphAssembler, node, shape="same") -> None:
    """An op not counted: its outputs take its first live input's shape (or `shape`) and producer."""
    src = next((imp.tensors[n] for n in node.input if n in imp.tensors and not imp.tensors[n].param), None)
    if src is None:
        src = next((imp.tensors[n] for n in node.input if n in imp.tensors), Tensor(None))
    out_shape = src.shape if isinstance(shape, str) else shape
    declared = imp.value_info.get(node.output[0]) if node.output else None
    if declared and None not in declared[1:]:  # the file's declared shape beats the guess (batch 1)
        out_shape = (1 if declared[0] is None else declared[0], *declared[1:])
    for out in node.output:
        if out:
            imp.tensors[out] = Tensor(out_shape, src.producer, origin=src.origin if out_shape is None else None)


def check_input_shape(input_shape: Any) -> tuple[int, int, int]:
    """`input_shape` as (channels, height, width) of positive ints; an OptionError naming the bad value."""
    if input_shape is None:
        raise OptionError("a torch module needs input_shape, e.g. analyze(model, input_shape=(3, 224, 224))")
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise OptionError(f"input_shape must be (channels, height, width), got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1 or max(shape) > MAX_VALUE or any(isinstance(v, bool) for v in input_shape):
        raise OptionError(f"input_shape must be (channels, height, width) of positive integers up to 10**30, got "
                          f"{input_shape!r}")
    return shape


def report_uncounted(imp: GraphAssembler, strict: bool) -> None:
    """One warning naming every op type left out of the totals (an error when `strict`).

    It points at the caller of the function that called this one (the importer's public entry)."""
    if not imp.uncounted:
        return
    listed = ", ".join(f"{op} x{n}" for op, n in sorted(imp.uncounted.items()))
    if strict:
        raise SpecError(f"op types hetcalc cannot count (--strict): {listed}", source=imp.source)
    warnings.warn(f"{imp.source}: {sum(imp.uncounted.values())} node(s) of op types hetcalc cannot count, left "
                  f"out of every total: {listed}; {bound_text(imp.uncounted_bound(), imp.counted_macs())}",
                  UncountedOpWarning, stacklevel=3)


LARGE_SHARE = 0.01  # an uncounted part that could be this share of the total or more is said loudly


def bound_text(bound: int | None, counted: int) -> str:
    """What share of the total the uncounted part could be: a bound, loud when it is large."""
    if bound is None:
        return "THE TOTALS MAY BE FAR TOO LOW: their cost cannot be bounded (a shape is unknown)"
    share = bound / (bound + counted) if bound + counted else 0.0
    text = (f"they do at most {bound:,} MACs (one per output element and element of their largest input), "
            f"at most {share:.1%} of the total")
    return f"THE TOTALS MAY BE UP TO {share:.0%} TOO LOW: {text}" if share >= LARGE_SHARE else text


def require_countable(imp: GraphAssembler, ops: str) -> None:
    """Refuse a graph with no convolution or fully connected layer; `ops` names them in the format's words."""
    if not any(isinstance(layer, (Conv, Linear)) for layer in imp.layers):
        raise SpecError(f"the graph has no {ops} layer hetcalc can count", source=imp.source)
