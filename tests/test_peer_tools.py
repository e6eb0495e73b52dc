"""Each `--convention` preset against the real tool it reproduces, on real torch models.

The models are written by hand as torchvision writes them (tests/torchvision_style.py), independently of
hetcalc's specs; each pinned tool (fvcore 0.1.5, ptflops 0.7.5 with both backends, thop 0.1.1, torchinfo 1.8.0,
torch 2.13's FlopCounterMode) runs on each of them, and its figure and parameter count must equal hetcalc's
under the preset exactly. The ImageNet networks run at a reduced input (the spec's `input` changed to match):
every rule is per element, so a rule that holds at 64 x 64 holds at 224 x 224, and test_presets.py checks the
224 x 224 figures the tools print for ResNet-50 (issue 11). Skipped where torch or a tool is not installed;
CI installs them (`pip install '.[test,torch,peers,models]'`).
"""

import copy
from pathlib import Path

import pytest
import yaml

import hetcalc

torch = pytest.importorskip("torch", reason="torch is not installed")

import peer_tools  # noqa: E402  (needs torch)
import torchvision_style as tv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MODULES = {"fvcore": "fvcore", "ptflops-pytorch": "ptflops", "ptflops-aten": "ptflops", "thop": "thop",
           "torchinfo": "torchinfo", "flopcounter": "torch.utils.flop_counter"}

# (spec, reduced input side or None, hetcalc variant, torch model)
CASES = [
    ("vgg16", None, "standard", lambda: tv.vgg16_cifar()),
    ("vgg16", None, "gwc_pwc", lambda: tv.vgg16_cifar(groups=4)),
    ("vgg16", None, "dwc_pwc", lambda: tv.vgg16_cifar(groups="dw")),
    ("vgg16-imagenet", 32, "standard", lambda: tv.vgg16_imagenet(32)),
    ("resnet34", 32, "standard", tv.resnet34),
    ("resnet50", 32, "standard", tv.resnet50),
    ("resnet56", None, "standard", tv.resnet56),
    ("mobilenet", None, "standard", lambda: tv.mobilenet(depthwise=False)),
    ("mobilenet", None, "dwc_pwc", lambda: tv.mobilenet(depthwise=True)),
    ("lenet-avgpool", None, "standard", tv.lenet_avgpool),
    ("resblocks-maxpool", None, "standard", tv.resblocks_maxpool),
    ("separable-relu6", None, "standard", tv.separable_relu6),
    ("activations", None, "standard", tv.activations),
]
IDS = [f"{spec}{'@' + str(size) if size else ''}-{variant}" for spec, size, variant, _ in CASES]


def spec_data(name, size):
    path = ROOT / "architectures" / f"{name}.yaml"
    if not path.exists():
        path = ROOT / "tests" / "specs" / f"{name}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if size:
        data["input"] = [data["input"][0], size, size]
    return data


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The tools' figures do not depend on threads; one keeps the suite fast on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


_MODELS = {}


def fresh_model(index):
    """A clean copy of case `index`'s model, built once (thop and ptflops leave hooks and buffers behind)."""
    if index not in _MODELS:
        torch.manual_seed(0)
        with torch.no_grad():
            _MODELS[index] = CASES[index][3]().eval()
    return copy.deepcopy(_MODELS[index])


def test_every_builtin_architecture_is_measured():
    assert {spec for spec, *_ in CASES} >= set(hetcalc.builtin_names())
    assert len({spec for spec, *_ in CASES} - set(hetcalc.builtin_names())) >= 3


@pytest.mark.parametrize("tool", list(peer_tools.TOOLS))
@pytest.mark.parametrize("index", range(len(CASES)), ids=IDS)
def test_preset_equals_the_tool(index, tool):
    pytest.importorskip(MODULES[tool], reason=f"{MODULES[tool]} is not installed")
    name, size, variant, _ = CASES[index]
    data = spec_data(name, size)
    model = fresh_model(index)
    figure, params = peer_tools.TOOLS[tool](model, tuple(data["input"]))
    result = hetcalc.analyze(data, P=4, variants=variant, convention=tool).variant(variant)
    assert result.flops == figure, f"{tool} counts {figure:,}, hetcalc's preset {result.flops:,}"
    assert result.params == peer_tools.numel(model)
    if params is not None:
        assert result.params == params


def test_model_writing_details_move_the_figures():
    """The details docs/conventions.md names: a tool's figure changes with how the model is written."""
    for module in ("fvcore", "ptflops", "thop"):
        pytest.importorskip(module)
    nn = torch.nn

    class MeanPool(nn.Module):
        def forward(self, x):
            return x.mean((2, 3))

    def net(pool, relu=nn.ReLU):
        return nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), relu(), pool,
                             nn.Flatten(), nn.Linear(8, 2)).eval()

    macs = 8 * 3 * 9 * 16 * 16 + 8 * 2
    bn, act, pooled = 8 * 16 * 16, 8 * 16 * 16, 8 * 16 * 16
    shape = (3, 16, 16)
    adaptive, mean, fixed = nn.AdaptiveAvgPool2d((1, 1)), MeanPool(), nn.AvgPool2d(16)
    # fvcore: adaptive pool counts its input, a mean or a fixed-kernel pool nothing; training mode: BN 5/element
    assert peer_tools.fvcore(net(adaptive), shape)[0] == macs + 2 * bn + pooled
    assert peer_tools.fvcore(net(mean), shape)[0] == macs + 2 * bn
    assert peer_tools.fvcore(net(fixed), shape)[0] == macs + 2 * bn
    assert peer_tools.fvcore(net(adaptive).train(), shape)[0] == macs + 5 * bn + pooled
    # thop: (kernel area + 1) per output of the adaptive pool, 1 per output of AvgPool2d, 0 for a mean
    assert peer_tools.thop(net(adaptive), shape)[0] == macs + 4 * bn + pooled + 8
    assert peer_tools.thop(net(fixed), shape)[0] == macs + 4 * bn + 8
    assert peer_tools.thop(net(mean), shape)[0] == macs + 4 * bn
    # ptflops: module ReLU twice (hook + patched F.relu), pools twice; a plain mean nothing
    bias = 2
    assert peer_tools.ptflops_pytorch(net(adaptive), shape)[0] == macs + bias + 2 * bn + 2 * act + 2 * pooled
    assert peer_tools.ptflops_pytorch(net(mean), shape)[0] == macs + bias + 2 * bn + 2 * act
    assert peer_tools.ptflops_pytorch(net(mean, nn.ReLU6), shape)[0] == macs + bias + 2 * bn + act

    class Functional(nn.Module):  # F.relu once; `x + x` nothing, torch.add(x, x) once per element
        def __init__(self, add):
            super().__init__()
            self.conv, self.add = nn.Conv2d(3, 8, 3, 1, 1, bias=False), add

        def forward(self, x):
            x = nn.functional.relu(self.conv(x))
            return self.add(x, x)

    assert peer_tools.ptflops_pytorch(Functional(lambda a, b: a + b).eval(), shape)[0] == macs - 16 + act
    assert peer_tools.ptflops_pytorch(Functional(lambda a, b: torch.add(a, b)).eval(), shape)[0] == macs - 16 + 2 * act


@pytest.mark.parametrize("tool", ["thop", "flopcounter", "torchinfo"])
def test_resnet50_at_full_size(tool):
    """The 224 x 224 figures of issue 11, for the tools that run fast there (test_presets.py pins all seven)."""
    pytest.importorskip(MODULES[tool], reason=f"{MODULES[tool]} is not installed")
    from test_presets import RESNET50

    figure, _ = peer_tools.TOOLS[tool](fresh_model(IDS.index("resnet50@32-standard")), (3, 224, 224))
    assert figure == RESNET50[tool]
