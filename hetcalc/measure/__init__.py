"""The torch extra: networks built as PyTorch modules, timed runs and calibration of a device profile.

Importing this package loads no torch: `build_module` checks for it first, `measure` and `Measurement` load
`hetcalc.measure.runs` when first used.
"""

from __future__ import annotations

from typing import Any

from hetcalc.core.lazy import lazy_attributes
from hetcalc.core.optional import require_torch

_LAZY = {"measure": "hetcalc.measure.runs", "Measurement": "hetcalc.measure.runs"}


def build_module(arch: Any, variant: str = "standard", P: Any = 4, G: Any = None, hetconv_impl: str = "split",
                 **options: Any):
    """`arch` built as a PyTorch module (eval mode) for one variant: see `hetcalc.measure.torch.build`."""
    require_torch("build_module")
    from hetcalc.measure.torch import build

    return build(arch, variant, P=P, G=G, hetconv_impl=hetconv_impl, **options)


__getattr__ = lazy_attributes(__name__, _LAZY)
