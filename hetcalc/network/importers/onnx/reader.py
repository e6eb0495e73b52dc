"""Reading an .onnx file safely: the graph only, weights never loaded; one line for a file that is not a model.

The onnx package's messages load only when a model is read (start-up, and an optional extra), and without
onnx's Python layer (proto.py): `import onnx` alone costs more than reading a ResNet-50. The weights stored in
the file are not read either (wire.py): parsing ResNet-50's 100 MB of them cost more than the rest.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.network.importers.onnx.proto import attribute_value, messages, parse_model, tensor_values
from hetcalc.network.importers.onnx.wire import KEPT_ELEMENTS, Unreadable, model_without_weights

MAX_CONST = KEPT_ELEMENTS  # elements of a constant computed here (shape arithmetic is tiny)
MAX_BYTES = 2**31  # protobuf's own limit on one message: a larger .onnx file cannot be a model


def read_model(path: Path):
    """The ModelProto, without its weights' data (initializers of more than MAX_CONST elements keep their
    names, dims and types); one line if the file is not an ONNX model (a missing file is said first, before
    a missing onnx package)."""
    if not os.path.lexists(path):
        raise SpecError("no such file", source=str(path))
    try:
        messages()
    except ImportError:
        raise SpecError("reading .onnx models needs the onnx package: pip install 'hetcalc[onnx]'",
                        source=str(path)) from None
    data = read_bounded(path)
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


def read_bounded(path: Path) -> bytes:
    """The file's bytes, at most MAX_BYTES, large initializers' payloads left out (wire.py): a directory, a
    device (/dev/zero), a FIFO or a socket is refused before it is read, and a file that grows past the
    bound while read is refused, not read to the end. Bytes the scan cannot follow are read whole, for
    protobuf to name what is wrong with them."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise SpecError("is a directory, not an .onnx file", source=str(path))
        if not stat.S_ISREG(mode):
            raise SpecError("is not a regular file (a device, FIFO or socket), not an .onnx file", source=str(path))
        with open(path, "rb") as fh:
            data = without_weights(fh)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=str(path)) from None
    except MemoryError:
        raise SpecError("out of memory while reading it", source=str(path)) from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"is larger than {MAX_BYTES // 2**30} GiB, protobuf's limit: not an ONNX model",
                        source=str(path))
    return data


def without_weights(fh) -> bytes:
    """The open file's bytes, at most MAX_BYTES + 1, large initializers' payloads left out where the scan
    can follow the bytes (a file of size 0 may be one of /proc's: it is read, not trusted)."""
    size = os.fstat(fh.fileno()).st_size
    if 0 < size <= MAX_BYTES:
        try:
            return model_without_weights(fh, size)
        except Unreadable:
            fh.seek(0)
    return fh.read(MAX_BYTES + 1)


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
