"""What the tables show adds up: column sums against printed totals, summaries against totals, CSV
against JSON, and displayed cells against hand-computed counts.

Golden files (test_cli.py) pin what is printed; these tests check that what is printed is right.
"""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction

import pytest

import hetcalc
from hetcalc.export import to_csv, to_json
from hetcalc.views.report_views import layer_grid, summary_grid

UNITS = {"K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
CASES = [
    ("vgg16", {}),
    ("vgg16", {"P": "M"}),
    ("resnet56", {}),
    ("resnet56", {"ops": ("bias", "bn", "act", "pool", "add"), "flops_per_mac": 2}),
    ("mobilenet", {"P": 8, "G": 2}),
    ("resnet50", {}),
    ("vgg16-imagenet", {"P": 2}),
]
IDS = [f"{arch}-{'-'.join(f'{k}={v}' for k, v in opts.items()) or 'default'}" for arch, opts in CASES]


def shown(cell: str) -> tuple[Fraction, Fraction]:
    """A displayed count and its rounding half-width: '313.46M' -> (313460000, 5000); '512' -> (512, 0)."""
    match = re.fullmatch(r"(-?\d+(?:\.(\d+))?)([KMGT]?)", cell)
    assert match, f"not a displayed count: {cell!r}"
    scale = UNITS.get(match.group(3), 1)
    decimals = len(match.group(2) or "")
    half = Fraction(scale, 2 * 10**decimals) if (match.group(3) or decimals) else Fraction(0)
    return Fraction(match.group(1)) * scale, half


def number(cell: str) -> tuple[Fraction, Fraction]:
    """'66.23%' / '2.96x' / '0.3333' -> (value, half of the last printed digit)."""
    text = cell.rstrip("%x")
    decimals = len(text.split(".")[1]) if "." in text else 0
    return Fraction(text), Fraction(1, 2 * 10**decimals)


def quotient_range(num, den) -> tuple[Fraction, Fraction]:
    """The range of a / b for a, b within their rounding: interval arithmetic."""
    (a, ea), (b, eb) = num, den
    return (a - ea) / (b + eb), (a + ea) / (b - eb)


def within(value, low, high, slack) -> bool:
    return low - slack <= Fraction(value) <= high + slack


@pytest.fixture(params=CASES, ids=IDS, scope="module")
def report(request):
    arch, options = request.param
    return hetcalc.analyze(arch, **options)


def _column(grid, header: str) -> int:
    headers = [c.header for c in grid.columns]
    return headers.index(header)


# --------------------------------------------------------------------------- per-layer table

def test_layer_columns_sum_to_printed_totals(report):
    grid = layer_grid(report)
    for v in report.variants:
        col = _column(grid, hetcalc.CONV_TYPES[v.variant].label)
        cells = [shown(row[col]) for row in grid.rows]
        total, total_half = shown(grid.total[col])
        slack = sum(half for _, half in cells) + total_half
        assert abs(sum(value for value, _ in cells) - total) <= slack, v.variant
        # and the printed total is the exact total, rounded
        assert abs(total - v.flops) <= total_half


def test_rows_left_out_of_the_table_cost_nothing(report):
    grid = layer_grid(report)
    names = {row[0].removesuffix(" *") for row in grid.rows}
    for v in report.variants:
        assert sum(layer.flops for layer in v.layers if layer.name in names) == v.flops
        assert sum(layer.params for layer in v.layers if layer.name not in names) == 0


def test_replaced_marks_and_ratio_cells_agree_with_the_printed_flops(report):
    grid = layer_grid(report)
    std_col = _column(grid, "standard")
    for v in report.variants[1:]:
        col = _column(grid, hetcalc.CONV_TYPES[v.variant].label)
        for row in grid.rows:
            ratio_cell = row[col + 1]
            assert bool(ratio_cell) == row[0].endswith(" *")
            if not ratio_cell:
                continue
            counted, closed = re.fullmatch(r"(\d\.\d{4}) \((\d\.\d{4})\)", ratio_cell).groups()
            low, high = quotient_range(shown(row[col]), shown(row[std_col]))
            assert within(Fraction(counted), low, high, Fraction(1, 20000)), (row[0], v.variant)
        low, high = quotient_range(shown(grid.total[col]), shown(grid.total[std_col]))
        assert within(Fraction(grid.total[col + 1]), low, high, Fraction(1, 20000))


# --------------------------------------------------------------------------- summary table

def test_summary_is_consistent_with_its_totals(report):
    grid, layers = summary_grid(report), layer_grid(report)
    h = [c.header for c in grid.columns]
    rows = {row[0]: dict(zip(h, row)) for row in grid.rows}
    std = rows["standard"]
    s_flops, s_params = shown(std["FLOPs"]), shown(std["params"])
    s_depth = int(std["latency depth"])
    for v in report.variants:
        row = rows[v.label]
        # the same FLOPs as the per-layer table's total
        assert row["FLOPs"] == layers.total[_column(layers, hetcalc.CONV_TYPES[v.variant].label)]
        flops, params = shown(row["FLOPs"]), shown(row["params"])
        # reduction = 1 - variant / standard, speedup = standard / variant (eq. 9), from the printed totals
        low, high = quotient_range(flops, s_flops)
        red, red_half = number(row["FLOPs red."])
        assert within(1 - red / 100, low, high, red_half / 100)
        low, high = quotient_range(s_flops, flops)
        assert within(number(row["speedup"])[0], low, high, Fraction(1, 200))
        low, high = quotient_range(params, s_params)
        red, red_half = number(row["params red."])
        assert within(1 - red / 100, low, high, red_half / 100)
        # speedup and reduction say the same thing
        speed = number(row["speedup"])[0]
        assert abs(1 / speed - (1 - number(row["FLOPs red."])[0] / 100)) < Fraction(1, 100)
        assert row["added latency"] == f"+{int(row['latency depth']) - s_depth}"


def test_latency_depth_counts_conv_and_fc_rows_of_sequential_networks():
    report = hetcalc.analyze("vgg16", P=4)
    conv_fc_rows = [row for row in layer_grid(report).rows if row[3] or row[0].startswith("fc")]
    rows = {row[0]: row for row in summary_grid(report).rows}
    assert len(conv_fc_rows) == 15
    assert rows["standard"][6] == "15" and rows["HetConv (P=4)"][6] == "15"
    replaced = sum(row[0].endswith(" *") for row in conv_fc_rows)
    assert rows["GWC+PWC (G=4)"][6] == str(15 + replaced) == "27"  # latency one per replaced layer
    assert rows["DWC+PWC"][7] == f"+{replaced}"


# --------------------------------------------------------------------------- csv and json

def test_csv_layer_rows_sum_exactly_to_json_totals(report):
    data = json.loads(to_json(report))
    rows = list(csv.DictReader(io.StringIO(to_csv(report))))
    assert {r["variant"] for r in rows} == {v["variant"] for v in data["variants"]}
    for v in data["variants"]:
        mine = [r for r in rows if r["variant"] == v["variant"]]
        assert len(mine) == len(v["layers"])
        for key in ("flops", "params", "macs"):
            assert sum(int(r[key]) for r in mine) == v[key], (v["variant"], key)


def test_csv_summary_equals_json_totals(report):
    data = json.loads(to_json(report))
    rows = list(csv.DictReader(io.StringIO(to_csv(report, per_layer=False))))
    for row, v in zip(rows, data["variants"], strict=True):
        for key in ("flops", "params", "macs", "latency_depth", "added_latency", "replaced_layers"):
            assert int(row[key]) == v[key], key
        for key in ("speedup", "flops_reduction", "params_reduction"):
            assert float(row[key]) == pytest.approx(v[key], rel=1e-14), key  # 15 significant digits
            assert len(row[key].lstrip("-").replace(".", "").lstrip("0")) <= 15, row[key]  # no binary noise


# --------------------------------------------------------------------------- cells computed by hand

def _cells(report, name: str) -> dict[str, str]:
    grid = layer_grid(report)
    row = next(r for r in grid.rows if r[0].removesuffix(" *") == name)
    return dict(zip([c.header for c in grid.columns], row))


def _layer(report, variant: str, name: str):
    return next(layer for layer in report.variant(variant).layers if layer.name == name)


def test_vgg16_conv2_by_hand():
    """conv2: M = N = 64 on 32 x 32, K = 3, P = G = 4."""
    report = hetcalc.analyze("vgg16", P=4)
    standard = 32 * 32 * 64 * 64 * 9                       # eq. 1
    hetconv = 32 * 32 * 64 * (16 * 9 + 48)                 # eq. 4: 16 kernels 3x3, 48 kernels 1x1
    gwc = 32 * 32 * 64 * 16 * 9 + 32 * 32 * 64 * 64        # grouped 64 -> 64 (16 per group), then 1x1
    dwc = 32 * 32 * 64 * 9 + 32 * 32 * 64 * 64             # depthwise, then 1x1 (eq. 6)
    assert (standard, hetconv, gwc, dwc) == (37_748_736, 12_582_912, 13_631_488, 4_784_128)
    for variant, value in zip(("standard", "hetconv", "gwc_pwc", "dwc_pwc"), (standard, hetconv, gwc, dwc)):
        assert _layer(report, variant, "conv2").flops == value
    cells = _cells(report, "conv2")
    assert (cells["standard"], cells["HetConv"], cells["GWC+PWC"], cells["DWC+PWC"]) == \
        ("37.75M", "12.58M", "13.63M", "4.78M")
    assert cells["ratio (eq. 5)"] == "0.3333 (0.3333)"    # 1/4 + 3/4 / 9
    assert cells["ratio (eq. 11)"] == "0.3611 (0.3611)"   # 1/4 + 1/9, M = N: eq. 10 exact
    assert cells["ratio (eq. 7)"] == "0.1267 (0.1267)"    # 1/64 + 1/9


def test_vgg16_conv3_gwc_differs_from_eq_11_by_hand():
    """conv3: M = 64 -> N = 128 on 16 x 16. As built 1/8 + 1/9 = 17/72; eq. 11 says 1/4 + 1/9 = 13/36."""
    report = hetcalc.analyze("vgg16", P=4)
    gwc = 16 * 16 * 64 * 16 * 9 + 16 * 16 * 64 * 128
    assert gwc == 4_456_448 == _layer(report, "gwc_pwc", "conv3").flops
    assert Fraction(gwc, 16 * 16 * 64 * 128 * 9) == Fraction(17, 72)
    cells = _cells(report, "conv3")
    assert cells["GWC+PWC"] == "4.46M"
    assert cells["ratio (eq. 11)"] == f"{17 / 72:.4f} ({13 / 36:.4f})" == "0.2361 (0.3611)"


def test_vgg16_totals_by_hand():
    convs = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8),
             (256, 256, 8), (256, 512, 4), (512, 512, 4), (512, 512, 4), (512, 512, 2), (512, 512, 2),
             (512, 512, 2)]
    macs = sum(d * d * m * n * 9 for m, n, d in convs) + 512 * 512 + 512 * 10
    params = sum(m * n * 9 + n + 2 * n for m, n, _ in convs) + (512 * 512 + 512) + (512 * 10 + 10)
    assert macs == 313_463_808  # the published figure (equations.md)
    report = hetcalc.analyze("vgg16", P=4)
    assert (report.standard.flops, report.standard.params) == (macs, params)
    summary = {row[0]: row for row in summary_grid(report).rows}
    assert summary["standard"][1] == "313.46M" and summary["standard"][4] == "14.99M"
    assert params == 14_990_922


@pytest.mark.parametrize("arch, variant, macs, cell", [
    ("resnet56", "standard", 125_485_696, "125.49M"),
    ("mobilenet", "dwc_pwc", 46_354_432, "46.35M"),
    ("vgg16-imagenet", "standard", 15_470_264_320, "15.47G"),
    ("resnet34", "standard", 3_663_761_408, "3.66G"),
    ("resnet50", "standard", 4_089_184_256, "4.09G"),
])
def test_published_totals_are_shown(arch, variant, macs, cell):
    """Published MAC counts (equations.md), as the summary prints them."""
    report = hetcalc.analyze(arch, P=4)
    assert report.variant(variant).flops == macs
    row = next(r for r in summary_grid(report).rows if r[0] == report.variant(variant).label)
    assert row[1] == cell


def test_vgg16_imagenet_parameters_by_hand():
    report = hetcalc.analyze("vgg16-imagenet", variants="standard")
    assert report.standard.params == 138_357_544
    assert summary_grid(report).rows[0][4] == "138.36M"
