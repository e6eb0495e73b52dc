"""Totals of one network against P = 1, 2, 4, ... (G = P): `analyze` re-run at each power of two.

What `hetcalc plot sweep` draws. Each P is a full analysis, so every count is exact whatever the convention;
a P that does not divide every replaced layer's M is left out and named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from hetcalc.core.errors import OptionError
from hetcalc.counting.convention import Convention
from hetcalc.network.graph import Network
from hetcalc.network.sources import resolve
from hetcalc.analysis.results import Report
from hetcalc.analysis.api import analyze
from hetcalc.analysis.replace import is_replaced
from hetcalc.analysis.options import make_convention, parse_variants

MAX_P = 2**60  # the largest P a sweep (or a figure's P axis) takes


def int_option(value: Any, option: str, least: int = 1) -> int:
    """`value` if it is an integer of at least `least` (not a bool); an OptionError naming `option` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        raise OptionError(f"{option} must be an integer of at least {least}, got {value!r}")
    return value


def long_int_text(value: int) -> str:
    """An integer for a message: its digits, or only how many there are when it is huge."""
    return str(value) if value < 10**30 else f"a number of {len(str(value)):,} digits"


def powers_of_two(P_max: int, option: str = "P_max") -> tuple[int, ...]:
    """1, 2, 4, ..., P_max; P_max must be a power of two."""
    int_option(P_max, option)
    if P_max > MAX_P:
        raise OptionError(f"{option} must be at most 2^60 = {MAX_P:,}, got {long_int_text(P_max)}")
    if P_max & (P_max - 1):
        raise OptionError(f"{option} must be a power of two (1, 2, 4, 8, ...), got {P_max}")
    return tuple(2**i for i in range(P_max.bit_length()))


@dataclass(frozen=True)
class SweepTotals:
    """One network analysed at P = 1, 2, 4, ... (G = P for GWC+PWC); P values that cannot apply left out."""

    architecture: str
    title: str
    variants: tuple[str, ...]
    convention: Convention
    parts: tuple[int, ...]  # the P values analysed
    reports: tuple[Report, ...]  # one per value of `parts`, every variant
    skipped: tuple[int, ...]  # P values left out: they do not divide every replaced layer's M
    P_max: int

    @property
    def skipped_note(self) -> str:
        if not self.skipped:
            return ""
        shown = self.skipped if len(self.skipped) <= 3 else (*self.skipped[:2], "...", self.skipped[-1])
        return f"left out: P = {', '.join(map(str, shown))} (not dividing every replaced layer's M)"


def largest_common_part(network: Network, convention: Convention) -> int:
    """The largest power of two that divides the input depth M of every replaced layer (but those with
    their own P, which keep it at every swept P)."""
    convs = network.convs
    replaced = [c for c in convs if is_replaced(c, c is convs[0], convention)]
    depths = [c.M for c in replaced if c.P is None]
    if not replaced:
        raise OptionError(f"{network.name} has no replaced layer, so P changes nothing; nothing to sweep")
    part = 1
    while depths and all(m % (2 * part) == 0 for m in depths):
        part *= 2
    return part


def sweep_totals(arch: Any, P_max: int | None = None, variants: Iterable[str] | str | None = None,
                 convention: Convention | str | None = None, **convention_options: Any) -> SweepTotals:
    """Analyse `arch` at P = 1, 2, 4, ... up to P_max (default: the largest power of two dividing every
    replaced layer's M), with G = P; P values that do not divide every replaced layer's M are left out."""
    network = resolve(arch)
    convention = make_convention(convention, convention_options)
    keys = parse_variants(variants)
    P_max = largest_common_part(network, convention) if P_max is None else P_max
    reports, parts, skipped = [], [], []
    for P in powers_of_two(P_max, "P_max"):
        try:
            reports.append(analyze(network, P=P, variants=("standard", *keys), convention=convention))
            parts.append(P)
        except OptionError:  # P does not divide some replaced layer's M (P = 1 divides every M)
            if P == 1:
                raise
            skipped.append(P)
    return SweepTotals(architecture=network.name, title=network.title, variants=keys, convention=convention,
                       parts=tuple(parts), reports=tuple(reports), skipped=tuple(skipped), P_max=P_max)
