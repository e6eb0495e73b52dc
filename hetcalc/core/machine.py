"""What this machine and its Python are: the CPU's name and the installed PyTorch's version, read cheaply
(no torch import), so a calibrated profile can record them and later runs can compare."""

from __future__ import annotations

import platform
from importlib import metadata


def cpu_name() -> str:
    """The CPU's model name (Linux /proc/cpuinfo), else what platform says."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "this machine"


def torch_version() -> str | None:
    """The installed PyTorch's version from its package metadata (torch is not imported), or None."""
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None
