"""Reading an .onnx file safely: the graph only, weights never loaded; one line for a file that is not a model.

The onnx package's messages load only when a model is read (start-up, and an optional extra), and without
onnx's Python layer (proto.py): `import onnx` alone costs more than reading a ResNet-50.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.network.importers.onnx.proto import attribute_value, messages, parse_model, tensor_values

MAX_CONST = 4096  # elements of a constant computed here (shape arithmetic is tiny)


def read_model(path: Path):
    """The ModelProto, without external weight data; one line if the file is not an ONNX model."""
    try:
        messages()
    except ImportError:
        raise SpecError("reading .onnx models needs the onnx package: pip install 'hetcalc[onnx]'",
                        source=str(path)) from None
    if path.is_dir():
        raise SpecError("is a directory, not an .onnx file", source=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    if not data:
        raise SpecError("the file is empty, not an ONNX model", source=str(path))
    try:
        model = parse_model(data)
    except Exception as exc:  # noqa: BLE001 - protobuf raises DecodeError, RuntimeWarning, ...
        kind = "it looks like text" if is_text(data[:512]) else "truncated or corrupt"
        raise SpecError(f"not a readable ONNX model ({kind}: {type(exc).__name__})", source=str(path)) from None
    if not model.graph.node:
        raise SpecError("not a readable ONNX model (truncated or corrupt: no graph nodes)", source=str(path))
    return model


def is_text(head: bytes) -> bool:
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def attrs(node) -> dict[str, Any]:
    """A node's attributes as Python values."""
    return {a.name: attribute_value(a) for a in node.attribute}


def text(value):
    """A string attribute (onnx gives bytes) as str."""
    return value.decode() if isinstance(value, bytes) else value


def values(tensor) -> list | None:
    """The values of a small initializer or constant, when they are stored in the file."""
    flat = tensor_values(tensor)  # None: external data (absent here) or a type not decoded
    if flat is None:
        return None
    return [int(v) if float(v).is_integer() and abs(v) < 2**62 else v for v in flat]


def dims(type_proto) -> tuple[int | None, ...] | None:
    """A value's declared shape: None for a dimension that is not a fixed positive size, None if no shape."""
    t = type_proto.tensor_type
    if not t.HasField("shape"):
        return None
    return tuple(d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in t.shape.dim)
