"""Does a calibrated profile fit the run at hand? A profile made by `hetcalc calibrate` records the CPU, the
torch version and the thread count it was measured with, and why it is unreliable if it is; a run that
differs gets one warning line per difference (a profile made with 2 threads was +700% off at --threads 1)."""

from __future__ import annotations

from hetcalc.core.machine import cpu_name, torch_version
from hetcalc.timing.devices import Device


class ProfileWarning(UserWarning):
    """A device profile that may not fit this run: made elsewhere, with other threads, or marked unreliable."""


def _base(version: str) -> str:
    return version.split("+")[0]


def provenance_warnings(device: Device) -> list[str]:
    """What differs between the machine and torch a calibrated profile was made with and this one, and
    whether calibrate marked it unreliable (empty for built-in and hand-written profiles)."""
    measured = getattr(device, "measured", None) or {}
    out = []
    unreliable = measured.get("unreliable")
    if isinstance(unreliable, list) and unreliable:
        more = f" (and {len(unreliable) - 1} more)" if len(unreliable) > 1 else ""
        out.append(f"device profile '{device.name}' is marked unreliable by calibrate: {unreliable[0]}{more}; "
                   f"run `hetcalc calibrate` again on a quiet machine")
    machine = measured.get("machine")
    if isinstance(machine, str) and machine and machine != cpu_name():
        out.append(f"device profile '{device.name}' was calibrated on {machine}, this machine is {cpu_name()}: "
                   f"predictions may not hold here")
    made_with = measured.get("torch")
    here = torch_version()
    if isinstance(made_with, str) and here and _base(made_with) != _base(here):
        out.append(f"device profile '{device.name}' was calibrated with torch {made_with}, this is torch {here}: "
                   f"kernel speeds can differ between versions")
    return out


def thread_mismatch(device: Device, threads: int) -> str | None:
    """A warning when the profile was measured with another thread count than this run uses."""
    made_with = (getattr(device, "measured", None) or {}).get("threads")
    if isinstance(made_with, int) and not isinstance(made_with, bool) and made_with != threads:
        return (f"device profile '{device.name}' was calibrated with {made_with} thread(s), this run uses {threads}: "
                f"predictions can be several times off (calibrate --threads {threads}, or measure --threads "
                f"{made_with})")
    return None
