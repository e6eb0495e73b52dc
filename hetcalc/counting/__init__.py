"""What counts as a FLOP and as a parameter: conventions and the presets that reproduce peer tools."""

from hetcalc.counting.convention import (  # noqa: F401
    ALL_OPS, HETCONV_ACCOUNTING, KIND_OPS, OP_RULES, OPS, PARAM_STYLES, TERMS, Convention,
)
