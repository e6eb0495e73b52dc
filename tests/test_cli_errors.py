"""Bad options and outputs: one line on stderr, exit status 2 for usage errors, and no file half-written."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from hetcalc.cli import main
from hetcalc.cli import options
from hetcalc.cli.options import check_writable, write_atomic
from hetcalc.errors import OptionError, OutputError

SPEC = "input: [3, 32, 32]\nlayers:\n  - conv: 64\n  - conv: 64\n  - conv: 96\n  - avgpool: global\n  - fc: 10\n"


def run_cli(*args) -> "click.testing.Result":  # noqa: F821
    return CliRunner().invoke(main, [str(a) for a in args])


def one_line_error(result, code: int, *fragments: str) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == code, (result.exit_code, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hetcalc: error: ")
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SPEC)
    return path


def test_the_spec_runs(spec):
    assert run_cli(spec, "--P", "2").exit_code == 0


# --------------------------------------------------------------------------- P and G

@pytest.mark.parametrize("option", ["--P", "--G"])
@pytest.mark.parametrize("value, fragment", [
    ("0", "got 0"),
    ("-4", "got -4"),
    ("abc", "'abc'"),
    ("4.0", "'4.0'"),
    ("1e3", "'1e3'"),
    ("", "''"),
])
def test_bad_part_values(spec, option, value, fragment):
    one_line_error(run_cli(spec, option, value), 2, f"{option[2:]} must be a positive integer", fragment)


@pytest.mark.parametrize("option, value", [("--P", "5"), ("--G", "5"), ("--P", "3")])
def test_part_that_does_not_divide_a_layer(spec, option, value):
    one_line_error(run_cli(spec, option, value), 2, f"{option[2:]}={value} does not divide", "M=64")


def test_part_larger_than_a_layers_depth(spec):
    line = one_line_error(run_cli(spec, "--P", "128"), 2, "P=128")
    assert "M=64" in line


@pytest.mark.parametrize("value", ["²", "٣", "４"])
def test_part_in_non_ascii_digits(spec, value):
    one_line_error(run_cli(spec, "--P", value), 2, "P must be")


def test_part_with_thousands_of_digits(spec):
    one_line_error(run_cli(spec, "--P", "1" * 5000), 2, "P")


# --------------------------------------------------------------------------- formats, variants, architectures

def test_unknown_format(spec):
    one_line_error(run_cli(spec, "--format", "pdf"), 2, "'pdf' is not one of")


@pytest.mark.parametrize("value, fragment", [("foo", "unknown variant 'foo'"), (",", "no variant chosen")])
def test_unknown_variant(spec, value, fragment):
    one_line_error(run_cli(spec, "--variants", value), 2, fragment)


def test_unknown_operation(spec):
    one_line_error(run_cli(spec, "--ops", "bogus"), 2, "unknown operation 'bogus'")


def test_flops_per_mac_out_of_range(spec):
    one_line_error(run_cli(spec, "--flops-per-mac", "3"), 2, "--flops-per-mac")


def test_unknown_option(spec):
    one_line_error(run_cli(spec, "--frobnicate"), 2, "--frobnicate")


def test_unknown_architecture_is_one_line():
    result = run_cli("vgg61")
    assert result.exit_code != 0
    assert result.stderr.splitlines() == [result.stderr.strip()]
    assert "unknown architecture 'vgg61'" in result.stderr


def test_unknown_architecture_is_a_usage_error():
    one_line_error(run_cli("vgg61"), 2, "unknown architecture 'vgg61'")


# --------------------------------------------------------------------------- output paths

def test_output_in_a_missing_folder(spec, tmp_path):
    out = tmp_path / "nowhere" / "report.json"
    one_line_error(run_cli(spec, "-o", out), 2, "does not exist", str(out.parent))
    assert not out.parent.exists()


def test_output_under_a_file(spec, tmp_path):
    out = spec / "report.json"
    one_line_error(run_cli(spec, "-o", out), 2, "is not a folder")


def test_output_is_a_directory(spec, tmp_path):
    one_line_error(run_cli(spec, "-o", tmp_path), 2, str(tmp_path))


def test_output_in_a_read_only_folder(spec, tmp_path):
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        probe = folder / "probe"
        try:
            probe.write_text("x")
        except OSError:
            pass
        else:
            pytest.skip("running with privileges that ignore folder permissions")
        one_line_error(run_cli(spec, "-o", folder / "report.json"), 2, "not writable")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(stat.S_IRWXU)


def test_check_writable_tries_for_real(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    import tempfile  # options imports it inside check_writable (start-up time), so patch the module itself

    monkeypatch.setattr(tempfile, "TemporaryFile", refuse)
    with pytest.raises(OptionError, match="not writable"):
        check_writable(tmp_path / "report.json")


def test_check_writable_refuses_a_directory(tmp_path):
    with pytest.raises(OptionError, match="it is a directory"):
        check_writable(tmp_path)


def test_check_writable_refuses_a_read_only_file(tmp_path, monkeypatch):
    out = tmp_path / "report.json"
    out.write_text("old\n")
    monkeypatch.setattr(options.os, "access", lambda path, mode: False)
    with pytest.raises(OptionError, match="permission denied"):
        check_writable(out)


def test_check_writable_refuses_an_input(spec):
    with pytest.raises(OptionError, match="it is an input"):
        check_writable(spec, inputs=[spec])


# --------------------------------------------------------------------------- atomic output

@pytest.mark.parametrize("bad", [["--P", "5"], ["--variants", "nope"], ["--P", "0"]])
def test_failed_run_keeps_the_existing_file(spec, tmp_path, bad):
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    result = run_cli(spec, "-o", out, *bad)
    assert result.exit_code == 2
    assert out.read_text() == "previous report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "tiny.yaml"]


def test_failed_spec_leaves_no_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: [3, 32, 32]\nlayers: [conv: 0]\n")
    out = tmp_path / "report.csv"
    one_line_error(run_cli(bad, "-o", out), 1, f"{bad}:2:")
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_successful_run_replaces_the_file(spec, tmp_path):
    out = tmp_path / "report.json"
    out.write_text("previous report\n")
    out.chmod(0o640)
    result = run_cli(spec, "-o", out, "--P", "2")
    assert result.exit_code == 0, result.stderr
    assert out.read_text().startswith("{")
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.json", "tiny.yaml"]


def test_new_file_gets_ordinary_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomic(tmp_path / "a.txt", "hello\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644


def test_write_through_a_symlink_keeps_the_link(tmp_path):
    target = tmp_path / "target.txt"
    target.write_text("old\n")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    write_atomic(link, "new\n")
    assert link.is_symlink() and target.read_text() == "new\n"


def test_failure_while_writing_leaves_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "report.txt"
    out.write_text("old\n")

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(options.os, "replace", broken_replace)
    with pytest.raises(OutputError, match="No space left on device"):
        write_atomic(out, "new\n")
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["report.txt"]


def test_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    out = tmp_path / "report.txt"

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(options.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(out, "new\n")
    assert list(tmp_path.iterdir()) == []


def test_write_failure_is_one_line_exit_1(spec, tmp_path, monkeypatch):
    def broken_replace(src, dst):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(options.os, "replace", broken_replace)
    out = tmp_path / "report.json"
    one_line_error(run_cli(spec, "-o", out), 1, "Read-only file system", str(out))
    assert not out.exists()


def test_devices_are_written_in_place():
    write_atomic(Path(os.devnull), "discarded\n")
    assert Path(os.devnull).exists() and not Path(os.devnull).is_file()
