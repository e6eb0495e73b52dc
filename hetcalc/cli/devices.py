"""`hetcalc devices`: the device profiles the time model knows."""

from __future__ import annotations

import click

from hetcalc.cli.options import show


@click.command("devices")
@click.option("--verbose", "-v", is_flag=True, help="Show every value with its source.")
def devices(verbose):
    """List the device profiles for --device: built-ins and those saved by `hetcalc calibrate`.

    Built-ins come from public spec sheets and are not validated by measurement here.

    Example:  hetcalc devices
    """
    from hetcalc.timing.devices import all_devices, config_dir
    from hetcalc.views.tables import Column, Grid, document_renderables
    from hetcalc.views.time_views import size

    grid = Grid(title="Device profiles", columns=[
        Column("name", "left"), Column("device", "left", shrink=True), Column("fp32 peak", short="peak"),
        Column("bandwidth", short="bw"), Column("overhead", drop=1), Column("validated", "left")])
    details = []
    for device, where, error in all_devices():
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
                          "yes" if device.validated else ("calibrated" if device.measured else "no")])
        if verbose:
            details.append(f"{device.name} ({device.where}):")
            data = device.to_dict()
            for key, value in data.items():
                if key in ("name", "measured"):
                    continue
                if isinstance(value, dict) and "value" in value:
                    details.append(f"  {key}: {value['value']:g}  ({value['source']})")
                elif isinstance(value, dict):
                    for sub, entry in value.items():
                        if isinstance(entry, dict) and "value" in entry:
                            details.append(f"  {key}.{sub}: {entry['value']:g}  ({entry['source']})")
                else:
                    details.append(f"  {key}: {value}")
    grid.notes = ["validated: no = spec-sheet figures and estimates, not measured here; calibrated = measured "
                  "on this machine by `hetcalc calibrate` (single-kernel timings and one small network). Use a name or a "
                  f"profile path with --device; saved profiles live in {config_dir()}. Schema: "
                  "docs/time-model.md; every value's source: hetcalc devices -v."]

    def renderables(ascii_only):
        from rich.text import Text

        return [*document_renderables([], [grid], ascii_only), *[Text(line) for line in details]]

    show(renderables)
