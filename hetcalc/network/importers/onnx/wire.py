"""An .onnx file's ModelProto without its weights: a scan of protobuf's wire format that keeps every byte of
the file except the payloads (raw_data, float_data, ...) of large graph initializers, which it jumps over
without reading them. Each initializer keeps its name, dims, data type and external-data entries, and one of
at most KEPT_ELEMENTS elements keeps its values too (shape arithmetic reads them: Reshape's shape, Pad's pads,
Split's sizes, Resize's scales).

Only the three levels that hold initializers are walked (ModelProto.graph -> GraphProto.initializer ->
TensorProto's fields); everything else is copied as it is and left to protobuf to parse, and to refuse.
Bytes the scan cannot follow (a length past its message's end, a varint longer than 10 bytes, a group or an
unknown wire type, a file that shrinks while read) raise Unreadable: the caller then reads the whole file and
protobuf names what is wrong, as it did before the scan.
"""

from __future__ import annotations

from typing import BinaryIO

KEPT_ELEMENTS = 4096  # an initializer of at most this many elements keeps its values (reader.MAX_CONST)
SCANNED_FROM = 1024  # an initializer of fewer bytes is copied whole: scanning it would save nothing
CHUNK = 1 << 14  # bytes read at a time: a chunk loaded at a large tensor's start is mostly weights, unused
MODEL_GRAPH = 7  # ModelProto.graph
GRAPH_INITIALIZER = 5  # GraphProto.initializer
TENSOR_DIMS = 1  # TensorProto.dims
# TensorProto's payloads: float_data, int32_data, string_data, int64_data, raw_data, double_data, uint64_data
PAYLOADS = frozenset({4, 5, 6, 7, 9, 10, 11})
LENGTH_DELIMITED = 2


class Unreadable(Exception):
    """Bytes the scan cannot follow; protobuf, given the whole file, says what is wrong with them."""


def model_without_weights(fh: BinaryIO, size: int) -> bytes:
    """The ModelProto in the first `size` bytes of `fh`, large initializers' payloads left out (unread)."""
    window = Window(fh, size)
    pieces, run, pos = [], 0, 0
    while pos < size:
        field, wire, body, end = window.field(pos, size)
        if field == MODEL_GRAPH and wire == LENGTH_DELIMITED:
            graph = graph_pieces(window, body, end)
            if graph is not None:
                pieces += [window.read(run, pos), key(MODEL_GRAPH), varint_bytes(sum(map(len, graph))), *graph]
                run = end
        pos = end
    pieces.append(window.read(run, size))
    return b"".join(pieces)


def graph_pieces(window: Window, start: int, stop: int) -> list[bytes] | None:
    """A GraphProto's bytes in pieces, large initializers' payloads left out; None if it has none."""
    pieces, run, pos = [], start, start
    while pos < stop:
        pos = window.short_fields(pos, stop)
        if pos >= stop:
            break
        field, wire, body, end = window.field(pos, stop)
        if field == GRAPH_INITIALIZER and wire == LENGTH_DELIMITED and end - body >= SCANNED_FROM:
            kept = tensor_without_payload(window, body, end)
            if kept is not None:
                pieces += [window.read(run, pos), key(GRAPH_INITIALIZER), varint_bytes(len(kept)), kept]
                run = end
        pos = end
    if not pieces:
        return None
    pieces.append(window.read(run, stop))
    return pieces


def tensor_without_payload(window: Window, start: int, stop: int) -> bytes | None:
    """A TensorProto's fields but its payloads, if it has a payload and more than KEPT_ELEMENTS elements by
    its dims; None to keep it whole (small, external, no dims: a scalar, or dims protobuf would refuse)."""
    fields, elements, payload, pos = [], 1, False, start
    while pos < stop:
        field, wire, body, end = window.field(pos, stop)
        if field == TENSOR_DIMS:
            for dim in dims_of(window, wire, body, end):
                if dim >= 2**63:  # a negative int64: not a size
                    return None
                elements *= dim
        payload = payload or field in PAYLOADS
        fields.append((field, pos, end))
        pos = end
    if not payload or elements <= KEPT_ELEMENTS:
        return None
    return b"".join(window.read(s, e) for field, s, e in fields if field not in PAYLOADS)


def dims_of(window: Window, wire: int, body: int, end: int) -> list[int]:
    """The dims in one TensorProto.dims field: one varint, or packed ones."""
    data = window.read(body, end)
    if wire == 0:
        return [varint(data, 0)[0]]
    if wire != LENGTH_DELIMITED:
        raise Unreadable("dims with a fixed-size wire type")
    found, i = [], 0
    while i < len(data):
        dim, i = varint(data, i)
        found.append(dim)
    return found


class Window:
    """A file's bytes at absolute offsets, read a chunk at a time: what the scan jumps over is never read."""

    def __init__(self, fh: BinaryIO, size: int):
        self.fh, self.size, self.base, self.buf = fh, size, 0, b""

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file."""
        if start >= self.base and end <= self.base + len(self.buf):
            return self.buf[start - self.base:end - self.base]
        if end - start > CHUNK:
            return self.exactly(start, end - start)
        self.base, self.buf = start, self.exactly(start, min(max(end - start, CHUNK), self.size - start))
        return self.buf[:end - start]

    def exactly(self, start: int, count: int) -> bytes:
        self.fh.seek(start)
        data = self.fh.read(count)
        if len(data) != count:
            raise Unreadable("the file got shorter while read")
        return data

    def short_fields(self, pos: int, stop: int) -> int:
        """Past the length-delimited fields from `pos` with a one-byte key and a length under SCANNED_FROM
        that lie in the window and end by `stop` (most of a graph: nodes, small initializers): where the
        first other field starts (field() reads that one)."""
        buf, base = self.buf, self.base
        i, last = pos - base, min(len(buf), stop - base) - 3
        if i < 0:
            return pos
        while i <= last:
            tag, length = buf[i], buf[i + 1]
            if tag >= 0x80 or tag & 7 != LENGTH_DELIMITED or tag < 8:
                break
            if length < 0x80:
                end = i + 2 + length
            else:
                high = buf[i + 2]
                end = i + 3 + (length & 0x7F | high << 7)
                if high >= 0x80 or end - i > SCANNED_FROM:
                    break
            if end > last + 3:
                break
            i = end
        return base + i

    def field(self, pos: int, stop: int) -> tuple[int, int, int, int]:
        """(field number, wire type, where its value starts, where the field ends) of the field at `pos`,
        which must end by `stop`."""
        if pos < self.base or pos + 20 > self.base + len(self.buf):
            self.read(pos, min(pos + 20, self.size))  # a key and a length are at most 10 bytes each
        buf, base = self.buf, self.base
        tag, i = varint(buf, pos - base)
        wire = tag & 7
        if wire == LENGTH_DELIMITED:
            length, i = varint(buf, i)
            end = i + length
        elif wire == 0:
            end = varint(buf, i)[1]
        elif wire == 1:
            end = i + 8
        elif wire == 5:
            end = i + 4
        else:
            raise Unreadable(f"wire type {wire}")
        if tag >> 3 == 0 or base + end > stop:
            raise Unreadable("field 0, or a field past its message's end")
        return tag >> 3, wire, base + i, base + end


def varint(data: bytes, i: int) -> tuple[int, int]:
    """The varint at data[i] and where it ends."""
    value = shift = 0
    for j in range(i, min(i + 10, len(data))):
        byte = data[j]
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, j + 1
        shift += 7
    raise Unreadable("a varint longer than 10 bytes or past the end")


def varint_bytes(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def key(field: int) -> bytes:
    """The key of a length-delimited field."""
    return varint_bytes(field << 3 | LENGTH_DELIMITED)
