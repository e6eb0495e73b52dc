"""A Report in a notebook or REPL: str()/repr() are its summary, table() is what `hetcalc ARCH` prints,
_repr_html_ is the HTML report's tables; the views load only when a report is shown (analysis never imports
views: the package root fills its display slot)."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser

import pytest

import hetcalc


@pytest.fixture(scope="module")
def vgg():
    return hetcalc.analyze("vgg16", P=4)


def test_repr_and_str_are_the_summary(vgg):
    text = repr(vgg)
    assert text == str(vgg)
    assert not text.startswith("Report(")  # not a dump of every field
    assert len(text.splitlines()) <= 12
    assert text.splitlines()[0].startswith("VGG-16 (CIFAR-10) [vgg16]")
    # VGG-16 (CIFAR-10): 313,463,808 MACs standard; HetConv P=4 105,845,760 (docs/api.md, eqs. 2-4)
    assert "313.46M" in text and "105.85M" in text
    for label in ("standard", "HetConv (P=4)", "GWC+PWC (G=4)", "DWC+PWC"):
        assert label in text


@pytest.mark.parametrize("args, by", [(("--by", "layer"), None), (("--by", "stage"), "stage"),
                                      (("--depth", "2"), "depth:2")])
def test_table_is_what_the_command_writes(run, tmp_path, args, by):
    report = hetcalc.analyze("resnet56", P=4)
    out = tmp_path / "resnet56.txt"
    assert run("resnet56", "--P", "4", *args, "-o", str(out)).exit_code == 0
    assert report.table(by=by) == out.read_text(encoding="utf-8")


def test_table_fits_a_width():
    report = hetcalc.analyze("resnet56", P=4)
    for width in (60, 80, 100):
        lines = report.table(width=width).splitlines()
        rows = [line for line in lines if line.startswith(("conv1 ", "stage", "fc1 "))]
        assert len(rows) == 1 + 3 * 9 * 2 + 1 and max(len(line) for line in rows) <= width, width
        if width >= 80:  # prose too (wrapped at 80 columns and below)
            assert max(len(line) for line in lines) <= width, width
    assert max(len(line) for line in report.table().splitlines()) > 100  # unfitted: every column


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.seen, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.seen.append((tag, dict(attrs)))
        if tag not in ("br", "meta"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack.pop() == tag, tag

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    tags = Tags()
    tags.feed(html)
    assert not tags.stack  # balanced
    return tags


def test_repr_html_has_the_reports_tables(vgg):
    html = vgg._repr_html_()
    tags = parse(html)
    ids = [attrs.get("id") for tag, attrs in tags.seen if tag == "table"]
    assert ids == ["hetcalc-summary", "hetcalc-layers"]
    text = "".join(tags.text)
    assert "HetConv (P=4)" in text and "conv2 *" in text and "105.85M" in text
    assert "<script" not in html and "http" not in html  # self-contained: nothing fetched, nothing run
    assert "<details>" not in html  # 16 rows: the per-layer table is open


def test_a_long_table_starts_folded_and_a_grouped_report_shows_its_groups():
    report = hetcalc.analyze("resnet50", P=4)
    assert "<details><summary>" in report._repr_html_()
    stages = report.by_stage()._repr_html_()
    assert "<details>" not in stages and "Per-stage FLOPs" in stages


def test_views_load_only_when_a_report_is_shown():
    code = ("import sys, hetcalc; r = hetcalc.analyze('vgg16'); before = 'hetcalc.views.notebook' in sys.modules; "
            "repr(r); print(before, 'hetcalc.views.notebook' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "True"]
