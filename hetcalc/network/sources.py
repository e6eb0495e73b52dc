"""Finding architectures: built-in names, paths to YAML specs or to models (by extension, through the
importers' registry), or specs built in Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hetcalc.core.errors import OptionError, SpecError
from hetcalc.core.hints import did_you_mean
from hetcalc.core.keywords import checked_keywords
from hetcalc.core.paths import ARCHITECTURE_DIRS
from hetcalc.network.graph import Network
from hetcalc.network.importers import IMPORTERS, importer_for


def builtin_dir() -> Path:
    """The folder of built-in YAML specs: inside the installed package, or the source checkout's."""
    for candidate in ARCHITECTURE_DIRS:
        if candidate.is_dir():
            return candidate
    raise SpecError("built-in architectures folder is missing from this installation")


@checked_keywords()
def builtin_names() -> list[str]:
    """Names of the built-in architectures, sorted."""
    return sorted(p.stem for p in builtin_dir().glob("*.yaml"))


def builtin_path(name: str) -> Path:
    return builtin_dir() / f"{name}.yaml"


def looks_like_path(arch: str) -> bool:
    if arch.endswith((".yaml", ".yml", *IMPORTERS)) or "/" in arch or "\\" in arch:
        return True
    try:
        return Path(arch).exists()
    except (OSError, ValueError):  # too long for a file name, or a NUL byte: not a file
        return False


def load_file(path: Path, strict: bool = False, input_shape: Any = None) -> Network:
    """A model in a format of IMPORTERS (its importer loaded only here, by extension), or a YAML spec."""
    loader = importer_for(path)
    if loader is not None:
        return loader(path, strict=strict, input_shape=input_shape)
    refuse_input_shape(input_shape, f"a YAML spec ({path})")
    from hetcalc.network.spec import load_spec_file  # loaded only when a spec is parsed (start-up time)

    return load_spec_file(path)


@checked_keywords()
def resolve(arch: Any, *, input_shape: Any = None, strict: bool = False) -> Network:
    """A Network from a built-in name, a path to a YAML spec or a model (.onnx, ...), a spec dict, a Network,
    or a torch module (with `input_shape`)."""
    if isinstance(arch, Network):
        refuse_input_shape(input_shape, "a Network")
        return arch
    # the spec machinery loads only when a spec is parsed: a built-in usually comes from the cache
    if isinstance(arch, dict):
        refuse_input_shape(input_shape, "a spec mapping")
        from hetcalc.network.spec import build_network

        return build_network(arch, "<dict>", str(arch.get("name", "network")))
    if isinstance(arch, Path):
        return load_file(arch, strict, input_shape)
    if type(arch).__module__.startswith("torch") or hasattr(arch, "named_modules"):
        from hetcalc.network.importers.torch import network_from_module

        return network_from_module(arch, input_shape, strict=strict)
    if not isinstance(arch, str) or not arch:
        raise SpecError(f"architecture must be a name, a path or a spec mapping, got {arch!r}")
    names = builtin_names()
    if arch in names:
        refuse_input_shape(input_shape, f"the built-in {arch}")
        from hetcalc.network.builtin_cache import load_builtin

        return load_builtin(builtin_path(arch), f"built-in architectures/{arch}.yaml")
    if looks_like_path(arch):
        return load_file(Path(arch), strict, input_shape)
    if arch.lower() in names:  # VGG16 is vgg16, as device names are read (a file of that name went first)
        return resolve(arch.lower(), input_shape=input_shape, strict=strict)
    shown = arch if len(arch) <= 80 else f"{arch[:60]}... ({len(arch):,} characters)"
    raise OptionError(f"unknown architecture '{shown}'{did_you_mean(arch, names)}; built-in: {', '.join(names)} "
                    "(or give a path to a .yaml spec)")


def refuse_input_shape(input_shape: Any, what: str) -> None:
    """An input shape given for a spec is refused, not ignored: a spec states its own input."""
    if input_shape is not None:
        shown = tuple(input_shape) if isinstance(input_shape, (list, tuple)) else input_shape
        raise OptionError(f"input_shape {shown!r} (--input-shape) applies to .onnx models and torch modules; {what} "
                          "states its own input (its 'input: [C, H, W]'): edit that instead")
