"""Device profiles: what the time model needs to know about a device, every value with its source.

A profile is a YAML file (schema in docs/time-model.md). Built-ins ship in hetcalc/profiles/; `hetcalc
calibrate` writes one for this machine to the user's config folder ($XDG_CONFIG_HOME/hetcalc/devices/).
Errors are one line with file:line:column and the bad value, like spec errors.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hetcalc.core.paths import PROFILES_DIR
from hetcalc.core.errors import OptionError, SpecError
from hetcalc.core.located import At, at_key, at_self, check_keys, got, suggest
from hetcalc.timing.traffic import CONV_CLASSES, DTYPE_BYTES
from hetcalc.core.yamlio import load_yaml_document, read_spec_file

PROFILES = PROFILES_DIR
KINDS = ("cpu", "gpu")
TOP_KEYS = ("name", "title", "kind", "validated", "notes", "peak_flops", "memory_bandwidth", "kernel_overhead",
            "efficiency", "half_work", "group_channels", "group_exponent", "weight_passes", "gather_bandwidth",
            "page_fault", "fresh_bytes", "op_overhead", "pool_bandwidth", "network_factor", "cache", "measured")
OPS = ("conv", "linear", "bn", "act", "pool", "add", "gather", "pad")  # Kernel.op values
VALUE_KEYS = ("value", "source")
CACHE_KEYS = ("bytes", "bandwidth")
EFFICIENCY_CLASSES = CONV_CLASSES


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


@dataclass(frozen=True)
class Device:
    """A device profile (docs/time-model.md)."""

    name: str
    title: str
    kind: str  # cpu | gpu
    validated: bool  # measured on this machine by `hetcalc calibrate` and checked by the benchmark
    peak_flops: dict[str, Value]  # dtype -> FLOP/s (1 MAC = 2 FLOPs)
    memory_bandwidth: Value  # bytes/s from main memory
    kernel_overhead: Value  # seconds per executed kernel (launch or dispatch)
    efficiency: dict[str, Value]  # kernel class -> fraction of peak FLOP/s attained on large work
    half_work: Value | None = None  # FLOPs at which a convolution attains half its class's efficiency
    group_channels: Value | None = None  # channels per group below which grouped convs slow down in proportion
    group_exponent: Value | None = None  # how steeply they slow down: (channels / group_channels) ** this (1)
    weight_passes: Value | None = None  # a convolution's weights are read this many times from main memory
    page_fault: Value | None = None  # seconds per 4 KiB page of a freshly mapped tensor (first touch)
    fresh_bytes: Value | None = None  # tensors larger than this are freshly mapped on every call (32 MiB)
    op_overhead: dict[str, Value] = field(default_factory=dict)  # op -> seconds per call, for kernel_overhead
    pool_bandwidth: Value | None = None  # bytes/s of a pooling kernel (CPU pooling is slow per byte)
    network_factor: Value | None = None  # a whole network's time over the sum of its kernels' (1 if absent)
    cache_bytes: Value | None = None  # an activation working set up to this size is served at cache_bandwidth
    cache_bandwidth: Value | None = None
    gather_bandwidth: Value | None = None  # bytes/s of a channel gather (index_select); memory_bandwidth if None
    notes: str = ""
    source: str = ""  # the file it came from
    measured: dict = field(default_factory=dict, compare=False)  # calibration data kept for reference

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
        """The profile as YAML-ready data (the schema of docs/time-model.md)."""
        data: dict[str, Any] = {"name": self.name, "title": self.title, "kind": self.kind,
                                "validated": self.validated}
        if self.notes:
            data["notes"] = self.notes
        data["peak_flops"] = {k: v.to_dict() for k, v in self.peak_flops.items()}
        data["memory_bandwidth"] = self.memory_bandwidth.to_dict()
        data["kernel_overhead"] = self.kernel_overhead.to_dict()
        data["efficiency"] = {k: v.to_dict() for k, v in self.efficiency.items()}
        for key in ("half_work", "group_channels", "group_exponent", "weight_passes", "gather_bandwidth",
                    "page_fault", "fresh_bytes", "pool_bandwidth", "network_factor"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key).to_dict()
        if self.op_overhead:
            data["op_overhead"] = {k: v.to_dict() for k, v in self.op_overhead.items()}
        if self.cache_bytes is not None:
            data["cache"] = {"bytes": self.cache_bytes.to_dict(), "bandwidth": self.cache_bandwidth.to_dict()}
        if self.measured:
            data["measured"] = self.measured
        return data

    def summary(self) -> str:
        """One line for report headers."""
        if self.validated:
            state = "validated by measurement"
        elif self.measured:
            state = "calibrated by micro-benchmarks on this machine, not validated end to end"
        else:
            state = "from spec sheets and estimates, not validated by measurement"
        return f"device: {self.title} [{self.name}], {state}"


def _fail(at: At, message: str) -> DeviceError:
    return DeviceError(message, source=at.source, line=at.line, column=at.column)


_EXPONENT = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)[eE][-+]?\d+")


def _number(raw: Any, what: str, at: At, upper: float | None = None) -> float:
    if isinstance(raw, str) and _EXPONENT.fullmatch(raw.strip()):
        raw = float(raw)  # YAML 1.1 reads 19.5e12 (no sign in the exponent) as text; everyone means a number
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        hint = " (remove the quotes)" if isinstance(raw, str) and _is_number(raw) else ""
        raise _fail(at, f"{what} must be a number, got {got(raw)}{hint}")
    value = float(raw) if not isinstance(raw, int) or raw.bit_length() < 1000 else math.inf
    if not math.isfinite(value) or value <= 0:
        raise _fail(at, f"{what} must be a positive finite number, got {got(raw)}")
    if upper is not None and value > upper:
        raise _fail(at, f"{what} must be at most {upper:g}, got {got(raw)}")
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _value(data: dict, key: str, what: str, at: At, upper: float | None = None) -> Value:
    """A `{value: X, source: "..."}` entry."""
    raw = data[key]
    vat = at_key(data, key, at)
    if not isinstance(raw, dict):
        raise _fail(vat, f"{what} must be a mapping {{value: NUMBER, source: TEXT}}, got {got(raw)}")
    check_keys(raw, VALUE_KEYS, what, vat, fail=_fail)
    for need in VALUE_KEYS:
        if need not in raw:
            raise _fail(vat, f"{what} needs '{need}' (every number in a profile says where it came from)")
    number = _number(raw["value"], f"{what}.value", at_key(raw, "value", vat), upper)
    source = raw["source"]
    if not isinstance(source, str) or not source.strip():
        raise _fail(at_key(raw, "source", vat), f"{what}.source must be a non-empty text, got {got(source)}")
    return Value(number, " ".join(source.split()))


def _optional(data: dict, key: str, what: str, at: At, upper: float | None = None) -> Value | None:
    return _value(data, key, what, at, upper) if key in data else None


def _mapping(data: dict, key: str, at: At) -> tuple[dict, At]:
    raw = data[key]
    kat = at_key(data, key, at)
    if not isinstance(raw, dict) or not raw:
        raise _fail(kat, f"{key} must be a non-empty mapping, got {got(raw)}")
    return raw, kat


def build_device(data: Any, source: str, root_mark=None) -> Device:
    """A validated Device from parsed profile data."""
    at = at_self(data, At(source, *(root_mark or (None, None))))
    if not isinstance(data, dict):
        raise _fail(at, f"a device profile must be a mapping, got {got(data)}")
    check_keys(data, TOP_KEYS, "the device profile", at, fail=_fail)
    for need in ("name", "kind", "validated", "peak_flops", "memory_bandwidth", "kernel_overhead", "efficiency"):
        if need not in data:
            raise _fail(at, f"device profile needs '{need}'")
    texts = {}
    for key in ("name", "title", "notes"):
        raw = data.get(key, "" if key == "notes" else None)
        if key == "title" and raw is None:
            raw = data["name"]
        if not isinstance(raw, str) or (key != "notes" and not raw.strip()):
            raise _fail(at_key(data, key, at), f"{key} must be a non-empty text, got {got(raw)}")
        texts[key] = " ".join(raw.split())
    kind = data["kind"]
    if kind not in KINDS:
        raise _fail(at_key(data, "kind", at), f"kind must be one of {', '.join(KINDS)}, got {got(kind)}")
    validated = data["validated"]
    if not isinstance(validated, bool):
        raise _fail(at_key(data, "validated", at), f"validated must be true or false, got {got(validated)}")
    peaks_raw, pat = _mapping(data, "peak_flops", at)
    check_keys(peaks_raw, tuple(DTYPE_BYTES), "peak_flops", pat, fail=_fail)
    peaks = {k: _value(peaks_raw, k, f"peak_flops.{k}", pat) for k in DTYPE_BYTES if k in peaks_raw}
    eff_raw, eat = _mapping(data, "efficiency", at)
    check_keys(eff_raw, EFFICIENCY_CLASSES, "efficiency", eat, fail=_fail)
    missing = [k for k in EFFICIENCY_CLASSES if k not in eff_raw]
    if missing:
        raise _fail(eat, f"efficiency needs every kernel class ({', '.join(EFFICIENCY_CLASSES)}); "
                         f"missing: {', '.join(missing)}")
    eff = {k: _value(eff_raw, k, f"efficiency.{k}", eat, upper=1.0) for k in EFFICIENCY_CLASSES}
    op_overhead = {}
    if "op_overhead" in data:
        ops_raw, oat = _mapping(data, "op_overhead", at)
        check_keys(ops_raw, OPS, "op_overhead", oat, fail=_fail)
        op_overhead = {k: _value(ops_raw, k, f"op_overhead.{k}", oat, upper=1.0) for k in OPS if k in ops_raw}
    cache_bytes = cache_bw = None
    if "cache" in data:
        cache_raw, cat = _mapping(data, "cache", at)
        check_keys(cache_raw, CACHE_KEYS, "cache", cat, fail=_fail)
        for need in CACHE_KEYS:
            if need not in cache_raw:
                raise _fail(cat, f"cache needs '{need}'")
        cache_bytes = _value(cache_raw, "bytes", "cache.bytes", cat)
        cache_bw = _value(cache_raw, "bandwidth", "cache.bandwidth", cat)
    measured = data.get("measured") or {}
    if not isinstance(measured, dict):
        raise _fail(at_key(data, "measured", at), f"measured must be a mapping, got {got(measured)}")
    return Device(
        name=texts["name"], title=texts["title"], kind=kind, validated=validated, peak_flops=peaks,
        memory_bandwidth=_value(data, "memory_bandwidth", "memory_bandwidth", at),
        kernel_overhead=_value(data, "kernel_overhead", "kernel_overhead", at, upper=1.0),
        efficiency=eff, half_work=_optional(data, "half_work", "half_work", at),
        group_channels=_optional(data, "group_channels", "group_channels", at),
        group_exponent=_optional(data, "group_exponent", "group_exponent", at, upper=8.0),
        weight_passes=_optional(data, "weight_passes", "weight_passes", at, upper=64.0),
        page_fault=_optional(data, "page_fault", "page_fault", at, upper=1e-3),
        fresh_bytes=_optional(data, "fresh_bytes", "fresh_bytes", at),
        op_overhead=op_overhead, pool_bandwidth=_optional(data, "pool_bandwidth", "pool_bandwidth", at),
        network_factor=_optional(data, "network_factor", "network_factor", at, upper=100.0),
        gather_bandwidth=_optional(data, "gather_bandwidth", "gather_bandwidth", at),
        cache_bytes=cache_bytes, cache_bandwidth=cache_bw, notes=texts["notes"], source=source,
        measured=_plain(measured))


def _plain(value):
    """YMap/YList -> dict/list (for a profile's free-form `measured` record)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


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


def builtin_device_names() -> list[str]:
    return sorted(p.stem for p in PROFILES.glob("*.yaml"))


def user_device_names() -> list[str]:
    folder = config_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def resolve_device(device: Any) -> Device:
    """A Device from a Device, a built-in name, a name saved in the config folder, or a YAML path."""
    if isinstance(device, Device):
        return device
    if isinstance(device, os.PathLike):
        return load_device_file(device)
    if not isinstance(device, str) or not device.strip():
        raise OptionError(f"device must be a name (see `hetcalc devices`) or a profile path, got {device!r}")
    text = device.strip()
    looks_like_path = text.endswith((".yaml", ".yml")) or os.sep in text or "/" in text
    if looks_like_path:
        return load_device_file(Path(text))
    key = text.lower()
    if key in builtin_device_names():
        return load_device_file(PROFILES / f"{key}.yaml")
    user = config_dir() / f"{key}.yaml"
    if user.is_file():
        return load_device_file(user)
    known = builtin_device_names() + [n for n in user_device_names() if n not in builtin_device_names()]
    close = suggest(key, tuple(known))
    hint = f" (did you mean '{close}'?)" if close else ""
    extra = " or run `hetcalc calibrate` to make 'local'" if key == "local" else ""
    raise OptionError(f"unknown device '{text}'{hint}; known: {', '.join(known)}{extra} (or give a "
                      "profile's path)")


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
