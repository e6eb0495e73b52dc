"""PyTorch modules from a hetcalc network: each variant built exactly as hetcalc counts it (torch needed)."""

from __future__ import annotations

from hetcalc.measure.torch.modules import (ACTIVATIONS, BUILDERS, HETCONV_IMPLS, BuiltNetwork, HetConv2d,
                                           MaskedHetConv2d, Parallel, Residual, Sequence, SqueezeExcitation,
                                           ZeroPadShortcut, build, dwc_pwc_module, group_of_filter,
                                           gwc_pwc_module, hetconv_mask, hetconv_module, parameter_count,
                                           standard_module, topology)

__all__ = ["ACTIVATIONS", "BUILDERS", "HETCONV_IMPLS", "BuiltNetwork", "HetConv2d", "MaskedHetConv2d", "Parallel",
           "Residual", "Sequence", "SqueezeExcitation", "ZeroPadShortcut", "build", "dwc_pwc_module",
           "group_of_filter", "gwc_pwc_module", "hetconv_mask", "hetconv_module", "parameter_count",
           "standard_module", "topology"]
