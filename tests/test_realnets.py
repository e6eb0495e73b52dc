"""Issue 18, classes 4 and 5 and the large graphs: what only the torch module shows, exporter variants, option-A
shortcuts, and `import` of large and odd graphs. Expected values are hand formulas or the real tools' figures."""

from __future__ import annotations

import warnings

import pytest

pytest.importorskip("onnx", reason="onnx is not installed")

from onnx import TensorProto, helper  # noqa: E402

import hetcalc  # noqa: E402
from test_bad_specs import assert_one_line_error, run_cli  # noqa: E402
from test_hostile_import import conv, import_and_compare, model, n, save, weight  # noqa: E402


def ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


# --------------------------------------------------------------------------- class 5: option-A shortcuts

def option_a_nodes():
    """He et al.'s CIFAR option A: the shortcut subsamples by 2 and pads 8 zero channels on each side, its pads
    computed at run time (torch writes them as ConstantOfShape -> Concat -> Reshape -> Slice -> Transpose)."""
    return [conv("x", "a", "w1", pads=[1, 1, 1, 1], strides=[2, 2]),  # 16x16x16 -> 32x8x8
            n("Slice", ["x", "st", "en", "ax", "sp"], ["s"], name="sub"),  # 16x8x8
            n("ConstantOfShape", ["two"], ["zeros"], name="cos"),
            n("Concat", ["base", "zeros"], ["flat"], name="cat", axis=0),
            n("Reshape", ["flat", "pairs"], ["pairs2"], name="rs"),
            n("Slice", ["pairs2", "rst", "ren", "rax", "rsp"], ["rev"], name="rev"),
            n("Transpose", ["rev"], ["tr"], name="tr", perm=[1, 0]),
            n("Reshape", ["tr", "minus1"], ["pads"], name="rs2"),
            n("Pad", ["s", "pads"], ["padded"], name="pad"),
            n("Add", ["a", "padded"], ["y"], name="add")]


def option_a_inits():
    return [weight("w1", 32, 16, 3, 3), ints("st", [0, 0]), ints("en", [2**62, 2**62]), ints("ax", [2, 3]),
            ints("sp", [2, 2]), ints("two", [2]), ints("base", [0, 0, 0, 0, 8, 8]), ints("pairs", [-1, 2]),
            ints("rst", [-1]), ints("ren", [-2**62]), ints("rax", [0]), ints("rsp", [-1]), ints("minus1", [-1])]


def test_an_option_a_channel_pad_is_a_layer_and_imports(tmp_path):
    path = save(tmp_path, model(option_a_nodes(), x=(1, 16, 16, 16), inits=option_a_inits()))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left uncounted
        report = hetcalc.analyze(path, variants="standard")
    layers = {layer.name: layer for layer in report.network.layers}
    assert layers["pad"].in_shape == (16, 8, 8) and layers["pad"].out_shape == (32, 8, 8)
    assert layers["add"].in_shape == (32, 8, 8)
    assert report.standard.macs == 8 * 8 * 32 * 16 * 9
    text, _ = import_and_compare(tmp_path, path)
    assert "channels: [0, 16]" in text


def test_a_spec_pad_takes_channels():
    spec = {"name": "t", "input": [16, 8, 8], "layers": [
        {"conv": {"out": 16, "kernel": 3}}, {"pad": {"channels": [8, 8]}}, {"conv": {"out": 4, "kernel": 1}}]}
    report = hetcalc.analyze(spec, variants="standard")
    assert report.network.layers[1].out_shape == (32, 8, 8)
    assert report.standard.macs == 64 * 16 * 16 * 9 + 64 * 32 * 4


def test_a_merge_of_layers_an_uncounted_op_reshaped_is_refused(tmp_path):
    """SpaceToDepth is uncounted: its declared output (64x4x4) makes the Add's tensors fit, but the layers it
    adds (a 16x8x8 conv and a 64x4x4 conv) do not: analysing the file must not add them."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]),
             n("SpaceToDepth", ["c"], ["s"], name="s2d", blocksize=2),
             n("Conv", ["x", "w2"], ["d"], name="down", kernel_shape=[2, 2], strides=[2, 2]),
             n("Add", ["s", "d"], ["y"], name="add")]
    info = [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 64, 4, 4])]
    path = save(tmp_path, model(nodes, x=(1, 3, 8, 8), inits=[weight("w", 16, 3, 3, 3), weight("w2", 64, 3, 2, 2)],
                                value_info=info))
    line = assert_one_line_error(run_cli(path, "--P", "2"), "node 'add' (Add)", "do not fit together",
                                 "SpaceToDepth", code=1)
    assert "16x8x8" in line and "64x4x4" in line


# --------------------------------------------------------------------------- import of odd and large graphs

def test_a_concat_of_one_input_is_that_input_and_imports(tmp_path):
    """torchvision's DenseNet concatenates a one-tensor list before each block's first layer."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Concat", ["c"], ["one"], name="cat1", axis=1),
             n("Conv", ["one", "w2"], ["y"], name="pw", kernel_shape=[1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 16, 3, 3, 3), weight("w2", 4, 16, 1, 1)]))
    text, report = import_and_compare(tmp_path, path)
    assert [layer.name for layer in report.network.layers] == ["c", "pw"]
    assert report.standard.macs == 64 * (16 * 3 * 9 + 4 * 16)


def test_twelve_thousand_convolutions_import_and_load_back(tmp_path):
    """A 12,000-conv chain (3x3 with ReLU, names as torch writes them): its spec was over the loader's old bound
    of 100,000 values; each conv is 4 x 4 x 9 MACs on a 4x4 map. (50,000 round-trip too, in 25 s: too slow here.)"""
    count = 12_000
    nodes = []
    for i in range(count):
        scope = f"/stage{i // 1000}/block{i % 1000}"
        nodes += [n("Conv", ["x" if i == 0 else f"r{i - 1}", "w"], [f"t{i}"], name=f"{scope}/conv/Conv",
                    kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
                  n("Relu", [f"t{i}"], [f"r{i}" if i < count - 1 else "y"], name=f"{scope}/relu/Relu")]
    path = save(tmp_path, model(nodes, x=(1, 4, 4, 4), inits=[weight("w", 4, 4, 3, 3)]))
    out = tmp_path / "out.yaml"
    result = run_cli("import", path, "-o", out)
    assert result.exit_code == 0, result.stderr
    written = hetcalc.analyze(out, variants="standard")
    assert len(written.network.layers) == count
    assert written.standard.macs == count * 16 * 4 * 4 * 9
    assert written.network.layers[-1].name == "/stage11/block999/conv/Conv" and written.network.layers[-1].act == "relu"


# --------------------------------------------------------------------------- HetConv on attention networks

ONNX_DIR = __import__("pathlib").Path(__file__).resolve().parent / "onnx"


def test_the_rules_say_only_convolutions_are_replaced_on_an_attention_network():
    report = hetcalc.analyze(ONNX_DIR / "modern" / "vit_b_16.onnx", variants="standard,hetconv")
    patch = 768 * 3 * 16 * 16 * 14 * 14  # the patch embedding, ViT-B/16's one convolution (kept: the first)
    share = 100 * (report.standard.macs - patch) / report.standard.macs
    result = run_cli(ONNX_DIR / "modern" / "vit_b_16.onnx")
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert f"Only convolutions are replaced: attention's products, norms and FC layers ({share:.1f}% of the " \
           "standard MACs) stay standard" in text
    assert report.variant("hetconv").macs == report.standard.macs
    assert "Only convolutions" not in run_cli("resnet18").output


def test_P_at_takes_torch_module_patterns_on_imported_names(tmp_path):
    """resnet18.onnx's node '/layer4/layer4.0/conv1/Conv' is module layer4.0.conv1: one pattern serves both."""
    path = ONNX_DIR / "resnet18.onnx"

    def hetconv(report):
        return report.variant("hetconv").macs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        onnx_style = hetcalc.analyze(path, P=4, P_at={"/layer4/*": 16})
        torch_style = hetcalc.analyze(path, P=4, P_at={"layer4.*": 16})
        plain = hetcalc.analyze(path, P=4)
        off = hetcalc.analyze(path, P=4, P_at="layer4.0.conv1=off")
    assert hetconv(torch_style) == hetconv(onnx_style) < hetconv(plain)
    # layer4.0.conv1: 64 -> 128, 3x3, 1x1 output: standard 128 * 64 * 9, HetConv P=4 128 * (16 * 9 + 48)
    assert hetconv(off) - hetconv(plain) == 128 * 64 * 9 - 128 * (16 * 9 + 48)
    text, _ = import_and_compare(tmp_path, path)
    written = hetcalc.analyze(tmp_path / "out.yaml", P=4, P_at={"layer4.*": 16})
    assert hetconv(written) == hetconv(torch_style)


def test_a_reduce_mean_imports_as_a_mean_and_keeps_its_preset_counts(tmp_path):
    """torch's dynamo exporter writes x.mean((2, 3)) as ReduceMean; the spec says `mean: true`, so ptflops'
    preset counts it 0 from the written spec as from the file (a pooling module would count 2 per input)."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]),
             n("ReduceMean", ["c", "axes"], ["m"], name="mean", keepdims=0),
             n("Gemm", ["m", "fw"], ["y"], name="fc", transB=1)]
    path = save(tmp_path, model(nodes, inits=[weight("w", 16, 3, 3, 3), ints("axes", [2, 3]), weight("fw", 4, 16)]))
    text, _ = import_and_compare(tmp_path, path)
    assert "mean: true" in text
    macs = 16 * 27 * 64 + 16 * 4
    for source in (path, tmp_path / "out.yaml"):
        assert hetcalc.analyze(source, variants="standard", convention="ptflops-pytorch").standard.flops == macs


@pytest.mark.parametrize("model_name", ["convnext_tiny", "swin_t", "vit_b_16"])
def test_attention_networks_import_and_read_back(tmp_path, model_name):
    """LayerNorm (norm), attention products (matmul), Linear on [..., features] (fc rows), layer scale (act
    params), Swin's zero pads and concats along other axes all have a spec form now: the written spec gives the
    model's layers and counts (import_and_compare), under a preset too."""
    path = ONNX_DIR / "modern" / f"{model_name}.onnx"
    text, report = import_and_compare(tmp_path, path)
    assert "- norm: {" in text and "rows: " in text
    written = hetcalc.analyze(tmp_path / "out.yaml", variants="standard", convention="fvcore")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = hetcalc.analyze(path, variants="standard", convention="fvcore")
    assert (written.standard.flops, written.standard.params) == (direct.standard.flops, direct.standard.params)


def test_a_gather_whose_declared_output_drops_the_axis_is_read(tmp_path):
    """torch's dynamo exporter declares a Gather's output (x[:, 0]: the axis dropped) in value_info; the reader
    keeps the gathered axis as a slice of 1, so the ranks differ: not a conflict (ViT, Swin, ConvNeXt)."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]),
             n("Gather", ["c", "zero"], ["g"], name="pick", axis=1),
             n("Flatten", ["g"], ["f"], name="flat"), n("Gemm", ["f", "wf"], ["y"], name="fc", transB=1)]
    zero = helper.make_tensor("zero", TensorProto.INT64, [], [0])
    declared = [helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 8, 8])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), zero, weight("wf", 10, 64)],
                                value_info=declared))
    report = hetcalc.analyze(path, variants="standard")
    assert report.standard.macs == 4 * 27 * 64 + 64 * 10


def test_a_pad_whose_pads_are_a_graph_input_is_refused_naming_it(tmp_path):
    """Pads that no shape arithmetic gives (a second graph input): the Pad's output has no known shape, so a
    conv reading it is refused naming the Pad (never counted on the unpadded input), and an Add of it is left
    out with the warning, an error with --strict."""
    def graph_with(nodes, inits):
        graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 16, 16]),
                                               helper.make_tensor_value_info("pads", TensorProto.INT64, [8])],
                                  [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], initializer=inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])

    pad = n("Pad", ["x", "pads"], ["padded"], name="pad")
    path = save(tmp_path, graph_with([pad, conv("padded", "y", "w")], [weight("w", 8, 16, 3, 3)]), name="conv.onnx")
    assert_one_line_error(run_cli(path, "--P", "2"), "node 'y' (Conv)", "Pad node 'pad' pads by 'pads'", code=1)
    nodes = [conv("x", "a", "w", pads=[1, 1, 1, 1]), pad, n("Add", ["a", "padded"], ["y"], name="add")]
    path = save(tmp_path, graph_with(nodes, [weight("w", 16, 16, 3, 3)]), name="add.onnx")
    assert_one_line_error(run_cli(path, "--strict"), "Add x1", "Pad x1", code=1)
    with pytest.warns(UserWarning, match="Add x1, Pad x1"):
        report = hetcalc.analyze(path, variants="standard")
    assert [layer.kind for layer in report.network.layers] == ["conv"]
