"""Named conventions that reproduce the FLOP counters people compare against (`--convention NAME`).

Each preset is a `Convention` (MACs per FLOP and `--ops` terms, rules in counting/terms.py) plus what a
spec cannot know: the tool and version it reproduces, the call whose figure it gives, and the ways of
writing the PyTorch model that move that figure. Every rule was found by running the pinned tool on
networks written as torchvision writes them (tests/test_peer_tools.py checks each one exactly).
"""

from __future__ import annotations

from typing import Any

from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean
from hetcalc.core.records import Record, record
from hetcalc.counting.convention import PRESETS, Convention


@record
class Preset(Record):
    """One tool's counting rule as a hetcalc convention."""

    name: str
    tool: str  # "fvcore 0.1.5 (0.1.5.post20221221)"
    call: str  # the figure reproduced
    unit: str  # what the tool calls that figure
    counts: str  # one sentence: what the tool counts, in its own terms
    flops_per_mac: int
    ops: tuple[str, ...]
    params: bool  # whether the tool reports a parameter count (PyTorch's sum of numel() for every tool)
    writing: tuple[str, ...] = ()  # model-writing details that move the tool's figure
    table: str = ""  # a paper-table preset: the table it reproduces as printed ("1", "4.3"); "" for a tool's
    fixed: tuple[tuple[str, Any], ...] = ()  # Convention fields the preset sets beyond flops_per_mac and ops

    def fields(self) -> dict:
        """Every Convention field this preset sets: options may not change them."""
        return {"flops_per_mac": self.flops_per_mac, "ops": self.ops, "params": "pytorch", **dict(self.fixed)}

    def convention(self, **options: Any) -> Convention:
        """The Convention of this preset; `options` may set the replacement rules (replace_first, ...) that
        the preset leaves open, or repeat a value it sets."""
        fields = self.fields()
        for key, value in options.items():
            if key in ("flops_per_mac", "ops", "params") or (key in fields and value != fields[key]):
                raise _conflict(self.name, key)
        return Convention(**{**options, **fields}, preset=self.name)

    def rule(self) -> str:
        """The line printed first among the rules in force."""
        if self.name == "paper":
            return ("Convention 'paper': the HetConv paper's eq. 1 (conv and FC MACs, HetConv exact by eqs. "
                    "2-4); the paper's printed tables each count differently: --convention paper-tableN "
                    "reproduces one as printed.")
        if self.table:
            return f"Convention '{self.name}': {self.call}: {self.counts} (docs/reproducing-the-paper.md)."
        return (f"Convention '{self.name}': reproduces {self.tool}, {self.call} ({self.unit}), for the model "
                "written as torchvision writes it (docs/conventions.md).")

    def to_dict(self) -> dict:
        return {"name": self.name, "tool": self.tool, "call": self.call, "unit": self.unit, "counts": self.counts,
                "flops_per_mac": self.flops_per_mac, "ops": list(self.ops), "params": self.params,
                "writing": list(self.writing)}


def _conflict(name: str, key: str) -> OptionError:
    flag = {"flops_per_mac": "--flops-per-mac", "ops": "--ops", "params": "--params", "hetconv": "--hetconv",
            "ratio_1x1": "--ratio-1x1", "pointwise_bias": "--pointwise-bias", "replace_first": "--replace-first"}[key]
    return OptionError(f"convention '{name}' sets the counting rules: drop {flag} ({key}=) or drop the "
                       "convention")


# registered into the slot convention.py validates `Convention(preset=...)` against
PRESETS.update({p.name: p for p in (
    Preset("paper", "the HetConv paper (Singh et al., CVPR 2019)", "eq. 1", "FLOPs = MACs",
           "multiply-accumulates of convolution and fully connected layers, nothing else, HetConv exact (eqs. "
           "2-4): the paper's equations, not how each of its tables counts (Table 1 adds bias adds, ratio "
           "accounting and Keras parameters: 105.98M for VGG-16 at P = 4, not 105.85M); the paper-tableN "
           "presets reproduce the tables as printed", 1, (), True),
    Preset("fvcore", "fvcore 0.1.5 (0.1.5.post20221221)", "FlopCountAnalysis(model, x).total()", "flops",
           "one flop per MAC of convolutions and linear layers (biases not counted); BatchNorm in eval mode "
           "2 per element; adaptive average pooling 1 per input element; LayerNorm and GroupNorm 5 per "
           "element (4 without affine); nearest upsampling 1 and bilinear 4 per output element; matmul and "
           "einsum their MACs, but not scaled_dot_product_attention (no rule in 0.1.5); ReLU, GELU, softmax, "
           "max and fixed-kernel pooling, additions and flatten 0", 1,
           ("bn", "gap-in", "norm-in", "norm-in", "norm-in", "norm-in", "norm-affine", "resize-nearest",
            "resize-linear", "resize-linear", "resize-linear", "resize-linear", "unfused-only"), True,
           ("model.eval(): in training mode fvcore counts BatchNorm as 5 per element, not 2",
            "global pool as nn.AdaptiveAvgPool2d or F.adaptive_avg_pool2d (counted: 1 per input element); "
            "written x.mean((2, 3)) or nn.AvgPool2d(7) it counts 0",
            "F.relu, torch.relu, `out += identity` and torch.flatten count 0 however written")),
    Preset("ptflops-pytorch", "ptflops 0.7.5", "get_model_complexity_info(model, (C, H, W), backend='pytorch')",
           "MACs",
           "MACs of convolutions and linear layers plus one per bias output; BatchNorm 2 per element; "
           "2 per output element of nn.ReLU and nn.GELU and 2 per input element of each pooling module (its "
           "hook counts 1, and the F.relu / F.max_pool2d its forward calls counts 1 more); 1 per element of "
           "nn.ReLU6 and nn.LeakyReLU (hook only) and of nn.SiLU (F.silu only); sigmoid, tanh, hardswish 0; "
           "`+=`, `+` and torch.flatten 0",
           1, ("bias", "bn", "act:relu", "act:relu", "act:gelu", "act:gelu", "act:relu6", "act:leaky_relu", "act:silu",
               "pool-in", "pool-in", "resize-nearest", "resize-nearest", "resize-linear", "resize-linear"), True,
           ("nn.ReLU, nn.GELU and pooling modules count twice: once by the module hook, once by the patched "
            "functional their forward calls; written as F.relu / F.max_pool2d / F.adaptive_avg_pool2d they "
            "count once, and with backend_specific_config={'count_functional': False} modules count once",
            "torch.relu, x.relu() and x.mean((2, 3)) count 0",
            "residual additions written `out += identity` or `x + y` count 0; torch.add(x, y) counts "
            "1 per element",
            "a module called several times (torchvision's one ReLU per block) counts at every call")),
    Preset("ptflops-aten", "ptflops 0.7.5", "get_model_complexity_info(model, (C, H, W), backend='aten')",
           "MACs",
           "aten.convolution, aten.addmm, aten.mm, aten.bmm: MACs plus one per bias output; nothing else "
           "(scaled_dot_product_attention's own kernel is not one of them)",
           1, ("bias", "unfused-only"), True,
           ("counted at the aten level: modules, F.* calls and tensor operations count the same",)),
    Preset("thop", "thop 0.1.1 (0.1.1.post2209072238)", "profile(model, inputs=(x,))", "ops",
           "MACs of nn.Conv2d and nn.Linear (biases not counted); nn.BatchNorm2d 4 per element; "
           "nn.AdaptiveAvgPool2d (kernel area + 1) per output element; nn.AvgPool2d 1 per output element; "
           "nn.Upsample (nearest) 1 per output element; ReLU and max pooling 0; functional and tensor operations "
           "0", 1, ("bn", "bn-norm", "gap-in", "avg-div", "resize-nearest"),
           True,
           ("only modules are counted: a global pool written F.adaptive_avg_pool2d or x.mean((2, 3)) counts 0, "
            "as do additions and flatten",
            "global pool as nn.AvgPool2d(7) counts 1 per output element instead of (49 + 1)",
            "a module type thop has no rule for (a custom block's own forward arithmetic) counts 0")),
    Preset("torchinfo", "torchinfo 1.8.0", "summary(model, input_size=(1, C, H, W)).total_mult_adds",
           "mult-adds",
           "convolutions: (weight + bias) elements x output area, i.e. MACs plus one per bias output; other "
           "modules with parameters: their parameter count (Linear: MACs plus biases on a flat input, its "
           "parameters once on a [..., features] input; BatchNorm, LayerNorm: 2 per channel); parameter-free "
           "modules, tensor operations and attention's products 0", 1,
           ("bias", "bn-params", "fc-once", "no-products", "norm-params"), True,
           ("only parameters are counted: ReLU, pooling, additions and flatten count 0 however written",
            "the batch size multiplies every term (hetcalc counts batch 1)")),
    Preset("flopcounter", "torch 2.13 FlopCounterMode", "FlopCounterMode().get_total_flops()", "FLOPs",
           "2 per MAC of aten.convolution, aten.mm, aten.addmm and aten.bmm (biases not counted); nothing "
           "else (scaled_dot_product_attention on CPU runs a kernel it has no rule for); no parameter count", 2,
           ("unfused-only", "unfused-only"), False,
           ("counted at the aten level: modules, F.* calls and tensor operations count the same",)),
)})




def _table(table: str, network: str, command: str, counts: str, ops: tuple[str, ...] = (), **fixed: Any) -> Preset:
    """A preset that reproduces one of the paper's tables as printed (analysis/reproduce.py checks each)."""
    what = "section 4.3's text" if table == "4.3" else f"Table {table}"
    name = "paper-section4.3" if table == "4.3" else f"paper-table{table}"
    return Preset(name, "the HetConv paper (Singh et al., CVPR 2019)", f"the paper's {what} ({network}) as "
                  "printed", "FLOPs", counts, 1, ops, True, (f"for example `{command}`",), table=table,
                  fixed=tuple(fixed.items()))


# The paper's tables: one convention each, as docs/reproducing-the-paper.md derives them
PRESETS.update({p.name: p for p in (
    _table("1", "VGG-16, CIFAR-10", "hetcalc vgg16 --convention paper-table1 --P 4",
           "MACs plus one add per biased conv and FC output; HetConv by ratio accounting (standard count x eq. "
           "5); Keras parameters; GWC/DWC+PWC's pointwise conv without bias; the PC rows use --P N; the SE "
           "parameter columns follow --se 16, the SE FLOPs --se 8",
           ("bias",), params="keras", hetconv="ratio", pointwise_bias=False),
    _table("3", "ResNet-56, CIFAR-10", "hetcalc resnet56 --convention paper-table3 --P 2",
           "MACs plus one add per conv output element; HetConv by ratio accounting", ("output",), hetconv="ratio"),
    _table("4.3", "ResNet-56, CIFAR-10", "hetcalc resnet56 --convention paper-section4.3 --by layer",
           "MACs plus one add per conv output element; HetConv exact", ("output",)),
    _table("4", "MobileNet, CIFAR-10", "hetcalc mobilenet --convention paper-table4 --P 32",
           "MACs plus the global average pool's adds; HetConv exact; the baseline is the DWC+PWC row", ("pool",)),
    _table("5", "VGG-16, ImageNet", "hetcalc vgg16-imagenet --convention paper-table5 --P 4",
           "MACs; HetConv exact"),
    _table("6", "ResNet-34, ImageNet", "hetcalc resnet34 --convention paper-table6 --P 4",
           "MACs; HetConv by ratio accounting, the 1x1 projection shortcuts included", hetconv="ratio",
           ratio_1x1=True),
    _table("7", "ResNet-50, ImageNet", "hetcalc resnet50 --convention paper-table7 --P 4",
           "MACs; HetConv exact, every 1x1 convolution unchanged"),
)})


def tool_presets() -> list[Preset]:
    """The presets that reproduce a FLOP counter (not one of the paper's tables): what reconcile compares."""
    return [p for p in PRESETS.values() if not p.table]


def preset_names() -> str:
    return ", ".join(PRESETS)


def get_preset(name: Any) -> Preset:
    """The preset called `name`, or a one-line error naming the known ones."""
    key = name.strip().lower() if isinstance(name, str) else name
    if not isinstance(key, str) or key not in PRESETS:
        shown = repr(name) if isinstance(name, str) else f"{name!r} (a {type(name).__name__})"
        raise OptionError(f"unknown convention {shown}{did_you_mean(key, PRESETS)} (known: {preset_names()})")
    return PRESETS[key]


def preset_convention(name: Any, **options: Any) -> Convention:
    """`Convention` of the preset `name`, with optional replacement rules (replace_first, hetconv, ...)."""
    return get_preset(name).convention(**options)
