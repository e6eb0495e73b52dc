"""The ways to build a K x K convolution: one registry (`CONV_TYPES`), one module per type, in canonical order."""

from hetcalc.convtypes.pieces import Piece, conv_piece, fixed_cost, se_cost  # noqa: F401
from hetcalc.convtypes.registry import CONV_TYPES, ConvType, register, unregister  # noqa: F401
from hetcalc.convtypes.standard import standard_cost, standard_steps  # noqa: F401  (registers in this order)
from hetcalc.convtypes.hetconv import hetconv_cost, hetconv_ratio, hetconv_steps  # noqa: F401
from hetcalc.convtypes.grouped import dwc_pwc_cost, dwc_pwc_steps, gwc_pwc_cost, gwc_pwc_steps  # noqa: F401
