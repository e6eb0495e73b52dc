"""Design-space sweeps: every architecture x every part value (P for HetConv, G for GWC+PWC) at once.

A replaced layer's exact cost is affine in M/P: HetConv (eqs. 2-4) costs D_o^2 * N * (M + (K^2 - 1) * M/P)
and GWC+PWC as built (eq. 10) D_o^2 * (M * N + M * K^2 * M/G), and the extras a convention adds (bias,
BatchNorm, activations, ...) do not depend on the part. So `analyze()` at two parts (1, and each layer's
own M) gives per replaced layer the exact coefficients a, b of cost = a + b * M/P, whatever the counting
convention; a network's total at P is then C + B/P with B = sum(b * M), an exact integer whenever P
divides every replaced layer's M. The per-layer gathering and the evaluation for all P at once use numpy
(int64 where a bound proves it safe, Python integers in object arrays otherwise); every count handed out
is a Python int.

numpy is imported inside the functions that need it, so importing this module stays cheap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable

from hetcalc.network.sources import builtin_names, resolve
from hetcalc.convtypes import CONV_TYPES
from hetcalc.convtypes.parts import OWN_PART_OPTION
from hetcalc.counting.convention import Convention
from hetcalc.core.errors import OptionError
from hetcalc.network.graph import Network
from hetcalc.analysis.results import Report
from hetcalc.analysis.api import analyze

MAX_VALUES = 100_000  # part values in one sweep
MAX_PART = 10**30  # no spec integer is larger (spec.MAX_VALUE), so a larger part divides no M
_TARGET = __import__("re").compile(r"[+]?(?:(\d{1,40})(?:\.(\d{0,40}))?|\.(\d{1,40}))(?:[eE]([+-]?\d{1,3}))?")
INT64_SAFE = 2**62  # below this, int64 sums and products of two checked terms cannot overflow
_CHUNK = 1 << 20  # cells of one (distinct M) x (part value) divisibility block


def swept_types() -> dict[str, str]:
    """The types a sweep varies: each registered type with a part whose cost is affine in M/part -> its option."""
    return {key: t.part for key, t in CONV_TYPES.items() if t.part and t.affine_in_part}


def fixed_types() -> tuple[str, ...]:
    """The types a sweep counts once: standard and the part-free ones (DWC+PWC), in registry order."""
    return tuple(key for key, t in CONV_TYPES.items() if not t.part)



# --------------------------------------------------------------------------- option values

def parse_values(text: Any, option: str = "P") -> tuple[int, ...]:
    """Part values from `N`, `A..B` (every integer), `pow2:A..B` (powers of two), comma-separated.

    Sorted and without repeats: `--P 1..8,16,pow2:32..1024`.
    """
    if isinstance(text, int) and not isinstance(text, bool):
        text = str(text)
    if not isinstance(text, str):
        try:
            items = list(text)
        except TypeError:
            raise OptionError(f"{option} values must be integers or value text like '1..16', got {text!r}") from None
        for v in items:  # 4.7 is not 4, True is not 1
            if isinstance(v, bool) or not isinstance(v, int):
                raise OptionError(f"{option} values must be integers, got {v!r}")
            if v < 1:
                raise OptionError(f"{option} values must be at least 1, got {v}")
            if v > MAX_PART:
                raise OptionError(f"{option} value {_digits(v)} is too large (at most 10**30)")
        text = ",".join(str(v) for v in items)
    values: set[int] = set()
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            raise OptionError(f"{option} values {text!r}: empty item (write N, A..B or pow2:A..B, "
                              "comma-separated)")
        pow2 = item.lower().startswith("pow2:")
        body = item[5:].strip() if pow2 else item
        if ".." in body:
            lo_text, _, hi_text = body.partition("..")
            lo, hi = _bound(lo_text, item, option), _bound(hi_text, item, option)
            if lo > hi:
                raise OptionError(f"{option} range '{item}' is empty: {lo} > {hi}")
        elif pow2:
            raise OptionError(f"{option} values '{item}': pow2 needs a range, as in pow2:1..1024")
        else:
            lo = hi = _bound(body, item, option)
        if pow2:
            chosen = [1 << e for e in range((lo - 1).bit_length(), hi.bit_length()) if lo <= 1 << e <= hi]
            if not chosen:
                raise OptionError(f"{option} range '{item}' holds no power of two")
        else:
            if hi - lo + 1 > MAX_VALUES:
                raise OptionError(f"{option} range '{item}' has {hi - lo + 1:,} values; a sweep takes at "
                                  f"most {MAX_VALUES:,}")
            chosen = range(lo, hi + 1)
        values.update(chosen)
        if len(values) > MAX_VALUES:
            raise OptionError(f"{option} values {text!r} give more than {MAX_VALUES:,} values")
    return tuple(sorted(values))


def _digits(value: int) -> str:
    text = str(value) if value < 10**40 else f"of {len(str(value)):,} digits"
    return text


def _bound(text: str, item: str, option: str) -> int:
    text = text.strip()
    if len(text) > 31 and text.isascii() and text.isdigit():
        raise OptionError(f"{option} values '{item[:40]}...': a number of {len(text):,} digits is too large "
                          f"({option} is at most 10**30)")
    if not (text.isascii() and text.isdigit()):  # '²' and other Unicode digits are not numbers here
        shown = "M" if text.upper() == "M" else text
        hint = (" (a sweep takes integers; for P=M use 'hetcalc ARCH --P M')" if shown == "M"
                else " (write N, A..B or pow2:A..B, comma-separated)")
        raise OptionError(f"{option} values '{item}': '{shown}' is not a positive integer{hint}")
    value = int(text)
    if value < 1:
        raise OptionError(f"{option} values '{item}': {option} must be at least 1, got {value}")
    if value > MAX_PART:
        raise OptionError(f"{option} values '{item}': {value} is too large ({option} is at most 10**30)")
    return value


def parse_target(value: Any) -> Fraction:
    """A FLOPs reduction target in percent, '80%' or '80' (exact, from the decimal text)."""
    if isinstance(value, bool) or not isinstance(value, (str, int, float, Fraction)):
        raise OptionError(f"target reduction must be a percentage like 80% or 80, got {value!r}")
    if isinstance(value, float) and not math.isfinite(value):
        raise OptionError(f"target reduction must be above 0% and below 100%, got {value!r}")
    if isinstance(value, (int, float, Fraction)):
        target = Fraction(value)
    else:
        text = value.strip()
        number = text[:-1].strip() if text.endswith("%") else text
        # a bounded syntax: Fraction('1e-999999999') would build a billion-digit integer
        if not (number.isascii() and _TARGET.fullmatch(number)) or int(_TARGET.fullmatch(number).group(4) or 0) > 200 \
                or int(_TARGET.fullmatch(number).group(4) or 0) < -200:
            shown = text if len(text) <= 40 else text[:40] + "..."
            raise OptionError(f"target reduction must be a percentage like 80% or 80 (at most 40 digits, "
                              f"exponent within 200), got {shown!r}")
        target = Fraction(number)
    if not 0 < target < 100:
        raise OptionError(f"target reduction must be above 0% and below 100%, got {value!r}")
    text = value.strip() if isinstance(value, str) else str(value)
    if target < 1 and not text.endswith("%"):  # 0.8 is far likelier a fraction (80%) than 0.8 percent
        percent = f"{float(target * 100):g}%"
        raise OptionError(f"target reduction {text} would be {text}%: the value is a percentage; write {percent} "
                          f"for the fraction {text}, or {text}% if {text} percent is meant")
    return target


# --------------------------------------------------------------------------- results

@dataclass(frozen=True)
class Point:
    """One variant of one network at one part value: its totals, or why that value cannot be built."""

    architecture: str
    variant: str
    label: str
    P: int | None
    G: int | str | None
    valid: bool
    reason: str  # "" when valid
    flops: int | None
    params: int | None
    macs: int | None
    flops_reduction: float | None  # percent, against standard
    speedup: float | None  # eq. 9
    params_reduction: float | None
    latency_depth: int
    added_latency: int
    part: int | str | None = field(default=None, compare=False)  # its part value, whatever the option

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "part"}


@dataclass(frozen=True)
class PartSweep:
    """HetConv over P, or GWC+PWC over G, for one network: one entry per value, column by column."""

    variant: str  # a swept type's key
    option: str  # "P" | "G"
    values: tuple[int, ...]
    flops: tuple[int | None, ...]  # None where the value is invalid
    params: tuple[int | None, ...]
    macs: tuple[int | None, ...]
    reasons: tuple[str, ...]  # "" where valid
    gcd: int  # the valid values are its divisors (0: no replaced layer, every value valid)
    latency_depth: int
    added_latency: int

    def valid_values(self) -> list[int]:
        return [v for v, f in zip(self.values, self.flops) if f is not None]


@dataclass(frozen=True)
class Target:
    """The smallest part value of one variant that reaches a FLOPs reduction target."""

    architecture: str
    variant: str
    target: float  # percent
    reached: bool
    point: Point | None  # the smallest value reaching the target, or else the best valid one

    def to_dict(self) -> dict:
        return {"architecture": self.architecture, "variant": self.variant, "target": self.target,
                "reached": self.reached, "point": None if self.point is None else self.point.to_dict()}


def _reaches(standard: int, flops: int, target: Fraction) -> bool:
    """FLOPs reduction 100 * (standard - flops) / standard >= target, in exact arithmetic."""
    return standard > 0 and 100 * (standard - flops) >= target * standard


@dataclass(frozen=True)
class ArchSweep:
    """One network's sweep: the part-free variants once (standard, DWC+PWC) and each swept one at every value.

    Each type is also an attribute: `arch.standard`, `arch.hetconv`, `arch.dwc_pwc`.
    """

    architecture: str
    title: str
    source: str
    input: tuple[int, int, int]
    fixed: dict  # type key -> Point, for standard and the part-free types
    swept: dict  # type key -> PartSweep

    def __getattr__(self, name: str):
        for table in ("fixed", "swept"):
            found = self.__dict__.get(table, {})
            if name in found:
                return found[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def point(self, variant: str, index: int) -> Point:
        """The Point of a swept variant at its index-th value."""
        sweep = self.swept[variant]
        value, flops = sweep.values[index], sweep.flops[index]
        ctype = CONV_TYPES[variant]
        common = dict(architecture=self.architecture, variant=variant, label=f"{ctype.label} ({sweep.option}="
                      f"{value})", P=value if sweep.option == "P" else None,
                      G=value if sweep.option == "G" else None, part=value, latency_depth=sweep.latency_depth,
                      added_latency=sweep.added_latency)
        if flops is None:
            return Point(valid=False, reason=sweep.reasons[index], flops=None, params=None, macs=None,
                         flops_reduction=None, speedup=None, params_reduction=None, **common)
        params = sweep.params[index]
        s_flops, s_params = self.standard.flops, self.standard.params
        return Point(valid=True, reason="", flops=flops, params=params, macs=sweep.macs[index],
                     speedup=s_flops / flops if flops else float("inf"),
                     flops_reduction=100.0 * (s_flops - flops) / s_flops if s_flops else 0.0,
                     params_reduction=100.0 * (s_params - params) / s_params if s_params else 0.0, **common)

    def points(self, variant: str) -> list[Point]:
        """Every value of a variant: one Point for standard and dwc_pwc, one per value for the others."""
        if variant in self.fixed:
            return [self.fixed[variant]]
        sweep = self.swept[variant]
        return [self.point(variant, i) for i in range(len(sweep.values))]

    def smallest_part_for(self, target: Any) -> dict[str, Target]:
        """Per variant, the smallest valid part whose FLOPs reduction reaches `target` percent."""
        goal = target if isinstance(target, Fraction) else parse_target(target)
        s_flops = self.standard.flops
        out: dict[str, Target] = {}
        for variant, sweep in self.swept.items():
            valid = [i for i, f in enumerate(sweep.flops) if f is not None]
            hit = next((i for i in valid if _reaches(s_flops, sweep.flops[i], goal)), None)
            best = min(valid, key=lambda i: (sweep.flops[i], sweep.values[i]), default=None)
            index = hit if hit is not None else best
            out[variant] = Target(self.architecture, variant, float(goal), hit is not None,
                                  None if index is None else self.point(variant, index))
        for variant, point in self.fixed.items():
            if variant != "standard":
                out[variant] = Target(self.architecture, variant, float(goal), _reaches(s_flops, point.flops, goal),
                                      point)
        return out

    def to_dict(self) -> dict:
        def part(variant: str) -> list[dict]:
            keep = ("flops", "params", "macs", "flops_reduction", "speedup", "params_reduction")
            sweep = self.swept[variant]
            rows = []
            for i, value in enumerate(sweep.values):
                if sweep.flops[i] is None:  # most values of a wide range: no Point needed
                    rows.append({sweep.option: value, "valid": False, "reason": sweep.reasons[i]})
                else:
                    p = self.point(variant, i)
                    rows.append({sweep.option: value, "valid": True, **{k: getattr(p, k) for k in keep}})
            return rows

        data = {"architecture": self.architecture, "title": self.title, "source": self.source,
                "input": list(self.input), **{k: point.to_dict() for k, point in self.fixed.items()}}
        for variant, sweep in self.swept.items():
            data[variant] = {"latency_depth": sweep.latency_depth, "added_latency": sweep.added_latency,
                             "gcd_M": sweep.gcd, "points": part(variant)}
        return data


@dataclass(frozen=True)
class SweepResult:
    """Every architecture of a sweep under one counting convention."""

    convention: Convention
    P: tuple[int, ...]
    G: tuple[int, ...]
    G_is_P: bool  # G was not given: GWC+PWC takes the P values
    architectures: tuple[ArchSweep, ...]

    def smallest_part_for(self, target: Any) -> list[Target]:
        """Per architecture and variant (HetConv: P, GWC+PWC: G, DWC+PWC), the answer for `target`."""
        goal = parse_target(target) if not isinstance(target, Fraction) else target
        return [t for arch in self.architectures for t in arch.smallest_part_for(goal).values()]

    def to_dict(self, target: Any = None) -> dict:
        data = {"convention": self.convention.to_dict(), "P": list(self.P),
                "G": "P" if self.G_is_P else list(self.G),
                "architectures": [a.to_dict() for a in self.architectures]}
        if target is not None:
            goal = parse_target(target) if not isinstance(target, Fraction) else target
            data["target_reduction"] = float(goal)
            data["targets"] = [t.to_dict() for t in self.smallest_part_for(goal)]
        return data


# --------------------------------------------------------------------------- the sweep

def sweep(archs: Iterable[Any] | None = None, P: Any = "1..1024", G: Any = None,
          convention: Convention | str | None = None, se: int | None = None, parts: dict | None = None,
          **convention_options: Any) -> SweepResult:
    """Totals of every architecture (default: every built-in) x every P (and G) value x the four variants.

    P and G: value text ('1..1024', '1,2,4', 'pow2:1..1024') or integers; G defaults to the P values, and so
    do the values of any other registered part option unless `parts` gives them ({"S": "1..8"}).
    Values that do not divide every replaced layer's input depth M are kept, marked with the reason.
    se: Squeeze-and-Excitation reduction ratio, as in `analyze()`.
    """
    from hetcalc.analysis.options import make_convention

    convention = make_convention(convention, convention_options)
    if convention.hetconv != "exact":
        raise OptionError("a sweep counts HetConv exactly as built (eqs. 2-4); ratio accounting is not "
                          "swept: use 'hetcalc ARCH --P N' for it")
    p_values = parse_values(P, "P")
    g_values = p_values if G is None else parse_values(G, "G")
    if archs is None:
        names = builtin_names()
    elif isinstance(archs, (str, Path, Network, dict)):
        names = [archs]
    else:
        try:
            names = list(archs)
        except TypeError:
            raise OptionError(f"archs must be an architecture or a list of them, got {archs!r}") from None
    if not names:
        raise OptionError("no architecture to sweep")
    values = {option: p_values for option in dict.fromkeys(swept_types().values())}  # G and others default to P's
    values["P"], values["G"] = p_values, g_values
    for option, given in (parts or {}).items():
        values[option] = parse_values(given, option)
    results = tuple(_sweep_network(resolve(arch), values, convention, se) for arch in names)
    return SweepResult(convention=convention, P=p_values, G=g_values, G_is_P=G is None, architectures=results)


def _sweep_network(network: Network, values: dict[str, tuple[int, ...]], convention: Convention,
                   se: int | None) -> ArchSweep:
    """`values`: each part option's values ("P", "G", ...)."""
    swept = swept_types()
    at_one = analyze(network, convention=convention, se=se, **{o: 1 for o in values})  # part 1: all K x K
    at_m = analyze(network, variants=tuple(swept), convention=convention, se=se,
                   **{o: "M" for o in values})  # part M: one kernel K x K per filter
    pinned = {c.name for c in at_one.network.convs if c.P is not None}  # their own P: never swept
    return ArchSweep(
        architecture=at_one.architecture, title=at_one.title, source=at_one.source, input=at_one.input,
        fixed={key: _fixed_point(at_one, at_one.variant(key)) for key in fixed_types()},
        swept={key: _part_sweep(at_one, at_m, key, values[option],
                                pinned if option == OWN_PART_OPTION else frozenset())
               for key, option in swept.items()})


def _fixed_point(report: Report, v) -> Point:
    return Point(architecture=report.architecture, variant=v.variant, label=v.label, P=None,
                 G=CONV_TYPES[v.variant].fixed_groups, valid=True, reason="", flops=v.flops,
                 params=v.params, macs=v.macs, flops_reduction=v.flops_reduction, speedup=v.speedup,
                 params_reduction=v.params_reduction, latency_depth=v.latency_depth,
                 added_latency=v.added_latency)


def _part_sweep(at_one: Report, at_m: Report, variant: str, values: tuple[int, ...],
                pinned: set[str] = frozenset()) -> PartSweep:
    """One variant's totals for every value: C + B // value where valid, the reason where not.

    Layers with their own P (`pinned`) cost the same at every value: they stay in the constant C.
    """
    import numpy as np

    one, many = at_one.variant(variant), at_m.variant(variant)
    rows = [(r1, rm) for r1, rm in zip(one.layers, many.layers) if r1.replaced and r1.name not in pinned]
    names = [r1.name for r1, _ in rows]
    depth = [r1.M for r1, _ in rows]
    totals_m = (many.flops, many.params, many.macs)
    fields = ("flops", "params", "macs")

    # per replaced layer: cost(part) = a + b * (M / part); part 1 gives a + b*M, part M gives a + b
    big = max([*depth, *values, 1])
    coeffs = []
    for field in fields:
        at1 = [getattr(r1, field) for r1, _ in rows]
        atm = [getattr(rm, field) for _, rm in rows]
        bound = 2 * max([abs(v) for v in at1 + atm] + [1]) * big * (len(rows) + 1)
        dtype = np.int64 if bound < INT64_SAFE else object
        m_arr = np.array(depth, dtype=dtype)
        diff = np.array(at1, dtype=dtype) - np.array(atm, dtype=dtype)
        steps = np.where(m_arr > 1, m_arr - 1, 1)
        b = diff // steps
        if np.any(b * steps != diff) or np.any((m_arr == 1) & (diff != 0)):
            raise RuntimeError(f"{variant} cost of {at_one.architecture} is not affine in M/{CONV_TYPES[variant].part}; "
                               "the sweep cannot vectorize it")
        coeffs.append((int(b.sum()), int((b * m_arr).sum())))  # B1 = sum b, BM = sum b*M

    # every value is evaluated at once; a value is valid when it divides gcd(M) of the replaced layers
    gcd = math.gcd(*depth) if depth else 0
    safe = max(values) < INT64_SAFE and gcd < INT64_SAFE and all(
        abs(total - b1) + abs(bm) < INT64_SAFE for total, (b1, bm) in zip(totals_m, coeffs))
    dtype = np.int64 if safe else object
    parts = np.array(values, dtype=dtype)
    valid = (np.array(gcd, dtype=dtype) % parts) == 0
    good = parts[valid]
    columns = []
    for total, (b1, bm) in zip(totals_m, coeffs):
        column = [None] * len(values)
        counted = ((total - b1) + np.array(bm, dtype=dtype) // good).tolist() if good.size else []
        for index, count in zip(np.flatnonzero(valid).tolist(), counted):
            column[index] = count
        columns.append(tuple(column))
    option = CONV_TYPES[variant].part
    reasons = _reasons(names, depth, values, valid, option, dtype)
    return PartSweep(variant=variant, option=option, values=values, flops=columns[0],
                     params=columns[1], macs=columns[2], reasons=reasons, gcd=gcd,
                     latency_depth=one.latency_depth, added_latency=one.added_latency)


def _reasons(names: list[str], depth: list[int], values, valid, option: str, dtype) -> tuple[str, ...]:
    """For each invalid value, the first replaced layer whose M it does not divide (and how many more)."""
    import numpy as np

    reasons = [""] * len(values)
    bad = np.flatnonzero(~valid)
    if not bad.size:
        return tuple(reasons)
    first_of: dict[int, int] = {}  # distinct M, in order of first appearance -> its first layer
    count: dict[int, int] = {}
    for index, m in enumerate(depth):
        first_of.setdefault(m, index)
        count[m] = count.get(m, 0) + 1
    distinct = np.array(list(first_of), dtype=dtype)
    counts = np.array([count[m] for m in first_of], dtype=np.int64)
    bad_values = np.array(values, dtype=dtype)[bad]
    step = max(1, _CHUNK // len(distinct))
    for start in range(0, bad.size, step):
        chunk = bad_values[start:start + step]
        fails = (distinct[:, None] % chunk[None, :] != 0).astype(bool)
        firsts = fails.argmax(axis=0).tolist()
        totals = (counts[:, None] * fails).sum(axis=0).tolist()
        for index, value, first, total in zip(bad[start:start + step].tolist(), chunk.tolist(), firsts, totals):
            m = int(distinct[first])
            more = f" and {total - 1} more replaced layer{'s' if total > 2 else ''}" if total > 1 else ""
            reasons[index] = f"{option}={value} does not divide M={m} of {names[first_of[m]]}{more}"
    return tuple(reasons)
