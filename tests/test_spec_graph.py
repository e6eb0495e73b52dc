"""The YAML graph constructs: branches and concatenation, names as edges, standalone BatchNorm and
activations, dilation and padding forms, adaptive pooling, SE as a graph, data movement, per-layer P.
Expected values are hand arithmetic in each test.
"""

from __future__ import annotations

import textwrap

import pytest

import hetcalc
from hetcalc import OptionError
from hetcalc.graph import INPUT
from hetcalc.spec import load_spec_text


def load(text: str):
    return load_spec_text(textwrap.dedent(text), "t.yaml")


def by_name(net):
    return {layer.name: layer for layer in net.layers}


def test_inception_branches_concatenate_and_depth_is_the_longest_branch():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, name: stem}
          - concat:
              name: mix
              branches:
                - [conv: {out: 2, kernel: 1}]
                - [conv: {out: 2, kernel: 1}, conv: 6, conv: 6]
                - [maxpool: {kernel: 3, stride: 1, padding: 1}]
          - fc: 10
    """)
    layers = by_name(net)
    assert layers["mix.cat"].out_shape == (2 + 6 + 4, 8, 8)
    i = [layer.name for layer in net.layers]
    assert layers["mix.cat"].inputs == (i.index("mix.b1.conv1"), i.index("mix.b2.conv3"), i.index("mix.b3.pool1"))
    assert layers["mix.b2.conv1"].inputs == layers["mix.b3.pool1"].inputs == (0,)  # every branch reads the stem
    report = hetcalc.analyze(net, P=2, variants="standard")
    assert report.standard.latency_depth == 1 + 3 + 1  # stem, the longest branch, fc
    # stem 3->4 (3x3); two 1x1 4->2; 3x3 2->6; 3x3 6->6; fc 12*8*8 = 768 -> 10
    assert report.standard.macs == 64 * 4 * 27 + 2 * 64 * 2 * 4 + 64 * 6 * 2 * 9 + 64 * 6 * 6 * 9 + 768 * 10


def test_dense_block_identity_branch_and_preactivation():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: 8
          - concat:
              repeat: 3
              branches:
                - []
                - [bn: {act: relu}, conv: {out: 4, kernel: 1}, bn: {act: relu}, conv: 4]
          - fc: 2
    """)
    cats = [layer for layer in net.layers if layer.kind == "concat"]
    assert [c.out_shape[0] for c in cats] == [12, 16, 20]
    assert cats[1].inputs[0] == net.layers.index(cats[0])  # the identity branch is the block's input
    std = hetcalc.analyze(net, variants="standard").standard
    bn_params = 2 * (8 + 4) + 2 * (12 + 4) + 2 * (16 + 4)
    conv = 8 * 3 * 9 + sum(4 * m + 4 * 4 * 9 for m in (8, 12, 16))  # stem, then 1x1 m->4 and 3x3 4->4
    assert std.params == conv + bn_params + 20 * 64 * 2 + 2


def test_dilation_changes_the_output_size_not_the_macs_per_output():
    net = load("""
        input: [4, 16, 16]
        layers:
          - conv: 4
          - conv: {out: 8, dilation: 2}           # padding 2 by default: the size is kept
          - conv: {out: 8, dilation: 3, padding: 0}  # span 7: 16 - 6 = 10
          - fc: 1
    """)
    _, d2, d3, _ = net.layers
    assert d2.out_shape == (8, 16, 16) and d2.padding == (2, 2)
    assert d3.out_shape == (8, 10, 10)
    layers = {r.name: r for r in hetcalc.analyze(net, variants="standard").standard.layers}
    assert layers["conv2"].macs == 16 * 16 * 8 * 4 * 9
    assert layers["conv3"].macs == 10 * 10 * 8 * 8 * 9


def test_padding_same_valid_and_four_sides():
    net = load("""
        input: [3, 17, 16]
        layers:
          - conv: {out: 4, stride: 2, padding: same}       # ceil(17/2) x ceil(16/2) = 9 x 8
          - conv: {out: 4, kernel: 2, padding: [0, 0, 1, 1]}  # 9 + 1 - 2 + 1 = 9, 8 + 1 - 2 + 1 = 8
          - conv: {out: 4, padding: valid}                 # 7 x 6
          - fc: 1
    """)
    same, four, valid, _ = net.layers
    assert same.out_shape == (4, 9, 8) and same.pads == (1, 0, 1, 1)  # 17: total 2; 16: total 1, the odd at the end
    assert four.out_shape == (4, 9, 8) and four.pads == (0, 0, 1, 1)
    assert valid.out_shape == (4, 7, 6)


def test_adaptive_pool_counts_uneven_windows_exactly():
    net = load("""
        input: [2, 5, 5]
        layers:
          - conv: 2
          - avgpool: {output: 3}
          - fc: 1
    """)
    pool = net.layers[1]
    assert pool.out_shape == (2, 3, 3)
    # rows 0..2 read [0, 2), [1, 4), [3, 5): 2 + 3 + 2 = 7 per axis, 49 per channel
    report = hetcalc.analyze(net, variants="standard", ops=("pool",))
    pool_row = next(r for r in report.standard.layers if r.kind == "pool")
    assert pool_row.flops == 2 * 49


def test_se_as_a_graph():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: 16
          - se: 4
          - fc: 1
    """)
    names = [layer.name for layer in net.layers]
    assert names == ["conv1", "se1.pool", "se1.fc1", "se1.fc2", "se1.scale", "fc1"]
    scale = net.layers[4]
    assert scale.inputs == (0, 3) and scale.out_shape == (16, 8, 8)
    std = hetcalc.analyze(net, variants="standard").standard
    assert std.params == 16 * 27 + (16 * 4 + 4) + (4 * 16 + 16) + 16 * 64 + 1
    assert std.latency_depth == 1 + 2 + 1  # the gate's convs sit on the path to the scaling


def test_names_as_edges_and_data_movement():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, name: e1}
          - maxpool: 2
          - conv: 8
          - upsample: {scale: 2}
          - concat: {with: e1, name: skip}
          - pad: [0, 0, 1, 1]
          - slice: {out: [12, 8, 8]}
          - reshape: [12, 4, 16]
          - conv: {out: 2, from: e1}
          - flatten
          - fc: 3
    """)
    layers = by_name(net)
    assert layers["upsample1"].out_shape == (8, 8, 8) and layers["skip"].out_shape == (12, 8, 8)
    assert layers["pad1"].out_shape == (12, 9, 9) and layers["slice1"].out_shape == (12, 8, 8)
    assert layers["reshape1"].out_shape == (12, 4, 16)
    assert layers["conv2"].inputs == (0,) and layers["conv2"].out_shape == (2, 8, 8)
    assert layers["flatten1"].out_shape == (128, 1, 1)


def test_add_and_mul_with_names_and_input():
    net = load("""
        input: [4, 8, 8]
        layers:
          - conv: {out: 4, name: a}
          - conv: {out: 4, name: b}
          - add: {inputs: [a, input]}
          - conv: {out: 4, kernel: 1, from: b}
          - mul: {with: b}
          - fc: 1
    """)
    layers = by_name(net)
    assert layers["add1"].inputs == (0, INPUT)
    assert layers["mul1"].inputs == (3, 1)


def test_stage_groups_and_stage_P():
    net = load("""
        input: [3, 8, 8]
        defaults: {conv: {bn: true}}
        layers:
          - conv: 16
          - stage: {block: bottleneck, out: 32, width: 16, groups: 4, repeat: 2, name: x}
          - stage: {block: basic, out: 32, P: 8, name: y}
          - fc: 1
    """)
    layers = by_name(net)
    assert layers["x.0.conv2"].groups == 4 and layers["x.0.conv1"].groups == 1
    assert layers["y.0.conv1"].P == 8 and layers["y.0.conv2"].P == 8
    report = hetcalc.analyze(net, P=2)
    het = {r.name: r for r in report.variant("hetconv").layers}
    assert not het["x.0.conv2"].replaced  # grouped: stays standard
    assert het["y.0.conv1"].realization == "hetconv P=8"
    # GWC+PWC: a layer's own P is its G too, when G is not given
    gwc = {r.name: r for r in report.variant("gwc_pwc").layers}
    assert gwc["y.0.conv1"].realization == "gwc_pwc G=8"
    assert {r.name: r for r in hetcalc.analyze(net, P=2, G=4).variant("gwc_pwc").layers}[
        "y.0.conv1"].realization == "gwc_pwc G=4"


def test_layer_P_counts_exactly():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: 8
          - conv: {out: 8, P: 4}
          - conv: {out: 8, replace: false}
          - conv: 8
    """)
    het = hetcalc.analyze(net, P=2).variant("hetconv")
    # eqs. 2-4 per layer: D_o^2 * N * (M/P * 9 + M - M/P)
    assert [r.macs for r in het.layers] == [64 * 8 * 27, 64 * 8 * (2 * 9 + 6), 64 * 8 * 72, 64 * 8 * (4 * 9 + 4)]


def test_P_at_from_the_api():
    report = hetcalc.analyze("resnet34", P=4, P_at={"stage4.*": 8, "stage1.0.conv1": "off"})
    het = {r.name: r for r in report.variant("hetconv").layers}
    assert het["stage4.1.conv2"].realization == "hetconv P=8"
    assert het["stage3.1.conv2"].realization == "hetconv P=4"
    assert not het["stage1.0.conv1"].replaced
    with pytest.raises(OptionError, match="matches no convolution"):
        hetcalc.analyze("resnet34", P_at=["nothing*=2"])
    with pytest.raises(OptionError, match="PATTERN=P"):
        hetcalc.analyze("resnet34", P_at=["stage4"])
    with pytest.raises(OptionError, match="P=3 set for layer"):
        hetcalc.analyze("resnet34", P_at={"stage4.*": 3})


def test_sweep_keeps_pinned_layers_out_of_the_part_sweep():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: 6
          - conv: {out: 8, P: 3}
          - conv: 8
    """)
    from hetcalc.sweep import sweep

    het = sweep([net], P="1,2,4,8").architectures[0].hetconv
    assert het.gcd == 8  # the P: 3 layer (M = 6) does not limit the swept values
    for p, flops in zip(het.values, het.flops):
        assert flops == hetcalc.analyze(net, P=p).variant("hetconv").flops


def test_builtin_specs_keep_their_graph_shape():
    net = hetcalc.resolve("resnet50")
    adds = [layer for layer in net.layers if layer.kind == "add"]
    assert len(adds) == 16 and all(len(a.inputs) == 2 for a in adds)
    assert hetcalc.analyze(net, P=4).standard.latency_depth == 1 + 16 * 3 + 1


def test_repeated_blocks_reuse_validation_but_not_names_or_edges():
    net = load("""
        input: [8, 4, 4]
        layers:
          - residual: {repeat: 3, body: [conv: 8, conv: {out: 8, act: none}]}
          - conv: {out: 8, repeat: 2, name: tail}
    """)
    names = [layer.name for layer in net.layers]
    assert names == ["res1.conv1", "res1.conv2", "res1.add", "res2.conv1", "res2.conv2", "res2.add",
                     "res3.conv1", "res3.conv2", "res3.add", "tail.1", "tail.2"]
    assert net.edges == ((INPUT,), (0,), (1, INPUT), (2,), (3,), (4, 2), (5,), (6,), (7, 5), (8,), (9,))
    assert net.layers[1] is not net.layers[4] and net.layers[4].act is None and net.layers[3].act is None
    assert len({id(layer) for layer in net.layers}) == len(net.layers)
