"""hetcalc: exact cost of CNNs under standard, HetConv, GWC+PWC and DWC+PWC convolutions."""

from .architectures import builtin_names, resolve
from .costs import CONV_TYPES, ConvType, Piece
from .counting import Convention
from .errors import HetcalcError, OptionError, OutputError, SpecError
from .graph import Network
from .optional import MissingDependency, build_module
from .report import LayerResult, Report, VariantResult, analyze

_LAZY = {"load_spec_file": "spec", "load_spec_text": "spec"}  # the spec machinery loads when first used


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hetcalc' has no attribute {name!r}")


__version__ = "0.1.0"

__all__ = [
    "CONV_TYPES", "ConvType", "Convention", "HetcalcError", "LayerResult", "MissingDependency", "Network", "OptionError", "OutputError", "Piece",
    "Report", "SpecError", "VariantResult", "analyze", "build_module", "builtin_names", "load_spec_file", "load_spec_text",
    "resolve", "__version__",
]
