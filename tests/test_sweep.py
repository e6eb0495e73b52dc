"""Sweeps: the vectorized totals equal analyze() at every valid part, invalid parts carry their reason,
counts stay exact Python integers, and the target search matches a brute-force loop."""

from __future__ import annotations

import csv
import io
import json
from fractions import Fraction

import pytest
from click.testing import CliRunner

from hetcalc import Convention, OptionError, analyze
from hetcalc.cli import main
from hetcalc.sweep import parse_target, parse_values, sweep

TOTALS = ("flops", "params", "macs", "flops_reduction", "speedup", "params_reduction", "latency_depth",
          "added_latency", "label")
CONVENTIONS = {
    "paper": Convention(),
    "2 flops per mac": Convention(flops_per_mac=2),
    "bias, bn": Convention(ops=("bias", "bn")),
    "every op": Convention(flops_per_mac=2, ops=("bias", "output", "bn", "act", "pool", "add")),
    "first replaced": Convention(replace_first=True),  # its M = 3 leaves P = 1 only
    "keras params, no PWC bias": Convention(params="keras", pointwise_bias=False, ops=("bias",)),
}


def cli(*args):
    return CliRunner().invoke(main, list(args), prog_name="hetcalc")


def all_counts(result):
    for arch in result.architectures:
        for variant in ("standard", "hetconv", "gwc_pwc", "dwc_pwc"):
            for point in arch.points(variant):
                if point.valid:
                    yield from (point.flops, point.params, point.macs)


# --------------------------------------------------------------------------- agreement with analyze()

@pytest.mark.parametrize("name", sorted(CONVENTIONS))
def test_sweep_equals_analyze_at_every_valid_part(name):
    convention = CONVENTIONS[name]
    archs = ["resnet50", "vgg16", "mobilenet", "resnet56"]
    result = sweep(archs, P="1..64", convention=convention)
    checked = 0
    for arch in result.architectures:
        for value in arch.hetconv.valid_values():
            report = analyze(arch.architecture, P=value, G=value, convention=convention)
            for variant in ("hetconv", "gwc_pwc"):
                point = arch.point(variant, getattr(arch, variant).values.index(value))
                expected = report.variant(variant)
                assert {k: getattr(point, k) for k in TOTALS} == {k: getattr(expected, k) for k in TOTALS}
                checked += 1
            for variant in ("standard", "dwc_pwc"):
                point, expected = getattr(arch, variant), report.variant(variant)
                assert {k: getattr(point, k) for k in TOTALS} == {k: getattr(expected, k) for k in TOTALS}
    assert checked == 2 * sum(len(a.hetconv.valid_values()) for a in result.architectures)
    assert checked >= (8 if convention.replace_first else 2 * (7 + 7 + 6 + 5))


def test_sweep_with_fixed_G_and_other_architectures():
    result = sweep(["resnet34", "vgg16-imagenet"], P="pow2:1..64", G="4")
    for arch in result.architectures:
        assert arch.gwc_pwc.values == (4,)
        expected = analyze(arch.architecture, P=8, G=4)
        assert arch.point("gwc_pwc", 0).flops == expected.variant("gwc_pwc").flops
        assert arch.point("hetconv", arch.hetconv.values.index(8)).flops == expected.variant("hetconv").flops


def test_invalid_parts_are_exactly_those_analyze_refuses():
    result = sweep("resnet56", P="1..40", G="1..40")
    arch = result.architectures[0]
    for variant, option in (("hetconv", "P"), ("gwc_pwc", "G")):
        part = getattr(arch, variant)
        for index, value in enumerate(part.values):
            kwargs = {"P": 1, "G": 1, "variants": variant, option: value}
            try:
                analyze("resnet56", **kwargs)
                refused = False
            except OptionError:
                refused = True
            assert (part.flops[index] is None) == refused, (variant, value)
            assert bool(part.reasons[index]) == refused
    point = arch.point("hetconv", 2)  # P = 3
    assert not point.valid and point.flops is None
    assert point.reason == "P=3 does not divide M=16 of stage1.0.conv1 and 53 more replaced layers"
    assert arch.point("gwc_pwc", 4).reason.startswith("G=5 does not divide M=16 of stage1.0.conv1")
    # the 18 layers of stage 1 and stage2.0.conv1 take 16 channels
    assert arch.point("hetconv", 31).reason == "P=32 does not divide M=16 of stage1.0.conv1 and 18 more " \
                                              "replaced layers"
    assert part.gcd == 16


def test_network_without_replaced_layers_accepts_every_part():
    spec = {"name": "pointwise", "input": [8, 4, 4], "layers": [{"conv": {"out": 8, "kernel": 1}}, {"fc": 3}]}
    arch = sweep(spec, P="1..5").architectures[0]
    assert arch.hetconv.valid_values() == [1, 2, 3, 4, 5]
    assert {arch.point("hetconv", i).flops for i in range(5)} == {arch.standard.flops}


# --------------------------------------------------------------------------- exact integers

def test_counts_are_python_ints():
    result = sweep(["resnet50", "mobilenet"], P="1..64")
    counts = list(all_counts(result))
    assert counts and all(type(c) is int for c in counts)


def test_huge_channel_counts_stay_exact():
    """10**9 channels: products pass 2**63, so the sweep must leave int64 for Python integers."""
    C, K2, area = 10**9, 9, 4 * 4
    spec = {"name": "wide", "input": [3, 4, 4],
            "layers": [{"conv": C}, {"conv": C}, {"conv": {"out": 5, "kernel": 1}}, {"fc": 10}]}
    result = sweep(spec, P="1..1024", G="1..1024")
    arch = result.architectures[0]
    first = area * 3 * C * K2  # the first conv stays standard
    pointwise = area * C * 5
    fc = area * 5 * 10
    assert arch.standard.flops == first + area * C * C * K2 + pointwise + fc
    valid = arch.hetconv.valid_values()
    assert valid == [p for p in range(1, 1025) if C % p == 0]  # 2**9 * 5**9: 29 divisors up to 1024
    assert len(valid) == 29 and 1024 not in valid
    for p in valid:
        het = first + area * C * (C // p * K2 + C - C // p) + pointwise + fc  # eqs. 2-4
        gwc = first + area * (C * (C // p) * K2 + C * C) + pointwise + fc  # eq. 10 as built
        i = arch.hetconv.values.index(p)
        assert arch.point("hetconv", i).flops == het and arch.point("hetconv", i).macs == het
        assert arch.point("gwc_pwc", i).flops == gwc
        assert het > 2**63
    assert all(type(c) is int for c in all_counts(result))
    report = analyze(spec, P=640, G=640)
    i = arch.hetconv.values.index(640)
    assert arch.point("hetconv", i).params == report.variant("hetconv").params
    assert arch.point("gwc_pwc", i).flops == report.variant("gwc_pwc").flops


def test_huge_part_values_stay_exact():
    C = 2**70
    spec = {"name": "huge", "input": [3, 1, 1], "layers": [{"conv": C}, {"conv": 7}]}
    result = sweep(spec, P=[1, 2**64, 2**70, 3 * 2**64])
    part = result.architectures[0].hetconv
    assert part.valid_values() == [1, 2**64, 2**70]
    assert part.values == (1, 2**64, 3 * 2**64, 2**70)
    assert part.flops[3] == 7 * (1 * 9 + C - 1) + 3 * C * 9
    assert "does not divide M=1180591620717411303424" in part.reasons[2]


# --------------------------------------------------------------------------- target reduction

def brute_force_smallest(arch: str, variant: str, target: Fraction, values) -> int | None:
    for value in values:
        try:
            report = analyze(arch, P=value, G=value)
        except OptionError:
            continue
        std, flops = report.standard.flops, report.variant(variant).flops
        if 100 * (std - flops) >= target * std:
            return value
    return None


@pytest.mark.parametrize("arch, target", [("mobilenet", "80%"), ("resnet56", "60"), ("vgg16", "66.3%"),
                                          ("resnet50", "39.5")])
def test_target_reduction_matches_brute_force(arch, target):
    goal = parse_target(target)
    answers = sweep(arch, P="1..64").architectures[0].smallest_part_for(goal)
    for variant in ("hetconv", "gwc_pwc"):
        expected = brute_force_smallest(arch, variant, goal, range(1, 65))
        answer = answers[variant]
        assert answer.reached == (expected is not None)
        if expected is not None:
            assert (answer.point.P if variant == "hetconv" else answer.point.G) == expected
            assert answer.point.flops_reduction >= float(goal)


def test_unreached_target_reports_the_best_part():
    answers = sweep("resnet50").smallest_part_for("80%")
    by_variant = {t.variant: t for t in answers}
    assert not by_variant["hetconv"].reached and by_variant["hetconv"].point.P == 64
    assert not by_variant["gwc_pwc"].reached and by_variant["gwc_pwc"].point.G == 64
    assert not by_variant["dwc_pwc"].reached
    assert by_variant["hetconv"].point.flops == analyze("resnet50", P=64).variant("hetconv").flops


# --------------------------------------------------------------------------- option syntax

@pytest.mark.parametrize("text, expected", [
    ("4", (4,)), ("1..5", (1, 2, 3, 4, 5)), ("1,2,4,8", (1, 2, 4, 8)), ("pow2:1..1024", tuple(2**e for e in range(11))),
    ("pow2:3..40", (4, 8, 16, 32)), (" 8 , 1..3 ,8", (1, 2, 3, 8)),
    ("1..16,pow2:32..128", (*range(1, 17), 32, 64, 128)),
])
def test_parse_values(text, expected):
    assert parse_values(text) == expected


@pytest.mark.parametrize("text, message", [
    ("1..", "'' is not a positive integer"), ("..4", "'' is not a positive integer"), ("5..1", "is empty: 5 > 1"),
    ("0..4", "P must be at least 1, got 0"), ("a", "'a' is not a positive integer"), ("1,,2", "empty item"),
    ("pow2:", "pow2 needs a range"), ("pow2:5..7", "holds no power of two"), ("-3", "'-3' is not a positive"),
    ("M", "for P=M use 'hetcalc ARCH --P M'"), ("1..1000000", "has 1,000,000 values"), ("2.5", "not a positive"),
])
def test_parse_values_rejects_malformed_text(text, message):
    with pytest.raises(OptionError) as info:
        parse_values(text)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_parse_target():
    assert parse_target("80%") == parse_target("80") == parse_target(80) == 80
    assert parse_target("66.3%") == Fraction(663, 10)
    for bad in ("0", "100%", "-5", "abc", "1/0", ""):
        with pytest.raises(OptionError):
            parse_target(bad)


def test_ratio_accounting_is_refused():
    with pytest.raises(OptionError, match="ratio accounting is not swept"):
        sweep("vgg16", P="1..4", convention=Convention(hetconv="ratio"))


# --------------------------------------------------------------------------- the command

def test_cli_csv_carries_every_value_with_exact_integers():
    result = cli("sweep", "resnet56", "mobilenet", "--P", "1..32", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert len(rows) == 2 * (1 + 32 + 32 + 1)
    by_key = {(r["architecture"], r["variant"], r["P"] or r["G"]): r for r in rows}
    row = by_key[("resnet56", "hetconv", "4")]
    assert int(row["flops"]) == analyze("resnet56", P=4).variant("hetconv").flops
    assert by_key[("mobilenet", "gwc_pwc", "8")]["flops"] == str(analyze("mobilenet", G=8).variant("gwc_pwc").flops)
    bad = by_key[("resnet56", "hetconv", "3")]
    assert bad["valid"] == "False" and bad["flops"] == "" and "does not divide M=16" in bad["reason"]
    assert by_key[("mobilenet", "dwc_pwc", "M")]["valid"] == "True"


def test_cli_csv_with_target_gives_one_answer_per_architecture_and_variant():
    result = cli("sweep", "mobilenet", "resnet50", "--target-reduction", "80%", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["architecture"], r["variant"], r["reached"], r["P"] or r["G"]) for r in rows] == [
        ("mobilenet", "hetconv", "True", "16"), ("mobilenet", "gwc_pwc", "True", "16"),
        ("mobilenet", "dwc_pwc", "True", "M"), ("resnet50", "hetconv", "False", "64"),
        ("resnet50", "gwc_pwc", "False", "64"), ("resnet50", "dwc_pwc", "False", "M")]


def test_cli_json():
    result = cli("sweep", "vgg16", "--P", "1..8", "--G", "2,4", "--format", "json", "--target-reduction", "60")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["P"] == list(range(1, 9)) and data["G"] == [2, 4]
    arch = data["architectures"][0]
    points = arch["hetconv"]["points"]
    assert [p["P"] for p in points] == list(range(1, 9))
    assert points[3]["flops"] == analyze("vgg16", P=4).variant("hetconv").flops
    assert points[2] == {"P": 3, "valid": False, "reason": "P=3 does not divide M=64 of conv2 and 11 more "
                                                          "replaced layers"}
    assert [p["G"] for p in arch["gwc_pwc"]["points"]] == [2, 4]
    assert {t["variant"]: t["point"]["P"] or t["point"]["G"] for t in data["targets"]} == {
        "hetconv": 4, "gwc_pwc": 4, "dwc_pwc": "M"}


def test_cli_table_lists_valid_values_and_summarizes_the_rest():
    result = cli("sweep", "resnet50", "--target-reduction", "30%")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "resnet50: ResNet-50 (ImageNet, torchvision v1.5)" in out
    assert "1017 of 1024 P values invalid (P must divide gcd(M) = 64)" in out
    assert "30.16% *" in out  # P = 4 is the smallest reaching 30%
    assert "Smallest part reaching 30% FLOPs reduction" in out
    lines = [line.split()[0] for line in out.splitlines() if line[:7].strip().isdigit()]
    assert lines == ["1", "2", "4", "8", "16", "32", "64"]


def test_cli_table_shortens_long_valid_lists():
    spec = {"name": "pw", "input": [8, 4, 4], "layers": [{"conv": {"out": 8, "kernel": 1}}]}
    from hetcalc.sweep_views import arch_grid

    arch = sweep(spec, P="1..100").architectures[0]
    grid = arch_grid(arch)
    assert [row[0] for row in grid.rows] == ["1", "2", "4", "8", "16", "32", "64", "100"]
    assert any("8 of 100 valid values shown" in note for note in grid.notes)
    assert len(arch_grid(arch, all_rows=True).rows) == 100


@pytest.mark.parametrize("fmt, marker", [("markdown", "| P = G |"), ("latex", r"\begin{tabular}")])
def test_cli_document_formats(fmt, marker):
    result = cli("sweep", "resnet56", "--P", "pow2:1..16", "--format", fmt)
    assert result.exit_code == 0, result.output
    assert marker in result.output


def test_cli_output_file_takes_format_from_extension(tmp_path):
    target = tmp_path / "sweep.csv"
    result = cli("sweep", "resnet56", "--P", "1..4", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert target.read_text().startswith("architecture,variant,P,G,valid")


@pytest.mark.parametrize("args, message", [
    (["--P", "5..1"], "hetcalc: error: P range '5..1' is empty: 5 > 1"),
    (["--G", "x"], "hetcalc: error: G values 'x': 'x' is not a positive integer"),
    (["--target-reduction", "150%"], "hetcalc: error: target reduction must be above 0% and below 100%"),
])
def test_cli_errors_are_one_line(args, message):
    result = CliRunner().invoke(main, ["sweep", "resnet56", *args], prog_name="hetcalc")
    assert result.exit_code == 2
    assert result.output.strip().startswith(message) and len(result.output.strip().splitlines()) == 1


def test_sweep_help_has_an_example():
    result = cli("sweep", "--help")
    assert result.exit_code == 0 and "Example:" in result.output and "pow2:A..B" in result.output


def test_library_result_serializes():
    data = sweep(["resnet56"], P="1..4").to_dict("50%")
    assert json.loads(json.dumps(data))["architectures"][0]["architecture"] == "resnet56"
