"""Per-stage views: a report's layers aggregated per stage or block (`hetcalc ARCH --by stage`).

A layer's stage is the part of its name before the first dot (`stage2.3.conv1` -> `stage2`, as the spec
names repeated blocks). Consecutive layers without a dot form a block while their input resolution stays the
same (`conv1..pool1`: VGG's blocks end at a pooling layer, MobileNet's at a stride); a fully connected layer
is its own block.
"""

from __future__ import annotations

from dataclasses import replace

from hetcalc.network.graph import path_depth
from hetcalc.analysis.report import LayerResult, Report, VariantResult


def stage_of(names: list[str], kinds: list[str], in_sizes: list) -> list[str]:
    """The stage name of each layer (see the module docstring); `in_sizes`: each layer's input H x W."""
    stages: list[str] = [""] * len(names)
    run: list[int] = []  # undotted layers waiting for the pooling layer that closes their block

    def close() -> None:
        label = names[run[0]] if len(run) == 1 else f"{names[run[0]]}..{names[run[-1]]}"
        for j in run:
            stages[j] = label
        run.clear()

    for i, (name, kind) in enumerate(zip(names, kinds)):
        if run and "." not in name and kind != "fc" and in_sizes[i] != in_sizes[run[-1]]:
            close()
        if "." in name:
            if run:
                close()
            stages[i] = name.split(".", 1)[0]
        elif kind == "fc":
            if run:
                close()
            stages[i] = name
        else:
            run.append(i)
    if run:
        close()
    return stages


def _aggregate(name: str, rows: list[LayerResult], std_rows: list[LayerResult], depth: int) -> LayerResult:
    flops = sum(r.flops for r in rows)
    std_flops = sum(r.flops for r in std_rows)
    replaced = any(r.replaced for r in rows)
    closed = {r.closed_form for r in rows if r.replaced}
    tags = list(dict.fromkeys(r.realization for r in rows if r.kind in ("conv", "fc") or r.flops))
    return LayerResult(
        name=name, kind="stage", M=rows[0].M, N=rows[-1].N, K=None, stride=None, out=rows[-1].out,
        replaced=replaced, realization=", ".join(tags), flops=flops, params=sum(r.params for r in rows),
        macs=sum(r.macs for r in rows), depth=depth,
        ratio=(flops / std_flops) if (replaced and std_flops) else None,
        closed_form=closed.pop() if len(closed) == 1 else None, count=len(rows), **_time(rows))


def _time(rows: list[LayerResult]) -> dict:
    """Traffic and predicted time of a stage, when the report has them: bytes and time summed, intensity
    from the sums (2 FLOPs per MAC, as docs/time-model.md counts), the bound of its slowest layer."""
    if any(r.bytes is None for r in rows):
        return {}
    data = {"bytes": sum(r.bytes for r in rows)}
    data["intensity"] = 2 * sum(r.macs for r in rows) / data["bytes"] if data["bytes"] else None
    if all(r.time_s is not None for r in rows):
        data["time_s"] = sum(r.time_s for r in rows)
        data["bound"] = max(rows, key=lambda r: r.time_s).bound
    return data


def stage_report(report: Report) -> Report:
    """`report` with one row per stage: FLOPs, parameters and MACs summed, latency depth the stage's share
    of the longest path; totals unchanged."""
    if report.by == "stage":
        return report
    base = report.baseline or report.standard
    layers = list(base.layers)
    names = [r.name for r in layers]
    in_sizes = [tuple(report.input[1:]), *[r.out for r in layers[:-1]]]
    stages = stage_of(names, [r.kind for r in layers], in_sizes)
    order = list(dict.fromkeys(stages))
    members = {s: [i for i, t in enumerate(stages) if t == s] for s in order}
    network = report.network

    base_layers = list(base.layers)  # built once: a report's layers may be built on access (LayerRows)

    def view(v: VariantResult) -> VariantResult:
        layers = base_layers if v is base else list(v.layers)
        rows = []
        for s in order:
            inside = set(members[s])
            depth = path_depth(network, lambda i: layers[i].depth if i in inside else 0)
            rows.append(_aggregate(s, [layers[i] for i in members[s]], [base_layers[i] for i in members[s]],
                                   depth))
        return replace(v, layers=tuple(rows))

    return replace(report, variants=tuple(view(v) for v in report.variants),
                   baseline=view(base) if report.baseline is not None else None, by="stage")
