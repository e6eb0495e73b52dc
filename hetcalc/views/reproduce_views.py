"""How `hetcalc reproduce` is shown: one grid per paper table and a verdict (a Document), JSON and CSV."""

from __future__ import annotations

import io

from hetcalc.views.document import Document
from hetcalc.views.grid import Column, Grid


def checks_grids(checks) -> list[Grid]:
    """`hetcalc reproduce`: one grid per paper table, its convention in the title. A figure that does not
    reproduce points to a numbered reason under its table ("[1]"): several figures often share one."""
    from hetcalc.analysis.reproduce import SETUPS

    grids: dict[str, Grid] = {}
    reasons: dict[str, dict[str, int]] = {}  # per table: reason -> its number
    for c in checks:
        if c.table not in grids:
            setup = SETUPS[c.table]
            label = f"Section {c.table}" if "." in c.table else f"Table {c.table}"
            grids[c.table] = Grid(
                title=f"{label}: {setup.title} [{setup.architecture}]",
                caption=f"The paper's {label}: {setup.title} [{setup.architecture}]",
                columns=[Column("row", "left"), Column("quantity", "left"), Column("paper"), Column("hetcalc"),
                         Column("computed", drop=1), Column("match", "left"),
                         Column("reason", "left", drop=2)],
                notes=[f"convention: {setup.note}"])
            reasons[c.table] = {}
        exact = f"{c.computed:,}" if isinstance(c.computed, int) else f"{c.computed:.4f}"
        mark = ""
        if c.reason:
            numbers = reasons[c.table]
            if c.reason not in numbers:
                numbers[c.reason] = len(numbers) + 1
                grids[c.table].notes.append(f"[{numbers[c.reason]}] {c.reason}")
            mark = f"[{numbers[c.reason]}]"
        grids[c.table].rows.append([c.row, c.quantity, c.reported, c.shown, exact, "yes" if c.match else "NO", mark])
    return list(grids.values())


def checks_summary(checks) -> str:
    matched, total = sum(c.match for c in checks), len(checks)
    missed = total - matched
    return (f"{matched} of {total} printed figure{'' if total == 1 else 's'} "
            f"reproduce{'s' if matched == 1 else ''} at the paper's precision "
            f"(truncated or rounded); {missed} {'does' if missed == 1 else 'do'} not. Percentages beside printed totals "
            "are taken from totals at two decimals of the printed unit, as the paper computed them.")


def checks_document(checks) -> Document:
    """The grids, then how many figures matched."""
    return Document(grids=checks_grids(checks), footer=[checks_summary(checks)])


def checks_json(checks) -> str:
    """`hetcalc reproduce --format json`: a list of the checks' dicts."""
    import json

    return json.dumps([c.to_dict() for c in checks], indent=2) + "\n"


def checks_csv(checks) -> str:
    """`hetcalc reproduce --format csv`: one row per printed figure."""
    import csv
    import dataclasses

    from hetcalc.analysis.reproduce import Check

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[f.name for f in dataclasses.fields(Check)], lineterminator="\n")
    writer.writeheader()
    writer.writerows(c.to_dict() for c in checks)
    return buf.getvalue()
