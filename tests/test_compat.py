"""The module paths before the move into subpackages keep working for one release: each old path imports the
moved module itself (so a monkeypatch through either name patches the one module), and the names the docs and
earlier releases used are still there."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import hetcalc
from hetcalc.compat import MOVED


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_is_the_new_module(old):
    if old == "hetcalc.torch_build":
        pytest.importorskip("torch")
    module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])
    assert module.__spec__.name == MOVED[old]  # the alias leaves the module's own spec alone


@pytest.mark.parametrize("old, names", [
    ("hetcalc.graph", ["Conv", "Network", "INPUT", "output_size"]),
    ("hetcalc.report", ["analyze", "Report", "LayerResult", "VariantResult", "parse_part", "is_replaced"]),
    ("hetcalc.costs", ["CONV_TYPES", "ConvType", "Piece", "standard_cost", "hetconv_cost", "fixed_cost"]),
    ("hetcalc.counting", ["Convention", "OPS", "ALL_OPS", "OP_RULES"]),
    ("hetcalc.presets", ["PRESETS", "preset_convention"]),
    ("hetcalc.devices", ["Device", "builtin_device_names", "resolve_device"]),
    ("hetcalc.onnx_import", ["UncountedOpWarning", "load_onnx_file"]),
    ("hetcalc.tables", ["fit", "to_text", "to_terminal"]),
    ("hetcalc.export", ["write_json"]),
    ("hetcalc.sweep", ["sweep"]),
    ("hetcalc.reconcile", ["reconcile"]),
    ("hetcalc.html_report", ["report_html"]),
    ("hetcalc.overrides", ["apply_parts"]),
    ("hetcalc.records", ["Record", "record"]),
    ("hetcalc.spec", ["load_spec_file", "load_spec_text", "build_network"]),
    ("hetcalc.yamlsource", ["load_yaml_document"]),
])
def test_documented_names_are_still_there(old, names):
    module = importlib.import_module(old)
    assert all(hasattr(module, name) for name in names), [n for n in names if not hasattr(module, n)]


def test_the_public_surface_is_unchanged():
    assert sorted(hetcalc.__all__) == sorted([
        "CONV_TYPES", "ConvType", "Convention", "HetcalcError", "LayerResult", "MissingDependency", "Network",
        "OptionError", "OutputError", "Piece", "Report", "SpecError", "VariantResult", "analyze", "build_module",
        "builtin_names", "load_spec_file", "load_spec_text", "resolve", "__version__"])
    assert all(hasattr(hetcalc, name) for name in hetcalc.__all__)


def test_old_paths_cost_nothing_until_used():
    """Importing hetcalc loads none of the moved modules through their old names, nor the heavy ones."""
    code = "import sys, hetcalc; print(sorted(m for m in sys.modules if m in %r))" % sorted(MOVED)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
