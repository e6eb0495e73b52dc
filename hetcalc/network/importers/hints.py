"""Hints about how a model file was written, when that changes what hetcalc can count: one warning line each."""

from __future__ import annotations

import warnings

from hetcalc.network.graph import BatchNorm, Conv, Network


class FoldedBatchNormWarning(UserWarning):
    """The model's convolutions have biases and it has no BatchNorm: an exporter may have folded it away."""


def batchnorm_folded(network: Network) -> bool:
    """Convolutions with biases and no BatchNorm (nor LayerNorm: ConvNeXt, ViT) anywhere: what an export that folds BatchNorm into the
    convolutions leaves (torch.onnx.export with training=EVAL, its default, or the dynamo exporter)."""
    convs = [layer for layer in network.layers if isinstance(layer, Conv)]
    return (any(c.bias for c in convs) and not any(c.bn for c in convs)  # a network that normalizes otherwise
            and not any(isinstance(layer, BatchNorm) or layer.kind == "norm" for layer in network.layers))


def warn_if_batchnorm_folded(network: Network) -> None:
    """One warning line when `batchnorm_folded(network)`: what is then not counted, and how to export."""
    if batchnorm_folded(network):
        warnings.warn(f"{network.source}: the convolutions have biases and there is no BatchNorm; if the exporter "
                      "folded BatchNorm into them (torch.onnx.export's default training=EVAL, or dynamo=True), each "
                      "BatchNorm channel counts 1 parameter (its folded bias) where the module has 2, and --ops bn "
                      "is not counted: export with dynamo=False, "
                      "training=torch.onnx.TrainingMode.PRESERVE, or analyze the module (docs/onnx.md)",
                      FoldedBatchNormWarning, stacklevel=4)
