"""What counts as a FLOP and as a parameter: the counting terms, conventions and the presets that reproduce
peer tools."""

from hetcalc.counting.terms import ALL_OPS, COUNTING_TERMS, KIND_OPS, OP_RULES, OPS, TERMS, Term
from hetcalc.counting.convention import HETCONV_ACCOUNTING, PARAM_STYLES, Convention
from hetcalc.counting.presets import PRESETS, Preset, get_preset, preset_convention  # fills convention's PRESETS

__all__ = ["ALL_OPS", "COUNTING_TERMS", "HETCONV_ACCOUNTING", "KIND_OPS", "OP_RULES", "OPS", "PARAM_STYLES", "PRESETS",
           "TERMS", "Convention", "Preset", "Term", "get_preset", "preset_convention"]
