"""The torch extra: networks built as PyTorch modules, timed runs and calibration of a device profile.

Importing this package loads no torch: `build_module` checks for it first, `measure` and `Measurement` load
`hetcalc.measure.runs` when first used.
"""

from __future__ import annotations

from typing import Any

from hetcalc.analysis.options import option_keywords
from hetcalc.core.keywords import checked_keywords
from hetcalc.core.lazy import lazy_attributes
from hetcalc.core.optional import require_torch

_LAZY = {"measure": "hetcalc.measure.runs", "Measurement": "hetcalc.measure.runs"}


@checked_keywords(option_keywords)
def build_module(arch: Any, variant: str = "standard", P: Any = 4, G: Any = None, hetconv_impl: str = "split",
                 convention: Any = None, se: int | None = None, **convention_options: Any):
    """`arch` built as a PyTorch module (eval mode) for one variant: see `hetcalc.measure.torch.build`."""
    require_torch("build_module")
    from hetcalc.measure.torch import build

    return build(arch, variant, P=P, G=G, hetconv_impl=hetconv_impl, convention=convention, se=se,
                 **convention_options)


__getattr__ = lazy_attributes(__name__, _LAZY)
