"""`hetcalc measure`: time each variant as a PyTorch module on this machine, beside the prediction."""

from __future__ import annotations

import sys
from functools import partial

import click

from hetcalc.cli.options import (Integer, check_writable, emit_document, format_option, is_terminal, layout_option,
                                 output_option, part_options, variants_option, wide_option)


@click.command("measure")
@click.argument("arch", metavar="ARCH")
@part_options("timed", extra=False)
@variants_option(" (standard is always timed: speedups are against it)")
@click.option("--batch", type=int, default=1, show_default=True, help="Batch size of each forward pass.")
@click.option("--threads", type=Integer(1, 1024), default=None, metavar="T",
              help="torch.set_num_threads for the run [default: PyTorch's, one per core].")
@click.option("--rounds", type=int, default=10, show_default=True,
              help="Timed rounds; each times every variant once, in a rotating order.")
@click.option("--warmup", type=int, default=2, show_default=True,
              help="Untimed forward passes of each variant before the rounds.")
@click.option("--device", default=None, metavar="NAME|PROFILE.yaml",
              help="Device profile whose predicted times are shown beside the measured ones [default: "
                   "'local', this machine's, when `hetcalc calibrate` has saved it; none: no prediction].")
@click.option("--hetconv-impl", "hetconv_impl", type=click.Choice(("split", "masked", "fused")), default="split",
              show_default=True,
              help="How HetConv is built: split (grouped K x K + grouped 1 x 1), masked (dense, masked "
                   "weights) or fused (timed as masked: PyTorch has no fused kernel).")
@click.option("--mode", default="eager", show_default=True, type=click.Choice(("eager", "compiled"),
                                                                             case_sensitive=False),
              help="Only eager applies: the modules run eagerly (predict compiled time with `hetcalc ARCH "
                   "--device NAME --mode compiled`).")
@layout_option
@wide_option
@format_option()
@output_option
def measure(arch, P, G, variants, batch, threads, rounds, warmup, device, hetconv_impl, mode, layout, wide, fmt,
            output):
    """Time the variants as PyTorch modules, beside the prediction.

    Needs the torch extra: pip install 'hetcalc[torch]'. Builds each variant (hetcalc.build_module), runs forward passes under torch.inference_mode on the CPU
    after a warm-up, in rounds interleaved across the variants, and prints each variant's median time, its
    spread, the measured speedup against standard beside the FLOPs speedup and, with a device profile,
    the predicted time and its error. Timings are noisy on a busy machine: compare variants from one run.

    Example:  hetcalc measure resnet56 --P 2,4 --batch 8 --threads 1
    """
    from hetcalc.core.optional import require_torch

    require_torch("hetcalc measure")
    from hetcalc.measure.runs import local_profile, measure as run_measure
    from hetcalc.views.measure_views import measurement_csv, measurement_document, measurement_json

    check_writable(output, inputs=(arch,))
    if device is None:
        device = local_profile()
    elif device.strip().lower() == "none":
        device = None
    try:
        result = run_measure(arch, P=P, G=G, variants=variants, batch=batch, threads=threads, rounds=rounds,
                             warmup=warmup, hetconv_impl=hetconv_impl, device=device, progress=_progress(),
                             mode=mode, layout=layout)
    finally:
        _progress_done()
    emit_document(output, fmt, partial(measurement_document, result), wide=wide,
                  json=partial(measurement_json, result), csv=partial(measurement_csv, result))


def _progress():
    """A status line on a terminal's standard error, rewritten in place; nothing when piped."""
    if not is_terminal(sys.stderr):
        return None

    def show(text: str) -> None:
        sys.stderr.write(f"\r\x1b[Kmeasuring: {text}")
        sys.stderr.flush()

    return show


def _progress_done() -> None:
    if is_terminal(sys.stderr):
        sys.stderr.write("\r\x1b[K")
        sys.stderr.flush()
