"""A fifth convolution type, registered from outside hetcalc: a shift convolution with part S.

Wu et al., "Shift: A Zero FLOP, Zero Parameter Alternative to Spatial Convolutions" (CVPR 2018): every input
channel is shifted by one of the K x K offsets (data movement, no arithmetic), then a pointwise convolution mixes
the channels. Here the pointwise convolution is grouped with S groups, so the type has a part option of its own:
cost D_o^2 * N * M / S, ratio to standard 1 / (S K^2), affine in M/S (so it can be swept).

This module is all it takes: hetcalc is not edited. `register()` adds it, `unregister()` removes it.
"""

from __future__ import annotations

from hetcalc.convtypes import ConvType, register as register_type, unregister as unregister_type
from hetcalc.convtypes.steps import ConvStep, MoveStep, conv_like, step_pieces

KEY = "shift"


def shift_steps(conv, part, impl="fused"):
    """Shift the M input channels (a copy, no arithmetic), then a grouped 1 x 1 convolution M -> N with S groups
    carrying the stride, the host's bias, BatchNorm and activation."""
    _, h, w = conv.in_shape
    return (MoveStep("shift", conv.M * h * w, ops_per_element=0),
            ConvStep(conv_like(conv, kernel=(1, 1), padding=(0, 0), padding_end=None, dilation=(1, 1), groups=part),
                     role="pointwise"))


def shift_cost(conv, part):
    return step_pieces(shift_steps(conv, part))


SHIFT = ConvType(KEY, "Shift", "Wu et al. 2018", shift_cost,
                 lambda c, s: 1 / (s * c.kernel[0] * c.kernel[1]), "S", "1/(S K^2)", "Wu et al.",
                 steps=shift_steps, short="Sft", aliases=("shift-conv",), groups_part=True,
                 part_doc="shift convolution: groups of its pointwise convolution")


def torch_builder(conv, part, options):
    """The one torch entry the type needs: a channel shift module, then the pointwise steps as usual."""
    import torch
    from torch import nn

    class Shift(nn.Module):
        """Channel c moves by offset c mod 9 of the 3 x 3 neighbourhood (zero padded)."""

        def forward(self, x):
            out = torch.zeros_like(x)
            for c in range(x.shape[1]):
                dy, dx = divmod(c % 9, 3)
                dy, dx = dy - 1, dx - 1
                h, w = x.shape[2], x.shape[3]
                out[:, c, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                    x[:, c, max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
            return out

    return Shift()


def register():
    register_type(SHIFT)


def unregister():
    unregister_type(KEY)
