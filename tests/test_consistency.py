"""One behaviour everywhere: output format from the extension, targets in percent, --P N, --replace-first
described the same way, LaTeX and CSV that a paper accepts, singular and plural counted right."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import click
import pytest

from hetcalc.cli import main
from hetcalc.formatting import csv_value
from hetcalc.reproduce import check_rows
from hetcalc.tables import checks_summary

DOCS = Path(__file__).resolve().parent.parent / "docs"
VGG = ("vgg16", "--P", "4")


@pytest.mark.parametrize("command", [["reproduce", "1"], ["vgg16", "--P", "4"], ["sweep", "vgg16", "--P", "1..4"]])
def test_every_command_picks_the_format_from_the_extension(run, tmp_path, command):
    for name, check in (("r.json", lambda t: json.loads(t)), ("r.tex", lambda t: "\\begin{table}" in t),
                        ("r.csv", lambda t: len(next(csv.reader(io.StringIO(t)))) > 3),
                        ("r.md", lambda t: "| ---" in t.replace("|---", "| ---") or "|---" in t)):
        out = tmp_path / name
        result = run(*command, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert check(out.read_text(encoding="utf-8")), (command, name)


def test_reproduce_counts_figures_in_the_singular_and_plural():
    checks = check_rows(["1"])
    one = checks_summary(checks[:1])
    assert one.startswith(f"{int(checks[0].match)} of 1 printed figure ") and "figures" not in one.split(";")[0]
    many = checks_summary(checks)
    assert re.match(r"\d+ of \d+ printed figures reproduce", many)


@pytest.mark.parametrize("value", ["0.8", ".5", "0.25"])
def test_a_fraction_as_target_is_refused_with_a_hint(run, value):
    result = run("sweep", "vgg16", "--P", "1..8", "--target-reduction", value)
    assert result.exit_code == 2
    percent = f"{float(value) * 100:g}%"
    assert f"write {percent} for the fraction {value}" in result.stderr and f"{value}%" in result.stderr


@pytest.mark.parametrize("value", ["80%", "80", "0.8%"])
def test_targets_in_percent_are_taken(run, value):
    assert run("sweep", "vgg16", "--P", "1..8", "--target-reduction", value).exit_code == 0


def test_P_N_without_ratio_is_refused_with_the_reason_and_works_with_it(run):
    result = run("vgg16", "--P", "N")
    assert result.exit_code == 2
    assert "does not divide" in result.stderr and "--hetconv ratio" in result.stderr
    data = json.loads(run("vgg16", "--P", "N", "--hetconv", "ratio", "--format", "json").stdout)
    variants = {v["variant"]: v for v in data["variants"]}
    assert variants["hetconv"]["P"] == "N" and variants["gwc_pwc"]["G"] == "M"  # G's default with P = N
    help_text = run("analyze", "--help").stdout
    assert "M when P is N" in " ".join(help_text.split())


def _words(text: str) -> str:
    return " ".join(re.sub(r"[`*]", "", text).split()).lower()


def test_replace_first_is_described_the_same_everywhere(run):
    option = next(p for p in main.get_command(None, "analyze").params if "--replace-first" in p.opts)
    sentence = _words(option.help).rstrip(".")
    assert "first convolution in layer order, whatever its kernel" in sentence
    assert sentence in _words((DOCS / "cli.md").read_text(encoding="utf-8"))
    assert sentence in _words((DOCS / "json.md").read_text(encoding="utf-8"))
    rules = _words(run(*VGG, "--rules").stdout)  # the printed rules wrap at 80 columns
    assert "except the network's first convolution (first in layer order, whatever its kernel)" in rules
    assert "the network's first convolution included (--replace-first)" in _words(run(
        "vgg16", "--variants", "dwc", "--replace-first", "--rules").stdout)


def test_latex_speedups_captions_labels_and_width(run):
    tex = run(*VGG, "--format", "latex").stdout
    assert "2.96$\\times$" in tex and "2.96x" not in tex
    assert "32$\\times$32" in tex  # output shapes too
    captions = re.findall(r"\\caption\{([^}]*)\}", tex)
    assert captions == ["VGG-16 (CIFAR-10), P=4, G=4: Per-layer FLOPs", "VGG-16 (CIFAR-10), P=4, G=4: Summary"]
    labels = re.findall(r"\\label\{([^}]*)\}", tex)
    assert len(labels) == 2 and len(set(labels)) == 2 and all(label.startswith("tab:vgg16") for label in labels)
    assert tex.count("\\resizebox{\\ifdim\\width>\\linewidth\\linewidth\\else\\width\\fi}{!}{%") == 2
    assert tex.count("\\begin{tabular}") == tex.count("\\end{tabular}}") == 2  # each inside its resizebox
    assert "% needs \\usepackage{booktabs,graphicx}" in tex


def test_csv_floats_carry_no_binary_noise():
    assert 0.1 + 0.2 == 0.30000000000000004 and csv_value(0.1 + 0.2) == "0.3"
    assert csv_value(1 - 0.1) == "0.9" and csv_value(1.0) == "1.0" and csv_value(2 / 3) == "0.666666666666667"
    assert csv_value(12) == 12 and csv_value(None) == ""


def test_every_command_is_in_the_cli_doc_with_an_example():
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    for name in ("report", "plot depth"):
        assert f"hetcalc {name}" in text
    command = main.get_command(None, "report")
    assert isinstance(command, click.Command) and "Example:" in command.help
