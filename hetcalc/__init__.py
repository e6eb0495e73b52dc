"""hetcalc: exact cost of CNNs under standard, HetConv, GWC+PWC and DWC+PWC convolutions."""

from hetcalc.analysis.api import analyze
from hetcalc.analysis.results import DISPLAY_LOADERS as _report_display_loaders
from hetcalc.analysis.results import LayerResult, Report, VariantResult
from hetcalc.compat import install as _install_old_paths
from hetcalc.convtypes import CONV_TYPES, ConvType, Piece
from hetcalc.core.errors import HetcalcError, OptionError, OutputError, SpecError
from hetcalc.core.lazy import lazy_attributes
from hetcalc.core.optional import MissingDependency
from hetcalc.core.version import __version__
from hetcalc.counting.convention import Convention
from hetcalc.network.graph import Network
from hetcalc.network.sources import builtin_names, resolve

_install_old_paths()  # hetcalc.graph, hetcalc.report, ...: the module paths before the move, for one release


def _load_report_views() -> None:
    """Fill the Report's display slot (str, repr, table(), Jupyter's HTML) from the views, when first shown."""
    from hetcalc.views import notebook  # noqa: F401 - it registers itself in hetcalc.analysis.results.DISPLAY


_report_display_loaders.append(_load_report_views)

# the spec machinery loads when first used; torch only when a module is built
__getattr__ = lazy_attributes(__name__, {"load_spec_file": "hetcalc.network.spec",
                                         "load_spec_text": "hetcalc.network.spec", "build_module": "hetcalc.measure"})

__all__ = [
    "CONV_TYPES", "ConvType", "Convention", "HetcalcError", "LayerResult", "MissingDependency", "Network", "OptionError",
    "OutputError", "Piece", "Report", "SpecError", "VariantResult", "analyze", "build_module", "builtin_names",
    "load_spec_file", "load_spec_text", "resolve", "__version__",
]
