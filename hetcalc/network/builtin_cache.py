"""A cache of parsed built-in architectures, so that `hetcalc vgg16` need not load the spec machinery.

Each built-in's `Network` is written once as JSON (data only: reading an entry cannot run code) into the
user's cache folder ($HETCALC_CACHE_DIR, else $XDG_CACHE_HOME/hetcalc, else ~/.cache/hetcalc: never the
package folder, which may be read-only). An entry is named and verified by its key, a BLAKE2 digest of the
spec's bytes, its label, hetcalc's version and the source of every module that turns a spec into a Network;
its first line also holds a BLAKE2 digest of the rest. An entry is used only when the folder and the entry
belong to this user and nobody else may write them, the entry is a regular file (never a link, a FIFO or a
device, which are not even waited on), its key and digest match, and every value has the type the layer
expects. Anything else is a miss: the spec is parsed, and the result is the same (docs/guarantees.md).
"""

from __future__ import annotations

import json
import os
import stat
from functools import cache
from pathlib import Path

from hetcalc.core.paths import PACKAGE_DIR, PARSER_DIRS
from hetcalc.network.graph import (Activation, Add, BatchNorm, Concat, Conv, Linear, Mul, Network, Pool,
                                   Reshape)

try:  # the C module behind hashlib.blake2b: hashlib itself would load OpenSSL, which costs start-up time
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without it
    from hashlib import blake2b

FORMAT = "hetcalc-builtin-cache 1"
MAX_ENTRY_BYTES = 16 * 2**20  # the largest built-in takes about 100 KB
LAYER_CLASSES = {cls.__name__: cls for cls in (Conv, Linear, Pool, Add, Mul, Concat, BatchNorm, Activation,
                                               Reshape)}
NETWORK_FIELDS = ("name", "title", "input", "source", "description", "conv_bias", "conv_bn", "meta")
# without dir_fd, O_NOFOLLOW or user ids (Windows) the checks cannot be made: then there is no cache
USABLE = (os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "geteuid")
          and hasattr(os, "O_DIRECTORY"))
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def parser_files() -> list[Path]:
    """Every module that turns a spec into a Network (all of network/ and core/, found by glob, not by name)."""
    return sorted(p for folder in PARSER_DIRS for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def cache_dir() -> Path:
    if os.environ.get("HETCALC_CACHE_DIR"):
        return Path(os.environ["HETCALC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hetcalc"


@cache
def code_digest() -> bytes:
    """BLAKE2 of hetcalc's version and of the path and text of every parser module (read once a run)."""
    from hetcalc.core.version import __version__

    digest = blake2b(__version__.encode(), digest_size=32)
    for path in parser_files():
        digest.update(b"\0" + str(path.relative_to(PACKAGE_DIR).as_posix()).encode() + b"\0" + path.read_bytes())
    return digest.digest()


def entry_key(text: bytes, source: str) -> str:
    """What an entry is: BLAKE2 of the spec's bytes, the label it is served under and hetcalc's own code."""
    digest = blake2b(FORMAT.encode(), digest_size=32)
    for part in (code_digest(), source.encode("utf-8", "surrogateescape"), text):
        digest.update(len(part).to_bytes(8, "little") + part)
    return digest.hexdigest()


def load_builtin(path: Path, source: str) -> Network:
    """The built-in spec at `path` as a Network whose `source` is `source`: from the cache, or parsed."""
    from dataclasses import replace

    folder = name = None
    try:
        key = entry_key(path.read_bytes(), source)
        folder = _open_folder(cache_dir())
        name = entry_name(path.stem, key)
        network = _read(folder, name, key, source) if folder is not None else None
        if network is not None:
            return network
    except Exception:  # noqa: BLE001 - a missing, unreadable or damaged entry means: parse
        pass
    try:
        from hetcalc.network.spec import load_spec_file

        network = replace(load_spec_file(path), source=source)
        if folder is not None and name is not None:
            _store(folder, name, key, network)
        return network
    finally:
        if folder is not None:
            os.close(folder)


def entry_name(stem: str, key: str) -> str:
    """`vgg16-<key>.json` (the stem of a built-in's file: letters, digits and dashes)."""
    return f"{stem}-{key}.json"


def _trusted(info: os.stat_result) -> bool:
    """Owned by this user and writable by nobody else."""
    return info.st_uid == os.geteuid() and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _open_folder(folder: Path) -> int | None:
    """A descriptor of the cache folder (made private if missing), or None when it is not to be trusted:
    another user's, writable by others, or a symbolic link."""
    if not USABLE:
        return None
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        os.mkdir(folder, 0o700)
    except OSError:
        pass
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None
    if not _trusted(os.fstat(fd)):
        os.close(fd)
        return None
    return fd


def _read(folder: int, name: str, key: str, source: str) -> Network | None:
    """The entry for `key`, if it is a trusted regular file whose key, digest and values check out."""
    try:
        fd = os.open(name, _READ_FLAGS, dir_fd=folder)  # a link fails, a FIFO does not block
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or not _trusted(info) or info.st_size > MAX_ENTRY_BYTES:
            return None
        chunks, size = [], 0
        while size <= info.st_size:  # a regular file: read to its end (a short read is not its end)
            chunk = os.read(fd, info.st_size + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    head, _, body = data.partition(b"\n")
    header = json.loads(head)
    if header != {"format": FORMAT, "key": key, "digest": blake2b(body, digest_size=32).hexdigest()}:
        return None
    network = decode(json.loads(body))
    return network if network.source == source else None


def _store(folder: int, name: str, key: str, network: Network) -> None:
    """Write the entry atomically (a private temporary file, then a rename); give up silently on any error."""
    tmp = f".{name}.{os.getpid()}.{os.urandom(6).hex()}.tmp"
    try:
        body = json.dumps(encode(network), separators=(",", ":"), allow_nan=False).encode()
        header = json.dumps({"format": FORMAT, "key": key, "digest": blake2b(body, digest_size=32).hexdigest()})
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     0o600, dir_fd=folder)
        with os.fdopen(fd, "wb") as fh:
            fh.write(header.encode() + b"\n" + body)
        os.replace(tmp, name, src_dir_fd=folder, dst_dir_fd=folder)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is no error
        try:
            os.unlink(tmp, dir_fd=folder)
        except Exception:  # noqa: BLE001
            pass


def encode(network: Network) -> dict:
    """A Network as JSON-ready data: its fields, and each layer as [class name, {field: value}]."""
    data = {name: getattr(network, name) for name in NETWORK_FIELDS}
    data["layers"] = [[type(layer).__name__, {name: getattr(layer, name) for name in _checkers(type(layer))}]
                      for layer in network.layers]
    return data


@cache
def _checkers(cls: type) -> dict[str, object]:
    """{field: a check of its value} for the fields a record is built from, from their annotations."""
    from dataclasses import fields

    return {f.name: _checker(f.type) for f in fields(cls) if f.init and f.name != "layers"}  # layers: decode


def decode(data: dict) -> Network:
    """The Network `encode` wrote; ValueError when a class, a field or a value is not what the record declares
    (a bool for a count, a float, a shape of two numbers: refused, never converted)."""
    if not isinstance(data, dict) or set(data) != {*NETWORK_FIELDS, "layers"}:
        raise ValueError("not a cached network")
    layers = []
    for kind, values in data["layers"]:
        cls = LAYER_CLASSES[kind]
        layers.append(cls(**_checked(values, _checkers(cls))))
    fixed = _checked({name: data[name] for name in NETWORK_FIELDS}, _checkers(Network))
    return Network(**fixed, layers=tuple(layers))


def _checked(values: dict, checkers: dict) -> dict:
    """`values` with lists made tuples, each checked against its field's annotation."""
    out = {}
    for name, value in values.items():
        if type(value) is list:
            value = tuple(value)
        if not checkers[name](value):  # an unknown field: KeyError
            raise ValueError(f"{name}: {value!r} is not what the field holds")
        out[name] = value
    return out


def _is_meta(value) -> bool:
    """Network.meta: what the spec says about the network (not compared, not counted)."""
    return type(value) is dict and all(type(k) is str and type(v) in (str, int) for k, v in value.items())


def _ints(size: int | None):
    return lambda v: type(v) is tuple and (size is None or len(v) == size) and all(type(x) is int for x in v)


_KINDS = {"int": lambda v: type(v) is int, "str": lambda v: type(v) is str, "bool": lambda v: type(v) is bool,
          "None": lambda v: v is None, "dict": _is_meta, "Shape": _ints(3), "tuple[int, int]": _ints(2),
          "tuple[int, ...]": _ints(None)}


@cache
def _checker(annotation: str):
    """A check for an annotation such as 'tuple[int, int] | None' (a KeyError for any other kind of field)."""
    kinds = tuple(_KINDS[kind.strip()] for kind in annotation.split("|"))
    if len(kinds) == 1:
        return kinds[0]
    return lambda v: any(kind(v) for kind in kinds)
