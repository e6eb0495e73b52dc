"""Today's vision networks through ONNX, without torch: ConvNeXt-T, ViT-B/16 and Swin-T (torchvision), MixNet-S,
CSPDarknet-53, EfficientNet-B0 and HRNet-W18-small (timm), exported without weights by tests/onnx/make_modern.py,
against the figures the real tools gave on the same torch models (tests/onnx/modern/references.json: sum of
numel, fvcore, FlopCounterMode, ptflops both backends, thop, torchinfo).

Every preset's figure must equal the tool's exactly, except the figures in NOT_FROM_THE_GRAPH, each with the
reason the graph cannot give it; those are checked to still differ, so the list stays true.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

pytest.importorskip("onnx")

import hetcalc  # noqa: E402
from hetcalc.network.importers.onnx import UncountedOpWarning  # noqa: E402

MODERN = Path(__file__).parent / "onnx" / "modern"
REFERENCES = json.loads((MODERN / "references.json").read_text())
MODELS = sorted(k for k in REFERENCES if not k.startswith("_"))
TOOL_FIGURE = {  # preset -> (tool in references.json, its figure)
    "fvcore": ("fvcore", "total"), "flopcounter": ("flopcounter", "total"),
    "ptflops-aten": ("ptflops-aten", "macs"), "ptflops-pytorch": ("ptflops-pytorch", "macs"), "thop": ("thop", "ops"),
    "torchinfo": ("torchinfo", "mult_adds"),
}
BN_ACT = ("timm writes BatchNorm + activation as its own BatchNormAct2d, a class the tool has no rule for "
          "(it counts 0 for it); the graph shows a plain BatchNormalization")
FUNCTIONAL = ("the model calls F.relu / F.adaptive_avg_pool2d / F.max_pool2d / F.avg_pool2d as functions "
              "(DenseNet's and MobileNetV2's heads, Inception's blocks): thop counts no function, ptflops counts one "
              "once where the module would count twice; the graph's Relu or pool is the same either way")
NOT_FROM_THE_GRAPH = {
    ("efficientnet_b0", "ptflops-pytorch"): BN_ACT, ("efficientnet_b0", "thop"): BN_ACT,
    ("mixnet_s", "ptflops-pytorch"): BN_ACT, ("mixnet_s", "thop"): BN_ACT,
    ("cspdarknet53", "ptflops-pytorch"): BN_ACT, ("cspdarknet53", "thop"): BN_ACT,
    ("convnext_tiny", "ptflops-pytorch"): "the tool counts nn.LayerNorm but not torchvision's LayerNorm2d subclass "
                                          "(stem, downsampling, head); both are the same LayerNormalization op",
    ("convnext_tiny", "thop"): "as for ptflops: nn.LayerNorm counted 4 per element, LayerNorm2d not at all",
    ("swin_t", "ptflops-pytorch"): "the tool counts by module class, and Swin's attention is functional code inside "
                                   "a module class it does not know",
    ("swin_t", "thop"): "the tool counts only module classes it knows; Swin's attention block is not one",
    ("vit_b_16", "ptflops-pytorch"): "the tool counts nn.MultiheadAttention by its own module rule, which the graph "
                                     "(in_proj MatMul, attention, out_proj Gemm) does not show",
    ("vit_b_16", "thop"): "the tool has no rule for nn.MultiheadAttention and counts 0 for it",
    ("densenet121", "ptflops-pytorch"): FUNCTIONAL, ("densenet121", "thop"): FUNCTIONAL,
    ("mobilenet_v2", "ptflops-pytorch"): FUNCTIONAL, ("mobilenet_v2", "thop"): FUNCTIONAL,
    ("inception_v3", "ptflops-pytorch"): FUNCTIONAL, ("inception_v3", "thop"): FUNCTIONAL,
    ("ghostnet_100", "ptflops-pytorch"): "counted by module class: timm's GhostNet mixes BatchNormAct2d with plain "
                                         "BatchNorm2d (the exact split was not worked out)",
    ("ghostnet_100", "thop"): "as for ptflops: the count follows GhostNet's module classes",
    ("efficientnet_b0", "torchinfo"): BN_ACT, ("mixnet_s", "torchinfo"): BN_ACT,
    ("cspdarknet53", "torchinfo"): BN_ACT, ("ghostnet_100", "torchinfo"): BN_ACT,
    ("vit_b_16", "torchinfo"): "nn.MultiheadAttention uses its in_proj and out_proj weights as tensors, never calling "
                               "the projection as a module: torchinfo counts 0 for them, the graph shows two Linears",
    ("swin_t", "torchinfo"): "Swin's attention calls F.linear with its qkv and proj modules' weights, never the "
                             "modules: torchinfo counts 0 for them, the graph shows two Linears",
}


def analyzed(model: str, convention: str):
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)  # every op of these networks is counted
        return hetcalc.analyze(MODERN / f"{model}.onnx", variants="standard", convention=convention).standard


@pytest.mark.parametrize("model", MODELS)
def test_parameters_are_sum_of_numel(model):
    got = analyzed(model, "paper").params
    if (model, "params") in NOT_FROM_THE_GRAPH:
        assert got != REFERENCES[model]["params"]
    else:
        assert got == REFERENCES[model]["params"]


@pytest.mark.parametrize("preset", sorted(TOOL_FIGURE))
@pytest.mark.parametrize("model", MODELS)
def test_each_preset_equals_its_tool(model, preset):
    tool, figure = TOOL_FIGURE[preset]
    want = REFERENCES[model][tool][figure]
    got = analyzed(model, preset).flops
    if (model, preset) in NOT_FROM_THE_GRAPH:
        assert got != want, f"{model} under {preset} is exact now: drop it from NOT_FROM_THE_GRAPH"
    else:
        assert got == want


def test_macs_are_fvcores_conv_and_linear():
    """The paper convention's MACs on ConvNeXt: fvcore's conv and linear operators (every Linear is a MatMul of a
    channels-last 4-D tensor by a 2-D weight)."""
    by_op = REFERENCES["convnext_tiny"]["fvcore"]["by_operator"]
    assert analyzed("convnext_tiny", "paper").macs == by_op["conv"] + by_op["linear"]


def test_attention_written_as_one_call_is_what_fvcore_and_flopcounter_miss():
    """ViT's nn.MultiheadAttention runs scaled_dot_product_attention: Q K^T and A V are 2 x 12 heads x 197^2 x 64
    MACs per layer, 12 layers; fvcore and FlopCounterMode (CPU) do not count them, the paper convention does."""
    attention = 12 * 2 * 12 * 197 * 197 * 64
    vit = REFERENCES["vit_b_16"]
    assert analyzed("vit_b_16", "paper").macs == vit["flopcounter"]["total"] // 2 + attention


# --------------------------------------------------------------------------- hand-built graphs, hand counts

from onnx import TensorProto, helper  # noqa: E402

from test_onnx_import import _io, _ints, _model, _save, _weight  # noqa: E402


def _scalar(name, value):
    return helper.make_tensor(name, TensorProto.FLOAT, [], [value])


def test_split_halves_go_to_their_own_convolutions(tmp_path):
    """MixNet's mixed kernels: Split 16 channels into 8 + 8, a 3x3 and a 5x5 conv on each, Concat."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="stem", kernel_shape=[1, 1]),
             n("Split", ["a", "sizes"], ["a1", "a2"], name="split", axis=1),
             n("Conv", ["a1", "w1"], ["b1"], name="k3", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Conv", ["a2", "w2"], ["b2"], name="k5", kernel_shape=[5, 5], pads=[2, 2, 2, 2]),
             n("Concat", ["b1", "b2"], ["y"], name="cat", axis=1)]
    inits = [_weight("w0", 16, 3, 1, 1), _weight("w1", 8, 8, 3, 3), _weight("w2", 8, 8, 5, 5), _ints("sizes", [8, 8])]
    report = hetcalc.analyze(_save(tmp_path, _model(nodes, [_io("x", 1, 3, 8, 8)], [_io("y")], inits)),
                             variants="standard")
    area = 8 * 8
    assert report.standard.macs == area * 16 * 3 + area * 8 * 8 * 9 + area * 8 * 8 * 25
    assert report.standard.params == 16 * 3 + 8 * 8 * 9 + 8 * 8 * 25


def _convnext_block():
    """Conv 1x1 -> channels-last -> LayerNorm -> Linear C -> 4C (+ bias) -> GELU written out -> Linear 4C -> C ->
    layer scale -> back to channels-first."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="stem", kernel_shape=[1, 1]),
             n("Transpose", ["a"], ["t"], name="to_last", perm=[0, 2, 3, 1]),
             n("LayerNormalization", ["t", "ln_w", "ln_b"], ["ln"], name="ln", axis=-1),
             n("MatMul", ["ln", "w1"], ["m1"], name="fc1"), n("Add", ["b1", "m1"], ["h"], name="fc1_bias"),
             n("Div", ["h", "sqrt2"], ["d"], name="gelu_div"), n("Erf", ["d"], ["e"], name="gelu_erf"),
             n("Add", ["e", "one"], ["e1"], name="gelu_add"), n("Mul", ["h", "e1"], ["g0"], name="gelu_mul"),
             n("Mul", ["g0", "half"], ["g"], name="gelu_half"),
             n("MatMul", ["g", "w2"], ["m2"], name="fc2"), n("Add", ["m2", "b2"], ["o"], name="fc2_bias"),
             n("Mul", ["gamma", "o"], ["s"], name="layer_scale"),
             n("Transpose", ["s"], ["y"], name="to_first", perm=[0, 3, 1, 2])]
    c = 96
    inits = [_weight("w0", c, 3, 1, 1), _weight("ln_w", c), _weight("ln_b", c), _weight("w1", c, 4 * c),
             _weight("b1", 4 * c), _weight("w2", 4 * c, c), _weight("b2", c), _weight("gamma", c),
             _scalar("sqrt2", 1.4142135), _scalar("one", 1.0), _scalar("half", 0.5)]
    return _model(nodes, [_io("x", 1, 3, 8, 8)], [_io("y")], inits)


def test_channels_last_linear_layernorm_gelu_and_layer_scale(tmp_path):
    path = _save(tmp_path, _convnext_block())
    c, pixels = 96, 8 * 8
    macs = pixels * c * 3 + 2 * pixels * c * 4 * c  # stem, and two Linear layers over every pixel
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)
        paper = hetcalc.analyze(path, variants="standard").standard
        fvcore = hetcalc.analyze(path, variants="standard", convention="fvcore").standard
        ptflops = hetcalc.analyze(path, variants="standard", convention="ptflops-pytorch").standard
    assert paper.macs == macs
    assert [(row.M, row.N) for row in paper.layers if row.kind == "fc"] == [(c, 4 * c), (4 * c, c)]  # per row
    assert paper.params == c * 3 + 2 * c + (c * 4 * c + 4 * c) + (4 * c * c + c) + c  # gamma: c parameters
    assert fvcore.flops == macs + 5 * pixels * c  # LayerNorm with scale and shift: 5 per element
    bias_adds = pixels * (4 * c + c)
    assert ptflops.flops == macs + bias_adds + 2 * pixels * 4 * c  # nn.GELU: 2 per output element


def _attention(fused: bool):
    """Q K^T -> Softmax -> A V on 2 heads x 10 tokens x 8 features; `fused`: both operands scaled by sqrt(s), as
    torch writes scaled_dot_product_attention."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="embed", kernel_shape=[1, 1]),
             n("Reshape", ["a", "heads"], ["q"], name="split_heads"),
             n("Transpose", ["q"], ["kt"], name="k_t", perm=[0, 1, 3, 2])]
    if fused:
        nodes += [n("Sqrt", ["s"], ["r1"], name="sqrt1"), n("Sqrt", ["s"], ["r2"], name="sqrt2"),
                  n("Mul", ["q", "r1"], ["qs"], name="q_scale"), n("Mul", ["kt", "r2"], ["ks"], name="k_scale")]
    else:
        nodes += [n("Mul", ["q", "s"], ["qs"], name="q_scale"), n("Identity", ["kt"], ["ks"], name="k_same")]
    nodes += [n("MatMul", ["qs", "ks"], ["scores"], name="qk"), n("Softmax", ["scores"], ["p"], name="softmax", axis=-1),
              n("MatMul", ["p", "q"], ["y"], name="av")]
    inits = [_weight("w0", 16, 3, 1, 1), _ints("heads", [1, 2, 10, 8]), _scalar("s", 0.125)]
    return _model(nodes, [_io("x", 1, 3, 10, 1)], [_io("y")], inits)


@pytest.mark.parametrize("fused", [False, True])
def test_attention_matmuls_and_what_each_tool_sees_of_them(tmp_path, fused):
    path = _save(tmp_path, _attention(fused))
    embed = 10 * 16 * 3
    attention = 2 * (2 * 10 * 10 * 8)  # Q K^T: 2 heads x 10 x 10 outputs x 8; A V: 2 x 10 x 8 outputs x 10
    paper = hetcalc.analyze(path, variants="standard").standard
    fvcore = hetcalc.analyze(path, variants="standard", convention="fvcore").standard
    flopcounter = hetcalc.analyze(path, variants="standard", convention="flopcounter").standard
    assert paper.macs == embed + attention
    assert fvcore.flops == embed + (0 if fused else attention)
    assert flopcounter.flops == 2 * (embed + (0 if fused else attention))


def test_silu_written_as_sigmoid_times_input_is_one_silu(tmp_path):
    """EfficientNet's SiLU: Sigmoid(x) * x. ptflops counts nn.SiLU once per element; a sigmoid gate on another
    tensor (Squeeze-and-Excitation) is not a SiLU."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("Sigmoid", ["a"], ["sa"], name="sig"), n("Mul", ["a", "sa"], ["y"], name="silu_mul")]
    path = _save(tmp_path, _model(nodes, [_io("x", 1, 3, 8, 8)], [_io("y")], [_weight("w0", 16, 3, 1, 1)]))
    report = hetcalc.analyze(path, variants="standard", convention="ptflops-pytorch")
    assert [layer.act for layer in report.network.layers] == ["silu"]
    assert report.standard.flops == 64 * 16 * 3 + 64 * 16  # MACs + one per SiLU output element


def test_uncounted_ops_state_their_bound(tmp_path):
    """An op hetcalc cannot count: the warning bounds it (one MAC per output element and input element)."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("Fancy", ["a"], ["y"], name="f", domain="custom")]
    path = _save(tmp_path, _model(nodes, [_io("x", 1, 3, 4, 4)], [_io("y")], [_weight("w0", 2, 3, 1, 1)]))
    counted, bound = 16 * 2 * 3, (2 * 16) * (2 * 16)
    with pytest.warns(UncountedOpWarning, match=f"at most {bound:,} MACs") as caught:
        hetcalc.analyze(path, variants="standard")
    share = bound / (bound + counted)
    assert f"UP TO {share:.0%} TOO LOW" in str(caught[0].message)


def test_group_norm_and_mish_as_torch_writes_them_at_opset_17(tmp_path):
    """nn.GroupNorm(2, 8): Reshape -> InstanceNormalization (constant ones, zeros) -> Reshape -> * weight -> + bias,
    one norm with 2 x 8 parameters (fvcore: 5 per element); nn.Mish: Softplus -> Tanh -> * x, one mish."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("Reshape", ["a", "groups"], ["g"], name="gn_in"),
             n("InstanceNormalization", ["g", "ones", "zeros"], ["i"], name="gn"),
             n("Shape", ["a"], ["shape"], name="gn_shape"), n("Reshape", ["i", "shape"], ["r"], name="gn_out"),
             n("Mul", ["r", "gamma"], ["m"], name="gn_scale"), n("Add", ["m", "beta"], ["b"], name="gn_shift"),
             n("Softplus", ["b"], ["sp"], name="sp"), n("Tanh", ["sp"], ["t"], name="tanh"),
             n("Mul", ["b", "t"], ["y"], name="mish")]
    inits = [_weight("w0", 8, 3, 1, 1), _ints("groups", [1, 2, -1]), _weight("gamma", 8, 1, 1),
             _weight("beta", 8, 1, 1)]
    constants = [n("Constant", [], ["ones"], value=helper.make_tensor("o", TensorProto.FLOAT, [2], [1.0, 1.0])),
                 n("Constant", [], ["zeros"], value=helper.make_tensor("z", TensorProto.FLOAT, [2], [0.0, 0.0]))]
    path = _save(tmp_path, _model(constants + nodes, [_io("x", 1, 3, 4, 4)], [_io("y")], inits))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)
        report = hetcalc.analyze(path, variants="standard", convention="fvcore")
    elements = 8 * 4 * 4
    assert report.standard.params == 8 * 3 + 2 * 8
    assert report.standard.flops == elements * 3 + 5 * elements
    assert [layer.kind for layer in report.network.layers] == ["conv", "norm"]  # the norm takes the mish
    assert (report.network.layers[-1].norm, report.network.layers[-1].act) == ("group", "mish")


def test_einsum_contraction_is_a_matmul(tmp_path):
    """Einsum 'bhqd,bhkd->bhqk' of two activations: q x k outputs per head, d MACs each."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="embed", kernel_shape=[1, 1]),
             n("Reshape", ["a", "heads"], ["q"], name="split_heads"),
             n("Einsum", ["q", "q"], ["y"], name="scores", equation="bhqd,bhkd->bhqk")]
    inits = [_weight("w0", 16, 3, 1, 1), _ints("heads", [1, 2, 10, 8])]
    path = _save(tmp_path, _model(nodes, [_io("x", 1, 3, 10, 1)], [_io("y")], inits))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncountedOpWarning)
        report = hetcalc.analyze(path, variants="standard")
    assert report.standard.macs == 10 * 16 * 3 + 2 * 10 * 10 * 8


@pytest.mark.parametrize("convention", ["ptflops-pytorch", "thop", "fvcore"])
def test_mean_over_height_and_width_is_not_a_pooling_module(tmp_path, convention):
    """x.mean((2, 3)) (timm's Squeeze-and-Excitation) is ReduceMean: ptflops and thop count pooling modules only,
    fvcore has no rule for aten::mean; all three count 0 for it."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w0"], ["a"], name="c1", kernel_shape=[1, 1]),
             n("ReduceMean", ["a"], ["m"], name="se_mean", axes=[2, 3], keepdims=1),
             n("Conv", ["m", "w1"], ["y"], name="c2", kernel_shape=[1, 1])]
    inits = [_weight("w0", 8, 3, 1, 1), _weight("w1", 4, 8, 1, 1)]
    path = _save(tmp_path, _model(nodes, [_io("x", 1, 3, 4, 4)], [_io("y")], inits))
    report = hetcalc.analyze(path, variants="standard", convention=convention)
    assert report.standard.flops == 16 * 8 * 3 + 8 * 4  # the two convolutions' MACs, nothing for the mean


def test_time_summary_of_a_transformer(tmp_path):
    """ViT through --device: attention products and norms price as kernels, stages of views only cost nothing."""
    from test_bad_specs import run_cli

    result = run_cli(MODERN / "vit_b_16.onnx", "--device", "t4", "--summary-only")
    assert result.exit_code == 0, result.stderr
    assert "Time on" in result.stdout and "Traceback" not in result.output
