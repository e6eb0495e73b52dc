"""Issue 18 class 4: what only the torch module shows. ptflops, thop and torchinfo count by module class;
`hetcalc.analyze(module, input_shape=...)` sees each layer's modules, so every preset equals its real tool on
models written with functional activations, subclasses of BatchNorm2d, Conv2d, ReLU6 and Linear, and a reused
ReLU. Each tool runs here on the model itself (tests/peer_tools.py); hand counts check the rules' terms."""

from __future__ import annotations

import warnings

import pytest

torch = pytest.importorskip("torch", reason="torch is not installed")
pytest.importorskip("onnx", reason="onnx is not installed")

import peer_tools  # noqa: E402
from test_peer_tools import MODULES  # noqa: E402

import hetcalc  # noqa: E402

nn, F = torch.nn, torch.nn.functional


class BatchNormAct(nn.BatchNorm2d):
    """timm's BatchNormAct2d: a BatchNorm2d subclass holding its activation as a child module."""

    def __init__(self, channels):
        super().__init__(channels)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(super().forward(x))


class OwnLinear(nn.Linear):
    """timm's own Linear: a subclass whose forward calls F.linear."""

    def forward(self, x):
        return F.linear(x, self.weight, self.bias)


class OwnConv(nn.Conv2d):
    """A Conv2d subclass (timm's Conv2dSame, StdConv2d)."""


class Clamp6(nn.ReLU6):
    pass


class Functional(nn.Module):
    """F.relu, a BatchNormAct, F.max_pool2d, a module global pool and an OwnLinear, on 3x8x8."""

    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, 1, 1, bias=True), BatchNormAct(8)
        self.pool, self.fc = nn.AdaptiveAvgPool2d(1), OwnLinear(8, 4)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.max_pool2d(self.bn2(self.conv2(x)), 2)
        return self.fc(self.pool(x).flatten(1))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1 = OwnConv(8, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8)
        self.conv2, self.bn2 = nn.Conv2d(8, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)  # called twice, as torchvision does

    def forward(self, x):
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + x)


class Mixed(nn.Module):
    """nn.SiLU, a residual block with an OwnConv and a reused ReLU, a ReLU6 subclass, F.gelu, nn.AvgPool2d(8)
    as the global pool, nn.Linear; on 3x8x8."""

    def __init__(self):
        super().__init__()
        self.stem, self.act = nn.Conv2d(3, 8, 3, 1, 1), nn.SiLU()
        self.block = Block()
        self.conv3, self.act6 = nn.Conv2d(8, 16, 1), Clamp6()
        self.conv4, self.pool, self.fc = nn.Conv2d(16, 16, 1), nn.AvgPool2d(8), nn.Linear(16, 10)

    def forward(self, x):
        x = self.act6(self.conv3(self.block(self.act(self.stem(x)))))
        return self.fc(torch.flatten(self.pool(F.gelu(self.conv4(x))), 1))


class TensorCalls(nn.Module):
    """torch.relu, x.relu() and F.relu6 beside F.gelu and F.silu in one forward, on 3x8x8."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2, self.c3 = nn.Conv2d(3, 8, 3, 1, 1), nn.Conv2d(8, 8, 3, 1, 1), nn.Conv2d(8, 8, 1)
        self.c4, self.c5 = nn.Conv2d(8, 8, 1), nn.Conv2d(8, 8, 1)

    def forward(self, x):
        x = torch.relu(self.c1(x))
        x = self.c2(x).relu()
        x = F.relu6(self.c3(x))
        return F.silu(self.c5(F.gelu(self.c4(x))))


class OwnUpsample(nn.Upsample):
    pass


class Upsampling(nn.Module):
    """nn.Upsample, F.interpolate (nearest and bilinear) and an Upsample subclass, on 3x8x8."""

    def __init__(self):
        super().__init__()
        self.c1, self.up, self.c2 = nn.Conv2d(3, 4, 3, 1, 1), nn.Upsample(scale_factor=2), nn.Conv2d(4, 4, 3, 1, 1)
        self.up2, self.c3 = OwnUpsample(scale_factor=2, mode="bilinear"), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        x = F.interpolate(self.c2(self.up(self.c1(x))), scale_factor=2, mode="nearest")
        return self.c3(F.interpolate(self.up2(x), scale_factor=2, mode="bilinear"))


class LayerNorm2d(nn.LayerNorm):
    """torchvision's LayerNorm2d: a LayerNorm subclass over the channels of an NCHW map, through F.layer_norm."""

    def forward(self, x):
        x = F.layer_norm(x.permute(0, 2, 3, 1), self.normalized_shape, self.weight, self.bias, self.eps)
        return x.permute(0, 3, 1, 2)


class Norms(nn.Module):
    """nn.LayerNorm channels-last (ConvNeXt's block norm), a LayerNorm2d, nn.GroupNorm and an affine
    nn.InstanceNorm2d, each after a 1x1 conv of 8 channels, on 3x8x8."""

    def __init__(self):
        super().__init__()
        self.c1, self.ln, self.ln2d = nn.Conv2d(3, 8, 1), nn.LayerNorm(8), LayerNorm2d(8)
        self.c2, self.gn = nn.Conv2d(8, 8, 1), nn.GroupNorm(2, 8)
        self.c3, self.inorm = nn.Conv2d(8, 8, 1), nn.InstanceNorm2d(8, affine=True)

    def forward(self, x):
        x = self.ln(self.c1(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = self.gn(self.c2(self.ln2d(x)))
        return self.inorm(self.c3(x))


SHAPE = (3, 8, 8)


def analyze(model, tool):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hetcalc.analyze(model.eval(), input_shape=SHAPE, variants="standard", convention=tool).standard


@pytest.mark.parametrize("tool", list(peer_tools.TOOLS))
@pytest.mark.parametrize("build", [Functional, Mixed, Upsampling, TensorCalls, Norms])
def test_every_preset_equals_its_tool_whatever_the_module_classes(build, tool):
    pytest.importorskip(MODULES[tool], reason=f"{MODULES[tool]} is not installed")
    torch.manual_seed(0)
    figure, params = peer_tools.TOOLS[tool](build().eval(), SHAPE)
    result = analyze(build(), tool)
    assert result.flops == figure, f"{tool} counts {figure:,}, hetcalc's preset {result.flops:,}"
    if params is not None:
        assert result.params == params


def test_the_class_rules_by_hand():
    """Functional on 8x8: each map 8 x 64 = 512 elements; conv2 36,864 MACs + 512 bias adds; fc 32 + 4."""
    maps, conv1, conv2, fc = 512, 8 * 27 * 64, 8 * 72 * 64, 8 * 4
    pooled = 8 * 4 * 4  # the global pool's input after the 2x2 max pool
    # ptflops: F.relu once (not twice), BatchNormAct's BatchNorm 0 (not in its table; its ReLU child twice),
    # F.max_pool2d once, OwnLinear 0 (F.linear is not patched), the adaptive pool twice
    ptflops = conv1 + 2 * maps + maps + conv2 + maps + 2 * maps + maps + 2 * pooled
    assert analyze(Functional(), "ptflops-pytorch").flops == ptflops
    # thop: exact leaf types only: BatchNormAct (a subclass with a child) and OwnLinear count 0, and so do their
    # parameters (8 + 8 and 32 + 4 of 868); the adaptive pool (16 + 1) per output
    thop = conv1 + 4 * maps + conv2 + pooled + 8
    result = analyze(Functional(), "thop")
    assert (result.flops, result.params) == (thop, 868 - 16 - 36)
    # torchinfo: leaf modules: BatchNormAct is not one (its ReLU is), so its 16 parameters are not mult-adds
    assert analyze(Functional(), "torchinfo").flops == conv1 + 16 + conv2 + maps + fc + 4


def test_norm_module_rules_by_hand():
    """Each norm's input is 8 x 64 = 512 elements. ptflops hooks nn.LayerNorm, nn.GroupNorm and
    nn.InstanceNorm2d by exact type: one per element, two where the module has `affine` (GroupNorm,
    InstanceNorm; LayerNorm has elementwise_affine instead); the LayerNorm2d subclass is not hooked. thop counts
    nn.LayerNorm and nn.InstanceNorm2d, 2 per element doubled with a scale and shift, and no GroupNorm; it counts
    no parameters of the norms it does not count (LayerNorm2d's and GroupNorm's 16 each)."""
    elements = 512
    convs = 8 * 3 * 64 + 2 * 8 * 8 * 64  # three 1x1 convolutions
    bias_adds = 3 * elements
    params = (8 * 3 + 8) + 2 * (8 * 8 + 8) + 4 * 16
    ptflops = convs + bias_adds + elements + 2 * elements + 2 * elements
    assert analyze(Norms(), "ptflops-pytorch").flops == ptflops
    result = analyze(Norms(), "thop")
    assert (result.flops, result.params) == (convs + 4 * elements + 4 * elements, params - 2 * 16)


def test_an_onnx_file_says_which_figures_its_graph_cannot_fix(tmp_path):
    """reconcile on the exported file names the module-class tools; on the module itself it shows the term."""
    from hetcalc.analysis.reconcile import reconcile
    from hetcalc.network.importers.torch import to_onnx_bytes

    path = tmp_path / "functional.onnx"
    path.write_bytes(to_onnx_bytes(Functional(), SHAPE))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from_file = reconcile(str(path))
        from_module = reconcile(Functional().eval(), input_shape=SHAPE)
    assert any("ptflops-pytorch, thop, torchinfo" in note and "module class" in note for note in from_file.notes)
    assert not from_module.notes
    thop = next(t for t in from_module.tools if t.preset.name == "thop")
    assert [t.ops for t in thop.terms if t.term == "modules"] == [-(2048 + 32)]
    assert sum(t.ops for t in thop.terms) == thop.figure


@pytest.mark.parametrize("tool", ["ptflops-pytorch", "thop", "torchinfo"])
@pytest.mark.parametrize("case", ["resnet56-standard", "mobilenet-dwc_pwc", "separable-relu6-standard"])
def test_a_torchvision_style_module_counts_as_its_spec(case, tool):
    """Written as torchvision writes it (a ReLU module called twice per block, ReLU6, depthwise convolutions),
    the module's own classes move nothing: its figure is the tool's, as the spec's is."""
    import test_peer_tools as peers

    pytest.importorskip(MODULES[tool], reason=f"{MODULES[tool]} is not installed")
    index = peers.IDS.index(case)
    name, size, _, _ = peers.CASES[index]
    shape = tuple(peers.spec_data(name, size)["input"])
    figure, _ = peer_tools.TOOLS[tool](peers.fresh_model(index), shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = hetcalc.analyze(peers.fresh_model(index), input_shape=shape, variants="standard", convention=tool)
    assert result.standard.flops == figure
