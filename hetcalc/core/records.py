"""Frozen records: dataclasses whose methods come from one base class instead of generated source.

`@dataclass(frozen=True)` writes six methods per class as source text and compiles them at import time:
1-2.5 ms for a class of 16 fields, and the table path defines 17 such classes, which cost a third of
hetcalc's start-up over its floor (docs/performance.md). `@record` keeps the dataclass (`fields()`,
`replace()`, `asdict()`, field defaults and `__post_init__`) but generates nothing: `Record` gives
__init__, __eq__, __hash__, __repr__ and immutability, reading each class's fields once. They mean
what the dataclass's would: positional or keyword arguments in field order; equal when of the same
class and equal in every compared field; hashed over those fields; assignment raises
FrozenInstanceError.
"""

from __future__ import annotations

from dataclasses import MISSING, FrozenInstanceError, dataclass, fields

from hetcalc.core.keywords import check_keywords, check_positional

_INIT: dict[type, tuple] = {}
_COMPARED: dict[type, tuple[str, ...]] = {}
_SHOWN: dict[type, tuple[str, ...]] = {}


def _init_spec(cls) -> tuple:
    """(init fields as (name, default, factory), their positions by name, init=False fields with a default,
    __post_init__ or None), computed once per class."""
    spec = _INIT.get(cls)
    if spec is None:
        params, later = [], []
        for f in fields(cls):
            if f.init:
                params.append((f.name, f.default, f.default_factory))
            elif f.default is not MISSING or f.default_factory is not MISSING:
                later.append((f.name, f.default, f.default_factory))
        spec = _INIT[cls] = (tuple(params), {name: i for i, (name, _, _) in enumerate(params)}, tuple(later),
                             getattr(cls, "__post_init__", None))
    return spec


def _compared(cls) -> tuple[str, ...]:
    names = _COMPARED.get(cls)
    if names is None:
        names = _COMPARED[cls] = tuple(f.name for f in fields(cls) if f.compare)
    return names


class Record:
    """Base of hetcalc's frozen records (see `record`)."""

    __slots__ = ()

    def __init__(self, *args, **kwargs) -> None:
        cls = self.__class__
        params, position, later, post = _init_spec(cls)
        if len(args) > len(params):  # an OptionError, as for every public function (hetcalc.core.keywords)
            check_positional(cls.__name__, len(args), len(params))
        put = object.__setattr__
        for (name, _, _), value in zip(params, args):
            put(self, name, value)
        for name, value in kwargs.items():
            at = position.get(name)
            if at is None:
                check_keywords(cls.__name__, [name], [p[0] for p in params])
            if at < len(args):
                raise TypeError(f"{cls.__name__}() got multiple values for argument '{name}'")
            put(self, name, value)
        if len(args) + len(kwargs) < len(params):
            for name, default, factory in params[len(args):]:
                if name in kwargs:
                    continue
                if default is not MISSING:
                    put(self, name, default)
                elif factory is not MISSING:
                    put(self, name, factory())
                else:
                    raise TypeError(f"{cls.__name__}() missing required argument: '{name}'")
        for name, default, factory in later:
            put(self, name, default if default is not MISSING else factory())
        if post is not None:
            post(self)

    def __setattr__(self, name, value) -> None:
        raise FrozenInstanceError(f"cannot assign to field '{name}'")

    def __delattr__(self, name) -> None:
        raise FrozenInstanceError(f"cannot delete field '{name}'")

    def __setstate__(self, state) -> None:
        """Unpickling and copy.copy: a slotted record's state comes as (None, {slot: value})."""
        dict_state, slot_state = state if isinstance(state, tuple) else (state, None)
        for mapping in (dict_state, slot_state):
            for name, value in (mapping or {}).items():
                object.__setattr__(self, name, value)

    def __eq__(self, other):
        if other.__class__ is self.__class__:  # tuples, as a dataclass compares (so a field `is` itself)
            names = _compared(self.__class__)
            return tuple([getattr(self, n) for n in names]) == tuple([getattr(other, n) for n in names])
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple([getattr(self, n) for n in _compared(self.__class__)]))

    def __repr__(self) -> str:
        cls = self.__class__
        names = _SHOWN.get(cls)
        if names is None:
            names = _SHOWN[cls] = tuple(f.name for f in fields(cls) if f.repr)
        return f"{cls.__qualname__}(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in names) + ")"


class _Signature:
    """`inspect.signature(cls)` for a record: its fields as keyword-or-positional parameters (built when
    first asked for, since Record.__init__ itself takes *args, **kwargs)."""

    def __get__(self, obj, owner):
        import inspect

        params = []
        for name, default, factory in _init_spec(owner)[0]:
            value = default if default is not MISSING else inspect.Parameter.empty
            params.append(inspect.Parameter(name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=value))
        return inspect.Signature(params, return_annotation=None)


def record(cls=None, /, *, slots: bool = False):
    """A frozen dataclass of a subclass of Record, with no generated methods (the module docstring)."""

    def wrap(cls):
        if not issubclass(cls, Record):
            raise TypeError(f"@record class {cls.__name__} must derive from hetcalc.records.Record")
        cls = dataclass(init=False, repr=False, eq=False, slots=slots)(cls)
        cls.__signature__ = _Signature()
        return cls

    return wrap if cls is None else wrap(cls)
