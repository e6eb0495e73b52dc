"""One check of the keywords a public function is called with: an unknown one is an `OptionError` naming it
(with "did you mean"), never Python's TypeError, as docs/api.md promises."""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable, Iterable

from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean


class KeywordError(OptionError, TypeError):
    """An unknown keyword or too many positional arguments: an OptionError, and a TypeError as Python's own
    (so code that catches Python's error, and records that mean what dataclasses mean, still see one)."""


def check_keywords(function: str, given: Iterable[str], known: Iterable[str]) -> None:
    """Raise KeywordError for the first name in `given` that is not in `known`."""
    known = list(known)
    for name in given:
        if name not in known:
            hint = did_you_mean(name, known) or f" (known: {', '.join(known)})"
            raise KeywordError(f"{function}() got an unknown keyword {name!r}{hint}")


def check_positional(function: str, count: int, most: int) -> None:
    """Raise KeywordError when more than `most` positional arguments are given."""
    if count > most:
        raise KeywordError(f"{function}() takes at most {most} positional arguments, got {count}")


def parameter_names(func: Callable) -> tuple[tuple[str, ...], int]:
    """The names `func` takes as keywords, and how many it takes by position (read from its code object)."""
    code = func.__code__
    positional = code.co_argcount
    return code.co_varnames[:positional + code.co_kwonlyargcount], positional


def checked_keywords(more: Callable[[], Iterable[str]] | None = None):
    """Decorate a public function so that an unknown keyword or a surplus positional argument raises
    OptionError. `more()` names the keywords a `**options` parameter accepts (read only on a miss)."""

    def decorate(func: Callable) -> Callable:
        names, positional = parameter_names(func)
        known = frozenset(names)

        @wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if len(args) > positional:
                check_positional(func.__name__, len(args), positional)
            if not known.issuperset(kwargs):
                check_keywords(func.__name__, [k for k in kwargs if k not in known], (*names, *(more() if more else ())))
            return func(*args, **kwargs)

        return wrapper

    return decorate
