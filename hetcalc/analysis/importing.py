"""`hetcalc import`: a model file as a spec that is checked to give the same numbers before it is returned."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hetcalc.analysis.api import analyze
from hetcalc.core.errors import HetcalcError, SpecError
from hetcalc.network.importers import load_model
from hetcalc.network.spec import load_spec_text
from hetcalc.network.spec_writer import network_to_yaml, round_trip_problem


def import_spec(path: str | Path, *, strict: bool = False, input_shape: Any = None,
                default: str | None = ".onnx") -> str:
    """The YAML text of the model at `path`, after checking that it loads back into the same layers and the
    same counts (every variant's FLOPs, parameters and depth) as analysing the model itself; a SpecError
    saying why otherwise. Nothing is written here: the caller writes the text (atomically)."""
    network = load_model(path, strict=strict, input_shape=input_shape, default=default)
    text = network_to_yaml(network)
    try:
        loaded = load_spec_text(text, f"{network.name}.yaml (the spec `import` would write)", network.name)
    except HetcalcError as exc:
        raise SpecError(f"cannot be written as a spec hetcalc reads back: {exc}", source=network.source) from None
    problem = round_trip_problem(network, loaded)
    if problem is None:
        direct, written = ([(v.variant, v.macs, v.flops, v.params, v.latency_depth) for v in analyze(n, P=2).variants]
                           for n in (network, loaded))
        if direct != written:
            problem = f"its counts {written} differ from the model's {direct}"
    if problem:
        if network.meta.get("uncounted"):
            problem += " (an op hetcalc cannot count changes a shape there; a spec cannot state that op)"
        raise SpecError(f"cannot be written as a spec that gives the same numbers: {problem}", source=network.source)
    return text
