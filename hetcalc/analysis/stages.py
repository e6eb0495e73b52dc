"""Per-stage views: a report's layers aggregated per stage or block (`hetcalc ARCH --by stage`).

A layer's stage is the part of its name before the first dot (`stage2.3.conv1` -> `stage2`, as the spec
names repeated blocks). Consecutive layers without a dot form a block while their input resolution stays the
same (`conv1..pool1`: VGG's blocks end at a pooling layer, MobileNet's at a stride); a fully connected layer
is its own block. A name an exporter scoped by module path (`/layer1/layer1.0/conv1/Conv`, ONNX) is staged by
its top module (`layer1`), or, where one top module holds more than half the layers (a trunk such as
ConvNeXt's `features` or timm's `blocks`), by that module's children (`features.1`).

At `depth:N` (torchinfo's depth; `hetcalc ARCH --depth N`), a layer's group is the first N dot-separated parts of
its name, at any level of the hierarchy: `stage2.3.conv1` is in `stage2` at depth 1, `stage2.3` at depth 2 and
is its own row at depth 3; a name with N parts or fewer is its own row.
"""

from __future__ import annotations

from collections import Counter

from hetcalc.core.errors import OptionError


def scoped_stages(names: list[str]) -> dict[int, str]:
    """The stage of each module-scoped name (`/a/a.1/.../Op`), by index; see the module docstring."""
    paths = {i: name.strip("/").split("/")[:-1] for i, name in enumerate(names) if name.startswith("/")}
    paths = {i: path for i, path in paths.items() if path}
    tops = Counter(path[0] for path in paths.values())
    return {i: path[1] if len(path) > 1 and 2 * tops[path[0]] > len(names) else path[0]
            for i, path in paths.items()}


def parse_by(by: object) -> str:
    """`by` checked: "layer", "stage" or "depth:N" (N a positive integer), as analyze() and the views take it."""
    if by in ("layer", "stage"):
        return by
    if isinstance(by, str) and by.startswith("depth:") and by[6:].isdigit() and int(by[6:]) >= 1:
        return f"depth:{int(by[6:])}"
    raise OptionError(f"by must be 'layer', 'stage' or 'depth:N' (N a positive integer), got {by!r}")


def depth_of(names: list[str], depth: int) -> list[str]:
    """The group of each layer at `depth`: the first `depth` dot-separated parts of its name."""
    return [".".join(name.split(".")[:depth]) for name in names]


def stage_of(names: list[str], kinds: list[str], in_sizes: list) -> list[str]:
    """The stage name of each layer (see the module docstring); `in_sizes`: each layer's input H x W."""
    stages: list[str] = [""] * len(names)
    run: list[int] = []  # undotted layers waiting for the pooling layer that closes their block
    scoped = scoped_stages(names)

    def close() -> None:
        label = names[run[0]] if len(run) == 1 else f"{names[run[0]]}..{names[run[-1]]}"
        for j in run:
            stages[j] = label
        run.clear()

    for i, (name, kind) in enumerate(zip(names, kinds)):
        if run and i not in scoped and "." not in name and kind != "fc" and in_sizes[i] != in_sizes[run[-1]]:
            close()
        if i in scoped or "." in name:
            if run:
                close()
            stages[i] = scoped[i] if i in scoped else name.split(".", 1)[0]
        elif kind == "fc":
            if run:
                close()
            stages[i] = name
        else:
            run.append(i)
    if run:
        close()
    return stages
