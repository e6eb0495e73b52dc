"""Fidelity on real torch models: hetcalc's counts of a module (and of its ONNX export) against counts
taken from the running model by forward hooks (standard) and hand formulas per variant.

Runs where torch and onnx are installed (CI installs both); skipped cleanly otherwise.
"""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import hetcalc  # noqa: E402
from hetcalc.spec import load_spec_text  # noqa: E402
from hetcalc.spec_writer import network_to_yaml  # noqa: E402

from hand_counts import expected  # noqa: E402
from torch_models import MODELS, hooked_counts  # noqa: E402

P = 2


@pytest.mark.parametrize("key", sorted(MODELS))
def test_module_counts_match_hooks_and_hand_formulas(key):
    build, shape = MODELS[key]
    torch.manual_seed(0)
    model = build()
    convs, linear_macs, params = hooked_counts(model, shape)
    report = hetcalc.analyze(model, input_shape=shape, P=P)
    for v in report.variants:
        macs, total = expected(convs, linear_macs, params, v.variant, P)
        assert (v.macs, v.params) == (macs, total), (key, v.variant)
    # the editable spec `hetcalc import` writes gives identical results, layer by layer
    again = hetcalc.analyze(load_spec_text(network_to_yaml(report.network), f"{key}.yaml"), P=P)
    for a, b in zip(report.variants, again.variants):
        assert a.to_dict() == b.to_dict()


def test_onnx_file_and_module_agree(tmp_path):
    from hetcalc.network.importers.torch import to_onnx_bytes

    build, shape = MODELS["unet"]
    model = build()
    path = tmp_path / "unet.onnx"
    path.write_bytes(to_onnx_bytes(model, shape))
    from_file = hetcalc.analyze(path, P=4)
    from_module = hetcalc.analyze(model, input_shape=shape, P=4)
    def counts(report):  # everything but the names: the module path names layers by torch module
        return [[{k: v for k, v in r.to_dict().items() if k != "name"} for r in v.layers] + [v.macs, v.params]
                for v in report.variants]

    assert counts(from_file) == counts(from_module)
    assert from_module.network.convs[0].name == "enc1.0.0"  # named_modules()' name
    assert from_file.network.convs[0].name == "/enc1/enc1.0/enc1.0.0/Conv"  # the ONNX node's
    kinds = {layer.kind for layer in from_file.network.layers}
    assert {"conv", "concat", "upsample", "pad", "slice", "pool"} <= kinds
    dilated = [c for c in from_file.network.convs if c.dilation != (1, 1)]
    assert [c.dilation for c in dilated] == [(2, 2), (3, 3)]


def test_preactivation_conv_feeding_concat_has_no_bn():
    build, shape = MODELS["densenet"]
    net = hetcalc.analyze(build(), input_shape=shape, P=2).network
    # the 3x3 conv2 of each dense layer feeds a concatenation: no BatchNorm of its own; the 1x1 conv1
    # feeds norm2 directly: it has one. The other BatchNorms (norm1, the transition's, the last) stand alone.
    assert [c.bn for c in net.convs if c.K == 3 and c.name != "conv0"] == [False] * 5
    assert [c.bn for c in net.convs if "conv1" in c.name] == [True] * 5
    assert sum(layer.kind == "bn" for layer in net.layers) == 5 + 1 + 1


def test_module_needs_input_shape():
    build, _ = MODELS["vgg"]
    with pytest.raises(hetcalc.OptionError, match="input_shape"):
        hetcalc.analyze(build(), P=2)


def test_weights_the_exporter_gives_as_graph_inputs_are_parameters():
    """A module is exported without its weights (export_params=False): LayerNorm's scale and shift and a bare
    nn.Parameter (ConvNeXt's layer scale) are then graph inputs, not initializers, and are parameters all the
    same, as in the file exported with its weights."""
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.norm = nn.Conv2d(3, 8, 1), nn.LayerNorm(8)
            self.gamma = nn.Parameter(torch.ones(8))

        def forward(self, x):
            x = self.norm(self.conv(x).permute(0, 2, 3, 1))
            return (self.gamma * x).permute(0, 3, 1, 2)

    report = hetcalc.analyze(Block(), input_shape=(3, 4, 4), variants="standard")
    assert report.standard.params == (8 * 3 + 8) + 2 * 8 + 8  # conv weight and bias, norm scale and shift, gamma
