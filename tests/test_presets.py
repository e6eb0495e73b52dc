"""`--convention` presets and the counting terms they use, without torch.

Expected values: the figures the pinned tools print for ResNet-50 v1.5 at 224 x 224 (issue 11, measured with
fvcore 0.1.5, ptflops 0.7.5, thop 0.1.1, torchinfo 1.8.0, torch 2.13), and hand counts of a small network.
tests/test_peer_tools.py runs the tools themselves where torch is installed.
"""

import json

import pytest

import hetcalc
from hetcalc.analysis.reconcile import term_label
from hetcalc.counting import (ALL_OPS, COUNTING_TERMS, KIND_OPS, OP_RULES, OPS, PRESETS, TERMS, Convention, Term,
                              get_preset, preset_convention)
from hetcalc.core.errors import OptionError

RESNET50 = {"paper": 4_089_184_256, "fvcore": 4_111_512_576, "ptflops-pytorch": 4_132_436_968,
            "ptflops-aten": 4_089_185_256, "thop": 4_133_742_592, "torchinfo": 4_089_238_376,
            "flopcounter": 8_178_368_512}

# conv 3->8 (3x3, pad 1, bias) + BN + ReLU on 8x8; maxpool 2; conv 8->16 (no bias) + BN + relu6;
# avgpool 2 (4x4 -> 2x2); global avgpool; FC 16 -> 10 with bias
TINY = {"name": "tiny", "input": [3, 8, 8], "layers": [
    {"conv": {"out": 8, "bias": True, "bn": True, "act": "relu"}},
    {"maxpool": 2},
    {"conv": {"out": 16, "bn": True, "act": "relu6"}},
    {"avgpool": 2},
    {"avgpool": "global"},
    {"fc": 10}]}
MACS = 8 * 3 * 9 * 64 + 16 * 8 * 9 * 16 + 16 * 10
BIAS = 8 * 64 + 10  # conv1's outputs, the FC's outputs
BN = 8 * 64 + 16 * 16  # BatchNorm elements
BN_PARAMS = 2 * (8 + 16)
RELU, RELU6 = 8 * 64, 16 * 16
POOL_IN = 8 * 64 + 16 * 16 + 16 * 4  # every pool's input
GAP_IN = 16 * 4  # the global pool's input
AVG_OUT = 16 * 4 + 16  # average pools' outputs
PARAMS = 8 * 27 + 8 + 16 * 72 + 10 * 16 + 10 + 2 * (8 + 16)


@pytest.mark.parametrize("name", list(RESNET50))
def test_resnet50_figures_of_the_tools(name):
    result = hetcalc.analyze("resnet50", convention=name, variants="standard").standard
    assert result.flops == RESNET50[name]
    assert result.params == 25_557_032  # torchvision's resnet50, as every tool that counts parameters says


def test_tiny_network_by_hand():
    expected = {
        "paper": MACS,
        "fvcore": MACS + 2 * BN + GAP_IN,
        "ptflops-pytorch": MACS + BIAS + 2 * BN + 2 * RELU + RELU6 + 2 * POOL_IN,
        "ptflops-aten": MACS + BIAS,
        "thop": MACS + 4 * BN + GAP_IN + AVG_OUT,
        "torchinfo": MACS + BIAS + BN_PARAMS,
        "flopcounter": 2 * MACS,
    }
    for name, flops in expected.items():
        result = hetcalc.analyze(TINY, convention=name, variants="standard").standard
        assert (name, result.flops, result.params) == (name, flops, PARAMS)


@pytest.mark.parametrize("op, count", [("bn-norm", 2 * BN), ("bn-params", BN_PARAMS), ("pool-in", POOL_IN),
                                       ("gap-in", GAP_IN), ("avg-div", AVG_OUT), ("act:relu", RELU),
                                       ("act:relu6", RELU6), ("act:sigmoid", 0), ("act", RELU + RELU6)])
def test_each_new_term_by_hand(op, count):
    base = hetcalc.analyze(TINY, variants="standard").standard.flops
    assert hetcalc.analyze(TINY, variants="standard", ops=(op,)).standard.flops == base + count
    assert hetcalc.analyze(TINY, variants="standard", ops=(op, op)).standard.flops == base + 2 * count


def test_every_term_has_a_rule():
    assert set(TERMS) == set(OP_RULES)


def test_the_term_names_come_from_the_rows():
    assert TERMS == OPS + KIND_OPS == tuple(COUNTING_TERMS)
    assert ALL_OPS == ("bias", "output", "bn", "act", "pool", "add", "se")  # the rows marked in_all, not a prefix
    assert all(term.rule and term.label for term in COUNTING_TERMS.values())


def test_a_new_term_is_one_row(monkeypatch):
    """A term added as one row (here test-locally) is accepted, counted, stated and labelled like the others."""
    row = Term("bias-params", False, "one operation per bias parameter, once per layer", "bias parameters",
               lambda piece, with_output: piece.biases)
    monkeypatch.setitem(COUNTING_TERMS, row.name, row)
    convention = Convention(ops="bias-params, bn, BIAS-PARAMS")
    assert convention.ops == ("bn", "bias-params", "bias-params")  # canonical order: the rows' order
    assert convention.summary() == "MACs + bn + 2 bias-params"
    assert "Plus one operation per bias parameter, once per layer, counted 2 times." in convention.rules()
    base = hetcalc.analyze(TINY, variants="standard").standard.flops
    biases = 8 + 10  # conv1's, the FC's
    counted = hetcalc.analyze(TINY, variants="standard", convention=convention).standard
    assert counted.flops == base + 2 * BN + 2 * biases
    assert hetcalc.analyze(TINY, variants="standard", ops="bias-params").standard.flops == base + biases
    assert Convention(ops="all").ops == ALL_OPS  # not in_all
    assert term_label("bias-params") == "bias parameters"

    monkeypatch.setitem(COUNTING_TERMS, row.name, Term(row.name, True, row.rule, row.label, row.count))
    assert Convention(ops="all").ops == (*ALL_OPS, "bias-params")
    with pytest.raises(OptionError, match=r"known: bias, output, .*, avg-div, .*, norm-params, bias-params, act:KIND"):
        Convention(ops="bias-param")


def test_global_and_fixed_average_pools_differ():
    """avgpool: global (an adaptive pool in PyTorch) and avgpool: 4 on a 4x4 map have the same shapes."""
    spec = {"name": "p", "input": [4, 4, 4], "layers": [{"avgpool": "global"}, {"fc": 2}]}
    fixed = {"name": "p", "input": [4, 4, 4], "layers": [{"avgpool": 4}, {"fc": 2}]}
    assert hetcalc.analyze(spec, convention="fvcore").standard.flops == 8 + 64
    assert hetcalc.analyze(fixed, convention="fvcore").standard.flops == 8
    assert hetcalc.analyze(spec, convention="thop").standard.flops == 8 + 64 + 4
    assert hetcalc.analyze(fixed, convention="thop").standard.flops == 8 + 4


def test_presets_keep_the_replacement_rules():
    conv = preset_convention("thop", replace_first=True, hetconv="ratio")
    assert conv.replace_first and conv.hetconv == "ratio" and conv.preset == "thop"
    assert conv.rules()[0].startswith("Convention 'thop': reproduces thop 0.1.1")
    assert conv.summary().startswith("as thop; MACs + bn + bn-norm")


def test_every_variant_under_a_preset_adds_its_terms():
    plain = hetcalc.analyze("vgg16", P=4)
    counted = hetcalc.analyze("vgg16", P=4, ops=("bias", "bn", "act", "act", "pool-in", "pool-in"))
    preset = hetcalc.analyze("vgg16", P=4, convention="ptflops-pytorch")  # vgg16 has only ReLU
    for a, b, c in zip(plain.variants, counted.variants, preset.variants):
        assert b.flops == c.flops > a.flops == a.macs


@pytest.mark.parametrize("bad", ["bogus", "", "fv core", None, 3, ["fvcore"]])
def test_unknown_preset_is_one_clear_error(bad):
    with pytest.raises(hetcalc.OptionError, match="unknown convention"):
        get_preset(bad)


def test_preset_names_are_case_and_space_tolerant():
    assert get_preset("  FVCORE ") is PRESETS["fvcore"]


def test_a_preset_label_must_carry_its_rules():
    with pytest.raises(hetcalc.OptionError, match="names rules these are not"):
        hetcalc.Convention(preset="fvcore")
    with pytest.raises(hetcalc.OptionError, match="sets the counting rules"):
        preset_convention("fvcore", ops=("act",))
    with pytest.raises(hetcalc.OptionError, match="unknown operation 'act:swish'"):
        hetcalc.Convention(ops=("act:swish",))


# --------------------------------------------------------------------------- CLI

def test_cli_convention_reaches_the_json(run):
    result = run("resnet50", "--convention", "torchinfo", "--variants", "standard", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["convention"]["preset"] == "torchinfo"
    assert data["convention"]["ops"] == ["bias", "bn-params", "fc-once", "no-products", "norm-params"]
    assert data["convention"]["rules"][0].startswith("Convention 'torchinfo'")
    assert data["variants"][0]["flops"] == RESNET50["torchinfo"]


def test_cli_table_names_the_preset(run):
    result = run("resnet56", "--convention", "fvcore", "--summary-only", "--rules")
    assert result.exit_code == 0 and "Convention 'fvcore': reproduces fvcore 0.1.5" in result.stdout
    short = run("resnet56", "--convention", "fvcore", "--summary-only").stdout
    assert "\nRules: as fvcore, " in short


def test_sweep_takes_a_convention(run):
    result = run("sweep", "resnet56", "--P", "2", "--convention", "flopcounter", "--format", "json")
    assert result.exit_code == 0, result.output
    plain = run("sweep", "resnet56", "--P", "2", "--format", "json")
    assert result.stdout != plain.stdout and "flopcounter" in result.stdout


@pytest.mark.parametrize("args, message", [
    (("--convention", "bogus"), "unknown convention 'bogus' (known: paper, fvcore"),
    (("--convention", ""), "unknown convention ''"),
    (("--convention", "thop", "--ops", "act"), "--convention thop sets the counting rules: drop --ops act"),
    (("--convention", "thop", "--flops-per-mac", "2"), "drop --flops-per-mac 2"),
    (("--ops", "act:swish"), "unknown operation 'act:swish'"),
])
def test_cli_hostile_conventions(run, args, message):
    result = run("resnet50", *args)
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and message in result.stderr, result.stderr
    assert "Traceback" not in result.output


def test_every_preset_is_documented():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "conventions.md").read_text(encoding="utf-8")
    for preset in PRESETS.values():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{preset.name}` |")), None)
        assert row is not None, f"conventions.md has no row for --convention {preset.name}"
        for op in dict.fromkeys(preset.ops):
            assert f"`{op}`" in row, (preset.name, op)
    for figure in RESNET50.values():
        assert f"{figure:,}" in text
