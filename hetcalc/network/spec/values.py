"""The spec's own value checks (activations, paddings, HetConv parts, shapes), on top of core.located's."""

from __future__ import annotations

from typing import Any

from hetcalc.core.located import At, got, pair, positive_int, suggest
from hetcalc.network.graph import ACTIVATIONS, Shape
from hetcalc.network.spec.schema import ACTIVATION_NAMES


def activation(value: Any, what: str, at: At) -> str | None:
    """An activation name, or None for none (also null and false)."""
    if value is None or value is False or value == "none":
        return None
    if not isinstance(value, str) or value not in ACTIVATIONS:
        close = ACTIVATION_NAMES.get(value.lower()) if isinstance(value, str) else None
        close = close or suggest(value, ACTIVATIONS)
        hint = f" (did you mean '{close}'?)" if close else ""
        raise at.error(f"{what} must be one of {', '.join(ACTIVATIONS)} or none, got {got(value)}{hint}")
    return value


def pads(value: Any, what: str, at: At) -> tuple[int, int, int, int]:
    """Padding as (top, left, bottom, right), from an integer, [height, width], or [top, left, bottom, right]."""
    if isinstance(value, (list, tuple)) and len(value) == 4:
        t, l, b, r = (positive_int(v, what, at, 0) for v in value)
        return t, l, b, r
    if isinstance(value, (list, tuple)) and len(value) != 2:
        raise at.error(f"{what} must be an integer, [height, width] or [top, left, bottom, right], got "
                       f"{got(value)}")
    h, w = pair(value, what, at, 0)
    return h, w, h, w


def part_value(value: Any, what: str, at: At) -> int | str:
    """HetConv's part P: a positive integer, or M / N (any case)."""
    if isinstance(value, str) and value.strip().upper() in ("M", "N"):
        return value.strip().upper()
    if isinstance(value, str):
        raise at.error(f"{what} must be a positive integer, M or N, got {got(value)}")
    return positive_int(value, what, at)


def shape3(value: Any, what: str, at: At) -> Shape:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise at.error(f"{what} must be [channels, height, width], got {got(value)}")
    return tuple(positive_int(v, what, at) for v in value)  # type: ignore[return-value]


def fmt_shape(shape: Shape) -> str:
    return "x".join(str(v) for v in shape)
