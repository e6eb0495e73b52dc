"""Frozen records: dataclasses that take equality, hashing and repr from one base class.

`@dataclass(frozen=True)` writes six methods per class as source text and compiles them at import time:
2.5 ms for a class of 16 fields, and the table path defines 17 such classes, which alone cost a third of
hetcalc's start-up over its floor (docs/performance.md). `@record` keeps the dataclass (its __init__,
immutability, `fields()`, `replace()`, `asdict()`) and lets it write only __init__ and the frozen
setters; `Record` gives __eq__, __hash__ and __repr__ over the same fields, with the same meaning:
equal when of the same class and equal in every compared field.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

_COMPARED: dict[type, object] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _values(cls):
    """A function from an instance to the tuple of its compared fields (dataclass `compare=True`)."""
    getter = _COMPARED.get(cls)
    if getter is None:
        names = tuple(f.name for f in fields(cls) if f.compare)

        def getter(obj, names=names):
            return tuple([getattr(obj, name) for name in names])

        _COMPARED[cls] = getter
    return getter


class Record:
    """Base of hetcalc's frozen records (see `record`)."""

    __slots__ = ()

    def __eq__(self, other):
        if other.__class__ is self.__class__:
            values = _values(self.__class__)
            return values(self) == values(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(_values(self.__class__)(self))

    def __repr__(self) -> str:
        cls = self.__class__
        names = _SHOWN.get(cls)
        if names is None:
            names = _SHOWN[cls] = tuple(f.name for f in fields(cls) if f.repr)
        return f"{cls.__qualname__}(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in names) + ")"


def record(cls=None, /, *, slots: bool = False):
    """`@dataclass(frozen=True)` for a subclass of Record, without generating eq, hash and repr."""

    def wrap(cls):
        if not issubclass(cls, Record):
            raise TypeError(f"@record class {cls.__name__} must derive from hetcalc.records.Record")
        return dataclass(frozen=True, eq=False, repr=False, slots=slots)(cls)

    return wrap if cls is None else wrap(cls)
