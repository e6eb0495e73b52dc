"""Figures (hetcalc.views.figures, `hetcalc plot`): the plotted data against hand formulas, files, and the CLI.

Every figure is built headless (Agg, no pyplot). The numbers drawn are read back from the Figure's
artists (line data, bar heights) and compared with values computed here by the paper's equations:
eq. 5 and 9 (HetConv speedup 1 / (1/P + (1 - 1/P)/K^2)), eq. 11 (GWC+PWC, 1 / (1/G + 1/K^2)),
eq. 7 (DWC+PWC, 1 / (1/N + 1/K^2)), and per layer D^2 * N * (M/P * K^2 + M - M/P) for HetConv.
"""

from __future__ import annotations

import csv
import io
import os
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from hetcalc import analyze
from hetcalc.views import figures as plots
from hetcalc.cli import main
from hetcalc.errors import OptionError

OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7", "#999999"}
SMALL = (4.0, 3.0)  # inches; rendering tests use small figures and a low dpi to stay fast


def hetconv_speedup(P, K):  # eqs. 5 and 9
    return 1 / (1 / P + (1 - 1 / P) / K**2)


def gwc_speedup(G, K):  # eqs. 11 and 9
    return 1 / (1 / G + 1 / K**2)


def dwc_speedup(N, K):  # eqs. 7 and 9
    return 1 / (1 / N + 1 / K**2)


def line(ax, gid):
    found = [ln for ln in ax.lines if ln.get_gid() == gid]
    assert len(found) == 1, f"expected one line with gid {gid!r}, got {len(found)}"
    return found[0]


def bars(ax):
    """{variant: [heights]} of a bar panel, read from the drawn rectangles."""
    return {c.patches[0].get_gid(): [p.get_height() for p in c.patches] for c in ax.containers}


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def invoke(*args):
    return CliRunner().invoke(main, list(args), prog_name="hetcalc")


@pytest.fixture(scope="module")
def vgg16_report():
    return analyze("vgg16", P=4)


@pytest.fixture(scope="module")
def vgg16_layers(vgg16_report):
    return plots.layers_figure(vgg16_report)


@pytest.fixture(scope="module")
def fig5():
    return plots.speedup_figure()


# --------------------------------------------------------------------------- Figure 5

@pytest.mark.parametrize("K,P_max,N", [(3, 256, 256), (5, 16, 64), (7, 1, 32)])
def test_speedup_lines_are_equations_5_7_9_11(K, P_max, N):
    fig = plots.speedup_figure(K, P_max, N, size=SMALL)
    (ax,) = fig.axes
    parts = [2**i for i in range(P_max.bit_length())]
    for gid in ("hetconv", "gwc_pwc", "dwc_pwc"):
        assert list(line(ax, gid).get_xdata()) == parts
    assert line(ax, "hetconv").get_ydata() == pytest.approx([hetconv_speedup(P, K) for P in parts], rel=1e-12)
    assert line(ax, "gwc_pwc").get_ydata() == pytest.approx([gwc_speedup(P, K) for P in parts], rel=1e-12)
    assert line(ax, "dwc_pwc").get_ydata() == pytest.approx([dwc_speedup(N, K)] * len(parts), rel=1e-12)
    assert list(line(ax, "asymptote").get_ydata()) == [K * K, K * K]
    assert [t.get_text() for t in ax.texts] == [f"asymptote K² = {K * K}"]


def test_speedup_figure_matches_the_paper(fig5):
    (ax,) = fig5.axes
    het = list(line(ax, "hetconv").get_ydata())
    assert het[0] == 1.0 and het[2] == pytest.approx(3.0)  # P = 1 is standard; P = 4 -> 3x (Table 1)
    assert het == sorted(het) and het[-1] < 9  # rises towards K^2 = 9, never reaches it
    # eq. 12: HetConv with P = G is faster than GWC+PWC at every P
    assert all(h > g for h, g in zip(het, line(ax, "gwc_pwc").get_ydata()))


def test_speedup_axis_is_log2_labelled_with_the_P_values(fig5):
    (ax,) = fig5.axes
    assert ax.get_xscale() == "log" and ax.xaxis.get_transform().base == 2
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(2**i) for i in range(9)]
    assert ax.get_xlabel().startswith("part P") and "(×)" in ax.get_ylabel()
    assert ax.get_ylim()[1] > 9  # the asymptote and its label are inside the axes


def test_speedup_data_is_what_is_plotted(fig5):
    (ax,) = fig5.axes
    rows = read_csv(plots.speedup_data().to_csv())
    assert [int(r["P"]) for r in rows] == list(line(ax, "hetconv").get_xdata())
    for column, gid in (("hetconv_speedup", "hetconv"), ("gwc_pwc_speedup", "gwc_pwc"),
                        ("dwc_pwc_speedup", "dwc_pwc")):
        # CSV floats carry 15 significant digits (no binary noise such as 1.7999999999999998)
        assert [float(r[column]) for r in rows] == pytest.approx(list(line(ax, gid).get_ydata()), rel=1e-14)
    assert {r["asymptote_K2"] for r in rows} == {"9"}


@pytest.mark.parametrize("kwargs,message", [
    ({"P_max": 100}, "power of two"), ({"P_max": 0}, "at least 1"), ({"K": 1}, "K must be"),
    ({"N": 0}, "N must be"), ({"size": (0, 3)}, "positive"), ({"size": (0.5, 0.5)}, "too small"),
])
def test_speedup_figure_refuses_bad_values(kwargs, message):
    with pytest.raises(OptionError, match=message):
        plots.speedup_figure(**kwargs)


# --------------------------------------------------------------------------- per-layer bars

def test_layer_bars_equal_the_report(vgg16_layers, vgg16_report):
    ax_flops, ax_params = vgg16_layers.axes
    layers = [i for i, layer in enumerate(vgg16_report.standard.layers) if layer.kind in ("conv", "fc")]
    flops, params = bars(ax_flops), bars(ax_params)
    assert list(flops) == ["standard", "hetconv", "gwc_pwc", "dwc_pwc"]
    for v in vgg16_report.variants:
        assert flops[v.variant] == [v.layers[i].flops for i in layers]
        assert params[v.variant] == [v.layers[i].params for i in layers]
        assert sum(flops[v.variant]) == v.flops  # default convention: every FLOP is in a conv or FC layer


def test_layer_bars_by_hand_for_conv2(vgg16_layers):
    # VGG-16 (CIFAR) conv2: M = N = 64, K = 3, 32 x 32 output, bias and BatchNorm; P = G = 4.
    M, N, K, D2, P = 64, 64, 3, 32 * 32, 4
    flops, params = bars(vgg16_layers.axes[0]), bars(vgg16_layers.axes[1])
    assert flops["standard"][1] == D2 * M * N * K * K == 37_748_736  # eq. 1
    assert flops["hetconv"][1] == D2 * N * (M // P * K * K + M - M // P) == 12_582_912  # eqs. 2-4
    assert flops["gwc_pwc"][1] == D2 * (M * (M // P) * K * K + M * N) == 13_631_488  # as built
    assert flops["dwc_pwc"][1] == D2 * (M * K * K + M * N) == 4_784_128
    bias_bn = 3 * N  # bias + BatchNorm scale and shift
    assert params["standard"][1] == N * M * K * K + bias_bn
    assert params["hetconv"][1] == N * (M // P * K * K + M - M // P) + bias_bn
    assert params["gwc_pwc"][1] == M * (M // P) * K * K + 3 * M + M * N + bias_bn


def test_layer_figure_labels_and_legend(vgg16_layers, vgg16_report):
    ax_flops, ax_params = vgg16_layers.axes
    names = [t.get_text() for t in ax_params.get_xticklabels()]
    assert names[:3] == ["conv1", "conv2*", "conv3*"] and names[-2:] == ["fc1", "fc2"]
    # linear by default: on a log axis HetConv's 3x cut would look like a notch
    assert ax_flops.get_yscale() == "linear" and ax_params.get_yscale() == "linear"
    assert "1 MAC = 1 FLOP" in ax_flops.get_ylabel()
    legend = [t.get_text() for t in vgg16_layers.legends[0].get_texts()]
    speedup = 313_463_808 / 105_845_760
    assert legend[1].startswith(f"HetConv (P=4): {speedup:.2f}×") and legend[0].startswith("standard: 1.00×")


def test_layer_scale_option():
    report = analyze("vgg16", P=4, variants="standard,hetconv")
    fig = plots.layers_figure(report, scale="linear", size=(6, 4))
    assert [ax.get_yscale() for ax in fig.axes] == ["linear", "linear"]
    assert list(bars(fig.axes[0])) == ["standard", "hetconv"]
    assert plots.use_log([1, 21]) is False  # linear unless asked
    auto = lambda values: plots.use_log(values, "auto")  # noqa: E731
    assert auto([1, 20]) is False and auto([1, 21]) is True and auto([0, 5]) is False
    log = plots.layers_figure(report, scale="log", size=(6, 4))
    assert [ax.get_yscale() for ax in log.axes] == ["log", "log"]
    with pytest.raises(OptionError, match="scale"):
        plots.layers_figure(report, scale="cubic")


def test_layer_data_is_what_is_plotted(vgg16_layers, vgg16_report):
    rows = read_csv(plots.layers_data(vgg16_report).to_csv())
    flops, params = bars(vgg16_layers.axes[0]), bars(vgg16_layers.axes[1])
    for key in flops:
        assert [int(r[f"{key}_flops"]) for r in rows[:-1]] == flops[key]
        assert [int(r[f"{key}_params"]) for r in rows[:-1]] == params[key]
    assert rows[-1]["layer"] == "total" and int(rows[-1]["standard_flops"]) == 313_463_808


def test_layer_bars_include_counted_pooling():
    report = analyze("mobilenet", P=4, ops=("pool",))
    fig = plots.layers_figure(report)
    names = [t.get_text() for t in fig.axes[1].get_xticklabels()]
    assert "pool1" in names
    assert sum(bars(fig.axes[0])["hetconv"]) == report.variant("hetconv").flops


# --------------------------------------------------------------------------- totals against P

def hand_totals(report, P):
    """VGG-16's HetConv and GWC+PWC (G = P) total FLOPs from its layer shapes (eqs. 2-4 and 10 as built)."""
    het = gwc = 0
    for layer, built in zip(report.standard.layers, report.variant("hetconv").layers):
        if built.replaced:
            M, N, K, D2 = layer.M, layer.N, layer.K, layer.out[0] * layer.out[1]
            het += D2 * N * (M // P * K * K + M - M // P)
            gwc += D2 * (M * (M // P) * K * K + M * N)
        else:
            het += layer.flops
            gwc += layer.flops
    return het, gwc


def test_sweep_lines_equal_hand_totals(vgg16_report):
    totals = plots.sweep_totals("vgg16", P_max=512)
    assert totals.parts == (1, 2, 4, 8, 16, 32, 64) and totals.skipped == (128, 256, 512)
    fig = plots.sweep_figure(totals)
    ax_flops, ax_params = fig.axes
    assert list(line(ax_flops, "hetconv").get_xdata()) == list(totals.parts)
    expected = [hand_totals(vgg16_report, P) for P in totals.parts]
    assert list(line(ax_flops, "hetconv").get_ydata()) == [het for het, _ in expected]
    assert list(line(ax_flops, "gwc_pwc").get_ydata()) == [gwc for _, gwc in expected]
    assert line(ax_flops, "standard").get_ydata()[0] == 313_463_808
    assert line(ax_flops, "dwc_pwc").get_ydata()[0] == vgg16_report.variant("dwc_pwc").flops
    assert list(line(ax_params, "hetconv").get_ydata()) == [analyze("vgg16", P=P).variant("hetconv").params
                                                            for P in totals.parts]
    assert "left out: P = 128, 256, 512" in ax_params.get_xlabel()  # said so on the figure


def test_sweep_default_P_max_is_the_largest_common_power_of_two():
    assert plots.sweep_totals("vgg16").parts[-1] == 64  # replaced layers' M: 64 ... 512
    assert plots.sweep_totals("resnet56").parts == (1, 2, 4, 8, 16)  # M: 16, 32, 64
    assert plots.sweep_totals("resnet56").skipped == ()


def test_sweep_reduction_panels():
    totals = plots.sweep_totals("resnet56")
    fig = plots.sweep_figure(totals, reduction=True, size=SMALL)
    ax_flops, ax_params = fig.axes
    assert list(line(ax_flops, "hetconv").get_ydata()) == [r.variant("hetconv").flops_reduction
                                                           for r in totals.reports]
    assert list(line(ax_params, "gwc_pwc").get_ydata()) == [r.variant("gwc_pwc").params_reduction
                                                            for r in totals.reports]
    assert not [ln for ln in ax_flops.lines if ln.get_gid() == "standard"]  # 0 % is the axis line
    assert "(%)" in ax_flops.get_ylabel()


def test_sweep_data_is_what_is_plotted():
    totals = plots.sweep_totals("resnet56")
    ax_flops, ax_params = plots.sweep_figure(totals, size=SMALL).axes
    rows = read_csv(plots.sweep_data(totals).to_csv())
    assert [int(r["P"]) for r in rows] == list(line(ax_flops, "hetconv").get_xdata())
    assert [int(r["hetconv_flops"]) for r in rows] == list(line(ax_flops, "hetconv").get_ydata())
    assert [int(r["gwc_pwc_params"]) for r in rows] == list(line(ax_params, "gwc_pwc").get_ydata())
    assert {int(r["dwc_pwc_flops"]) for r in rows} == {line(ax_flops, "dwc_pwc").get_ydata()[0]}


# --------------------------------------------------------------------------- look

def test_one_colour_per_variant_in_every_figure(fig5, vgg16_layers):
    from matplotlib.colors import to_hex

    sweep = plots.sweep_figure(plots.sweep_totals("resnet56"), size=SMALL)
    assert set(plots.COLOURS.values()) <= OKABE_ITO and len(set(plots.COLOURS.values())) == 4
    for key, colour in plots.COLOURS.items():
        seen = {to_hex(c.patches[0].get_facecolor()) for c in vgg16_layers.axes[0].containers
                if c.patches[0].get_gid() == key}
        seen |= {to_hex(ln.get_color()) for fig in (fig5, sweep) for ax in fig.axes for ln in ax.lines
                 if ln.get_gid() == key}
        assert seen == {colour.lower()}, key


@pytest.mark.parametrize("build", [
    lambda: plots.speedup_figure(),
    lambda: plots.speedup_figure(size=(3.3, 3.0)),  # one column of a paper
    lambda: plots.layers_figure(analyze("vgg16", P=4)),
    lambda: plots.layers_figure(analyze("mobilenet", P="M", flops_per_mac=2, ops=("bias", "bn", "act"))),
    lambda: plots.sweep_figure(plots.sweep_totals("vgg16", P_max=512)),
    lambda: plots.sweep_figure(plots.sweep_totals("resnet56"), reduction=True, size=(3.3, 4.5)),
], ids=["fig5", "fig5-one-column", "layers", "layers-ops", "sweep-left-out", "sweep-reduction-narrow"])
def test_nothing_clipped_or_overlapping_and_legend_outside_the_data(build):
    fig = build()
    assert plots.layout_problems(fig) == []
    renderer = fig.canvas.get_renderer()
    (legend,) = fig.legends
    box = legend.get_window_extent(renderer)
    assert not any(box.overlaps(ax.get_window_extent(renderer)) for ax in fig.axes)
    for ax in fig.axes:
        assert ax.get_ylabel() and ax.yaxis.label.get_fontsize() >= 9
    assert fig.axes[-1].get_xlabel()


def test_layout_problems_reports_a_cramped_figure():
    fig = plots.layers_figure(analyze("vgg16", P=4), size=(4, 3.2))
    assert plots.layout_problems(fig)


# --------------------------------------------------------------------------- files

def test_png_has_the_requested_size(fig5):
    fig = plots.speedup_figure(size=SMALL)
    assert png_size(plots.render_figure(fig, "png", dpi=50)) == (200, 150)
    assert png_size(plots.render_figure(fig, "png", dpi=20)) == (80, 60)


def test_svg_is_xml_of_the_requested_size():
    fig = plots.speedup_figure(size=SMALL)
    data = plots.render_figure(fig, "svg")
    root = ET.fromstring(data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert (root.get("width"), root.get("height")) == ("288pt", "216pt")
    # no date and fixed ids: the same figure gives the same bytes every time
    assert data == plots.render_figure(plots.speedup_figure(size=SMALL), "svg")


def test_pdf_is_a_pdf_of_the_requested_size():
    fig = plots.speedup_figure(size=SMALL)
    data = plots.render_figure(fig, "pdf")
    assert data.startswith(b"%PDF-")
    assert b"/MediaBox [ 0 0 288 216 ]" in data
    assert data == plots.render_figure(plots.speedup_figure(size=SMALL), "pdf")


def test_render_refuses_what_it_cannot_write():
    fig = plots.speedup_figure(size=SMALL)
    with pytest.raises(OptionError, match="65535"):
        plots.render_figure(fig, "png", dpi=20_000)
    with pytest.raises(OptionError, match="unknown figure format"):
        plots.render_figure(fig, "jpg")
    for name in ("fig.jpg", "fig", "fig.png.bak"):
        with pytest.raises(OptionError, match="PNG, SVG, PDF"):
            plots.figure_format(name)
    assert plots.figure_format("a/b/Fig.PDF") == "pdf"


# --------------------------------------------------------------------------- CLI

def test_cli_speedup_png_and_data(tmp_path):
    out, data = tmp_path / "fig5.png", tmp_path / "fig5.csv"
    result = invoke("plot", "speedup", "-o", str(out), "--data", str(data), "--dpi", "50", "--size", "4,3")
    assert result.exit_code == 0, result.output
    assert png_size(out.read_bytes()) == (200, 150)
    (ax,) = plots.speedup_figure(size=SMALL).axes
    rows = read_csv(data.read_text())
    assert [float(r["hetconv_speedup"]) for r in rows] == pytest.approx(list(line(ax, "hetconv").get_ydata()),
                                                                        rel=1e-14)
    assert [float(r["gwc_pwc_speedup"]) for r in rows] == pytest.approx(list(line(ax, "gwc_pwc").get_ydata()),
                                                                        rel=1e-14)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig5.csv", "fig5.png"]  # no temporary files


def test_cli_layers_svg_and_data(tmp_path):
    out, data = tmp_path / "layers.svg", tmp_path / "layers.csv"
    result = invoke("plot", "vgg16", "--P", "4", "-o", str(out), "--data", str(data), "--size", "9,6")
    assert result.exit_code == 0, result.output
    assert ET.fromstring(out.read_bytes()).get("width") == "648pt"
    figure = plots.layers_figure(analyze("vgg16", P=4))
    rows = read_csv(data.read_text())
    assert [int(r["hetconv_flops"]) for r in rows[:-1]] == bars(figure.axes[0])["hetconv"]
    assert rows[1]["layer"] == "conv2" and rows[1]["hetconv_flops"] == "12582912"  # exact integers
    explicit = tmp_path / "explicit.svg"
    assert invoke("plot", "layers", "vgg16", "-o", str(explicit), "--size", "9,6").exit_code == 0
    assert explicit.read_bytes() == out.read_bytes()


def test_cli_layers_options(tmp_path):
    out, data = tmp_path / "l.png", tmp_path / "l.csv"
    result = invoke("plot", "resnet56", "--P", "M", "--G", "M", "--variants", "het,gwc", "--flops-per-mac", "2",
                    "--replace-first", "-o", str(out), "--data", str(data), "--dpi", "20")
    assert result.exit_code == 0, result.output
    report = analyze("resnet56", P="M", G="M", variants="hetconv,gwc_pwc", flops_per_mac=2, replace_first=True)
    total = read_csv(data.read_text())[-1]
    assert (int(total["hetconv_flops"]), int(total["gwc_pwc_flops"])) == (report.variant("hetconv").flops,
                                                                          report.variant("gwc_pwc").flops)


def test_cli_sweep_pdf_notes_what_is_left_out(tmp_path):
    out, data = tmp_path / "sweep.pdf", tmp_path / "sweep.csv"
    result = invoke("plot", "sweep", "vgg16", "--P-max", "256", "-o", str(out), "--data", str(data))
    assert result.exit_code == 0, result.output
    assert "note: left out: P = 128, 256" in result.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    rows = read_csv(data.read_text())
    assert [int(r["P"]) for r in rows] == [1, 2, 4, 8, 16, 32, 64]
    assert [int(r["hetconv_flops"]) for r in rows] == [analyze("vgg16", P=P).variant("hetconv").flops
                                                       for P in (1, 2, 4, 8, 16, 32, 64)]


@pytest.mark.parametrize("args,message", [
    (["speedup", "-o", "{tmp}/fig.jpg"], "use one of PNG, SVG, PDF"),
    (["speedup", "-o", "{tmp}/missing/fig.png"], "does not exist"),
    (["speedup", "-o", "{tmp}/fig.png", "--data", "{tmp}/missing/fig.csv"], "does not exist"),
    (["speedup", "-o", "{tmp}/fig.png", "--data", "{tmp}/fig.png"], "another name"),
    (["speedup", "-o", "{tmp}/fig.png", "--size", "4"], "--size must be two numbers"),
    (["speedup", "-o", "{tmp}/fig.png", "--size", "4,-3"], "positive"),
    (["speedup", "-o", "{tmp}/fig.png", "--dpi", "0"], "--dpi"),
    (["speedup", "-o", "{tmp}/fig.png", "--P-max", "48"], "power of two"),
    (["speedup", "--K", "1", "-o", "{tmp}/fig.png"], "K must be"),
    (["vgg16", "--P", "3", "-o", "{tmp}/fig.png"], "P=3 does not divide"),
    (["sweep", "vgg16", "-o", "{tmp}/fig.png", "--P-max", "3"], "power of two"),
])
def test_cli_errors_are_one_line_and_write_nothing(tmp_path, args, message):
    result = invoke("plot", *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("hetcalc: error: ") and result.stderr.count("\n") == 1
    assert message in result.stderr
    assert list(tmp_path.rglob("*")) == []


def test_cli_failed_plot_keeps_the_old_file(tmp_path, monkeypatch):
    out = tmp_path / "fig.png"
    out.write_bytes(b"old figure")

    def broken(*args, **kwargs):
        raise RuntimeError("interrupted while rendering")

    monkeypatch.setattr(plots, "render_figure", broken)
    result = invoke("plot", "speedup", "-o", str(out))
    assert result.exit_code != 0
    assert out.read_bytes() == b"old figure" and [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_cli_help_has_examples():
    for args in (["plot", "--help"], ["plot", "speedup", "--help"], ["plot", "sweep", "--help"],
                 ["plot", "layers", "--help"]):
        result = invoke(*args)
        assert result.exit_code == 0 and "Example:" in result.output, args


def test_cli_and_library_import_no_plotting_until_asked():
    code = """if True:
        import sys
        from click.testing import CliRunner
        from hetcalc.cli import main
        import hetcalc, hetcalc.cli.plot
        runner = CliRunner()
        assert runner.invoke(main, ["vgg16", "--P", "4"]).exit_code == 0
        assert runner.invoke(main, ["plot", "--help"]).exit_code == 0
        heavy = sorted(m for m in ("matplotlib", "numpy") if m in sys.modules)
        assert not heavy, heavy
        from hetcalc.views import figures as plots
        plots.speedup_figure(size=(4, 3))
        assert "matplotlib" in sys.modules and "matplotlib.pyplot" not in sys.modules
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
