"""Architecture specs: declarative YAML (or a dict built in Python) -> validated `Network`.

The format and every validation rule are documented in docs/spec.md.
"""

from hetcalc.core.located import MAX_VALUE
from hetcalc.network.geometry import adaptive_windows, same_pads
from hetcalc.network.graph import ACTIVATIONS
from hetcalc.network.spec.builder import (ACT_KEYS, ACTIVATION_NAMES, BLOCKS, BN_KEYS, CONCAT_KEYS, CONV_KEYS,
                                          DEFAULT_KEYS, FC_KEYS, FLATTEN_KEYS, LAYER_TYPES, MAX_LAYERS, MAX_NESTING,
                                          MERGE_KEYS, PAD_KEYS, PAD_MODES, PAD_WORDS, POOL_KEYS, RESIDUAL_KEYS,
                                          RESIDUAL_SHORTCUTS, SE_KEYS, SHAPE_KEYS, SHORTHAND, STAGE_KEYS,
                                          STAGE_SHORTCUTS, TOP_KEYS, UPSAMPLE_KEYS, UPSAMPLE_MODES, build_network,
                                          load_spec_file, load_spec_text)

__all__ = [
    "ACTIVATIONS", "ACTIVATION_NAMES", "ACT_KEYS", "BLOCKS", "BN_KEYS", "CONCAT_KEYS", "CONV_KEYS", "DEFAULT_KEYS",
    "FC_KEYS", "FLATTEN_KEYS", "LAYER_TYPES", "MAX_LAYERS", "MAX_NESTING", "MAX_VALUE", "MERGE_KEYS", "PAD_KEYS",
    "PAD_MODES", "PAD_WORDS", "POOL_KEYS", "RESIDUAL_KEYS", "RESIDUAL_SHORTCUTS", "SE_KEYS", "SHAPE_KEYS", "SHORTHAND",
    "STAGE_KEYS", "STAGE_SHORTCUTS", "TOP_KEYS", "UPSAMPLE_KEYS", "UPSAMPLE_MODES", "adaptive_windows",
    "build_network", "load_spec_file", "load_spec_text", "same_pads",
]
