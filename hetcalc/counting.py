"""Counting conventions: how raw counts (`Piece`s) become the FLOPs and parameters reported."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .costs import Piece
from .errors import OptionError

OPS = ("bias", "output", "bn", "act", "pool", "add", "se")
PARAM_STYLES = ("pytorch", "keras")
HETCONV_ACCOUNTING = ("exact", "ratio")
OP_RULES = {
    "bias": "one add per output element of a convolution or FC layer that has a bias",
    "output": "one add per convolution output element, bias or not (Li et al.'s CIFAR accounting; "
              "with bias, a convolution's bias adds are these same adds, counted once)",
    "bn": "two operations (scale, shift) per BatchNorm output element",
    "act": "one operation per activation output element",
    "pool": "one operation per pooling window element read (kernel area x output elements)",
    "add": "one add per element of each residual addition (one operation per element of each "
           "element-wise multiplication)",
    "se": "one operation per element for a Squeeze-and-Excitation block's squeeze and one for its scaling",
}


def _op_names(ops) -> tuple[str, ...]:
    """Operation names from a tuple or list of names, or one string ('bn' or 'bn,act'); 'all' is every one.

    Every name must be known: a misspelt one is refused, never dropped.
    """
    if isinstance(ops, str):
        ops = ops.split(",")
    try:
        items = list(ops)
    except TypeError:
        raise OptionError(f"ops must be a list of operation names ({', '.join(OPS)}), got {ops!r}") from None
    names = []
    for op in items:
        if not isinstance(op, str):
            raise OptionError(f"ops must be operation names ({', '.join(OPS)}), got {op!r}")
        name = op.strip().lower()
        if not name:
            continue
        if name == "all":
            names += OPS
        elif name not in OPS:
            raise OptionError(f"unknown operation {op.strip()!r} to count (known: {', '.join(OPS)}, all)")
        else:
            names.append(name)
    return tuple(names)


@dataclass(frozen=True)
class Convention:
    """What counts as a FLOP and as a parameter. The default is the paper's: MACs of conv and FC layers."""

    flops_per_mac: int = 1
    ops: tuple[str, ...] = ()  # extra operations counted on top of the MACs, from OPS
    replace_first: bool = False
    params: str = "pytorch"  # "pytorch": BatchNorm scale+shift; "keras": also its moving mean and variance
    hetconv: str = "exact"  # "exact": eqs. 2-4 as built; "ratio": standard count x eq. 5
    ratio_1x1: bool = False  # with hetconv="ratio": 1x1 convolutions take the network's K x K ratio too
    pointwise_bias: bool = True  # GWC/DWC+PWC: the pointwise conv has a bias when the network's convs do

    def __post_init__(self) -> None:
        for name in ("replace_first", "ratio_1x1", "pointwise_bias"):
            value = getattr(self, name)
            if type(value) is not bool:  # 'no' and 'false' are truthy strings, not False
                raise OptionError(f"{name} must be True or False, got {value!r}")
        for name, allowed in (("params", PARAM_STYLES), ("hetconv", HETCONV_ACCOUNTING)):
            if not isinstance(getattr(self, name), str):
                raise OptionError(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        object.__setattr__(self, "ops", _op_names(self.ops))
        if type(self.flops_per_mac) is not int or self.flops_per_mac not in (1, 2):
            raise OptionError(f"flops per MAC must be 1 or 2, got {self.flops_per_mac!r}")
        if self.params not in PARAM_STYLES:
            raise OptionError(f"parameter counting must be one of {', '.join(PARAM_STYLES)}, got {self.params!r}")
        if self.hetconv not in HETCONV_ACCOUNTING:
            raise OptionError(f"HetConv accounting must be one of {', '.join(HETCONV_ACCOUNTING)}, "
                              f"got {self.hetconv!r}")
        if self.ratio_1x1 and self.hetconv != "ratio":
            raise OptionError("ratio_1x1 (--ratio-1x1) needs ratio accounting for HetConv "
                              "(hetconv='ratio', --hetconv ratio)")
        object.__setattr__(self, "ops", tuple(op for op in OPS if op in self.ops))

    def flops(self, piece: Piece) -> int:
        """FLOPs of one piece under this convention."""
        ops = set(self.ops)
        return (piece.macs * self.flops_per_mac
                + (piece.conv_outputs if "output" in ops else 0)
                # with "output" a convolution's bias add is already its per-output add: count it once
                + (piece.bias_adds if "bias" in ops and not ("output" in ops and piece.conv_outputs) else 0)
                + (2 * piece.bn_elements if "bn" in ops else 0)
                + (piece.act_elements if "act" in ops else 0)
                + (piece.pool_ops if "pool" in ops else 0)
                + (piece.add_ops if "add" in ops else 0)
                + (piece.se_ops if "se" in ops else 0))

    def param_count(self, piece: Piece) -> int:
        """Parameters of one piece: weights, biases and BatchNorm's 2 (PyTorch) or 4 (Keras) per channel."""
        per_bn = 2 if self.params == "pytorch" else 4
        return piece.weights + piece.biases + per_bn * piece.bn_channels

    def rules(self) -> list[str]:
        """The counting rules in force, one sentence each."""
        mac = ("1 multiply-accumulate (MAC) = 1 FLOP, as in the paper's eq. 1" if self.flops_per_mac == 1
               else "1 multiply-accumulate (MAC) = 2 FLOPs (a multiply and an add)")
        rules = [f"FLOPs: MACs of convolution and fully connected layers; {mac}."]
        rules += [f"Plus {OP_RULES[op]}." for op in self.ops]
        if self.params == "pytorch":
            rules.append("Parameters: every learnable weight, bias and BatchNorm scale and shift "
                         "(PyTorch's sum of numel()).")
        else:
            rules.append("Parameters as Keras counts them: weights, biases and four BatchNorm values per "
                         "channel (scale, shift, moving mean, moving variance).")
        first = "including" if self.replace_first else "except"
        rules.append(f"Replaced: every K x K convolution with K > 1 {first} the network's first; "
                     "1 x 1 convolutions, grouped convolutions and FC layers stay standard.")
        if self.hetconv == "ratio":
            scope = ("replaced layer, and every 1 x 1 convolution but the first (with the K of the replaced "
                     "layers)" if self.ratio_1x1 else "replaced layer")
            rules.append(f"HetConv by ratio accounting: each {scope} costs its standard FLOPs and parameters "
                         "times eq. 5, 1/P + (1 - 1/P)/K^2, rounded to the nearest integer.")
        else:
            rules.append("HetConv counted exactly as built (eqs. 2-4): M/P kernels K x K and M - M/P "
                         "kernels 1 x 1 per filter.")
        if not self.pointwise_bias:
            rules.append("GWC+PWC and DWC+PWC: only the groupwise/depthwise convolution carries a bias.")
        rules.append("Latency depth: conv and FC layers on the longest input-to-output path "
                     "(a residual shortcut is a parallel branch).")
        return rules

    def summary(self) -> str:
        """A short tag: 'MACs', '2xMACs + bias + bn'."""
        base = "MACs" if self.flops_per_mac == 1 else "2xMACs"
        tags = [" + ".join([base, *self.ops])]
        if self.params != "pytorch":
            tags.append(f"{self.params} params")
        if self.hetconv == "ratio":
            tags.append("ratio accounting" + (" incl. 1x1" if self.ratio_1x1 else ""))
        if not self.pointwise_bias:
            tags.append("no PWC bias")
        if self.replace_first:
            tags.append("first replaced")
        return "; ".join(tags)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ops"] = list(self.ops)
        data["rules"] = self.rules()
        return data
