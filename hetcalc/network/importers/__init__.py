"""Other formats -> Network: ONNX graphs and torch modules (through their ONNX export).

`IMPORTERS` maps a file extension (lower case) to its loader, "module:function", imported only when a file of
that extension is read: `hetcalc vgg16` loads no importer, and no onnx. A loader takes
`(path, *, strict, input_shape)` and returns a Network. A new format is one module and one line here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from hetcalc.core.errors import SpecError
from hetcalc.network.graph import Network

IMPORTERS: dict[str, str] = {
    ".onnx": "hetcalc.network.importers.onnx:load_onnx_file",
}


def extension_of(path: str | Path) -> str | None:
    """The registered extension `path` ends with (in any case), or None."""
    name = str(path).lower()
    return next((ext for ext in IMPORTERS if name.endswith(ext)), None)


def importer_for(path: str | Path, default: str | None = None) -> Callable[..., Network] | None:
    """The loader for `path`'s extension (for extension `default` when none is registered), imported now;
    None if neither is registered."""
    import importlib

    ext = extension_of(path) or default
    if ext not in IMPORTERS:
        return None
    module, _, function = IMPORTERS[ext].partition(":")
    return getattr(importlib.import_module(module), function)


def load_model(path: str | Path, *, strict: bool = False, input_shape: Any = None,
               default: str | None = None) -> Network:
    """A Network from a model file, read by the importer of its extension (or of extension `default`)."""
    loader = importer_for(path, default)
    if loader is None:
        raise SpecError(f"no importer reads this file; hetcalc imports {', '.join(sorted(IMPORTERS))} files",
                        source=str(path))
    return loader(Path(path), strict=strict, input_shape=input_shape)
