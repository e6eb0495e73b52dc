"""What every importer shares, whatever the file format."""

from __future__ import annotations

from typing import Any

from hetcalc.core.errors import OptionError


def check_input_shape(input_shape: Any) -> tuple[int, int, int]:
    """`input_shape` as (channels, height, width) of positive ints; an OptionError naming the bad value."""
    if input_shape is None:
        raise OptionError("a torch module needs input_shape, e.g. analyze(model, input_shape=(3, 224, 224))")
    try:
        shape = tuple(int(v) for v in input_shape)
    except (TypeError, ValueError):
        raise OptionError(f"input_shape must be (channels, height, width), got {input_shape!r}") from None
    if len(shape) != 3 or min(shape) < 1 or any(isinstance(v, bool) for v in input_shape):
        raise OptionError(f"input_shape must be (channels, height, width) of positive integers, got "
                          f"{input_shape!r}")
    return shape
