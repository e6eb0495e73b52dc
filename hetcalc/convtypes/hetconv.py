"""HetConv with part P (Singh et al., CVPR 2019, eqs. 2-5): each filter has M/P kernels K x K and M - M/P 1 x 1.

Three implementations: `fused`, the paper's one kernel with HetConv's FLOPs (what is counted); `split`, a grouped
K x K convolution with P groups plus a gather of each group's other M - M/P channels, a grouped 1 x 1 convolution
over them and an add (what PyTorch can run); `masked`, a dense K x K convolution whose weights are masked to
HetConv's pattern (dense compute).
"""

from __future__ import annotations

from fractions import Fraction

from hetcalc.convtypes.pieces import Piece
from hetcalc.convtypes.registry import ConvType, register
from hetcalc.convtypes.steps import ConvStep, MoveStep, PostStep, conv_like, step_pieces
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Conv

IMPLS = ("fused", "split", "masked")


def hetconv_weights(M: int, N: int, k2: int, P: int) -> int:
    """Eqs. 2-4: N filters of M/P kernels K x K and M - M/P kernels 1 x 1."""
    big = M // P
    return N * (big * k2 + M - big)


def hetconv_ratio(P: int, k2: int) -> Fraction:
    """Eq. 5 exactly: 1/P + (1 - 1/P)/K^2."""
    return Fraction(1, P) + Fraction(P - 1, P * k2)


def hetconv_steps(conv: Conv, part: int, impl: str = "fused") -> tuple:
    """The steps of one HetConv layer under `impl` (module docstring), then the host's BatchNorm and activation."""
    k2 = conv.kernel[0] * conv.kernel[1]
    if impl == "fused":
        return (ConvStep(conv, weights=hetconv_weights(conv.M, conv.N, k2, part)),)
    if impl == "masked":
        return (ConvStep(conv),)
    if conv.N % part:
        raise OptionError(f"--hetconv-impl split (the default) needs P to divide the output depth N: P={part} "
                          f"does not divide N={conv.N} of layer {conv.name}; time it with --hetconv-impl masked")
    rest = conv.M - conv.M // part
    if not rest:  # P = 1: every kernel is K x K
        return (ConvStep(conv_like(conv, groups=part)),)
    gathered = part * rest
    c_in, h_in, w_in = conv.in_shape
    return (
        ConvStep(conv_like(conv, groups=part, bn=False, act=None)),
        MoveStep("gather", gathered * h_in * w_in, ops_per_element=0),
        ConvStep(conv_like(conv, in_shape=(gathered, h_in, w_in), kernel=(1, 1), padding=(0, 0), padding_end=None,
                           dilation=(1, 1), groups=part, bias=False, bn=False, act=None)),
        MoveStep("add", conv.N * conv.out_area, inputs=2),
        PostStep(conv.N, conv.out_area, conv.bn, conv.act),
    )


def hetconv_cost(conv: Conv, part: int | None) -> tuple[Piece, ...]:
    """HetConv with part P, eqs. 2-4: each filter has M/P kernels K x K and M - M/P kernels 1 x 1."""
    return step_pieces(hetconv_steps(conv, part))


def _k2(conv: Conv) -> int:
    return conv.kernel[0] * conv.kernel[1]


HETCONV = register(ConvType(
    "hetconv", "HetConv", "eqs. 2-5", hetconv_cost, lambda c, p: hetconv_ratio(p, _k2(c)), "P",
    "1/P + (1 - 1/P)/K^2", "eq. 5", steps=hetconv_steps, short="Het", aliases=("het",), impls=IMPLS,
    exact_ratio=hetconv_ratio, part_doc="HetConv part: each filter has M/P kernels K x K"))
