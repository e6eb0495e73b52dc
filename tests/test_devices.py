"""Device profiles: the built-ins are valid and sourced; a bad profile gets one line with file:line:column."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
import yaml

import hetcalc
from hetcalc.core.yamlio import load_yaml_document
from hetcalc.devices import (DeviceError, builtin_device_names, config_dir, load_device_file, load_device_text,
                             resolve_device)
from hetcalc.errors import OptionError
from hetcalc.timing.devices import PROFILES, TOP_KEYS, VALUE, Device, Value, entry

BAD = sorted((Path(__file__).parent / "bad_devices").glob("*.yaml"))
BENCHMARK_DATA = Path(__file__).parent.parent / "benchmarks" / "data"
# GPU profiles validated on timm's published benchmarks: NVIDIA's spec-sheet figures, typed from the sheets
# (fp16 = FP16 tensor with FP32 accumulate, dense; bytes/s; L2 bytes), and whether the profile was fitted on
PUBLISHED = {
    "rtx4090": {"fp16": 165.2e12, "fp32": 82.6e12, "bandwidth": 1008e9, "l2": 72 * 2**20, "held_out": False},
    "rtx3090": {"fp16": 71e12, "fp32": 35.6e12, "bandwidth": 936e9, "l2": 6 * 2**20, "held_out": True},
    "rtx5090": {"fp16": 209.5e12, "fp32": 104.8e12, "bandwidth": 1792e9, "l2": 96 * 2**20, "held_out": True},
    "rtx-pro-6000-maxq": {"fp16": 3511e12 / 8, "fp32": 110e12, "bandwidth": 1792e9, "l2": 128 * 2**20,
                          "held_out": True},
}
REQUIRED = {"a100", "h100", "t4", "orin-nano", "rpi5", "x86-server"}


def test_builtins_cover_the_issue_and_are_not_validated():
    assert REQUIRED <= set(builtin_device_names())
    for name in builtin_device_names():
        device = resolve_device(name)
        if name in PUBLISHED:  # checked against published measurement, with the figures kept in the profile
            assert device.validated == "published benchmark"
            assert "published_benchmark" in device.measured
        else:
            assert device.validated is False
        assert device.peak("fp32") > 0
        values = [*device.peak_flops.values(), device.memory_bandwidth, device.kernel_overhead,
                  *device.efficiency.values()]
        assert all(v.source.strip() for v in values)


def test_spec_sheet_figures():
    a100 = resolve_device("a100")
    assert a100.peak("fp32") == 19.5e12 and a100.peak("fp16") == 312e12
    assert a100.memory_bandwidth.value == 2.039e12
    assert resolve_device("t4").memory_bandwidth.value == 320e9


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_profiles_get_one_line_with_place(path):
    with pytest.raises(DeviceError) as info:
        load_device_file(path)
    text = str(info.value)
    assert "\n" not in text
    assert re.match(rf"{re.escape(str(path))}:\d+:\d+: ", text), text


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_profiles_on_the_command_line(run, path):
    result = run("vgg16", "--device", str(path))
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith(f"hetcalc: error: {path}:") and result.stderr.count("\n") == 1


def test_the_bad_value_is_named():
    text = Path(hetcalc.devices.PROFILES / "t4.yaml").read_text().replace("320e9,", "'lots',")
    with pytest.raises(DeviceError, match="'lots'"):
        load_device_text(text, "x.yaml")


def test_unknown_device_lists_the_known_ones():
    with pytest.raises(OptionError, match="known: a100"):
        resolve_device("a10O")
    with pytest.raises(OptionError, match="did you mean 'a100'"):
        resolve_device("a10O")


def test_dtype_without_a_peak_is_refused():
    with pytest.raises(OptionError, match="no peak FLOP/s for bf16"):
        hetcalc.analyze("vgg16", device="t4", dtype="bf16")


def test_local_profile_from_the_config_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert config_dir() == tmp_path / "hetcalc" / "devices"
    with pytest.raises(OptionError, match="hetcalc calibrate"):
        resolve_device("local")
    config_dir().mkdir(parents=True)
    text = (hetcalc.devices.PROFILES / "rpi5.yaml").read_text().replace("name: rpi5", "name: local")
    (config_dir() / "local.yaml").write_text(text)
    assert resolve_device("local").name == "local"
    assert hetcalc.analyze("vgg16", device="local").variants[0].time_s > 0


def test_devices_command_lists_every_builtin(run):
    result = run("devices")
    assert result.exit_code == 0, result.output
    names = [line.split()[0] for line in result.stdout.splitlines()[4:] if line.strip() and not line.startswith(" ")]
    assert set(builtin_device_names()) <= set(names)
    verbose = run("devices", "-v").stdout
    assert "NVIDIA A100 data sheet: 80GB HBM2e, 2,039 GB/s (SXM)" in verbose


def test_calibrate_command_saves_to_the_config_folder(run, tmp_path, monkeypatch):
    """The command's plumbing, with the measurement replaced by a known profile (no timings in tests)."""
    import hetcalc.calibrate as cal

    known = resolve_device("rpi5")
    fake = type(known)(**{**known.__dict__, "name": "local", "measured": {"seconds": 1.0}})
    monkeypatch.setattr(cal, "calibrate", lambda **kwargs: fake)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = run("calibrate")
    assert result.exit_code == 0, result.output
    saved = tmp_path / "hetcalc" / "devices" / "local.yaml"
    assert saved.is_file() and str(saved) in result.stderr and "--device local" in result.stderr
    assert resolve_device("local").memory_bandwidth.value == known.memory_bandwidth.value
    out = tmp_path / "mine.yaml"
    assert run("calibrate", "-o", str(out)).exit_code == 0
    assert load_device_file(out).peak("fp32") == pytest.approx(known.peak("fp32"))
    bad = run("calibrate", "-o", str(tmp_path / "missing" / "x.yaml"))
    assert bad.exit_code == 2 and "does not exist" in bad.stderr


def test_csv_has_time_columns_only_with_a_device(run):
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(run("vgg16", "--device", "t4", "--format", "csv").stdout)))
    assert {"bytes", "intensity", "time_s", "bound"} <= set(rows[0])
    report = hetcalc.analyze("vgg16", device="t4")
    assert int(rows[1]["bytes"]) == report.standard.layers[1].bytes
    plain = list(csv.DictReader(io.StringIO(run("vgg16", "--format", "csv").stdout)))
    assert "bytes" not in plain[0]
    summary = list(csv.DictReader(io.StringIO(run("vgg16", "--device", "t4", "--format", "csv",
                                                  "--summary-only").stdout)))
    assert float(summary[1]["time_speedup"]) == pytest.approx(report.variant("hetconv").time_speedup)


def test_every_entry_is_declared_once_with_a_doc():
    declared = [f for f in fields(Device) if "read" in f.metadata]
    assert all(f.metadata["doc"] for f in declared)
    assert TOP_KEYS == ("name", "title", "kind", "validated", "notes", "peak_flops", "memory_bandwidth",
                        "kernel_overhead", "efficiency", "half_work", "group_channels", "group_exponent",
                        "pointwise_group_channels", "pointwise_group_exponent",
                        "weight_passes", "transpose_bandwidth", "gather_bandwidth", "page_fault", "fresh_bytes", "op_overhead",
                        "pool_bandwidth", "network_factor", "channels_last", "channels_last_group_exponent",
                        "channels_last_weight_passes", "cache", "measured")
    with pytest.raises(DeviceError, match=r"unknown key 'zzz' in the device profile \(allowed: name, title, kind, "
                                          r"validated, notes, peak_flops, .*, network_factor, channels_last, .*, cache, "
                                          r"measured\)"):
        load_device_text((PROFILES / "t4.yaml").read_text() + "zzz: 1\n", "p.yaml")


def test_to_dict_writes_every_entry_and_reads_back():
    """Every entry set, in the written order: the numbers first, then the optional mappings."""
    text = (PROFILES / "t4.yaml").read_text() + "".join(
        f"{key}: {{value: {value}, source: s}}\n" for key, value in (
            ("group_exponent", 2), ("pointwise_group_channels", 8), ("pointwise_group_exponent", 2),
            ("weight_passes", 2), ("transpose_bandwidth", 5e9), ("gather_bandwidth", 2e9), ("fresh_bytes", 2**25),
            ("pool_bandwidth", 2e9), ("network_factor", 2), ("channels_last_group_exponent", 0.5),
            ("channels_last_weight_passes", 2))) + (
        "page_fault: {value: 1e-6, source: s}\nop_overhead: {bn: {value: 1e-5, source: s}}\nmeasured: {seconds: 1}\n"
        "channels_last: {dense: {value: 1.5, source: s}}\n")
    device = load_device_text(text, "p.yaml")
    data = device.to_dict()
    assert list(data) == ["name", "title", "kind", "validated", "notes", "peak_flops", "memory_bandwidth",
                          "kernel_overhead", "efficiency", "half_work", "group_channels", "group_exponent",
                          "pointwise_group_channels", "pointwise_group_exponent",
                          "weight_passes", "transpose_bandwidth", "gather_bandwidth", "page_fault", "fresh_bytes",
                          "pool_bandwidth", "network_factor", "channels_last_group_exponent",
                          "channels_last_weight_passes", "op_overhead", "channels_last", "cache", "measured"]
    assert data["cache"] == {"bytes": device.cache_bytes.to_dict(), "bandwidth": device.cache_bandwidth.to_dict()}
    assert load_device_text(yaml.safe_dump(data, sort_keys=False), "p.yaml") == device


def test_a_new_device_field_is_one_declaration():
    """A field declared with `entry` (here on a test-local subclass) is read, bounded and written back."""

    @dataclass(frozen=True)
    class L2Device(Device):
        l2_bytes: Value | None = entry(VALUE, "bytes of the L2 cache", optional=True, upper=1e9)

    text = (PROFILES / "t4.yaml").read_text() + 'l2_bytes: {value: 4e6, source: "data sheet"}\n'
    data, mark = load_yaml_document(text, "l2.yaml")
    device = L2Device.from_profile(data, "l2.yaml", mark)
    assert device.l2_bytes == Value(4e6, "data sheet")
    written = device.to_dict()
    assert written["l2_bytes"] == {"value": 4000000, "source": "data sheet"}
    assert list(written)[-2:] == ["l2_bytes", "cache"]  # a number, before the optional mappings
    assert L2Device.from_profile(yaml.safe_load(yaml.safe_dump(written)), "l2.yaml") == device
    assert L2Device.from_profile(yaml.safe_load((PROFILES / "t4.yaml").read_text()), "t4.yaml").l2_bytes is None

    data, mark = load_yaml_document(text.replace("4e6", "2e9"), "l2.yaml")
    with pytest.raises(DeviceError, match=r"^l2\.yaml:\d+:\d+: l2_bytes\.value must be at most 1e\+09, got the "
                                          r"float 2000000000\.0$"):
        L2Device.from_profile(data, "l2.yaml", mark)
    with pytest.raises(DeviceError, match="unknown key 'l2_bytes' in the device profile"):
        load_device_text(text, "l2.yaml")  # Device itself has no such field


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_gpu_profiles(name):
    sheet = PUBLISHED[name]
    device = resolve_device(name)
    assert device.kind == "gpu" and device.validated == "published benchmark"
    assert device.peak("fp16") == pytest.approx(sheet["fp16"], rel=1e-3)
    assert device.peak("bf16") == device.peak("fp16")
    assert device.peak("fp32") == pytest.approx(sheet["fp32"], rel=1e-3)
    assert device.cache_bytes.value == sheet["l2"]
    # the attained bandwidth: a share of the sheet's, never above it
    assert 0.3 * sheet["bandwidth"] < device.memory_bandwidth.value <= sheet["bandwidth"]
    assert "attained" in device.memory_bandwidth.source
    record = device.measured["published_benchmark"]
    data = BENCHMARK_DATA / record["file"]
    assert data.is_file()
    assert re.search(r"huggingface/pytorch-image-models, results/\S+\.csv, commit [0-9a-f]{40}", record["source"])
    assert record["held_out"] is sheet["held_out"]
    assert record["models"] >= 30
    if sheet["held_out"]:  # the issue's goal, as recorded when the profile was written
        assert record["median_error"] <= 0.10 and record["spearman"] >= 0.98
    # the efficiencies are this GPU's own level (from its anchors, named in the source), not another's
    assert record["file"] in device.efficiency["dense"].source
    assert "published benchmarks" in device.summary()


def test_published_profiles_share_one_shape_at_their_own_levels():
    """Relative efficiencies (class / dense) are fitted once on the RTX 4090; each GPU's level is its own."""
    devices = [resolve_device(name) for name in sorted(PUBLISHED)]
    for kclass in ("pointwise", "grouped", "grouped_pointwise", "depthwise", "linear"):
        ratios = {d.efficiency[kclass].value / d.efficiency["dense"].value for d in devices
                  if d.efficiency[kclass].value < 1}
        assert max(ratios) == pytest.approx(min(ratios), rel=2e-3), kclass
    levels = {d.name: d.efficiency["dense"].value for d in devices}
    assert len(set(levels.values())) == len(levels)  # not copied across devices


def test_published_rows_name_their_source():
    files = sorted(BENCHMARK_DATA.glob("timm-*.csv"))
    assert len(files) >= 4
    for path in files:
        first = path.read_text().splitlines()[0]
        assert re.fullmatch(r"# source: huggingface/pytorch-image-models, results/(\S+\.csv), commit [0-9a-f]{40}",
                            first), first
        assert path.name.removeprefix("timm-") in first


def test_validated_says_true_false_or_published_benchmark():
    text = Path(PROFILES / "t4.yaml").read_text()
    device = load_device_text(text.replace("validated: false", "validated: published benchmark"), "x.yaml")
    assert device.validated == "published benchmark"
    assert "validated against published benchmarks" in device.summary()
    with pytest.raises(DeviceError, match=r"x.yaml:5:\d+: validated must be true or false or 'published "
                                          r"benchmark', got the string 'measured'"):
        load_device_text(text.replace("validated: false", "validated: measured"), "x.yaml")
