"""Architecture specs: declarative YAML (or a dict built in Python) -> validated `Network`.

The format and every validation rule are documented in docs/spec.md. A spec says what the network is,
never how it is costed. Every error is a `SpecError` naming the file, the line and column of the entry at
fault, and the value found there.

schema.py says what a spec may contain; builder.py walks the layer list (GraphBuilder) and dispatches each
entry to its handler in ENTRIES; entries_layers.py, entries_blocks.py and entries_movement.py hold the
handlers; load.py reads a document, text or file.
"""

from hetcalc.core.located import MAX_VALUE
from hetcalc.network.geometry import adaptive_windows, same_pads
from hetcalc.network.graph import ACTIVATIONS
from hetcalc.network.spec.load import build_network, load_spec_file, load_spec_text
from hetcalc.network.spec.schema import (ACT_KEYS, ACTIVATION_NAMES, BLOCKS, BN_KEYS, CONCAT_KEYS, CONV_KEYS,
                                         DEFAULT_KEYS, FC_KEYS, FLATTEN_KEYS, LAYER_TYPES, MAX_LAYERS, MAX_NESTING,
                                         MERGE_KEYS, PAD_KEYS, PAD_MODES, PAD_WORDS, POOL_KEYS, RESIDUAL_KEYS,
                                         RESIDUAL_SHORTCUTS, SE_KEYS, SHAPE_KEYS, SHORTHAND, STAGE_KEYS,
                                         STAGE_SHORTCUTS, TOP_KEYS, UPSAMPLE_KEYS, UPSAMPLE_MODES)

__all__ = [
    "ACTIVATIONS", "ACTIVATION_NAMES", "ACT_KEYS", "BLOCKS", "BN_KEYS", "CONCAT_KEYS", "CONV_KEYS", "DEFAULT_KEYS",
    "FC_KEYS", "FLATTEN_KEYS", "LAYER_TYPES", "MAX_LAYERS", "MAX_NESTING", "MAX_VALUE", "MERGE_KEYS", "PAD_KEYS",
    "PAD_MODES", "PAD_WORDS", "POOL_KEYS", "RESIDUAL_KEYS", "RESIDUAL_SHORTCUTS", "SE_KEYS", "SHAPE_KEYS", "SHORTHAND",
    "STAGE_KEYS", "STAGE_SHORTCUTS", "TOP_KEYS", "UPSAMPLE_KEYS", "UPSAMPLE_MODES", "adaptive_windows",
    "build_network", "load_spec_file", "load_spec_text", "same_pads",
]
