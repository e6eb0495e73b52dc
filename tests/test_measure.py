"""`hetcalc measure` and `hetcalc.measure.measure`: structure, statistics and errors, never timings.

Tiny specs (8 x 8 inputs, a few rounds) keep the file fast. The one check that needs no torch (the
message when it is missing) runs everywhere; the others skip cleanly without torch.
"""

from __future__ import annotations

import csv
import io
import json
import statistics
import sys

import pytest

import hetcalc

TINY = {"name": "tiny", "input": [4, 8, 8], "defaults": {"conv": {"bn": True, "act": "relu"}},
        "layers": [{"conv": 8}, {"conv": 8}, {"conv": {"out": 16, "stride": 2}}, {"avgpool": "global"},
                   {"fc": 3}]}


@pytest.fixture
def tiny_spec(tmp_path):
    import yaml

    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY), encoding="utf-8")
    return str(path)


def test_missing_torch_is_one_line_exit_1(run, tiny_spec, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError
    result = run("measure", tiny_spec)
    assert result.exit_code == 1
    assert result.stderr == "hetcalc: error: hetcalc measure needs PyTorch: pip install 'hetcalc[torch]'\n"
    assert result.stdout == ""
    with pytest.raises(hetcalc.MissingDependency, match=r"needs PyTorch: pip install 'hetcalc\[torch\]'"):
        hetcalc.build_module("vgg16")


def test_bench_warms_up_then_rotates_the_order_each_round():
    """The timing harness behind measure and calibrate: each function warmed up in turn, then every round
    times each once, starting one further along; samples stay with their function."""
    from hetcalc.measure import bench

    calls = []
    b = bench.Interleaved([lambda i=i: calls.append(i) for i in range(3)])
    b.warm_up(2)
    assert calls == [0, 0, 1, 1, 2, 2] and all(1 <= n <= bench.MAX_CALLS for n in b.calls)
    del calls[:]
    b.run(3)
    runs = [i for k, i in enumerate(calls) if k == 0 or calls[k - 1] != i]
    assert runs == [0, 1, 2, 1, 2, 0, 2, 0, 1]
    assert [len(s) for s in b.samples] == [3, 3, 3]
    assert bench.calls_per_sample(bench.MIN_SAMPLE_S / 4) == 4 and bench.calls_per_sample(1.0) == 1


def test_bench_statistic_is_the_median_or_the_fastest_round(monkeypatch):
    from hetcalc.measure import bench

    seconds = iter([3.0, 30.0, 10.0, 1.0, 2.0, 20.0])  # the second round times the second function first
    monkeypatch.setattr(bench, "time_calls", lambda fn, calls: next(seconds))
    assert bench.interleaved([lambda: None, lambda: None], 3) == [2.0, 20.0]
    seconds = iter([3.0, 30.0, 10.0, 1.0, 2.0, 20.0])
    assert bench.interleaved([lambda: None, lambda: None], 3, "fastest") == [1.0, 10.0]


def test_measurement_structure_and_statistics():
    torch = pytest.importorskip("torch")
    from hetcalc.measure import measure

    threads = torch.get_num_threads()
    m = measure(TINY, P=[2, 4], batch=2, threads=1, rounds=3, warmup=1)
    assert torch.get_num_threads() == threads  # restored
    assert [v.key for v in m.variants] == ["standard", "hetconv:2", "hetconv:4", "gwc_pwc:2", "dwc_pwc"]
    assert (m.batch, m.threads, m.rounds, m.warmup, m.hetconv_impl) == (2, 1, 3, 1, "split")
    std = m.variant("standard")
    for v, p in zip(m.variants[1:3], (2, 4)):
        analysis = hetcalc.analyze(TINY, P=p).variant("hetconv")
        assert (v.P, v.flops, v.params) == (p, analysis.flops, analysis.params)
        assert v.flops_speedup == pytest.approx(analysis.speedup)
    for v in m.variants:
        assert len(v.samples_s) == 3 and all(s > 0 for s in v.samples_s) and v.passes >= 1
        assert v.median_s == statistics.median(v.samples_s)
        assert min(v.samples_s) <= v.q1_s <= v.median_s <= v.q3_s <= max(v.samples_s)
        assert v.spread == pytest.approx((v.q3_s - v.q1_s) / v.median_s)
        assert v.speedup == pytest.approx(std.median_s / v.median_s)
        assert v.predicted_s is None and v.error is None
    assert m.variant("hetconv").key == "hetconv:2"
    data = json.loads(json.dumps(m.to_dict()))
    assert data["architecture"] == "tiny" and len(data["variants"]) == 5


def test_standard_is_timed_even_when_not_chosen():
    pytest.importorskip("torch")
    from hetcalc.measure import measure

    m = measure(TINY, P=2, variants="dwc", rounds=1, warmup=0)
    assert [v.key for v in m.variants] == ["dwc_pwc"]
    assert m.variant("standard").median_s > 0
    assert m.variants[0].speedup == pytest.approx(m.baseline.median_s / m.variants[0].median_s)


@pytest.mark.parametrize("kwargs, message", [
    ({"batch": 0}, "batch must be an integer >= 1, got 0"),
    ({"rounds": 0}, "rounds must be an integer >= 1, got 0"),
    ({"threads": 0}, "threads must be an integer >= 1, got 0"),
    ({"P": 3}, "P=3 does not divide"),
    ({"P": "2,x"}, "P must be a positive integer, M or N, got 'x'"),
    ({"hetconv_impl": "fast"}, "HetConv realization must be one of split, masked, fused, got 'fast'"),
])
def test_bad_options_are_option_errors(kwargs, message):
    pytest.importorskip("torch")
    from hetcalc.measure import measure

    with pytest.raises(hetcalc.OptionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        measure(TINY, **{"rounds": 1, "warmup": 0, **kwargs})


def test_cli_table_and_exports(run, tiny_spec, tmp_path):
    pytest.importorskip("torch")
    args = ("measure", tiny_spec, "--P", "2", "--rounds", "2", "--warmup", "0", "--batch", "2", "--threads", "1")
    table = run(*args)
    assert table.exit_code == 0, table.output
    lines = table.stdout.splitlines()
    assert lines[0] == "tiny [tiny]  input 4x8x8  batch 2  fp32"
    assert "Measured: PyTorch" in table.stdout and "1 thread," in table.stdout
    start = next(i for i, line in enumerate(lines) if line.startswith("variant"))
    assert lines[start].split() == ["variant", "measured", "spread", "speedup", "by", "FLOPs"]
    rows = {line.split("  ")[0]: line for line in lines[start + 2:start + 6]}
    assert set(rows) == {"standard", "HetConv (P=2)", "GWC+PWC (G=2)", "DWC+PWC"}
    assert rows["standard"].split()[-2:] == ["1.00x", "1.00x"]
    assert max(len(line) for line in lines if not line.startswith(("measured:", "speedup:"))) <= 80

    out = tmp_path / "m.csv"
    assert run(*args, "-o", str(out)).exit_code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert [r["key"] for r in rows] == ["standard", "hetconv:2", "gwc_pwc:2", "dwc_pwc"]
    assert int(rows[1]["flops"]) == hetcalc.analyze(TINY, P=2).variant("hetconv").flops
    assert rows[0]["predicted_s"] == "" and float(rows[0]["speedup"]) == 1.0

    data = json.loads(run(*args, "--format", "json", "--hetconv-impl", "masked").stdout)
    assert data["hetconv_impl"] == "masked" and data["batch"] == 2 and data["threads"] == 1
    assert [len(v["samples_s"]) for v in data["variants"]] == [2, 2, 2, 2]
    assert run(*args, "--format", "markdown").stdout.startswith("## tiny [tiny]")


@pytest.mark.parametrize("args, message", [
    (["vgg16", "--P", "3"], "P=3 does not divide the input depth M of 12 HetConv layer(s) in vgg16"),
    (["vgg16", "--batch", "0"], "batch must be an integer >= 1, got 0"),
    (["nosuch"], "unknown architecture 'nosuch'"),
])
def test_cli_errors_are_one_line(run, args, message):
    pytest.importorskip("torch")
    result = run("measure", *args, "--rounds", "1")
    assert result.exit_code == 2
    assert result.stderr.startswith("hetcalc: error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1 and result.stdout == ""


def test_cli_split_with_p_not_dividing_n_names_the_layer(run, tmp_path):
    pytest.importorskip("torch")
    spec = tmp_path / "odd.yaml"
    spec.write_text("input: [3, 8, 8]\nlayers:\n  - conv: 8\n  - conv: 6\n  - fc: 2\n", encoding="utf-8")
    result = run("measure", str(spec), "--P", "4", "--rounds", "1")
    assert result.exit_code == 2
    assert "layer conv2 has N=6, P=4" in result.stderr and "--hetconv-impl masked" in result.stderr
    assert run("measure", str(spec), "--P", "4", "--rounds", "1", "--warmup", "0",
               "--hetconv-impl", "masked").exit_code == 0


def test_pytorch_failure_is_one_line(run, tiny_spec, monkeypatch):
    pytest.importorskip("torch")
    import hetcalc.measure.bench

    def out_of_memory(*args):
        raise RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 9 bytes\ntrace...")

    monkeypatch.setattr(hetcalc.measure.bench, "time_calls", out_of_memory)
    result = run("measure", tiny_spec, "--rounds", "1", "--warmup", "0", "--batch", "7")
    assert result.exit_code == 1
    assert result.stderr.startswith("hetcalc: error: PyTorch could not run standard of tiny at batch 7: "
                                    "DefaultCPUAllocator: can't allocate memory")
    assert result.stderr.count("\n") == 1


class _Timed:
    """A VariantResult with a predicted time: its FLOPs at one GFLOP per second."""

    def __init__(self, result, standard):
        self._result, self.time_s = result, result.flops * 1e-9
        self.time_speedup = standard.flops / result.flops

    def __getattr__(self, name):
        return getattr(self._result, name)


class _TimedReport:
    def __init__(self, report):
        self._report = report
        self.device = type("Device", (), {"name": "fake", "title": "one GFLOP/s"})()

    def variant(self, key):
        return _Timed(self._report.variant(key), self._report.standard)

    @property
    def standard(self):
        return self.variant("standard")

    def __getattr__(self, name):
        return getattr(self._report, name)


def test_predictions_go_beside_measurements(run, tiny_spec, monkeypatch):
    """The wiring, whatever the model: predicted time, its error and the predicted speedup per variant."""
    pytest.importorskip("torch")
    import hetcalc.measure.runs

    real = hetcalc.measure.runs.analyze
    seen = {}

    def timed_analyze(arch, P, G, variants, **options):
        seen.update(options)
        return _TimedReport(real(arch, P=P, G=G, variants=variants))

    monkeypatch.setattr(hetcalc.measure.runs, "analyze", timed_analyze)
    m = hetcalc.measure.measure(TINY, P=2, batch=3, rounds=2, warmup=0, device="fake", hetconv_impl="fused")
    assert seen == {"device": "fake", "dtype": "fp32", "batch": 3, "hetconv_impl": "masked", "layout": "nchw"}
    assert (m.device, m.device_title) == ("fake", "one GFLOP/s")
    std = m.variant("standard")
    for v in m.variants:
        assert v.predicted_s == v.flops * 1e-9
        assert v.error == pytest.approx(v.predicted_s / v.median_s - 1)
        assert v.predicted_speedup == pytest.approx(std.flops / v.flops)
        assert v.speedup_error == pytest.approx(v.predicted_speedup / v.speedup - 1)

    result = run("measure", tiny_spec, "--P", "2", "--rounds", "1", "--warmup", "0", "--device", "fake")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "Predicted: hetcalc's time model on device profile fake (one GFLOP/s)." in lines
    header = next(line for line in lines if line.startswith("variant"))
    assert header.split() == ["variant", "measured", "spread", "speedup", "by", "FLOPs", "predicted", "error",
                              "by", "model"]
    dwc = next(line for line in lines if line.startswith("DWC+PWC"))
    expected = hetcalc.analyze(TINY, P=2).variant("dwc_pwc")
    assert dwc.split()[-1] == f"{expected.speedup:.2f}x"  # by model = FLOPs ratio under this fake model


def test_no_local_profile_means_no_prediction(run, tiny_spec, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # an empty config folder: nothing calibrated
    for extra in ((), ("--device", "none")):
        result = run("measure", tiny_spec, "--rounds", "1", "--warmup", "0", *extra)
        assert result.exit_code == 0, result.output
        assert "Predicted: not shown" in result.stdout and "predicted" not in result.stdout.split("variant")[1]


def test_predicted_times_come_from_the_time_model(run, tiny_spec, tmp_path, monkeypatch):
    """With a device profile, each variant's prediction is analyze()'s time_s for the same batch, fp32 and
    HetConv realization; without --device, the calibrated 'local' profile is used when one is saved."""
    pytest.importorskip("torch")
    from hetcalc.devices import PROFILES
    from hetcalc.measure import measure

    m = measure(TINY, P=[2, 4], batch=3, rounds=1, warmup=0, device="x86-server")
    assert m.device == "x86-server"
    for v in m.variants:
        part = v.P if v.variant == "hetconv" else 2
        model = hetcalc.analyze(TINY, P=part, device="x86-server", dtype="fp32", batch=3, hetconv_impl="split")
        expected = model.variant(v.variant)
        assert v.predicted_s == expected.time_s > 0
        assert v.predicted_speedup == pytest.approx(model.standard.time_s / expected.time_s)
        assert v.error == pytest.approx(v.predicted_s / v.median_s - 1)

    folder = tmp_path / "hetcalc" / "devices"
    folder.mkdir(parents=True)
    (folder / "local.yaml").write_text((PROFILES / "x86-server.yaml").read_text(encoding="utf-8"),
                                       encoding="utf-8")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    result = run("measure", tiny_spec, "--P", "2", "--rounds", "1", "--warmup", "0")
    assert result.exit_code == 0, result.output
    assert "Predicted: hetcalc's time model on device profile x86-server" in result.stdout
    assert "predicted  error  by model" in result.stdout
    bad = run("measure", tiny_spec, "--rounds", "1", "--device", "nosuch")
    assert bad.exit_code == 2 and "unknown device 'nosuch'" in bad.stderr
