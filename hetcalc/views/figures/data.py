"""The numbers a figure shows, as a record that writes itself as CSV (`hetcalc plot ... --data`)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from hetcalc.core.formatting import csv_value


@dataclass(frozen=True)
class PlotData:
    """The numbers a figure shows, as CSV columns and rows (counts exact integers, ratios floats)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def column(self, name: str) -> list:
        i = self.columns.index(name)
        return [row[i] for row in self.rows]

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows([csv_value(v) for v in row] for row in self.rows)
        return buf.getvalue()
