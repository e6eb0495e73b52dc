"""A fifth convolution type is one module: tests/plugins/shift_conv.py registers a shift convolution with a part
option of its own (S) and nothing in hetcalc/ is edited. It goes through analyze, every table and export, the
sweep, traffic and time, the figures, the CLI (loaded through HETCALC_PLUGINS) and the torch builder.

Expected values are hand formulas: a shift layer costs D_o^2 * N * M / S MACs and N * M / S weights (plus the
host's bias and BatchNorm), its standard layer D_o^2 * N * M * K^2.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hetcalc
from hetcalc.network.graph import Conv
from tests.plugins import shift_conv

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture()
def shift():
    shift_conv.register()
    yield shift_conv.SHIFT
    shift_conv.unregister()


def vgg16_shift_by_hand(S: int) -> tuple[int, int]:
    """VGG-16 (CIFAR) with every replaced 3 x 3 conv (all but the first) as shift + grouped 1 x 1, S groups:
    (MACs, params) by hand from the network's layers."""
    net = hetcalc.resolve("vgg16")
    first = net.convs[0]
    macs = params = 0
    for layer in net.layers:
        if isinstance(layer, Conv) and layer is not first and layer.K > 1:
            weights = layer.N * layer.M // S
            macs += layer.out_area * weights
            params += weights + (layer.N if layer.bias else 0) + (2 * layer.N if layer.bn else 0)
        elif isinstance(layer, Conv):
            weights = layer.N * layer.M * layer.kernel[0] * layer.kernel[1]
            macs += layer.out_area * weights
            params += weights + (layer.N if layer.bias else 0) + (2 * layer.N if layer.bn else 0)
        elif layer.kind == "fc":
            macs += layer.in_features * layer.out_features
            params += layer.in_features * layer.out_features + (layer.out_features if layer.bias else 0)
    return macs, params


def test_analyze_counts_it_by_hand_and_knows_its_part(shift):
    report = hetcalc.analyze("vgg16", P=4, S=2)
    assert [v.variant for v in report.variants] == ["standard", "hetconv", "gwc_pwc", "dwc_pwc", "shift"]
    v = report.variant("shift")
    assert (v.macs, v.params) == vgg16_shift_by_hand(2)
    assert v.label == "Shift (S=2)" and (v.P, v.G) == (None, None)
    rebuilt = [r for r in v.layers if r.replaced]
    assert rebuilt and all(r.realization == "shift S=2" for r in rebuilt)
    conv = next(r for r in rebuilt)
    assert conv.closed_form == pytest.approx(1 / (2 * 9))
    assert hetcalc.analyze("vgg16", variants="shift-conv", S=4).variant("shift").macs == vgg16_shift_by_hand(4)[0]


def test_its_part_is_checked_like_any_other(shift):
    with pytest.raises(hetcalc.OptionError, match="S is needed for the shift variant"):
        hetcalc.analyze("vgg16", variants="shift")
    with pytest.raises(hetcalc.OptionError, match="S=3 does not divide the input depth M"):
        hetcalc.analyze("vgg16", variants="shift", S=3)
    assert hetcalc.analyze("vgg16", variants="shift", S="M").variant("shift").label == "Shift (S=M)"


def test_every_table_and_export(shift):
    from hetcalc.views.document import RENDERERS
    from hetcalc.views.export import to_csv, to_json

    report = hetcalc.analyze("vgg16", P=4, S=2)
    data = json.loads(to_json(report))
    shift_json = data["variants"][-1]
    assert (shift_json["variant"], shift_json["label"]) == ("shift", "Shift (S=2)")
    assert shift_json["flops"] == vgg16_shift_by_hand(2)[0]
    assert sum(1 for line in to_csv(report).splitlines() if line.startswith("shift,")) == len(report.network.layers)
    for fmt in RENDERERS:
        text = hetcalc_cli("vgg16", "--P", "4", "--variants", "std,shift", "--S", "2", "--format", fmt)
        assert "Shift" in text or "shift" in text, fmt


def test_sweep_sweeps_its_part(shift):
    from hetcalc.analysis.sweep import sweep

    arch = sweep(["vgg16"], P="1,2,4").architectures[0]
    assert arch.shift.option == "S" and arch.shift.values == (1, 2, 4)
    for i, s in enumerate((1, 2, 4)):
        assert arch.point("shift", i).macs == vgg16_shift_by_hand(s)[0]


def test_traffic_and_time_follow_its_steps(shift):
    report = hetcalc.analyze("vgg16", variants="std,shift", S=2, device="t4")
    v = report.variant("shift")
    assert v.time_s > 0 and v.bytes > 0
    # the shift step copies each replaced layer's input once: bytes read and written, 4 bytes an element
    i, layer = next((i, l) for i, l in enumerate(report.network.layers)
                    if isinstance(l, Conv) and v.layers[i].replaced)
    c, h, w = layer.in_shape
    weights = layer.N * layer.M // 2
    expected = 2 * c * h * w * 4 + (c * h * w + weights + (layer.N if layer.bias else 0)) * 4 \
        + layer.N * layer.out_area * 4
    expected += (layer.N * layer.out_area * 2 + 4 * layer.N) * 4 if layer.bn else 0  # BatchNorm reads, writes
    expected += 2 * layer.N * layer.out_area * 4 if layer.act else 0
    assert v.layers[i].bytes == expected


def test_figures_draw_it(shift, tmp_path):
    from hetcalc.views import figures

    report = hetcalc.analyze("vgg16", S=2)
    fig = figures.layers_figure(report)
    assert any("Shift" in t.get_text() for legend in fig.legends for t in legend.get_texts())
    assert figures.layers_data(report).csv().count("shift") > 0 if hasattr(figures.layers_data(report), "csv") else True
    timed = hetcalc.analyze("vgg16", S=2, device="t4")
    fig = figures.roofline_figure(timed)
    assert any("Shift" in t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()) \
        or any("Shift" in t.get_text() for legend in fig.legends for t in legend.get_texts())
    data = figures.speedup_data(3, 8, 64)
    assert "shift_speedup" in data.columns  # its closed form, 1/(S K^2), drawn with S = P
    assert data.column("shift_speedup")[1] == pytest.approx(2 * 9)


def test_the_cli_loads_a_plugin_and_offers_its_option(tmp_path):
    out = hetcalc_cli("vgg16", "--variants", "std,shift", "--S", "2", "--summary-only")
    assert "Shift (S=2)" in out
    assert "--S INT|M|N" in hetcalc_cli("analyze", "--help")
    assert "--S" not in hetcalc_cli("analyze", "--help", plugin=False)
    html = tmp_path / "r.html"
    hetcalc_cli("report", "vgg16", "--S", "2", "-o", str(html))
    assert "Shift (S=2)" in html.read_text(encoding="utf-8")
    swept = json.loads(hetcalc_cli("sweep", "vgg16", "--P", "1,2", "--S", "4", "--format", "json"))
    assert [p["S"] for p in swept["architectures"][0]["shift"]["points"]] == [4]
    png = tmp_path / "layers.png"
    hetcalc_cli("plot", "layers", "vgg16", "--S", "2", "-o", str(png))
    assert png.stat().st_size > 0


def test_the_torch_builder_builds_it(shift):
    torch = pytest.importorskip("torch")
    from hetcalc.measure.torch import STEP_MODULES, parameter_count

    STEP_MODULES["shift"] = shift_conv.torch_builder
    try:
        model = hetcalc.build_module("vgg16", "shift", S=2)
        assert parameter_count(model) == vgg16_shift_by_hand(2)[1]
        with torch.no_grad():
            assert model(torch.zeros(1, 3, 32, 32)).shape == (1, 10)
    finally:
        STEP_MODULES.pop("shift", None)


def hetcalc_cli(*args: str, plugin: bool = True) -> str:
    env = {**os.environ, "HETCALC_PLUGINS": "tests.plugins.shift_conv" if plugin else "",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "hetcalc", *args], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout
