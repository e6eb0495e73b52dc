"""Device profiles: the built-ins are valid and sourced; a bad profile gets one line with file:line:column."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import hetcalc
from hetcalc.devices import (DeviceError, builtin_device_names, config_dir, load_device_file, load_device_text,
                             resolve_device)
from hetcalc.errors import OptionError

BAD = sorted((Path(__file__).parent / "bad_devices").glob("*.yaml"))
REQUIRED = {"a100", "h100", "t4", "orin-nano", "rpi5", "x86-server"}


def test_builtins_cover_the_issue_and_are_not_validated():
    assert REQUIRED <= set(builtin_device_names())
    for name in builtin_device_names():
        device = resolve_device(name)
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
