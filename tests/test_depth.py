"""`by="depth:N"` / `hetcalc ARCH --depth N`: rows grouping layers by the first N dot-separated parts of their
names (torchinfo's depth), at any level; sums exact, checked against hand formulas."""

from __future__ import annotations

import json

import pytest

import hetcalc

# ResNet-56's first block, stage1.0: two 3x3 convs 16 -> 16 on 32 x 32, each with BatchNorm (2 x 16 params)
CONV = 32 * 32 * 16 * 16 * 9                     # eq. 1: D_o^2 M N K^2
HET = 32 * 32 * 16 * (16 // 4 * 9 + 16 - 16 // 4)  # eqs. 2-4, P = 4: M/P kernels 3x3 and M - M/P 1x1 per filter
BLOCK_PARAMS = 2 * (16 * 16 * 9 + 2 * 16)


def rows(report, variant="standard"):
    return {r.name: r for r in report.variant(variant).layers}


def test_depth_two_is_the_residual_block():
    report = hetcalc.analyze("resnet56", P=4, by="depth:2")
    assert report.by == "depth:2"
    block = rows(report)["stage1.0"]
    assert (block.count, block.flops, block.params) == (3, 2 * CONV, BLOCK_PARAMS)  # conv1, conv2, add
    assert rows(report, "hetconv")["stage1.0"].flops == 2 * HET
    assert len(report.standard.layers) == 1 + 27 + 2  # conv1, 27 blocks, pool, fc


def test_depth_one_is_the_stage_and_deeper_levels_are_the_layers():
    one = rows(hetcalc.analyze("resnet56", P=4).by_depth(1))
    assert one["stage1"].count == 27 and one["stage1"].flops == 9 * 2 * CONV
    layers = hetcalc.analyze("resnet56", P=4)
    three = layers.by_depth(3)
    assert three.standard.layers == layers.standard.layers  # no name has more than three parts: one row each
    assert layers.by_depth(7).standard.layers == layers.standard.layers


def test_any_level_of_a_deeper_hierarchy_sums_exactly():
    spec = {"input": [8, 16, 16], "layers": [
        {"conv": {"out": 8, "name": "stem"}},
        {"conv": {"out": 8, "name": "enc.down.a.conv"}},
        {"conv": {"out": 8, "name": "enc.down.a.conv2"}},
        {"conv": {"out": 8, "name": "enc.down.b.conv"}},
        {"conv": {"out": 8, "name": "enc.up.conv"}},
        {"fc": {"out": 4, "name": "head"}}]}
    conv = 16 * 16 * 8 * 8 * 9
    report = hetcalc.analyze(spec, P=2, variants="standard")
    expected = {1: {"stem": conv, "enc": 4 * conv, "head": 8 * 16 * 16 * 4},
                2: {"stem": conv, "enc.down": 3 * conv, "enc.up": conv, "head": 8 * 16 * 16 * 4},
                3: {"stem": conv, "enc.down.a": 2 * conv, "enc.down.b": conv, "enc.up.conv": conv,
                    "head": 8 * 16 * 16 * 4}}
    for depth, flops in expected.items():
        grouped = report.by_depth(depth)
        assert {r.name: r.flops for r in grouped.standard.layers} == flops, depth
        assert grouped.standard.flops == report.standard.flops
        assert sum(r.params for r in grouped.standard.layers) == report.standard.params


@pytest.mark.parametrize("by", ["depth:0", "depth:", "depth:x", "depth", 2])
def test_a_bad_by_is_an_option_error(by):
    with pytest.raises(hetcalc.OptionError, match="by must be 'layer', 'stage' or 'depth:N'"):
        hetcalc.analyze("resnet56", by=by)


def test_a_grouped_report_is_not_regrouped():
    with pytest.raises(hetcalc.OptionError, match="cannot be regrouped"):
        hetcalc.analyze("resnet56", by="stage").by_depth(2)


def test_cli_depth(run):
    result = run("resnet56", "--depth", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["by"] == "depth:2"
    block = next(r for r in data["variants"][0]["layers"] if r["name"] == "stage1.0")
    assert (block["flops"], block["count"]) == (2 * CONV, 3)
    text = run("resnet56", "--depth", "1").stdout
    assert "FLOPs by name, depth:1" in text and "group" in text
    bad = run("resnet56", "--depth", "2", "--by", "stage")
    assert bad.exit_code == 2 and "--depth 2 groups the per-layer rows" in bad.output
