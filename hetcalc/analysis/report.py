"""Transitional: the names of the old analysis.report module, now in api, options, replace, results and
convtypes.parts. Removed once every importer names the new modules (this commit series)."""

from hetcalc.analysis.api import analyze  # noqa: F401
from hetcalc.analysis.options import make_convention, parse_variants  # noqa: F401
from hetcalc.analysis.replace import is_replaced  # noqa: F401
from hetcalc.analysis.results import (  # noqa: F401
    TIME_FIELDS, LayerResult, LayerRows, Report, VariantResult, costed, costed_layers,
)
from hetcalc.convtypes import CONV_TYPES, se_cost  # noqa: F401
from hetcalc.convtypes.hetconv import hetconv_ratio  # noqa: F401
from hetcalc.convtypes.parts import Part, check_part, layer_part, parse_part  # noqa: F401

VARIANTS = tuple(CONV_TYPES)
