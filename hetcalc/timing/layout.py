"""Memory layout of activations: NCHW (PyTorch's default) or NHWC (channels-last), `layout="nhwc"`.

A layout moves no FLOP and, inside a network, no byte: every kernel reads and writes the same tensors in
another order. What changes (docs/time-model.md gives the rules and the data they come from):

- the rates of kernels: on a GPU, tensor-core convolutions run channels-last natively, where in NCHW the
  library works around the layout; a profile says how much faster or slower each kernel class runs in NHWC
  (its `channels_last` factors, time model: hetcalc.timing.timemodel; `hetcalc calibrate` measures a CPU's);
  a profile without them times NHWC at its NCHW rates;
- copies at the layout's boundaries: flattening a channels-last map of more than one pixel into a vector
  (before an FC layer, or an explicit flatten or reshape) reorders it into channel-major order, one copy
  kernel reading and writing the map, where NCHW's flatten is a view. The network's input is taken as
  already channels-last (a data loader or a deployment feeds it so; timm's benchmark converts it before
  timing).
"""

from __future__ import annotations

from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Linear, Network, Reshape
from hetcalc.timing.traffic import Kernel, elementwise

LAYOUTS = ("nchw", "nhwc")
COPY = "transpose"  # the op of a layout copy kernel


def check_layout(layout) -> str:
    key = str(layout).strip().lower()
    if key not in LAYOUTS:
        raise OptionError(f"layout must be one of {', '.join(LAYOUTS)}, got {layout!r}")
    return key


def flattens_map(layer) -> bool:
    """Whether a layer turns a map of more than one pixel into a vector (an FC layer on a spatial input, a
    flatten or reshape of one): in NHWC that reorders the map, a copy."""
    if isinstance(layer, Linear):
        c, h, w = layer.in_shape
        return layer.rows == 1 and h * w > 1 and c > 1
    if isinstance(layer, Reshape) and layer.op in ("flatten", "reshape"):
        c, h, w = layer.in_shape
        return h * w > 1 and c > 1 and tuple(layer.out_shape) != tuple(layer.in_shape)
    return False


def layout_kernels(network: Network, kernels: list[list[Kernel]], layout: str, batch: int,
                   size: int, eager: bool = True) -> list[list[Kernel]]:
    """Every layer's kernels in `layout`: NCHW as given; NHWC with a copy kernel (E read, E written, no
    FLOPs) before each layer that flattens a map, E being the map's elements in the batch (a flatten itself
    runs no kernel in NCHW: it is a view). In eager NHWC a channel gather (HetConv split's index_select) is
    followed by a copy of its output: index_select writes a contiguous (NCHW) tensor, and the channels-last
    convolution reading it converts it first (a compiler writes the gather in the layout it needs)."""
    if layout == "nchw":
        return kernels
    out = []
    for layer, ks in zip(network.layers, kernels):
        if flattens_map(layer):
            c, h, w = layer.in_shape
            ks = [elementwise(COPY, batch * c * h * w, size, ops_per_element=0), *ks]
        if eager:
            with_copies = []
            for k in ks:
                with_copies.append(k)
                if k.op == "gather":
                    with_copies.append(elementwise(COPY, k.bytes_written // size, size, ops_per_element=0))
            ks = with_copies
        out.append(ks)
    return out
