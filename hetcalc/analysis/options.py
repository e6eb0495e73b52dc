"""An analysis's options, checked up front: variant names, the counting convention and each type's part."""

from __future__ import annotations

from typing import Any, Iterable

from hetcalc.convtypes import CONV_TYPES, ConvType
from hetcalc.convtypes.parts import OWN_PART_OPTION, Part, parse_part
from hetcalc.convtypes.registry import aliases, part_options
from hetcalc.core.errors import OptionError
from hetcalc.core.hints import did_you_mean
from hetcalc.core.records import Record, record
from hetcalc.counting.convention import Convention
from hetcalc.counting.presets import preset_convention


def variant_keys() -> tuple[str, ...]:
    """Every registered convolution type's key, in canonical (registry) order."""
    return tuple(CONV_TYPES)


def parse_variants(variants: Iterable[str] | str | None) -> tuple[str, ...]:
    """Variant keys in canonical order; accepts 'all', each type's aliases ('het', 'gwc', 'dwc+pwc'), commas."""
    known = variant_keys()
    if variants is None:
        return known
    if isinstance(variants, str):
        variants = variants.split(",")
    names = aliases()
    try:
        variants = list(variants)
    except TypeError:
        raise OptionError(f"variants must be a comma-separated string or a list of variant names, got "
                          f"{variants!r}") from None
    chosen = set()
    for raw in variants:
        if not isinstance(raw, str):
            raise OptionError(f"a variant must be a name ({', '.join(known)}, all), got {raw!r}")
        key = raw.strip().lower()
        if not key:
            continue
        if key == "all":
            chosen.update(known)
            continue
        key = names.get(key, key)
        if key not in CONV_TYPES:
            raise OptionError(f"unknown variant '{raw.strip()}'{did_you_mean(key, [*known, *names])} "
                              f"(known: {', '.join(known)}, all)")
        chosen.add(key)
    if not chosen:
        raise OptionError("no variant chosen (known: " + ", ".join(known) + ")")
    return tuple(v for v in known if v in chosen)


def make_convention(convention: Any, options: dict) -> Convention:
    """The Convention of an API call: the one given, a preset's name with the replacement fields as keywords
    (convention="fvcore", replace_first=True), or one built from keyword options (not both)."""
    known = Convention.__dataclass_fields__
    if isinstance(convention, str):
        _refuse_unknown(options, known)
        return preset_convention(convention, **options)
    if convention is not None:
        if not isinstance(convention, Convention):
            raise OptionError(f"convention must be a hetcalc.Convention or a preset's name, got {convention!r}")
        if options:
            raise OptionError(f"give either convention= or its fields as keywords, not both "
                              f"(got {', '.join(sorted(options))})")
        return convention
    _refuse_unknown(options, known)
    return Convention(**options)


def option_keywords() -> tuple[str, ...]:
    """The keywords `**options` of analyze() and build_module() accept: Convention's fields and the registered
    types' own part options (S=2)."""
    return (*Convention.__dataclass_fields__, *(name for name in part_options() if name not in ("P", "G")))


def _refuse_unknown(options: dict, known) -> None:
    unknown = [k for k in options if k not in known]
    if unknown:
        raise OptionError(f"unknown option {unknown[0]!r}{did_you_mean(unknown[0], known)} "
                          f"(known: {', '.join(known)})")


@record
class TypePart(Record):
    """How one convolution type gets its part in this run."""

    value: Part  # the run's part (an integer, "M", "N"), or None for a part-free type
    own: bool  # whether a layer's own part (spec `P:`, --P-at) applies to this type


def split_part_options(options: dict) -> tuple[dict, dict]:
    """Keyword options that name a registered part option beyond P and G (say S=2), apart from the rest."""
    names = set(part_options()) - {"P", "G"}
    return {k: v for k, v in options.items() if k in names}, {k: v for k, v in options.items() if k not in names}


def resolve_parts(keys: tuple[str, ...], given: dict[str, Any]) -> dict[str, TypePart]:
    """Each chosen type's part from the options given (`{"P": 4, "G": None, ...}`): a follower (G) takes its
    leader's value (P) when not given, a group count "N" becomes "M"; a missing part is an error."""
    parsed = {name: parse_part(given.get(name), name) for name in dict.fromkeys((OWN_PART_OPTION, *part_options()))}
    out = {}
    for key in ("standard", *keys):
        ctype = CONV_TYPES[key]
        out[key] = _type_part(ctype, parsed, key in keys)
    return out


def _type_part(ctype: ConvType, parsed: dict[str, Part], chosen: bool) -> TypePart:
    if not ctype.part:
        return TypePart(None, False)
    value = parsed[ctype.part]
    own = ctype.part == OWN_PART_OPTION
    if value is None and ctype.part_follows:
        value, own = parsed[ctype.part_follows], ctype.part_follows == OWN_PART_OPTION
        if ctype.groups_part and value == "N":  # a per-layer P = N cannot be a group count: G = M then
            value = "M"
    if value is None and chosen:
        raise OptionError(f"{ctype.part} is needed for the {ctype.key} variant")
    return TypePart(value, own)
