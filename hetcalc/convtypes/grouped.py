"""Groupwise (GWC+PWC, eqs. 10-11) and depthwise (DWC+PWC, MobileNet, eqs. 6-7) then pointwise convolutions."""

from __future__ import annotations

from fractions import Fraction

from hetcalc.convtypes.pieces import Piece
from hetcalc.convtypes.registry import ConvType, register
from hetcalc.convtypes.steps import ConvStep, conv_like, step_pieces
from hetcalc.network.graph import Conv


def gwc_pwc_steps(conv: Conv, part: int, impl: str = "fused") -> tuple:
    """Groupwise K x K M -> M with `part` groups (carrying the stride, the host's BatchNorm and activation),
    then pointwise M -> N (BatchNorm and activation again). Both carry a bias when the host has one."""
    _, h, w = conv.out_shape
    groupwise = conv_like(conv, out_shape=(conv.M, h, w), groups=part)
    pointwise = conv_like(conv, in_shape=(conv.M, h, w), kernel=(1, 1), stride=(1, 1), padding=(0, 0),
                          padding_end=None, dilation=(1, 1), groups=1)
    return (ConvStep(groupwise), ConvStep(pointwise, role="pointwise"))


def dwc_pwc_steps(conv: Conv, part: int | None = None, impl: str = "fused") -> tuple:
    """Depthwise then pointwise: GWC+PWC with G = M."""
    return gwc_pwc_steps(conv, conv.M, impl)


def gwc_pwc_cost(conv: Conv, part: int | None) -> tuple[Piece, ...]:
    """Groupwise K x K conv M -> M with G groups (carrying the stride), then pointwise M -> N (eq. 10).

    Counts the layers as built: D_o^2 * M * (M/G) * K^2 + D_o^2 * M * N, which is eq. 10 when M = N.
    The network's normalization and activation follow the groupwise layer too.
    """
    return step_pieces(gwc_pwc_steps(conv, part))


def dwc_pwc_cost(conv: Conv, part: int | None = None) -> tuple[Piece, ...]:
    """Depthwise K x K conv then pointwise (MobileNet), eq. 6: GWC+PWC with G = M."""
    return gwc_pwc_cost(conv, conv.M)


def _k2(conv: Conv) -> int:
    return conv.kernel[0] * conv.kernel[1]


GWC_PWC = register(ConvType(
    "gwc_pwc", "GWC+PWC", "eqs. 10-11", gwc_pwc_cost, lambda c, p: Fraction(1, p) + Fraction(1, _k2(c)), "G", "1/G + 1/K^2",
    "eq. 11", steps=gwc_pwc_steps, short="GWC", aliases=("gwc", "gwc+pwc", "gwc-pwc"), part_follows="P",
    groups_part=True, part_doc="GWC+PWC groups (default: P)"))
DWC_PWC = register(ConvType(
    "dwc_pwc", "DWC+PWC", "eqs. 6-7", dwc_pwc_cost, lambda c, p: Fraction(1, c.N) + Fraction(1, _k2(c)), None, "1/N + 1/K^2",
    "eq. 7", steps=dwc_pwc_steps, short="DWC", aliases=("dwc", "dwc+pwc", "dwc-pwc"), fixed_groups="M"))
