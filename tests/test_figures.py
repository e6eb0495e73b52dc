"""Figures a reviewer accepts: linear bars by default (or ratios to standard), a per-stage figure that fits
a paper, a latency-depth figure, SVG text kept as text, a default file name that is announced, and a
convolution type registered later drawn without an edit to the figures."""

from __future__ import annotations

import re

import pytest

from hetcalc import analyze
from hetcalc.views import figures as plots


@pytest.fixture(scope="module")
def resnet56():
    return analyze("resnet56", P=4)


def test_per_stage_figure_of_resnet56_is_paper_sized(resnet56):
    stages = resnet56.by_stage()
    fig = plots.layers_figure(stages)
    width, height = fig.get_size_inches()
    assert width <= 7.2 and height <= 7.2  # one page column to a text width; per layer it is 40 inches
    names = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert names == ["conv1", "stage1*", "stage2*", "stage3*", "fc1"]
    assert plots.layout_problems(fig) == []
    # bar heights are the stage sums: stage1 is 18 conv 3x3 16 -> 16 on 32 x 32 (no BN in FLOPs)
    bars = [p for p in fig.axes[0].patches if p.get_gid() == "standard"]
    assert bars[1].get_height() == 18 * 32 * 32 * 16 * 16 * 9


def test_ratio_scale_draws_each_variant_over_standard():
    report = analyze("vgg16", P=4, variants="standard,hetconv")
    fig = plots.layers_figure(report, scale="ratio")
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear"
    het = [p.get_height() for p in ax.patches if p.get_gid() == "hetconv"]
    assert not [p for p in ax.patches if p.get_gid() == "standard"]  # standard is the line at 1
    assert het[0] == 1.0  # conv1 is kept standard
    assert het[1] == pytest.approx((16 * 9 + 48) / (64 * 9))  # conv2, eq. 4 over eq. 1: 1/3


def test_depth_figure_shows_the_latency_depth(resnet56):
    data = plots.depth_data(resnet56)
    depth = dict(zip(data.column("variant"), data.column("latency_depth")))
    # conv1 + 27 blocks x 2 convs + fc; GWC+PWC and DWC+PWC add one layer per replaced conv (54)
    assert depth == {"standard": 56, "hetconv": 56, "gwc_pwc": 110, "dwc_pwc": 110}
    fig = plots.depth_figure(resnet56)
    widths = {p.get_gid(): p.get_width() for p in fig.axes[0].patches}
    assert widths == depth
    labels = [t.get_text() for t in fig.axes[0].texts]
    assert "110 (+54); FLOPs speedup 2.77×" in labels
    assert plots.layout_problems(fig) == []


def test_reduction_sweep_has_its_own_title():
    totals = plots.sweep_totals("resnet56", P_max=4)
    assert plots.sweep_figure(totals, reduction=True).texts[0].get_text().endswith(
        "FLOPs and parameter reduction against P")
    assert plots.sweep_figure(totals).texts[0].get_text().endswith("total cost against P")


def test_svg_text_stays_text(resnet56):
    svg = plots.render_figure(plots.depth_figure(resnet56), "svg").decode()
    assert "<text" in svg and "latency depth" in svg
    assert not re.search(r'<path id="DejaVuSans-', svg)  # no glyph outlines


def test_a_registered_fifth_type_is_drawn_without_an_edit(monkeypatch):
    from matplotlib.colors import to_hex

    from hetcalc.convtypes import CONV_TYPES, ConvType, standard_cost
    from hetcalc.views.figures import sweep

    fixed = ConvType("fft", "FFT", "eq. 90", standard_cost, lambda c, p: 1 / 2, None, "1/2", "eq. 91")
    parted = ConvType("shift", "Shift", "eq. 92", standard_cost, lambda c, p: 1 / p, "P", "1/P", "eq. 93")
    monkeypatch.setitem(CONV_TYPES, "fft", fixed)
    monkeypatch.setitem(CONV_TYPES, "shift", parted)
    data = plots.speedup_data(P_max=8)
    assert data.columns == ("P", "hetconv_speedup", "gwc_pwc_speedup", "dwc_pwc_speedup", "fft_speedup",
                            "shift_speedup", "asymptote_K2")
    assert data.column("fft_speedup") == [2.0] * 4 and data.column("shift_speedup") == [1.0, 2.0, 4.0, 8.0]
    lines = {ln.get_gid(): ln for ln in plots.speedup_figure(P_max=8).axes[0].lines}
    assert lines["fft"].get_label() == "FFT, N = 256 (eq. 91)"
    assert lines["shift"].get_label() == "Shift (eq. 93)"
    assert lines["gwc_pwc"].get_label() == "GWC+PWC, G = P (eq. 11)"
    colours = [to_hex(lines[k].get_color()) for k in ("hetconv", "gwc_pwc", "dwc_pwc", "fft", "shift")]
    assert colours[:3] == ["#0072b2", "#e69f00", "#009e73"] and len(set(colours)) == 5  # spares for the new
    assert sweep.sweep_label(parted) == "Shift" and sweep.sweep_label(CONV_TYPES["gwc_pwc"]) == "GWC+PWC (G = P)"
    assert sweep.part_axis_label() == "part P (HetConv, Shift), groups G = P (GWC+PWC)"


def test_a_bad_input_without_output_is_one_line_naming_no_file(tmp_path, monkeypatch, run):
    """Without -o, the default name is told only once the file is written: a bad input is the error alone."""
    monkeypatch.chdir(tmp_path)
    for args in (("plot", "vgg16", "--P", "3"), ("plot", "sweep", "nosuch.yaml"), ("report", "vgg61")):
        result = run(*args)
        assert result.exit_code != 0
        assert len(result.stderr.strip().splitlines()) == 1 and "no -o given" not in result.stderr, args
    assert list(tmp_path.iterdir()) == []


def test_plot_without_output_writes_a_default_file_and_says_so(tmp_path, monkeypatch, run):
    monkeypatch.chdir(tmp_path)
    result = run("plot", "resnet56", "--by", "stage", "--dpi", "30")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "resnet56-stages.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "hetcalc: no -o given: wrote resnet56-stages.png" in result.stderr
    result = run("plot", "depth", "vgg16", "--dpi", "30")
    assert result.exit_code == 0 and (tmp_path / "vgg16-depth.png").exists()
