"""Hints about how a model file was written, when that changes what hetcalc can count: one warning line each."""

from __future__ import annotations

import warnings

from hetcalc.network.graph import BatchNorm, Conv, Network


class FoldedBatchNormWarning(UserWarning):
    """The model has no BatchNorm and its convolutions have biases, or none of many has one (the dynamo exporter drops
    an all-zero folded bias): an exporter may have folded BatchNorm away."""


def batchnorm_folded(network: Network) -> str | None:
    """What an export that folded BatchNorm into the convolutions left (torch.onnx.export with training=EVAL, its
    default, or the dynamo exporter), when the network normalizes nowhere (no BatchNorm, nor LayerNorm: ConvNeXt,
    ViT): "biases" when its convolutions have biases; "no biases" when none of at least DEEP convolutions has
    one (the dynamo exporter drops a folded bias that is all zero, as on an untrained model); else None."""
    convs = [layer for layer in network.layers if isinstance(layer, Conv)]
    normalized = any(isinstance(layer, BatchNorm) or layer.kind == "norm" for layer in network.layers)
    if normalized or any(c.bn for c in convs):
        return None
    if any(c.bias for c in convs):
        return "biases"
    return "no biases" if len(convs) >= DEEP else None


DEEP = 10  # convolutions: a network this deep without bias or normalization anywhere is not one that trains


def warn_if_batchnorm_folded(network: Network) -> None:
    """One warning line when `batchnorm_folded(network)`: what is then not counted, and how to export."""
    found = batchnorm_folded(network)
    if found is None:
        return
    seen = ("the convolutions have biases and there is no BatchNorm" if found == "biases" else
            "no convolution has a bias and there is no BatchNorm nor any other norm")
    if found == "biases":
        counted = ("each BatchNorm channel counts 1 parameter (its folded bias) where the module has 2 (3 with a "
                   "conv bias)")
    else:
        counted = ("its 2 parameters per channel are not counted (the dynamo exporter drops a folded bias that is all "
                   "zero, as an untrained model's is, with every other all-zero bias)")
    warnings.warn(f"{network.source}: {seen}; if the exporter folded BatchNorm into them (torch.onnx.export's "
                  f"default training=EVAL, or dynamo=True), {counted}, and --ops bn is not counted: export with "
                  "dynamo=False, training=torch.onnx.TrainingMode.PRESERVE, or analyze the module (docs/onnx.md)",
                  FoldedBatchNormWarning, stacklevel=4)
