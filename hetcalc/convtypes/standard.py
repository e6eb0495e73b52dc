"""Standard convolution (eq. 1): the layer as the network writes it."""

from __future__ import annotations

from fractions import Fraction

from hetcalc.convtypes.pieces import Piece
from hetcalc.convtypes.registry import ConvType, register
from hetcalc.convtypes.steps import ConvStep, step_pieces
from hetcalc.network.graph import Conv


def standard_steps(conv: Conv, part: int | None = None, impl: str = "fused") -> tuple:
    """One convolution, grouped as written, then its BatchNorm and activation."""
    return (ConvStep(conv),)


def standard_cost(conv: Conv, part: int | None = None) -> tuple[Piece, ...]:
    """Standard (possibly grouped) convolution, eq. 1: D_o^2 * M * N * K^2 (divided by its groups)."""
    return step_pieces(standard_steps(conv))


STANDARD = register(ConvType("standard", "standard", "eq. 1", standard_cost, lambda c, p: Fraction(1), None, "1", "eq. 1",
                             steps=standard_steps, short="std", aliases=("std",)))
