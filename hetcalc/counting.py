"""Counting conventions: how raw counts (`Piece`s) become the FLOPs and parameters reported."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from .costs import Piece
from .errors import OptionError

OPS = ("bias", "bn", "act", "pool", "add")
OP_RULES = {
    "bias": "one add per output element of a convolution or FC layer that has a bias",
    "bn": "two operations (scale, shift) per BatchNorm output element",
    "act": "one operation per activation output element",
    "pool": "one operation per pooling window element read (kernel area x output elements)",
    "add": "one add per element of each residual addition",
}


@dataclass(frozen=True)
class Convention:
    """What counts as a FLOP and as a parameter. The default is the paper's: MACs of conv and FC layers."""

    flops_per_mac: int = 1
    ops: tuple[str, ...] = ()  # extra operations counted on top of the MACs, from OPS
    replace_first: bool = False

    def __post_init__(self) -> None:
        if self.flops_per_mac not in (1, 2):
            raise OptionError(f"flops per MAC must be 1 or 2, got {self.flops_per_mac!r}")
        bad = [op for op in self.ops if op not in OPS]
        if bad:
            raise OptionError(f"unknown operation '{bad[0]}' to count (known: {', '.join(OPS)}, all)")
        object.__setattr__(self, "ops", tuple(op for op in OPS if op in self.ops))

    def flops(self, piece: Piece) -> int:
        """FLOPs of one piece under this convention."""
        ops = set(self.ops)
        return (piece.macs * self.flops_per_mac
                + (piece.bias_adds if "bias" in ops else 0)
                + (2 * piece.bn_elements if "bn" in ops else 0)
                + (piece.act_elements if "act" in ops else 0)
                + (piece.pool_ops if "pool" in ops else 0)
                + (piece.add_ops if "add" in ops else 0))

    @staticmethod
    def params(piece: Piece) -> int:
        """Learnable parameters of one piece: weights, biases, BatchNorm scale and shift (as PyTorch)."""
        return piece.weights + piece.biases + 2 * piece.bn_channels

    def rules(self) -> list[str]:
        """The counting rules in force, one sentence each."""
        mac = ("1 multiply-accumulate (MAC) = 1 FLOP, as in the paper's eq. 1" if self.flops_per_mac == 1
               else "1 multiply-accumulate (MAC) = 2 FLOPs (a multiply and an add)")
        rules = [f"FLOPs: MACs of convolution and fully connected layers; {mac}."]
        rules += [f"Plus {OP_RULES[op]}." for op in self.ops]
        rules.append("Parameters: every learnable weight, bias and BatchNorm scale and shift "
                     "(PyTorch's sum of numel()).")
        first = "including" if self.replace_first else "except"
        rules.append(f"Replaced: every K x K convolution with K > 1 {first} the network's first; "
                     "1 x 1 convolutions, grouped convolutions and FC layers stay standard.")
        rules.append("Latency depth: conv and FC layers on the longest input-to-output path "
                     "(a residual shortcut is a parallel branch).")
        return rules

    def summary(self) -> str:
        """A short tag: 'MACs', '2xMACs + bias + bn'."""
        base = "MACs" if self.flops_per_mac == 1 else "2xMACs"
        return " + ".join([base, *self.ops])

    def to_dict(self) -> dict:
        data = asdict(self)
        data["ops"] = list(self.ops)
        data["params"] = "pytorch"
        data["rules"] = self.rules()
        return data
