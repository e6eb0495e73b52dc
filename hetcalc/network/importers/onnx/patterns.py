"""Functions the exporter writes out as several nodes, recognised before the walk so each is counted as one.

- GELU (nn.GELU, exact): `x / sqrt(2) -> Erf -> + 1 -> x * . -> * 0.5` (opset < 20 has no Gelu op; the dynamo
  exporter multiplies by 0.5 first) is one `gelu` activation, as nn.GELU is one module to ptflops.
- SiLU (nn.SiLU, timm's activations): `Sigmoid(x) -> x * .` is one `silu` activation; a Sigmoid gating another
  tensor (Squeeze-and-Excitation) stays a sigmoid and a multiplication. Mish (opset < 18):
  `Softplus(x) -> Tanh -> x * .` is one `mish`.
- GroupNorm (opset < 18): `Reshape -> InstanceNormalization (constant scale, bias) -> Reshape -> * weight -> + bias`
  is one GroupNormalization whose parameters are the weight and bias.
- scaled_dot_product_attention: torch writes `(q * sqrt(s)) @ (k^T * sqrt(s)) -> [+ mask] -> Softmax -> @ v`,
  scaling both operands (the dynamo exporter by one folded constant); its two MatMuls are marked `fused` (fvcore
  0.1.5 has no rule for the fused call, so its preset leaves them out). Attention written out by hand
  (`(q * s) @ k^T`, Swin) scales one operand only.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Node:
    """A node standing for a recognised chain: the first input and last output of the chain."""

    name: str
    op_type: str
    input: list
    output: list
    domain: str = ""
    attribute: list = field(default_factory=list)


def index(nodes) -> tuple[dict, dict]:
    """Tensor -> the node writing it, and tensor -> the nodes reading it."""
    producers, consumers = {}, {}
    for node in nodes:
        for out in node.output:
            producers[out] = node
        for name in node.input:
            if name:
                consumers.setdefault(name, []).append(node)
    return producers, consumers


def rewrite(nodes, constants: set, outputs: set) -> tuple[list, set]:
    """The nodes with each GELU and SiLU chain replaced by one node; and the ids of fused attention MatMuls.

    `constants`: tensor names known before any node runs (initializers, Constant outputs)."""
    producers, consumers = index(nodes)

    def sole(tensor, op_type):
        readers = consumers.get(tensor, [])
        if len(readers) == 1 and tensor not in outputs and readers[0].op_type == op_type:
            return readers[0]
        return None

    def other(node, tensor):
        rest = [n for n in node.input if n != tensor]
        return rest[0] if len(rest) == 1 else None

    replaced: dict[int, Node] = {}
    dropped: set[int] = set()
    for node in nodes:
        if node.op_type == "Erf":
            div = producers.get(node.input[0])
            add = sole(node.output[0], "Add")
            mul = add and sole(add.output[0], "Mul")
            half = mul and sole(mul.output[0], "Mul")
            if (div is None or div.op_type != "Div" or div.input[1] not in constants or not add or not mul
                    or not half or other(add, node.output[0]) not in constants
                    or len(consumers.get(div.output[0], [])) != 1):
                continue
            first, second = other(mul, add.output[0]), other(half, mul.output[0])
            x = div.input[0]  # times x then 0.5 (legacy exporter), or 0.5 then x (dynamo)
            if not ((first == x and second in constants) or (first in constants and second == x)):
                continue
            dropped |= {id(div), id(node), id(add), id(mul)}
            replaced[id(half)] = Node(half.name, "Gelu", [div.input[0]], [half.output[0]])
        elif node.op_type == "Sigmoid":
            mul = sole(node.output[0], "Mul")
            if mul is not None and other(mul, node.output[0]) == node.input[0]:
                dropped.add(id(node))
                replaced[id(mul)] = Node(mul.name, "Silu", [node.input[0]], [mul.output[0]])
        elif node.op_type == "Softplus":
            tanh = sole(node.output[0], "Tanh")
            mul = tanh and sole(tanh.output[0], "Mul")
            if mul and other(mul, tanh.output[0]) == node.input[0]:
                dropped |= {id(node), id(tanh)}
                replaced[id(mul)] = Node(mul.name, "Mish", [node.input[0]], [mul.output[0]])
        elif node.op_type == "InstanceNormalization":
            chain = group_norm(node, producers, sole, other, constants)
            if chain is not None:
                dropped |= {id(n) for n in chain[:-1]}
                last = chain[-1]
                replaced[id(last)] = Node(node.name, "GroupNormalization",
                                          [chain[0].input[0], other(chain[3], chain[2].output[0]),
                                           other(last, chain[3].output[0])], [last.output[0]])
    rewritten = [replaced.get(id(n), n) for n in nodes if id(n) not in dropped]
    return rewritten, fused_attention(nodes, producers, consumers, constants)


def group_norm(node, producers, sole, other, constants):
    """[Reshape in, InstanceNormalization, Reshape out, Mul by weight, Add bias] when `node` is torch's GroupNorm."""
    before = producers.get(node.input[0])
    after = sole(node.output[0], "Reshape")
    mul = after and sole(after.output[0], "Mul")
    add = mul and sole(mul.output[0], "Add")
    if (before is None or before.op_type != "Reshape" or sole(before.output[0], node.op_type) is not node or not add or other(mul, after.output[0]) not in constants
            or other(add, mul.output[0]) not in constants):
        return None
    return [before, node, after, mul, add]


def fused_attention(nodes, producers, consumers, constants) -> set[int]:
    """Ids of the two MatMuls of every scaled_dot_product_attention (both operands of Q K^T scaled)."""
    fused = set()
    for node in nodes:
        if node.op_type != "MatMul":
            continue
        scales = [producers.get(name) for name in node.input]
        if not all(s is not None and s.op_type == "Mul" for s in scales):
            continue
        factors = [s.input[1] for s in scales]
        if not (factors[0] == factors[1] and factors[0] in constants) and not all(
                producers.get(f) is not None and producers[f].op_type == "Sqrt" for f in factors):
            continue
        fused.add(id(node))
        tensor = node.output[0]
        for _ in range(4):  # [Add mask] -> Softmax -> [Dropout] -> MatMul by V
            readers = consumers.get(tensor, [])
            if len(readers) != 1:
                break
            if readers[0].op_type == "MatMul":
                fused.add(id(readers[0]))
                break
            tensor = readers[0].output[0]
    return fused
