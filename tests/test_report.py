"""analyze(): totals, latency, options and the JSON form, against published figures and hand counts.

The expected values are computed here from layer lists written out by hand from each architecture's
description (not from hetcalc's spec loader), or taken from the published figures of equations.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

import hetcalc
from hetcalc import Convention, OptionError, analyze


# --------------------------------------------------------------------------- hand-written layer lists

@dataclass(frozen=True)
class L:
    """A conv (K > 0) or fc (K = 0) layer: M in, N out, K kernel, Ho x Wo output."""

    M: int
    N: int
    K: int
    Ho: int = 1
    Wo: int = 1
    bias: bool = False
    bn: bool = False
    main: bool = True  # on the main (longest) path; a projection shortcut is not
    act: bool = True

    @property
    def area(self) -> int:
        return self.Ho * self.Wo

    @property
    def is_fc(self) -> bool:
        return self.K == 0

    def std_macs(self) -> int:
        return self.M * self.N if self.is_fc else self.area * self.M * self.N * self.K * self.K


def vgg16_cifar() -> list[L]:
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c, size = [], 3, 32
    for v in cfg:
        if v == "M":
            size //= 2
        else:
            layers.append(L(c, v, 3, size, size, bias=True, bn=True))
            c = v
    layers += [L(512, 512, 0, bias=True), L(512, 10, 0, bias=True, act=False)]
    return layers


def vgg16_imagenet() -> list[L]:
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
    layers, c, size = [], 3, 224
    for v in cfg:
        if v == "M":
            size //= 2
        else:
            layers.append(L(c, v, 3, size, size, bias=True))
            c = v
    layers += [L(512 * 7 * 7, 4096, 0, bias=True), L(4096, 4096, 0, bias=True), L(4096, 1000, 0, bias=True)]
    return layers


def resnet_imagenet(blocks, bottleneck: bool) -> list[L]:
    layers = [L(3, 64, 7, 112, 112, bn=True)]
    c, size = 64, 56  # after the 3x3 stride-2 max pool
    for i, (width, repeat) in enumerate(zip((64, 128, 256, 512), blocks)):
        out = width * 4 if bottleneck else width
        for j in range(repeat):
            s = 2 if (i > 0 and j == 0) else 1
            o = size // s
            if bottleneck:
                layers += [L(c, width, 1, size, size, bn=True), L(width, width, 3, o, o, bn=True),
                           L(width, out, 1, o, o, bn=True)]
            else:
                layers += [L(c, out, 3, o, o, bn=True), L(out, out, 3, o, o, bn=True)]
            if s != 1 or c != out:
                layers.append(L(c, out, 1, o, o, bn=True, main=False))
            c, size = out, o
    layers.append(L(c, 1000, 0, bias=True))
    return layers


def resnet56() -> list[L]:
    layers = [L(3, 16, 3, 32, 32, bn=True)]
    c, size = 16, 32
    for i, out in enumerate((16, 32, 64)):
        for j in range(9):
            s = 2 if (i > 0 and j == 0) else 1
            size //= s
            layers += [L(c, out, 3, size, size, bn=True), L(out, out, 3, size, size, bn=True)]
            c = out
    layers.append(L(64, 10, 0, bias=True))
    return layers


def mobilenet() -> list[L]:
    layers = [L(3, 32, 3, 32, 32, bn=True)]
    c, size = 32, 32
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for out, s in plan:
        size //= s
        layers.append(L(c, out, 3, size, size, bn=True))
        c = out
    layers.append(L(1024, 10, 0, bias=True))
    return layers


HAND = {
    "vgg16": vgg16_cifar,
    "vgg16-imagenet": vgg16_imagenet,
    "resnet34": lambda: resnet_imagenet((3, 4, 6, 3), False),
    "resnet50": lambda: resnet_imagenet((3, 4, 6, 3), True),
    "resnet56": resnet56,
    "mobilenet": mobilenet,
}


def convs(layers):
    return [x for x in layers if not x.is_fc]


def replaced(layers, replace_first=False):
    """The paper's rule: every K x K conv with K > 1 except the network's first."""
    cs = convs(layers)
    return [x for x in cs if x.K > 1 and (replace_first or x is not cs[0])]


def variant_macs(x: L, variant: str, part) -> int:
    p = x.M if part == "M" else part
    if variant == "hetconv":
        return x.area * x.N * (x.M // p * x.K * x.K + x.M - x.M // p)
    if variant == "gwc_pwc":
        return x.area * x.M * (x.M // p) * x.K * x.K + x.area * x.M * x.N
    if variant == "dwc_pwc":
        return x.area * x.M * x.K * x.K + x.area * x.M * x.N
    return x.std_macs()


def variant_params(x: L, variant: str, part) -> int:
    """Weights + biases + BN scale/shift (PyTorch), of the layers as realized."""
    extra = lambda ch: (ch if x.bias else 0) + (2 * ch if x.bn else 0)  # noqa: E731
    if x.is_fc:
        return x.M * x.N + extra(x.N)
    p = x.M if part == "M" else part
    if variant == "hetconv":
        return x.N * (x.M // p * x.K * x.K + x.M - x.M // p) + extra(x.N)
    if variant == "gwc_pwc":
        return x.M * (x.M // p) * x.K * x.K + extra(x.M) + x.M * x.N + extra(x.N)
    if variant == "dwc_pwc":
        return x.M * x.K * x.K + extra(x.M) + x.M * x.N + extra(x.N)
    return x.M * x.N * x.K * x.K + extra(x.N)


def hand_totals(name: str, variant: str, part=4, replace_first=False):
    layers = HAND[name]()
    rep = {id(x) for x in replaced(layers, replace_first)}
    total_macs = total_params = 0
    for x in layers:
        v = variant if id(x) in rep else "standard"
        total_macs += variant_macs(x, v, part)
        total_params += variant_params(x, v, part)
    depth = sum(1 for x in layers if x.main)
    if variant in ("gwc_pwc", "dwc_pwc"):
        depth += sum(1 for x in layers if x.main and id(x) in rep)
    return total_macs, total_params, depth


# --------------------------------------------------------------------------- hand lists against published figures

@pytest.mark.parametrize("name,macs,params", [
    ("vgg16", 313_463_808, None),
    ("vgg16-imagenet", 15_470_264_320, 138_357_544),
    ("resnet34", 3_663_761_408, 21_797_672),
    ("resnet50", 4_089_184_256, 25_557_032),
    ("resnet56", 125_485_696, None),
])
def test_hand_layer_lists_reproduce_published_figures(name, macs, params):
    """Sanity check of this file's own layer lists before they are used as the reference."""
    m, p, _ = hand_totals(name, "standard")
    assert m == macs
    if params is not None:
        assert p == params


def test_hand_mobilenet_dwc_is_published_mobilenet():
    assert hand_totals("mobilenet", "dwc_pwc")[0] == 46_354_432


# --------------------------------------------------------------------------- analyze() against published figures

@pytest.mark.parametrize("name,macs,params", [
    ("vgg16", 313_463_808, None),
    ("vgg16-imagenet", 15_470_264_320, 138_357_544),
    ("resnet34", 3_663_761_408, 21_797_672),
    ("resnet50", 4_089_184_256, 25_557_032),
    ("resnet56", 125_485_696, None),
])
def test_standard_totals_are_published_figures(name, macs, params):
    std = analyze(name).standard
    assert std.flops == macs  # default convention: 1 MAC = 1 FLOP, conv and FC only
    assert std.macs == macs
    if params is not None:
        assert std.params == params


def test_mobilenet_dwc_pwc_is_the_published_mobilenet():
    assert analyze("mobilenet", variants="dwc_pwc").variant("dwc_pwc").flops == 46_354_432


@pytest.mark.parametrize("name", sorted(HAND))
@pytest.mark.parametrize("P", [4, "M"])
def test_every_variant_against_hand_counts(name, P):
    report = analyze(name, P=P)
    assert [v.variant for v in report.variants] == ["standard", "hetconv", "gwc_pwc", "dwc_pwc"]
    for v in report.variants:
        macs, params, depth = hand_totals(name, v.variant, P)
        assert (v.flops, v.macs, v.params, v.latency_depth) == (macs, macs, params, depth), v.variant


def test_builtin_names():
    assert set(HAND) <= set(hetcalc.builtin_names())


# --------------------------------------------------------------------------- latency depth

@pytest.mark.parametrize("name,depth,added", [
    ("vgg16", 15, 12),            # 13 conv + 2 fc; 12 replaced 3x3 convs
    ("vgg16-imagenet", 16, 12),   # 13 conv + 3 fc
    ("resnet34", 34, 32),         # conv1 + 16 blocks x 2 + fc; every 3x3 in the blocks
    ("resnet50", 50, 16),         # conv1 + 16 blocks x 3 + fc; one 3x3 per block
    ("resnet56", 56, 54),         # conv1 + 27 blocks x 2 + fc
    ("mobilenet", 15, 13),        # 14 conv + fc; 13 logical 3x3 layers after the first
])
def test_latency_depths(name, depth, added):
    report = analyze(name, P=4)
    assert report.standard.latency_depth == depth
    assert report.standard.added_latency == 0
    het = report.variant("hetconv")
    assert (het.latency_depth, het.added_latency) == (depth, 0)  # one layer replaces one layer
    for key in ("gwc_pwc", "dwc_pwc"):
        v = report.variant(key)
        assert (v.latency_depth, v.added_latency) == (depth + added, added), key


def test_replaced_layer_counts():
    assert analyze("vgg16").variant("hetconv").replaced_layers == 12
    assert analyze("resnet34").variant("gwc_pwc").replaced_layers == 32
    assert analyze("resnet50").variant("dwc_pwc").replaced_layers == 16
    assert analyze("resnet56").variant("hetconv").replaced_layers == 54
    assert analyze("mobilenet").variant("hetconv").replaced_layers == 13
    assert analyze("vgg16").standard.replaced_layers == 0


def test_projection_shortcut_is_a_parallel_branch():
    """A shortcut conv next to a 1-deep body adds no depth; a 2-deep shortcut next to it does."""
    def spec(shortcut):
        return {"input": [8, 8, 8], "layers": [{"conv": 8}, {"residual": {"body": [{"conv": 16}],
                                                                          "shortcut": shortcut}}]}
    one = analyze(spec([{"conv": {"out": 16, "kernel": 1}}]))
    assert one.standard.latency_depth == 2
    two = analyze(spec([{"conv": {"out": 16, "kernel": 1}}, {"conv": {"out": 16, "kernel": 1}}]))
    assert two.standard.latency_depth == 3
    # GWC+PWC lengthens the body to 2: the branches tie
    assert two.variant("gwc_pwc").latency_depth == 3
    assert two.variant("gwc_pwc").added_latency == 0


# --------------------------------------------------------------------------- per-layer results

@pytest.mark.parametrize("name", sorted(HAND))
def test_layers_sum_to_totals(name):
    report = analyze(name, P=4, convention=Convention(flops_per_mac=2, ops=("bias", "bn", "act", "pool", "add")))
    for v in report.variants:
        assert sum(x.flops for x in v.layers) == v.flops
        assert sum(x.params for x in v.layers) == v.params
        assert sum(x.macs for x in v.layers) == v.macs
        assert [x.name for x in v.layers] == [x.name for x in report.standard.layers]


def test_first_conv_not_replaced_by_default():
    report = analyze("vgg16", P=4)
    het = report.variant("hetconv")
    conv_layers = [x for x in het.layers if x.kind == "conv"]
    assert conv_layers[0].replaced is False
    assert conv_layers[0].realization == "standard"
    assert conv_layers[0].flops == 32 * 32 * 3 * 64 * 9
    assert all(x.replaced for x in conv_layers[1:])
    assert all(x.realization == "hetconv P=4" for x in conv_layers[1:])


def test_replace_first():
    # P = M so that the 3-channel first layer can be replaced
    report = analyze("vgg16", P="M", replace_first=True)
    first = [x for x in report.variant("hetconv").layers if x.kind == "conv"][0]
    assert first.replaced is True
    assert first.flops == 32 * 32 * 64 * (3 // 3 * 9 + 3 - 3 // 3)
    assert report.variant("hetconv").replaced_layers == 13
    macs, _, depth = hand_totals("vgg16", "gwc_pwc", "M", replace_first=True)
    assert report.variant("gwc_pwc").flops == macs
    assert report.variant("gwc_pwc").latency_depth == depth == 15 + 13
    # and the same through an explicit Convention
    again = analyze("vgg16", P="M", convention=Convention(replace_first=True))
    assert again.variant("hetconv").flops == report.variant("hetconv").flops


def test_replace_first_refuses_p_not_dividing_first_layer():
    with pytest.raises(OptionError, match="conv1"):
        analyze("vgg16", P=4, replace_first=True)


def test_1x1_convs_and_fc_layers_never_replaced():
    report = analyze("resnet50", P="M", replace_first=True)
    for v in report.variants:
        for x in v.layers:
            if x.kind == "fc" or (x.kind == "conv" and x.K == 1):
                assert x.replaced is False, (v.variant, x.name)
                assert x.flops == report.standard.layers[v.layers.index(x)].flops
    het = report.variant("hetconv")
    assert sum(x.replaced for x in het.layers) == 17  # 16 bottleneck 3x3s + the 7x7 first conv


def test_grouped_convs_are_not_replaced():
    spec = {"input": [3, 8, 8], "layers": [{"conv": 16}, {"conv": {"out": 16, "groups": 4}}, {"conv": 16}]}
    het = analyze(spec, P=4).variant("hetconv")
    assert [x.replaced for x in het.layers] == [False, False, True]


def test_replace_pin_in_spec():
    spec = {"input": [4, 8, 8], "layers": [{"conv": {"out": 8, "replace": True}},
                                           {"conv": {"out": 8, "replace": False}},
                                           {"conv": {"out": 8, "kernel": 1, "replace": False}},
                                           {"conv": 8}]}
    het = analyze(spec, P=4).variant("hetconv")
    assert [x.replaced for x in het.layers] == [True, False, False, True]
    assert het.replaced_layers == 2


def test_p_m_uses_each_layers_m():
    report = analyze("vgg16", P="M")
    het = report.variant("hetconv")
    gwc = report.variant("gwc_pwc")
    assert het.P == "M" and gwc.G == "M"
    for x, g in zip(het.layers, gwc.layers):
        if x.replaced:
            assert x.realization == f"hetconv P={x.M}"
            assert g.realization == f"gwc_pwc G={x.M}"
            assert x.flops == x.out[0] * x.out[1] * x.N * (9 + x.M - 1)
    # GWC with G = M is DWC
    assert gwc.flops == report.variant("dwc_pwc").flops


def test_p_m_accepts_lower_case_and_string_integers():
    assert analyze("vgg16", P="m").variant("hetconv").flops == analyze("vgg16", P="M").variant("hetconv").flops
    assert analyze("vgg16", P="8").variant("hetconv").flops == analyze("vgg16", P=8).variant("hetconv").flops


def test_p_not_dividing_m_names_the_layers():
    # vgg16 with P = 128: only conv2 and conv3 (M = 64) are replaced layers with M not divisible
    with pytest.raises(OptionError) as info:
        analyze("vgg16", P=128)
    text = str(info.value)
    assert "conv2" in text and "conv3" in text and "M=64" in text
    assert "conv4" not in text
    # mobilenet with P = 64: only the second conv has M = 32
    with pytest.raises(OptionError, match=r"conv2 \(M=32\)"):
        analyze("mobilenet", P=64)


def test_g_not_dividing_m_raises_for_gwc_only():
    with pytest.raises(OptionError, match="G=128"):
        analyze("vgg16", P=4, G=128)
    # without the gwc_pwc variant, G is not checked
    report = analyze("vgg16", P=4, G=128, variants="standard,hetconv")
    assert [v.variant for v in report.variants] == ["standard", "hetconv"]
    # and P is not checked when hetconv is not asked for
    analyze("vgg16", P=128, G=4, variants="gwc")


def test_p_not_dividing_m_many_layers():
    with pytest.raises(OptionError) as info:
        analyze("vgg16", P=3)
    assert "12" in str(info.value)  # how many layers
    assert "conv2" in str(info.value)


def test_option_errors_are_hetcalc_errors():
    assert issubclass(OptionError, hetcalc.HetcalcError)
    for bad in (0, -4, 2.0, True, "x", "4.5", None):
        with pytest.raises(OptionError):
            analyze("vgg16", P=bad)
    with pytest.raises(OptionError):
        analyze("vgg16", variants="nope")
    with pytest.raises(OptionError):
        analyze("vgg16", variants="")
    with pytest.raises(OptionError):
        Convention(flops_per_mac=3)
    with pytest.raises(OptionError):
        Convention(ops=("softmax",))


def test_unicode_digit_p_is_an_option_error():
    with pytest.raises(OptionError):
        analyze("vgg16", P="²")


def test_flops_per_mac_float_is_refused_or_exact():
    try:
        conv = Convention(flops_per_mac=2.0)
    except OptionError:
        return
    report = analyze("vgg16", convention=conv)
    assert all(type(v.flops) is int for v in report.variants)


def test_g_defaults_to_p():
    report = analyze("vgg16", P=8)
    gwc = report.variant("gwc_pwc")
    assert gwc.G == 8
    assert gwc.flops == analyze("vgg16", P=8, G=8).variant("gwc_pwc").flops
    assert gwc.flops == hand_totals("vgg16", "gwc_pwc", 8)[0]
    other = analyze("vgg16", P=8, G=2).variant("gwc_pwc")
    assert other.G == 2 and other.flops == hand_totals("vgg16", "gwc_pwc", 2)[0]
    assert report.variant("hetconv").P == 8
    assert report.variant("dwc_pwc").G == "M"


def test_variant_selection_and_aliases():
    report = analyze("vgg16", variants=["dwc", "het"])
    assert [v.variant for v in report.variants] == ["hetconv", "dwc_pwc"]
    # speedup is still against standard
    std = analyze("vgg16", variants="standard").standard.flops
    assert report.variant("dwc_pwc").speedup == std / report.variant("dwc_pwc").flops
    assert [v.variant for v in analyze("vgg16", variants="all").variants] == list(hetcalc.CONV_TYPES)


# --------------------------------------------------------------------------- conventions

def test_flops_per_mac_2_doubles():
    one = analyze("resnet50", P=4)
    two = analyze("resnet50", P=4, convention=Convention(flops_per_mac=2))
    for a, b in zip(one.variants, two.variants):
        assert b.flops == 2 * a.flops
        assert b.macs == a.macs
        assert b.params == a.params  # parameters do not depend on the FLOP convention
        assert b.speedup == pytest.approx(a.speedup)
        for x, y in zip(a.layers, b.layers):
            assert y.flops == 2 * x.flops


def test_bias_op_adds_one_per_biased_output_element_vgg16():
    layers = vgg16_cifar()
    bias_ops = sum(x.N * x.Ho * x.Wo for x in convs(layers)) + 512 + 10
    report = analyze("vgg16", P=4, convention=Convention(ops=("bias",)))
    assert report.standard.flops == 313_463_808 + bias_ops
    # in GWC+PWC both the grouped (M outputs) and pointwise (N outputs) layers carry a bias
    rep = replaced(layers)
    gwc_bias = bias_ops + sum(x.M * x.area for x in rep)
    assert report.variant("gwc_pwc").flops == hand_totals("vgg16", "gwc_pwc", 4)[0] + gwc_bias
    assert report.variant("hetconv").flops == hand_totals("vgg16", "hetconv", 4)[0] + bias_ops


def test_bias_op_adds_nothing_without_biases():
    # resnet56 convolutions have no bias; only its fc (10 outputs) does
    report = analyze("resnet56", convention=Convention(ops=("bias",)))
    assert report.standard.flops == 125_485_696 + 10


def test_other_ops_vgg16():
    layers = vgg16_cifar()
    conv_elems = sum(x.N * x.area for x in convs(layers))
    bn = analyze("vgg16", variants="standard", convention=Convention(ops=("bn",))).standard.flops
    assert bn == 313_463_808 + 2 * conv_elems
    act = analyze("vgg16", variants="standard", convention=Convention(ops=("act",))).standard.flops
    assert act == 313_463_808 + conv_elems + 512  # fc1 has ReLU, the last fc none
    pool = analyze("vgg16", variants="standard", convention=Convention(ops=("pool",))).standard.flops
    # five 2x2 max pools: each reads each input element once
    assert pool == 313_463_808 + sum(c * s * s for c, s in [(64, 32), (128, 16), (256, 8), (512, 4), (512, 2)])
    add = analyze("vgg16", variants="standard", convention=Convention(ops=("add",))).standard.flops
    assert add == 313_463_808


def test_add_op_resnet56():
    adds = 9 * (16 * 32 * 32 + 32 * 16 * 16 + 64 * 8 * 8)
    report = analyze("resnet56", variants="standard", convention=Convention(ops=("add",)))
    assert report.standard.flops == 125_485_696 + adds


def test_convention_options_as_keywords():
    a = analyze("vgg16", flops_per_mac=2, ops=("bias",))
    b = analyze("vgg16", convention=Convention(flops_per_mac=2, ops=("bias",)))
    assert [v.flops for v in a.variants] == [v.flops for v in b.variants]


# --------------------------------------------------------------------------- speedup and JSON

@pytest.mark.parametrize("name", sorted(HAND))
def test_speedup_is_standard_over_variant(name):
    report = analyze(name, P=4)
    std = report.standard
    assert std.speedup == 1.0
    for v in report.variants:
        assert v.speedup == pytest.approx(std.flops / v.flops, rel=1e-15)
        assert v.flops_reduction == pytest.approx(100 * (std.flops - v.flops) / std.flops)
        assert v.params_reduction == pytest.approx(100 * (std.params - v.params) / std.params)


def test_layer_ratio_and_closed_form():
    report = analyze("vgg16", P=4)
    for key, closed in (("hetconv", 1 / 4 + (1 - 1 / 4) / 9), ("gwc_pwc", 1 / 4 + 1 / 9)):
        for x, s in zip(report.variant(key).layers, report.standard.layers):
            if x.replaced:
                assert x.ratio == pytest.approx(x.flops / s.flops)
                assert x.closed_form == pytest.approx(closed)
            else:
                assert x.ratio is None and x.closed_form is None
    for x in report.variant("dwc_pwc").layers:
        if x.replaced:
            assert x.closed_form == pytest.approx(1 / x.N + 1 / 9)
            assert x.ratio == pytest.approx(1 / x.N + 1 / 9)  # eq. 7 is exact for MACs


def test_to_dict_keys_and_json():
    report = analyze("resnet34", P=4)
    data = report.to_dict()
    assert {"architecture", "input", "convention", "variants"} <= set(data)
    assert data["architecture"] == "resnet34"
    assert data["input"] == [3, 224, 224]
    assert isinstance(data["convention"], dict)
    assert [v["variant"] for v in data["variants"]] == ["standard", "hetconv", "gwc_pwc", "dwc_pwc"]
    for v, obj in zip(data["variants"], report.variants):
        assert {"variant", "P", "G", "flops", "params", "latency_depth", "added_latency", "speedup",
                "layers"} <= set(v)
        assert (v["flops"], v["params"], v["latency_depth"], v["added_latency"]) == (
            obj.flops, obj.params, obj.latency_depth, obj.added_latency)
        assert v["speedup"] == obj.speedup
        assert len(v["layers"]) == len(obj.layers)
        for layer in v["layers"]:
            assert {"name", "flops", "params"} <= set(layer)
    assert data["variants"][1]["P"] == 4 and data["variants"][2]["G"] == 4
    text = json.dumps(data)
    back = json.loads(text)
    assert back["variants"][0]["flops"] == 3_663_761_408
    assert back["variants"][0]["params"] == 21_797_672


def test_to_dict_with_p_m_and_ops_is_json():
    data = analyze("mobilenet", P="M", convention=Convention(flops_per_mac=2, ops=("bias", "bn"))).to_dict()
    back = json.loads(json.dumps(data))
    assert back["variants"][1]["P"] == "M"
    assert back["convention"]["flops_per_mac"] == 2
    assert back["convention"]["ops"] == ["bias", "bn"]


def test_report_variant_lookup():
    report = analyze("vgg16", variants="het")
    assert report.variant("hetconv").variant == "hetconv"
    with pytest.raises(KeyError):
        report.variant("gwc_pwc")


def test_analyze_accepts_network_and_path():
    from pathlib import Path

    import hetcalc.architectures as archs
    path = archs.builtin_path("resnet56")
    assert isinstance(path, Path)
    by_path = analyze(path)
    by_str = analyze(str(path))
    net = hetcalc.resolve("resnet56")
    by_net = analyze(net)
    assert by_path.standard.flops == by_str.standard.flops == by_net.standard.flops == 125_485_696


def test_unknown_architecture_is_an_option_error():
    with pytest.raises(hetcalc.OptionError, match="unknown architecture"):
        analyze("not-a-network")
    with pytest.raises(hetcalc.SpecError):
        analyze(42)


def test_a_variants_layers_are_built_once_and_read_as_a_tuple():
    """Up to LayerRows.KEPT_UP_TO layers the LayerResults are kept once built (the tables read them a dozen
    times); iteration, indexing and slicing give the same objects, equal to the rows read afresh."""
    from hetcalc.analysis.results import LayerRows

    layers = analyze("resnet56", P=4).variant("hetconv").layers
    first = list(layers)
    assert all(a is b for a, b in zip(first, layers))
    assert layers[3] is first[3] and layers[-1] is first[-1] and layers[1:3] == tuple(first[1:3])
    fresh = LayerRows(layers._layers, layers._rows)
    assert fresh[5] == first[5] and tuple(fresh) == tuple(first)
