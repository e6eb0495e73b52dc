"""PyTorch modules from a hetcalc network: each variant built exactly as hetcalc counts it.

`build(arch, variant, P, G)` turns any `Network` (a built-in, a YAML spec, a dict) into an `nn.Module` in
eval mode. torch is imported here and nowhere on the main path: `hetcalc.build_module` loads this package
only when it is called.

- `modules`: HetConv's realizations (`HetConv2d`, `MaskedHetConv2d`), its mask, the small blocks;
- `builders`: replaced convolutions built from their type's steps (`STEP_MODULES`, `BUILDERS` for HetConv) and
  the fixed layers' modules;
- `walker`: the network's topology (chains, residual blocks) and the walk that turns it into modules;
- `build`: `build`, `BuiltNetwork`, `parameter_count`.
"""

from __future__ import annotations

from hetcalc.measure.torch.build import BuiltNetwork, build, parameter_count
from hetcalc.measure.torch.builders import BUILDERS, STEP_MODULES, build_replaced, hetconv_module, steps_module, \
    standard_module
from hetcalc.measure.torch.modules import (ACTIVATIONS, HETCONV_IMPLS, HetConv2d, MaskedHetConv2d, Residual,
                                           SqueezeExcitation, ZeroPadShortcut, group_of_filter, hetconv_mask)
from hetcalc.measure.torch.walker import Parallel, Sequence, topology

__all__ = ["ACTIVATIONS", "BUILDERS", "HETCONV_IMPLS", "BuiltNetwork", "HetConv2d", "MaskedHetConv2d", "Parallel",
           "Residual", "Sequence", "SqueezeExcitation", "ZeroPadShortcut", "build", "STEP_MODULES",
           "build_replaced", "group_of_filter", "hetconv_mask", "steps_module", "hetconv_module", "parameter_count",
           "standard_module", "topology"]
