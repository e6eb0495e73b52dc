"""Check the paper's printed figures against hetcalc's exact counts, figure by figure.

Each table is computed under one stated convention (never bent per row). A figure matches when the
computed value, truncated or rounded to the printed precision, gives the printed digits.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from fractions import Fraction

from hetcalc.counting.convention import Convention
from hetcalc.counting.presets import get_preset
from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean
from hetcalc.analysis.paper import ROWS, PaperRow
from hetcalc.analysis.results import Report
from hetcalc.analysis.api import analyze

SE_REDUCTION = 8  # the paper, section 4: "We set the value of reduction ratio to 8 for SE"
UNITS = {"K": 10**3, "M": 10**6, "G": 10**9}
QUANTITIES = ("flops", "flops_reduction", "params", "params_reduction")


@dataclass(frozen=True)
class TableSetup:
    """How hetcalc computes one of the paper's tables: one architecture, one convention."""

    table: str
    title: str
    architecture: str
    convention: Convention
    pc: str = "M"  # what the paper's "PC" rows use as P: "M" or "N"
    note: str = ""
    baseline: str = ""  # the row whose printed totals the table's percentages are taken against
    se_params: int = SE_REDUCTION  # SE reduction ratio for the parameter columns


def _rules(preset: str) -> Convention:
    """The counting rules of a paper-tableN preset (counting/presets.py), without its name."""
    return Convention(**get_preset(preset).fields())


SETUPS = {s.table: s for s in (
    TableSetup("1", "VGG-16 on CIFAR-10", "vgg16",
               _rules("paper-table1"), pc="N",
               note="MACs + conv/FC bias adds; HetConv by ratio accounting; Keras parameters; PWC without "
                    "bias; PC rows with P = N; SE FLOPs at reduction 8, SE parameters at 16",
               baseline="VGG-16_P1", se_params=16),
    TableSetup("3", "ResNet-56 on CIFAR-10", "resnet56", _rules("paper-table3"),
               note="MACs + one add per conv output; HetConv by ratio accounting"),
    TableSetup("4.3", "ResNet-56 on CIFAR-10 (section 4.3 text)", "resnet56", _rules("paper-section4.3"),
               note="MACs + one add per conv output"),
    TableSetup("4", "MobileNet on CIFAR-10", "mobilenet", _rules("paper-table4"),
               note="MACs + global average pool adds; HetConv exact (eqs. 2-4)"),
    TableSetup("5", "VGG-16 on ImageNet", "vgg16-imagenet", _rules("paper-table5"),
               note="MACs; HetConv exact (eqs. 2-4)"),
    TableSetup("6", "ResNet-34 on ImageNet", "resnet34", _rules("paper-table6"),
               note="MACs; HetConv by ratio accounting, 1x1 projection shortcuts included",
               baseline="ResNet-34_P1"),
    TableSetup("7", "ResNet-50 on ImageNet", "resnet50", _rules("paper-table7"),
               note="MACs; HetConv exact (eqs. 2-4), 1x1 convolutions unchanged", baseline="ResNet-50_P1"),
)}
TABLES = tuple(SETUPS)


@dataclass(frozen=True)
class Check:
    """One printed figure beside hetcalc's value."""

    table: str
    row: str
    quantity: str  # flops | flops_reduction | params | params_reduction
    reported: str  # as printed: "313.74M", "44.15"
    computed: int | float  # exact count, or percentage
    shown: str  # computed at the printed precision (the nearer of truncated and rounded)
    match: bool
    convention: str
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _parse(reported: str) -> tuple[Decimal, int, int]:
    """'313.74M' -> (313.74, scale 10**6, 2 decimals); '44.15' -> (44.15, 1, 2)."""
    unit = UNITS.get(reported[-1], 1)
    number = reported[:-1] if reported[-1] in UNITS else reported
    digits = len(number.split(".")[1]) if "." in number else 0
    return Decimal(number), unit, digits


def _at_precision(value: Fraction, digits: int) -> tuple[Decimal, Decimal]:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    quantum = Decimal(1).scaleb(-digits)
    return exact.quantize(quantum, ROUND_DOWN), exact.quantize(quantum, ROUND_HALF_UP)


def judge(reported: str, value: Fraction) -> tuple[bool, str]:
    """Does `value` (in base units, or percent) give the printed digits, truncated or rounded?"""
    printed, unit, digits = _parse(reported)
    suffix = reported[-1] if reported[-1] in UNITS else ""
    truncated, rounded = _at_precision(value / unit, digits)
    match = printed in (truncated, rounded)
    nearest = truncated if abs(truncated - printed) <= abs(rounded - printed) else rounded
    return match, f"{nearest}{suffix}"


def _part(row: PaperRow, setup: TableSetup):
    return setup.pc if row.P == "PC" else row.P


def _report(setup: TableSetup, row: PaperRow, cache: dict, se: int = SE_REDUCTION) -> Report:
    key = (row.variant, row.P, row.G, row.se and se)
    if key not in cache:
        P = _part(row, setup) if row.variant == "hetconv" else 1
        cache[key] = analyze(setup.architecture, P=P, G=row.G or 1,
                             variants=("standard", row.variant), convention=setup.convention,
                             se=se if row.se else None)
    return cache[key]


def _two_decimals(count: int, printed: str) -> Fraction:
    """A total as the paper displays it: two decimals of its printed unit, truncated or rounded,
    whichever is nearer the printed figure (the paper computed its percentages from such totals)."""
    value, unit, _ = _parse(printed)
    truncated, rounded = _at_precision(Fraction(count, unit), 2)
    nearest = truncated if abs(truncated - value) <= abs(rounded - value) else rounded
    return Fraction(nearest) * unit


def _reduction(base: int, count: int, base_printed: str, printed: str) -> Fraction:
    if base_printed and printed:
        base_f, count_f = _two_decimals(base, base_printed), _two_decimals(count, printed)
    else:
        base_f, count_f = Fraction(base), Fraction(count)
    return 100 * (base_f - count_f) / base_f


def parse_tables(names) -> list[str]:
    """Table names as users type them: '1', 'table1', 'T1', '4.3', 'section4.3'; default all."""
    chosen: list[str] = []
    for raw in names or ():
        key = str(raw).strip().lower()
        for prefix in ("table", "section", "sec", "t"):
            if key.startswith(prefix):
                key = key[len(prefix):].lstrip(" _-")
                break
        if key not in SETUPS:
            raise OptionError(f"unknown table '{raw}'{did_you_mean(key, TABLES)} (known: {', '.join(TABLES)})")
        if key not in chosen:
            chosen.append(key)
    return [t for t in TABLES if t in chosen] if chosen else list(TABLES)


def check_rows(tables=None) -> list[Check]:
    """Every printed figure of the chosen tables (default: all) with its verdict."""
    tables = parse_tables(tables)
    checks: list[Check] = []
    for table in tables:
        setup = SETUPS[table]
        cache: dict = {}
        base_row = next((r for r in ROWS if r.table == table and r.row == setup.baseline), None)
        for row in (r for r in ROWS if r.table == table):
            variant = _report(setup, row, cache).variant(row.variant)
            params_variant = _report(setup, row, cache, setup.se_params).variant(row.variant)
            base = _report(setup, PaperRow(table, "baseline", "standard"), cache).standard
            if row.layer:
                layer = next(r for r in variant.layers if r.name == row.layer)
                values = {"flops": Fraction(layer.flops), "params": Fraction(layer.params)}
            else:
                values = {"flops": Fraction(variant.flops), "params": Fraction(params_variant.params),
                          "flops_reduction": _reduction(base.flops, variant.flops,
                                                        base_row.flops if base_row else "", row.flops),
                          "params_reduction": _reduction(base.params, params_variant.params,
                                                         base_row.params if base_row else "", row.params)}
            for quantity in QUANTITIES:
                reported = getattr(row, quantity)
                if not reported:
                    continue
                value = values[quantity]
                match, shown = judge(reported, value)
                computed = int(value) if quantity in ("flops", "params") else float(value)
                checks.append(Check(table, row.row, quantity, reported, computed, shown, match,
                                    setup.note, "" if match else _reason(row, quantity)))
    return checks


def _reason(row: PaperRow, quantity: str) -> str:
    return REASONS.get((row.table, row.row, quantity), REASONS.get((row.table, "*", quantity), "no single "
                       "convention of this table reproduces it"))


_SE_ROWS = ("VGG-16_P2_SE", "VGG-16_P4_SE", "VGG-16_P8_SE", "VGG-16_P16_SE", "VGG-16_P32_SE",
            "VGG-16_P64_SE", "VGG-16_PC_SE")
REASONS: dict[tuple[str, str, str], str] = {
    ("1", "*", "params_reduction"): "the printed parameter percentages follow neither from the printed "
                                    "totals (e.g. (15.00 - 8.45)/15.00 = 43.67%) nor from exact counts",
    ("1", "VGG-16_PC_SE", "params"): "1.94M + 0.23M of SE parameters gives 2.16M, not 2.15M",
    ("3", "ResNet-56_P2", "flops_reduction"): "needs less unreduced cost than the first convolution "
                                              "alone has: no accounting of this network reaches it",
    ("3", "ResNet-56_P4", "flops_reduction"): "needs less unreduced cost than the first convolution "
                                              "alone has: no accounting of this network reaches it",
    ("3", "ResNet-56_P4_SE", "flops_reduction"): "the SE rows' percentages do not follow from the non-SE "
                                                 "rows' accounting (0.01 off)",
    ("4.3", "ResNet-56 per 3x3 layer", "flops"): "2.36M is the layer's MACs alone (2,359,296); the "
                                                 "section's 126.01M total needs the per-output adds, "
                                                 "which make each layer 2,375,680",
}
for _row in _SE_ROWS:
    REASONS[("1", _row, "flops")] = ("the SE rows add 0.44M to their non-SE rows but the P1_SE row adds "
                                     "0.45M; SE after every convolution (0.45M) cannot give both")
    REASONS[("1", _row, "flops_reduction")] = "follows from the SE row's FLOPs, which do not reproduce"
