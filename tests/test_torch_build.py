"""The PyTorch builder against hetcalc's counts and against HetConv's definition.

- split HetConv equals a dense K x K convolution whose weights are written out by hand from the split
  weights (float64, several M, N, K, P, strides and paddings), and so does the masked realization;
- parameters (sum of numel(); a masked weight counts its nonzeros) equal hetcalc's `params`, and conv +
  linear MACs counted by forward hooks equal hetcalc's `macs`, for every built-in and every variant.
Modules for the counts are built on the meta device: shapes without storage, so the whole file stays fast.
"""

from __future__ import annotations

import pytest

import hetcalc

torch = pytest.importorskip("torch", reason="torch is not installed (pip install 'hetcalc[torch]')")
nn = torch.nn
F = torch.nn.functional

from hetcalc.measure.torch import (HetConv2d, MaskedHetConv2d, ZeroPadShortcut, build,  # noqa: E402
                                   parameter_count)

VARIANTS = ("standard", "hetconv", "gwc_pwc", "dwc_pwc")


def dense_from_split(split: HetConv2d) -> torch.Tensor:
    """The (N, M, kh, kw) weight of the same HetConv, written out from the definition: filter n in group
    g = n // (N/P) has its K x K kernels on input channels g*M/P ... (g+1)*M/P - 1, and a 1 x 1 kernel at the
    window's centre on each other channel, in increasing channel order."""
    M, N, P = split.in_channels, split.out_channels, split.part
    kh, kw = split.kernel_size
    block, per_group = M // P, N // P
    dense = torch.zeros(N, M, kh, kw, dtype=split.kxk.weight.dtype)
    for n in range(N):
        g = n // per_group
        others = [c for c in range(M) if not g * block <= c < (g + 1) * block]
        for j in range(block):
            dense[n, g * block + j] = split.kxk.weight[n, j]
        for j, c in enumerate(others):
            dense[n, c, (kh - 1) // 2, (kw - 1) // 2] = split.pointwise.weight[n, j, 0, 0]
    return dense


SHAPES = [  # M, N, kernel, P, stride, padding, input height, width, bias
    (8, 8, (3, 3), 4, (1, 1), (1, 1), 9, 9, False),
    (8, 16, (3, 3), 2, (2, 2), (1, 1), 10, 7, True),
    (12, 6, (5, 5), 3, (1, 1), (2, 2), 8, 8, False),
    (12, 6, (5, 5), 3, (2, 1), (1, 2), 11, 9, True),  # padding below the centre offset: the 1x1 path crops
    (6, 4, (3, 3), 2, (1, 1), (0, 0), 7, 6, False),  # no padding at all
    (6, 4, (3, 3), 2, (1, 1), (2, 2), 5, 5, False),  # padding beyond: the centre tap reads padding
    (4, 8, (2, 2), 4, (1, 1), (1, 1), 6, 6, True),  # even kernel: the centre is the upper-left middle tap
    (9, 9, (1, 3), 3, (1, 2), (0, 1), 6, 9, False),  # non-square kernel
    (16, 32, (3, 3), 16, (2, 2), (1, 1), 8, 8, False),  # P = M: one K x K kernel per filter
    (4, 4, (3, 3), 1, (1, 1), (1, 1), 5, 5, True),  # P = 1: standard convolution
]


@pytest.mark.parametrize("M, N, kernel, P, stride, padding, H, W, bias", SHAPES)
def test_split_equals_masked_dense_convolution(M, N, kernel, P, stride, padding, H, W, bias):
    torch.manual_seed(0)
    split = HetConv2d(M, N, kernel, stride, padding, part=P, bias=bias).double()
    with torch.no_grad():
        for p in split.parameters():
            p.normal_()
    x = torch.randn(2, M, H, W, dtype=torch.float64)
    dense = dense_from_split(split) if split.pointwise is not None else split.kxk.weight
    expected = F.conv2d(x, dense, split.kxk.bias, stride, padding)
    assert split(x).shape == expected.shape
    assert torch.allclose(split(x), expected)

    masked = MaskedHetConv2d(M, N, kernel, stride, padding, part=P, bias=bias).double()
    assert torch.equal(masked.mask.double() * dense, dense)  # the mask keeps exactly HetConv's pattern
    assert int(masked.mask.count_nonzero()) == N * (M // P * kernel[0] * kernel[1] + M - M // P)  # eq. 2-4
    with torch.no_grad():
        masked.weight.copy_(dense + (1 - masked.mask.double()) * 7.0)  # garbage off the pattern is masked out
        if bias:
            masked.bias.copy_(split.kxk.bias)
    assert torch.allclose(masked(x), expected)


def test_split_refuses_p_not_dividing_n():
    with pytest.raises(hetcalc.OptionError, match="P to divide both M and N"):
        HetConv2d(8, 6, 3, part=4)
    spec = {"input": [3, 8, 8], "layers": [{"conv": 8}, {"conv": 6}, {"fc": 2}]}
    with pytest.raises(hetcalc.OptionError, match=r"conv2 has N=6, P=4"):
        build(spec, "hetconv", P=4)
    model = build(spec, "hetconv", P=4, hetconv_impl="masked")  # the masked form has no such constraint
    assert parameter_count(model) == hetcalc.analyze(spec, P=4, variants="hetconv").variant("hetconv").params


def conv_linear_macs(model: nn.Module, input_shape) -> int:
    """MACs of conv and linear layers for one sample, counted by forward hooks:
    output elements x (input channels / groups) x kernel area; in x out features."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            total += output[0].numel() * module.in_channels // module.groups * kh * kw
        else:
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        model(torch.zeros(1, *input_shape, device=next(model.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return total


@pytest.mark.parametrize("arch", hetcalc.builtin_names())
def test_parameters_and_macs_equal_hetcalc_for_every_variant(arch):
    report = hetcalc.analyze(arch, P=4)
    for variant in VARIANTS:
        with torch.device("meta"):
            model = build(arch, variant, P=4)
            macs = conv_linear_macs(model, report.input)
        expected = report.variant(variant)
        assert parameter_count(model) == sum(p.numel() for p in model.parameters()) == expected.params, variant
        assert macs == expected.macs, variant


@pytest.mark.parametrize("impl", ["masked", "fused"])
def test_masked_parameters_count_nonzeros(impl):
    with torch.device("meta"):
        model = build("resnet56", "hetconv", P=4, hetconv_impl=impl)
    assert parameter_count(model) == hetcalc.analyze("resnet56", P=4).variant("hetconv").params
    assert sum(isinstance(m, MaskedHetConv2d) for m in model.modules()) == 54  # 55 3x3 convs, first kept


ODD_SPEC = """
name: odd
input: [4, 21, 19]
defaults:
  conv: {bias: true, bn: true, act: silu}
layers:
  - conv: {out: 8, kernel: [3, 5], padding: [1, 0]}
  - conv: {out: 8, kernel: 2, padding: 1, act: hardswish}
  - conv: {out: 8, kernel: 3, groups: 2, act: none}
  - conv: {out: 8, kernel: 3, replace: false}
  - maxpool: {kernel: 3, stride: 2, padding: 1}
  - residual:
      body:
        - conv: {out: 16, stride: 2}
        - conv: {out: 16, kernel: 1}
        - residual:
            body:
              - conv: {out: 16, kernel: 3, bn: false}
      shortcut:
        - conv: {out: 16, kernel: 1, stride: 2}
      act: relu6
  - residual:
      body:
        - conv: {out: 32, kernel: 3, stride: 2, padding: 0}
      shortcut: zero_pad
  - fc: {out: 12, act: gelu}
  - conv: {out: 8, kernel: 1}
  - avgpool: global
  - fc: 3
"""


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("impl", ["split", "masked"])
def test_odd_spec_builds_runs_and_counts(variant, impl):
    net = hetcalc.load_spec_text(ODD_SPEC, "odd.yaml")
    model = build(net, variant, P=2, hetconv_impl=impl)
    expected = hetcalc.analyze(net, P=2, variants=variant).variant(variant)
    assert not model.training
    with torch.inference_mode():
        out = model(torch.randn(2, 4, 21, 19))
    assert out.shape == (2, 3)
    assert parameter_count(model) == expected.params
    if impl == "split":
        assert conv_linear_macs(model, net.input) == expected.macs
    # the replacement rule: first conv kept, grouped and pinned ones kept, 1x1 kept
    kinds = {m.__class__.__name__ for m in model.modules()}
    assert ("HetConv2d" in kinds or "MaskedHetConv2d" in kinds) == (variant == "hetconv")


def test_replace_first_and_pointwise_bias_follow_the_convention():
    spec = {"input": [4, 8, 8], "defaults": {"conv": {"bias": True}}, "layers": [{"conv": 8}, {"conv": 8},
                                                                                 {"fc": 2}]}
    for options in ({}, {"replace_first": True}, {"pointwise_bias": False}):
        for variant in VARIANTS:
            model = build(spec, variant, P=2, **options)
            assert parameter_count(model) == hetcalc.analyze(spec, P=2, **options).variant(variant).params
    first = build(spec, "gwc_pwc", P=2, replace_first=True)[0]
    assert first.groupwise.groups == 2 and first.groupwise.bias is not None and first.pointwise.bias is not None
    assert build(spec, "gwc_pwc", P=2, pointwise_bias=False)[1].pointwise.bias is None


def test_se_blocks_count_as_hetcalc_counts():
    for arch in ("resnet56", "vgg16"):
        with torch.device("meta"):
            model = build(arch, "hetconv", P=4, se=8)
            macs = conv_linear_macs(model, model.input_shape)
        expected = hetcalc.analyze(arch, P=4, se=8).variant("hetconv")
        assert parameter_count(model) == expected.params
        assert macs == expected.macs


def test_zero_pad_shortcut_subsamples_and_pads():
    x = torch.arange(2 * 3 * 5 * 4, dtype=torch.float32).reshape(2, 3, 5, 4)
    y = ZeroPadShortcut((2, 2), 5)(x)
    assert y.shape == (2, 8, 3, 2)
    assert torch.equal(y[:, :3], x[:, :, ::2, ::2]) and not y[:, 3:].any()


def test_build_errors_are_hetcalc_errors():
    with pytest.raises(hetcalc.OptionError, match="P=3 does not divide"):
        build("vgg16", "hetconv", P=3)
    with pytest.raises(hetcalc.OptionError, match="one variant"):
        build("vgg16", "all")
    with pytest.raises(hetcalc.OptionError, match="realization"):
        build("vgg16", "hetconv", hetconv_impl="fast")


def test_build_module_is_exported_lazily():
    model = hetcalc.build_module("resnet56", "dwc_pwc")
    assert model.architecture == "resnet56" and model.variant == "dwc_pwc"
    with torch.inference_mode():
        assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)


def test_api_doc_torch_examples_run():
    """docs/api.md's ```pycon-torch block (kept out of test_docs.py's doctests, which run without torch)."""
    import doctest
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "api.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```pycon-torch\n(.*?)```", text, re.S)
    assert blocks
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for block in blocks:
        runner.run(doctest.DocTestParser().get_doctest(block, {}, "docs/api.md", "docs/api.md", 0))
    assert runner.failures == 0 and runner.tries >= 6
