"""Module attributes loaded when first read (PEP 562): what keeps optional and heavy parts off start-up."""

from __future__ import annotations

import sys


def lazy_attributes(module: str, table: dict[str, str]):
    """A module `__getattr__` that imports `table[name]` (a module path) the first time `name` is read."""

    def __getattr__(name: str):
        if name in table:
            import importlib

            value = getattr(importlib.import_module(table[name]), name)
            setattr(sys.modules[module], name, value)
            return value
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
