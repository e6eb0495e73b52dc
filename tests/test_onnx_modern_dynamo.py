"""The same networks through torch's default exporter (dynamo=True, opset 18), without torch: tests/onnx/modern/
dynamo/ holds ResNet-18, ConvNeXt-T, ViT-B/16, Swin-T, EfficientNet-B0 and MobileNetV3-L exported by
tests/onnx/make_modern.py with weights drawn at random (as a trained model's: no all-zero bias for the exporter to
drop, no two equal tensors for it to merge), checked against the figures the real tools gave on the torch models
(tests/onnx/modern/references.json, the same as for the legacy exports).

Every preset's figure must equal the tool's, except those in NOT_FROM_THE_DYNAMO_GRAPH, each with its reason;
those are checked to still differ, so the list stays true. Where the reason is the exporter's folding, the
parameters and fvcore's figure are checked to differ by exactly what was folded (the BatchNorm channels; fvcore's
own batch_norm operator).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

pytest.importorskip("onnx")

import hetcalc  # noqa: E402
from hetcalc.network.importers.hints import FoldedBatchNormWarning  # noqa: E402
from hetcalc.network.importers.onnx import UncountedOpWarning  # noqa: E402

from test_hostile_import import import_and_compare  # noqa: E402
from test_onnx_modern import NOT_FROM_THE_GRAPH, REFERENCES, TOOL_FIGURE  # noqa: E402

DYNAMO = Path(__file__).parent / "onnx" / "modern" / "dynamo"
MODELS = sorted(path.stem for path in DYNAMO.glob("*.onnx"))
FOLDED = ("the exporter folds BatchNorm into the convolutions: the graph has no BatchNorm for the tool's rule "
          "(fvcore 2 per element; ptflops' and thop's module rules) and a bias on every convolution that had none "
          "(one add per output element, which ptflops' aten backend and torchinfo count)")
BN_MODELS = ("efficientnet_b0", "mobilenet_v3_large", "resnet18")
NOT_FROM_THE_DYNAMO_GRAPH = {
    **{(model, preset): FOLDED for model in BN_MODELS
       for preset in ("fvcore", "ptflops-aten", "ptflops-pytorch", "thop", "torchinfo")
       if (model, preset) != ("efficientnet_b0", "thop")},  # thop: no rule for timm's BatchNormAct2d, nor conv biases
    **{(model, "params"): FOLDED for model in BN_MODELS},
    **{key: reason for key, reason in NOT_FROM_THE_GRAPH.items() if key[0] in ("convnext_tiny", "swin_t", "vit_b_16")},
}


def analyzed(model: str, convention: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)  # every op of these networks is counted
        warnings.simplefilter("ignore", FoldedBatchNormWarning)
        return hetcalc.analyze(DYNAMO / f"{model}.onnx", variants="standard", convention=convention).standard


def test_the_corpus_holds_the_selection():
    assert set(MODELS) >= {"resnet18", "convnext_tiny", "vit_b_16", "swin_t", "efficientnet_b0", "mobilenet_v3_large"}


@pytest.mark.parametrize("model", MODELS)
def test_parameters_are_sum_of_numel(model):
    """Exact; on a BatchNorm-folded graph less one per BatchNorm channel: the module's 2 (scale and shift) became
    the convolution's bias, 1."""
    ref = REFERENCES[model]
    folded = ref["batchnorm_channels"] if (model, "params") in NOT_FROM_THE_DYNAMO_GRAPH else 0
    assert analyzed(model, "paper").params == ref["params"] - folded
    assert (folded > 0) == ((model, "params") in NOT_FROM_THE_DYNAMO_GRAPH)


@pytest.mark.parametrize("preset", sorted(TOOL_FIGURE))
@pytest.mark.parametrize("model", MODELS)
def test_each_preset_equals_its_tool(model, preset):
    tool, figure = TOOL_FIGURE[preset]
    want = REFERENCES[model][tool][figure]
    got = analyzed(model, preset).flops
    if (model, preset) in NOT_FROM_THE_DYNAMO_GRAPH:
        assert got != want, f"{model} under {preset} is exact now: drop it from NOT_FROM_THE_DYNAMO_GRAPH"
    else:
        assert got == want


@pytest.mark.parametrize("model", MODELS)
def test_fvcore_differs_by_its_batch_norm_operator(model):
    """What a folded dynamo graph cannot show fvcore is exactly its own batch_norm operator. (nn.AdaptiveAvgPool2d
    is written as a ReduceMean, as x.mean((2, 3)) is: the node's metadata names the module, and fvcore counts it.)"""
    fvcore = REFERENCES[model]["fvcore"]
    assert analyzed(model, "fvcore").flops == fvcore["total"] - fvcore["by_operator"].get("batch_norm", 0)


@pytest.mark.parametrize("model", MODELS)
def test_only_the_folded_graphs_get_the_hint(model):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hetcalc.analyze(DYNAMO / f"{model}.onnx", variants="standard")
    hints = [w for w in caught if issubclass(w.category, FoldedBatchNormWarning)]
    assert len(hints) == (1 if model in BN_MODELS else 0)


@pytest.mark.parametrize("model", MODELS)
def test_import_round_trips(tmp_path, model):
    """`hetcalc import` writes a spec that gives the dynamo graph's own layers and counts."""
    import_and_compare(tmp_path, DYNAMO / f"{model}.onnx")


# --------------------------------------------------------------------------- hand-built graphs, hand counts

from onnx import TensorProto, helper  # noqa: E402

from test_onnx_import import _io, _ints, _model, _save, _weight  # noqa: E402

n = helper.make_node
EMBED = 16 * 3  # the 1x1 conv 3 -> 16 every graph below starts with


def _scores(bias_nodes, inits, bias="bias", tokens=4):
    """Conv -> 2 heads x N tokens (4: a 2 x 2 window) x 8 features -> Q K^T (+ `bias`) -> Softmax -> A V."""
    nodes = [n("Conv", ["x", "w0"], ["a"], name="embed", kernel_shape=[1, 1]),
             n("Reshape", ["a", "heads"], ["q"], name="split_heads"),
             n("Transpose", ["q"], ["kt"], name="k_t", perm=[0, 1, 3, 2]),
             n("MatMul", ["q", "kt"], ["scores"], name="qk"), *bias_nodes,
             n("Add", ["scores", bias], ["biased"], name="add_bias"),
             n("Softmax", ["biased"], ["p"], name="softmax", axis=-1), n("MatMul", ["p", "q"], ["y"], name="av")]
    inits = [_weight("w0", 16, 3, 1, 1), _ints("heads", [1, 2, tokens, 8]), *inits]
    return _model(nodes, [_io("x", 1, 3, tokens, 1)], [_io("y")], inits)


def _params(tmp_path, model, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)
        return hetcalc.analyze(_save(tmp_path, model), variants="standard", **options).standard


@pytest.mark.parametrize("exporter", ["legacy", "dynamo"])
def test_a_gathered_relative_position_bias_counts_its_table(tmp_path, exporter):
    """Swin's bias: a (2w - 1)^2 x heads table gathered by a fixed index into heads x N x N (N = w^2). Both torch
    exporters fold the gather: the legacy one into (1, heads, N, N), the dynamo one into (N^2, heads), reshaped and
    transposed at run time. w = 2: 9 offsets x 2 heads."""
    if exporter == "legacy":
        model = _scores([], [_weight("bias", 1, 2, 4, 4)])
    else:
        model = _scores([n("Reshape", ["gathered", "square"], ["r"], name="view"),
                         n("Transpose", ["r"], ["t"], name="permute", perm=[2, 0, 1]),
                         n("Unsqueeze", ["t", "zero"], ["bias_b"], name="unsqueeze")],
                        [_weight("gathered", 16, 2), _ints("square", [4, 4, 2]), _ints("zero", [0])], "bias_b")
    assert _params(tmp_path, model).params == EMBED + (2 * 2 - 1) ** 2 * 2


def test_a_learnt_constant_of_another_shape_counts_its_elements(tmp_path):
    """A table the graph gathers at run time (export_params=False) is its own elements: 9 x 2."""
    model = _scores([n("Gather", ["table", "index"], ["g"], name="gather"),
                     n("Reshape", ["g", "square"], ["r"], name="view"),
                     n("Transpose", ["r"], ["t"], name="permute", perm=[2, 0, 1]),
                     n("Unsqueeze", ["t", "zero"], ["bias_b"], name="unsqueeze")],
                    [_weight("table", 9, 2), _ints("index", list(range(9)) + [0] * 7), _ints("square", [4, 4, 2]),
                     _ints("zero", [0])], "bias_b")
    assert _params(tmp_path, model).params == EMBED + 9 * 2


def test_folded_constants_are_not_parameters(tmp_path):
    """What the dynamo exporter folds into float initializers without being learnt: a one-number scale, and a mask
    assembled by index assignment (ScatterND: Swin's `img_mask[h, w] = count`), of 9 x 9 (too big to fold)."""
    scale = helper.make_tensor("scale", TensorProto.FLOAT, [], [0.125])
    model = _scores([n("ScatterND", ["canvas", "rows", "counts"], ["mask"], name="slice_scatter"),
                     n("Mul", ["mask", "scale"], ["bias"], name="scaled")],
                    [_weight("canvas", 9, 9), helper.make_tensor("rows", TensorProto.INT64, [1, 1], [0]),
                     _weight("counts", 1, 9), scale], tokens=9)
    assert _params(tmp_path, model).params == EMBED
    assert _params(tmp_path, _scores([], [scale], "scale")).params == EMBED


def _layernorms(inputs_as_weights=False, norms=2):
    """Conv -> channels-last -> `norms` LayerNorms over 16 features, all reading one scale and one shift."""
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("Transpose", ["a"], ["t0"], name="to_last", perm=[0, 2, 3, 1])]
    for i in range(norms):
        nodes.append(n("LayerNormalization", [f"t{i}", "ln_w", "ln_b"], [f"t{i + 1}"], name=f"ln{i}", axis=-1))
    weights = [_weight("w0", 16, 3, 1, 1), _weight("ln_w", 16), _weight("ln_b", 16)]
    inputs = [_io("x", 1, 3, 4, 4)]
    if inputs_as_weights:  # torch's export_params=False: every weight a graph input
        inputs += [_io(w.name, *w.dims) for w in weights]
        weights = []
    return _model(nodes, inputs, [_io(f"t{norms}")], weights)


def test_norms_sharing_one_initializer_each_count_it(tmp_path):
    """The dynamo exporter merges equal initializers (every LayerNorm's ones and zeros on an untrained model): each
    LayerNorm still has 2 x 16 parameters."""
    assert _params(tmp_path, _layernorms()).params == EMBED + 2 * (2 * 16)


def test_weights_given_as_graph_inputs_are_parameters(tmp_path):
    assert _params(tmp_path, _layernorms(inputs_as_weights=True, norms=1)).params == EMBED + 2 * 16


@pytest.mark.parametrize("module", ["torch.nn.modules.pooling.AdaptiveAvgPool2d", None])
def test_a_reduce_mean_the_metadata_calls_a_pooling_module_is_one(tmp_path, module):
    """The dynamo exporter writes nn.AdaptiveAvgPool2d(1) as ReduceMean, and says so in the node's metadata:
    fvcore counts the module (one per input element), not a plain x.mean((2, 3)) (0)."""
    mean = n("ReduceMean", ["a", "axes"], ["y"], name="node_mean", keepdims=1)
    if module:
        entry = mean.metadata_props.add()
        entry.key, entry.value = "pkg.torch.onnx.class_hierarchy", f"['Net', '{module}', 'aten.mean.dim']"
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]), mean]
    model = _model(nodes, [_io("x", 1, 3, 4, 4)], [_io("y")], [_weight("w0", 16, 3, 1, 1), _ints("axes", [2, 3])])
    model.opset_import[0].version = 18
    elements = 16 * 4 * 4
    assert _params(tmp_path, model, convention="fvcore").flops == elements * 3 + (elements if module else 0)


def test_gelu_as_the_dynamo_exporter_writes_it(tmp_path):
    """x / sqrt(2) -> Erf -> + 1 -> 0.5 * . -> x * .: one GELU (ptflops: 2 per output element), no multiplication."""
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("Div", ["a", "sqrt2"], ["d"], name="div"), n("Erf", ["d"], ["e"], name="erf"),
             n("Add", ["e", "one"], ["e1"], name="add"), n("Mul", ["half", "e1"], ["h"], name="mul_half"),
             n("Mul", ["a", "h"], ["y"], name="gelu")]
    scalars = [helper.make_tensor(k, TensorProto.FLOAT, [], [v]) for k, v in (("sqrt2", 1.41421), ("one", 1.0),
                                                                              ("half", 0.5))]
    model = _model(nodes, [_io("x", 1, 3, 4, 4)], [_io("y")], [_weight("w0", 16, 3, 1, 1), *scalars])
    report = _params(tmp_path, model, convention="ptflops-pytorch")
    elements = 16 * 4 * 4
    assert report.flops == elements * 3 + 2 * elements and report.params == EMBED
