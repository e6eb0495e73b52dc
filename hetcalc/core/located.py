"""Values at a place in a file: where a value sits (file:line:col) and the checks that name it in one line.

Shared by the spec parser and the device-profile loader: every message names the place and the bad value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hetcalc.core.errors import SpecError
from hetcalc.core.hints import close_matches, suggest  # noqa: F401  (re-exported: the spec and profile checks)
from hetcalc.core.limits import MAX_VALUE  # noqa: F401  (re-exported: the spec checks)
from hetcalc.core.yamlio import YMap


@dataclass(frozen=True)
class At:
    """Where a value sits: file, line, column."""

    source: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        return ":".join(str(p) for p in (self.source, self.line, self.column) if p is not None)

    def error(self, message: str) -> SpecError:
        return SpecError(message, source=self.source, line=self.line, column=self.column)


def at_mark(mark: Any, fallback: At) -> At:
    return At(fallback.source, *mark) if mark else fallback


def at_key(mapping: Any, key: Any, fallback: At) -> At:
    """Where the value of `key` sits."""
    return at_mark((getattr(mapping, "key_marks", None) or {}).get(key), fallback)


def at_name(mapping: Any, key: Any, fallback: At) -> At:
    """Where `key` itself is written."""
    marks = getattr(mapping, "name_marks", None) or getattr(mapping, "key_marks", None) or {}
    return at_mark(marks.get(key), fallback)


def at_item(seq: Any, index: int, fallback: At) -> At:
    marks = getattr(seq, "item_marks", None) or ()
    return at_mark(marks[index] if index < len(marks) else None, fallback)


def at_self(value: Any, fallback: At) -> At:
    return at_mark(getattr(value, "mark", None), fallback)


def show(value: Any) -> str:
    """A value as the spec would spell it, cut to 60 characters."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):  # never cut a number short; spell out the giant ones (Python's str() limit)
        if value.bit_length() <= 200:
            return str(value)
        sign = "a negative" if value < 0 else "an"
        return f"{sign} integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    try:
        text = repr(value)
    except (RecursionError, ValueError):
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def got(value: Any) -> str:
    """'the string 'abc'', 'the float 2.5', 'null', ... for messages."""
    if value is None or isinstance(value, int):
        return show(value) if not isinstance(value, bool) else f"the boolean {show(value)}"
    kinds = ((float, "the float"), (str, "the string"), (list, "a list"), (tuple, "a list"),
             (dict, "a mapping"))
    for kind, words in kinds:
        if isinstance(value, kind):
            return f"{words} {show(value)}"
    return f"a value of type {type(value).__name__}, {show(value)}"


def positive_int(value: Any, what: str, at: At, minimum: int = 1) -> int:
    """An exact integer in [minimum, MAX_VALUE]; booleans, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        hint = ""
        if isinstance(value, float) and value.is_integer() and abs(value) <= MAX_VALUE:
            hint = f" (write {int(value)}, without the fraction)"
        elif isinstance(value, str) and value.strip().lstrip("+-").isdecimal():
            hint = " (remove the quotes)"
        raise at.error(f"{what} must be an integer, got {got(value)}{hint}")
    if value < minimum:
        bound = "positive" if minimum == 1 else f">= {minimum}"
        raise at.error(f"{what} must be {bound}, got {show(value)}")
    if value > MAX_VALUE:
        raise at.error(f"{what} must be at most 10**30, got {show(value)} (hetcalc's bound on any spec integer: "
                       "counts stay exact and ratios finite)")
    return value


def pair(value: Any, what: str, at: At, minimum: int = 1) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        if len(value) != 2:
            raise at.error(f"{what} must be an integer or a pair [height, width], got {got(value)}")
        return (positive_int(value[0], what, at, minimum), positive_int(value[1], what, at, minimum))
    n = positive_int(value, what, at, minimum)
    return (n, n)


def boolean(value: Any, what: str, at: At) -> bool:
    if not isinstance(value, bool):
        raise at.error(f"{what} must be true or false, got {got(value)}")
    return value


def name_value(value: Any, what: str, at: At) -> str:
    if not isinstance(value, str) or not value.strip():
        hint = " (quote it: YAML reads yes/no/on/off as booleans)" if isinstance(value, bool) else ""
        raise at.error(f"{what} must be a non-empty string, got {got(value)}{hint}")
    no_surrogate(value, what, at)
    return value.strip()


def no_surrogate(value: str, what: str, at: At) -> None:
    """Refuse a lone surrogate ("\\udcff" in YAML): not a character, and no UTF-8 file could hold it."""
    surrogate = next((ch for ch in value if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if surrogate is not None:
        raise at.error(f"{what} holds a lone surrogate \\u{ord(surrogate):04x}, which is not a character; "
                       "text in a spec must be valid Unicode")


def choice(value: Any, what: str, at: At, choices: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in choices:
        close = suggest(value, choices)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"{what} must be one of {', '.join(choices)}, got {got(value)}{hint}")
    return value


def check_keys(mapping: dict, allowed: tuple[str, ...], where: str, at: At, fail=None) -> None:
    """Refuse a key not in `allowed`, with the close spelling it was probably meant to be. `fail(at, message)`
    builds the error (default: a SpecError at that place)."""
    for key in mapping:
        if key not in allowed:
            close = suggest(key, allowed)
            hint = f"did you mean '{close}'?" if close else f"allowed: {', '.join(allowed)}"
            place, message = at_name(mapping, key, at), f"unknown key {show(key)} in {where} ({hint})"
            raise fail(place, message) if fail else place.error(message)


def marked(args: dict, at: At) -> YMap:
    """`args` with every key located at `at` (for shorthand like `conv: 64` and for plain dicts)."""
    out = YMap(args)
    out.key_marks = dict(getattr(args, "key_marks", None) or {})
    out.name_marks = dict(getattr(args, "name_marks", None) or {})
    if at.line is not None:
        for key in args:
            out.key_marks.setdefault(key, (at.line, at.column))
            out.name_marks.setdefault(key, (at.line, at.column))
    out.mark = getattr(args, "mark", None) or ((at.line, at.column) if at.line is not None else None)
    return out
