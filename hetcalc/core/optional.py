"""Entry points to the optional PyTorch extra: importable everywhere, torch loaded only when called."""

from __future__ import annotations

from hetcalc.core.errors import HetcalcError

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
