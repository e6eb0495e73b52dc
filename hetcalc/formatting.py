"""Number formatting for tables: K/M/G units, percentages, ratios. Exports keep exact integers."""

from __future__ import annotations

_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def si(value: int, digits: int = 2) -> str:
    """313463808 -> '313.46M' (decimal units, as papers print FLOPs and parameters)."""
    sign = "-" if value < 0 else ""
    value = abs(value)
    for scale, unit in _UNITS:
        if value >= scale:
            return f"{sign}{value / scale:.{digits}f}{unit}"
    return f"{sign}{value}"


def percent(value: float) -> str:
    return f"{value:.2f}%"


def ratio(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def speedup(value: float) -> str:
    return f"{value:.2f}x"


def shape(values) -> str:
    return "x".join(str(v) for v in values)


def csv_value(value):
    """A CSV cell: None empty; a float at 15 significant digits (0.9, not 0.8999999999999999); else as is."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(float(format(value, ".15g")))
    return value
