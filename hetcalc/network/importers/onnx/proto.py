"""ONNX's protobuf messages without the onnx package's Python layer.

`import onnx` costs 0.5-1 s, most of it ml_dtypes pulled in by onnx.helper; reading a graph needs none of
it. The messages are onnx's own generated code (onnx_ml_pb2.py, which needs only google.protobuf), loaded
from the installed onnx's folder without running onnx/__init__.py. If onnx is imported later, its module
registers the same descriptors (protobuf accepts an identical file twice) and its classes are these.
Attribute values and small tensors are decoded here, as onnx.helper and onnx.numpy_helper would.
"""

from __future__ import annotations

import importlib.util
import math
import struct
import sys
from functools import cache
from pathlib import Path
from typing import Any

# AttributeProto.AttributeType -> the field holding the value (lists for the plural types)
ATTRIBUTE_FIELDS = {1: "f", 2: "i", 3: "s", 4: "t", 5: "g", 6: "floats", 7: "ints", 8: "strings", 9: "tensors",
                    10: "graphs", 11: "sparse_tensor", 12: "sparse_tensors", 13: "tp", 14: "type_protos"}
REPEATED = {"floats", "ints", "strings", "tensors", "graphs", "sparse_tensors", "type_protos"}
# TensorProto.DataType -> (struct code of one little-endian element, the typed field it may sit in)
TENSOR_TYPES = {1: ("f", "float_data"), 2: ("B", "int32_data"), 3: ("b", "int32_data"), 4: ("H", "int32_data"),
                5: ("h", "int32_data"), 6: ("i", "int32_data"), 7: ("q", "int64_data"), 9: ("?", "int32_data"),
                10: ("e", "int32_data"), 11: ("d", "double_data"), 12: ("I", "uint64_data"),
                13: ("Q", "uint64_data")}
EXTERNAL = 1  # TensorProto.DataLocation.EXTERNAL


@cache
def messages():
    """The module of ONNX's messages (ModelProto, NodeProto, ...); ImportError if onnx is not installed."""
    loaded = sys.modules.get("onnx.onnx_ml_pb2")
    if loaded is not None:
        return loaded
    spec = importlib.util.find_spec("onnx")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("onnx is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "onnx_ml_pb2.py"
    module_spec = importlib.util.spec_from_file_location("hetcalc._onnx_ml_pb2", path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"onnx's messages are missing: {path}")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module


def parse_model(data: bytes):
    """A ModelProto from the file's bytes (protobuf's DecodeError if they are not one)."""
    model = messages().ModelProto()
    model.ParseFromString(data)
    return model


def attribute_value(attribute) -> Any:
    """An attribute's value, as onnx.helper.get_attribute_value gives it (None for an unknown type)."""
    field = ATTRIBUTE_FIELDS.get(attribute.type)
    if field is None:
        return None
    value = getattr(attribute, field)
    return list(value) if field in REPEATED else value


def tensor_values(tensor) -> list | None:
    """A stored tensor's elements as a flat list (None when external, of a type not decoded here, or not
    matching its dims), as onnx.numpy_helper.to_array would give them."""
    kind = TENSOR_TYPES.get(tensor.data_type)
    if kind is None or tensor.data_location == EXTERNAL:
        return None
    code, field = kind
    count = math.prod(tensor.dims)
    if tensor.raw_data:
        size = struct.calcsize(code)
        if len(tensor.raw_data) != count * size:
            return None
        return list(struct.unpack(f"<{count}{code}", tensor.raw_data))
    stored = list(getattr(tensor, field))
    if len(stored) != count:
        return None
    if code == "e":  # float16 kept as its bits in int32_data
        return [struct.unpack("<e", struct.pack("<H", bits & 0xFFFF))[0] for bits in stored]
    if code == "?":
        return [bool(v) for v in stored]
    return stored
