"""Bounds every input shares, in a module that loads nothing (the layer rules use them on the start-up path)."""

from __future__ import annotations

MAX_VALUE = 10**30  # any integer in a spec; keeps every count exact and every ratio a finite float
