"""`hetcalc calibrate`: measure this machine and save a device profile."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import click

from hetcalc.cli.options import Integer, check_writable, check_yaml_output, write_atomic


@click.command("calibrate")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the profile to FILE [default: the config folder's local.yaml, used by --device local].")
@click.option("--name", default="local", show_default=True,
              help="The profile's name: a plain file name (no '/', no leading '.'); also the saved file's name.")
@click.option("--threads", type=Integer(1, 1024), default=None, metavar="T",
              help="PyTorch threads to measure with [default: PyTorch's default]; use the same for `hetcalc measure`.")
@click.option("--statistic", type=click.Choice(("median", "fastest")), default="median", show_default=True,
              help="Per timing: the median of interleaved rounds (as `hetcalc measure`) or the fastest round "
                   "(a quiet machine's time).")
@click.option("--no-torch", is_flag=True, help="Use numpy micro-benchmarks only, even when PyTorch is installed.")
@click.option("--wait", "wait_s", type=click.FloatRange(0, 3600), default=60, show_default=True, metavar="SECONDS",
              help="How long, in all, to wait for other processes to quiet down before timing and before "
                   "repeating a disturbed step.")
@click.option("--force", is_flag=True,
              help="Save a profile that failed the plausibility checks, marked unreliable (with the reasons).")
def calibrate(output, name, threads, statistic, no_torch, wait_s, force):
    """Measure this machine (about 40 seconds) and write a device profile for --device.

    numpy times memory copies and a matrix product; with PyTorch installed, dispatch overhead,
    bandwidth and convolutions of every kernel class are timed in torch and the time model's
    parameters are fitted to them. Every value records how it was obtained.

    Other processes' CPU use is watched while each step runs: a disturbed step waits for quiet and
    runs again. A profile that stays disturbed, or whose fitted values no quiet machine gives, is not
    saved (or, with --force, saved marked unreliable). The profile records the CPU, torch version and
    threads; `--device` and `measure` warn when the run at hand differs.

    Example:  hetcalc calibrate && hetcalc vgg16 --P 4 --device local
    """
    from hetcalc.cli.outputs import commit_now
    from hetcalc.measure.calibrate import calibrate as run, profile_yaml
    from hetcalc.timing.devices import check_device_name, load_device_text, user_profile

    check_device_name(name, "--name")
    saved_by_name = output is None
    if saved_by_name:
        output = user_profile(name)
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise click.ClickException(f"cannot create {output.parent}: {exc.strerror or exc}") from None
    check_writable(output)
    check_yaml_output(output, "a device profile")
    if not no_torch and importlib.util.find_spec("torch") is None:
        click.echo("calibrate: PyTorch is not installed: numpy micro-benchmarks only (memory, a matrix product); "
                   "convolution classes get assumed efficiencies and NHWC no factors. For a fitted profile: "
                   "pip install 'hetcalc[torch]', then hetcalc calibrate again.", err=True)
    device = run(progress=lambda text: click.echo(f"calibrate: {text}", err=True),
                 use_torch=False if no_torch else None, name=name, threads=threads,
                 statistic=statistic, wait_s=wait_s)
    reasons = device.measured.get("unreliable") or []
    if reasons and not force:
        raise click.ClickException(f"profile not saved: {'; '.join(reasons)}. Run `hetcalc calibrate` again when "
                                   f"the machine is quiet, or add --force to save it marked unreliable")
    text = profile_yaml(device)
    load_device_text(text, str(output))  # what is written must read back as a valid profile
    write_atomic(output, text)
    commit_now()  # written (or failed) before it is said to be saved
    fit = device.measured.get("conv_fit_median_error")
    fit_text = f"; convolution fit: median error {fit:.0%}" if fit is not None else ""
    spread = (device.measured.get("uncertainty") or {}).get("median_spread")
    if spread is not None:
        fit_text += f"; its {device.measured['uncertainty']['passes']} timing passes predict within {spread:.1%}"
    marked = f" MARKED UNRELIABLE ({len(reasons)} reason(s), see `hetcalc devices -v`)" if reasons else ""
    click.echo(f"saved {output}{marked} (took {device.measured.get('seconds')} s{fit_text}); "
               f"use it with --device {name if saved_by_name else output}", err=True)
