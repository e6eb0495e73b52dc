"""Per-stage views: a report's layers aggregated per stage or block (`hetcalc ARCH --by stage`).

A layer's stage is the part of its name before the first dot (`stage2.3.conv1` -> `stage2`, as the spec
names repeated blocks). Consecutive layers without a dot form a block while their input resolution stays the
same (`conv1..pool1`: VGG's blocks end at a pooling layer, MobileNet's at a stride); a fully connected layer
is its own block.
"""

from __future__ import annotations



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
