"""The ONNX reader decodes attributes and small tensors itself (importers/onnx/proto.py), without the onnx
package's Python layer: each decoding is checked against onnx.helper and onnx.numpy_helper, and reading a
model imports neither onnx nor ml_dtypes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hetcalc.network.importers.onnx.proto import attribute_value, parse_model, tensor_values  # noqa: E402

HERE = Path(__file__).parent

ATTRIBUTES = [("f", 1.5), ("i", -7), ("s", b"same_upper"), ("floats", [0.5, 2.0]), ("ints", [1, -2, 3]),
              ("strings", [b"a", b"b"]), ("t", numpy_helper.from_array(np.arange(6, dtype=np.int64)))]


@pytest.mark.parametrize("name,value", ATTRIBUTES, ids=[a for a, _ in ATTRIBUTES])
def test_attribute_values_are_what_onnx_helper_gives(name, value):
    attribute = helper.make_attribute(name, value)
    assert attribute_value(attribute) == helper.get_attribute_value(attribute)


DTYPES = [np.float32, np.float64, np.float16, np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64,
          np.uint32, np.uint64, np.bool_]


@pytest.mark.parametrize("dtype", DTYPES, ids=[np.dtype(d).name for d in DTYPES])
def test_raw_tensors_decode_as_numpy_helper_does(dtype):
    array = (np.arange(12).reshape(3, 4) % 5).astype(dtype)
    tensor = numpy_helper.from_array(array)
    assert tensor_values(tensor) == numpy_helper.to_array(tensor).reshape(-1).tolist()


@pytest.mark.parametrize("data_type,vals", [(TensorProto.INT64, [3, -1, 2**40]), (TensorProto.INT32, [7, -8]),
                                            (TensorProto.FLOAT, [0.25, -3.0]), (TensorProto.DOUBLE, [1e300]),
                                            (TensorProto.FLOAT16, [1.5, -2.0]), (TensorProto.UINT64, [2**63]),
                                            (TensorProto.BOOL, [True, False])])
def test_typed_fields_decode_as_numpy_helper_does(data_type, vals):
    tensor = helper.make_tensor("c", data_type, [len(vals)], vals, raw=False)
    assert tensor_values(tensor) == numpy_helper.to_array(tensor).reshape(-1).tolist()


def test_tensors_it_cannot_know_are_none():
    external = numpy_helper.from_array(np.zeros(4, np.float32))
    external.data_location = TensorProto.EXTERNAL
    assert tensor_values(external) is None
    short = numpy_helper.from_array(np.zeros(4, np.int64))
    short.raw_data = short.raw_data[:-1]  # not 4 elements: never guessed
    assert tensor_values(short) is None
    strings = helper.make_tensor("s", TensorProto.STRING, [1], [b"x"])
    assert tensor_values(strings) is None


def test_a_model_parses_to_the_same_message_as_onnx_loads():
    data = (HERE / "onnx" / "resnet18.onnx").read_bytes()
    mine, theirs = parse_model(data), onnx.load_from_string(data)
    assert mine.SerializeToString() == theirs.SerializeToString()
    assert len(mine.graph.node) == len(theirs.graph.node) > 0


def test_reading_a_model_imports_neither_onnx_nor_ml_dtypes():
    code = ("import sys, hetcalc; r = hetcalc.analyze(sys.argv[1], P=4); "
            "print(r.standard.flops > 0, 'onnx' in sys.modules, 'ml_dtypes' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(HERE / "onnx" / "resnet18.onnx")], capture_output=True,
                         text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]


def test_the_numpy_free_list_of_foldable_ops_is_folds_own():
    from hetcalc.network.importers.onnx.fold import FOLDS
    from hetcalc.network.importers.onnx.foldable import FOLDABLE

    assert FOLDABLE == set(FOLDS)


def test_a_plain_cnn_is_read_without_numpy_and_shape_arithmetic_loads_it():
    code = "import sys, hetcalc; hetcalc.analyze(sys.argv[1], P=4); print('numpy' in sys.modules)"
    plain = subprocess.run([sys.executable, "-c", code, str(HERE / "onnx" / "resnet50.onnx")], capture_output=True,
                           text=True, check=True)
    folded = subprocess.run([sys.executable, "-c", code, str(HERE / "onnx" / "modern" / "vit_b_16.onnx")],
                            capture_output=True, text=True, check=True)
    assert (plain.stdout.strip(), folded.stdout.strip()) == ("False", "True")
