"""`hetcalc reconcile`: every tool's terms add up to its figure; the table is pinned by a golden file."""

import csv
import io
import json

import pytest

import hetcalc
from hetcalc.counting import PRESETS
from hetcalc.analysis.reconcile import reconcile
from hetcalc.views.reconcile_views import RECONCILE_FIELDS, reconcile_grid

VARIANTS = ("standard", "hetconv", "gwc_pwc", "dwc_pwc")


@pytest.mark.parametrize("arch", hetcalc.builtin_names())
def test_terms_add_up_for_every_architecture_and_variant(arch):
    for variant in VARIANTS:
        P = "M" if arch == "resnet56" else 4
        rec = reconcile(arch, variant=variant, P=P)
        assert [t.preset.name for t in rec.tools] == [p.name for p in PRESETS.values() if not p.table]
        for tool in rec.tools:
            assert sum(t.count * t.times for t in tool.terms) == tool.figure
            report = hetcalc.analyze(arch, P=P, variants=variant, convention=tool.preset.name)
            assert tool.figure == report.variant(variant).flops
        assert rec.paper.figure == rec.paper.terms[0].count  # the paper: MACs and nothing else


def test_resnet50_terms_by_hand():
    rec = reconcile("resnet50")
    terms = {t.preset.name: {term.term: (term.count, term.times) for term in t.terms} for t in rec.tools}
    assert terms["ptflops-pytorch"]["act:relu"][1] == 2 and terms["ptflops-pytorch"]["pool-in"][1] == 2
    assert terms["flopcounter"] == {"macs": (4_089_184_256, 2)}
    assert terms["torchinfo"]["bias"] == (1000, 1)  # the FC's bias; the convolutions have none
    assert terms["torchinfo"]["bn-params"] == (53_120, 1)  # 2 x the BatchNorm channels of torchvision's resnet50
    assert terms["fvcore"]["gap-in"] == (2048 * 7 * 7, 1)
    assert [t.params for t in rec.tools] == [25_557_032] * 6 + [None]


def test_table_shows_every_figure_and_adds_up():
    rec = reconcile("resnet56")
    grid = reconcile_grid(rec)
    figures = [row for row in grid.rows if row[1].startswith("= figure")]
    assert [int(row[4].replace(",", "")) for row in figures] == [t.figure for t in rec.tools]
    total = 0
    for row in grid.rows:
        if row[1].startswith("= figure"):
            assert int(row[4].replace(",", "")) == total
            total = 0
        else:
            count, times, ops = (int(c.replace(",", "")) for c in (row[2], row[3], row[4]))
            assert count * times == ops
            total += ops


def test_golden_resnet50(run, golden):
    result = run("reconcile", "resnet50")
    assert result.exit_code == 0, result.output
    golden("reconcile_resnet50.txt", result.stdout)


def test_json_and_csv_agree(run):
    data = json.loads(run("reconcile", "vgg16", "--variant", "gwc", "--format", "json").stdout)
    assert data["variant"] == "gwc_pwc" and data["label"] == "GWC+PWC (G=4)"
    rows = list(csv.DictReader(io.StringIO(run("reconcile", "vgg16", "--variant", "gwc", "--format", "csv").stdout)))
    assert tuple(rows[0]) == RECONCILE_FIELDS
    for tool in data["tools"]:
        mine = [r for r in rows if r["convention"] == tool["convention"]]
        assert sum(int(r["ops"]) for r in mine) == tool["figure"] == int(mine[0]["figure"])
        assert tool["vs_paper"] == tool["figure"] - data["tools"][0]["figure"]


def test_json_keys_are_documented(run, documented_keys):
    data = json.loads(run("reconcile", "resnet56", "--format", "json").stdout)
    assert list(data) == documented_keys["reconcile"]
    assert list(data["tools"][0]) == documented_keys["tools[]"]
    assert list(data["tools"][0]["terms"][0]) == documented_keys["tools[].terms[]"]
    assert tuple(documented_keys["RECONCILE_FIELDS"]) == RECONCILE_FIELDS


def test_output_file_format_from_extension(run, tmp_path):
    out = tmp_path / "r.md"
    result = run("reconcile", "mobilenet", "--variant", "dwc_pwc", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    text = out.read_text()
    assert text.startswith("## MobileNet v1 (CIFAR-10) [mobilenet]") and "| ptflops-pytorch |" in text


@pytest.mark.parametrize("args, message", [
    (("resnet50", "--variant", "bogus"), "unknown variant 'bogus'"),
    (("resnet50", "--variant", "all"), "reconcile takes one variant"),
    (("resnet50", "--variant", ""), "no variant chosen"),
    (("nonesuch",), "unknown architecture 'nonesuch'"),
    (("resnet50", "--P", "5", "--variant", "hetconv"), "P=5 does not divide"),
    (("resnet50", "-o", "/nonexistent/dir/r.json"), "folder /nonexistent/dir does not exist"),
])
def test_hostile_input(run, args, message):
    result = run("reconcile", *args)
    assert result.exit_code != 0 and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
