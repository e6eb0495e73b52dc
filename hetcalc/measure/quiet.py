"""Other processes' CPU use while we time: how calibration notices a busy machine.

A snapshot reads the busy CPU time of the cores this process may run on (Linux /proc/stat: the whole
machine, or only the `cpuN` lines of its affinity set when it is pinned, say by `taskset -c 0`) and this
process's own CPU time (os.times); between two snapshots, those cores' busy time minus our own, over the
wall time, is how many cores other processes used meanwhile. Work pinned to other cores does not count
(it still shares the memory system: docs/time-model.md). A step that ran while others used more than BUSY_CORES is disturbed:
calibration waits for quiet and runs it again, and says so in the profile when it stays disturbed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Callable, TypeVar

T = TypeVar("T")

BUSY_CORES = 0.3  # other processes' average use, in cores, above which a timed step counts as disturbed
REPEATS = 2  # a disturbed step runs at most this many more times
WINDOW_S = 1.0  # how long one look for quiet lasts


@dataclass(frozen=True)
class CpuSnapshot:
    """The wall clock, the machine's busy CPU seconds over all cores (None where unknown) and our own."""
    wall: float
    busy_s: float | None
    own_s: float


def machine_busy_seconds(stat_line: str, ticks: int) -> float:
    """Busy CPU seconds from /proc/stat's `cpu` line: every column but idle and iowait (columns 4 and 5)."""
    values = [int(v) for v in stat_line.split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    guest = sum(values[8:10])  # guest time is already inside user and nice
    return (sum(values) - guest - idle) / ticks


def busy_seconds(stat_text: str, ticks: int, cpus: set[int] | None) -> float:
    """Busy CPU seconds of the cores in `cpus` from /proc/stat's text (the `cpu` line: all cores when
    `cpus` is None). A core named in `cpus` but missing from the text is an error (ValueError)."""
    lines = stat_text.splitlines()
    if cpus is None:
        return machine_busy_seconds(lines[0], ticks)
    per_cpu = {int(line.split()[0][3:]): line for line in lines if line.startswith("cpu") and line[3:4].isdigit()}
    return sum(machine_busy_seconds(per_cpu[cpu], ticks) for cpu in sorted(cpus))


def pinned_cpus() -> set[int] | None:
    """The cores this process may run on when that is fewer than the machine's, else None."""
    try:
        allowed = os.sched_getaffinity(0)
    except (AttributeError, OSError):
        return None
    total = os.cpu_count()
    return set(allowed) if total and len(allowed) < total else None


def snapshot() -> CpuSnapshot:
    """Now: wall time, the busy CPU seconds of the cores we may run on and this process's CPU seconds."""
    own = os.times()
    busy = None
    try:
        with open("/proc/stat", encoding="ascii") as fh:
            busy = busy_seconds(fh.read(), os.sysconf("SC_CLK_TCK"), pinned_cpus())
    except (OSError, ValueError, IndexError, KeyError, AttributeError):
        pass
    return CpuSnapshot(time.perf_counter(), busy, own.user + own.system)


def others_cores(before: CpuSnapshot, after: CpuSnapshot) -> float | None:
    """Cores other processes used on average between two snapshots (None where the machine cannot tell)."""
    wall = after.wall - before.wall
    if before.busy_s is None or after.busy_s is None or wall <= 0:
        return None
    others = (after.busy_s - before.busy_s) - (after.own_s - before.own_s)
    return max(others, 0.0) / wall


@dataclass
class Watch:
    """Runs timed steps, noting other processes' CPU use during each; a disturbed step waits for quiet (up to
    `wait_s` in all) and runs again, and the least disturbed run is kept. `loads` maps each step to the
    others' cores during the run kept."""
    say: Callable[[str], None] = lambda text: None
    wait_s: float = 60.0
    probe: Callable[[], CpuSnapshot] = snapshot
    sleep: Callable[[float], None] = time.sleep
    loads: dict[str, float | None] = field(default_factory=dict)
    waited_s: float = 0.0

    def wait_for_quiet(self) -> float | None:
        """Look in windows of WINDOW_S until others use at most BUSY_CORES or the wait budget is spent;
        the others' cores in the last window."""
        load = None
        while self.waited_s < self.wait_s:
            before = self.probe()
            self.sleep(WINDOW_S)
            load = others_cores(before, self.probe())
            self.waited_s += WINDOW_S
            if load is None or load <= BUSY_CORES:
                break
        return load

    def run(self, label: str, fn: Callable[[], T]) -> T:
        """fn(), repeated while other processes disturb it (at most REPEATS more times)."""
        best, best_load = None, None
        for attempt in range(REPEATS + 1):
            before = self.probe()
            result = fn()
            load = others_cores(before, self.probe())
            if attempt == 0 or (load is not None and (best_load is None or load < best_load)):
                best, best_load = result, load
            if load is None or load <= BUSY_CORES:
                break
            if attempt < REPEATS:
                self.say(f"{label}: other processes used {load:.1f} cores meanwhile; waiting for quiet, then "
                         f"timing it again")
                self.wait_for_quiet()
        self.loads[label] = best_load
        return best  # type: ignore[return-value]

    def disturbed(self) -> list[str]:
        """One reason per step that stayed disturbed."""
        return [f"{label} ran while other processes used {load:.1f} cores" for label, load in self.loads.items()
                if load is not None and load > BUSY_CORES]
