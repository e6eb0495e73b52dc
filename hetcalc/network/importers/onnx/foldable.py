"""Which nodes constant folding can evaluate, decided without numpy: fold.py (which loads numpy) is imported
only once a graph has a node to fold, so a plain CNN is read without numpy."""

from __future__ import annotations

from hetcalc.network.importers.common import GraphAssembler

# the op types fold.FOLDS evaluates (tests/test_onnx_import.py checks the two agree)
FOLDABLE = frozenset({
    "Add", "Sub", "Mul", "Div", "Concat", "Reshape", "Transpose", "Slice", "Gather", "Unsqueeze", "Squeeze",
    "ConstantOfShape", "Cast", "Identity", "Mod", "Pow", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual",
    "GreaterOrEqual", "And", "Or", "Not", "Neg", "Abs", "Sqrt", "Floor", "Ceil", "Reciprocal", "Sign", "Where",
    "Expand", "Range", "ScatterND", "ReduceProd", "ReduceSum", "ReduceMax", "ReduceMin"})


def all_constant(imp: GraphAssembler, node) -> bool:
    """Every known input of `node` has a value and a shape, and the first is known (fold.constant_inputs's test)."""
    ins = [imp.tensors.get(n) if n else None for n in node.input]
    return bool(ins) and ins[0] is not None and all(t is None or (t.value is not None and t.shape is not None)
                                                    for t in ins)
