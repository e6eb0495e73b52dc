"""Reading an .onnx file without its weights (importers/onnx/wire.py): a file with weights stored in it (raw or
typed), with weights in an external file, and with the external file absent give the same analysis, worked
out here by hand; the weights' bytes are not read; the values shape arithmetic needs are kept; and odd bytes
(truncated, garbled, overlong varints, lengths past the end, deep nesting) give the one line they gave before.

MACs of a conv are H_o * W_o * K^2 * C_in * C_out (eq. 1); a Gemm's are its weight's elements.
"""

from __future__ import annotations

import math
import random
import warnings

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import hetcalc  # noqa: E402
from hetcalc.errors import HetcalcError, SpecError  # noqa: E402
from hetcalc.network.importers.onnx import load_onnx_file, reader  # noqa: E402
from hetcalc.network.importers.onnx.wire import Unreadable, model_without_weights  # noqa: E402

from test_bad_specs import assert_one_line_error, run_cli  # noqa: E402

LONG_NAME = "shape_" + "s" * 1500  # a small initializer of over 1 KiB: scanned, and its values kept
MACS = (32 * 32 * 9 * 3 * 16  # conv1, 3 -> 16, 3x3 pad 1 on 32x32
        + 32 * 32 * 9 * 16 * 64  # conv2, 16 -> 64
        + 32 * 32 * 9 * 64 * 32  # conv3, 64 -> 32 on the 34x34 Pad output
        + 16 * 16 * 1 * 24 * 16  # conv4, 1x1 on Split's 24-channel part after Resize by 0.5
        + 6144 * 10)  # fc on the 24x16x16 Concat, flattened by the Reshape
PARAMS = 16 * 3 * 9 + 16 + 64 * 16 * 9 + 32 * 64 * 9 + 16 * 24 + 10 * 6144 + 10
PAYLOADS = ("raw_data", "float_data", "int32_data", "string_data", "int64_data", "double_data", "uint64_data")


def weights(raw: bool) -> list:
    """Conv, Gemm and shape-arithmetic initializers; `raw`: in raw_data, else in the typed fields."""
    rng = np.random.default_rng(0)

    def tensor(name, array):
        if raw:
            return numpy_helper.from_array(array, name)
        kind = TensorProto.FLOAT if array.dtype == np.float32 else TensorProto.INT64
        return helper.make_tensor(name, kind, array.shape, array.reshape(-1).tolist())

    def learnt(name, *dims):
        return tensor(name, rng.standard_normal(dims).astype(np.float32))

    return [learnt("w1", 16, 3, 3, 3), learnt("b1", 16), learnt("w2", 64, 16, 3, 3),
            tensor("pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64)), learnt("w3", 32, 64, 3, 3),
            tensor("scales", np.array([1, 1, 0.5, 0.5], np.float32)), tensor("split", np.array([8, 24], np.int64)),
            learnt("w4", 16, 24, 1, 1), tensor(LONG_NAME, np.array([1, -1], np.int64)), learnt("wf", 10, 6144),
            learnt("bf", 10)]


def model(raw: bool = True):
    """Conv, Pad, Resize, Split, Concat, Reshape and Gemm: each reads a small initializer or a large one."""
    n = helper.make_node
    nodes = [n("Conv", ["x", "w1", "b1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv1"),
             n("Relu", ["c1"], ["r1"], name="relu1"),
             n("Conv", ["r1", "w2"], ["c2"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], name="conv2"),
             n("Pad", ["c2", "pads"], ["p"], name="pad"),
             n("Conv", ["p", "w3"], ["c3"], kernel_shape=[3, 3], name="conv3"),
             n("Resize", ["c3", "", "scales"], ["rs"], mode="nearest", name="resize"),
             n("Split", ["rs", "split"], ["s0", "s1"], axis=1, name="split"),
             n("Conv", ["s1", "w4"], ["c4"], kernel_shape=[1, 1], name="conv4"),
             n("Concat", ["s0", "c4"], ["cat"], axis=1, name="cat"),
             n("Reshape", ["cat", LONG_NAME], ["flat"], name="flat"),
             n("Gemm", ["flat", "wf", "bf"], ["y"], transB=1, name="fc")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
                              initializer=weights(raw))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="test")


def saved(tmp_path, storage: str):
    """The model stored `storage`: raw, typed, external (beside it) or stripped (external, file absent)."""
    path = tmp_path / f"{storage}.onnx"
    m = model(raw=storage != "typed")
    if storage in ("external", "stripped"):
        onnx.save_model(m, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                        location=f"{storage}.bin", size_threshold=1024)
        if storage == "stripped":
            (tmp_path / f"{storage}.bin").unlink()
    else:
        path.write_bytes(m.SerializeToString())
    return path


def analysis(path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the convolutions have biases and no BatchNorm
        report = hetcalc.analyze(path, P=2)
    return [v.to_dict() for v in report.variants], [(a.name, a.kind, a.out_shape) for a in report.network.layers]


def test_stored_external_and_absent_weights_give_the_hand_counted_analysis(tmp_path):
    first = None
    for storage in ("raw", "typed", "external", "stripped"):
        path = saved(tmp_path, storage)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            report = hetcalc.analyze(path, P=2)
        assert (report.standard.macs, report.standard.params) == (MACS, PARAMS), storage
        first = first or analysis(path)
        assert analysis(path) == first, storage


@pytest.mark.parametrize("raw", [True, False], ids=["raw_data", "typed"])
def test_the_model_read_is_onnx_loads_with_large_payloads_left_out(tmp_path, raw):
    path = saved(tmp_path, "raw" if raw else "typed")
    expected = onnx.load(str(path))
    dropped = 0
    for tensor in expected.graph.initializer:
        if math.prod(tensor.dims) > reader.MAX_CONST:
            dropped += 1
            for field in PAYLOADS:
                tensor.ClearField(field)
    assert dropped == 3  # w2, w3, wf; the long-named shape and every small tensor keep their values
    assert reader.read_model(path).SerializeToString() == expected.SerializeToString()


class CountingReads:
    """A file whose reads are counted."""

    def __init__(self, fh, shrink_to=None):
        self.fh, self.count, self.shrink_to = fh, 0, shrink_to

    def seek(self, pos, whence=0):
        return self.fh.seek(pos, whence)

    def read(self, size=-1):
        if self.shrink_to is not None:  # the file was cut after its size was taken
            size = max(0, min(size, self.shrink_to - self.fh.tell()))
        data = self.fh.read(size)
        self.count += len(data)
        return data


def test_the_weights_bytes_are_not_read(tmp_path):
    path = tmp_path / "big.onnx"
    m = model()
    m.graph.initializer.append(numpy_helper.from_array(np.ones((256, 64, 3, 3), np.float32), "unused"))
    path.write_bytes(m.SerializeToString())
    size = path.stat().st_size  # over 1 MB, almost all of it weights
    with open(path, "rb") as fh:
        counted = CountingReads(fh)
        data = model_without_weights(counted, size)
    assert counted.count < size // 8
    assert len(data) < size // 20


def test_a_file_that_shrinks_while_read_is_left_to_protobuf(tmp_path):
    path = saved(tmp_path, "raw")
    size = path.stat().st_size
    with open(path, "rb") as fh, pytest.raises(Unreadable):
        model_without_weights(CountingReads(fh, shrink_to=size // 2), size)


def outcome(path):
    """What reading the file gives: its counts, or its one error line."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            network = load_onnx_file(path)
    except SpecError as exc:
        assert "\n" not in str(exc)
        return "error", str(exc)
    return "read", [(a.name, a.kind, a.out_shape) for a in network.layers]


def test_every_truncation_reads_as_it_did_before_the_scan(tmp_path, monkeypatch):
    """Cut anywhere, the file gives what reading it whole gave: the same error line, or the same layers."""
    data = saved(tmp_path, "raw").read_bytes()
    cuts = sorted({*range(0, 200), *range(0, len(data), len(data) // 97), len(data) - 1})
    path = tmp_path / "cut.onnx"
    scanned = []
    for cut in cuts:
        path.write_bytes(data[:cut])
        scanned.append(outcome(path))

    def unreadable(fh, size):
        raise Unreadable("read it whole")

    monkeypatch.setattr(reader, "model_without_weights", unreadable)
    whole = []
    for cut in cuts:
        path.write_bytes(data[:cut])
        whole.append(outcome(path))
    assert scanned == whole
    assert {kind for kind, _ in scanned} == {"error"}


def varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(value & 0x7F | 0x80)
        value >>= 7
    return bytes(out + bytes([value]))


def nested_graphs(depth: int) -> bytes:
    """A ModelProto whose graph holds a node whose attribute holds a graph ..., `depth` deep."""
    inner = b""
    for _ in range(depth):
        attribute = b"\x32" + varint(len(inner)) + inner  # AttributeProto.g (field 6)
        node = b"\x2a" + varint(len(attribute)) + attribute  # NodeProto.attribute (field 5)
        inner = b"\x0a" + varint(len(node)) + node  # GraphProto.node (field 1)
    return b"\x3a" + varint(len(inner)) + inner  # ModelProto.graph (field 7)


def corrupted(kind: str) -> bytes:
    data = model().SerializeToString()
    w2 = next(t for t in model().graph.initializer if t.name == "w2")
    raw_key = b"\x4a" + varint(len(w2.raw_data))  # TensorProto.raw_data (field 9)
    assert data.count(raw_key) == 1 and len(varint(len(w2.raw_data))) == 3
    if kind == "overlong varint first":
        return b"\xff" * 11 + data
    if kind == "overlong varint in a tensor":
        return data.replace(raw_key, b"\x4a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01")
    if kind == "length past the end":
        return data.replace(raw_key, b"\x4a\xff\xff\x7f")  # 2 MiB of weights in a 37 KB file
    if kind == "wire type 7 in a tensor":
        start = data.index(w2.SerializeToString())
        tensor = w2.SerializeToString()
        return data[:start] + tensor.replace(b"\x10\x01", b"\x17\x01", 1) + data[start + len(tensor):]
    if kind == "nested 5,000 deep":
        return nested_graphs(5000)
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["overlong varint first", "overlong varint in a tensor", "length past the end",
                                  "wire type 7 in a tensor", "nested 5,000 deep"])
def test_odd_wire_data_gets_one_line(tmp_path, kind):
    path = tmp_path / "odd.onnx"
    path.write_bytes(corrupted(kind))
    line = assert_one_line_error(run_cli(path, "--P", "2"), "odd.onnx", "not a readable ONNX model", code=1)
    assert "truncated or corrupt" in line


def test_garbled_bytes_give_a_report_or_one_line(tmp_path):
    """Bytes changed anywhere but inside the weights (mostly structure: keys, lengths, dims, names)."""
    data = bytearray(model().SerializeToString())
    weights_at = [(data.index(t.raw_data), len(t.raw_data)) for t in model().graph.initializer
                  if len(t.raw_data) > 4096]
    structure = [i for i in range(len(data)) if not any(0 <= i - at < size for at, size in weights_at)]
    path = tmp_path / "garbled.onnx"
    rng = random.Random(18)
    for _ in range(300):
        garbled = bytearray(data)
        for _ in range(rng.randint(1, 3)):
            garbled[rng.choice(structure)] = rng.randrange(256)
        path.write_bytes(garbled)
        try:
            outcome(path)
        except HetcalcError as exc:  # a layer rule, a shape that does not fit: one line naming the node
            assert "\n" not in str(exc)


def test_import_of_a_file_with_weights_writes_the_hand_counted_spec(tmp_path):
    out = tmp_path / "out.yaml"
    result = run_cli("import", saved(tmp_path, "raw"), "-o", out)
    assert result.exit_code == 0, result.stderr
    report = hetcalc.analyze(out, P=2)
    assert (report.standard.macs, report.standard.params) == (MACS, PARAMS)


def test_a_missing_file_is_said_before_a_missing_onnx_package(tmp_path, monkeypatch):
    """`hetcalc nosuch.onnx` without the onnx package says the file is missing (installing onnx would not
    help); an existing file without the package names the package."""
    import hetcalc.network.importers.onnx.reader as reader
    from hetcalc.core.errors import SpecError

    def no_onnx():
        raise ImportError("no onnx")

    monkeypatch.setattr(reader, "messages", no_onnx)
    with pytest.raises(SpecError, match="no such file"):
        reader.read_model(tmp_path / "nosuch.onnx")
    present = tmp_path / "model.onnx"
    present.write_bytes(b"\x08\x07")
    with pytest.raises(SpecError, match=r"needs the onnx package: pip install 'hetcalc\[onnx\]'"):
        reader.read_model(present)
