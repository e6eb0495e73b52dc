"""Every figure kind at its default size keeps all of its content on the canvas, and the default
per-layer figure of a deep network fits a page (it groups the bars by stage past MAX_LAYER_BARS layers)."""

from __future__ import annotations

import pytest

from hetcalc import analyze
from hetcalc.network.sources import builtin_names
from hetcalc.views import figures as plots

PAGE_WIDTH = 7.5  # inches: a letter or A4 page's text width with the usual margins, the widest a default may be


def outside_canvas(fig) -> list[str]:
    """Each visible text whose drawn extent reaches past the figure (measured after a draw)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    hidden = set()  # labels of ticks outside the view interval: matplotlib does not draw them
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not low - 1e-9 * abs(high - low) <= tick.get_loc() <= high + 1e-9 * abs(high - low):
                    hidden.update((id(tick.label1), id(tick.label2)))
    out = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip() or id(text) in hidden:
            continue
        box = text.get_window_extent(renderer)
        if (box.x0 < canvas.x0 - 0.5 or box.y0 < canvas.y0 - 0.5 or box.x1 > canvas.x1 + 0.5
                or box.y1 > canvas.y1 + 0.5):
            out.append(f"{text.get_text()!r} at {box.x0:.0f}..{box.x1:.0f} x {box.y0:.0f}..{box.y1:.0f} "
                       f"on a {canvas.width:.0f} x {canvas.height:.0f} canvas")
    return out


def kinds(arch: str):
    """(name, figure) of every figure kind of `arch` at its default size, as `hetcalc plot` draws them."""
    report = analyze(arch, P=4)
    yield "layers", plots.layers_figure(plots.default_layers_report(report))
    yield "sweep", plots.sweep_figure(plots.sweep_totals(arch))
    yield "depth", plots.depth_figure(report)
    yield "roofline", plots.roofline_figure(analyze(arch, P=4, device="t4"))


@pytest.mark.parametrize("arch", builtin_names())
def test_every_figure_kind_at_its_default_size_stays_on_the_canvas(arch):
    for name, fig in kinds(arch):
        assert outside_canvas(fig) == [], (arch, name)
        assert plots.layout_problems(fig) == [], (arch, name)


def test_the_speedup_figure_stays_on_the_canvas():
    fig = plots.speedup_figure()
    assert outside_canvas(fig) == []
    assert plots.layout_problems(fig) == []


def test_roofline_title_of_a_long_network_name_is_wrapped_not_clipped():
    fig = plots.roofline_figure(analyze("resnet50", P=4, device="orin-nano"))
    assert outside_canvas(fig) == []
    assert "\n" in fig.texts[0].get_text()  # the title: wrapped to the figure's width


def test_default_layers_figure_of_resnet50_fits_a_page():
    report = analyze("resnet50", P=4)
    fig = plots.layers_figure(plots.default_layers_report(report))
    width, _ = fig.get_size_inches()
    assert width <= PAGE_WIDTH  # per layer, 54 layers x 4 variants: a 27-inch strip
    names = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert names == ["conv1", "stage1*", "stage2*", "stage3*", "stage4*", "fc1"]


def test_a_short_network_keeps_one_group_of_bars_per_layer():
    report = analyze("vgg16", P=4)
    assert plots.default_layers_report(report) is report  # 15 layers: under MAX_LAYER_BARS


@pytest.mark.parametrize("arch", builtin_names())
def test_every_default_layers_figure_fits_a_page(arch):
    fig = plots.layers_figure(plots.default_layers_report(analyze(arch, P=4)))
    assert fig.get_size_inches()[0] <= PAGE_WIDTH  # VGG-16's 15 layers x 4 variants were 8.8 inches
    assert plots.layout_problems(fig) == []


def test_plot_layers_cli_picks_stages_for_a_deep_network_and_says_so(run, tmp_path):
    out = tmp_path / "r50.png"
    result = run("plot", "layers", "resnet50", "-o", str(out), "--dpi", "30", "--data", str(tmp_path / "d.csv"))
    assert result.exit_code == 0, result.output
    assert "one group of bars per stage" in result.stderr
    rows = (tmp_path / "d.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["conv1", "stage1", "stage2", "stage3", "stage4", "fc1", "total"]
    result = run("plot", "layers", "resnet50", "--by", "layer", "-o", str(out), "--dpi", "30")
    assert result.exit_code == 0 and "per stage" not in result.stderr
