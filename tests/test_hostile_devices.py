"""Hostile input, round three (issue 20), device side: profile names that are paths (class 2), profile values
that overflow or vanish in the time model (class 3), and the cosmetic class (7). The built-in cache (class 1)
is attacked in tests/test_builtin_cache.py.

`hetcalc calibrate` runs here with its measurement replaced by a fixed profile: the attacks are on what it
does with its options and its output, not on the timings.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

import hetcalc
from hetcalc.errors import OptionError
from hetcalc.timing.devices import PROFILES, Device, Value, config_dir, load_device_text, resolve_device

T4 = (PROFILES / "t4.yaml").read_text(encoding="utf-8")


def one_line_error(result, *fragments: str) -> str:
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hetcalc: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def config(tmp_path, monkeypatch) -> Path:
    """An empty config folder: `hetcalc calibrate` saves into $XDG_CONFIG_HOME/hetcalc/devices."""
    home = tmp_path / "config"
    home.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    return home


@pytest.fixture
def fake_calibrate(monkeypatch):
    """calibrate's measurement replaced by the T4 profile renamed (instant); `fake_calibrate.raises` makes it
    raise instead (an interrupt in the middle of measuring)."""
    import hetcalc.measure.calibrate as calibrate

    class Fake:
        raises: BaseException | None = None

        def __call__(self, progress=None, use_torch=None, name="local", threads=None, statistic="median",
                     **waiting):
            if self.raises is not None:
                raise self.raises
            return replace(load_device_text(T4, "t4.yaml"), name=name, measured={"seconds": 0.1})

    fake = Fake()
    monkeypatch.setattr(calibrate, "calibrate", fake)
    return fake


# =========================================================================== class 2: names are names

NOT_NAMES = ["../../victim", "a/b", "..", ".", ".hidden", "", "   ", "a\\b", "a\x1bb", "a\u202eb", "a\0b",
             "x" * 65, " local", "local.yaml"]


@pytest.mark.parametrize("name", NOT_NAMES, ids=repr)
def test_calibrate_refuses_a_name_that_is_not_a_plain_file_name(run, config, fake_calibrate, name):
    result = run("calibrate", "--no-torch", "--name", name)
    line = one_line_error(result, "--name")
    assert "\x1b" not in line and "\u202e" not in line and len(line) < 300
    written = [p for p in config.rglob("*") if p.is_file()]
    assert written == [], written  # nothing at all written, inside the config folder or beside it
    assert not (config.parent / "victim.yaml").exists()


def test_calibrate_with_a_plain_name_saves_it_where_device_finds_it(run, config, fake_calibrate):
    result = run("calibrate", "--no-torch", "--name", "lab-gpu")
    assert result.exit_code == 0, result.stderr
    assert (config / "hetcalc" / "devices" / "lab-gpu.yaml").is_file()
    assert "use it with --device lab-gpu" in result.stderr
    assert resolve_device("lab-gpu").name == "lab-gpu"


@pytest.mark.parametrize("device", ["../../etc/passwd", "/etc/passwd", "a/b", "..", ".hidden", "a\x1bb",
                                    "x" * 5000], ids=lambda d: repr(d[:20]))
def test_device_names_are_never_paths_to_other_files(run, device, monkeypatch):
    monkeypatch.chdir("/")  # so that ../../etc/passwd is /etc/passwd
    result = run("vgg16", "--device", device)
    line = one_line_error(result, "device")
    assert "root:" not in line and "\x1b" not in line and len(line) < 300


def test_a_profile_path_never_echoes_a_file_that_is_no_profile(run, tmp_path):
    """Beyond the issue: a .yaml path that leads to some other file (a link to /etc/passwd) is refused without
    quoting what the file holds."""
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:the first line of a private file\n")
    link = tmp_path / "profile.yaml"
    link.symlink_to(secret)
    line = one_line_error(run("vgg16", "--device", str(link)), "must be a mapping")
    assert "root:x" not in line and "private" not in line


def test_a_name_saved_with_capitals_is_found(run, config, fake_calibrate):
    """Beyond the issue: `calibrate --name Lab` saved Lab.yaml, which `--device Lab` looked up as lab.yaml."""
    assert run("calibrate", "--no-torch", "--name", "Lab").exit_code == 0
    result = run("vgg16", "--device", "Lab", "--summary-only")
    assert result.exit_code == 0, result.stderr


# =========================================================================== class 3: finite times

# individually "valid" values (positive, finite, under the old upper bounds) that overflowed or vanished
EXTREMES = [
    ("peak_flops.fp32", 1e-300),
    ("memory_bandwidth", 5e-324),  # subnormal
    ("group_channels", 1e300),
    ("half_work", 1e308),
    ("efficiency.depthwise", 1e-300),  # beyond the issue: an efficiency
    ("kernel_overhead", 1e-320),  # beyond the issue: vanishes
]


def _profile(tmp_path, **values) -> Path:
    """T4's profile with the given entries ("peak_flops.fp32" as peak_flops__fp32) set to these values."""
    data = yaml.safe_load(T4)
    for key, value in values.items():
        *outer, leaf = key.split("__")
        where = data
        for part in outer:
            where = where.setdefault(part, {})
        where[leaf] = {"value": value, "source": "an attack"}
    path = tmp_path / "extreme.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


@pytest.mark.parametrize("field,value", EXTREMES, ids=[f for f, _ in EXTREMES])
@pytest.mark.parametrize("args", [["vgg16", "--format", "json"], ["mobilenet"], ["plot", "roofline", "vgg16"]],
                         ids=["json", "table", "roofline"])
def test_extreme_profile_values_are_refused_with_their_place(run, tmp_path, field, value, args):
    profile = _profile(tmp_path, **{field.replace(".", "__"): value})
    extra = ["-o", str(tmp_path / "r.png")] if args[0] == "plot" else []
    result = run(*args, "--device", str(profile), *extra)
    one_line_error(result, f"{profile}:", f"{field}.value must be at")
    assert not (tmp_path / "r.png").exists()


def test_a_network_factor_that_vanishes_is_refused(run, tmp_path):
    """Beyond the issue: network_factor 1e-320 made every time 0 and every time speedup inf."""
    profile = _profile(tmp_path, network_factor=1e-320)
    one_line_error(run("resnet56", "--device", str(profile), "--format", "json"), "network_factor.value")


def test_every_bound_is_declared_with_its_field_and_keeps_the_rates_finite():
    """The bounds: each field's smallest value over its largest makes no rate overflow or vanish."""
    from dataclasses import fields

    for f in fields(Device):
        if f.metadata.get("read") in ("value", "table"):
            lower, upper = f.metadata["lower"], f.metadata["upper"]
            assert 0 < lower <= upper < 1e300 and lower > 1e-300, f.name
    meta = {f.name: f.metadata for f in fields(Device)}
    slowest = (meta["peak_flops"]["lower"] * meta["efficiency"]["lower"]
               * (1 / meta["group_channels"]["upper"]) ** meta["group_exponent"]["upper"]
               * (1 / meta["pointwise_group_channels"]["upper"]) ** meta["pointwise_group_exponent"]["upper"])
    assert 0 < slowest and math.isfinite(meta["half_work"]["upper"] / meta["peak_flops"]["lower"])


def test_a_device_built_in_python_is_checked_too():
    """A Device made in Python skips the profile reader: analyze checks its bounds all the same."""
    t4 = resolve_device("t4")
    bad = replace(t4, memory_bandwidth=Value(5e-324, "subnormal"))
    with pytest.raises(OptionError, match="memory_bandwidth.value must be at least"):
        hetcalc.analyze("vgg16", device=bad)


def test_a_time_that_overflows_is_an_error_not_inf(monkeypatch):
    """The last guard: whatever the profile, a time that does not fit a float is an error, never inf or nan."""
    import hetcalc.analysis.timed as timed
    from hetcalc.timing.timemodel import LayerTime

    monkeypatch.setattr(timed, "layer_time", lambda device, kernels, dtype, layout: LayerTime(1e308, "compute"))
    with pytest.raises(OptionError, match="out of a float's range"):
        hetcalc.analyze("vgg16", device="t4")  # two layers of 1e308 s: their sum is inf

    def overflow(device, kernels, dtype, layout):
        raise OverflowError("int too large to convert to float")

    monkeypatch.setattr(timed, "layer_time", overflow)
    with pytest.raises(OptionError, match="out of a float's range"):
        hetcalc.analyze("vgg16", device="t4")


def test_times_stay_finite_in_json_at_the_bounds(run, tmp_path):
    """At the slowest profile the bounds allow, the JSON is valid (no Infinity or NaN) and every time finite."""
    profile = _profile(tmp_path, peak_flops__fp32=1e3, memory_bandwidth=1e3, group_channels=1e6, group_exponent=8,
                       efficiency__depthwise=1e-4)
    result = run("mobilenet", "--device", str(profile), "--format", "json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout, parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    times = [v["time_s"] for v in data["variants"]]
    assert all(math.isfinite(t) and t > 0 for t in times)


# =========================================================================== class 7: cosmetic

def test_local_yaml_as_a_folder_is_named(run, config):
    (config / "hetcalc" / "devices" / "local.yaml").mkdir(parents=True)
    line = one_line_error(run("vgg16", "--device", "local"), "local.yaml is not a profile file")
    assert "did you mean" not in line


def test_calibrate_says_saved_only_after_the_write(run, config, fake_calibrate):
    result = run("calibrate", "--no-torch", "-o", "/dev/full")
    assert result.exit_code != 0
    assert "saved" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("hetcalc: error: ")


def test_ctrl_c_in_calibrate_exits_130_and_writes_nothing(run, config, fake_calibrate):
    fake_calibrate.raises = KeyboardInterrupt()
    result = run("calibrate", "--no-torch")
    assert result.exit_code == 130, (result.exit_code, result.stderr)
    assert "interrupted" in result.stderr and not list(config.rglob("*.yaml"))


def test_devices_verbose_shows_control_characters_escaped(run, config):
    saved = config_dir()
    saved.mkdir(parents=True)
    data = {**yaml.safe_load(T4), "name": "evil", "title": "T4 \x1b[2J\x1b]0;pwned\a \u202eevil"}
    (saved / "evil.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    assert resolve_device("evil").title.startswith("T4 \x1b")
    result = run("devices", "-v")
    assert result.exit_code == 0, result.stderr
    assert "\x1b" not in result.stdout and "\u202e" not in result.stdout and "\a" not in result.stdout
    assert "\\x1b" in result.stdout and "\\u202e" in result.stdout


def test_the_html_report_escapes_bidi_and_control_characters(run, tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text('name: x\ntitle: "safe \\u202egnp.exe"\ninput: [3, 8, 8]\nlayers:\n'
                    '  - conv: {out: 8, name: "a\\e[31mred"}\n', encoding="utf-8")
    out = tmp_path / "r.html"
    result = run("report", str(spec), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    page = out.read_text(encoding="utf-8")
    assert "\u202e" not in page and "\x1b" not in page
    assert "\\u202e" in page and "\\x1b" in page


def test_a_huge_text_in_a_message_is_cut():
    from hetcalc.cli.streams import MAX_LINE, one_line

    line = one_line("unknown op type '" + "Z" * 1_000_000 + "'")
    assert len(line) <= MAX_LINE and line.endswith("(1,000,018 characters in all)")


def test_a_warning_with_a_megabyte_of_text_is_one_short_line(run, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    nodes = [helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="conv"),
             helper.make_node("Z" * 1_000_000, ["y"], ["z"], name="odd")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 8, 8])], [weight])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(model))
    result = run(str(model), "--summary-only")
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert warnings and all(len(line) <= 1100 for line in result.stderr.splitlines()), \
        [len(line) for line in result.stderr.splitlines()]


def test_csv_shows_a_name_that_is_not_utf8_as_text():
    from hetcalc.core.formatting import csv_value

    assert csv_value(b"c\xffnv") == "c\\xffnv"
    assert csv_value("conv") == "conv"


def test_csv_of_an_onnx_model_with_a_non_utf8_name(run, tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    weight = helper.make_tensor("w", TensorProto.FLOAT, [8, 3, 3, 3], [0.0] * 216)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1], name="cAnv")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, 8, 8])], [weight])
    model = tmp_path / "m.onnx"
    model.write_bytes(helper.make_model(graph).SerializeToString().replace(b"cAnv", b"c\xffnv", 1))
    result = run(str(model), "--format", "csv")
    if result.exit_code != 0:  # refusing the name, naming the node, is as good as showing it
        one_line_error(result)
        return
    assert "b'" not in result.stdout and re.search(r"^standard,,,c.*nv,conv,", result.stdout, re.M)


def test_the_documented_bounds_are_the_declared_ones():
    """docs/time-model.md's table of bounds says what the fields declare."""
    from dataclasses import fields

    doc = (Path(__file__).resolve().parent.parent / "docs" / "time-model.md").read_text(encoding="utf-8")
    rows = {}
    for line in doc.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 3 and cells[0].startswith("`"):
            for name in re.findall(r"`([^`]+)`", cells[0]):
                rows[name.removesuffix(".*")] = (float(cells[1]), float(cells[2]))
    for f in fields(Device):
        if f.metadata.get("read") in ("value", "table"):
            place = f.metadata["key"] or f.name
            assert rows.get(place) == (f.metadata["lower"], f.metadata["upper"]), place


def test_devices_lists_only_profiles_a_name_can_reach(run, config):
    saved = config_dir()
    saved.mkdir(parents=True)
    for name in ("lab", ".hidden", "a\x1bb"):
        (saved / f"{name}.yaml").write_text(T4.replace("name: t4", "name: lab"), encoding="utf-8")
    from hetcalc.timing.devices import user_device_names

    assert user_device_names() == ["lab"]


def test_measure_refuses_an_extreme_profile_before_timing(run, tmp_path):
    pytest.importorskip("torch")
    profile = _profile(tmp_path, peak_flops__fp32=1e-300)
    one_line_error(run("measure", "resnet56", "--batch", "1", "--device", str(profile)), "peak_flops.fp32.value")
