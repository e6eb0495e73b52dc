"""Old module paths (before the move into subpackages) as aliases of the new modules, for one release.

`import hetcalc.graph` gives the module `hetcalc.network.graph` itself (so a monkeypatch of either name patches
the one module). Nothing here loads a module until its old name is imported. docs/architecture.md lists the moves.
"""

from __future__ import annotations

import importlib
import sys
from importlib.machinery import ModuleSpec

MOVED = {
    "hetcalc.architectures": "hetcalc.network.sources",
    "hetcalc.builtin_cache": "hetcalc.network.builtin_cache",
    "hetcalc.calibrate": "hetcalc.measure.calibrate",
    "hetcalc.costs": "hetcalc.convtypes",
    "hetcalc.devices": "hetcalc.timing.devices",
    "hetcalc.errors": "hetcalc.core.errors",
    "hetcalc.export": "hetcalc.views.export",
    "hetcalc.formatting": "hetcalc.core.formatting",
    "hetcalc.graph": "hetcalc.network.graph",
    "hetcalc.html_report": "hetcalc.views.html",
    "hetcalc.inputs": "hetcalc.core.inputs",
    "hetcalc.measure_views": "hetcalc.views.measure_views",
    "hetcalc.onnx_import": "hetcalc.network.importers.onnx",
    "hetcalc.optional": "hetcalc.core.optional",
    "hetcalc.overrides": "hetcalc.analysis.overrides",
    "hetcalc.paper": "hetcalc.analysis.paper",
    "hetcalc.plots": "hetcalc.views.figures",
    "hetcalc.presets": "hetcalc.counting.presets",
    "hetcalc.reconcile": "hetcalc.analysis.reconcile",
    "hetcalc.reconcile_views": "hetcalc.views.reconcile_views",
    "hetcalc.records": "hetcalc.core.records",
    "hetcalc.report": "hetcalc.analysis",
    "hetcalc.reproduce": "hetcalc.analysis.reproduce",
    "hetcalc.roofline": "hetcalc.views.figures.roofline",
    "hetcalc.spec": "hetcalc.network.spec",
    "hetcalc.spec_writer": "hetcalc.network.spec_writer",
    "hetcalc.stages": "hetcalc.analysis.stages",
    "hetcalc.sweep": "hetcalc.analysis.sweep",
    "hetcalc.sweep_views": "hetcalc.views.sweep_views",
    "hetcalc.tables": "hetcalc.views.tables",
    "hetcalc.time_views": "hetcalc.views.time_views",
    "hetcalc.timemodel": "hetcalc.timing.timemodel",
    "hetcalc.torch_build": "hetcalc.measure.torch",
    "hetcalc.torch_import": "hetcalc.network.importers.torch",
    "hetcalc.traffic": "hetcalc.timing.traffic",
    "hetcalc.yamlsource": "hetcalc.core.yamlio",
}


class OldPaths:
    """A meta path finder and loader: an old module name imports (and is) the module it moved to."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        return ModuleSpec(name, OldPaths) if name in MOVED else None

    @staticmethod
    def create_module(spec):
        module = importlib.import_module(MOVED[spec.name])
        _OWN_SPECS[module.__name__] = module.__spec__
        return module

    @staticmethod
    def exec_module(module):
        module.__spec__ = _OWN_SPECS[module.__name__]  # the import system stamped the alias's spec on it


_OWN_SPECS: dict = {}


def install() -> None:
    if OldPaths not in sys.meta_path:
        sys.meta_path.append(OldPaths)
