"""The torch builder on any layer graph: concat, mul, SE written out, pad, slice, upsample, reshape, per-layer P,
asymmetric padding, dilation, adaptive pools, and the specs `hetcalc import` writes from branchy models.

Each built module is checked as tests/test_torch_build.py checks chains: parameters (sum of numel(); a masked
weight counts its nonzeros) and conv + linear MACs from forward hooks equal hetcalc's `params` and `macs` for
every variant; and the split HetConv network equals the same network built with masked dense convolutions
whose weights are written out by hand from the split ones (float64).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import hetcalc

torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'hetcalc[torch]')")

from hetcalc.measure.torch import HetConv2d, MaskedHetConv2d, build, parameter_count  # noqa: E402
from test_torch_build import VARIANTS, conv_linear_macs, dense_from_split  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

EVERY_KIND = """
name: every-kind
input: [4, 15, 13]
defaults:
  conv: {bn: true, act: relu}
layers:
  - conv: {out: 8, name: stem}
  - concat:
      name: mix
      branches:
        - [conv: {out: 8, kernel: 1}]
        - [conv: {out: 4, kernel: 1}, conv: {out: 8, kernel: 3, P: 2}]
        - [conv: {out: 4, kernel: 1}, conv: {out: 8, kernel: 3, dilation: 2, padding: 2}]
        - [maxpool: {kernel: 3, stride: 1, padding: 1}, conv: {out: 8, kernel: 1}]
  - se: {reduction: 4}
  - conv: {out: 16, kernel: 3, stride: 2, padding: [0, 0, 1, 1]}
  - maxpool: {kernel: 3, stride: 2, ceil: true}
  - pad: {padding: [0, 0, 1, 1], mode: edge}
  - upsample: {scale: 2, mode: bilinear}
  - slice: {out: [16, 8, 7]}
  - conv: {out: 16, name: side, from: stem, stride: 2, padding: 1}
  - upsample: {size: [8, 7]}
  - add: {with: slice1, act: relu}
  - mul: {with: side}
  - bn: {act: silu}
  - act: hardsigmoid
  - avgpool: {output: [3, 2]}
  - reshape: {out: [32, 3, 1]}
  - flatten: {}
  - fc: {out: 12, act: gelu}
  - fc: 5
"""


def every_kind():
    return hetcalc.load_spec_text(EVERY_KIND, "every-kind.yaml")


def imported(key: str):
    """The spec `hetcalc import` writes for one of tests/torch_models.py's networks, read back."""
    pytest.importorskip("onnx")
    from torch_models import MODELS
    from hetcalc.network.spec_writer import network_to_yaml

    make, shape = MODELS[key]
    torch.manual_seed(0)
    model = make().eval()
    network = hetcalc.analyze(model, input_shape=shape, P=2, variants="standard").network
    with torch.inference_mode():
        out_shape = tuple(model(torch.zeros(1, *shape)).shape[1:])
    return hetcalc.load_spec_text(network_to_yaml(network), f"{key}.yaml"), out_shape


def check_counts(net, P, out_shape=None):
    report = hetcalc.analyze(net, P=P)
    for variant in VARIANTS:
        model = build(net, variant, P=P)
        expected = report.variant(variant)
        assert parameter_count(model) == sum(p.numel() for p in model.parameters()) == expected.params, variant
        assert conv_linear_macs(model, net.input) == expected.macs, variant
        if out_shape is not None:
            with torch.inference_mode():
                assert tuple(model(torch.zeros(2, *net.input)).shape[1:]) == out_shape, variant


def test_every_node_kind_builds_runs_and_counts():
    net = every_kind()
    assert {"concat", "mul", "add", "pad", "slice", "upsample", "reshape", "flatten", "bn", "act"} <= \
        {layer.kind for layer in net.layers}
    check_counts(net, 2, (5,))


def test_per_layer_part_is_the_counted_one():
    model = build(every_kind(), "hetconv", P=4)
    parts = {name: m.part for name, m in model.named_modules() if isinstance(m, HetConv2d)}
    assert parts["graph.mix_b2_conv2.conv"] == 2  # P: 2 in the spec wins over P=4
    assert parts["graph.side.conv"] == 4


@pytest.mark.parametrize("key", ["inception", "densenet", "unet", "se_resnet"])
def test_specs_imported_from_branchy_models_build_and_count(key):
    net, out_shape = imported(key)
    assert any(layer.kind in ("concat", "mul") for layer in net.layers)
    check_counts(net, 2, out_shape)


def split_equals_masked(net, P):
    """The split HetConv network and the masked one, with the same effective weights, give the same output."""
    torch.manual_seed(0)
    split = build(net, "hetconv", P=P).double()
    masked = build(net, "hetconv", P=P, hetconv_impl="masked").double()
    with torch.no_grad():
        for p in split.parameters():
            p.normal_(0, 0.3)
        masked_modules = dict(masked.named_modules())
        copied = set()
        for name, module in split.named_modules():
            if isinstance(module, HetConv2d):
                target = masked_modules[name]
                assert isinstance(target, MaskedHetConv2d)
                target.weight.copy_(dense_from_split(module) if module.pointwise is not None else module.kxk.weight)
                if module.kxk.bias is not None:
                    target.bias.copy_(module.kxk.bias)
                copied |= {f"{name}.{n}" for n, _ in module.named_parameters()}
        masked_params = dict(masked.named_parameters())
        for name, p in split.named_parameters():
            if name not in copied:
                masked_params[name].copy_(p)
    x = torch.randn(2, *net.input, dtype=torch.float64)
    with torch.inference_mode():
        return split(x), masked(x)


@pytest.mark.parametrize("source", ["every-kind", "inception", "densenet", "unet"])
def test_split_network_equals_masked_dense_network(source):
    net = every_kind() if source == "every-kind" else imported(source)[0]
    a, b = split_equals_masked(net, 2)
    assert a.shape == b.shape and torch.allclose(a, b)


def test_dilated_split_equals_masked_dense_convolution():
    torch.manual_seed(0)
    split = HetConv2d(8, 8, 3, stride=2, padding=3, part=4, bias=True, dilation=3).double()
    with torch.no_grad():
        for p in split.parameters():
            p.normal_()
    x = torch.randn(2, 8, 11, 10, dtype=torch.float64)
    expected = torch.nn.functional.conv2d(x, dense_from_split(split), split.kxk.bias, 2, 3, 3)
    assert torch.allclose(split(x), expected)


def test_measure_times_a_branchy_spec():
    from hetcalc.measure import measure

    result = measure(every_kind(), P=2, rounds=1, warmup=0)
    assert [v.key for v in result.variants][:2] == ["standard", "hetconv:2"]
    assert all(v.median_s > 0 for v in result.variants)


def test_se_option_on_a_graph_counts_as_hetcalc_counts():
    net = every_kind()
    for variant in ("standard", "hetconv"):
        model = build(net, variant, P=2, se=4)
        expected = hetcalc.analyze(net, P=2, se=4).variant(variant)
        assert parameter_count(model) == expected.params
        assert conv_linear_macs(model, net.input) == expected.macs


@pytest.mark.parametrize("path", sorted(str(p.name) for p in (ROOT / "tests" / "onnx").glob("*.onnx")))
def test_every_model_of_the_onnx_corpus_builds_and_counts(path):
    pytest.importorskip("onnx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the corpus' uncounted ops are another test's concern
        report = hetcalc.analyze(ROOT / "tests" / "onnx" / path, P=2)
    for v in report.variants:
        with torch.device("meta"):
            model = build(report.network, v.variant, P=2)
            macs = conv_linear_macs(model, report.input)
        assert (parameter_count(model), macs) == (v.params, v.macs), v.variant
