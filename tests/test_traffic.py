"""Memory traffic against hand formulas: bytes of every kernel a layer runs, exact integers."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import hetcalc
from hetcalc.errors import OptionError
from hetcalc.graph import Conv
from hetcalc.timing.traffic import decomposed_activations, norm_kernel
from hetcalc.traffic import conv_layer_kernels, fixed_layer_kernels, shortcut_inputs

SIZES = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def conv(M, N, K=3, H=16, stride=1, bias=False, bn=True, act="relu"):
    Ho = (H + 2 * (K // 2) - K) // stride + 1
    return Conv("c", (M, H, H), (N, Ho, Ho), (K, K), (stride, stride), (K // 2, K // 2), bias=bias, bn=bn, act=act)


@pytest.mark.parametrize("dtype", list(SIZES))
@pytest.mark.parametrize("B", [1, 3])
def test_standard_conv_bytes_and_intensity(dtype, B):
    M, N, K, H = 32, 64, 3, 16
    s = SIZES[dtype]
    c = conv(M, N, K, H, stride=2, bias=True)
    Ho = 8
    ks = conv_layer_kernels(c, "standard", None, "fused", B, s)
    assert [k.op for k in ks] == ["conv", "bn", "act"]
    weights = N * M * K * K
    assert ks[0].bytes_read == (weights + N + B * M * H * H) * s  # weights, bias, input
    assert ks[0].bytes_written == B * N * Ho * Ho * s
    assert ks[0].flops == 2 * B * N * M * K * K * Ho * Ho
    out = B * N * Ho * Ho
    assert ks[1].bytes == (2 * out + 4 * N) * s  # BN reads, writes, and its 4 stored values per channel
    assert ks[2].bytes == 2 * out * s
    report = hetcalc.analyze({"input": [M, H, H], "layers": [{"conv": {"out": 8, "kernel": 1}},
                                                             {"conv": {"out": N, "stride": 2, "bias": True,
                                                                       "bn": True, "act": "relu"}}]},
                             P=4, variants="standard", replace_first=True, dtype=dtype, batch=B)
    layer = report.variants[0].layers[1]
    in_ = B * 8 * H * H
    expected = (N * 8 * 9 + N + in_ + out) * s + (2 * out + 4 * N) * s + 2 * out * s
    assert layer.bytes == expected
    flops = 2 * B * N * 8 * 9 * Ho * Ho + 2 * out + out  # conv, BN scale+shift, ReLU
    assert layer.intensity == pytest.approx(flops / expected)
    assert layer.time_s is None and layer.bound is None


def test_gwc_pwc_intermediate_is_written_then_read():
    M, N, H, G, B, s = 64, 128, 8, 4, 2, 4
    c = conv(M, N, 3, H)
    ks = conv_layer_kernels(c, "gwc_pwc", G, "fused", B, s)
    assert [k.op for k in ks] == ["conv", "bn", "act", "conv", "bn", "act"]
    mid = B * M * H * H
    assert ks[0].bytes_written == mid * s  # the intermediate tensor, written by the groupwise conv
    assert ks[0].bytes_read == (M * (M // G) * 9 + mid) * s
    assert ks[3].bytes_read == (M * N + mid) * s  # ... and read by the pointwise conv
    assert ks[3].bytes_written == B * N * H * H * s
    assert ks[0].kclass == "grouped" and ks[3].kclass == "pointwise"


def test_dwc_is_depthwise():
    ks = conv_layer_kernels(conv(32, 64, 3, 8), "dwc_pwc", None, "fused", 1, 4)
    assert ks[0].kclass == "depthwise" and ks[0].bytes_read == (32 * 9 + 32 * 64) * 4


def test_hetconv_split_kernels():
    M, N, K, H, P, B, s = 64, 128, 3, 16, 4, 2, 2
    c = conv(M, N, K, H, bias=True)
    ks = conv_layer_kernels(c, "hetconv", P, "split", B, s)
    assert [k.op for k in ks] == ["conv", "gather", "conv", "add", "bn", "act"]
    big, rest = M // P, M - M // P
    grouped, gather, pointwise, add = ks[:4]
    assert grouped.kclass == "grouped" and grouped.channels_per_group == big
    assert grouped.weight_bytes == (N * big * K * K + N) * s
    assert gather.bytes_read == gather.bytes_written == B * P * rest * H * H * s
    # a group's GEMM is as narrow as the smaller of its input (M - M/P) and output (N/P) channels
    assert pointwise.kclass == "grouped_pointwise" and pointwise.channels_per_group == min(rest, N // P)
    assert pointwise.bytes_read == (N * rest + B * P * rest * H * H) * s
    assert add.bytes_read == 2 * B * N * H * H * s and add.bytes_written == B * N * H * H * s
    # MACs of the two convolutions are HetConv's eqs. 2-4 exactly
    assert (grouped.flops + pointwise.flops) // 2 == B * H * H * N * (big * K * K + rest)
    fused = conv_layer_kernels(c, "hetconv", P, "fused", B, s)
    assert fused[0].flops == grouped.flops + pointwise.flops
    masked = conv_layer_kernels(c, "hetconv", P, "masked", B, s)
    assert masked == conv_layer_kernels(c, "standard", None, "fused", B, s)


def test_split_needs_P_dividing_N():
    with pytest.raises(OptionError, match="divide the output depth N"):
        conv_layer_kernels(conv(64, 36, 3, 8), "hetconv", 8, "split", 1, 4)
    with pytest.raises(OptionError, match="N=10"):
        hetcalc.analyze({"input": [3, 8, 8], "layers": [{"conv": 16}, {"conv": 10}]}, P=4, device="a100",
                        hetconv_impl="split")


def test_fc_pool_and_option_a_shortcut():
    net = hetcalc.resolve("resnet56")
    shortcuts = shortcut_inputs(net)
    assert len(shortcuts) == 2  # the two stage entries that halve the map and double the channels
    idx, shape = sorted(shortcuts.items())[0]
    assert shape == (16, 32, 32) and net.layers[idx].out_shape == (32, 16, 16)
    B, s = 4, 4
    pad, add, act = fixed_layer_kernels(net.layers[idx], B, s, shape)
    assert pad.bytes_read == B * 16 * 16 * 16 * s and pad.bytes_written == B * 32 * 16 * 16 * s
    assert add.bytes == 3 * B * 32 * 16 * 16 * s and act.bytes == 2 * B * 32 * 16 * 16 * s
    fc = net.layers[-1]
    (k,) = fixed_layer_kernels(fc, B, s)
    assert k.bytes == (64 * 10 + 10 + B * 64 + B * 10) * s and k.flops == 2 * B * 640
    pool = net.layers[-2]
    (k,) = fixed_layer_kernels(pool, B, s)
    assert k.bytes == (B * 64 * 8 * 8 + B * 64) * s


def test_variant_bytes_add_up_and_scale_with_dtype():
    r32 = hetcalc.analyze("vgg16", P=4, dtype="fp32")
    r8 = hetcalc.analyze("vgg16", P=4, dtype="int8")
    for v32, v8 in zip(r32.variants, r8.variants):
        assert v32.bytes == sum(layer.bytes for layer in v32.layers)
        assert v32.bytes == 4 * v8.bytes
        assert v32.time_s is None and "time_s" not in v32.to_dict()
        assert "bytes" in v32.to_dict()
    plain = hetcalc.analyze("vgg16", P=4)
    assert plain.variants[0].bytes is None and "bytes" not in plain.variants[0].to_dict()
    assert "bytes" not in plain.variants[0].layers[0].to_dict()


def test_peak_activation_memory_of_a_plain_chain():
    # conv 3 -> 8 at 4x4, nothing else: the largest kernel holds its input and output
    r = hetcalc.analyze({"input": [3, 4, 4], "layers": [{"conv": {"out": 8, "bn": False, "act": None}}]},
                        variants="standard", batch=2)
    assert r.variants[0].peak_activation_bytes == (2 * 3 * 16 + 2 * 8 * 16) * 4


@pytest.mark.parametrize("kwargs, match", [
    ({"dtype": "fp64"}, "dtype must be one of"),
    ({"batch": 0}, "batch must be a positive integer"),
    ({"batch": True}, "batch must be a positive integer"),
    ({"hetconv_impl": "sparse", "traffic": True}, "hetconv_impl must be one of"),
])
def test_bad_options(kwargs, match):
    with pytest.raises(OptionError, match=match):
        hetcalc.analyze("vgg16", **kwargs)


def test_pointwise_bias_rule_reaches_traffic_as_it_reaches_counting():
    """One realization feeds counting and traffic: without the pointwise bias (the convention's
    pointwise_bias=False), VGG-16 GWC+PWC loses one bias per output channel of every replaced layer in its
    parameters AND reads those biases no more (4 bytes each in fp32). VGG-16 (CIFAR) replaces conv2..conv13:
    64 + 2 * 128 + 3 * 256 + 6 * 512 = 4,160 output channels, all with a bias."""
    dropped = 64 + 2 * 128 + 3 * 256 + 6 * 512
    with_bias = hetcalc.analyze("vgg16", P=4, variants="gwc", traffic=True).variant("gwc_pwc")
    without = hetcalc.analyze("vgg16", P=4, variants="gwc", traffic=True, pointwise_bias=False).variant("gwc_pwc")
    assert with_bias.params - without.params == dropped == 4160
    assert with_bias.bytes - without.bytes == 4 * dropped
    dwc = hetcalc.analyze("vgg16", variants="dwc", dtype="fp16", pointwise_bias=False).variant("dwc_pwc")
    assert hetcalc.analyze("vgg16", variants="dwc", dtype="fp16").variant("dwc_pwc").bytes - dwc.bytes == 2 * dropped


def _silu_spec(gate_of_other: bool) -> dict:
    """conv c -> sigmoid -> mul: x * sigmoid(x) as torch's ONNX exporter writes SiLU, or (gate_of_other)
    a sigmoid of another conv's output gating c, which is not an activation and stays two kernels."""
    layers = [{"conv": {"out": 16, "kernel": 1, "bn": True, "act": "none", "name": "c"}}]
    if gate_of_other:
        layers.append({"conv": {"out": 16, "kernel": 1, "act": "none", "name": "d", "from": "c"}})
    layers += [{"act": {"fn": "sigmoid", "name": "g"}}, {"mul": {"with": "c", "name": "m"}}]
    return {"input": [8, 6, 6], "layers": layers}


def test_silu_decomposed_by_the_exporter_is_one_activation_kernel():
    B, s, C, H = 3, 2, 16, 6
    E = B * C * H * H
    report = hetcalc.analyze(_silu_spec(False), variants="standard", dtype="fp16", batch=B)
    by_name = {layer.name: layer for layer in report.baseline.layers}
    assert by_name["g"].bytes == 0  # the sigmoid is part of SiLU's one kernel
    assert by_name["m"].bytes == 2 * E * s  # SiLU reads x once and writes once: not 2E (sigmoid) + 3E (mul)
    assert decomposed_activations(report.network) == {1: "skip", 2: "fused"}


def test_a_sigmoid_gate_of_another_tensor_stays_two_kernels():
    B, s, C, H = 3, 2, 16, 6
    E = B * C * H * H
    report = hetcalc.analyze(_silu_spec(True), variants="standard", dtype="fp16", batch=B)
    by_name = {layer.name: layer for layer in report.baseline.layers}
    assert by_name["g"].bytes == 2 * E * s  # sigmoid: read E, write E
    assert by_name["m"].bytes == 3 * E * s  # mul: read both inputs, write the product
    assert decomposed_activations(report.network) == {}


@pytest.mark.parametrize("params", [0, 2 * 96])
def test_layer_norm_is_one_kernel_reading_input_and_params(params):
    B, C, H, W, s = 2, 96, 7, 7, 2
    E = B * C * H * W
    k = norm_kernel(E, params, s)
    assert k.bytes_read == (E + params) * s and k.bytes_written == E * s  # statistics stay on chip
    assert k.weight_bytes == params * s
    assert k.flops == (5 + (2 if params else 0)) * E  # sum, sum of squares, subtract-and-scale; scale and shift
    layer = SimpleNamespace(kind="norm", out_shape=(C, H, W), params=params, act="gelu")
    ks = fixed_layer_kernels(layer, B, s)
    assert [k.op for k in ks] == ["norm", "act"]
    assert ks[0] == k and ks[1].bytes == 2 * E * s


def _gelu_onnx(tmp_path, with_erf: bool):
    """conv -> x / sqrt(2) -> Erf -> + 1 -> x * . -> * 0.5: exact GELU as torch's exporter writes it; without
    the Erf, x * (x / a + 1) * 0.5 is arithmetic, not an activation."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    def const(name, value):
        return helper.make_tensor(name, TensorProto.FLOAT, [], [value])

    nodes = [helper.make_node("Conv", ["input", "w"], ["x"], name="conv"),
             helper.make_node("Div", ["x", "root2"], ["d"], name="div")]
    if with_erf:
        nodes.append(helper.make_node("Erf", ["d"], ["e"], name="erf"))
    nodes += [helper.make_node("Add", ["e" if with_erf else "d", "one"], ["a"], name="add"),
              helper.make_node("Mul", ["x", "a"], ["m"], name="mul"),
              helper.make_node("Mul", ["m", "half"], ["output"], name="half")]
    inits = [helper.make_tensor("w", TensorProto.FLOAT, [16, 8, 1, 1], [0.0] * 128), const("root2", 1.4142),
             const("one", 1.0), const("half", 0.5)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 6, 6])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, None)], initializer=inits)
    path = tmp_path / "gelu.onnx"
    path.write_bytes(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString())
    return path


@pytest.mark.parametrize("with_erf", [True, False])
def test_gelu_decomposed_by_the_exporter_is_one_activation_kernel(tmp_path, with_erf):
    import warnings

    B, s, C, H = 2, 2, 16, 6
    E = B * C * H * H
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Erf is an op the reader passes through, with a warning
        report = hetcalc.analyze(_gelu_onnx(tmp_path, with_erf), variants="standard", dtype="fp16", batch=B)
    sizes = {layer.name: layer.bytes for layer in report.baseline.layers}
    if with_erf:  # the reader sees one GELU (importers/onnx/patterns.py), which the conv takes: one act kernel
        assert [(layer.name, layer.act) for layer in report.network.layers] == [("conv", "gelu")]
        plain = hetcalc.analyze(_gelu_onnx(tmp_path, False), variants="standard", dtype="fp16", batch=B)
        assert sizes == {"conv": plain.baseline.layers[0].bytes + 2 * E * s}
    else:  # three affine kernels (read E, write E) and a mul of two tensors (read 2E, write E)
        assert sizes == {"conv": sizes["conv"], "div": 2 * E * s, "add": 2 * E * s, "mul": 3 * E * s,
                         "half": 2 * E * s}
