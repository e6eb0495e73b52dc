"""Hostile input and faults (issue 13), by class: data loss, wrong numbers, tracebacks and hangs, encodings,
API types, load. Every case states what must hold; expected numbers are computed here by hand.

Most cases run `hetcalc` in-process (click's CliRunner); real processes only where the class needs one:
signals, a closed or full standard output, the locale's encoding, a terminal, matplotlib's environment.
"""

from __future__ import annotations

import decimal
import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hetcalc
from hetcalc import formatting
from hetcalc.cli.outputs import Outputs, builtin_files
from hetcalc.errors import HetcalcError, OptionError, OutputError, SpecError

SPEC = "input: [3, 16, 16]\nlayers:\n  - conv: 16\n  - conv: 32\n  - conv: 32\n  - avgpool: global\n  - fc: 10\n"
BIG = 10**12
BIG_SPEC = f"name: big\ninput: [3, 8, 8]\nlayers:\n  - conv: {BIG}\n  - conv: {BIG}\n"


def big_standard_flops() -> int:
    """Two 3 x 3 convolutions, padding 1, on 8 x 8: D^2 * K^2 * M * N each (eq. 1)."""
    return 8 * 8 * 9 * 3 * BIG + 8 * 8 * 9 * BIG * BIG


def exact_si(value: int) -> str:
    """The independent reference for formatting.si: decimal arithmetic, half to even, two decimals."""
    for scale, unit in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K")):
        if abs(value) >= scale:
            with decimal.localcontext() as ctx:
                ctx.prec = 400
                q = (decimal.Decimal(value) / scale).quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_EVEN)
            return f"{q}{unit}"
    return str(value)


@pytest.fixture
def spec(tmp_path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SPEC)
    return path


@pytest.fixture
def big(tmp_path) -> Path:
    path = tmp_path / "big.yaml"
    path.write_text(BIG_SPEC)
    return path


def one_line_error(result, code: int | None = None, *fragments: str) -> str:
    """A failure is one line on stderr, no traceback, and a non-zero exit code."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code != 0 if code is None else result.exit_code == code, (result.exit_code, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hetcalc: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def hetcalc_process(*args, env=None, **kwargs) -> subprocess.CompletedProcess:
    """`hetcalc` as a real process (for signals, closed or full stdout, encodings)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "hetcalc", *map(str, args)], capture_output=True,
                          env=full_env, timeout=120, **kwargs)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# =========================================================================== data loss

def _link(kind: str, target: Path) -> Path:
    if kind == "same":
        return target
    link = target.with_name(f"{kind}.yaml")
    (link.symlink_to if kind == "symlink" else link.hardlink_to)(target)
    return link


@pytest.mark.parametrize("kind", ["same", "symlink", "hardlink"])
@pytest.mark.parametrize("command", [
    ["{spec}", "--format", "csv"],
    ["analyze", "{spec}", "--format", "json"],
    ["sweep", "{spec}", "--P", "1..4", "--format", "csv"],
    ["sweep", "vgg16", "{spec}", "--P", "1,2", "--format", "json"],
    ["plot", "{spec}", "--data", "{tmp}/d.csv"],
    ["plot", "sweep", "{spec}", "--data", "{tmp}/d.csv"],
])
def test_no_command_overwrites_its_spec(run, spec, tmp_path, kind, command):
    out = _link(kind, spec)
    args = [a.format(spec=spec, tmp=tmp_path) for a in command]
    if args[0] == "plot":  # the spec as the CSV, the figure elsewhere
        args = [*args[:-1], str(out), "-o", str(tmp_path / "f.svg")]
    else:
        args += ["-o", str(out)]
    one_line_error(run(*args), 2, "input of this run")
    assert spec.read_text() == SPEC
    assert not (tmp_path / "f.svg").exists() and not (tmp_path / "d.csv").exists()


@pytest.mark.parametrize("builtin", builtin_files(), ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_no_output_replaces_a_builtin(run, builtin, tmp_path):
    before = builtin.read_bytes()
    one_line_error(run("resnet56", "--format", "csv", "-o", str(builtin)), 2, "built-in architecture")
    assert builtin.read_bytes() == before


def test_no_output_replaces_hetcalc_itself(run, tmp_path):
    import hetcalc.analysis.results

    module = Path(hetcalc.analysis.results.__file__)
    before = module.read_bytes()
    link = tmp_path / "report.csv"
    link.symlink_to(module)
    for target in (module, link):
        one_line_error(run("vgg16", "--format", "csv", "-o", str(target)), 2, "part of hetcalc itself")
    assert module.read_bytes() == before


@pytest.mark.parametrize("args", [["reproduce", "--format", "csv"], ["sweep", "--P", "1,2", "--format", "csv"],
                                  ["list"]])
def test_builtins_are_inputs_of_every_command(run, args, tmp_path):
    import hetcalc.network.sources

    builtin = hetcalc.network.sources.builtin_path("vgg16")
    link = tmp_path / "link.yaml"
    link.symlink_to(builtin)
    before = builtin.read_bytes()
    if args == ["list"]:  # list takes no -o: the mechanism itself
        with pytest.raises(OptionError, match="built-in"):
            Outputs().declare(link)
    else:
        one_line_error(run(*args, "-o", str(link)), 2, "built-in")
    assert builtin.read_bytes() == before


def test_figure_is_not_replaced_when_its_data_cannot_be_written(run, tmp_path):
    fig = tmp_path / "fig.png"
    fig.write_bytes(b"old figure")
    result = run("plot", "speedup", "--size", "5,4", "-o", str(fig), "--data", "/dev/full")
    one_line_error(result, 1, "/dev/full", "No space left")
    assert fig.read_bytes() == b"old figure"
    assert files(tmp_path) == ["fig.png"]


def test_new_figure_is_not_created_when_its_data_cannot_be_written(run, tmp_path):
    one_line_error(run("plot", "speedup", "--size", "5,4", "-o", str(tmp_path / "fig.svg"), "--data", "/dev/full"))
    assert files(tmp_path) == []


@pytest.mark.parametrize("fmt", ["json", "csv", "table", "markdown", "latex"])
def test_full_device_as_output_is_an_error(run, fmt):
    one_line_error(run("vgg16", "--format", fmt, "-o", "/dev/full"), 1, "/dev/full", "No space left")


def test_figure_and_data_through_a_symlink_to_each_other(run, tmp_path):
    fig = tmp_path / "fig.svg"
    fig.write_text("old")
    (tmp_path / "data.csv").symlink_to(fig)
    one_line_error(run("plot", "speedup", "-o", str(fig), "--data", str(tmp_path / "data.csv")), 2)
    assert fig.read_text() == "old"


def test_outputs_are_all_or_none_when_a_later_one_fails(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    first.write_text("old a")

    def failing(fh):
        fh.write("partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    outs = Outputs()
    outs.add(first, "new a")
    outs.add(second, failing)
    with pytest.raises(OutputError, match="No space left"):
        outs.commit()
    assert first.read_text() == "old a" and not second.exists()
    assert files(tmp_path) == ["a.txt"]


def test_outputs_are_all_or_none_when_a_device_fails(tmp_path):
    first = tmp_path / "a.txt"
    outs = Outputs()
    outs.add(first, "new a")
    outs.add(Path("/dev/full"), "data")
    with pytest.raises(OutputError, match="/dev/full"):
        outs.commit()
    assert files(tmp_path) == []


def test_outputs_are_all_or_none_on_an_encoding_error(tmp_path):
    outs = Outputs()
    outs.add(tmp_path / "a.txt", "fine")
    outs.add(tmp_path / "b.txt", "lone \udcff surrogate")
    with pytest.raises(OutputError, match="surrogate"):
        outs.commit()
    assert files(tmp_path) == []


def test_interrupt_during_commit_leaves_nothing(tmp_path):
    def interrupted(fh):
        raise KeyboardInterrupt

    outs = Outputs()
    outs.add(tmp_path / "a.txt", "fine")
    outs.add(tmp_path / "b.txt", interrupted)
    with pytest.raises(KeyboardInterrupt):
        outs.commit()
    assert files(tmp_path) == []


def test_a_failed_command_commits_nothing(run, spec, tmp_path):
    """The command fails after -o was declared: the file is neither created nor touched."""
    out = tmp_path / "r.json"
    one_line_error(run(str(spec), "--P", "5", "-o", str(out)), 2, "P=5")
    assert not out.exists()


SIGNAL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    import hetcalc.views.export as export
    def slow(report, fh):
        fh.write("{{partial")
        fh.flush()
        os.kill(os.getpid(), signal.{sig})
        fh.write("never")
    export.write_json = slow
    from hetcalc.cli import main
    main(["vgg16", "--format", "json", "-o", sys.argv[1]])
""")


@pytest.mark.parametrize("sig,code", [("SIGTERM", 128 + 15), ("SIGINT", 130), ("SIGHUP", 128 + 1)])
def test_signal_mid_write_leaves_the_old_file_and_no_temporary(tmp_path, sig, code):
    out = tmp_path / "report.json"
    out.write_text("old report\n")
    proc = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT.format(sig=sig), str(out)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == code, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("hetcalc: error: interrupted"), proc.stderr
    assert out.read_text() == "old report\n"
    assert files(tmp_path) == ["report.json"]


# =========================================================================== wrong numbers

SI_VALUES = [0, 7, 999, 1000, 1005, 1015, 1025, 1125000, 1135000, 1145000, 999_995, 313_463_808, 10**12 - 1,
             10**12, 73_728_000_000_000_010 * 10**12, 2**63, 2**64 + 1, 10**30 + 5 * 10**9, 10**100 + 1,
             -1_500_000, -(10**40) - 1, 123_456_789_012_345_678_901_234_567_890]


@pytest.mark.parametrize("value", SI_VALUES)
def test_si_is_exact_for_any_integer(value):
    assert formatting.si(value) == exact_si(value)


def test_si_example_from_the_issue():
    assert formatting.si(73_728_000_000_000_010_000_000_000_000) == "73728000000000010.00T"


@pytest.mark.parametrize("fmt", ["table", "markdown", "latex"])
def test_huge_counts_are_exact_in_every_table_format(run, big, fmt):
    result = run(str(big), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    assert exact_si(big_standard_flops()) in result.stdout


def test_huge_counts_are_exact_in_json_and_csv(run, big):
    data = json.loads(run(str(big), "--format", "json").stdout)
    assert data["variants"][0]["flops"] == big_standard_flops()
    csv_text = run(str(big), "--format", "csv", "--summary-only").stdout
    assert str(big_standard_flops()) in csv_text


def test_huge_counts_are_exact_in_the_sweep_table(run, big):
    result = run("sweep", str(big), "--P", "1,2,4")
    assert result.exit_code == 0, result.stderr
    assert exact_si(big_standard_flops()) in result.stdout  # the note's standard FLOPs
    # HetConv P=4 on the second layer (eqs. 2-4): D^2 * N * (M/P * K^2 + (M - M/P)); the first stays standard
    het = 8 * 8 * 9 * 3 * BIG + 8 * 8 * BIG * (BIG // 4 * 9 + (BIG - BIG // 4))
    assert exact_si(het) in result.stdout


def test_huge_counts_plot_and_keep_exact_csv(run, big, tmp_path):
    result = run("plot", str(big), "-o", str(tmp_path / "f.svg"), "--data", str(tmp_path / "d.csv"),
                 "--size", "4,5")
    assert result.exit_code == 0, result.stderr
    assert str(big_standard_flops()) in (tmp_path / "d.csv").read_text()


# =========================================================================== tracebacks and hangs

@pytest.mark.parametrize("args,fragment", [
    (["sweep", "vgg16", "--P", "²"], "not a positive integer"),
    (["sweep", "vgg16", "--P", "¹..⁴"], "not a positive integer"),
    (["sweep", "vgg16", "--P", "٤"], "not a positive integer"),
    (["sweep", "vgg16", "--P", "9" * 5000], "5,000 digits"),
    (["sweep", "vgg16", "--P", "1.." + "9" * 5000], "5,000 digits"),
    (["sweep", "vgg16", "--P", str(10**31)], "too large"),
    (["sweep", "vgg16", "--P", "1.."], "not a positive integer"),
    (["sweep", "vgg16", "--P", "pow2:"], "pow2"),
    (["sweep", "vgg16", "--P", "1,,2"], "empty item"),
    (["sweep", "vgg16", "--G", "²"], "not a positive integer"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "1e-999999999"], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "1e999999999"], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "nan"], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "inf%"], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "٨٠"], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "8" * 5000], "target reduction"),
    (["sweep", "vgg16", "--P", "1..4", "--target-reduction", "100"], "below 100%"),
    (["vgg16", "--P", "²"], "positive integer"),
    (["vgg16", "--P", "9" * 5000], "5,000 digits"),
    (["vgg16", "--G", "-0"], "positive integer"),
    (["vgg16", "--ops", "all,bogus"], "unknown operation 'bogus'"),
    (["vgg16", "--ops", "bn,,nope"], "unknown operation 'nope'"),
    (["vgg16", "--variants", "hetconv,zzz"], "unknown variant"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--P-max", str(2**64)], "at most 2^60"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--K", str(10**200)], "K must be at most"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--N", str(10**200)], "N must be at most"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--size", "1000,1000"], "size"),
    (["plot", "speedup", "-o", "{tmp}/f.svg", "--size", "150,150"], "too large"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--size", "1e308,1"], "size"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--size", "nan,3"], "size"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--size", "0.01,0.01"], "size"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--dpi", "1e-9"], "dpi"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--dpi", "1e9"], "dpi"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--dpi", "inf"], "dpi"),
    (["plot", "speedup", "-o", "{tmp}/f.png", "--size", "40,40", "--dpi", "600"], "pixels"),
    (["plot", "sweep", "vgg16", "-o", "{tmp}/f.png", "--P-max", str(2**64)], "at most 2^60"),
    (["plot", "vgg16", "-o", "{tmp}/f.png", "--size", "199,199"], "too large"),
])
def test_extreme_options_are_one_line_errors(run, tmp_path, args, fragment):
    result = run(*[a.format(tmp=tmp_path) for a in args])
    one_line_error(result, None, fragment)
    assert files(tmp_path) == []


@pytest.mark.parametrize("name", ["a" * 300 + ".json", "d" * 300 + "/x.json"])
def test_names_longer_than_the_file_system_allows(run, tmp_path, name):
    line = one_line_error(run("vgg16", "-o", str(tmp_path / name)), None)
    assert "too long" in line or "does not exist" in line
    assert len(line) < 400  # the path is shortened in the message


def test_spec_path_longer_than_the_file_system_allows(run, tmp_path):
    one_line_error(run(str(tmp_path / ("s" * 5000 + ".yaml"))), None)


@pytest.mark.parametrize("arch", ["x" * 5000 + ".yaml", "x" * 5000, "a\0b.yaml", "a\0b", "\udcff.yaml"])
def test_api_architecture_names_the_file_system_cannot_take(arch):
    with pytest.raises(HetcalcError) as info:
        hetcalc.analyze(arch)
    assert len(str(info.value)) < 400


def test_output_under_a_file(run, spec):
    one_line_error(run("vgg16", "-o", str(spec / "x.json")), None, "not a folder")


def test_folder_without_search_permission(run, tmp_path, monkeypatch):
    """Root ignores permission bits, so the kernel's answer is simulated where the command asks it."""
    locked = tmp_path / "locked"
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if str(path).startswith(str(locked)):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    one_line_error(run("vgg16", "-o", str(locked / "x.json")), 1, "Permission denied", str(locked))


def test_an_os_error_anywhere_is_one_line_naming_the_path(run, monkeypatch, tmp_path):
    import hetcalc.cli.analyze as analyze_cli

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", "/some/where.yaml")

    monkeypatch.setattr(analyze_cli, "run_analysis", broken)
    one_line_error(run("vgg16"), 1, "/some/where.yaml", "Input/output error")


@pytest.mark.parametrize("title", ["$\\foo$", "$x^$", "50% $ and \\"])
def test_user_text_is_never_math_text(run, tmp_path, title):
    result = run("plot", "speedup", "--size", "4,3", "-o", str(tmp_path / "f.svg"), "--title", title)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "f.svg").read_text().startswith("<?xml")


@pytest.mark.parametrize("title,warning", [("a\x01b\x7f", ""), ("tab\there", ""),
                                           ("rocket \U0001F680 \u7573\u307f", "no glyph for 3 character(s)")])
def test_figure_text_warnings_are_one_line_at_most(run, tmp_path, title, warning):
    result = run("plot", "speedup", "--size", "5,4", "-o", str(tmp_path / "f.png"), "--title", title)
    assert result.exit_code == 0
    lines = result.stderr.splitlines()
    if warning:
        assert len(lines) == 1 and lines[0].startswith("hetcalc: warning:") and warning in lines[0], lines
    else:
        assert lines == []


def test_layer_names_are_never_math_text(run, tmp_path):
    spec = tmp_path / "math.yaml"
    spec.write_text('title: "$\\\\alpha$ net"\ninput: [3, 8, 8]\nlayers:\n'
                    '  - conv: {out: 8, name: "$\\\\foo$"}\n  - conv: {out: 8, name: "$x^$"}\n')
    result = run("plot", str(spec), "--size", "5,5", "-o", str(tmp_path / "f.png"))
    assert result.exit_code == 0, result.stderr


@pytest.mark.parametrize("args", [["vgg16"], ["--version"], ["list"]])
def test_full_standard_output(args):
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "hetcalc", *args], stdout=full, stderr=subprocess.PIPE,
                              timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.decode() == "hetcalc: error: cannot write to standard output: No space left on device\n"


@pytest.mark.parametrize("args", [["vgg16"], ["--version"], ["list"]])
def test_closed_standard_output(args):
    proc = subprocess.run([sys.executable, "-m", "hetcalc", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          timeout=120, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 1
    assert proc.stderr.decode() == "hetcalc: error: cannot write to standard output: it is closed\n"


def test_closed_standard_output_is_fine_when_nothing_goes_there(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "hetcalc", "vgg16", "-o", str(tmp_path / "r.csv")],
                          stderr=subprocess.PIPE, timeout=120, preexec_fn=lambda: os.close(1))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "r.csv").read_text().startswith("variant,")


def test_broken_pipe_is_quiet():
    proc = subprocess.Popen([sys.executable, "-m", "hetcalc", "sweep", "vgg16", "--P", "1..1024", "--format", "csv"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.read(10)
    proc.stdout.close()
    assert proc.wait(timeout=120) in (0, 1)  # 0 when the whole text fit in the pipe's buffer first
    assert proc.stderr.read() == b""


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a terminal")
@pytest.mark.parametrize("columns", ["0", "999999999"])
def test_odd_COLUMNS_on_a_terminal_still_prints(columns):
    command = f"COLUMNS={columns} {sys.executable} -m hetcalc vgg16 --summary-only"
    proc = subprocess.run(["script", "-qc", command, "/dev/null"], capture_output=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0
    assert b"Summary" in proc.stdout and b"HetConv" in proc.stdout and b"Traceback" not in proc.stdout


def test_bogus_MPLBACKEND_and_unwritable_config_folder(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".config").mkdir()
    (home / ".config").chmod(0o500)
    env = {"MPLBACKEND": "bogus", "HOME": str(home), "XDG_CONFIG_HOME": ""}
    env.pop("MPLCONFIGDIR", None)
    full = {k: v for k, v in {**os.environ, **env}.items() if k != "MPLCONFIGDIR"}
    proc = subprocess.run([sys.executable, "-m", "hetcalc", "plot", "speedup", "--size", "5,4", "-o",
                           str(tmp_path / "f.png")], capture_output=True, env=full, timeout=120)
    assert proc.returncode == 0, proc.stderr
    if os.geteuid() != 0:  # root may write anywhere: matplotlib then has nothing to warn about
        assert proc.stderr == b""
    assert b"Traceback" not in proc.stderr and (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"


def test_private_matplotlib_folder_is_kept_and_private(tmp_path, monkeypatch):
    import tempfile

    from hetcalc.views.figures import style

    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(tmp_path))
    first = style._private_config_dir()
    assert first == style._private_config_dir()  # the font cache survives between runs
    assert os.stat(first).st_mode & 0o777 == 0o700
    os.chmod(first, 0o777)  # someone else could have made it, or opened it up: not used
    other = style._private_config_dir()
    assert other != first and os.stat(other).st_mode & 0o077 == 0


# =========================================================================== encodings

def test_latin1_stdout_with_an_emoji_title(tmp_path):
    spec = tmp_path / "emoji.yaml"
    spec.write_text("title: rocket \U0001F680 net\n" + SPEC, encoding="utf-8")
    proc = hetcalc_process(spec, env={"PYTHONIOENCODING": "latin-1"})
    assert proc.returncode == 1
    lines = proc.stderr.decode("latin-1").splitlines()
    assert len(lines) == 1 and "cannot show '\\U0001f680'" in lines[0] and "PYTHONIOENCODING=utf-8" in lines[0], lines
    ok = hetcalc_process(spec, "-o", tmp_path / "r.md", env={"PYTHONIOENCODING": "latin-1"})
    assert ok.returncode == 0 and "\U0001F680" in (tmp_path / "r.md").read_text(encoding="utf-8")


def test_lone_surrogate_in_a_name_is_a_spec_error(run, tmp_path):
    spec = tmp_path / "sur.yaml"
    spec.write_text('input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, name: "a\\udcffb"}\n')
    one_line_error(run(str(spec)), 1, "lone surrogate", f"{spec}:3:")


def test_spec_with_a_non_utf8_file_name(run, tmp_path):
    raw = os.fsencode(tmp_path) + b"/\xff\xfe.yaml"
    with open(raw, "w") as fh:
        fh.write(SPEC)
    name = os.fsdecode(raw)
    result = run(name, "--summary-only")
    assert result.exit_code == 0, result.stderr
    assert "\\udcff" in result.stdout  # shown escaped, never as an unencodable character
    assert run(name, "--format", "csv", "-o", str(tmp_path / "r.csv")).exit_code == 0


@pytest.mark.parametrize("char", ["\t", "\x1b", "\x07", "\x7f", "\r", "\u200b"])
def test_control_characters_in_names_keep_the_table_aligned(run, tmp_path, char):
    escaped = json.dumps(f"bad{char}name")
    spec = tmp_path / "ctl.yaml"
    spec.write_text(f"input: [3, 8, 8]\nlayers:\n  - conv: {{out: 8, name: {escaped}}}\n  - conv: 8\n")
    result = run(str(spec))
    assert result.exit_code == 0, result.stderr
    assert char not in result.stdout
    lines = result.stdout.splitlines()
    start = lines.index("Per-layer FLOPs") + 2
    header, rule = lines[start], lines[start + 1]
    assert set(rule) == {"-"}
    rows = lines[start + 2:start + 4]  # the renamed layer and the next one
    assert rows[0].startswith("bad\\x") or rows[0].startswith("bad\\u"), rows[0]
    # the right-aligned 'standard' column ends at the same place in the header and in both rows
    import re

    end = header.index("standard") + len("standard")
    assert all(re.search(r"\d+\.\d\dK", row).end() == end for row in rows), (header, *rows)


@pytest.mark.parametrize("fmt", ["markdown", "latex", "csv"])
def test_control_characters_never_reach_documents_raw(run, tmp_path, fmt):
    spec = tmp_path / "ctl.yaml"
    spec.write_text('title: "t\\x1b[31mred"\ninput: [3, 8, 8]\nlayers:\n  - conv: {out: 8, name: "a\\tb"}\n')
    result = run(str(spec), "--format", fmt)
    assert result.exit_code == 0, result.stderr
    if fmt == "csv":  # data, quoted as CSV quotes it
        assert "a\tb" in result.stdout
    else:
        assert "\x1b" not in result.stdout and "\t" not in result.stdout


def test_wide_characters_keep_the_plain_table_aligned(run, tmp_path):
    spec = tmp_path / "wide.yaml"
    spec.write_text('input: [3, 8, 8]\nlayers:\n  - conv: {out: 8, name: "畳み込み"}\n  - conv: 8\n',
                    encoding="utf-8")
    from rich.cells import cell_len

    lines = run(str(spec)).stdout.splitlines()
    start = lines.index("Per-layer FLOPs") + 2
    widths = {cell_len(line) for line in lines[start:start + 4] if not set(line) <= {"-"}}
    assert max(widths) == cell_len(lines[start + 1])


def test_bytes_spec_text():
    net = hetcalc.load_spec_text(SPEC.encode())
    assert len(net.layers) == 5
    with pytest.raises(SpecError, match="not UTF-8"):
        hetcalc.load_spec_text(b"input: [3, 8, 8]\nlayers: [conv: 4]\n# \xff\n")
    with pytest.raises(SpecError, match="str or bytes"):
        hetcalc.load_spec_text(12)


# =========================================================================== API types

@pytest.mark.parametrize("field,value", [
    ("replace_first", "no"), ("replace_first", "false"), ("replace_first", 1), ("replace_first", None),
    ("pointwise_bias", "false"), ("pointwise_bias", 0), ("ratio_1x1", "yes"), ("flops_per_mac", True),
    ("flops_per_mac", 2.0), ("flops_per_mac", "2"), ("ops", 5), ("ops", ["bn", 3]), ("ops", ("bogus",)),
    ("ops", "all,bogus"), ("params", 1), ("params", ["pytorch"]), ("hetconv", None), ("hetconv", b"exact"),
])
def test_convention_refuses_wrong_types(field, value):
    with pytest.raises(OptionError):
        hetcalc.Convention(**{field: value})


@pytest.mark.parametrize("ops,expected", [("bn", ("bn",)), ("bn,act", ("bn", "act")), (" BN ", ("bn",)),
                                          ("all", hetcalc.counting.ALL_OPS), (["act", "bn"], ("bn", "act"))])
def test_convention_ops_as_a_string(ops, expected):
    assert hetcalc.Convention(ops=ops).ops == expected


@pytest.mark.parametrize("P", [[4.7], [True, 2], [0], [-1], ["4"], [None], 4.7, True, object(), [10**31]])
def test_sweep_refuses_non_integer_parts(P):
    from hetcalc.sweep import sweep

    with pytest.raises(OptionError):
        sweep(["vgg16"], P=P)


def test_sweep_integer_parts_are_taken_as_given():
    from hetcalc.sweep import sweep

    result = sweep(["vgg16"], P=[2, 4])
    assert result.P == (2, 4)


@pytest.mark.parametrize("kwargs", [
    dict(variants=[1, 2]), dict(variants=5), dict(variants=[None]), dict(convention="x"),
    dict(convention=hetcalc.Convention(), flops_per_mac=2), dict(bogus_option=1), dict(P=4.0), dict(P=True),
    dict(P=[4]), dict(G=False), dict(G=2.5), dict(se=True), dict(se=2.5), dict(se="4"), dict(P=b"4"),
    dict(replace_first="no"),
])
def test_analyze_raises_documented_errors(kwargs):
    with pytest.raises(OptionError):
        hetcalc.analyze("vgg16", **kwargs)


@pytest.mark.parametrize("arch", [3, 3.5, None, b"vgg16", ["vgg16"], object(), ""])
def test_analyze_refuses_what_is_not_an_architecture(arch):
    with pytest.raises(HetcalcError):
        hetcalc.analyze(arch)


def test_sweep_refuses_non_architectures():
    from hetcalc.sweep import sweep

    for archs in (5, [5], [None]):
        with pytest.raises(HetcalcError):
            sweep(archs, P="1,2")


# --------------------------------------------------------------------------- hypothesis: only documented errors

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

ANYTHING = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**40, max_value=10**40),
                     st.floats(allow_nan=True), st.text(max_size=12), st.binary(max_size=8),
                     st.lists(st.one_of(st.integers(-3, 70), st.text(max_size=6), st.booleans()), max_size=3),
                     st.sampled_from(["M", "N", "4", "all", "hetconv", "bn", "pytorch", "exact", 2, 4, 8]))
TINY = {"input": [3, 8, 8], "layers": [{"conv": 8}, {"conv": 16}, {"conv": 16}]}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(P=ANYTHING, G=ANYTHING, variants=ANYTHING, se=ANYTHING,
       options=st.dictionaries(st.sampled_from(["flops_per_mac", "ops", "replace_first", "params", "hetconv",
                                                "ratio_1x1", "pointwise_bias", "nonsense"]), ANYTHING, max_size=3))
def test_analyze_with_arbitrary_arguments_raises_only_documented_errors(P, G, variants, se, options):
    try:
        report = hetcalc.analyze(TINY, P=P, G=G, variants=variants, se=se, **options)
    except HetcalcError:
        return
    assert all(isinstance(v.flops, int) and not isinstance(v.flops, bool) for v in report.variants)


@SETTINGS
@given(fields=st.dictionaries(st.sampled_from(["flops_per_mac", "ops", "replace_first", "params", "hetconv",
                                               "ratio_1x1", "pointwise_bias"]), ANYTHING, max_size=4))
def test_convention_with_arbitrary_fields_raises_only_option_errors(fields):
    try:
        convention = hetcalc.Convention(**fields)
    except OptionError:
        return
    assert type(convention.replace_first) is bool and type(convention.pointwise_bias) is bool
    assert type(convention.flops_per_mac) is int and all(isinstance(op, str) for op in convention.ops)


@SETTINGS
@given(P=ANYTHING, G=ANYTHING, target=ANYTHING)
def test_sweep_with_arbitrary_arguments_raises_only_documented_errors(P, G, target):
    from hetcalc.sweep import sweep

    try:
        result = sweep([TINY], P=P, G=G)
        result.smallest_part_for(target)
    except HetcalcError:
        return
    assert all(isinstance(v, int) and not isinstance(v, bool) for v in result.P)


@SETTINGS
@given(text=st.one_of(st.text(max_size=60), st.binary(max_size=60), ANYTHING))
def test_load_spec_text_with_arbitrary_input_raises_only_spec_errors(text):
    try:
        hetcalc.load_spec_text(text)
    except SpecError:
        pass


@SETTINGS
@given(value=st.one_of(st.integers(), st.floats(allow_nan=True), st.text(max_size=20),
                       st.text(alphabet="0123456789.eE+-%", max_size=14)))
def test_target_reduction_parses_or_refuses_quickly(value):
    from hetcalc.sweep import parse_target

    try:
        target = parse_target(value)
    except OptionError:
        return
    assert 0 < target < 100


@SETTINGS
@given(K=ANYTHING, P_max=ANYTHING, N=ANYTHING)
def test_figure_data_with_arbitrary_arguments_raises_only_option_errors(K, P_max, N):
    from hetcalc.views import figures

    try:
        data = figures.speedup_data(K, P_max, N)
    except OptionError:
        return
    assert data.rows and all(row[1] > 0 for row in data.rows)


@SETTINGS
@given(arch=ANYTHING)
def test_resolve_with_arbitrary_values_raises_only_documented_errors(arch):
    try:
        hetcalc.resolve(arch)
    except HetcalcError:
        pass


# =========================================================================== load (structure, not timings)

def test_layer_results_are_slotted():
    layer = hetcalc.analyze("vgg16").standard.layers[0]
    assert not hasattr(layer, "__dict__")
    with pytest.raises(Exception):
        layer.flops = 0  # frozen


def test_layer_rows_behave_like_a_tuple():
    report = hetcalc.analyze("resnet56", P="M")
    for v in report.variants:
        rows = v.layers
        as_tuple = tuple(rows)
        assert len(rows) == len(as_tuple) == len(report.network.layers)
        assert rows[0] == as_tuple[0] and rows[-1] == as_tuple[-1] and rows[3:7] == as_tuple[3:7]
        assert rows == as_tuple and rows == list(as_tuple) and hash(rows) == hash(as_tuple)
        with pytest.raises(IndexError):
            rows[len(rows)]
        assert sum(layer.flops for layer in rows) == v.flops
    assert report.variant("hetconv") == hetcalc.analyze("resnet56", P="M").variant("hetconv")


def test_summary_never_builds_per_layer_results(run, monkeypatch):
    import hetcalc.analysis.results as report_module

    built = []
    original = report_module._layer_result
    monkeypatch.setattr(report_module, "_layer_result", lambda *a: built.append(1) or original(*a))
    result = run("resnet56", "--summary-only", "--format", "csv")
    assert result.exit_code == 0 and built == []


def test_json_is_streamed_and_equals_the_dict(tmp_path, monkeypatch):
    from hetcalc.export import write_json

    report = hetcalc.analyze("resnet56", P="M", se=4)
    expected = json.loads(json.dumps(report.to_dict()))
    calls = []
    monkeypatch.setattr(type(report.variants[0]), "to_dict",
                        lambda self, layers=True, _orig=type(report.variants[0]).to_dict:
                        calls.append(layers) or _orig(self, layers))
    out = tmp_path / "r.json"
    with open(out, "w") as fh:
        write_json(report, fh)
    assert json.loads(out.read_text()) == expected
    assert calls and not any(calls)  # no variant's layer list was built as one list of dicts


def test_streamed_json_on_the_command_line(run, tmp_path):
    out = tmp_path / "r.json"
    assert run("vgg16", "--format", "json", "-o", str(out)).exit_code == 0
    data = json.loads(out.read_text())
    assert data == json.loads(json.dumps(hetcalc.analyze("vgg16").to_dict()))
    # stdout gets the same text
    assert run("vgg16", "--format", "json").stdout == out.read_text()
