"""What the peer tools that count by module class count for a layer of a torch module, against their preset.

ptflops (pytorch backend) and thop look up `type(module)` in a table, torchinfo counts leaf modules with
parameters (a convolution's rule when its class name holds "Conv"); the presets assume the torchvision way
(every layer its own `nn.Conv2d`, `nn.BatchNorm2d`, `nn.ReLU`, `nn.Linear` module). When hetcalc analyses a
torch module, the importer records which module each part of a layer came from (`meta["modules"]`, see
network/importers/torch.py), and `module_delta` gives the difference from the preset's count, found by
running the pinned tools (tests/test_module_classes.py checks each rule against them). The importer also notes
which F.* activations ran while the module was traced, so torch.relu and x.relu(), which ptflops does not
see, are told from F.relu, which it does (class '' in the facts).
"""

from __future__ import annotations

from hetcalc.convtypes import Piece

NN = "torch.nn.modules."
PTFLOPS_MODULES = {NN + c for c in (
    "conv.Conv1d", "conv.Conv2d", "conv.Conv3d", "activation.ReLU", "activation.PReLU", "activation.ELU",
    "activation.LeakyReLU", "activation.ReLU6", "activation.GELU", "pooling.MaxPool1d", "pooling.AvgPool1d",
    "pooling.AvgPool2d", "pooling.MaxPool2d", "pooling.AdaptiveMaxPool2d", "pooling.AdaptiveAvgPool2d",
    "batchnorm.BatchNorm1d", "batchnorm.BatchNorm2d", "batchnorm.BatchNorm3d", "linear.Linear",
    "upsampling.Upsample")}
PTFLOPS_NORMS = {NN + c for c in (
    "normalization.LayerNorm", "normalization.GroupNorm", "instancenorm.InstanceNorm1d",
    "instancenorm.InstanceNorm2d", "instancenorm.InstanceNorm3d")}
PTFLOPS_PATCHED = ("relu", "gelu", "silu")  # F.<kind> is patched, and nn.<Kind>.forward calls it
PTFLOPS_ACTS = ("relu", "relu6", "gelu", "silu", "leaky_relu")  # the kinds its preset counts
THOP_NORMS = {NN + c for c in ("normalization.LayerNorm", "instancenorm.InstanceNorm1d", "instancenorm.InstanceNorm2d",
                               "instancenorm.InstanceNorm3d")}
THOP_MODULES = {NN + c for c in (
    "conv.Conv1d", "conv.Conv2d", "conv.Conv3d", "batchnorm.BatchNorm1d", "batchnorm.BatchNorm2d",
    "batchnorm.BatchNorm3d", "pooling.AvgPool2d", "pooling.AdaptiveAvgPool2d", "linear.Linear",
    "upsampling.Upsample", "upsampling.UpsamplingNearest2d", "upsampling.UpsamplingBilinear2d")}


def ptflops_delta(role: str, cls: str | None, leaf: bool, piece: Piece, times: dict) -> tuple[int, int]:
    """ptflops 0.7.5, pytorch backend: a module hook when type(module) is in its table, plus the patched
    functional the op calls (F.relu, F.max_pool2d, ...; never F.conv2d, F.linear or F.batch_norm)."""
    hooked = cls in PTFLOPS_MODULES
    if role in ("conv", "fc") and not hooked:
        return -(piece.macs + piece.bias_adds), 0
    if role == "bn" and not hooked:
        return -2 * piece.bn_elements, 0
    if role == "norm":  # its presets count no norm; the module hook counts each input element once, twice
        # when the module has `affine` set (GroupNorm, InstanceNorm), which LayerNorm never has
        if cls not in PTFLOPS_NORMS:
            return 0, 0
        return piece.norm_elements + (0 if cls.endswith(".LayerNorm") else piece.norm_affine), 0
    if role == "pool":
        return (int(hooked) + 1 - 2) * piece.pool_inputs, 0
    if role == "resize":  # nn.Upsample's hook, and the F.interpolate it or a functional call runs
        return (int(hooked) + 1 - 2) * (piece.resize_nearest + piece.resize_linear), 0
    if role.startswith("act:") and role[4:] in PTFLOPS_ACTS:
        kind = role[4:]
        functional = cls != "" and (kind in PTFLOPS_PATCHED or (kind == "relu6" and cls is None))  # nn.ReLU6
        # calls hardtanh; '' is torch.relu or x.relu(), which no patched F.* sees
        return (int(hooked) + int(functional) - times.get(role, 0)) * piece.act_elements, 0
    return 0, 0


def thop_delta(role: str, cls: str | None, leaf: bool, piece: Piece, times: dict) -> tuple[int, int]:
    """thop 0.1.1: leaf modules whose exact type is in its table, nothing else (their parameters alike)."""
    if role == "norm":  # its preset counts no norm: 2 per input element, 4 with a scale and shift
        if cls in THOP_NORMS and leaf:
            return 2 * (piece.norm_elements + piece.norm_affine), 0
        return 0, -piece.norm_params
    if cls in THOP_MODULES and leaf:
        return 0, 0
    if role in ("conv", "fc"):
        return -piece.macs, -(piece.weights + piece.biases)
    if role == "bn":
        return -4 * piece.bn_elements, -2 * piece.bn_channels
    if role == "pool":
        return -(piece.gap_inputs + piece.avg_outputs), 0
    if role == "resize":
        return -piece.resize_nearest, 0
    return 0, 0


def torchinfo_delta(role: str, cls: str | None, leaf: bool, piece: Piece, times: dict) -> tuple[int, int]:
    """torchinfo 1.8.0: mult-adds of leaf modules only; a module whose class name lacks "Conv" counts its
    parameters once (batch 1), not per output position."""
    if role == "conv" and leaf and cls is not None and "Conv" not in cls.rsplit(".", 1)[-1]:
        return piece.weights + piece.biases - piece.macs - piece.bias_adds, 0
    if leaf or cls is None:
        return 0, 0
    if role in ("conv", "fc"):
        return -(piece.macs + piece.bias_adds), 0
    if role == "bn":
        return -2 * piece.bn_channels, 0
    return 0, 0


MODULE_RULES = {"ptflops-pytorch": ptflops_delta, "thop": thop_delta, "torchinfo": torchinfo_delta}


def module_delta(preset: str | None, facts, piece: Piece, ops: tuple[str, ...]) -> tuple[int, int]:
    """(FLOPs, parameters) the tool of `preset` counts for one layer beyond its preset's count, given the
    layer's module facts ((role, class, leaf), ...) and its raw counts `piece`."""
    rule = MODULE_RULES.get(preset or "")
    if rule is None or not facts:
        return 0, 0
    times = {op: ops.count(op) for op in ops if op.startswith("act:")}
    flops = params = 0
    for role, cls, leaf in facts:
        f, p = rule(role, cls, leaf, piece, times)
        flops, params = flops + f, params + p
    return flops, params
