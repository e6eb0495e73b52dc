"""Entry points to the optional PyTorch extra: importable everywhere, torch loaded only when called."""

from __future__ import annotations

from typing import Any

from .errors import HetcalcError

TORCH_HINT = "pip install 'hetcalc[torch]'"


class MissingDependency(HetcalcError):
    """An optional extra (PyTorch) that a feature needs is not installed."""


def require_torch(feature: str):
    """The torch module, or a one-line `MissingDependency` naming `feature` and the install command."""
    try:
        import torch
    except ImportError:
        raise MissingDependency(f"{feature} needs PyTorch: {TORCH_HINT}") from None
    return torch


def build_module(arch: Any, variant: str = "standard", P: Any = 4, G: Any = None, hetconv_impl: str = "split",
                 **options: Any):
    """`arch` built as a PyTorch module (eval mode) for one variant: see `hetcalc.torch_build.build`."""
    require_torch("build_module")
    from .torch_build import build

    return build(arch, variant, P=P, G=G, hetconv_impl=hetconv_impl, **options)
