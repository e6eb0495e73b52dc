"""The memory layout (timing/layout.py, `--layout nchw|nhwc`) against hand formulas: NHWC's copy where a map is
flattened, the profile's channels-last factors per kernel class, and every command showing time taking
--layout and --mode."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

import hetcalc
from hetcalc.analysis.timed import variant_kernels
from hetcalc.cli import main
from hetcalc.errors import OptionError
from hetcalc.timing.devices import DeviceError, load_device_text
from hetcalc.timing.timemodel import kernel_time
from hetcalc.timing.traffic import Kernel

C, H, OUT = 8, 8, 10
# conv-bn-relu on 3 x 8 x 8, a 2 x 2 max pool (8 x 4 x 4), an FC layer on that map (its flatten: a copy in NHWC)
SPATIAL_FC = {"input": [3, H, H], "layers": [{"conv": {"out": C, "bn": True, "act": "relu"}}, {"maxpool": 2},
                                              {"fc": OUT}]}
# the same ending in a 4 x 4 pool to 1 x 1: flattening one pixel is a view in either layout
POINT_FC = {"input": [3, H, H], "layers": [{"conv": {"out": C, "bn": True, "act": "relu"}}, {"maxpool": 8},
                                            {"fc": OUT}]}


def layers(arch, layout, B, dtype="fp32", mode="eager"):
    report = hetcalc.analyze(arch, variants="standard")  # counted only: the kernels come next
    return variant_kernels(report, report.baseline, dtype, B, "split", mode, layout)


@pytest.mark.parametrize("B,dtype,s", [(1, "fp32", 4), (3, "fp16", 2)])
def test_nhwc_copies_a_map_before_an_fc_layer_by_hand(B, dtype, s):
    nchw, nhwc = layers(SPATIAL_FC, "nchw", B, dtype), layers(SPATIAL_FC, "nhwc", B, dtype)
    assert [[k.op for k in ks] for ks in nchw] == [["conv", "bn", "act"], ["pool"], ["linear"]]
    assert [[k.op for k in ks] for ks in nhwc] == [["conv", "bn", "act"], ["pool"], ["transpose", "linear"]]
    assert nhwc[:2] == nchw[:2]  # a layout moves no byte inside the network
    copy = nhwc[2][0]
    E = B * C * 4 * 4  # the pooled map of the batch
    assert copy.bytes_read == copy.bytes_written == E * s and copy.flops == 0 and copy.kclass == "elementwise"
    assert nhwc[2][1] == nchw[2][0]
    linear = (B * C * 16 + C * 16 * OUT + OUT) * s + B * OUT * s
    assert nchw[2][0].bytes == linear
    n = hetcalc.analyze(SPATIAL_FC, variants="standard", dtype=dtype, batch=B)
    h = hetcalc.analyze(SPATIAL_FC, variants="standard", dtype=dtype, batch=B, layout="nhwc")
    assert h.standard.bytes - n.standard.bytes == 2 * E * s
    assert h.standard.flops == n.standard.flops and h.standard.params == n.standard.params  # counts unchanged


def test_flattening_one_pixel_copies_nothing_and_compiled_keeps_the_copy():
    assert layers(POINT_FC, "nhwc", 2) == layers(POINT_FC, "nchw", 2)
    compiled = layers(SPATIAL_FC, "nhwc", 2, mode="compiled")
    assert [[k.op for k in ks] for ks in compiled] == [["conv"], ["pool"], ["transpose", "linear"]]


GPU = """name: lay
kind: gpu
validated: false
peak_flops: {fp32: {value: 1.0e13, source: t}}
memory_bandwidth: {value: 1.0e12, source: t}
kernel_overhead: {value: 1.0e-6, source: t}
group_channels: {value: 32, source: t}
group_exponent: {value: 2, source: t}
efficiency:
  dense: {value: 0.5, source: t}
  pointwise: {value: 0.5, source: t}
  grouped: {value: 0.4, source: t}
  grouped_pointwise: {value: 0.3, source: t}
  depthwise: {value: 0.1, source: t}
  linear: {value: 0.5, source: t}
channels_last:
  dense: {value: 1.5, source: t}
  grouped: {value: 0.5, source: t}
  elementwise: {value: 1.25, source: t}
"""


def test_channels_last_factors_by_hand():
    gpu = load_device_text(GPU, "lay.yaml")
    cpu_like = load_device_text(GPU.split("channels_last:")[0], "plain.yaml")
    F, Q = 4 * 10**9, 10**6
    dense = Kernel("conv", "dense", F, Q, Q)
    assert kernel_time(gpu, dense, "fp32").compute == pytest.approx(F / (1e13 * 0.5))
    assert kernel_time(gpu, dense, "fp32", "nhwc").compute == pytest.approx(F / (1e13 * 0.75))
    # 8 channels per group: NCHW has the group curve (8 / 32) ** 2; NHWC has none, its factor 0.5 instead
    grouped = Kernel("conv", "grouped", F, Q, Q, channels_per_group=8)
    assert kernel_time(gpu, grouped, "fp32").compute == pytest.approx(F / (1e13 * 0.4 * (8 / 32) ** 2))
    assert kernel_time(gpu, grouped, "fp32", "nhwc").compute == pytest.approx(F / (1e13 * 0.4 * 0.5))
    act = Kernel("act", "elementwise", Q, 4 * Q, 4 * Q)
    assert kernel_time(gpu, act, "fp32").memory == pytest.approx(8 * Q / 1e12)
    assert kernel_time(gpu, act, "fp32", "nhwc").memory == pytest.approx(8 * Q / 1.25e12)
    depthwise = Kernel("conv", "depthwise", F, Q, Q, channels_per_group=1)  # no factor given: NCHW's rate
    assert kernel_time(gpu, depthwise, "fp32", "nhwc") == kernel_time(gpu, depthwise, "fp32")
    big = Kernel("conv", "dense", F, Q, Q)  # efficiency x factor is capped at 1
    capped = load_device_text(GPU.replace("dense: {value: 1.5", "dense: {value: 3"), "cap.yaml")
    assert kernel_time(capped, big, "fp32", "nhwc").compute == pytest.approx(F / 1e13)
    for k in (dense, grouped, act):  # a profile without channels_last factors: NHWC at NCHW rates
        assert kernel_time(cpu_like, k, "fp32", "nhwc") == kernel_time(cpu_like, k, "fp32")


def test_a_bad_factor_is_refused_with_its_place():
    with pytest.raises(DeviceError, match=r"bad.yaml:\d+:\d+: channels_last.grouped.value must be at least 0.01"):
        load_device_text(GPU.replace("grouped: {value: 0.5", "grouped: {value: 0.001"), "bad.yaml")


def test_header_json_and_csv_show_the_layout(tmp_path):
    r = CliRunner().invoke(main, ["resnet56", "--P", "4", "--device", "x86-server", "--layout", "nhwc",
                                  "--summary-only"])
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "eager mode, NHWC layout" in text
    assert "no channels-last factors (it was not checked on channels-last runs)" in text  # said, not refused
    r = CliRunner().invoke(main, ["resnet56", "--device", "rtx4090", "--layout", "nhwc", "--format", "json"])
    data = json.loads(r.output)
    assert data["layout"] == "nhwc" and data["mode"] == "eager" and data["device"]["channels_last"] is True
    cpu = json.loads(CliRunner().invoke(main, ["resnet56", "--device", "x86-server", "--layout", "nhwc",
                                               "--format", "json"]).output)
    assert cpu["device"]["channels_last"] is False  # NHWC at NCHW rates, said in the JSON too
    r = CliRunner().invoke(main, ["resnet56", "--device", "rtx4090", "--dtype", "fp16", "--format", "csv"])
    head, first = r.output.splitlines()[:2]
    assert head.split(",")[-2:] == ["mode", "layout"] and first.split(",")[-2:] == ["eager", "nchw"]


def test_rtx_profiles_run_nhwc_faster_on_dense_networks():
    n = hetcalc.analyze("resnet50", variants="standard", device="rtx4090", dtype="fp16", batch=256)
    h = hetcalc.analyze("resnet50", variants="standard", device="rtx4090", dtype="fp16", batch=256, layout="nhwc")
    assert 1.04 <= n.standard.time_s / h.standard.time_s <= 1.4  # timm's channels-last runs: 1.04-1.4x


def test_bad_layout_is_one_line():
    with pytest.raises(OptionError, match="layout must be one of nchw, nhwc, got 'nwhc'"):
        hetcalc.analyze("resnet56", traffic=True, layout="nwhc")
    r = CliRunner().invoke(main, ["resnet56", "--layout", "nwhc"])
    assert r.exit_code != 0 and "nwhc" in r.output and "Traceback" not in r.output


TIMED = (["resnet56", "--device", "rtx4090"], ["analyze", "resnet56", "--device", "rtx4090"],
         ["plot", "roofline", "resnet56", "--device", "rtx4090"])


@pytest.mark.parametrize("command", TIMED, ids=lambda c: " ".join(c[:2]))
def test_every_command_showing_time_takes_layout_and_mode(command, tmp_path):
    extra = ["-o", str(tmp_path / "r.png")] if command[0] == "plot" else ["--summary-only"]
    r = CliRunner().invoke(main, [*command, "--layout", "nhwc", "--mode", "compiled", *extra])
    assert r.exit_code == 0, r.output


def test_measure_takes_layout_and_refuses_compiled_in_one_line():
    help_text = CliRunner().invoke(main, ["measure", "--help"]).output
    assert "--layout [nchw|nhwc]" in help_text and "--mode [eager|compiled]" in help_text
    pytest.importorskip("torch")
    r = CliRunner().invoke(main, ["measure", "resnet56", "--mode", "compiled"])
    assert r.exit_code != 0 and "cannot apply" in r.output and len(r.output.strip().splitlines()) == 1


def test_every_time_command_is_covered():
    """The commands whose output holds a predicted time: analyze (and its shorthand), plot roofline, measure."""
    option = re.compile(r"^\s+--device NAME", re.M)
    for command in (["analyze"], ["measure"], ["plot", "roofline"]):
        assert option.search(CliRunner().invoke(main, [*command, "--help"]).output)
    for command in (["sweep"], ["report"], ["reproduce"], ["devices"], ["list"], ["plot", "sweep"],
                    ["plot", "depth"], ["plot", "layers"], ["plot", "speedup"], ["calibrate"], ["import"]):
        assert not option.search(CliRunner().invoke(main, [*command, "--help"]).output), command


def test_measure_runs_channels_last_modules_and_predicts_in_nhwc(monkeypatch):
    torch = pytest.importorskip("torch")
    import hetcalc.measure.runs as runs

    seen = []
    real = runs.Interleaved

    def spy(fns):  # each is partial(model, x): the input and every weight must be channels-last
        for fn in fns:
            x = fn.args[0]
            seen.append(x.is_contiguous(memory_format=torch.channels_last))
            seen.extend(p.is_contiguous(memory_format=torch.channels_last) for p in fn.func.parameters()
                        if p.dim() == 4)
        return real(fns)

    monkeypatch.setattr(runs, "Interleaved", spy)
    tiny = {"input": [4, 8, 8], "layers": [{"conv": {"out": 8, "bn": True, "act": "relu"}}, {"maxpool": 2},
                                           {"fc": 3}]}
    m = runs.measure(tiny, P=2, variants="hetconv", rounds=1, warmup=0, device="x86-server", layout="nhwc")
    assert m.layout == "nhwc" and m.to_dict()["layout"] == "nhwc" and seen and all(seen)
    predicted = hetcalc.analyze(tiny, P=2, variants="hetconv", device="x86-server", dtype="fp32", batch=1,
                                layout="nhwc").standard.time_s
    assert m.variant("standard").predicted_s == pytest.approx(predicted)
    with pytest.raises(OptionError, match="cannot apply"):
        runs.measure(tiny, P=2, rounds=1, warmup=0, mode="compiled")


@pytest.mark.parametrize("measured, said", [
    ("{torch: false}", "calibrated without PyTorch: `pip install 'hetcalc[torch]'`, then `hetcalc calibrate`"),
    ("{torch: 2.13.0}", "calibrated without channels-last timings: run `hetcalc calibrate` again")])
def test_a_calibrated_profile_without_factors_says_what_would_give_them(tmp_path, measured, said):
    from pathlib import Path

    import hetcalc

    text = (Path(hetcalc.__file__).parent / "profiles" / "x86-server.yaml").read_text()
    profile = tmp_path / "mine.yaml"
    profile.write_text(text.replace("name: x86-server", "name: mine") + f"measured: {measured}\n")
    r = CliRunner().invoke(main, ["resnet56", "--device", str(profile), "--layout", "nhwc", "--summary-only"])
    assert r.exit_code == 0, r.output
    assert said in " ".join(r.output.split())
