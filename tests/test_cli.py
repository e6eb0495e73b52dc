"""`hetcalc` as a user runs it: rendered output pinned by golden files, formats, -o, options, exit status.

Golden files live in tests/golden/; `pytest --update-golden` rewrites them from the current output
(review the diff before committing). What the tables *say* is checked independently in test_tables.py.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

import hetcalc
from hetcalc.cli import options as cli_options

VGG = ("vgg16", "--P", "4")


def ok(result) -> str:
    assert result.exit_code == 0, f"exit {result.exit_code}: {result.output}"
    assert result.stderr == ""
    return result.stdout


# --------------------------------------------------------------------------- golden files

@pytest.mark.parametrize("name, args", [
    ("vgg16_P4.txt", VGG),
    ("vgg16_P4_summary.txt", (*VGG, "--summary-only")),
    ("vgg16_P4.md", (*VGG, "--format", "markdown")),
    ("vgg16_P4.csv", (*VGG, "--format", "csv")),
    ("vgg16_P4.tex", (*VGG, "--format", "latex")),
    ("resnet56_PM_summary.txt", ("resnet56", "--P", "M", "--summary-only")),
    ("list.txt", ("list",)),
])
def test_output_matches_golden(run, golden, name, args):
    golden(name, ok(run(*args)))


@pytest.mark.parametrize("args", [VGG, ("list",), ("resnet56", "--summary-only")])
def test_piped_table_is_plain_ascii(run, args):
    out = ok(run(*args))
    assert out.isascii() and "\x1b" not in out
    assert all(line == line.rstrip() for line in out.splitlines())


def test_table_shows_rules_and_both_tables(run):
    for flag in ("--rules", "-v"):
        lines = ok(run(*VGG, flag)).splitlines()
        assert lines[0] == "VGG-16 (CIFAR-10) [vgg16]  input 3x32x32  P=4, G=4"
        assert "spec: built-in architectures/vgg16.yaml" in lines
        assert any(line.startswith("FLOPs: MACs of convolution") for line in lines)
        assert "Per-layer FLOPs" in lines and "Summary" in lines


def test_the_default_table_is_short(run):
    """What a person reads: the rules in one line, the table, the summary, then one line saying what next."""
    lines = ok(run(*VGG)).splitlines()
    assert lines[2] == "Rules: FLOPs = MACs, PyTorch params, first conv kept, HetConv exact (--rules)"
    assert not any(line.startswith("FLOPs: MACs of convolution") for line in lines)
    assert lines.index("Per-layer FLOPs") == 4  # the first number within a few lines of the top
    assert lines[-1].startswith("  ") and lines[-2].startswith("Next: ") or lines[-1].startswith("Next: ")
    assert "--device a100" in " ".join(lines[-3:])


def test_a_long_network_gets_stages_by_default_and_layers_on_request(run, tmp_path):
    short = ok(run("resnet50")).splitlines()
    assert "Per-stage FLOPs" in short and "Per-layer FLOPs" not in short
    assert len(short) < 50  # one screen (it was 93 lines)
    assert "--by layer for every layer" in " ".join(" ".join(short).split())
    layers = ok(run("resnet50", "--by", "layer")).splitlines()
    assert "Per-layer FLOPs" in layers and any(line.startswith("stage4.2.conv3") for line in layers)
    assert "--by layer" not in " ".join(layers[-3:])
    ok(run("resnet50", "-o", str(tmp_path / "r.txt")))  # a file: every layer, every rule
    written = (tmp_path / "r.txt").read_text(encoding="utf-8").splitlines()
    assert "Per-layer FLOPs" in written and any(line.startswith("FLOPs: MACs of convolution") for line in written)


def test_summary_only_drops_the_layer_table(run):
    full, summary = ok(run(*VGG)), ok(run(*VGG, "--summary-only"))
    assert "Per-layer FLOPs" not in summary and "conv2" not in summary
    assert summary.split("Summary", 1)[1] == full.split("Summary", 1)[1]


def test_list_names_every_builtin(run):
    out = ok(run("list"))
    names = [line.split()[0] for line in out.split("\n\n")[1].splitlines()[2:] if line.strip()]  # notes follow
    assert names == hetcalc.builtin_names()


# --------------------------------------------------------------------------- json

def test_json_has_exactly_the_documented_keys(run, documented_keys):
    data = json.loads(ok(run("resnet56", "--format", "json")))
    assert list(data) == documented_keys["top"]
    assert list(data["convention"]) == documented_keys["convention"]
    assert len(data["variants"]) == 4
    for variant in data["variants"]:
        assert list(variant) == documented_keys["variants[]"]
        for layer in variant["layers"]:
            assert list(layer) == documented_keys["variants[].layers[]"]


def test_json_values_have_the_documented_types(run):
    data = json.loads(ok(run(*VGG, "--format", "json")))
    assert data["input"] == [3, 32, 32] and data["se"] is None
    for variant in data["variants"]:
        for key in ("flops", "params", "macs", "latency_depth", "added_latency", "replaced_layers"):
            assert type(variant[key]) is int, key
        for key in ("speedup", "flops_reduction", "params_reduction"):
            assert type(variant[key]) is float, key
        for key in ("flops", "params", "macs"):
            assert variant[key] == sum(layer[key] for layer in variant["layers"]), key
        for layer in variant["layers"]:
            assert layer["kind"] in ("conv", "fc", "pool", "add")
            assert (layer["ratio"] is None) == (not layer["replaced"])
    het = data["variants"][1]
    assert (het["variant"], het["P"], het["G"]) == ("hetconv", 4, None)
    assert data["variants"][3]["G"] == "M"


def test_json_is_the_library_report(run):
    data = json.loads(ok(run("resnet56", "--P", "M", "--format", "json")))
    assert data == json.loads(json.dumps(hetcalc.analyze("resnet56", P="M").to_dict()))


def test_summary_only_keeps_json_layers(run):
    assert ok(run(*VGG, "--format", "json")) == ok(run(*VGG, "--format", "json", "--summary-only"))


# --------------------------------------------------------------------------- -o and formats

@pytest.mark.parametrize("suffix, fmt", [(".json", "json"), (".csv", "csv"), (".md", "markdown"),
                                         (".markdown", "markdown"), (".tex", "latex"), (".txt", "table"),
                                         (".dat", "table"), (".JSON", "json")])
def test_output_file_format_follows_extension(run, tmp_path, suffix, fmt):
    out = tmp_path / f"report{suffix}"
    assert ok(run(*VGG, "-o", str(out))) == ""
    shown = ok(run(*VGG, "--format", fmt, "--rules"))
    if fmt == "table":  # a file has everything a reader's table has but the line suggesting what to run next
        shown = shown[:shown.rindex("\nNext: ")]
    assert out.read_text(encoding="utf-8") == shown


def test_output_json_file_parses(run, tmp_path):
    out = tmp_path / "out.json"
    ok(run("vgg16", "--P", "4", "-o", str(out)))
    # By hand: conv1 stays standard; every other conv M -> N at D x D costs D^2 * N * (M/4 * 9 + M - M/4).
    convs = [(64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8), (256, 256, 8),
             (256, 512, 4), (512, 512, 4), (512, 512, 4), (512, 512, 2), (512, 512, 2), (512, 512, 2)]
    expected = 32 * 32 * 3 * 64 * 9 + sum(d * d * n * (m // 4 * 9 + m - m // 4) for m, n, d in convs)
    expected += 512 * 512 + 512 * 10
    assert json.loads(out.read_text())["variants"][1]["flops"] == expected


def test_explicit_format_beats_extension(run, tmp_path):
    out = tmp_path / "report.json"
    ok(run(*VGG, "--format", "csv", "-o", str(out)))
    assert out.read_text().startswith("variant,P,G,layer,")


@pytest.mark.parametrize("args", [VGG, (*VGG, "--summary-only", "--format", "csv"),
                                  ("resnet56", "--format", "json"), ("mobilenet", "--variants", "std,het,dwc")])
def test_analyze_spelled_out_equals_bare_form(run, args):
    assert ok(run("analyze", *args)) == ok(run(*args))


def test_csv_summary_has_one_row_per_variant(run):
    rows = list(csv.DictReader(io.StringIO(ok(run(*VGG, "--format", "csv", "--summary-only")))))
    assert [r["variant"] for r in rows] == ["standard", "hetconv", "gwc_pwc", "dwc_pwc"]
    assert [r["label"] for r in rows] == ["standard", "HetConv (P=4)", "GWC+PWC (G=4)", "DWC+PWC"]


# --------------------------------------------------------------------------- options

def _summary_rows(out: str) -> list[list[str]]:
    block = out.split("Summary", 1)[1].strip().splitlines()
    rows = block[2:block.index("", 2)] if "" in block[2:] else block[2:]  # the table ends at its blank line
    return [line.split("  ") for line in rows if line.strip()]


def test_variants_hetconv_shows_only_hetconv(run):
    """--variants hetconv: the HetConv row alone, its reductions still against standard."""
    out = ok(run(*VGG, "--variants", "hetconv", "--summary-only"))
    rows = [[cell.strip() for cell in row if cell.strip()] for row in _summary_rows(out)]
    closed = f"{1 / 4 + (3 / 4) / 9:.4f} (eq. 5)"  # eq. 5 with P = 4, K = 3: the summary's closed form
    assert rows == [["HetConv (P=4)", "105.85M", "66.23%", "2.96x", "5.19M", "65.41%", "15", "+0", closed]]
    assert out.splitlines()[0].endswith("P=4")  # no G: GWC+PWC was not asked for
    data = json.loads(ok(run(*VGG, "--variants", "hetconv", "--format", "json")))
    assert [v["variant"] for v in data["variants"]] == ["hetconv"]
    assert round(data["variants"][0]["flops_reduction"], 2) == 66.23


def test_variants_hetconv_per_layer_table(run):
    out = ok(run(*VGG, "--variants", "hetconv"))
    assert "Per-layer FLOPs" in out and "12.58M" in out


def test_variants_order_and_aliases(run):
    a = ok(run(*VGG, "--variants", "dwc,het", "--format", "csv", "--summary-only"))
    b = ok(run(*VGG, "--variants", "hetconv,dwc_pwc", "--format", "csv", "--summary-only"))
    assert a == b
    assert [r["variant"] for r in csv.DictReader(io.StringIO(a))] == ["hetconv", "dwc_pwc"]


def test_P_M_gives_each_layer_its_own_input_depth(run):
    out = ok(run("vgg16", "--P", "M", "--summary-only"))
    assert out.splitlines()[0].endswith("P=M, G=M")
    assert "HetConv (P=M)" in out and "GWC+PWC (G=M)" in out
    data = json.loads(ok(run("vgg16", "--P", "M", "--format", "json")))
    het = data["variants"][1]
    assert het["P"] == "M"
    for layer in het["layers"]:
        if layer["replaced"]:
            assert layer["realization"] == f"hetconv P={layer['M']}"
    # By hand, eq. 4 with P = M: each filter has one K x K kernel and M - 1 kernels 1 x 1.
    convs = [(3, 64, 32), (64, 64, 32), (64, 128, 16), (128, 128, 16), (128, 256, 8), (256, 256, 8),
             (256, 256, 8), (256, 512, 4), (512, 512, 4), (512, 512, 4), (512, 512, 2), (512, 512, 2),
             (512, 512, 2)]
    first = 32 * 32 * 3 * 64 * 9
    replaced = sum(d * d * n * (9 + m - 1) for m, n, d in convs[1:])
    assert het["flops"] == first + replaced + 512 * 512 + 512 * 10


def test_flops_per_mac_2_doubles_every_total(run):
    one = json.loads(ok(run(*VGG, "--format", "json")))
    two = json.loads(ok(run(*VGG, "--format", "json", "--flops-per-mac", "2")))
    for a, b in zip(one["variants"], two["variants"]):
        assert b["flops"] == 2 * a["flops"] and b["macs"] == a["macs"] and b["params"] == a["params"]


def test_ops_all_and_replace_first_reach_the_convention(run):
    data = json.loads(ok(run("resnet56", "--P", "M", "--ops", "all", "--replace-first", "--format", "json")))
    assert data["convention"]["ops"] == list(hetcalc.counting.ALL_OPS)
    assert data["convention"]["replace_first"] is True
    assert data["variants"][1]["layers"][0]["replaced"] is True


# --------------------------------------------------------------------------- colour

def test_no_color_when_piped(run):
    plain = ok(run(*VGG))
    assert ok(run(*VGG, env={"NO_COLOR": "1"})) == plain
    assert "\x1b" not in plain


@pytest.fixture
def terminal(monkeypatch):
    """Make hetcalc believe stdout is a terminal, and rich render as for one."""
    monkeypatch.setattr(cli_options, "is_terminal", lambda file=None: True)
    return {"FORCE_COLOR": "1", "COLUMNS": "200"}


def test_terminal_output_is_styled(run, terminal):
    # The simulated terminal really is one to rich: the check below is not trivially true.
    assert "\x1b[" in ok(run(*VGG, "--summary-only", env=terminal))


def test_no_color_on_a_terminal_gives_no_escapes(run, terminal):
    out = ok(run(*VGG, "--summary-only", env={**terminal, "NO_COLOR": "1"}))
    assert "\x1b[" not in out


def test_narrow_terminal_keeps_numbers_whole(run, terminal):
    out = ok(run(*VGG, "--summary-only", env={**terminal, "COLUMNS": "80"}))
    assert "313.46M" in out and "105.85M" in out


# --------------------------------------------------------------------------- errors and exit status

@pytest.fixture
def bad_spec(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("input: [3, 32, 32]\nlayers:\n  - conv: {out: 64, kernal: 3}\n")
    return path


@pytest.mark.parametrize("args, status, message", [
    (("vgg16", "--P", "3"), 2, "P=3 does not divide the input depth M of 12 HetConv layer(s)"),
    (("vgg16", "--G", "3"), 2, "G=3 does not divide"),
    (("vgg16", "--P", "0"), 2, "P must be a positive integer"),
    (("vgg16", "--bogus"), 2, "No such option '--bogus'"),
    (("vgg16", "--format", "pdf"), 2, "Invalid value for '--format'"),
    (("vgg16", "--flops-per-mac", "3"), 2, "3 is not in the range"),
    (("vgg16", "--ops", "foo"), 2, "unknown operation 'foo'"),
    (("vgg16", "--variants", "foo"), 2, "unknown variant 'foo'"),
    (("analyze",), 2, "Missing argument 'ARCH'"),
    (("vgg16", "-o", "{tmp}/missing/out.json"), 2, "folder {tmp}/missing does not exist"),
    (("nosuch",), 2, "unknown architecture 'nosuch'"),
    (("{bad}",), 1, "bad.yaml:3:"),
    (("{bad}",), 1, ": unknown key 'kernal' in conv (did you mean 'kernel'?)"),
])
def test_errors_are_one_line_with_status(run, tmp_path, bad_spec, args, status, message):
    args = [a.format(tmp=tmp_path, bad=bad_spec) for a in args]
    result = run(*args)
    assert result.exit_code == status, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hetcalc: error: ")
    assert message.format(tmp=tmp_path) in lines[0]


def test_version_and_help_exit_zero(run):
    assert ok(run("--version")).startswith("hetcalc ")
    assert "Example:" in ok(run("--help"))
    assert "Example:" in ok(run("analyze", "--help"))


def test_a_built_in_name_in_another_case_is_that_network_and_a_near_miss_suggests_it(run):
    """`hetcalc VGG16` is vgg16 (device names ignore case too); a misspelling that differs from a name only
    in case, once extended, is pointed at that name, not at a longer one it prefixes."""
    from hetcalc.core.hints import candidates

    assert run("VGG16", "--format", "json").output == run("vgg16", "--format", "json").output
    assert candidates("VGG16", ["vgg16", "vgg16-imagenet"]) == ["vgg16"]
    assert candidates("vgg", ["vgg16", "vgg16-imagenet"]) == ["vgg16", "vgg16-imagenet"]
    result = run("VGG61")
    assert result.exit_code == 2 and "unknown architecture 'VGG61'" in result.output


def test_time_tables_by_stage_are_titled_so_and_say_per_batch_once(run):
    out = run("resnet56", "--device", "rtx4090", "--batch", "32").output
    assert "Per-stage time on rtx4090" in out and "Per-layer time" not in out
    assert out.count("Traffic and time per batch of 32 images") == 1
    by_layer = run("resnet56", "--device", "rtx4090", "--by", "layer").output
    assert "Per-layer time on rtx4090" in by_layer


def test_a_non_integer_count_is_refused_as_not_an_integer(run):
    result = run("vgg16", "--batch", "1.5")
    assert result.exit_code == 2 and "'1.5' is not a valid integer." in result.output
    assert "integer range" not in result.output
