"""Per-stage views and fitted tables: what a stage row shows adds up, by hand and against the layers."""

from __future__ import annotations

import csv
import io

import pytest

import hetcalc
from hetcalc.stages import stage_of
from hetcalc.tables import fit, layer_grid, natural_width, summary_grid


@pytest.fixture(scope="module", params=hetcalc.builtin_names())
def report(request):
    return hetcalc.analyze(request.param, P=4 if request.param != "mobilenet" else 8)


def test_vgg_blocks_end_where_the_resolution_changes():
    names = ["conv1", "conv2", "pool1", "conv3", "conv4", "pool2", "fc1", "fc2"]
    kinds = ["conv", "conv", "pool", "conv", "conv", "pool", "fc", "fc"]
    sizes = [(32, 32), (32, 32), (32, 32), (16, 16), (16, 16), (16, 16), (8, 8), (1, 1)]
    assert stage_of(names, kinds, sizes) == ["conv1..pool1"] * 3 + ["conv3..pool2"] * 3 + ["fc1", "fc2"]
    assert stage_of(["conv1", "stage1.0.conv1", "stage1.0.add", "fc"], ["conv", "conv", "add", "fc"],
                    [(8, 8)] * 4) == ["conv1", "stage1", "stage1", "fc"]


def test_stages_sum_to_the_totals(report):
    stages = report.by_stage()
    assert stages.by == "stage"
    for v, s in zip(report.variants, stages.variants):
        assert sum(x.flops for x in s.layers) == v.flops == s.flops
        assert sum(x.params for x in s.layers) == v.params
        assert sum(x.count for x in s.layers) == len(v.layers)
        # the stages follow one another, so their path shares add up to the latency depth
        assert sum(x.depth for x in s.layers) == v.latency_depth


def test_resnet56_stage1_by_hand():
    report = hetcalc.analyze("resnet56", P=4, by="stage")
    stage1 = next(x for x in report.standard.layers if x.name == "stage1")
    assert stage1.count == 27  # 9 blocks: conv, conv, add
    assert stage1.flops == 18 * 32 * 32 * 16 * 16 * 9  # 18 convs 3x3, 16 -> 16 on 32 x 32 (eq. 1)
    het = next(x for x in report.variant("hetconv").layers if x.name == "stage1")
    assert het.flops == 18 * 32 * 32 * 16 * (4 * 9 + 12)  # eq. 4: M/P = 4 kernels 3x3, 12 of 1x1
    assert het.closed_form == pytest.approx(1 / 4 + (3 / 4) / 9)
    gwc = next(x for x in report.variant("gwc_pwc").layers if x.name == "stage1")
    assert (stage1.depth, het.depth, gwc.depth) == (18, 18, 36)


def test_stage_exports_carry_one_row_per_stage(run):
    rows = list(csv.DictReader(io.StringIO(run("resnet50", "--by", "stage", "--format", "csv").stdout)))
    std = [r for r in rows if r["variant"] == "standard"]
    assert [r["layer"] for r in std] == ["conv1", "pool1", "stage1", "stage2", "stage3", "stage4", "pool2", "fc1"]
    assert {r["kind"] for r in std} == {"stage"} and [int(r["layers"]) for r in std] == [1, 1, 13, 17, 25, 13, 1, 1]
    assert sum(int(r["flops"]) for r in std) == 4_089_184_256  # the published ResNet-50 MACs


@pytest.mark.parametrize("width", [60, 72, 80, 100, 120, 160])
def test_fitted_grids_fit_and_hide_ratios_first(report, width):
    for grid in (layer_grid(report), summary_grid(report)):
        narrowed, hidden = fit(grid, width)
        assert natural_width(narrowed) <= width, (grid.title, natural_width(narrowed))
        if hidden:  # the ratios go first, one at a time from the right: each is shown while it fits
            ratio_columns = [c.header for c in grid.columns if c.drop == 1][::-1]
            gone = hidden[:len(ratio_columns)]
            assert gone == ratio_columns[:len(gone)]
            if len(gone) < len(ratio_columns):
                assert len(hidden) == len(gone)  # nothing else hidden while a ratio is shown
        kept = [c.header for c in narrowed.columns]
        assert len(kept) + len(hidden) == len(grid.columns)
        assert all(len(row) == len(kept) for row in narrowed.rows)
    assert fit(layer_grid(report), 1000)[1] == []  # nothing hidden when there is room


def test_names_are_shortened_only_when_nothing_else_can_go():
    report = hetcalc.analyze("resnet50", P=4)
    grid = layer_grid(report)
    narrowed, hidden = fit(grid, 60)
    assert [r[0] for r in narrowed.rows] == [r[0] for r in grid.rows]  # whole at 60 columns
    squeezed, _ = fit(grid, 48)
    names = [r[0] for r in squeezed.rows]
    assert any(n.endswith(("…", "… *")) for n in names) and natural_width(squeezed) <= 48
    assert all(len(n) <= len(max(names, key=len)) for n in names)


def test_a_timed_stage_view_sums_traffic_and_time():
    report = hetcalc.analyze("resnet56", P=4, device="a100")
    stages = report.by_stage()
    for v, s in zip(report.variants, stages.variants):
        assert sum(x.bytes for x in s.layers) == sum(x.bytes for x in v.layers)
        assert sum(x.time_s for x in s.layers) == pytest.approx(sum(x.time_s for x in v.layers), rel=1e-12)
        stage1 = next(x for x in s.layers if x.name == "stage1")
        members = [x for x in v.layers if x.name.startswith("stage1.")]
        assert stage1.intensity == pytest.approx(2 * sum(x.macs for x in members) / sum(x.bytes for x in members))
        assert stage1.bound == max(members, key=lambda x: x.time_s).bound


def test_exporter_scoped_names_stage_by_top_module_or_by_a_trunks_children():
    """ONNX node names carry the module path: ResNet's `layer1` is a stage; where one top module holds most
    layers (ConvNeXt's `features`), its children are the stages."""
    from hetcalc.analysis.stages import stage_of

    resnet = ["/conv1/Conv", "/layer1/layer1.0/conv1/Conv", "/layer1/layer1.0/Add", "/layer2/layer2.0/conv1/Conv",
              "/fc/Gemm"]
    assert stage_of(resnet, ["conv", "conv", "add", "conv", "fc"], [(8, 8)] * 5) == [
        "conv1", "layer1", "layer1", "layer2", "fc"]
    trunk = ["/features/features.0/features.0.0/Conv", "/features/features.1/features.1.0/block/block.0/Conv",
             "/features/features.1/features.1.0/Mul", "/features/features.2/features.2.1/Conv",
             "/classifier/classifier.2/Gemm"]
    assert stage_of(trunk, ["conv", "conv", "mul", "conv", "fc"], [(8, 8)] * 5) == [
        "features.0", "features.1", "features.1", "features.2", "classifier"]
