"""`hetcalc devices`: the device profiles the time model knows."""

from __future__ import annotations

import click

from hetcalc.cli.options import emit_document, wide_option


@click.command("devices")
@click.option("--verbose", "-v", is_flag=True, help="Show every value with its source.")
@wide_option
def devices(verbose, wide):
    """List the device profiles for --device: built-ins and those saved by `hetcalc calibrate`.

    Built-ins come from public spec sheets; the RTX GPUs' efficiencies come from timm's published
    benchmarks and are checked against them (docs/gpu-validation.md).

    Example:  hetcalc devices
    """
    from hetcalc.timing.devices import all_devices, config_dir
    from hetcalc.views.device_views import devices_document

    emit_document(None, "table", devices_document(all_devices(), config_dir(), verbose), wide=wide)
