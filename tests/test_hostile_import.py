"""Hostile ONNX models and `hetcalc import` (issue 20, classes 4-6): what import writes always loads back with
the model's numbers (or import refuses and writes nothing), user text never becomes a live spec line, no
traceback from odd bytes or huge numbers, and what ONNX's checker refuses is refused naming the node.

Expected numbers are worked out here by hand: MACs of a conv are H_o * W_o * K^2 * (M / groups) * N (eq. 1).
"""

from __future__ import annotations

import json
import os
import warnings

import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402

import hetcalc  # noqa: E402
from hetcalc.errors import SpecError  # noqa: E402
from hetcalc.network.importers.onnx import UncountedOpWarning  # noqa: E402

from test_bad_specs import assert_one_line_error, run_cli  # noqa: E402

n = helper.make_node


def model(nodes, x=(1, 3, 8, 8), inits=(), outputs=("y",), value_info=(), producer="test"):
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x))],
                              [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
                              initializer=list(inits), value_info=list(value_info))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name=producer)


def weight(name, *dims):
    size = 1
    for d in dims:
        size *= d
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * size)


def ints(name, values):
    return helper.make_tensor(name, TensorProto.INT64, [len(values)], values)


def floats(name, values):
    return helper.make_tensor(name, TensorProto.FLOAT, [len(values)], values)


def save(tmp_path, m, name="m.onnx", replace=()):
    """The serialized model, with byte strings replaced (a way to write what onnx's helpers refuse)."""
    data = m.SerializeToString()
    for old, new in replace:
        assert old in data
        data = data.replace(old, new)
    path = tmp_path / name
    path.write_bytes(data)
    return path


def conv(inp, out, w, name=None, **attrs):
    return n("Conv", [inp, w], [out], name=name or out, kernel_shape=[3, 3], **attrs)


def assert_refused_everywhere(path, *fragments, tmp_path):
    """analyze and import both refuse with one line naming the file; import writes nothing."""
    line = assert_one_line_error(run_cli(path, "--P", "2"), *fragments, code=1)
    assert path.name in line
    out = tmp_path / "out.yaml"
    assert_one_line_error(run_cli("import", path, "-o", out), *fragments, code=1)
    assert not out.exists()
    return line


def import_and_compare(tmp_path, path, *extra):
    """import writes a spec that loads and gives the model's own numbers; the spec's text is returned."""
    out = tmp_path / "out.yaml"
    result = run_cli("import", path, "-o", out, *extra)
    assert result.exit_code == 0, result.stderr
    shape = None
    if extra:
        shape = tuple(int(v) for v in extra[1].split(","))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        direct = hetcalc.analyze(path, P=2, input_shape=shape)
    written = hetcalc.analyze(out, P=2)
    def totals(report):
        return [(v.variant, v.macs, v.params, v.latency_depth) for v in report.variants]

    assert totals(written) == totals(direct)
    assert [(a.name, a.kind, a.out_shape) for a in written.network.layers] == \
        [(a.name, a.kind, a.out_shape) for a in direct.network.layers]
    return out.read_text(encoding="utf-8"), direct


# --------------------------------------------------------------------------- class 4: import writes what loads

def test_pads_at_least_the_kernel_are_refused_by_spec_and_onnx_alike(tmp_path):
    path = save(tmp_path, model([conv("x", "y", "w", pads=[3, 3, 3, 3])], inits=[weight("w", 4, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'y' (Conv)", "padding 3 does not fit kernel 3", tmp_path=tmp_path)
    spec = tmp_path / "s.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, padding: 3}\n")
    assert_one_line_error(run_cli(spec), "padding 3 does not fit kernel 3", code=1)


def test_negative_pads_and_dilation_zero_are_refused(tmp_path):
    path = save(tmp_path, model([conv("x", "y", "w", pads=[-1, 0, 0, 0])], inits=[weight("w", 4, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'y' (Conv)", "padding -1 is negative", tmp_path=tmp_path)
    for dilation in (0, -3):
        path = save(tmp_path, model([conv("x", "y", "w", dilations=[dilation, 1])], inits=[weight("w", 4, 3, 3, 3)]),
                    name=f"d{dilation}.onnx")
        assert_refused_everywhere(path, "node 'y' (Conv)", "dilations", "at least 1", tmp_path=tmp_path)


def test_pool_pads_over_half_the_kernel_are_refused_as_in_a_spec(tmp_path):
    """New attack: ONNX allows MaxPool pads up to kernel - 1; a spec (and PyTorch) only up to half of it."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]),
             n("MaxPool", ["c"], ["y"], name="mp", kernel_shape=[3, 3], pads=[2, 2, 2, 2])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'mp' (MaxPool)", "padding 2 does not fit kernel 3", tmp_path=tmp_path)


def test_broadcasting_add_imports_as_a_spec_add_that_broadcasts(tmp_path):
    """Add of 8x8x8 and its own 8x1x1 global average: one addition per output element (8*8*8)."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("GlobalAveragePool", ["c"], ["g"], name="gap"),
             n("Add", ["c", "g"], ["a"], name="add"), n("Flatten", ["a"], ["f"], name="flat"),
             n("Gemm", ["f", "wf"], ["y"], name="fc", transB=1)]
    path = save(tmp_path, model(nodes, inits=[weight("w", 8, 3, 3, 3), weight("wf", 10, 512)]))
    text, report = import_and_compare(tmp_path, path)
    assert "add: {name: add, inputs: [c, gap]}" in text
    assert report.standard.macs == 8 * 8 * 3 * 9 * 8 + 512 * 10
    spec = tmp_path / "s.yaml"
    spec.write_text("input: [8, 4, 4]\nlayers:\n  - avgpool: {global: true, name: g}\n"
                    "  - add: {inputs: [input, g]}\n  - fc: 2\n")
    assert hetcalc.analyze(spec, P=2).network.layers[1].out_shape == (8, 4, 4)


def test_shapes_that_do_not_broadcast_are_refused(tmp_path):
    """New attack: 8x8x8 + 8x3x1 (neither side 1 nor equal) was counted as 8x8x8; a spec refuses it."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]),
             n("MaxPool", ["c"], ["p"], name="p", kernel_shape=[1, 8], strides=[3, 8]),  # 8x3x1
             n("Add", ["c", "p"], ["y"], name="add")]
    path = save(tmp_path, model(nodes, inits=[weight("w", 8, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'add' (Add)", "do not broadcast", tmp_path=tmp_path)


def test_six_thousand_convolutions_import_and_load_back(tmp_path):
    """6,000 1x1 convolutions on 1x1x1: each 1 MAC; their spec stays under the loader's 100,000 values."""
    nodes = [n("Conv", ["x" if i == 0 else f"t{i}", "w"], [f"t{i + 1}" if i < 5999 else "y"], name=f"c{i}",
               kernel_shape=[1, 1]) for i in range(6000)]
    path = save(tmp_path, model(nodes, x=(1, 1, 1, 1), inits=[weight("w", 1, 1, 1, 1)]))
    text, report = import_and_compare(tmp_path, path)
    assert report.standard.macs == 6000 and text.count("conv:") == 6000


def test_names_differing_only_in_surrounding_spaces_stay_distinct(tmp_path):
    nodes = [conv("x", "a", "w", name="a", pads=[1, 1, 1, 1]), conv("a", "b", "w2", name=" a ", pads=[1, 1, 1, 1]),
             conv("b", "y", "w2", name="  ", pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), weight("w2", 4, 4, 3, 3)]))
    text, report = import_and_compare(tmp_path, path)
    assert [layer.name for layer in report.network.layers] == ["a", "a.2", "Conv_2"]


def test_non_utf8_names_are_written_as_escaped_text_not_binary(tmp_path):
    nodes = [conv("x", "y", "w", name="NODE", pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3)], producer="PROD"),
                replace=[(b"NODE", b"N\xffDE"), (b"PROD", b"P\xfeOD")])
    text, report = import_and_compare(tmp_path, path)
    assert "!!binary" not in text and report.network.layers[0].name == "N\\xffDE"
    assert "P\\xfeOD" in report.network.description


def test_an_empty_slice_is_refused(tmp_path):
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Slice", ["c", "st", "en", "ax"], ["y"], name="sl")]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), ints("st", [5]), ints("en", [5]),
                                              ints("ax", [2])]))
    assert_refused_everywhere(path, "node 'sl' (Slice)", "a side of 0", tmp_path=tmp_path)


INJECTION = "\ninput: [4, 64, 64]\n#"


def test_op_types_and_file_names_cannot_inject_spec_lines(tmp_path):
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Evil" + INJECTION, ["c"], ["d"], name="e"),
             conv("d", "y", "w2", name="n" + INJECTION + "\u2028\x85\x00", pads=[1, 1, 1, 1])]
    folder = tmp_path / "dir"
    folder.mkdir()
    path = save(folder, model(nodes, inits=[weight("w", 4, 3, 3, 3), weight("w2", 4, 4, 3, 3)]),
                name=f"m{INJECTION}.onnx")
    text, report = import_and_compare(tmp_path, path)
    assert [line for line in text.splitlines() if line.startswith("input:")] == ["input: [3, 8, 8]"]
    assert all(line.startswith(("#", "  - ", "name:", "title:", "description:", "input:", "layers:"))
               for line in text.splitlines()), text
    assert hetcalc.analyze(tmp_path / "out.yaml", P=2).network.input == (3, 8, 8)
    assert report.network.layers[-1].name == "n" + INJECTION + "\u2028\x85\x00"  # kept, as a value


# --------------------------------------------------------------------------- class 5: no tracebacks

def test_non_utf8_names_work_in_every_format_per_layer_P_and_report(tmp_path):
    nodes = [conv("x", "c", "w", name="NODE", pads=[1, 1, 1, 1]), conv("c", "y", "w2", name="NEXT", pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), weight("w2", 4, 4, 3, 3)], producer="PROD"),
                replace=[(b"NODE", b"N\xffDE"), (b"NEXT", b"\xfe\xfeXT"), (b"PROD", b"\xff\xffOD")])
    for fmt in ("table", "json", "csv", "markdown", "latex"):
        result = run_cli(path, "--P", "2", "--format", fmt)
        assert result.exit_code == 0 and "Traceback" not in result.stderr, (fmt, result.stderr)
    result = run_cli(path, "--P", "2", "--P-at", "N*=M", "--format", "json")
    assert result.exit_code == 0, result.stderr
    het = next(v for v in json.loads(result.stdout)["variants"] if v["variant"] == "hetconv")
    assert {r["name"] for r in het["layers"]} == {"N\\xffDE", "\\xfe\\xfeXT"}
    result = run_cli("report", path, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.stderr


def test_a_file_name_with_byte_ff_gets_a_report(tmp_path):
    nodes = [conv("x", "y", "w", pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3)]), name=os.fsdecode(b"m\xff.onnx"))
    result = run_cli("report", path, "-o", tmp_path / "r.html")
    assert result.exit_code == 0, result.stderr
    assert "m\\udcff" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_resize_with_an_infinite_or_huge_scale_is_one_line(tmp_path):
    for name, scale in (("inf", float("inf")), ("nan", float("nan")), ("huge", 1e35), ("neg", -2.0)):
        nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Resize", ["c", "", "s"], ["y"], name="up")]
        path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), floats("s", [1, 1, scale, scale])]),
                    name=f"{name}.onnx")
        assert_one_line_error(run_cli(path, "--P", "2"), "node 'up' (Resize)", code=1)


@pytest.mark.parametrize("shape", ["3,\u00b2,8", "3,\u0668,8", "3," + "9" * 5001 + ",8", "3,10**31,8",
                                   "3," + "1" + "0" * 31 + ",8"],
                         ids=["superscript", "arabic-indic", "5001-digits", "expression", "over-10**30"])
def test_input_shape_with_odd_digits_is_one_line(tmp_path, shape):
    path = save(tmp_path, model([conv("x", "y", "w")], x=(1, 3, "H", "W"), inits=[weight("w", 4, 3, 3, 3)]))
    assert_one_line_error(run_cli(path, "--input-shape", shape), "--input-shape must be C,H,W", code=2)
    with pytest.raises(hetcalc.errors.OptionError, match="up to 10"):  # the same bound from Python
        hetcalc.analyze(path, input_shape=(3, 10**31, 8))


def test_measure_bounds_batch_and_threads():
    pytest.importorskip("torch")
    spec = "architectures/resnet56.yaml"
    line = assert_one_line_error(run_cli("measure", spec, "--batch", "1000000000", "--rounds", "1"),
                                 "batch 1,000,000,000", "memory")
    assert "GB" in line
    assert_one_line_error(run_cli("measure", spec, "--threads", "1000000"), "--threads", code=2)


def test_a_model_that_is_a_link_to_dev_zero_or_a_fifo_is_refused_unread(tmp_path):
    """/dev/zero would be read until memory ran out; a FIFO (new attack) would hang."""
    link = tmp_path / "zero.onnx"
    link.symlink_to("/dev/zero")
    assert_refused_everywhere(link, "zero.onnx", "not a regular file", tmp_path=tmp_path)
    fifo = tmp_path / "fifo.onnx"
    os.mkfifo(fifo)
    assert_refused_everywhere(fifo, "fifo.onnx", "not a regular file", tmp_path=tmp_path)


# --------------------------------------------------------------------------- class 6: invalid ONNX

def test_a_tensor_written_twice_is_refused(tmp_path):
    w = [weight("w", 3, 3, 3, 3)]
    twice = [conv("x", "y", "w", name="c1", pads=[1, 1, 1, 1]), conv("x", "y", "w", name="c2", pads=[1, 1, 1, 1])]
    assert_refused_everywhere(save(tmp_path, model(twice, inits=w), name="twice.onnx"), "node 'c2' (Conv)",
                              "'y'", "written once", tmp_path=tmp_path)
    onto_input = [conv("x", "x", "w", name="c1", pads=[1, 1, 1, 1]), conv("x", "y", "w", name="c2", pads=[1, 1, 1, 1])]
    assert_refused_everywhere(save(tmp_path, model(onto_input, inits=w), name="onto.onnx"), "node 'c1' (Conv)",
                              "'x'", "graph input", tmp_path=tmp_path)
    listed_twice = [conv("x", "y", "w", pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(listed_twice, inits=w, outputs=("y", "y")), name="out2.onnx")
    assert_refused_everywhere(path, "lists output 'y' twice", tmp_path=tmp_path)


@pytest.mark.parametrize("attrs, fragment", [
    ({"pads": [1] * 8}, "pads [1, 1, 1, 1, 1, 1, 1, 1] has 8 values; 2 spatial axes take 4"),
    ({"auto_pad": "FOO"}, "auto_pad 'FOO' is not one of NOTSET"),
    ({"strides": [0, 1]}, "strides [0, 1]: every value must be at least 1"),
    ({"strides": [1, 1, 1]}, "strides [1, 1, 1] has 3 values for 2 spatial axes"),  # a new attack
])
def test_window_attributes_onnx_refuses_are_refused(tmp_path, attrs, fragment):
    path = save(tmp_path, model([conv("x", "y", "w", **attrs)], inits=[weight("w", 4, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'y' (Conv)", fragment, tmp_path=tmp_path)


def test_a_pad_to_a_negative_size_is_refused(tmp_path):
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Pad", ["c", "p"], ["y"], name="pad")]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), ints("p", [0, 0, -5, -5, 0, 0, -5, -5])]))
    assert_refused_everywhere(path, "node 'pad' (Pad)", "a side of -2", tmp_path=tmp_path)


def test_conv_inside_if_is_named_not_a_later_fc(tmp_path):
    branch = helper.make_graph([n("Conv", ["x", "w"], ["z"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])], "b", [],
                               [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)])
    nodes = [n("If", ["cond"], ["i"], name="branchy", then_branch=branch, else_branch=branch),
             n("Flatten", ["i"], ["f"], name="flat"), n("Gemm", ["f", "wf"], ["y"], name="fc", transB=1)]
    inits = [weight("w", 4, 3, 3, 3), weight("wf", 10, 256),
             helper.make_tensor("cond", TensorProto.BOOL, [], [True])]
    path = save(tmp_path, model(nodes, inits=inits))
    assert_refused_everywhere(path, "If node 'branchy'", "control flow", "Conv x2", tmp_path=tmp_path)
    declared = [helper.make_tensor_value_info("i", TensorProto.FLOAT, [1, 4, 8, 8])]
    path = save(tmp_path, model(nodes, inits=inits, value_info=declared), name="declared.onnx")
    with pytest.warns(UncountedOpWarning, match="If x1"):
        report = hetcalc.analyze(path, P=2)
    assert report.standard.macs == 256 * 10  # the FC reads the declared 4x8x8; the If's convs are uncounted


def test_declared_shapes_are_used_and_checked(tmp_path):
    """An uncounted op's output takes its declared shape (value_info); a counted one's must match it."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("SpaceToDepth", ["c"], ["s"], name="s2d", blocksize=2),
             n("Flatten", ["s"], ["f"], name="flat"), n("Gemm", ["f", "wf"], ["y"], name="fc", transB=1)]
    inits = [weight("w", 4, 3, 3, 3), weight("wf", 10, 256)]
    declared = [helper.make_tensor_value_info("s", TensorProto.FLOAT, [1, 16, 4, 4])]
    path = save(tmp_path, model(nodes, inits=inits, value_info=declared))
    with pytest.warns(UncountedOpWarning):
        report = hetcalc.analyze(path, P=2)
    assert report.network.layers[-1].in_shape == (256, 1, 1)
    out = tmp_path / "out.yaml"  # the spec cannot state the uncounted op that changes the shape: refused
    result = run_cli("import", path, "-o", out)
    warning, error = result.stderr.splitlines()  # the uncounted op's warning, then the refusal
    assert result.exit_code == 1 and warning.startswith("hetcalc: warning: ") and "SpaceToDepth x1" in warning
    assert error.startswith("hetcalc: error: ") and "reads back with in_shape (4, 8, 8), not (16, 4, 4)" in error
    assert not out.exists()
    wrong = [helper.make_tensor_value_info("c", TensorProto.FLOAT, [1, 4, 6, 6])]
    path = save(tmp_path, model(nodes, inits=inits, value_info=declared + wrong), name="wrong.onnx")
    assert_refused_everywhere(path, "node 'c' (Conv)", "declares its output 'c' as 4x6x6", "give 4x8x8",
                              tmp_path=tmp_path)
    # declared for the file's own 8x8 input; another --input-shape makes them moot, not wrong
    stale = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 5, 5])]
    path = save(tmp_path, model([conv("x", "y", "w", pads=[1, 1, 1, 1])], inits=inits[:1], value_info=stale),
                name="stale.onnx")
    assert_refused_everywhere(path, "declares its output 'y' as 4x5x5", tmp_path=tmp_path)
    report = hetcalc.analyze(path, P=2, input_shape=(3, 6, 6), variants="standard")
    assert report.standard.macs == 36 * 4 * 27


def test_input_shape_hint_names_the_real_option_and_import_takes_it(tmp_path):
    path = save(tmp_path, model([conv("x", "y", "w")], x=("N", 3, "H", "W"), inits=[weight("w", 4, 3, 3, 3)]))
    assert_one_line_error(run_cli(path), "--input-shape C,H,W", code=1)
    assert_one_line_error(run_cli("import", path), "--input-shape C,H,W", code=1)
    text, report = import_and_compare(tmp_path, path, "--input-shape", "3,10,10")
    assert "input: [3, 10, 10]" in text and report.standard.macs == 8 * 8 * 4 * 27


def test_input_shape_on_a_spec_is_refused_not_ignored(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: 4\n")
    for arch in (spec, "resnet56"):
        assert_one_line_error(run_cli(arch, "--input-shape", "3,64,64"), "--input-shape", "states its own input",
                              code=2)
    with pytest.raises(hetcalc.errors.OptionError, match="input_shape"):
        hetcalc.analyze({"input": [3, 8, 8], "layers": ["conv"]}, input_shape=(3, 4, 4))
    with pytest.raises(SpecError):  # a spec's own problems still come first when no shape is given
        hetcalc.analyze({"input": [3, 8, 8], "layers": []})


def test_pad_and_resize_modes_are_the_specs(tmp_path):
    """New attack: a Resize mode ONNX does not have ("FOO") was counted; a Pad "wrap" (opset 19) imported as a
    spec that refused it. Now one list of modes: wrap in both, FOO in neither."""
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Pad", ["c", "p"], ["y"], name="pad", mode="wrap")]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), ints("p", [0, 0, 1, 1, 0, 0, 1, 1])]))
    text, _ = import_and_compare(tmp_path, path)
    assert "mode: wrap" in text
    nodes = [conv("x", "c", "w", pads=[1, 1, 1, 1]), n("Resize", ["c", "", "s"], ["y"], name="up", mode="FOO")]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3), floats("s", [1, 1, 2, 2])]), name="r.onnx")
    (tmp_path / "out.yaml").unlink()
    assert_refused_everywhere(path, "node 'up' (Resize)", "upsample mode 'FOO' is not one of nearest",
                              tmp_path=tmp_path)


def test_a_kernel_shape_that_is_not_the_weights_is_refused(tmp_path):
    """New attack: Conv kernel_shape [5, 5] on a 3x3 weight was counted as 3x3; ONNX's checker refuses it."""
    nodes = [n("Conv", ["x", "w"], ["y"], name="k", kernel_shape=[5, 5], pads=[1, 1, 1, 1])]
    path = save(tmp_path, model(nodes, inits=[weight("w", 4, 3, 3, 3)]))
    assert_refused_everywhere(path, "node 'k' (Conv)", "kernel_shape [5, 5] differs from its weight's [3, 3]",
                              tmp_path=tmp_path)


def test_an_auto_pad_that_is_not_utf8_is_named(tmp_path):
    path = save(tmp_path, model([conv("x", "y", "w", auto_pad="ABCD")], inits=[weight("w", 4, 3, 3, 3)]),
                replace=[(b"ABCD", b"A\xffCD")])
    assert_refused_everywhere(path, "node 'y' (Conv)", "auto_pad 'A\\xffCD' is not one of", tmp_path=tmp_path)
