"""hetcalc against an independent reference: the same networks built in PyTorch.

Parameters are PyTorch's sum of numel(); MACs of conv and linear layers come from fvcore's tracer.
Runs only where torch (and, for MACs, fvcore) is installed: `pip install torch fvcore`. The CI machine
has neither, so there these tests are reported as skipped, never as passed.
"""

import pytest

import hetcalc

torch = pytest.importorskip("torch", reason="torch is not installed")
nn = torch.nn

VGG_CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
MOBILENET = [64, (128, 2), 128, (256, 2), 256, (512, 2), 512, 512, 512, 512, 512, (1024, 2), 1024]


def vgg16_cifar(groups=None):
    """Li et al.'s VGG-16; with `groups`, every conv but the first as grouped 3x3 + BN + ReLU + 1x1."""
    layers, c, first = [], 3, True
    for v in VGG_CFG:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
            continue
        if first or groups is None:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU()]
        else:
            g = c if groups == "dw" else groups
            layers += [nn.Conv2d(c, c, 3, padding=1, groups=g), nn.BatchNorm2d(c), nn.ReLU(),
                       nn.Conv2d(c, v, 1), nn.BatchNorm2d(v), nn.ReLU()]
        first, c = False, v
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


class OptionABlock(nn.Module):
    """He et al.'s CIFAR basic block with the parameter-free option-A shortcut."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.stride, self.pad = stride, cout - cin

    def forward(self, x):
        shortcut = nn.functional.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.pad))
        return torch.relu(self.body(x) + shortcut)


def resnet56_cifar():
    layers, c = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()], 16
    for width, stride in ((16, 1), (32, 2), (64, 2)):
        for j in range(9):
            layers.append(OptionABlock(c, width, stride if j == 0 else 1))
            c = width
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def mobilenet_cifar():
    layers, c = [nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU()], 32
    for v in MOBILENET:
        out, stride = v if isinstance(v, tuple) else (v, 1)
        layers += [nn.Conv2d(c, c, 3, stride, 1, groups=c, bias=False), nn.BatchNorm2d(c), nn.ReLU(),
                   nn.Conv2d(c, out, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU()]
        c = out
    return nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 10))


CASES = [
    ("vgg16", "standard", lambda: vgg16_cifar()),
    ("vgg16", "gwc_pwc", lambda: vgg16_cifar(groups=4)),
    ("vgg16", "dwc_pwc", lambda: vgg16_cifar(groups="dw")),
    ("resnet56", "standard", resnet56_cifar),
    ("mobilenet", "dwc_pwc", mobilenet_cifar),
]


@pytest.mark.parametrize("arch, variant, build", CASES, ids=[f"{a}-{v}" for a, v, _ in CASES])
def test_parameters_equal_pytorch_numel(arch, variant, build):
    model = build()
    expected = sum(p.numel() for p in model.parameters())
    assert hetcalc.analyze(arch, P=4, G=4).variant(variant).params == expected


@pytest.mark.parametrize("arch, variant, build", CASES, ids=[f"{a}-{v}" for a, v, _ in CASES])
def test_macs_equal_fvcore_conv_and_linear(arch, variant, build):
    fvcore = pytest.importorskip("fvcore.nn", reason="fvcore is not installed")
    model = build().eval()
    flops = fvcore.FlopCountAnalysis(model, torch.zeros(1, 3, 32, 32))
    flops.unsupported_ops_warnings(False)
    flops.uncalled_modules_warnings(False)
    by_op = flops.by_operator()
    expected = sum(by_op.get(op, 0) for op in ("conv", "linear", "addmm"))
    assert hetcalc.analyze(arch, P=4, G=4).variant(variant).macs == expected
