"""ONNX models -> the layer graph (the importer lives in handlers.py until it is split)."""

from hetcalc.network.importers.onnx.handlers import (  # noqa: F401
    HANDLERS, MAX_NODES, UncountedOpWarning, load_onnx_file, network_from_model, read_model,
)
