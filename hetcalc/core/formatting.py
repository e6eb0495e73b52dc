"""Number formatting for tables: K/M/G units, percentages, ratios. Exports keep exact integers."""

from __future__ import annotations

from fractions import Fraction

_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def si(value: int, digits: int = 2) -> str:
    """313463808 -> '313.46M' (decimal units, as papers print FLOPs and parameters).

    Integer arithmetic, rounding half to even: exact however large the count (a float would
    print 73728000000000016.00T for 73728000000000010000000000000).
    """
    if isinstance(value, float):
        return _si_float(value, digits)
    value = int(value)
    sign = "-" if value < 0 else ""
    value = abs(value)
    for scale, unit in _UNITS:
        if value >= scale:
            return f"{sign}{_fixed(value, scale, digits)}{unit}"
    return f"{sign}{value}"


def _fixed(numerator: int, denominator: int, digits: int) -> str:
    """numerator / denominator with `digits` decimals, exactly (round half to even)."""
    unit = 10**digits
    q, r = divmod(numerator * unit, denominator)
    if 2 * r > denominator or (2 * r == denominator and q % 2):
        q += 1
    whole, frac = divmod(q, unit)
    return f"{whole}.{frac:0{digits}d}" if digits else str(whole)


def _si_float(value: float, digits: int) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    for scale, unit in _UNITS:
        if value >= scale:
            return f"{sign}{value / scale:.{digits}f}{unit}"
    return f"{sign}{value:g}"


def printable(text: str) -> str:
    """A name as a table shows it: control characters and lone surrogates escaped, so columns stay aligned."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if ch.isprintable() or ch == " ":
            out.append(ch)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        elif code < 0x10000:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return "".join(out)


def percent(value: float) -> str:
    return f"{value:.2f}%"


def ratio(value, digits: int = 4) -> str:
    """A ratio at `digits` decimals, rounded half to even from its exact value: a Fraction (or an int pair's
    quotient) rounds exactly, so two equal ratios print equal however they were computed."""
    if value is None:
        return ""
    exact = value if isinstance(value, Fraction) else Fraction(value)
    sign = "-" if exact < 0 else ""
    return sign + _fixed(abs(exact.numerator), exact.denominator, digits)


def speedup(value: float) -> str:
    return f"{value:.2f}x"


def three_digits(value: float) -> str | None:
    """`value` (0 <= value < 1000) with three significant digits, trailing zeros kept: 4.28, 42.5, 656, 1.00;
    None when it rounds to 1000 (the caller moves to the next unit)."""
    digits = 2 if value < 9.995 else 1 if value < 99.95 else 0
    text = f"{value:.{digits}f}"
    return None if float(text) >= 1000 else text


def seconds(value: float) -> str:
    """Seconds in s, ms or us with three significant digits: 0.00428 -> '4.28 ms', 0.0425 -> '42.5 ms',
    0.000656 -> '656 us'."""
    for scale, unit in ((1e-6, "us"), (1e-3, "ms")):
        if value < 1000 * scale:
            text = three_digits(value / scale)
            if text is not None:
                return f"{text} {unit}"
    return f"{value:.2f} s" if value < 99.995 else f"{value:.0f} s"


def size(value: int) -> str:
    """Bytes in decimal units with three significant digits: 66903376 -> '66.9 MB', 33000000 -> '33.0 MB',
    524288 -> '524 KB'; under 1 KB exact ('512 B')."""
    if value < 1000:
        return f"{value} B"
    for scale, unit in ((10**3, "KB"), (10**6, "MB"), (10**9, "GB"), (10**12, "TB"), (10**15, "PB")):
        if value < 1000 * scale:
            text = three_digits(value / scale)
            if text is not None:
                return f"{text} {unit}"
    return f"{value / 10**18:.3g} EB"


def shape(values) -> str:
    return "x".join(str(v) for v in values)


def csv_value(value):
    """A CSV cell: None empty; a float at 15 significant digits (0.9, not 0.8999999999999999); bytes (a name
    that was not UTF-8) as text with the bad bytes escaped (c\\xffnv, never b'c\\xffnv'); else as is."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "backslashreplace")
    if isinstance(value, Fraction):
        value = float(value)
    if isinstance(value, float):
        return repr(float(format(value, ".15g")))
    return value
