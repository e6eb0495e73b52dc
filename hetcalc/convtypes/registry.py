"""The registry of the ways to build a K x K convolution: one `ConvType` per way, registered by its module.

A type describes its realization once (`steps`); its raw counts (`cost`), the kernels the time model prices and
the modules the torch builder makes all follow from those steps. Everything else that differs between types is
a field here, so analysis, sweeps, tables, figures and the CLI ask the registry instead of naming keys.
Adding a type is one module that calls `register` (docs/architecture.md shows one).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Callable

from hetcalc.convtypes.pieces import Piece
from hetcalc.convtypes.steps import without_pointwise_bias
from hetcalc.core.records import Record, record
from hetcalc.network.graph import Conv


@record
class ConvType(Record):
    """One way to build a K x K convolution, with its closed-form FLOPs ratio to standard."""

    key: str
    label: str
    equation: str
    cost: Callable[[Conv, int | None], tuple[Piece, ...]]  # raw counts as counted (eqs. 1-12): steps' pieces
    closed_form: Callable[[Conv, int | None], Fraction]  # exact (a float from a plug-in is accepted)
    part: str | None  # the option that sets its part ("P", "G", ...), or None
    closed_form_text: str
    ratio_equation: str  # the paper's equation of the closed-form ratio
    steps: Callable | None = None  # (conv, part, impl) -> realization steps (hetcalc.convtypes.steps)
    short: str = ""  # a table column's abbreviation ("Het")
    aliases: tuple[str, ...] = ()  # other names a user may give (--variants het)
    impls: tuple[str, ...] = ("fused",)  # its implementations; the first is the one counted
    exact_ratio: Callable[[int, int], Fraction] | None = None  # (part, K^2) -> ratio, for ratio accounting
    part_follows: str | None = None  # without its own option value, it takes this option's (G follows P)
    groups_part: bool = False  # its part is a group count: it must divide M, so "N" becomes "M"
    fixed_groups: str | None = None  # the G a result reports for a part-free grouped type ("M" for DWC+PWC)
    affine_in_part: bool = True  # cost = a + b * M/part exactly (what `hetcalc sweep` relies on)
    part_doc: str = ""  # the part option's help: what it means for this type

    def realize(self, conv: Conv, part: int | None, impl: str | None = None, pointwise_bias: bool = True) -> tuple:
        """The steps run for `conv` (`impl` defaults to the counted implementation)."""
        steps = self.steps(conv, part, impl or self.impls[0])
        return steps if pointwise_bias else without_pointwise_bias(steps)


CONV_TYPES: dict[str, ConvType] = {}


def register(ctype: ConvType) -> ConvType:
    """Add a convolution type (after the ones registered before it: the canonical order of every output)."""
    if ctype.key in CONV_TYPES:
        raise ValueError(f"convolution type {ctype.key!r} is already registered")
    CONV_TYPES[ctype.key] = ctype
    return ctype


def unregister(key: str) -> None:
    """Remove a registered type (for tests and plug-ins that register one temporarily)."""
    CONV_TYPES.pop(key, None)


def aliases() -> dict[str, str]:
    """Every name a user may give for a type -> its key."""
    return {alias: t.key for t in CONV_TYPES.values() for alias in t.aliases}


def part_options() -> dict[str, list[ConvType]]:
    """Each part option ("P", "G", ...) -> the types it sets, in registry order."""
    out: dict[str, list[ConvType]] = {}
    for t in CONV_TYPES.values():
        if t.part:
            out.setdefault(t.part, []).append(t)
    return out
