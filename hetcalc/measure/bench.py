"""One timing harness for `hetcalc measure` and `hetcalc calibrate`: interleaved rounds of timed calls.

Each function is warmed up first (the first calls allocate and choose algorithms). Then every round times
each function once, in an order that rotates from round to round, so that drift on a shared machine hits
them all alike and none always runs first or last. A sample is a run of calls lasting about MIN_SAMPLE_S,
so that the timer's noise stays small; the garbage collector is off while the rounds run.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from typing import Callable, Sequence

MIN_SAMPLE_S = 0.02
MAX_CALLS = 10_000


def calls_per_sample(seconds: float) -> int:
    """How many calls of `seconds` each make one sample last MIN_SAMPLE_S (at least 1, at most MAX_CALLS)."""
    return max(1, min(MAX_CALLS, math.ceil(MIN_SAMPLE_S / max(seconds, 1e-9))))


def time_calls(fn: Callable[[], object], calls: int) -> float:
    """Seconds per call of `fn`, over `calls` calls timed together."""
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


class Interleaved:
    """Interleaved timing of several functions: `calls` per sample and `samples` (seconds per call, one per
    round) of each. `current` is the index of the function running, to name it when one fails."""

    def __init__(self, fns: Sequence[Callable[[], object]]) -> None:
        self.fns = list(fns)
        self.calls = [1] * len(self.fns)
        self.samples: list[list[float]] = [[] for _ in self.fns]
        self.current = 0

    def warm_up(self, warmup: int, progress: Callable[[int], None] | None = None) -> None:
        """Call each function `warmup` times (at least once) and size its samples from the last call."""
        for i, fn in enumerate(self.fns):
            self.current = i
            if progress:
                progress(i)
            elapsed = 0.0
            for _ in range(max(warmup, 1)):
                start = time.perf_counter()
                fn()
                elapsed = time.perf_counter() - start
            self.calls[i] = calls_per_sample(elapsed)

    def run(self, rounds: int, progress: Callable[[int], None] | None = None) -> None:
        """Time `rounds` rounds, each function once per round in a rotating order."""
        n = len(self.fns)
        enabled = gc.isenabled()
        gc.collect()
        gc.disable()
        try:
            for r in range(rounds):
                if progress:
                    progress(r)
                for k in range(n):
                    self.current = i = (k + r) % n
                    self.samples[i].append(time_calls(self.fns[i], self.calls[i]))
        finally:
            if enabled:
                gc.enable()


def interleaved(fns: Sequence[Callable[[], object]], rounds: int, statistic: str = "median",
                warmup: int = 2) -> list[float]:
    """Seconds per call of each function over interleaved rounds: the median of the rounds, or with
    statistic "fastest" the fastest round (the quiet machine's time: other processes only slow a round down)."""
    bench = Interleaved(fns)
    bench.warm_up(warmup)
    bench.run(rounds)
    pick = min if statistic == "fastest" else statistics.median
    return [pick(samples) for samples in bench.samples]
