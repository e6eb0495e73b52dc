"""Calibration on a busy machine (issue 19, item 1): other processes' CPU use is watched, disturbed steps are
repeated, implausible profiles are refused or marked, progress says how long is left, and a profile made with
another CPU, torch or thread count warns where it is used. Timings are faked: these are the rules, by hand."""

from __future__ import annotations

import warnings

import pytest

import hetcalc.measure.calibrate as cal
from hetcalc.measure.calibrate.plan import Plan, seconds_left
from hetcalc.measure.calibrate.plausible import implausible
from hetcalc.measure.quiet import BUSY_CORES, CpuSnapshot, Watch, busy_seconds, machine_busy_seconds, others_cores
from hetcalc.timing.devices import Value, load_device_file, resolve_device
from hetcalc.timing.provenance import ProfileWarning, provenance_warnings, thread_mismatch


def test_busy_seconds_leave_out_idle_iowait_and_guest():
    # user nice system idle iowait irq softirq steal guest guest_nice, at 100 ticks a second
    line = "cpu  100 20 30 400 50 5 5 10 7 3"
    assert machine_busy_seconds(line, 100) == pytest.approx((100 + 20 + 30 + 5 + 5 + 10) / 100)


STAT = """cpu  300 0 100 900 10 0 0 0 0 0
cpu0 250 0 50 100 5 0 0 0 0 0
cpu1 50 0 50 800 5 0 0 0 0 0
intr 12345
"""


def test_a_pinned_process_counts_only_its_own_cores():
    # pinned to core 1 (taskset -c 1): cpu1's user + system only, 50 + 50 ticks; cpu0's 300 busy ticks are not ours
    assert busy_seconds(STAT, 100, {1}) == pytest.approx((50 + 50) / 100)
    assert busy_seconds(STAT, 100, {0, 1}) == pytest.approx((250 + 50 + 50 + 50) / 100)
    assert busy_seconds(STAT, 100, None) == pytest.approx((300 + 100) / 100)  # the machine's line
    with pytest.raises(KeyError):
        busy_seconds(STAT, 100, {7})  # a core /proc/stat does not list: the snapshot says "cannot tell"


def test_others_cores_is_machine_busy_time_minus_our_own_over_wall_time():
    before, after = CpuSnapshot(10.0, 50.0, 3.0), CpuSnapshot(12.0, 54.0, 4.5)
    assert others_cores(before, after) == pytest.approx((4.0 - 1.5) / 2.0)
    assert others_cores(before, CpuSnapshot(12.0, None, 4.5)) is None  # no /proc/stat: cannot tell
    assert others_cores(before, CpuSnapshot(12.0, 50.5, 4.5)) == 0.0  # never below zero


class FakeMachine:
    """Snapshots where other processes use `loads[i]` cores during the i-th measured interval."""

    def __init__(self, loads):
        self.loads = list(loads)
        self.wall, self.busy, self.calls = 0.0, 0.0, 0

    def probe(self):
        if self.calls % 2 == 1:  # the end of an interval of one second
            self.wall += 1.0
            self.busy += self.loads.pop(0) if self.loads else 0.0
        self.calls += 1
        return CpuSnapshot(self.wall, self.busy, 0.0)


def test_a_disturbed_step_waits_for_quiet_and_runs_again():
    # the step (1.5 cores), a look for quiet (0.1: quiet), the step again (0.0)
    machine = FakeMachine([1.5, 0.1, 0.0])
    said, calls = [], []
    watch = Watch(say=said.append, wait_s=10, probe=machine.probe, sleep=lambda s: None)
    result = watch.run("convolutions", lambda: calls.append(1) or len(calls))
    assert result == 2 and len(calls) == 2
    assert watch.loads == {"convolutions": 0.0} and watch.disturbed() == []
    assert "1.5 cores" in said[0] and "again" in said[0]


def test_a_step_that_stays_disturbed_is_named_with_its_least_disturbed_load():
    # step 2.0, wait 1.9 (budget 1 s spent), step 1.2, no budget left: step 1.6
    machine = FakeMachine([2.0, 1.9, 1.2, 1.6])
    watch = Watch(wait_s=1.0, probe=machine.probe, sleep=lambda s: None)
    runs = []
    assert watch.run("GEMM", lambda: runs.append(len(runs)) or len(runs)) == 2  # the 1.2-core run is kept
    assert len(runs) == 3 and watch.loads["GEMM"] == pytest.approx(1.2)
    assert watch.disturbed() == ["GEMM ran while other processes used 1.2 cores"]
    assert watch.waited_s == 1.0


def test_a_quiet_step_runs_once():
    watch = Watch(probe=FakeMachine([BUSY_CORES]).probe, sleep=lambda s: None)
    runs = []
    watch.run("x", lambda: runs.append(1))
    assert runs == [1] and watch.disturbed() == []


def test_time_left_scales_the_plan_by_the_pace_so_far():
    assert seconds_left(elapsed=10.0, done=5.0, remaining=10.0) == pytest.approx(20.0)
    assert seconds_left(elapsed=0.0, done=0.0, remaining=16.0) == 16.0
    clock = iter([0.0, 0.0, 4.0]).__next__  # started, then each announcement
    said = []
    plan = Plan({"a": 2.0, "b": 6.0}, Watch(probe=FakeMachine([]).probe, sleep=lambda s: None), said.append, clock)
    plan.run("a", lambda: None)
    plan.run("b", lambda: None)
    assert said == ["[1/2] a (about 8 s left)", "[2/2] b (about 12 s left)"]  # 6 s planned x (4 s / 2 s planned)
    with pytest.raises(KeyError):
        plan.run("c", lambda: None)


def quiet_profile(**changes):
    device = resolve_device("rpi5")
    return type(device)(**{**device.__dict__, "kernel_overhead": Value(5e-6, "test"), "op_overhead": {},
                           "measured": {"conv_fit_median_error": 0.04, "network_ratio": 1.2}, **changes})


def test_a_plausible_profile_has_no_reasons():
    assert implausible(quiet_profile()) == []


def test_the_busy_machine_profile_of_the_issue_is_implausible_on_every_count():
    busy = quiet_profile(op_overhead={"bn": Value(17.7e-3, "t"), "pool": Value(17e-3, "t"), "add": Value(4e-6, "t")},
                         measured={"conv_fit_median_error": 0.49, "network_ratio": 0.21})
    reasons = implausible(busy)
    assert len(reasons) == 4
    assert "49%" in reasons[0] and "op_overhead.bn is 17.7 ms" in reasons[1] and "op_overhead.pool is 17.0 ms" in reasons[2]
    assert "0.21x" in reasons[3]
    assert implausible(quiet_profile(memory_bandwidth=Value(5e7, "t")))[0].startswith("memory_bandwidth is 50 MB/s")


def test_timing_passes_that_disagree_make_the_profile_implausible():
    steady = quiet_profile(measured={"conv_fit_median_error": 0.04, "network_ratio": 1.2,
                                     "uncertainty": {"passes": 3, "median_spread": 0.02, "largest_spread": 0.04}})
    assert implausible(steady) == []
    # the three passes' own fits predicting 17% apart: a fit that noise moves that far is not a measurement
    shaky = quiet_profile(measured={"conv_fit_median_error": 0.04, "network_ratio": 1.2,
                                    "uncertainty": {"passes": 3, "median_spread": 0.166, "largest_spread": 0.9}})
    (reason,) = implausible(shaky)
    assert "passes disagree" in reason and "17% apart" in reason


@pytest.fixture
def numpy_steps(monkeypatch):
    """calibrate's numpy path with its measurements replaced by fixed values."""
    monkeypatch.setattr(cal, "numpy_bandwidth", lambda statistic: (Value(8e9, "t"), Value(40e9, "t")))
    monkeypatch.setattr(cal, "numpy_gemm", lambda statistic: 50e9)
    monkeypatch.setattr(cal, "cache_size", lambda: 1 << 20)
    monkeypatch.setattr(cal, "numpy_only_profile", lambda name, *a: quiet_profile(name=name, measured={}))


def test_calibrate_records_the_load_and_marks_what_stayed_disturbed(numpy_steps):
    loads = [1.8, 1.7, 1.9, 0.0, 0.0]  # bandwidth x3 (no waiting allowed), GEMM, page faults
    watch = Watch(wait_s=0, probe=FakeMachine(loads).probe, sleep=lambda s: None)
    said = []
    device = cal.calibrate(progress=said.append, use_torch=False, watch=watch)
    assert device.measured["unreliable"] == ["memory bandwidth (numpy copies) ran while other processes used 1.7 cores"]
    assert device.measured["quiet"]["others_cores"]["GEMM rate (numpy float32 matmul)"] == 0.0
    assert said[0].startswith("[1/3] memory bandwidth") and "s left)" in said[0]
    quiet = cal.calibrate(use_torch=False, watch=Watch(wait_s=0, probe=FakeMachine([]).probe, sleep=lambda s: None))
    assert "unreliable" not in quiet.measured


def test_the_command_refuses_an_unreliable_profile_unless_forced(run, tmp_path, monkeypatch):
    bad = quiet_profile(name="local", measured={"machine": "x", "unreliable": ["GEMM ran while other processes "
                                                                               "used 1.7 cores"]})
    monkeypatch.setattr(cal, "calibrate", lambda **kwargs: bad)
    out = tmp_path / "p.yaml"
    refused = run("calibrate", "-o", str(out))
    assert refused.exit_code == 1 and not out.exists()
    assert "not saved: GEMM ran while other processes used 1.7 cores" in refused.stderr
    assert "--force" in refused.stderr and "Traceback" not in refused.output
    forced = run("calibrate", "-o", str(out), "--force")
    assert forced.exit_code == 0 and "MARKED UNRELIABLE" in forced.stderr
    assert "MARKED UNRELIABLE" in load_device_file(out).summary()
    used = run("vgg16", "--device", str(out))
    assert used.exit_code == 0 and "marked unreliable by calibrate: GEMM ran" in used.stderr
    listed = run("devices", "-v")
    assert listed.exit_code == 0


def test_a_profile_made_elsewhere_warns_once_per_difference(monkeypatch):
    import hetcalc.timing.provenance as prov

    monkeypatch.setattr(prov, "cpu_name", lambda: "This CPU")
    monkeypatch.setattr(prov, "torch_version", lambda: "2.13.0+cpu")
    same = quiet_profile(measured={"machine": "This CPU", "torch": "2.13.0", "threads": 2})
    assert provenance_warnings(same) == []
    other = quiet_profile(measured={"machine": "Other CPU", "torch": "2.9.1+cu128", "threads": 2})
    texts = provenance_warnings(other)
    assert len(texts) == 2 and "calibrated on Other CPU, this machine is This CPU" in texts[0]
    assert "torch 2.9.1+cu128, this is torch 2.13.0+cpu" in texts[1]
    assert provenance_warnings(resolve_device("a100")) == []  # a built-in records nothing
    assert thread_mismatch(same, 2) is None
    text = thread_mismatch(same, 1)
    assert "calibrated with 2 thread(s), this run uses 1" in text and "--threads 1" in text


def test_analyze_with_a_profile_from_another_machine_warns(monkeypatch):
    import hetcalc
    import hetcalc.timing.provenance as prov

    monkeypatch.setattr(prov, "cpu_name", lambda: "This CPU")
    other = quiet_profile(name="laptop", measured={"machine": "Other CPU"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hetcalc.analyze("resnet56", P=4, device=other)
    assert [str(w.message) for w in caught if w.category is ProfileWarning] == [
        "device profile 'laptop' was calibrated on Other CPU, this machine is This CPU: predictions may not hold here"]


def test_the_command_says_when_pytorch_is_missing(run, tmp_path, monkeypatch):
    """Without PyTorch calibrate is numpy only; the command says so before it runs (and not with --no-torch,
    which asks for it)."""
    import importlib.util

    import hetcalc.cli.calibrate as command

    real = importlib.util.find_spec
    monkeypatch.setattr(command.importlib.util, "find_spec",
                        lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setattr(cal, "calibrate", lambda **kwargs: quiet_profile(name="local", measured={"machine": "x"}))
    said = run("calibrate", "-o", str(tmp_path / "p.yaml"))
    assert said.exit_code == 0 and "PyTorch is not installed" in said.stderr and "hetcalc[torch]" in said.stderr
    asked = run("calibrate", "-o", str(tmp_path / "q.yaml"), "--no-torch")
    assert asked.exit_code == 0 and "PyTorch is not installed" not in asked.stderr
