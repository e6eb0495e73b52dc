"""`analyze()`: a network and options in, a typed `Report` of per-layer and total costs out."""

from __future__ import annotations

import gc
from typing import Any, Iterable

from hetcalc.analysis.count import Counter
from hetcalc.analysis.options import make_convention, option_keywords, parse_variants, resolve_parts, \
    split_part_options
from hetcalc.analysis.replace import plan
from hetcalc.analysis.stages import parse_by
from hetcalc.analysis.results import Report
from hetcalc.convtypes import CONV_TYPES
from hetcalc.convtypes.parts import check_part
from hetcalc.core.errors import OptionError
from hetcalc.core.keywords import checked_keywords
from hetcalc.counting.convention import Convention
from hetcalc.network.sources import resolve


@checked_keywords(option_keywords)
def analyze(arch: Any, P: Any = 4, G: Any = None, variants: Iterable[str] | str | None = None,
            convention: Convention | str | None = None, se: int | None = None, by: str = "layer", *,
            P_at: Any = None, input_shape: Any = None, strict: bool = False, device: Any = None,
            dtype: str | None = None, batch: int | None = None, hetconv_impl: str = "split",
            traffic: bool | None = None, mode: str = "eager", layout: str = "nchw",
            **convention_options: Any) -> Report:
    """Cost every variant of `arch`: a built-in name, a YAML or .onnx path, a spec dict, a Network, or a
    torch module (with `input_shape`, e.g. (3, 224, 224)).

    P: HetConv part, an integer, "M" (each layer's input depth, the paper's PC) or "N" (its output depth).
    P_at: per-layer parts, {"pattern": P} or "pattern=P" items (shell-style patterns on layer names;
    P "off" keeps a layer standard), applied after the network's own `P:` / `replace:` (see overrides.py).
    strict: an ONNX op or torch layer hetcalc cannot count is an error instead of a warning.
    G: GWC+PWC groups; defaults to P. A registered convolution type with a part option of its own takes it as
    a keyword too (S=2). se: add Squeeze-and-Excitation with this reduction ratio after every
    convolution outside residual blocks and once per residual block. Other keyword options build a
    `Convention`. by: "layer" (one row per layer), "stage" (one per stage or block, `Report.by_stage`) or
    "depth:N" (one per name prefix of N dot-separated parts, `Report.by_depth`).

    device: a built-in name, a saved profile's name, a profile path or a `Device`: adds predicted time
    (docs/time-model.md). dtype ("fp32", "fp16", "bf16", "int8"; default fp32) and batch (default 1) set
    the memory traffic; traffic (bytes, intensity) is computed with a device, a dtype or a batch, or
    traffic=True. hetconv_impl: how HetConv runs ("fused", "split" or "masked"). mode: "eager" (every
    operation its own kernel) or "compiled" (BatchNorm folded, activations and residual adds fused into the
    convolution before them, as torch.compile and TensorRT run; turns traffic on). layout: "nchw" or "nhwc"
    (channels-last: the profile's channels-last rates, copies where a map is flattened; turns traffic on).
    """
    by = parse_by(by)
    timed = (device is not None or dtype is not None or batch is not None or bool(traffic)
             or str(mode).strip().lower() != "eager" or str(layout).strip().lower() != "nchw")
    if timed:
        from hetcalc.analysis.timed import check_timing

        device, dtype, batch, hetconv_impl, mode, layout = check_timing(device, dtype, batch, hetconv_impl, mode,
                                                                        layout)
    parts, convention_options = split_part_options(convention_options)
    enabled = gc.isenabled()
    gc.disable()  # it builds many small acyclic objects: collector passes over the growing heap are superlinear
    try:
        report = count(arch, {"P": P, "G": G, **parts}, variants, convention, se, convention_options, P_at,
                       input_shape, strict)
        if timed:
            from hetcalc.analysis.timed import attach

            report = attach(report, device, dtype, batch, hetconv_impl, mode, layout)
        return report.grouped(by)
    finally:
        if enabled:
            gc.enable()


def count(arch, given_parts: dict, variants, convention, se, convention_options, P_at=None, input_shape=None,
          strict=False) -> Report:
    """The untimed analysis: resolve the network and the options, then count every chosen variant."""
    network = resolve(arch, input_shape=input_shape, strict=strict)
    if P_at:
        from hetcalc.analysis.overrides import apply_parts

        network = apply_parts(network, P_at)
    convention = make_convention(convention, convention_options)
    keys = parse_variants(variants)
    parts = resolve_parts(keys, given_parts)
    if se is not None and (isinstance(se, bool) or not isinstance(se, int) or se < 1):
        raise OptionError(f"SE reduction ratio must be a positive integer, got {se!r}")
    replacement = plan(network, convention)
    for key in keys:  # a part must divide every replaced layer's M (ratio accounting needs no divisor)
        ctype = CONV_TYPES[key]
        if ctype.part and not (ctype.exact_ratio is not None and convention.hetconv == "ratio"):
            check_part(network, replacement.replaced, parts[key].value, ctype.part, ctype.label, own=parts[key].own)
    counter = Counter(network, convention, replacement, se)
    own_parts = any(c.P is not None for c in replacement.replaced)  # some replaced layers have their own P
    results = [counter.variant_result(key, parts[key], own_parts and parts[key].own)
               for key in ("standard", *[k for k in keys if k != "standard"])]
    chosen = tuple(r for r in results if r.variant in keys)
    return Report(architecture=network.name, title=network.title, source=network.source, input=network.input,
                  convention=convention, variants=chosen, network=network, se=se, baseline=results[0])
