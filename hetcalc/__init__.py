"""hetcalc: exact cost of CNNs under standard, HetConv, GWC+PWC and DWC+PWC convolutions."""

from .architectures import builtin_names, resolve
from .costs import CONV_TYPES, ConvType, Piece
from .counting import Convention
from .errors import HetcalcError, OptionError, OutputError, SpecError
from .graph import Network
from .optional import MissingDependency, build_module
from .report import LayerResult, Report, VariantResult, analyze
from .spec import load_spec_file, load_spec_text

__version__ = "0.1.0"

__all__ = [
    "CONV_TYPES", "ConvType", "Convention", "HetcalcError", "LayerResult", "MissingDependency", "Network", "OptionError", "OutputError", "Piece",
    "Report", "SpecError", "VariantResult", "analyze", "build_module", "builtin_names", "load_spec_file", "load_spec_text",
    "resolve", "__version__",
]
