"""The YAML spec format: what each form builds, and the SpecError every bad spec gets."""

from __future__ import annotations

import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hetcalc
from hetcalc import SpecError, load_spec_text
from hetcalc.graph import INPUT, Add, Conv, Linear, Pool
from hetcalc.network.geometry import output_size


def load(text: str):
    return load_spec_text(textwrap.dedent(text), source="x.yaml")


def spec_error(text: str, line: int | None = None, *fragments: str) -> SpecError:
    """Load `text`, expect a SpecError (and nothing else) naming x.yaml and, if given, the line."""
    with pytest.raises(SpecError) as info:
        load(text)
    err = info.value
    shown = str(err)
    assert "\n" not in shown
    assert shown.startswith("x.yaml"), shown
    assert err.source == "x.yaml"
    if line is not None:
        assert err.line == line, shown
        assert shown.startswith(f"x.yaml:{line}:") or shown.startswith(f"x.yaml:{line}: "), shown
    for fragment in fragments:
        assert fragment in shown, shown
    return err


def shapes(net):
    return [(layer.name, layer.out_shape) for layer in net.layers]


# --------------------------------------------------------------------------- shorthand forms

def test_shorthand_forms():
    net = load("""
        input: [3, 32, 32]
        layers:
          - conv: 16
          - maxpool: 2
          - conv: {out: 32}
          - maxpool
          - avgpool: global
          - fc: 10
    """)
    assert shapes(net) == [("conv1", (16, 32, 32)), ("pool1", (16, 16, 16)), ("conv2", (32, 16, 16)),
                           ("pool2", (32, 8, 8)), ("pool3", (32, 1, 1)), ("fc1", (10, 1, 1))]
    c1, p1, c2, p2, g, fc = net.layers
    assert isinstance(c1, Conv) and c1.kernel == (3, 3) and c1.stride == (1, 1) and c1.padding == (1, 1)
    assert c1.groups == 1 and c1.bias is False and c1.bn is False and c1.act is None
    assert isinstance(p1, Pool) and p1.mode == "max" and p1.kernel == (2, 2) and p1.stride == (2, 2)
    assert p2.kernel == (2, 2)  # a bare `maxpool` takes kernel 2, stride = kernel
    assert isinstance(g, Pool) and g.mode == "avg" and g.kernel == (8, 8)
    assert isinstance(fc, Linear) and fc.bias is True and fc.in_shape == (32, 1, 1)
    assert net.name == "network" and net.input == (3, 32, 32) and net.source == "x.yaml"


def test_global_maxpool_and_non_square_pool():
    net = load("""
        input: [4, 9, 12]
        layers:
          - maxpool: {kernel: [3, 2], stride: [3, 2]}
          - maxpool: global
          - fc: 2
    """)
    assert shapes(net)[:2] == [("pool1", (4, 3, 6)), ("pool2", (4, 1, 1))]
    assert net.layers[1].mode == "max" and net.layers[1].kernel == (3, 6)


def test_top_level_fields():
    net = load_spec_text("name: tiny\ntitle: A tiny net\ndescription: d\ndataset: CIFAR-10\n"
                         "input: [1, 4, 4]\nlayers: [fc: 3]\n", source="t.yaml", default_name="dflt")
    assert (net.name, net.title, net.description) == ("tiny", "A tiny net", "d")
    assert net.source == "t.yaml"
    unnamed = load_spec_text("input: [1, 4, 4]\nlayers: [fc: 3]\n", source="t.yaml", default_name="dflt")
    assert unnamed.name == "dflt" and unnamed.title == "dflt"


# --------------------------------------------------------------------------- output size rule

@pytest.mark.parametrize("size,k,s,p", [
    (32, 3, 1, 1), (32, 3, 2, 1), (7, 3, 2, 1), (224, 7, 2, 3), (5, 5, 1, 0), (6, 3, 3, 0), (9, 2, 4, 1),
    (1, 1, 1, 0), (10, 4, 3, 2),
])
def test_output_size_rule(size, k, s, p):
    expected = (size + 2 * p - k) // s + 1
    assert output_size(size, k, s, p) == expected
    net = load(f"""
        input: [2, {size}, {size}]
        layers:
          - conv: {{out: 4, kernel: {k}, stride: {s}, padding: {p}}}
    """)
    assert net.layers[0].out_shape == (4, expected, expected)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), kh=st.integers(1, 7), kw=st.integers(1, 7),
       sh=st.integers(1, 4), sw=st.integers(1, 4), ph=st.integers(0, 6), pw=st.integers(0, 6))
def test_output_size_rule_property(h, w, kh, kw, sh, sw, ph, pw):
    text = (f"input: [3, {h}, {w}]\nlayers:\n  - conv: {{out: 5, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], "
            f"padding: [{ph}, {pw}]}}\n")
    ho, wo = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if ph >= kh or pw >= kw or ho < 1 or wo < 1:
        with pytest.raises(SpecError) as info:
            load_spec_text(text, source="x.yaml")
        assert str(info.value).startswith("x.yaml:3:")
    else:
        conv = load_spec_text(text, source="x.yaml").layers[0]
        assert conv.out_shape == (5, ho, wo)
        assert conv.kernel == (kh, kw) and conv.stride == (sh, sw) and conv.padding == (ph, pw)


def test_default_padding_is_half_the_kernel():
    net = load("""
        input: [3, 15, 15]
        layers:
          - conv: {out: 4, kernel: 5}
          - conv: {out: 4, kernel: [1, 7]}
          - conv: {out: 4, kernel: 4}
    """)
    assert [c.padding for c in net.layers] == [(2, 2), (0, 3), (2, 2)]
    assert [c.out_shape for c in net.layers] == [(4, 15, 15), (4, 15, 15), (4, 16, 16)]


def test_non_square_everything():
    net = load("""
        input: [3, 9, 13]
        layers:
          - conv: {out: 4, kernel: [3, 1], stride: [2, 1], padding: [1, 0]}
    """)
    conv = net.layers[0]
    assert conv.out_shape == (4, (9 + 2 - 3) // 2 + 1, 13)
    assert conv.K == 3


# --------------------------------------------------------------------------- repeat and names

def test_repeat_chains_layers_and_names_them():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, repeat: 3}
          - conv: {out: 6, stride: 2, repeat: 2}
          - conv: {out: 5, repeat: 2, name: blk}
          - fc: {out: 7, repeat: 2}
          - fc: {out: 3, repeat: 2, name: head}
    """)
    assert shapes(net) == [
        ("conv1", (4, 8, 8)), ("conv2", (4, 8, 8)), ("conv3", (4, 8, 8)),
        ("conv4", (6, 4, 4)), ("conv5", (6, 2, 2)),
        ("blk.1", (5, 2, 2)), ("blk.2", (5, 2, 2)),
        ("fc1", (7, 1, 1)), ("fc2", (7, 1, 1)), ("head.1", (3, 1, 1)), ("head.2", (3, 1, 1))]
    assert [c.in_shape[0] for c in net.convs] == [3, 4, 4, 4, 6, 6, 5]
    assert net.layers[7].in_shape == (5, 2, 2) and net.layers[8].in_shape == (7, 1, 1)
    assert net.edges == tuple((i - 1,) for i in range(11))  # a chain: each layer reads the one before


def test_explicit_names():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, name: stem}
          - maxpool: {kernel: 2, name: down}
          - conv: 8
          - fc: {out: 2, name: classifier}
    """)
    assert [x.name for x in net.layers] == ["stem", "down", "conv1", "classifier"]


def test_duplicate_layer_name():
    spec_error("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, name: a}
          - conv: {out: 4, name: a}
    """, 5, "duplicate layer name")


# --------------------------------------------------------------------------- defaults

def test_defaults_apply_and_can_be_overridden():
    net = load("""
        input: [3, 8, 8]
        defaults:
          conv: {bias: true, bn: true, act: relu}
          fc: {bias: false, act: relu}
        layers:
          - conv: 4
          - conv: {out: 4, bias: false, bn: false, act: none}
          - fc: 10
          - fc: {out: 5, bias: true, act: null}
    """)
    c1, c2, f1, f2 = net.layers
    assert (c1.bias, c1.bn, c1.act) == (True, True, "relu")
    assert (c2.bias, c2.bn, c2.act) == (False, False, None)
    assert (f1.bias, f1.act) == (False, "relu")
    assert (f2.bias, f2.act) == (True, None)
    assert net.conv_bias is True and net.conv_bn is True


def test_no_defaults_means_plain_layers():
    net = load("""
        input: [3, 8, 8]
        layers: [conv: 4, fc: 2]
    """)
    assert (net.layers[0].bias, net.layers[0].bn, net.layers[0].act) == (False, False, None)
    assert net.layers[1].bias is True  # an fc layer has a bias unless told otherwise
    assert net.conv_bias is False and net.conv_bn is False


# --------------------------------------------------------------------------- explicit in:

def test_explicit_in_checks():
    net = load("""
        input: [3, 4, 4]
        layers:
          - conv: {out: 8, in: 3}
          - conv: {out: 8, in: 8, repeat: 2}
          - fc: {out: 10, in: 128}
          - fc: {out: 2, in: 10}
    """)
    assert len(net.layers) == 5
    spec_error("""
        input: [3, 4, 4]
        layers:
          - conv: {out: 8, in: 4}
    """, 4, "in")
    spec_error("""
        input: [3, 4, 4]
        layers:
          - conv: 8
          - fc:
              out: 10
              in: 8
    """, 7, "128")


# --------------------------------------------------------------------------- stages

def test_basic_stage_with_projection():
    net = load("""
        input: [16, 8, 8]
        defaults:
          conv: {bn: true, act: relu}
        layers:
          - stage: {block: basic, out: 32, stride: 2, repeat: 2}
    """)
    assert shapes(net) == [
        ("stage1.0.conv1", (32, 4, 4)), ("stage1.0.conv2", (32, 4, 4)), ("stage1.0.shortcut", (32, 4, 4)),
        ("stage1.0.add", (32, 4, 4)),
        ("stage1.1.conv1", (32, 4, 4)), ("stage1.1.conv2", (32, 4, 4)), ("stage1.1.add", (32, 4, 4))]
    conv1, conv2, short, add = net.layers[:4]
    assert conv1.kernel == (3, 3) and conv1.stride == (2, 2) and conv1.act == "relu" and conv1.bn
    assert conv2.stride == (1, 1) and conv2.act is None  # the activation comes after the addition
    assert short.kernel == (1, 1) and short.stride == (2, 2) and short.in_shape == (16, 8, 8) and short.act is None
    assert isinstance(add, Add) and add.act == "relu"
    # block 0: conv1 <- input, conv2 <- conv1, shortcut <- input, add <- (conv2, shortcut); block 1: identity
    assert net.edges == ((INPUT,), (0,), (INPUT,), (1, 2), (3,), (4,), (5, 3))


def test_basic_stage_identity_when_shape_kept():
    net = load("""
        input: [16, 8, 8]
        layers:
          - stage: {block: basic, out: 16, repeat: 2, name: s}
    """)
    assert [x.name for x in net.layers] == ["s.0.conv1", "s.0.conv2", "s.0.add", "s.1.conv1", "s.1.conv2", "s.1.add"]
    assert not any("shortcut" in x.name for x in net.layers)


def test_bottleneck_stage():
    net = load("""
        input: [64, 8, 8]
        layers:
          - stage: {block: bottleneck, width: 32, out: 128, stride: 2, repeat: 2}
    """)
    assert shapes(net) == [
        ("stage1.0.conv1", (32, 8, 8)), ("stage1.0.conv2", (32, 4, 4)), ("stage1.0.conv3", (128, 4, 4)),
        ("stage1.0.shortcut", (128, 4, 4)), ("stage1.0.add", (128, 4, 4)),
        ("stage1.1.conv1", (32, 4, 4)), ("stage1.1.conv2", (32, 4, 4)), ("stage1.1.conv3", (128, 4, 4)),
        ("stage1.1.add", (128, 4, 4))]
    k = [c.kernel[0] for c in net.convs]
    assert k == [1, 3, 1, 1, 1, 3, 1]
    assert net.layers[1].stride == (2, 2)  # v1.5: the stride sits on the 3x3


def test_bottleneck_default_width_is_a_quarter():
    net = load("""
        input: [64, 8, 8]
        layers:
          - stage: {block: bottleneck, out: 256}
    """)
    assert net.layers[0].out_shape[0] == 64
    assert net.layers[3].name == "stage1.0.shortcut"  # 64 -> 256 channels: a projection


def test_zero_pad_stage_has_no_shortcut_layer():
    net = load("""
        input: [16, 8, 8]
        layers:
          - stage: {block: basic, out: 32, stride: 2, repeat: 2, shortcut: zero_pad}
    """)
    assert [x.name for x in net.layers] == ["stage1.0.conv1", "stage1.0.conv2", "stage1.0.add",
                                            "stage1.1.conv1", "stage1.1.conv2", "stage1.1.add"]
    assert net.layers[2].out_shape == (32, 4, 4)


def test_zero_pad_stage_cannot_drop_channels():
    spec_error("""
        input: [32, 8, 8]
        layers:
          - stage: {block: basic, out: 16, shortcut: zero_pad}
    """, 4, "zero_pad")


def test_stage_errors():
    spec_error("""
        input: [16, 8, 8]
        layers:
          - stage: {block: wide, out: 16}
    """, 4, "block")
    spec_error("""
        input: [16, 8, 8]
        layers:
          - stage: {block: basic, out: 16, width: 4}
    """, 4, "width")
    spec_error("""
        input: [16, 8, 8]
        layers:
          - stage: {out: 16}
    """, 4, "block")
    spec_error("""
        input: [16, 8, 8]
        layers:
          - stage: {block: basic, out: 16, shortcut: identity}
    """, 4, "shortcut")


def test_two_stages_get_their_own_names():
    net = load("""
        input: [8, 8, 8]
        layers:
          - stage: {block: basic, out: 8}
          - stage: {block: basic, out: 8}
    """)
    assert [x.name for x in net.layers] == ["stage1.0.conv1", "stage1.0.conv2", "stage1.0.add",
                                            "stage2.0.conv1", "stage2.0.conv2", "stage2.0.add"]


# --------------------------------------------------------------------------- generic residual

def test_residual_identity():
    net = load("""
        input: [8, 8, 8]
        layers:
          - conv: 8
          - residual:
              body:
                - conv: 8
                - conv: {out: 8, act: none}
              act: relu
    """)
    assert [x.name for x in net.layers] == ["conv1", "res1.conv1", "res1.conv2", "res1.add"]
    assert net.layers[3].act == "relu"
    assert net.edges == ((INPUT,), (0,), (1,), (2, 0))


def test_residual_projection_shortcut():
    net = load("""
        input: [8, 8, 8]
        layers:
          - residual:
              name: down
              body:
                - conv: {out: 16, stride: 2}
                - conv: 16
              shortcut:
                - conv: {out: 16, kernel: 1, stride: 2}
    """)
    assert shapes(net) == [("down.conv1", (16, 4, 4)), ("down.conv2", (16, 4, 4)),
                           ("down.shortcut.conv1", (16, 4, 4)), ("down.add", (16, 4, 4))]
    assert net.edges == ((INPUT,), (0,), (INPUT,), (1, 2))


def test_residual_zero_pad_and_repeat():
    net = load("""
        input: [8, 8, 8]
        layers:
          - residual: {body: [conv: {out: 16, stride: 2}], shortcut: zero_pad}
          - residual: {body: [conv: 16, conv: 16], repeat: 2}
    """)
    assert [x.name for x in net.layers] == ["res1.conv1", "res1.add", "res2.conv1", "res2.conv2", "res2.add",
                                            "res3.conv1", "res3.conv2", "res3.add"]
    assert net.layers[-1].out_shape == (16, 4, 4)


def test_named_residual_with_repeat_keeps_its_name():
    net = load("""
        input: [8, 8, 8]
        layers:
          - residual: {name: blk, repeat: 2, body: [conv: 8, conv: 8]}
    """)
    names = [x.name for x in net.layers]
    assert len(names) == len(set(names)) == 6
    assert all(name.startswith("blk") for name in names)


def test_named_layer_inside_repeated_residual_never_crashes():
    text = """
        input: [8, 8, 8]
        layers:
          - residual: {repeat: 2, body: [conv: {out: 8, name: a}]}
    """
    try:
        net = load(text)
    except SpecError as err:  # given names are global: the second block reuses 'a'
        assert str(err).startswith("x.yaml:4:")
    else:
        names = [x.name for x in net.layers]
        assert len(names) == len(set(names))


def test_nested_residual_and_stage_in_body():
    net = load("""
        input: [8, 8, 8]
        layers:
          - residual:
              body:
                - residual: {body: [conv: 8]}
                - stage: {block: basic, out: 8}
    """)
    names = [x.name for x in net.layers]
    assert names == ["res1.res1.conv1", "res1.res1.add", "res1.stage1.0.conv1", "res1.stage1.0.conv2",
                     "res1.stage1.0.add", "res1.add"]


def test_residual_shape_mismatch():
    spec_error("""
        input: [8, 8, 8]
        layers:
          - residual:
              body:
                - conv: 16
    """, None, "residual")
    spec_error("""
        input: [8, 8, 8]
        layers:
          - residual:
              body:
                - conv: {out: 16, stride: 2}
              shortcut:
                - conv: {out: 16, kernel: 1}
    """, 8, "16x4x4", "16x8x8")
    spec_error("""
        input: [8, 8, 8]
        layers:
          - residual: {body: [conv: 4], shortcut: zero_pad}
    """, 4, "zero_pad")


def test_residual_needs_body():
    spec_error("""
        input: [8, 8, 8]
        layers:
          - residual: {shortcut: identity}
    """, 4, "body")
    spec_error("""
        input: [8, 8, 8]
        layers:
          - residual: {body: []}
    """, 4)


def test_residual_into_analyze_latency():
    """The generic residual builds the same network as the equivalent stage."""
    a = load("""
        input: [8, 8, 8]
        defaults: {conv: {bn: true, act: relu}}
        layers:
          - conv: 16
          - residual:
              body: [conv: 16, conv: {out: 16, act: none}]
              act: relu
          - avgpool: global
          - fc: 10
    """)
    b = load("""
        input: [8, 8, 8]
        defaults: {conv: {bn: true, act: relu}}
        layers:
          - conv: 16
          - stage: {block: basic, out: 16}
          - avgpool: global
          - fc: 10
    """)
    ra, rb = hetcalc.analyze(a), hetcalc.analyze(b)
    for va, vb in zip(ra.variants, rb.variants):
        assert (va.flops, va.params, va.latency_depth) == (vb.flops, vb.params, vb.latency_depth)


# --------------------------------------------------------------------------- the built-in specs

def test_builtin_specs_load():
    from hetcalc.architectures import builtin_path
    vgg = hetcalc.load_spec_file(builtin_path("vgg16"))
    assert [c.name for c in vgg.convs] == [f"conv{i}" for i in range(1, 14)]
    assert [x.name for x in vgg.layers if isinstance(x, Linear)] == ["fc1", "fc2"]
    assert vgg.name == "vgg16" and vgg.source.endswith("vgg16.yaml")
    r34 = hetcalc.load_spec_file(builtin_path("resnet34"))
    assert len(r34.convs) == 1 + 32 + 3
    assert sum(isinstance(x, Add) for x in r34.layers) == 16
    r56 = hetcalc.load_spec_file(builtin_path("resnet56"))
    assert len(r56.convs) == 55 and all(c.K == 3 for c in r56.convs)
    mob = hetcalc.load_spec_file(builtin_path("mobilenet"))
    assert [c.out_shape[1] for c in mob.convs] == [32, 32, 16, 16, 8, 8, 4, 4, 4, 4, 4, 4, 2, 2]


# --------------------------------------------------------------------------- bad specs: YAML level

def test_yaml_syntax_error():
    spec_error("input: [3, 32, 32\nlayers: [conv: 4]\n", 2, "YAML")
    spec_error("input: [3, 32, 32]\nlayers:\n  - conv: {out: 4\n", None, "YAML")


def test_tab_indentation():
    spec_error("input: [3, 32, 32]\nlayers:\n\t- conv: 4\n", 3)


@pytest.mark.parametrize("text,line", [("- conv: 4\n", 1), ("hello\n", 1), ("42\n", 1), ("[1, 2]\n", 1)])
def test_non_mapping_document(text, line):
    spec_error(text, line, "mapping")


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_text(text):
    spec_error(text, None, "empty")


def test_empty_document_after_marker():
    spec_error("---\n", None, "mapping")


def test_duplicate_keys():
    spec_error("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, out: 8}\n", 3, "duplicate")
    spec_error("input: [3, 8, 8]\ninput: [3, 4, 4]\nlayers: [conv: 4]\n", 2, "duplicate")
    spec_error("input: [3, 8, 8]\nlayers:\n  - conv:\n      out: 4\n      kernel: 3\n      kernel: 1\n", 6,
               "duplicate")


@pytest.mark.parametrize("text,line", [
    ("input: !!python/object/apply:os.system ['true']\nlayers: [conv: 4]\n", 1),
    ("input: [3, 8, 8]\nlayers: [conv: !!python/name:os.system 4]\n", 2),
    ("--- !!python/object:collections.OrderedDict\ninput: [3, 8, 8]\nlayers: [conv: 4]\n", 1),
    ("input: [3, 8, 8]\nlayers:\n  - conv: !!python/object/new:int [4]\n", 3),
    ("input: [3, 8, 8]\nlayers:\n  - conv: !!python/tuple [4]\n", 3),
])
def test_python_tags_are_refused(text, line):
    spec_error(text, line, "python")


def test_alias_bomb():
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 10) + "]")
    spec_error("\n".join(lines) + "\n")


def test_alias_bomb_inside_a_spec():
    lines = ["input: [3, 8, 8]", "layers:", "  - conv: {out: 4, name: &a xxxxxxxxxx}"]
    text = "\n".join(lines) + "\n"
    load(text)  # a harmless alias
    bomb = ["input: [3, 8, 8]", "defaults:", "  conv: &x0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    for i in range(1, 9):
        bomb.append(f"  c{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]")
    bomb.append("layers: [conv: 4]")
    spec_error("\n".join(bomb) + "\n")


def test_merge_key_bomb():
    text = "{k0: 1, k1: 2}"
    for i in range(40):
        text = "{<<: [&m%d %s, *m%d]}" % (i, text, i)
    spec_error("x: " + text + "\n")


def test_merge_keys_and_overrides():
    net = load("""
        input: [3, 8, 8]
        layers:
          - conv: &base {out: 4, kernel: 3, bn: true}
          - conv: {<<: *base, out: 8}
    """)
    assert net.layers[1].out_shape[0] == 8 and net.layers[1].bn is True
    spec_error("input: [3, 8, 8]\nlayers:\n  - conv: {<<: 5, out: 4}\n", 3)


@pytest.mark.parametrize("depth", [65, 100, 3000])
def test_deep_nesting(depth):
    spec_error("input: [3, 8, 8]\nlayers: " + "[" * depth + "]" * depth + "\n", None, "nesting")


def test_deep_nesting_of_mappings():
    text = "input: [3, 8, 8]\nlayers: " + "{a: " * 200 + "1" + "}" * 200 + "\n"
    spec_error(text, None, "nesting")


def test_nul_byte():
    spec_error("input: [3, 8, 8]\x00\nlayers: [conv: 4]\n")


# --------------------------------------------------------------------------- bad specs: keys and types

@pytest.mark.parametrize("text,line,suggestion", [
    ("input: [3, 8, 8]\nlayer: [conv: 4]\n", 2, "layers"),
    ("inputs: [3, 8, 8]\nlayers: [conv: 4]\n", 1, "input"),
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernal: 3}\n", 3, "kernel"),
    ("input: [3, 8, 8]\nlayers:\n  - conv:\n      out: 4\n      strid: 2\n", 5, "stride"),
    ("input: [3, 8, 8]\nlayers:\n  - fc: {out: 4, bais: false}\n", 3, "bias"),
    ("input: [3, 8, 8]\nlayers:\n  - maxpool: {kernl: 2}\n", 3, "kernel"),
    ("input: [8, 8, 8]\nlayers:\n  - stage: {block: basic, out: 8, repeats: 2}\n", 3, "repeat"),
    ("input: [8, 8, 8]\nlayers:\n  - residual: {bodi: [conv: 8]}\n", 3, "body"),
    ("input: [3, 8, 8]\ndefaults: {conv: {biass: true}}\nlayers: [conv: 4]\n", 2, "bias"),
])
def test_unknown_key_did_you_mean(text, line, suggestion):
    spec_error(text, line, "unknown key", f"did you mean '{suggestion}'")


@pytest.mark.parametrize("entry", [
    "conv: {out: '64'}", "conv: '64'", "conv: 64.0", "conv: 2.5", "conv: {out: true}", "conv: {out: yes}",
    "conv: {out: null}", "conv: {out: ~}", "conv: {out: [4]}",
    "conv: {out: 4, kernel: '3'}", "conv: {out: 4, kernel: 3.0}", "conv: {out: 4, stride: 1.5}",
    "conv: {out: 4, padding: false}", "conv: {out: 4, groups: true}", "conv: {out: 4, repeat: '2'}",
    "conv: {out: 4, repeat: 2.0}", "conv: {out: 4, bias: 'true'}", "conv: {out: 4, bias: 1}",
    "conv: {out: 4, bn: null}", "conv: {out: 4, act: 5}", "conv: {out: 4, act: relu7}",
    "conv: {out: 4, name: 5}", "conv: {out: 4, name: ''}", "conv: {out: 4, in: '3'}",
    "conv: {out: 4, kernel: [3, 3, 3]}", "conv: {out: 4, kernel: [3, '1']}",
    "fc: {out: '10'}", "fc: {out: 10, act: yes}", "maxpool: {kernel: 2, stride: '2'}",
    "maxpool: {global: 1}", "avgpool: glob",
])
def test_wrong_types(entry):
    spec_error(f"input: [3, 8, 8]\nlayers:\n  - {entry}\n", 3)


@pytest.mark.parametrize("value", ["'3'", "3.0", "true", "null", "[3]"])
def test_wrong_input_types(value):
    spec_error(f"input: [{value}, 8, 8]\nlayers: [conv: 4]\n", 1, "input")


@pytest.mark.parametrize("input_", ["[3, 8]", "[3, 8, 8, 8]", "3", "'3x8x8'", "{c: 3}"])
def test_input_must_be_three_values(input_):
    spec_error(f"input: {input_}\nlayers: [conv: 4]\n", 1, "input")


@pytest.mark.parametrize("entry", [
    "conv: 0", "conv: -4", "conv: {out: 4, kernel: 0}", "conv: {out: 4, kernel: -3}", "conv: {out: 4, stride: 0}",
    "conv: {out: 4, stride: -1}", "conv: {out: 4, padding: -1}", "conv: {out: 4, groups: 0}",
    "conv: {out: 4, repeat: 0}", "conv: {out: 4, repeat: -2}", "fc: 0", "maxpool: 0", "maxpool: -2",
    "conv: {out: 4, kernel: [3, 0]}",
])
def test_zero_and_negative_values(entry):
    spec_error(f"input: [4, 8, 8]\nlayers:\n  - {entry}\n", 3)


@pytest.mark.parametrize("value", ["0", "-1"])
def test_zero_and_negative_input(value):
    spec_error(f"input: [3, {value}, 8]\nlayers: [conv: 4]\n", 1, "input")


@pytest.mark.parametrize("entry", [
    "conv: {out: 4, kernel: 3, padding: 3}",
    "conv: {out: 4, kernel: 3, padding: 5}",
    "conv: {out: 4, kernel: 1, padding: 1}",
    "conv: {out: 4, kernel: [3, 1], padding: [1, 1]}",
    "maxpool: {kernel: 2, padding: 2}",
    "maxpool: {kernel: 3, padding: 2}",
])
def test_padding_too_large(entry):
    spec_error(f"input: [4, 8, 8]\nlayers:\n  - {entry}\n", 3, "padding")


@pytest.mark.parametrize("entry", [
    "conv: {out: 4, kernel: 5, padding: 1}",            # (2 + 2 - 5) // 1 + 1 = 0
    "conv: {out: 4, kernel: [1, 5], padding: [0, 1]}",  # width as above
    "conv: {out: 4, kernel: 7, padding: 2, stride: 3}",  # (2 + 4 - 7) // 3 + 1 = 0
    "maxpool: 4",                                       # (2 - 4) // 4 + 1 = 0
    "maxpool: {kernel: 3, stride: 1}",                  # (2 - 3) // 1 + 1 = 0
    "avgpool: {kernel: [1, 3]}",
])
def test_output_size_below_one(entry):
    spec_error(f"input: [4, 2, 2]\nlayers:\n  - {entry}\n", 3)


@pytest.mark.parametrize("entry,out", [
    ("conv: {out: 4, kernel: 5}", (4, 2, 2)),                       # (2 + 4 - 5) // 1 + 1 = 2
    ("conv: {out: 4, kernel: 4, padding: 1}", (4, 1, 1)),          # (2 + 2 - 4) // 1 + 1 = 1
    ("conv: {out: 4, kernel: 3, padding: 1, stride: 5}", (4, 1, 1)),
    ("maxpool: 2", (4, 1, 1)),
])
def test_output_size_exactly_one_is_fine(entry, out):
    assert load(f"input: [4, 2, 2]\nlayers:\n  - {entry}\n  - fc: 1\n").layers[0].out_shape == out


def test_output_size_below_one_later_in_the_network():
    spec_error("""
        input: [3, 8, 8]
        layers:
          - conv: {out: 4, stride: 2}
          - conv: {out: 4, stride: 2}
          - maxpool: 2
          - maxpool: 2
    """, 7, "below 1")


@pytest.mark.parametrize("in_ch,entry", [
    (3, "conv: {out: 4, groups: 2}"),
    (4, "conv: {out: 6, groups: 4}"),
    (6, "conv: {out: 4, groups: 4}"),
    (4, "conv: {out: 4, groups: 8}"),
])
def test_groups_must_divide_channels(in_ch, entry):
    spec_error(f"input: [{in_ch}, 8, 8]\nlayers:\n  - {entry}\n", 3, "groups")


def test_groups_that_divide_are_fine():
    net = load("""
        input: [8, 8, 8]
        layers:
          - conv: {out: 16, groups: 4}
          - conv: {out: 16, groups: 16}
    """)
    assert [c.groups for c in net.convs] == [4, 16]


@pytest.mark.parametrize("entry", ["convolution: 4", "dropout: 0.5", "Conv: 4", "batchnorm", "5: 4"])
def test_unknown_layer_type(entry):
    spec_error(f"input: [3, 8, 8]\nlayers:\n  - {entry}\n", 3, "layer type")


def test_unknown_layer_type_suggests():
    spec_error("input: [3, 8, 8]\nlayers:\n  - convolution: 4\n", 3, "did you mean 'conv'")


def test_unknown_layer_type_lists_every_type_in_the_documented_order():
    spec_error("input: [3, 8, 8]\nlayers:\n  - xyz: 4\n", 3,
               "(known: conv, fc, maxpool, avgpool, stage, residual, concat, add, mul, bn, act, se, upsample, pad, "
               "slice, reshape, flatten, norm, matmul)")


def test_every_layer_type_has_one_handler():
    from hetcalc.network.spec import LAYER_TYPES
    from hetcalc.network.spec.builder import ENTRIES, entry

    assert sorted(ENTRIES) == sorted(LAYER_TYPES)
    with pytest.raises(ValueError, match="dropout"):
        entry("dropout")


@pytest.mark.parametrize("text,line", [
    ("input: [3, 8, 8]\nlayers:\n  - conv: 4\n    bn: true\n", 3),   # options not indented under the type
    ("input: [3, 8, 8]\nlayers:\n  - 5\n", 3),
    ("input: [3, 8, 8]\nlayers:\n  - [conv, 4]\n", 3),
    ("input: [3, 8, 8]\nlayers: []\n", 2),
    ("input: [3, 8, 8]\nlayers: conv\n", 2),
    ("input: [3, 8, 8]\nlayers:\n  - residual: 5\n", 3),
    ("input: [3, 8, 8]\nlayers:\n  - conv\n", 3),
    ("input: [3, 8, 8]\nlayers:\n  - fc: {act: relu}\n", 3),
])
def test_malformed_layer_entries(text, line):
    spec_error(text, line)


@pytest.mark.parametrize("text,line", [
    ("input: [3, 8, 8]\n", 1),
    ("layers: [conv: 4]\n", 1),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\ndefaults: [conv]\n", 3),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\ndefaults: {pool: {bias: true}}\n", 3),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\ndefaults: {conv: {bias: 1}}\n", 3),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\ndefaults: {conv: {out: 4}}\n", 3),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\nname: 5\n", 3),
    ("input: [3, 8, 8]\nlayers: [conv: 4]\ndescription: [a]\n", 3),
])
def test_bad_top_level(text, line):
    spec_error(text, line)


def test_error_column_is_reported():
    err = spec_error("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: -3}\n", 3)
    assert err.column is not None and err.column > 1
    assert str(err).startswith(f"x.yaml:3:{err.column}:")


def test_spec_error_is_a_hetcalc_error():
    assert issubclass(SpecError, hetcalc.HetcalcError)


# --------------------------------------------------------------------------- fuzz: never another exception

_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 9), st.floats(allow_nan=False, allow_infinity=False),
                    st.text(max_size=5), st.sampled_from(["global", "relu", "none", "zero_pad", "identity", "basic",
                                                          "bottleneck", "projection"]),
                    st.lists(st.integers(-1, 5), max_size=3))
_keys = st.sampled_from(["out", "in", "kernel", "stride", "padding", "groups", "bias", "bn", "act", "repeat", "name",
                         "global", "block", "width", "shortcut", "body", "replace"])
_kinds = st.sampled_from(["conv", "fc", "maxpool", "avgpool", "stage", "residual"])


@settings(max_examples=150, deadline=None)
@given(entries=st.lists(st.tuples(_kinds, st.dictionaries(_keys, _values, max_size=4)), min_size=1, max_size=4),
       size=st.integers(1, 16))
def test_fuzzed_specs_raise_only_spec_error(entries, size):
    import json
    layers = [{kind: opts} for kind, opts in entries]
    text = json.dumps({"input": [4, size, size], "layers": layers})  # JSON is YAML
    try:
        load_spec_text(text, source="x.yaml")
    except SpecError as err:
        assert str(err).startswith("x.yaml")
        assert "\n" not in str(err)
