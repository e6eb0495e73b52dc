"""A convolution type's part: P for HetConv, G for GWC+PWC; an integer, or each layer's own M or N."""

from __future__ import annotations

from typing import Any, Union

from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Conv, Network

Part = Union[int, str, None]  # an integer, "M" / "N" (each layer's own input / output depth), or None
SHOWN_LAYERS = 20  # an error names at most this many layers, then counts the rest
OWN_PART_OPTION = "P"  # a layer's own part (spec `P:`, --P-at) is a value of this option


def parse_part(value: Any, option: str) -> Part:
    """An option value for P or G: a positive integer, 'M' (each layer's input depth) or 'N' (output depth)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in ("M", "N"):
            return text.upper()
        digits = text[1:] if text[:1] in "+-" else text
        if not (digits.isascii() and digits.isdigit()):
            raise OptionError(f"{option} must be a positive integer, M or N, got {value!r}")
        try:
            value = int(text)
        except ValueError:  # more digits than Python will read
            raise OptionError(f"{option} must be a positive integer, M or N, got a number of "
                              f"{len(text):,} digits") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{option} must be a positive integer, M or N, got {value!r}")
    if value < 1:
        raise OptionError(f"{option} must be a positive integer, M or N, got {value}")
    return value


def layer_part(part: Part, conv: Conv) -> int:
    """The integer part a layer gets: P itself, or the layer's M or N."""
    if part is None:
        part = "M"
    if part == "M":
        return conv.M
    if part == "N":
        return conv.N
    return int(part)


def check_part(network: Network, replaced: list[Conv], part: Part, option: str, what: str,
               own: bool = True) -> None:
    """Refuse a P or G that does not divide the input depth M of every layer it applies to.

    With `own`, a layer's own P (from its spec or --P-at) stands in for `part`; such a layer is named
    with its own value.
    """
    pinned = [c for c in replaced if own and c.P is not None and not (option == "G" and c.P == "N")
              and c.M % layer_part(c.P, c)]
    if pinned:
        c = pinned[0]
        value = f"N (its output depth {c.N})" if c.P == "N" else c.P
        raise OptionError(f"{option}={value} set for layer {c.name} does not divide its input depth M={c.M}"
                          + (f" (and {len(pinned) - 1} more layer(s) with their own {option})"
                             if len(pinned) > 1 else ""))
    if own:
        replaced = [c for c in replaced if c.P is None]
    if part is None or part == "M":
        return
    bad = [conv for conv in replaced if conv.M % layer_part(part, conv)]
    if bad:
        big = [c for c in bad if isinstance(part, int) and part > c.M]
        if big:
            shown = ", ".join(f"{c.name} (M={c.M})" for c in big[:SHOWN_LAYERS])
            more = f" and {len(big) - SHOWN_LAYERS} more" if len(big) > SHOWN_LAYERS else ""
            raise OptionError(f"{option}={part} is larger than the input depth M of {len(big)} {what} "
                              f"layer(s) in {network.name}: {shown}{more}; {option} must divide every "
                              f"replaced layer's M (or use {option}=M)")
        value = part if part != "N" else "N (each layer's output depth)"
        shown = ", ".join(f"{c.name} (M={c.M}" + (f", N={c.N})" if part == "N" else ")") for c in bad[:SHOWN_LAYERS])
        more = f" and {len(bad) - SHOWN_LAYERS} more" if len(bad) > SHOWN_LAYERS else ""
        hint = (f"use {option}=M" + (", or --hetconv ratio, which scales each layer's standard count by eq. 5 "
                                     "and needs no divisor" if option == "P" else "")
                if part == "N" else f"use a divisor of every M, or {option}=M")
        raise OptionError(f"{option}={value} does not divide the input depth M of {len(bad)} {what} "
                          f"layer(s) in {network.name}: {shown}{more}; {option} must divide every "
                          f"replaced layer's M ({hint})")
