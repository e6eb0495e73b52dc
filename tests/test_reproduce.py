"""`hetcalc reproduce`: the paper's printed figures are the independent reference here."""

import json
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest
from click.testing import CliRunner

from hetcalc.cli import main
from hetcalc.reproduce import check_rows, judge

# Figures copied from the paper's tables (hetconv-paper.txt), which hetcalc must reproduce.
REPRODUCING = {
    ("1", "VGG-16_P1", "flops"): "313.74M", ("1", "VGG-16_P1", "params"): "15.00M",
    ("1", "VGG-16_P1_SE", "flops"): "314.19M", ("1", "VGG-16_P1_SE", "params"): "15.22M",
    ("1", "VGG-16_P2", "flops"): "175.23M", ("1", "VGG-16_P2", "flops_reduction"): "44.15",
    ("1", "VGG-16_P2", "params"): "8.45M",
    ("1", "VGG-16_P2_SE", "flops_reduction"): "44.00", ("1", "VGG-16_P2_SE", "params"): "8.68M",
    ("1", "VGG-16_P4", "flops"): "105.98M", ("1", "VGG-16_P4", "flops_reduction"): "66.22",
    ("1", "VGG-16_P4", "params"): "5.17M",
    ("1", "VGG-16_P4_SE", "flops_reduction"): "66.08", ("1", "VGG-16_P4_SE", "params"): "5.41M",
    ("1", "VGG-16_GWC4_PWC", "flops"): "107.67M", ("1", "VGG-16_GWC4_PWC", "flops_reduction"): "65.68",
    ("1", "VGG-16_GWC4_PWC", "params"): "5.42M",
    ("1", "VGG-16_P8", "flops"): "71.35M", ("1", "VGG-16_P8", "flops_reduction"): "77.26",
    ("1", "VGG-16_P8", "params"): "3.54M", ("1", "VGG-16_P8", "params_reduction"): "76.40",
    ("1", "VGG-16_P8_SE", "params"): "3.77M",
    ("1", "VGG-16_P16", "flops"): "54.04M", ("1", "VGG-16_P16", "flops_reduction"): "82.78",
    ("1", "VGG-16_P16", "params"): "2.72M", ("1", "VGG-16_P16", "params_reduction"): "81.86",
    ("1", "VGG-16_P16_SE", "params"): "2.95M",
    ("1", "VGG-16_P32", "flops"): "45.38M", ("1", "VGG-16_P32", "flops_reduction"): "85.54",
    ("1", "VGG-16_P32", "params"): "2.31M",
    ("1", "VGG-16_P32_SE", "flops_reduction"): "85.39", ("1", "VGG-16_P32_SE", "params"): "2.54M",
    ("1", "VGG-16_P64", "flops"): "41.05M", ("1", "VGG-16_P64", "flops_reduction"): "86.92",
    ("1", "VGG-16_P64", "params"): "2.11M",
    ("1", "VGG-16_P64_SE", "flops_reduction"): "86.77", ("1", "VGG-16_P64_SE", "params"): "2.34M",
    ("1", "VGG-16_DWC_PWC", "flops"): "38.53M", ("1", "VGG-16_DWC_PWC", "flops_reduction"): "87.72",
    ("1", "VGG-16_DWC_PWC", "params"): "1.97M",
    ("1", "VGG-16_PC", "flops"): "38.18M", ("1", "VGG-16_PC", "flops_reduction"): "87.83",
    ("1", "VGG-16_PC", "params"): "1.93M",
    ("3", "ResNet-56_P2_SE", "flops_reduction"): "44.27",
    ("4.3", "ResNet-56 total", "flops"): "126.01M",
    ("4", "MobileNet", "flops"): "46.36M", ("4", "MobileNet_P32", "flops"): "55.94M",
    ("4", "MobileNet_P32_SE", "flops"): "56.91M",
    ("5", "VGG-16_P4", "flops_reduction"): "65.8",
    ("6", "ResNet-34_P1", "flops"): "3.6G", ("6", "ResNet-34_P4", "flops"): "1.3G",
    ("6", "ResNet-34_P4", "flops_reduction"): "64.48", ("6", "ResNet-34_P4_SE", "flops"): "1.3G",
    ("6", "ResNet-34_P4_SE", "flops_reduction"): "64.48",
    ("7", "ResNet-50_P1", "flops"): "4.09G", ("7", "ResNet-50_P4", "flops"): "2.85G",
    ("7", "ResNet-50_P4", "flops_reduction"): "30.32",
}
UNITS = {"M": 10**6, "G": 10**9}


@pytest.fixture(scope="module")
def checks():
    return {(c.table, c.row, c.quantity): c for c in check_rows()}


def _gives(printed: str, value) -> bool:
    unit = UNITS.get(printed[-1], 1)
    number = printed[:-1] if printed[-1] in UNITS else printed
    digits = len(number.split(".")[1]) if "." in number else 0
    exact = Decimal(value) / unit
    q = Decimal(1).scaleb(-digits)
    return Decimal(number) in (exact.quantize(q, ROUND_DOWN), exact.quantize(q, ROUND_HALF_UP))


def test_at_least_57_figures_reproduce(checks):
    assert len(REPRODUCING) == 57
    assert sum(c.match for c in checks.values()) == 57
    assert len(checks) == 82


@pytest.mark.parametrize("key", sorted(REPRODUCING))
def test_each_reproducing_figure(checks, key):
    check = checks[key]
    assert check.reported == REPRODUCING[key]
    assert check.match
    if key[2] in ("flops", "params"):
        assert _gives(REPRODUCING[key], check.computed)


def test_mismatches_show_nearest_value_and_reason(checks):
    for key, check in checks.items():
        if key not in REPRODUCING:
            assert not check.match
            assert check.reason
            assert check.shown != check.reported


def test_vgg16_p1_by_hand(checks):
    # Table 1 counts MACs plus one bias add per conv output (and per FC output).
    convs = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8),
             (256, 256, 8), (256, 512, 4), (512, 512, 4), (512, 512, 4), (512, 512, 2), (512, 512, 2),
             (512, 512, 2)]
    macs = sum(m * n * 9 * d * d for m, n, d in convs) + 512 * 512 + 512 * 10
    adds = sum(n * d * d for _, n, d in convs) + 512 + 10
    assert checks[("1", "VGG-16_P1", "flops")].computed == macs + adds
    # Keras parameters: weights, biases, four BatchNorm values per channel; FC weights and biases.
    params = sum(m * n * 9 + n + 4 * n for m, n, _ in convs) + 512 * 512 + 512 + 512 * 10 + 10
    assert checks[("1", "VGG-16_P1", "params")].computed == params


def test_mobilenet_baseline_by_hand(checks):
    layers = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
        [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
    size, macs = 32, 3 * 32 * 9 * 32 * 32
    for m, n, s in layers:
        size //= s
        macs += size * size * (m * 9 + m * n)
    macs += 1024 * 10
    assert checks[("4", "MobileNet", "flops")].computed == macs + 1024 * size * size


def test_judge_truncates_or_rounds():
    from fractions import Fraction

    assert judge("2.85G", Fraction(2_856_058_880))[0]  # truncated
    assert judge("2.86G", Fraction(2_856_058_880))[0]  # rounded
    assert not judge("2.87G", Fraction(2_856_058_880))[0]


def test_cli_table_json_csv_markdown(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["reproduce"])
    assert result.exit_code == 0
    assert "57 of 82 printed figures reproduce" in result.output
    rows = json.loads(runner.invoke(main, ["reproduce", "7", "--format", "json"]).output)
    assert {"table", "row", "quantity", "reported", "computed", "shown", "match", "convention"} <= set(rows[0])
    assert [r["table"] for r in rows] == ["7"] * 3
    csv_text = runner.invoke(main, ["reproduce", "table6", "--format", "csv"]).output
    assert csv_text.splitlines()[0].startswith("table,row,quantity")
    assert len(csv_text.splitlines()) == 6
    out = tmp_path / "t.md"
    assert runner.invoke(main, ["reproduce", "4", "--format", "markdown", "-o", str(out)]).exit_code == 0
    assert "| MobileNet_P32 |" in out.read_text()


def test_cli_unknown_table_is_one_line_error():
    result = CliRunner().invoke(main, ["reproduce", "9"])
    assert result.exit_code == 2
    assert "unknown table '9'" in result.output
    assert "Traceback" not in result.output
