"""Calibration's steps in order, with the seconds each takes on a quiet two-core machine, so progress can
say how long is left: the plan's remaining seconds scaled by how fast the run has gone so far."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from hetcalc.measure.quiet import Watch

T = TypeVar("T")

# step -> seconds on a quiet 2-core machine (the shape of the run, not a promise)
NUMPY_STEPS = {"memory bandwidth (numpy copies)": 2.0, "GEMM rate (numpy float32 matmul)": 1.0,
               "page faults of large fresh tensors (numpy)": 1.0}
TORCH_STEPS = {"memory bandwidth (numpy copies)": 2.0, "GEMM rate (numpy float32 matmul)": 1.0,
               **{step: seconds for i in (1, 2, 3) for step, seconds in (
                   (f"convolutions over 5 kernel classes, pass {i} of 3 (torch conv2d)", 5.0),
                   (f"channels-last convolutions, pass {i} of 3 (torch conv2d, NHWC)", 2.0),
                   (f"dispatch overhead and bandwidth, pass {i} of 3 (torch element-wise kernels)", 1.5),
                   (f"page faults of large fresh tensors, pass {i} of 3 (torch)", 0.5),
                   (f"whole-network check, pass {i} of 3 (calibrate's own small network, batch 1 and 8)", 3.0))},
               "linear layers (torch linear)": 1.0}


def seconds_left(elapsed: float, done: float, remaining: float) -> float:
    """Seconds left: the plan's `remaining` seconds at the pace so far (`elapsed` real seconds for `done`
    planned ones); the plan itself before anything is done."""
    return remaining * (elapsed / done) if done > 0 else remaining


@dataclass
class Plan:
    """Runs the planned steps through a Watch, announcing each as `[i/n] step (about N s left)`."""
    steps: dict[str, float]
    watch: Watch
    say: Callable[[str], None] = lambda text: None
    clock: Callable[[], float] = time.perf_counter
    started: float = field(default=0.0)
    done: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.started = self.clock()

    def run(self, step: str, fn: Callable[[], T]) -> T:
        if step not in self.steps:
            raise KeyError(f"calibration step not in the plan: {step}")
        done = sum(self.steps[s] for s in self.done)
        left = seconds_left(self.clock() - self.started, done, sum(self.steps.values()) - done)
        self.say(f"[{len(self.done) + 1}/{len(self.steps)}] {step} (about {max(left, 1):.0f} s left)")
        result = self.watch.run(step, fn)
        self.done.append(step)
        return result
