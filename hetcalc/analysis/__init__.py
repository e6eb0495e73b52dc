"""Network + options -> Report: the counting run, stages, per-layer overrides, sweeps, the paper's checks."""

from hetcalc.analysis.api import analyze  # noqa: F401
from hetcalc.analysis.options import make_convention, parse_variants, variant_keys  # noqa: F401
from hetcalc.analysis.replace import is_replaced  # noqa: F401
from hetcalc.analysis.results import LayerResult, LayerRows, Report, Row, VariantResult, costed, costed_layers  # noqa: F401
from hetcalc.convtypes.parts import check_part, layer_part, parse_part  # noqa: F401
