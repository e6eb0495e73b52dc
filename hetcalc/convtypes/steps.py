"""Realization steps: what one way of building a convolution runs, step by step, in one description.

A convolution type turns a host `Conv` (with its part and implementation) into a tuple of steps. Counting sums
their `Piece`s, traffic prices them as kernels and the torch builder makes them modules: one description, three
readers, so the three cannot drift apart.
"""

from __future__ import annotations

from dataclasses import replace

from hetcalc.convtypes.pieces import Piece, conv_piece
from hetcalc.core.records import Record, record
from hetcalc.network.graph import Conv


@record
class ConvStep(Record):
    """One convolution as run: shapes, kernel, groups, bias and the BatchNorm and activation after it.

    `weights` overrides the dense count N * (M / groups) * K^2 for a kernel with a sparse pattern (a fused HetConv,
    eqs. 2-4). `role` "pointwise" marks the pointwise tail whose bias a convention may drop (pointwise_bias).
    """

    conv: Conv
    weights: int | None = None
    role: str = "conv"

    @property
    def weight_count(self) -> int:
        c = self.conv
        return self.weights if self.weights is not None else c.N * (c.M // c.groups) * c.kernel[0] * c.kernel[1]


@record
class MoveStep(Record):
    """An element-wise or data-movement kernel of a realization: a gather of channels, an add of two branches.

    `elements`: output elements per image; `inputs`: tensors of that size read (or `read_elements` in all);
    `ops_per_element`: arithmetic per output element (0 for pure data movement).
    """

    op: str
    elements: int
    inputs: int = 1
    ops_per_element: int = 1
    read_elements: int | None = None


@record
class PostStep(Record):
    """The host's BatchNorm and activation on `channels` x `area`, where they follow a merge instead of a conv."""

    channels: int
    area: int
    bn: bool
    act: str | None


def step_pieces(steps) -> tuple[Piece, ...]:
    """The raw counts of a realization: one Piece per convolution (data movement carries no count)."""
    pieces = []
    for step in steps:
        if isinstance(step, ConvStep):
            c = step.conv
            weights = step.weight_count
            pieces.append(conv_piece(macs=c.out_area * weights, weights=weights, out_channels=c.N,
                                     out_area=c.out_area, bias=c.bias, bn=c.bn, act=c.act))
        elif isinstance(step, PostStep):
            elements = step.channels * step.area
            pieces.append(Piece(bn_channels=step.channels if step.bn else 0, bn_elements=elements if step.bn else 0,
                                act_elements=elements if step.act else 0, act_kind=step.act))
    return tuple(pieces)


def without_pointwise_bias(steps) -> tuple:
    """The steps with the pointwise tail's bias dropped (a convention's pointwise_bias=False)."""
    return tuple(replace(s, conv=replace(s.conv, bias=False)) if isinstance(s, ConvStep) and s.role == "pointwise"
                 else s for s in steps)


def conv_like(host: Conv, **changes) -> Conv:
    """A convolution step derived from the host layer (same name and place), with `changes` applied."""
    return replace(host, **changes)
