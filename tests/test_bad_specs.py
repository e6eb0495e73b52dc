"""Every bad spec gets one clear line naming the file, the line and the bad value, from the library and the CLI.

The corpus is tests/bad_specs/: each file starts with `# expect: <fragment of the message>` and
`# line: <line the message must name>`. Add a case by adding a file.
"""

from __future__ import annotations

import os
import re
import signal
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner

import hetcalc
from hetcalc import HetcalcError, SpecError, load_spec_file, load_spec_text
from hetcalc.cli import main
from hetcalc.spec import MAX_LAYERS, build_network

CORPUS = Path(__file__).parent / "bad_specs"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file())


def expectation(path: Path) -> tuple[str, int]:
    head = path.read_bytes()[:1000].decode("utf-8", "replace")
    fragment = re.search(r"^# expect: (.+)$", head, re.M)
    line = re.search(r"^# line: (\d+)$", head, re.M)
    assert fragment and line, f"{path.name} needs '# expect: ...' and '# line: N' header lines"
    return fragment.group(1), int(line.group(1))


def run_cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def assert_one_line_error(result, *fragments: str, code: int | None = None) -> str:
    """Non-zero exit, nothing on stdout, exactly one stderr line `hetcalc: error: ...` holding `fragments`."""
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code != 0
    if code is not None:
        assert result.exit_code == code, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("hetcalc: error: "), lines[0]
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    return lines[0]


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_library_names_file_line_and_problem(path):
    fragment, line = expectation(path)
    with pytest.raises(SpecError) as info:
        load_spec_file(path)
    err = info.value
    assert fragment in err.message
    assert err.source == str(path)
    assert err.line == line, str(err)
    assert "\n" not in str(err)
    assert str(err).startswith(f"{path}:{line}")


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_cli_prints_one_line_and_exits_1(path):
    fragment, line = expectation(path)
    result = run_cli(path)
    assert_one_line_error(result, fragment, f"{path}:{line}", code=1)


# --------------------------------------------------------------------------- files that cannot carry a header

@pytest.mark.parametrize("content, fragment", [
    (b"", "empty spec"),
    (b"   \n\n", "empty spec"),
    ("input: [3, 32, 32]\n".encode("utf-16"), "UTF-16"),
    (b"\x00" * 64, "not a text file"),
    (os.urandom(256) + b"\x00", "not a text file"),
])
def test_unreadable_contents(tmp_path, content, fragment):
    path = tmp_path / "spec.yaml"
    path.write_bytes(content)
    with pytest.raises(SpecError, match=re.escape(fragment)):
        load_spec_file(path)
    assert_one_line_error(run_cli(path), fragment, str(path))


def test_directory_given_as_spec(tmp_path):
    with pytest.raises(SpecError, match="is a directory"):
        load_spec_file(tmp_path)
    assert_one_line_error(run_cli(tmp_path), "is a directory", str(tmp_path))


def test_missing_path(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(SpecError, match="no such file"):
        load_spec_file(path)
    assert_one_line_error(run_cli(path), "no such file", str(path))


def test_file_name_with_a_newline_stays_on_one_line(tmp_path):
    path = tmp_path / "bad\nname.yaml"
    path.write_text("input: [3, 32, 32]\nlayers: [conv: 0]\n")
    line = assert_one_line_error(run_cli(path), "conv out channels must be positive, got 0")
    assert "bad\\x0aname.yaml:2:" in line


# --------------------------------------------------------------------------- hostile YAML finishes fast

def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


@contextmanager
def no_hang(seconds: int = 120):
    """A missing bound shows as a hang: an alarm turns it into a failure. A guard, not a timing: a bounded
    parse takes well under a second, on a loaded machine too."""
    def hung(signum, frame):
        raise AssertionError(f"still parsing after {seconds} s: a bound is missing")

    previous = signal.signal(signal.SIGALRM, hung)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("text, fragment", [
    (billion_laughs(), "more than 1,200,000 values"),
    ("layers: " + "[" * 10_000 + "]" * 10_000 + "\n", "nesting deeper than 64 levels"),
    ("layers: " + "{a: " * 10_000 + "1" + "}" * 10_000 + "\n", "nesting deeper than 64 levels"),
    ("".join(" " * i + f"k{i}:\n" for i in range(1_000)), "nesting deeper than 64 levels"),
    ("input: [3, 32, 32]\nlayers:\n" + "  - conv: 1" + "0" * 100_000 + "\n", "far too large"),
], ids=["billion-laughs", "deep-flow-lists", "deep-flow-maps", "deep-block-maps", "100k-digit-integer"])
def test_hostile_yaml_fails_fast_with_a_line(text, fragment):
    with no_hang(), pytest.raises(SpecError, match=re.escape(fragment)) as info:
        load_spec_text(text, "hostile.yaml")
    assert info.value.line is not None


def test_python_tags_construct_nothing(tmp_path):
    marker = tmp_path / "owned"
    for tag in ("!!python/object/apply:os.system", "!!python/object/new:os.system"):
        text = f'input: {tag} ["touch {marker}"]\nlayers: [conv: 3]\n'
        with pytest.raises(SpecError, match="is refused"):
            load_spec_text(text, "evil.yaml")
    text = "input: [3, 32, 32]\nlayers:\n  - conv: !!python/object:collections.OrderedDict {out: 3}\n"
    with pytest.raises(SpecError, match="is refused") as info:
        load_spec_text(text, "evil.yaml")
    assert info.value.line == 3
    assert not marker.exists()


def test_runaway_repeats_stop_at_the_layer_bound():
    text = ("input: [3, 8, 8]\nlayers:\n  - residual:\n      repeat: 1000\n"
            "      body: [residual: {repeat: 1000, body: [conv: 3]}]\n")
    with no_hang(), pytest.raises(SpecError, match=f"more than {MAX_LAYERS:,} layers") as info:
        load_spec_text(text, "runaway.yaml")
    assert info.value.line == 5


# --------------------------------------------------------------------------- huge numbers stay exact

def test_huge_channel_counts_stay_exact_integers():
    big = 10**30
    net = load_spec_text(f"input: [{big}, {big}, {big}]\nlayers:\n"
                         f"  - conv: {{out: {big}, kernel: 1}}\n  - fc: {big}\n")
    report = hetcalc.analyze(net, P=1)
    std = report.standard
    conv_macs = big * big * big * big  # D_o^2 * M * N * K^2 with K = 1, D_o = big
    fc_macs = big * big * big * big  # in features (big * big * big) * out (big)
    assert std.macs == conv_macs + fc_macs
    for variant in report.variants:
        assert isinstance(variant.flops, int) and isinstance(variant.params, int)
        assert all(isinstance(r.flops, int) and isinstance(r.params, int) for r in variant.layers)


def test_integers_above_the_bound_are_refused():
    with pytest.raises(SpecError, match=r"at most 10\*\*30"):
        load_spec_text(f"input: [3, 8, 8]\nlayers: [conv: {10**30 + 1}]\n", "big.yaml")


def test_huge_cli_run_prints_exact_integers(tmp_path):
    big = 10**30
    spec = tmp_path / "huge.yaml"
    spec.write_text(f"input: [3, 32, 32]\nlayers:\n  - conv: 64\n  - conv: {big}\n  - fc: 10\n")
    result = run_cli(spec, "--format", "csv", "--summary-only")
    assert result.exit_code == 0, result.stderr
    standard = result.stdout.splitlines()[1].split(",")
    expected = 32 * 32 * 3 * 64 * 9 + 32 * 32 * 64 * big * 9 + big * 32 * 32 * 10
    assert int(standard[4]) == expected


# --------------------------------------------------------------------------- specs built in Python

@pytest.mark.parametrize("data, fragment", [
    ({"input": (3, 8, 8), "layers": [{"conv": {"out": 10**5000}}]}, "an integer of about 5,001 digits"),
    ({"input": [3, 8, 8], "layers": [{("conv",): 3}]}, "unknown layer type ('conv',)"),
    ({"input": [3, 8, 8], "layers": [{"conv": {"out": 3, 7: 1}}]}, "unknown key 7 in conv"),
    ({"input": [3, 8, 8], "layers": [{"conv": object()}]}, "must be an integer, got a value of type object"),
    ({"input": [3, 8, 8], "layers": [{"conv": {"out": {1, 2}}}]}, "got a value of type set"),
    ({"input": [3, 8, 8], "layers": "conv"}, "'layers' must be a list"),
])
def test_python_specs_fail_cleanly(data, fragment):
    with pytest.raises(SpecError, match=re.escape(fragment)):
        build_network(data, "<dict>")


def test_recursive_python_spec_fails_cleanly():
    layers: list = []
    layers.append({"residual": {"body": layers}})
    with pytest.raises(SpecError, match="nested deeper than"):
        build_network({"input": [3, 8, 8], "layers": layers}, "<dict>")


def test_deep_python_value_is_shown_safely():
    value: list = []
    for _ in range(5000):
        value = [value]
    with pytest.raises(SpecError, match="conv out channels must be an integer"):
        build_network({"input": [3, 8, 8], "layers": [{"conv": {"out": value}}]}, "<dict>")


def test_python_specs_accept_tuples():
    net = build_network({"input": (3, 8, 8), "layers": ({"conv": {"out": 4, "kernel": (3, 1)}},)})
    assert net.layers[0].kernel == (3, 1)


@pytest.mark.parametrize("error", [SpecError("x"), HetcalcError("x", source="a.yaml", line=2, column=3)])
def test_errors_are_one_line(error):
    assert "\n" not in str(error)


# --------------------------------------------------------------------------- docs/spec.md

SPEC_DOC = Path(__file__).resolve().parent.parent / "docs" / "spec.md"


def _doc_yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", SPEC_DOC.read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("index", range(len(_doc_yaml_blocks())))
def test_spec_doc_examples_build(index):
    block = _doc_yaml_blocks()[index]
    if block.lstrip().startswith("- ") or block.startswith("  - "):  # entries shown on their own
        block = "input: [64, 56, 56]\nlayers:\n" + block
    elif not re.search(r"(?m)^input:", block):
        block = "input: [3, 32, 32]\n" + block
    net = load_spec_text(block, f"docs/spec.md example {index + 1}")
    assert net.layers


def test_spec_doc_names_every_type_key_and_limit():
    from hetcalc import spec, yamlsource

    text = SPEC_DOC.read_text(encoding="utf-8")
    keys = {*spec.TOP_KEYS, *spec.CONV_KEYS, *spec.FC_KEYS, *spec.POOL_KEYS, *spec.STAGE_KEYS,
            *spec.RESIDUAL_KEYS, *spec.LAYER_TYPES, *spec.BLOCKS, *spec.STAGE_SHORTCUTS, *spec.RESIDUAL_SHORTCUTS,
            *spec.ACTIVATIONS, *spec.CONCAT_KEYS, *spec.MERGE_KEYS, *spec.BN_KEYS, *spec.ACT_KEYS, *spec.SE_KEYS,
            *spec.UPSAMPLE_KEYS, *spec.PAD_KEYS, *spec.SHAPE_KEYS, *spec.UPSAMPLE_MODES, *spec.PAD_MODES,
            *spec.PAD_WORDS, "from"}
    assert [key for key in sorted(keys) if f"`{key}`" not in text] == []
    for limit in (f"{yamlsource.MAX_BYTES // 2**20} MiB", f"{yamlsource.MAX_NODES:,} values",
                  f"{yamlsource.MAX_DEPTH} levels", f"{spec.MAX_LAYERS:,} layers", f"{spec.MAX_NESTING} deep"):
        assert limit in text, limit
    assert spec.MAX_VALUE == 10**30 and "10**30" in text
    assert "(input + 2 * padding - kernel) // stride + 1" in text


# --------------------------------------------------------------------------- size and read failures

def test_file_over_the_size_bound(tmp_path):
    from hetcalc.yamlsource import MAX_BYTES

    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * MAX_BYTES + b"\n")
    with pytest.raises(SpecError, match=f"larger than {MAX_BYTES // 2**20} MiB") as info:
        load_spec_file(path)
    assert info.value.line == 1
    with pytest.raises(SpecError, match=f"longer than {MAX_BYTES // 2**20} MiB"):
        load_spec_text(path.read_text(), "huge.yaml")


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text("input: [3, 8, 8]\nlayers: [conv: 3]\n")

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    with pytest.raises(SpecError, match="cannot read: Permission denied"):
        load_spec_file(path)
