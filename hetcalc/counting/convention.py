"""Counting conventions: how raw counts (`Piece`s) become the FLOPs and parameters reported."""

from __future__ import annotations

from dataclasses import asdict

from hetcalc.convtypes import Piece
from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean
from hetcalc.core.records import Record, record
from hetcalc.counting.terms import COUNTING_TERMS
from hetcalc.counting.terms import ALL_OPS, KIND_OPS, OP_RULES, OPS, TERMS  # noqa: F401  (re-exported)
from hetcalc.network.graph import ACTIVATIONS  # not from .spec: that would load the spec machinery at start-up

PARAM_STYLES = ("pytorch", "keras")
HETCONV_ACCOUNTING = ("exact", "ratio")
# name -> Preset: the slot counting/presets.py fills (hetcalc.counting imports it right after this module)
PRESETS: dict = {}


def _op_names(ops) -> tuple[str, ...]:
    """Operation names from a tuple or list of names, or one string ('bn' or 'bn,act'); 'all' is every term
    marked `in_all`. Every name must be in COUNTING_TERMS: a misspelt one is refused, never dropped.
    """
    if isinstance(ops, str):
        ops = ops.split(",")
    try:
        items = list(ops)
    except TypeError:
        raise OptionError(f"ops must be a list of operation names ({_known()}), got {ops!r}") from None
    names, every = [], False
    for op in items:
        if not isinstance(op, str):
            raise OptionError(f"ops must be operation names ({_known()}), got {op!r}")
        name = op.strip().lower()
        if not name:
            continue
        if name == "all":
            every = True
        elif name not in COUNTING_TERMS:
            raise OptionError(f"unknown operation {op.strip()!r} to count{did_you_mean(name, COUNTING_TERMS)} "
                              f"(known: {_known()}, "
                              f"act:KIND with KIND one of {', '.join(ACTIVATIONS)}; all)")
        else:
            names.append(name)
    if every:  # 'all' counts each of its terms once, whatever else is listed beside it
        every_op = [name for name, term in COUNTING_TERMS.items() if term.in_all]
        names = [*every_op, *(n for n in names if n not in every_op)]
    return tuple(names)


def _known() -> str:
    """The term names an error lists (the act:KIND terms are named once, as a pattern)."""
    return ", ".join(name for name in COUNTING_TERMS if not name.startswith("act:"))


@record
class Convention(Record):
    """What counts as a FLOP and as a parameter. The default is the paper's: MACs of conv and FC layers."""

    flops_per_mac: int = 1
    ops: tuple[str, ...] = ()  # extra terms counted on top of the MACs (counting/terms.py)
    replace_first: bool = False
    params: str = "pytorch"  # "pytorch": BatchNorm scale+shift; "keras": also its moving mean and variance
    hetconv: str = "exact"  # "exact": eqs. 2-4 as built; "ratio": standard count x eq. 5
    ratio_1x1: bool = False  # with hetconv="ratio": 1x1 convolutions take the network's K x K ratio too
    pointwise_bias: bool = True  # GWC/DWC+PWC: the pointwise conv has a bias when the network's convs do
    preset: str | None = None  # the named preset (counting/presets.py) these rules reproduce, if any

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
        if self.preset is not None:
            if self.preset not in PRESETS:
                raise OptionError(f"unknown convention {self.preset!r}{did_you_mean(self.preset, PRESETS)} "
                                  f"(known: {', '.join(PRESETS)})")
            fields = PRESETS[self.preset].fields()
            wrong = [key for key, value in fields.items()
                     if (sorted(self.ops) != sorted(value) if key == "ops" else getattr(self, key) != value)]
            if wrong:
                raise OptionError(f"preset={self.preset!r} names rules these are not ({', '.join(wrong)}): "
                                  f"use hetcalc.presets.preset_convention({self.preset!r})")
        # canonical order; a term listed n times counts n times (ptflops counts some modules twice)
        object.__setattr__(self, "ops", tuple(op for op in COUNTING_TERMS for _ in range(self.ops.count(op))))

    def flops(self, piece: Piece) -> int:
        """FLOPs of one piece under this convention."""
        if not self.ops:
            return piece.macs * self.flops_per_mac
        return sum(count for _, count in self.terms(piece))

    def terms(self, piece: Piece) -> list[tuple[str, int]]:
        """(term, count) for "macs" and each op counted: they add up to `flops(piece)`."""
        with_output = "output" in self.ops
        terms = [("macs", piece.macs * self.flops_per_mac)]
        for op in dict.fromkeys(self.ops):  # canonical order, each once, times how often it is listed
            terms.append((op, self.ops.count(op) * self.op_count(op, piece, with_output)))
        return terms

    @staticmethod
    def op_count(op: str, piece: Piece, with_output: bool = False) -> int:
        """The raw count of one `--ops` term in a piece (its row in counting/terms.py)."""
        return COUNTING_TERMS[op].count(piece, with_output)

    def param_count(self, piece: Piece) -> int:
        """Parameters of one piece: weights, biases and BatchNorm's 2 (PyTorch) or 4 (Keras) per channel."""
        per_bn = 2 if self.params == "pytorch" else 4
        return piece.weights + piece.biases + per_bn * piece.bn_channels

    def rules(self) -> list[str]:
        """The counting rules in force, one sentence each."""
        mac = ("1 multiply-accumulate (MAC) = 1 FLOP, as in the paper's eq. 1" if self.flops_per_mac == 1
               else "1 multiply-accumulate (MAC) = 2 FLOPs (a multiply and an add)")
        rules = []
        if self.preset is not None:
            rules.append(PRESETS[self.preset].rule())
        rules.append(f"FLOPs: MACs of convolution and fully connected layers; {mac}.")
        for op in dict.fromkeys(self.ops):
            times = self.ops.count(op)
            rules.append(f"Plus {COUNTING_TERMS[op].rule}" + (f", counted {times} times." if times > 1 else "."))
        if self.params == "pytorch":
            rules.append("Parameters: every learnable weight, bias and BatchNorm scale and shift "
                         "(PyTorch's sum of numel()).")
        else:
            rules.append("Parameters as Keras counts them: weights, biases and four BatchNorm values per "
                         "channel (scale, shift, moving mean, moving variance).")
        first = ("the network's first convolution included (--replace-first)" if self.replace_first else
                 "except the network's first convolution (first in layer order, whatever its kernel)")
        rules.append(f"Replaced: every K x K convolution with K > 1, {first}; "
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

    def brief(self) -> str:
        """The rules of `rules()` in a few words: 'FLOPs = MACs, PyTorch params, first conv kept, HetConv exact'."""
        flops = "FLOPs = MACs" if self.flops_per_mac == 1 else "FLOPs = 2 x MACs"
        flops += "".join(f" + {op}" for op in self.ops)
        parts = [flops, f"{'PyTorch' if self.params == 'pytorch' else 'Keras'} params",
                 "first conv replaced" if self.replace_first else "first conv kept",
                 ("HetConv by eq. 5" + (" incl. 1x1" if self.ratio_1x1 else "")) if self.hetconv == "ratio"
                 else "HetConv exact"]
        if not self.pointwise_bias:
            parts.append("no PWC bias")
        if self.preset is not None:
            parts.insert(0, f"as {self.preset}")
        return ", ".join(parts)

    def summary(self) -> str:
        """A short tag: 'MACs', '2xMACs + bias + bn'."""
        base = "MACs" if self.flops_per_mac == 1 else "2xMACs"
        tags = [" + ".join([base, *[op if self.ops.count(op) == 1 else f"{self.ops.count(op)} {op}"
                                    for op in dict.fromkeys(self.ops)]])]
        if self.preset is not None:
            tags.insert(0, f"as {self.preset}")
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
