"""A cache of parsed built-in architectures, so that `hetcalc vgg16` need not load the spec machinery.

Each built-in's `Network` is pickled once into the user's cache folder ($HETCALC_CACHE_DIR, else
$XDG_CACHE_HOME/hetcalc, else ~/.cache/hetcalc: never the package folder, which may be read-only). The
entry's name carries the length and CRC-32 of the YAML text and a CRC-32 of hetcalc's version and of the size
and modification time of the modules that turn a spec into a Network, so that editing any of them makes a new entry. Any problem
(no cache folder, a read-only one, a damaged entry) falls back to parsing: the cache never changes a result.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from hetcalc.core.paths import PACKAGE_DIR, PARSER_DIRS
from hetcalc.network.graph import Network


def parser_files() -> list[Path]:
    """Every module that turns a spec into a Network (all of network/ and core/, found by glob, not by name)."""
    return sorted(p for folder in PARSER_DIRS for p in folder.rglob("*.py") if "__pycache__" not in p.parts)



def cache_dir() -> Path:
    if os.environ.get("HETCALC_CACHE_DIR"):
        return Path(os.environ["HETCALC_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hetcalc"


def _key(text: bytes) -> str:
    """The YAML text's length and CRC-32, and a CRC-32 of hetcalc's version and the parser modules' stamps
    (zlib, not hashlib: OpenSSL would cost more start-up time than the cache saves)."""
    import zlib

    from hetcalc.core.version import __version__

    stamps = [__version__]
    for path in parser_files():
        stat = path.stat()
        stamps.append(f"{path.relative_to(PACKAGE_DIR)}:{stat.st_size}:{stat.st_mtime_ns}")
    return f"{len(text)}-{zlib.crc32(text):08x}-{zlib.crc32(chr(0).join(stamps).encode()):08x}"


def load_builtin(path: Path, source: str) -> Network:
    """The built-in spec at `path` as a Network whose `source` is `source`: from the cache, or parsed."""
    from dataclasses import replace

    entry = None
    try:
        entry = cache_dir() / f"{path.stem}-{_key(path.read_bytes())}.pickle"
        with entry.open("rb") as fh:
            network = pickle.load(fh)
        if isinstance(network, Network) and network.source == source:
            return network
    except Exception:  # noqa: BLE001 - a missing, unreadable or damaged entry means: parse
        pass
    from hetcalc.network.spec import load_spec_file

    network = replace(load_spec_file(path), source=source)
    if entry is not None:
        _store(network, entry)
    return network


def _store(network: Network, entry: Path) -> None:
    """Write the entry atomically (a temporary file and a rename); give up silently on any error."""
    tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump(network, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, entry)
    except Exception:  # noqa: BLE001 - a cache that cannot be written is no error
        try:
            tmp.unlink()
        except Exception:  # noqa: BLE001
            pass
