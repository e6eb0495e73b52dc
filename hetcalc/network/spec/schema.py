"""What a spec may say: its top-level keys, each layer type with the options it takes, the shorthand, the words
some options accept, and the bounds. docs/spec.md documents every name here (tests/test_bad_specs.py checks)."""

from __future__ import annotations

# one bound and one set of modes for specs and imported graphs
from hetcalc.network.rules import MAX_LAYERS, PAD_MODES, UPSAMPLE_MODES  # noqa: F401

MAX_NESTING = 32  # residual blocks inside residual blocks

TOP_KEYS = ("name", "title", "description", "note", "dataset", "input", "defaults", "layers")
DEFAULT_KEYS = {"conv": ("bias", "bn", "act"), "fc": ("bias", "act")}

CONV_KEYS = ("out", "in", "kernel", "stride", "padding", "dilation", "groups", "bias", "bn", "act", "repeat",
             "name", "replace", "P")
FC_KEYS = ("out", "in", "bias", "act", "repeat", "rows", "shape", "name")
POOL_KEYS = ("kernel", "stride", "padding", "global", "output", "ceil", "mean", "name")
STAGE_KEYS = ("block", "out", "repeat", "stride", "width", "shortcut", "groups", "P", "replace", "name")
RESIDUAL_KEYS = ("body", "shortcut", "act", "name", "repeat")
CONCAT_KEYS = ("branches", "with", "inputs", "repeat", "params", "out", "name")
MERGE_KEYS = ("with", "inputs", "act", "name")
BN_KEYS = ("act", "name")
ACT_KEYS = ("fn", "params", "name")
NORM_KEYS = ("type", "params", "act", "name")
MATMUL_KEYS = ("inputs", "out", "inner", "fused", "name")
SE_KEYS = ("reduction", "squeeze", "bias", "act", "gate", "name")
UPSAMPLE_KEYS = ("scale", "size", "mode", "name")
PAD_KEYS = ("padding", "channels", "mode", "name")
SHAPE_KEYS = ("out", "name")
FLATTEN_KEYS = ("name",)

# every layer type and the options it takes, in the order messages list them (each has a handler in ENTRIES)
ENTRY_KEYS = {"conv": CONV_KEYS, "fc": FC_KEYS, "maxpool": POOL_KEYS, "avgpool": POOL_KEYS, "stage": STAGE_KEYS,
              "residual": RESIDUAL_KEYS, "concat": CONCAT_KEYS, "add": MERGE_KEYS, "mul": MERGE_KEYS,
              "bn": BN_KEYS, "act": ACT_KEYS, "se": SE_KEYS, "upsample": UPSAMPLE_KEYS, "pad": PAD_KEYS,
              "slice": SHAPE_KEYS, "reshape": SHAPE_KEYS, "flatten": FLATTEN_KEYS, "norm": NORM_KEYS,
              "matmul": MATMUL_KEYS}
LAYER_TYPES = tuple(ENTRY_KEYS)
# the option a bare value stands for: `conv: 64` is `conv: {out: 64}`
SHORTHAND = {"conv": "out", "fc": "out", "maxpool": "kernel", "avgpool": "kernel", "act": "fn", "se": "reduction",
             "upsample": "scale", "pad": "padding", "slice": "out", "reshape": "out", "add": "with", "mul": "with",
             "concat": "with"}

BLOCKS = ("basic", "bottleneck")
STAGE_SHORTCUTS = ("projection", "zero_pad")
RESIDUAL_SHORTCUTS = ("identity", "zero_pad")
PAD_WORDS = ("same", "valid")
# spellings of activations from other frameworks -> hetcalc's name (for "did you mean")
ACTIVATION_NAMES = {"swish": "silu", "hard_swish": "hardswish", "leakyrelu": "leaky_relu", "relu_6": "relu6",
                    "logistic": "sigmoid", "identity": "none", "linear": "none", "none": "none"}
