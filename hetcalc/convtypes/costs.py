"""Transitional: the old convtypes.costs names, now in the convtypes package. Removed in this commit series."""

from hetcalc.convtypes import *  # noqa: F401,F403
from hetcalc.convtypes import CONV_TYPES, ConvType, Piece, fixed_cost  # noqa: F401
