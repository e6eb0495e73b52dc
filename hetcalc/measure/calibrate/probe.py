"""What the machine says about itself: one core's private cache (Linux sysfs) and the CPU's name."""

from __future__ import annotations

import os

from hetcalc.core.machine import cpu_name

__all__ = ["CACHE_SOURCE", "cache_size", "cpu_name"]

CACHE_SOURCE = "sysfs: one core's private cache (the shared last level is not relied on)"


def cache_size() -> int | None:
    """One core's own cache (the largest data or unified cache not shared with other cores) from sysfs
    (Linux), or None. A shared last-level cache is not relied on: on a busy machine others fill it."""
    base = "/sys/devices/system/cpu/cpu0/cache"
    best = None
    try:
        entries = sorted(e for e in os.listdir(base) if e.startswith("index"))
    except OSError:
        return None
    for entry in entries:
        try:
            with open(os.path.join(base, entry, "type")) as fh:
                if fh.read().strip() == "Instruction":
                    continue
            with open(os.path.join(base, entry, "shared_cpu_list")) as fh:
                shared = fh.read()
                if "," in shared or "-" in shared:  # shared by several cores
                    continue
            with open(os.path.join(base, entry, "size")) as fh:
                text = fh.read().strip()
            scale = {"K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}.get(text[-1:], 1)
            value = int(text.rstrip("KMG")) * scale
        except (OSError, ValueError):
            continue
        best = value if best is None or value > best else best
    return best
