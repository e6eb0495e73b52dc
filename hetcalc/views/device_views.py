"""`hetcalc devices` as a Document: the device profiles' table, then where each saved profile lives and, if
verbose, every value with its source."""

from __future__ import annotations

from hetcalc.core.formatting import printable
from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid
from hetcalc.views.time_views import size


def devices_document(entries, config_dir, verbose: bool = False) -> Document:
    """`entries`: (device or None, where it was found, the error if unreadable), as timing.devices.all_devices."""
    grid = Grid(title="Device profiles", columns=[
        Column("name", "left"), Column("device", "left", shrink=True), Column("fp32 peak", short="peak"),
        Column("bandwidth", short="bw"), Column("overhead", drop=1), Column("validated", "left")])
    details = []
    for device, where, error in entries:
        if device is None:
            grid.rows.append(["", "(unreadable profile)", "", "", "", ""])
            details.append(f"{error}")
            continue
        fp32 = device.peak_flops.get("fp32")
        if where != "built-in":
            details.append(f"{device.name}: {where}")
        grid.rows.append([device.name, device.title, f"{fp32.value / 1e12:.3g} TF/s" if fp32 else "",
                          size(int(device.memory_bandwidth.value)) + "/s",
                          f"{device.kernel_overhead.value * 1e6:.1f} us",
                          _validated(device)])
        if verbose:
            details += [f"{device.name} ({device.where}):", *_sources(device)]
    grid.notes = ["validated: no = spec-sheet figures and estimates, not measured here; calibrated = measured "
                  "on this machine by `hetcalc calibrate` (single-kernel timings and one small network); published = "
                  "checked against published benchmarks (docs/gpu-validation.md). Use a name or a "
                  f"profile path with --device; saved profiles live in {config_dir}. Schema: "
                  "docs/time-model.md; every value's source: hetcalc devices -v."]
    # a profile's text (title, notes, sources) is the user's: control and bidi characters shown escaped
    return Document(grids=[grid], details=[printable(line) for line in details])


def _validated(device) -> str:
    if device.validated == "published benchmark":
        return "published"
    if device.validated:
        return "yes"
    if device.measured.get("unreliable"):
        return "UNRELIABLE"
    return "calibrated" if device.measured else "no"


def _made_with(measured: dict) -> list[str]:
    """How a calibrated profile was made (CPU, torch, threads) and why it is unreliable, if it is."""
    made = [f"{key} {measured[key]}" for key in ("machine", "torch", "threads") if measured.get(key) not in (None, "")]
    lines = [f"  calibrated with: {', '.join(made)}"] if made else []
    spread = measured.get("uncertainty")
    if isinstance(spread, dict) and isinstance(spread.get("median_spread"), (int, float)):
        lines.append(f"  uncertainty: the {spread.get('passes')} timing passes, each fitted alone, predict "
                     f"{spread['median_spread']:.1%} apart (median), {spread.get('largest_spread', 0):.1%} at most")
    return lines + [f"  unreliable: {reason}" for reason in measured.get("unreliable") or []]


def _sources(device) -> list[str]:
    """Every value of a profile with its source, one indented line each."""
    lines = _made_with(device.measured or {})
    for key, value in device.to_dict().items():
        if key in ("name", "measured"):
            continue
        if isinstance(value, dict) and "value" in value:
            lines.append(f"  {key}: {value['value']:g}  ({value['source']})")
        elif isinstance(value, dict):
            for sub, entry in value.items():
                if isinstance(entry, dict) and "value" in entry:
                    lines.append(f"  {key}.{sub}: {entry['value']:g}  ({entry['source']})")
        else:
            lines.append(f"  {key}: {value}")
    return lines
