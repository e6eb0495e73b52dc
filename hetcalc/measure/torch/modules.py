"""The PyTorch modules hetcalc builds: HetConv's realizations, its mask, and the small blocks around them.

HetConv has three realizations (`hetconv_impl`):
- `split`: a grouped K x K convolution with P groups, plus a gather of each group's M - M/P other input
  channels and a grouped 1 x 1 convolution over them, added (`HetConv2d`);
- `masked`: a dense K x K convolution whose weights are masked to HetConv's pattern (`MaskedHetConv2d`);
- `fused`: the paper's one kernel with HetConv's FLOPs. PyTorch has no such kernel, so it is built as
  `masked` (dense compute); the time model prices it, `hetcalc measure` cannot.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
import torch.nn.functional as F
from torch import nn

from hetcalc.core.errors import HetcalcError, OptionError

HETCONV_IMPLS = ("split", "masked", "fused")


# --------------------------------------------------------------------------- HetConv realizations

def _centre(kernel: tuple[int, int]) -> tuple[int, int]:
    """The tap a 1 x 1 kernel sits on inside a K x K window: the middle, the upper-left one if K is even."""
    return (kernel[0] - 1) // 2, (kernel[1] - 1) // 2


def group_of_filter(n: int, out_channels: int, part: int) -> int:
    """Which input block filter n owns K x K kernels on: contiguous runs of N/P filters per block."""
    return n * part // out_channels


class HetConv2d(nn.Module):
    """HetConv with part P, split (eqs. 2-4 as built): a grouped K x K conv (P groups, M -> N) on the input,
    plus a grouped 1 x 1 conv (P groups) over a gather of each group's M - M/P other input channels, added.

    Filter n of group g (n // (N/P) = g) has K x K kernels on input channels [g M/P, (g+1) M/P) and 1 x 1
    kernels on every other channel, aligned with the K x K window's centre tap.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel, stride=1, padding=0, part: int = 1,
                 bias: bool = False, dilation=1) -> None:
        super().__init__()
        kernel, stride, padding, dilation = pair(kernel), pair(stride), pair(padding), pair(dilation)
        if part < 1 or in_channels % part or out_channels % part:
            raise OptionError(f"HetConv split needs P to divide both M and N, got P={part}, M={in_channels}, "
                              f"N={out_channels}")
        self.in_channels, self.out_channels, self.part = in_channels, out_channels, part
        self.kernel_size, self.stride, self.padding, self.dilation = kernel, stride, padding, dilation
        self.kxk = nn.Conv2d(in_channels, out_channels, kernel, stride, padding, dilation, groups=part, bias=bias)
        block = in_channels // part
        others = in_channels - block
        if others == 0:  # P = 1: every kernel is K x K, a standard convolution
            self.pointwise = None
            self.register_buffer("index", torch.zeros(0, dtype=torch.long), persistent=False)
            self.shift = None
            return
        index = [c for g in range(part) for c in range(in_channels) if not g * block <= c < (g + 1) * block]
        self.register_buffer("index", torch.tensor(index, dtype=torch.long), persistent=False)
        # tap alignment: output o of the K x K conv has its centre tap on input row o*s - p + centre*dilation
        offset = tuple(p - c * d for p, c, d in zip(padding, _centre(kernel), dilation))
        self.pointwise = nn.Conv2d(part * others, out_channels, 1, stride, 0, groups=part, bias=False)
        self.shift = offset  # padding of the 1 x 1 path per axis (negative: crop), fixed up in forward

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.kxk(x)
        if self.pointwise is None:
            return y
        (oh, ow), (ho, wo) = self.shift, y.shape[-2:]
        sh, sw = self.stride
        # the 1 x 1 path needs input rows o*s + (centre - p) for o < ho: pad (negative: crop) to exactly that
        bottom = (ho - 1) * sh + 1 - (x.shape[-2] + oh)
        right = (wo - 1) * sw + 1 - (x.shape[-1] + ow)
        if (oh, ow) != (0, 0) or bottom > 0 or right > 0:
            x = F.pad(x, (ow, right, oh, bottom))
        z = self.pointwise(x.index_select(1, self.index))
        if z.shape[-2:] != y.shape[-2:]:  # a stride left a row or column over
            z = z[..., :ho, :wo]
        return y + z

    def extra_repr(self) -> str:
        dilation = f", dilation={self.dilation}" if self.dilation != (1, 1) else ""
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}{dilation}, part={self.part}")


def hetconv_mask(in_channels: int, out_channels: int, kernel, part: int, device=None) -> torch.Tensor:
    """HetConv's pattern on a dense (N, M, kh, kw) weight: filter n in group g keeps its full K x K kernel on
    input block g and only the centre tap on the M - M/P other channels."""
    kh, kw = pair(kernel)
    block = in_channels // part
    groups = torch.arange(out_channels, device=device) * part // out_channels  # group_of_filter, vectorized
    own = (torch.arange(in_channels, device=device) // block)[None, :] == groups[:, None]  # (N, M)
    mask = own[:, :, None, None].expand(out_channels, in_channels, kh, kw).clone()
    ch, cw = _centre((kh, kw))
    mask[:, :, ch, cw] = True
    return mask.to(torch.get_default_dtype())


class MaskedHetConv2d(nn.Conv2d):
    """HetConv as a dense K x K convolution whose weights are masked to HetConv's pattern in every forward
    pass (standard's compute; its nonzero weights are HetConv's parameters)."""

    def __init__(self, in_channels: int, out_channels: int, kernel, stride=1, padding=0, part: int = 1,
                 bias: bool = False, dilation=1) -> None:
        if part < 1 or in_channels % part:
            raise OptionError(f"HetConv needs P to divide M, got P={part}, M={in_channels}")
        super().__init__(in_channels, out_channels, kernel, stride, padding, dilation, bias=bias)
        self.part = part
        self.register_buffer("mask", hetconv_mask(in_channels, out_channels, self.kernel_size, part))
        if not self.weight.is_meta:
            with torch.no_grad():
                self.weight.mul_(self.mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.weight * self.mask, self.bias)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", part={self.part}"


# --------------------------------------------------------------------------- other building blocks

class ZeroPadShortcut(nn.Module):
    """He et al.'s option-A shortcut: subsample, then append zero channels. No parameters, no FLOPs."""

    def __init__(self, stride: tuple[int, int], extra_channels: int) -> None:
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        sh, sw = self.stride
        if (sh, sw) != (1, 1):
            x = x[:, :, ::sh, ::sw]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels)) if self.extra_channels else x

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


class SqueezeExcitation(nn.Module):
    """Hu et al.'s s = sigmoid(W2 relu(W1 z)) on C channels, FC C -> C/r -> C without biases (as hetcalc counts)."""

    def __init__(self, channels: int, reduction: int) -> None:
        super().__init__()
        hidden = max(channels // reduction, 1)
        self.fc1 = nn.Linear(channels, hidden, bias=False)
        self.fc2 = nn.Linear(hidden, channels, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean((2, 3))))))
        return x * s[:, :, None, None]


class Residual(nn.Module):
    """A residual block: body and shortcut side by side, added, then the block's activation."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, act: nn.Module | None) -> None:
        super().__init__()
        self.body, self.shortcut = body, shortcut
        self.act = act if act is not None else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


ACTIVATIONS = {
    "relu": lambda: nn.ReLU(inplace=True), "relu6": lambda: nn.ReLU6(inplace=True), "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh, "gelu": nn.GELU, "silu": lambda: nn.SiLU(inplace=True),
    "hardswish": lambda: nn.Hardswish(inplace=True), "leaky_relu": lambda: nn.LeakyReLU(inplace=True),
    "hardsigmoid": nn.Hardsigmoid, "elu": nn.ELU, "selu": nn.SELU, "softplus": nn.Softplus, "mish": nn.Mish,
    "clip": nn.Hardtanh, "softmax": lambda: nn.Softmax(1), "log_softmax": lambda: nn.LogSoftmax(1),
    "affine": nn.Identity,  # an imported scale-and-shift by constants: no parameters, as hetcalc counts it
}


def pair(value) -> tuple[int, int]:
    """An int or a pair as a pair."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value, value)


def activation(name: str | None) -> nn.Module | None:
    """The activation module a layer names, or None for no activation."""
    if name is None:
        return None
    if name not in ACTIVATIONS:
        raise HetcalcError(f"the torch builder has no activation {name!r}")
    return ACTIVATIONS[name]()


def chain(parts: list[tuple[str, nn.Module | None]]) -> nn.Sequential:
    """An nn.Sequential of the named modules that are there (None: left out)."""
    return nn.Sequential(OrderedDict((name, m) for name, m in parts if m is not None))


def batch_norm(channels: int, on: bool) -> nn.Module | None:
    """BatchNorm2d over `channels` when the layer has one, else None."""
    return nn.BatchNorm2d(channels) if on else None
