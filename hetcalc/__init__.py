"""hetcalc: exact cost of CNNs under standard, HetConv, GWC+PWC and DWC+PWC convolutions."""

from hetcalc.network.sources import builtin_names, resolve
from hetcalc.convtypes import CONV_TYPES, ConvType, Piece
from hetcalc.counting.convention import Convention
from hetcalc.core.errors import HetcalcError, OptionError, OutputError, SpecError
from hetcalc.network.graph import Network
from hetcalc.core.optional import MissingDependency
from hetcalc.analysis.results import LayerResult, Report, VariantResult
from hetcalc.analysis.api import analyze
from hetcalc.core.version import __version__
from hetcalc.compat import install as _install_old_paths

_install_old_paths()

# the spec machinery loads when first used; torch only when a module is built
_LAZY = {"load_spec_file": "hetcalc.network.spec", "load_spec_text": "hetcalc.network.spec",
         "build_module": "hetcalc.measure"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hetcalc' has no attribute {name!r}")


__all__ = [
    "CONV_TYPES", "ConvType", "Convention", "HetcalcError", "LayerResult", "MissingDependency", "Network", "OptionError", "OutputError", "Piece",
    "Report", "SpecError", "VariantResult", "analyze", "build_module", "builtin_names", "load_spec_file", "load_spec_text",
    "resolve", "__version__",
]
