"""Device profiles: what the time model needs to know about a device, every value with its source.

A profile is a YAML file (schema in docs/time-model.md). Built-ins ship in hetcalc/profiles/; `hetcalc
calibrate` writes one for this machine to the user's config folder ($XDG_CONFIG_HOME/hetcalc/devices/).
Errors are one line with file:line:column and the bad value, like spec errors.

The schema is the Device dataclass: each field a profile writes is declared once, with `entry()` (how it is
read, its upper bound, whether a profile may leave it out, what it means). The profile's keys (TOP_KEYS),
its reading (`Device.from_profile`) and its writing (`Device.to_dict`) follow the fields.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import Field, dataclass, field, fields
from functools import cache
from pathlib import Path
from typing import Any, Mapping

from hetcalc.core.errors import OptionError, SpecError
from hetcalc.core.formatting import printable
from hetcalc.core.hints import did_you_mean
from hetcalc.core.located import At, at_key, at_self, check_keys, got
from hetcalc.core.paths import PROFILES_DIR
from hetcalc.core.yamlio import load_yaml_document, read_spec_file
from hetcalc.timing.traffic import CONV_CLASSES, DTYPE_BYTES, KERNEL_CLASSES

PROFILES = PROFILES_DIR
KINDS = ("cpu", "gpu")
VALIDATIONS = ("published benchmark",)  # what `validated` may say besides true / false
OPS = ("conv", "linear", "bn", "act", "pool", "add", "gather", "pad")  # Kernel.op values
VALUE_KEYS = ("value", "source")
EFFICIENCY_CLASSES = CONV_CLASSES
# how an entry is read: a text, one of `keys`, true/false, a sourced number, a mapping of sourced numbers
# keyed by `keys`, or a free-form mapping
TEXT, CHOICE, FLAG, VALUE, TABLE, RECORD = "text", "choice", "flag", "value", "table", "record"


class DeviceError(SpecError):
    """A device profile that cannot be read or does not hold what the time model needs."""


@dataclass(frozen=True)
class Value:
    """A number and how it was obtained (a spec sheet, a measurement, a fit)."""

    value: float
    source: str

    def to_dict(self) -> dict:
        value = float(self.value)
        if value.is_integer() and value < 2**53:  # cache sizes, channel counts: exactly
            return {"value": int(value), "source": self.source}
        return {"value": float(f"{value:.4g}"), "source": self.source}


# Every number of a profile lies within its field's bounds (lower, upper), so that every rate the time model
# derives from them (peak x efficiency x group factor, bandwidths, their quotients) is finite and positive:
# nothing overflows to inf, nothing vanishes to 0 or a subnormal. A field that declares none gets these.
LOWER, UPPER = 1e-12, 1e30
RATE = {"lower": 1e3, "upper": 1e19}  # FLOP/s: a kFLOP/s to ten EFLOP/s
BANDWIDTH = {"lower": 1e3, "upper": 1e16}  # bytes/s: a kB/s to ten PB/s
OVERHEAD = {"lower": 1e-9, "upper": 1.0}  # seconds per kernel: a nanosecond to a second


def entry(read: str, doc: str, *, optional: bool = False, lower: float = LOWER, upper: float = UPPER,
          keys: tuple[str, ...] = (),
          every: str | None = None, key: str | None = None, blank: bool = False, fallback: str | None = None,
          **options: Any) -> Any:
    """A Device field that profiles write, read as `read` (TEXT, CHOICE, ...); `doc` says what it means.

    optional: a profile may leave it out (an optional VALUE is then None); lower, upper: the smallest and the
    largest number allowed (a number is always positive and finite);
    keys: a CHOICE's choices or the keys a TABLE may hold; every: a TABLE needs all its keys (their noun, for
    the message); key: its place if not the field's name ("cache.bytes": `bytes` inside `cache`); blank: a
    TEXT may be empty; fallback: a TEXT left out takes that entry's text. `options` go to dataclasses.field.
    """
    if optional and read == VALUE:
        options.setdefault("default", None)
    return field(metadata={"read": read, "doc": doc, "optional": optional, "lower": lower, "upper": upper, "keys": keys,
                           "every": every, "key": key, "blank": blank, "fallback": fallback}, **options)


@dataclass(frozen=True)
class Device:
    """A device profile (docs/time-model.md). Each field a profile writes is declared here, once, with `entry`."""

    name: str = entry(TEXT, "what --device finds it by")
    title: str = entry(TEXT, "what reports call it (the name if absent)", optional=True, fallback="name")
    kind: str = entry(CHOICE, "cpu | gpu", keys=KINDS)
    validated: bool | str = entry(FLAG, "measured on this machine by `hetcalc calibrate` and checked by the benchmark; "
                                        "`published benchmark`: checked against published measurement",
                                  keys=VALIDATIONS)
    # keyword-only: a field with a default may then sit among the required ones, where profiles write it
    notes: str = entry(TEXT, "free text", optional=True, blank=True, default="", kw_only=True)
    peak_flops: dict[str, Value] = entry(TABLE, "dtype -> FLOP/s (1 MAC = 2 FLOPs)", keys=tuple(DTYPE_BYTES),
                                         **RATE)
    memory_bandwidth: Value = entry(VALUE, "bytes/s from main memory", **BANDWIDTH)
    kernel_overhead: Value = entry(VALUE, "seconds per executed kernel (launch or dispatch)", **OVERHEAD)
    efficiency: dict[str, Value] = entry(TABLE, "kernel class -> fraction of peak FLOP/s attained on large work",
                                         keys=EFFICIENCY_CLASSES, every="kernel class", lower=1e-4, upper=1.0)
    half_work: Value | None = entry(VALUE, "FLOPs at which a convolution attains half its class's efficiency",
                                    optional=True, upper=1e18)
    group_channels: Value | None = entry(VALUE, "channels per group below which grouped convs slow down in "
                                                "proportion", optional=True, lower=1.0, upper=1e6)
    group_exponent: Value | None = entry(VALUE, "how steeply they slow down: (channels / group_channels) ** this "
                                                "(1 if absent)", optional=True, lower=1e-3, upper=8.0)
    pointwise_group_channels: Value | None = entry(VALUE, "channels per group (the smaller of a group's inputs "
                                                          "and outputs) below which grouped 1 x 1 convs slow down",
                                                   optional=True, lower=1.0, upper=1e6)
    pointwise_group_exponent: Value | None = entry(VALUE, "how steeply grouped 1 x 1 convs slow down (1 if absent)",
                                                   optional=True, lower=1e-3, upper=8.0)
    weight_passes: Value | None = entry(VALUE, "a convolution's weights are read this many times from main memory",
                                        optional=True, lower=1e-3, upper=64.0)
    transpose_bandwidth: Value | None = entry(VALUE, "bytes/s of a copy between NCHW and NHWC (read + written; "
                                                     "memory_bandwidth if absent)", optional=True, **BANDWIDTH)
    gather_bandwidth: Value | None = entry(VALUE, "bytes/s of a channel gather (index_select); memory_bandwidth "
                                                  "if absent", optional=True, **BANDWIDTH)
    page_fault: Value | None = entry(VALUE, "seconds per 4 KiB page of a freshly mapped tensor (first touch)",
                                     optional=True, upper=1e-3)
    fresh_bytes: Value | None = entry(VALUE, "tensors larger than this are freshly mapped on every call (32 MiB)",
                                      optional=True, lower=4096, upper=1e18)
    op_overhead: dict[str, Value] = entry(TABLE, "op -> seconds per call, for kernel_overhead", keys=OPS,
                                          optional=True, default_factory=dict, **OVERHEAD)
    pool_bandwidth: Value | None = entry(VALUE, "bytes/s of a pooling kernel (CPU pooling is slow per byte)",
                                         optional=True, **BANDWIDTH)
    network_factor: Value | None = entry(VALUE, "a whole network's time over the sum of its kernels' (1 if "
                                                "absent)", optional=True, lower=0.01, upper=100.0)
    channels_last: dict[str, Value] = entry(TABLE, "kernel class -> its efficiency (element-wise: bandwidth) in "
                                                   "the NHWC layout over NCHW; NHWC is timed as NCHW if absent",
                                            keys=KERNEL_CLASSES, optional=True, default_factory=dict, lower=0.01,
                                            upper=100.0)
    channels_last_group_exponent: Value | None = entry(VALUE, "group_exponent of grouped K x K convs in NHWC (no "
                                                              "curve if absent)", optional=True, lower=1e-3,
                                                       upper=8.0)
    channels_last_weight_passes: Value | None = entry(VALUE, "weight_passes of a convolution in NHWC (weight_passes "
                                                             "if absent)", optional=True, lower=1e-3, upper=64.0)
    cache_bytes: Value | None = entry(VALUE, "an activation working set up to this size is served at "
                                             "cache_bandwidth", optional=True, key="cache.bytes", lower=1.0,
                                      upper=1e18)
    cache_bandwidth: Value | None = entry(VALUE, "bytes/s of that cache", optional=True, key="cache.bandwidth",
                                          **BANDWIDTH)
    measured: dict = entry(RECORD, "calibration data kept for reference", optional=True, default_factory=dict,
                           compare=False)
    source: str = ""  # the file it came from (not an entry)

    @classmethod
    def from_profile(cls, data: Any, source: str, root_mark=None) -> Device:
        """A validated device from parsed profile data (a YAML mapping with its marks, or a plain dict)."""
        at = at_self(data, At(source, *(root_mark or (None, None))))
        if not isinstance(data, dict):
            raise _fail(at, f"a device profile must be a mapping (name: ..., kind: ...), got {_kind(data)}")
        entries = profile_entries(cls)
        check_keys(data, tuple(entries), "the device profile", at, fail=_fail)
        for key, group in entries.items():
            if key not in data and not group[0].metadata["optional"]:
                raise _fail(at, f"device profile needs '{key}'")
        values: dict[str, Any] = {}
        for key, group in entries.items():
            if key in data or group[0].metadata["fallback"]:
                values.update(_read_entry(data, key, group, at))
        return cls(**values, source=source)

    @property
    def where(self) -> str:
        """'built-in profiles/a100.yaml' or the profile's path."""
        path = Path(self.source)
        if path.parent == PROFILES:
            return f"built-in profiles/{path.name}"
        return self.source

    def peak(self, dtype: str) -> float:
        if dtype not in self.peak_flops:
            raise OptionError(f"device {self.name} has no peak FLOP/s for {dtype} (it gives "
                              f"{', '.join(self.peak_flops)}); add peak_flops.{dtype} to {self.where}")
        return self.peak_flops[dtype].value

    def to_dict(self) -> dict:
        """The profile as YAML-ready data (the schema of docs/time-model.md): every entry that is set, in
        field order but with the optional mappings (op_overhead, cache, measured) after the numbers."""
        entries = profile_entries(type(self))
        data: dict[str, Any] = {}
        for key in sorted(entries, key=lambda key: _written_last(entries[key])):
            group = entries[key]
            written = {_leaf(f): _write(f, getattr(self, f.name)) for f in group
                       if not (f.metadata["optional"] and _unset(getattr(self, f.name)))}
            if written:
                data[key] = written if _grouped(group) else written[key]
        return data

    def summary(self) -> str:
        """One line for report headers."""
        if self.validated == "published benchmark":
            state = "validated against published benchmarks"
        elif self.validated:
            state = "validated by measurement"
        elif isinstance(self.measured.get("unreliable"), list):
            state = "calibrated on this machine but MARKED UNRELIABLE (see `hetcalc devices -v`)"
        elif self.measured:
            state = "calibrated by micro-benchmarks on this machine, not validated end to end"
        else:
            state = "from spec sheets and estimates, not validated by measurement"
        return f"device: {self.title} [{self.name}], {state}"


@cache
def profile_entries(cls: type[Device] = Device) -> dict[str, tuple[Field, ...]]:
    """A profile's top-level keys in order, each with the fields written under it (two under `cache`)."""
    entries: dict[str, list[Field]] = {}
    for f in fields(cls):
        if "read" in f.metadata:
            entries.setdefault(_path(f).split(".")[0], []).append(f)
    return {key: tuple(group) for key, group in entries.items()}


def _path(f: Field) -> str:
    """Where a profile writes the field: its name, or its `key` ("cache.bytes")."""
    return f.metadata["key"] or f.name


def _leaf(f: Field) -> str:
    return _path(f).rpartition(".")[2]


def _grouped(group: tuple[Field, ...]) -> bool:
    """Whether an entry is a mapping of several fields (`cache: {bytes: ..., bandwidth: ...}`)."""
    return "." in _path(group[0])


def _unset(value: Any) -> bool:
    return value is None or (isinstance(value, (str, dict)) and not value)


def _written_last(group: tuple[Field, ...]) -> bool:
    """An optional mapping (a table, a group like `cache`, a record): written after the numbers."""
    return group[0].metadata["optional"] and (_grouped(group) or group[0].metadata["read"] in (TABLE, RECORD))


def _write(f: Field, value: Any) -> Any:
    if f.metadata["read"] == VALUE:
        return value.to_dict()
    if f.metadata["read"] == TABLE:
        return {k: v.to_dict() for k, v in value.items()}
    return value


TOP_KEYS = tuple(profile_entries(Device))


def _kind(data: Any) -> str:
    """What a file that is no profile holds, without quoting it: it may be any file a path led to."""
    if isinstance(data, str):
        return "text"
    return "a list" if isinstance(data, list) else got(data)


def _fail(at: At, message: str) -> DeviceError:
    return DeviceError(message, source=at.source, line=at.line, column=at.column)


_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _number(raw: Any, what: str, at: At, lower: float = LOWER, upper: float = UPPER) -> float:
    if isinstance(raw, str) and _EXPONENT.fullmatch(raw.strip()):
        raw = float(raw)  # YAML 1.1 reads 19.5e12 (no sign in the exponent) as text; everyone means a number
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        hint = " (remove the quotes)" if isinstance(raw, str) and _is_number(raw) else ""
        raise _fail(at, f"{what} must be a number, got {got(raw)}{hint}")
    value = float(raw) if not isinstance(raw, int) or raw.bit_length() < 1000 else math.inf
    if not math.isfinite(value) or value <= 0:
        raise _fail(at, f"{what} must be a positive finite number, got {got(raw)}")
    if value < lower:
        raise _fail(at, f"{what} must be at least {lower:g}, got {got(raw)}")
    if value > upper:
        raise _fail(at, f"{what} must be at most {upper:g}, got {got(raw)}")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> Value:
    """A `{value: X, source: "..."}` entry."""
    raw = data[key]
    vat = at_key(data, key, at)
    if not isinstance(raw, dict):
        raise _fail(vat, f"{what} must be a mapping {{value: NUMBER, source: TEXT}}, got {got(raw)}")
    check_keys(raw, VALUE_KEYS, what, vat, fail=_fail)
    for need in VALUE_KEYS:
        if need not in raw:
            raise _fail(vat, f"{what} needs '{need}' (every number in a profile says where it came from)")
    number = _number(raw["value"], f"{what}.value", at_key(raw, "value", vat), meta["lower"], meta["upper"])
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise _fail(at_key(raw, "source", vat), f"{what}.source must be a non-empty text, got {got(source)}")
    return Value(number, " ".join(source.split()))


def _mapping(data: dict, key: str, at: At) -> tuple[dict, At]:
    raw = data[key]
    kat = at_key(data, key, at)
    if not isinstance(raw, dict) or not raw:
        raise _fail(kat, f"{key} must be a non-empty mapping, got {got(raw)}")
    return raw, kat


def _read_entry(data: dict, key: str, group: tuple[Field, ...], at: At) -> dict[str, Any]:
    """{field name: value} of one top-level entry; a group (`cache`) needs each of its keys."""
    if not _grouped(group):
        return {group[0].name: READERS[group[0].metadata["read"]](data, key, key, at, group[0].metadata)}
    raw, gat = _mapping(data, key, at)
    subs = tuple(_leaf(f) for f in group)
    check_keys(raw, subs, key, gat, fail=_fail)
    for sub in subs:
        if sub not in raw:
            raise _fail(gat, f"{key} needs '{sub}'")
    return {f.name: READERS[f.metadata["read"]](raw, sub, _path(f), gat, f.metadata) for f, sub in zip(group, subs)}


def _read_text(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> str:
    raw = data.get(key)
    if raw is None and meta["fallback"]:
        raw = data[meta["fallback"]]
    if not isinstance(raw, str) or (not meta["blank"] and not raw.strip()):
        raise _fail(at_key(data, key, at), f"{what} must be a non-empty text, got {got(raw)}")
    return " ".join(raw.split())


def _read_choice(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> str:
    if data[key] not in meta["keys"]:
        raise _fail(at_key(data, key, at), f"{what} must be one of {', '.join(meta['keys'])}, got {got(data[key])}")
    return data[key]


def _read_flag(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> bool | str:
    if not isinstance(data[key], bool) and data[key] not in meta["keys"]:
        also = "".join(f" or '{k}'" for k in meta["keys"])
        raise _fail(at_key(data, key, at), f"{what} must be true or false{also}, got {got(data[key])}")
    return data[key]


def _read_value(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> Value:
    return _value(data, key, what, at, meta)


def _read_table(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> dict[str, Value]:
    raw, tat = _mapping(data, key, at)
    check_keys(raw, meta["keys"], what, tat, fail=_fail)
    missing = [k for k in meta["keys"] if k not in raw]
    if meta["every"] and missing:
        raise _fail(tat, f"{what} needs every {meta['every']} ({', '.join(meta['keys'])}); "
                         f"missing: {', '.join(missing)}")
    return {k: _value(raw, k, f"{what}.{k}", tat, meta) for k in meta["keys"] if k in raw}


def _read_record(data: dict, key: str, what: str, at: At, meta: Mapping[str, Any]) -> dict:
    raw = data[key] or {}
    if not isinstance(raw, dict):
        raise _fail(at_key(data, key, at), f"{what} must be a mapping, got {got(raw)}")
    return _plain(raw)


READERS = {TEXT: _read_text, CHOICE: _read_choice, FLAG: _read_flag, VALUE: _read_value, TABLE: _read_table,
           RECORD: _read_record}


def _plain(value):
    """YMap/YList -> dict/list (for a profile's free-form `measured` record)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def build_device(data: Any, source: str, root_mark=None) -> Device:
    """A validated Device from parsed profile data."""
    return Device.from_profile(data, source, root_mark)


def load_device_text(text: str, source: str = "<profile>") -> Device:
    try:
        data, mark = load_yaml_document(text, source)
    except SpecError as exc:
        if isinstance(exc, DeviceError):
            raise
        message, column = exc.message, exc.column
        if message.startswith("empty spec"):
            message = "empty profile: expected a mapping with name, kind, peak_flops, ... (docs/time-model.md)"
            column = 1
        raise DeviceError(message.replace("a spec must", "a profile must").replace("spec", "profile"),
                          source=exc.source, line=exc.line, column=column) from None
    return build_device(data, source, mark)


def load_device_file(path: str | Path) -> Device:
    path = Path(path)
    try:
        text = read_spec_file(path)
    except SpecError as exc:
        raise DeviceError(exc.message.replace("spec", "profile"), source=exc.source, line=exc.line,
                          column=exc.column) from None
    return load_device_text(text, str(path))


def config_dir() -> Path:
    """Where `hetcalc calibrate` saves profiles: $XDG_CONFIG_HOME/hetcalc/devices (~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or ""
    root = Path(base) if base and Path(base).is_absolute() else Path.home() / ".config"
    return root / "hetcalc" / "devices"


def check_bounds(device: Device) -> Device:
    """`device` if every number lies within its field's bounds (one built in Python skips the profile reader),
    else an OptionError naming the field."""
    for f in fields(device):
        meta = f.metadata
        if meta.get("read") not in (VALUE, TABLE) or getattr(device, f.name) is None:
            continue
        values = getattr(device, f.name)
        for key, value in (values.items() if meta["read"] == TABLE else [(None, values)]):
            number = getattr(value, "value", None)
            what = _path(f) + (f".{key}" if key else "")
            try:
                _number(number, f"{what}.value", At(device.source or "<device>", None, None), meta["lower"],
                        meta["upper"])
            except DeviceError as exc:
                raise OptionError(f"device {device.name}: {exc.message}") from None
    return device


NAME_MAX = 64  # characters of a profile's name (its file is NAME.yaml in the config folder)
PROFILE_SUFFIXES = (".yaml", ".yml")


def check_device_name(name: Any, what: str = "device name") -> str:
    """`name` if it is a plain file name for the config folder, else an OptionError saying why: no path
    separator, no leading '.' (hidden files, '..'), no control or invisible character, no surrounding space,
    no .yaml ending (that is a path) and at most NAME_MAX characters."""
    if not isinstance(name, str) or not name.strip():
        raise OptionError(f"{what} must not be empty")
    shown = "'" + printable(name[:NAME_MAX]) + ("...'" if len(name) > NAME_MAX else "'")
    problem = None
    if len(name) > NAME_MAX:
        problem = f"is longer than {NAME_MAX} characters ({len(name):,})"
    elif any(sep in name for sep in ("/", "\\", os.sep, os.altsep) if sep):
        problem = "holds a path separator"
    elif name.startswith("."):
        problem = "starts with '.'"
    elif printable(name) != name or "\0" in name:
        problem = "holds a control or invisible character"
    elif name != name.strip():
        problem = "has spaces around it"
    elif name.lower().endswith(PROFILE_SUFFIXES):
        problem = "ends in .yaml (give the name without it)"
    if problem:
        raise OptionError(f"{what} {shown} {problem}: a name is a plain file name such as 'local' or 'lab-gpu'")
    return name


def builtin_device_names() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


def user_device_names() -> list[str]:
    """The profiles saved in the config folder whose names --device takes (regular files only: a folder named
    x.yaml is no profile)."""
    folder = config_dir()
    return sorted(p.stem for p in folder.glob("*.yaml") if p.is_file() and _is_name(p.stem)) if folder.is_dir() else []


def _is_name(text: str) -> bool:
    try:
        check_device_name(text)
    except OptionError:
        return False
    return True


def user_profile(name: str) -> Path:
    """The config folder's file for a profile name (checked: a plain file name)."""
    return config_dir() / f"{check_device_name(name)}.yaml"


def resolve_device(device: Any) -> Device:
    """A Device from a Device, a built-in name, a name saved in the config folder, or a YAML path."""
    if isinstance(device, Device):
        return check_bounds(device)
    if isinstance(device, os.PathLike):
        return load_device_file(device)
    if not isinstance(device, str) or not device.strip():
        raise OptionError(f"device must be a name (see `hetcalc devices`) or a profile path, got {device!r}")
    text = device.strip()
    if text.lower().endswith(PROFILE_SUFFIXES):
        return load_device_file(Path(text))
    check_device_name(text, "device")  # a name, never a path to some other file
    key = text.lower()
    if key in builtin_device_names():
        return load_device_file(PROFILES / f"{key}.yaml")
    for user in dict.fromkeys((user_profile(text), user_profile(key))):
        if user.is_file():
            return load_device_file(user)
        if user.exists():
            raise OptionError(f"device '{text}': {user} is not a profile file (a folder?); remove or rename it")
    known = builtin_device_names() + [n for n in user_device_names() if n not in builtin_device_names()]
    hint = did_you_mean(key, known)
    extra = " or run `hetcalc calibrate` to make 'local'" if key == "local" else ""
    raise OptionError(f"unknown device '{text}'{hint}; known: {', '.join(known)}{extra} (or give a "
                      "profile's path ending in .yaml)")


def all_devices() -> list[tuple[Device | None, str, str | None]]:
    """(device, where, error) for every built-in and saved profile, for `hetcalc devices`."""
    out = []
    for name in builtin_device_names():
        out.append((load_device_file(PROFILES / f"{name}.yaml"), "built-in", None))
    for name in user_device_names():
        path = config_dir() / f"{name}.yaml"
        try:
            out.append((load_device_file(path), str(path), None))
        except DeviceError as exc:
            out.append((None, str(path), str(exc)))
    return out
