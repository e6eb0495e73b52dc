"""The counting terms: every `--ops` name, declared once with its rule, its label and its count.

A term is a raw count of a `Piece` that a convention adds to the MACs. `--ops all` counts each operation once:
the rows marked `in_all`. The other rows are other tools' ways of counting the same BatchNorm and pooling work
(counting/presets.py): alternatives to `bn` and `pool`, not additions to them. `act:KIND` counts the
activation elements of one kind only (ptflops counts ReLU twice, ReLU6 once, sigmoid never).

Adding a term is one row in COUNTING_TERMS (plus a Piece field and its producer if it counts a new raw quantity).
"""

from __future__ import annotations

from typing import Callable

from hetcalc.convtypes import Piece
from hetcalc.core.records import Record, record
from hetcalc.network.graph import ACTIVATIONS  # not from .spec: that would load the spec machinery at start-up


@record
class Term(Record):
    """One counting term: its `--ops` name, whether `--ops all` counts it, the rule sentence printed for it,
    its row label in `hetcalc reconcile`, and its raw count in one piece.

    `count(piece, with_output)`: `with_output` says whether the `output` term is counted too.
    """

    name: str
    in_all: bool
    rule: str
    label: str
    count: Callable[[Piece, bool], int]
    quiet: bool = False  # `hetcalc reconcile` shows its row only where the network has what it counts


def _bias_adds(piece: Piece, with_output: bool) -> int:
    # with `output` a convolution's bias add is already its per-output add
    return 0 if with_output and piece.conv_outputs else piece.bias_adds


def _activations_of(kind: str) -> Callable[[Piece, bool], int]:
    return lambda piece, with_output: piece.act_elements if piece.act_kind == kind else 0


COUNTING_TERMS: dict[str, Term] = {term.name: term for term in (
    Term("bias", True, "one add per output element of a convolution or FC layer that has a bias", "bias adds",
         _bias_adds),
    Term("output", True, "one add per convolution output element, bias or not (Li et al.'s CIFAR accounting; "
                         "with bias, a convolution's bias adds are these same adds, counted once)",
         "conv output adds", lambda piece, with_output: piece.conv_outputs),
    Term("bn", True, "two operations (scale, shift) per BatchNorm output element", "BatchNorm scale, shift",
         lambda piece, with_output: 2 * piece.bn_elements),
    Term("act", True, "one operation per activation output element", "activations",
         lambda piece, with_output: piece.act_elements),
    Term("pool", True, "one operation per pooling window element read (kernel area x output elements)",
         "pool window reads", lambda piece, with_output: piece.pool_ops),
    Term("add", True, "one add per element of each residual addition (one operation per element of each "
                      "element-wise multiplication)",
         "residual additions", lambda piece, with_output: piece.add_ops),
    Term("se", True, "one operation per element for a Squeeze-and-Excitation block's squeeze and one for its "
                     "scaling",
         "SE squeeze, scale", lambda piece, with_output: piece.se_ops),
    Term("bn-norm", False, "two operations (subtract the mean, divide by the deviation) per BatchNorm output "
                           "element, on top of bn's scale and shift (thop)",
         "BatchNorm normalize", lambda piece, with_output: 2 * piece.bn_elements),
    Term("bn-params", False, "one operation per BatchNorm parameter (scale and shift: 2 per channel), once per "
                             "layer (torchinfo's mult-adds)",
         "BatchNorm parameters", lambda piece, with_output: 2 * piece.bn_channels),
    Term("pool-in", False, "one operation per input element of every pooling layer, max and average (ptflops)",
         "pool inputs", lambda piece, with_output: piece.pool_inputs),
    Term("gap-in", False, "one add per input element of a global average pool (fvcore, thop)",
         "global avg-pool inputs", lambda piece, with_output: piece.gap_inputs),
    Term("avg-div", False, "one division per output element of an average pool (thop)", "avg-pool divisions",
         lambda piece, with_output: piece.avg_outputs),
    Term("norm-in", False, "one operation per input element of a LayerNorm, GroupNorm or InstanceNorm",
         "norm inputs", lambda piece, with_output: piece.norm_elements, quiet=True),
    Term("norm-affine", False, "one operation per input element of a LayerNorm, GroupNorm or InstanceNorm with a "
                               "learnable scale and shift", "norm scale, shift",
         lambda piece, with_output: piece.norm_affine, quiet=True),
    Term("resize-nearest", False, "one operation per output element of a nearest-neighbour upsample",
         "nearest upsample outputs", lambda piece, with_output: piece.resize_nearest, quiet=True),
    Term("resize-linear", False, "one operation per output element of a bilinear or bicubic upsample",
         "linear upsample outputs", lambda piece, with_output: piece.resize_linear, quiet=True),
    Term("unfused-only", False, "minus the MACs of attention written as one scaled_dot_product_attention call, "
                                "which the tool does not see (it counts the MatMuls of attention written out)",
         "fused attention (unseen)", lambda piece, with_output: -piece.fused_macs, quiet=True),
    Term("fc-once", False, "minus an FC layer's MACs and bias adds on every row but the first (torchinfo counts a "
                           "Linear as its parameters, however many tokens or pixels it maps)",
         "FC rows after the first", lambda piece, with_output: -piece.other_rows, quiet=True),
    Term("no-products", False, "minus the MACs of every matrix product of two activations (attention's Q K^T "
                               "and A V: torchinfo counts modules' parameters, and a product has none)",
         "activation products (unseen)", lambda piece, with_output: -piece.product_macs, quiet=True),
    Term("norm-params", False, "one operation per parameter of a LayerNorm, GroupNorm or InstanceNorm, once per "
                               "layer (torchinfo)", "norm parameters",
         lambda piece, with_output: piece.norm_params, quiet=True),
    *(Term(f"act:{kind}", False, f"one operation per output element of a {kind} activation", f"{kind} activations",
           _activations_of(kind)) for kind in ACTIVATIONS),
)}

TERMS = tuple(COUNTING_TERMS)  # every name `ops` accepts, in canonical order
KIND_OPS = tuple(name for name in TERMS if name.startswith("act:"))  # `act:KIND`, one per activation kind
OPS = tuple(name for name in TERMS if name not in KIND_OPS)
ALL_OPS = tuple(name for name, term in COUNTING_TERMS.items() if term.in_all)  # `--ops all`
OP_RULES = {name: term.rule for name, term in COUNTING_TERMS.items()}
