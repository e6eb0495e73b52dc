"""Real torchvision and timm networks, built here without weights (nothing is downloaded), against the real
counting tools run on the same modules in this test (tests/peer_tools.py: fvcore, ptflops with both backends,
thop, torchinfo, FlopCounterMode, and the sum of numel for parameters).

Each network is costed twice: as a module (`hetcalc.analyze(module, input_shape=...)`) and through the file a
user would have (torch.onnx.export as tests/onnx/make_modern.py exports, `hetcalc import`, the spec analysed).
Every figure must equal the tool's exactly, except the ones listed with the reason they differ, checked to
still differ (by the hand-counted amount where the reason gives one), so the lists stay true. The ImageNet
networks run at 64 x 64: every rule is per element, and tests/test_onnx_modern.py holds the 224 x 224 corpus.

Needs the pinned `models` and `peers` extras (`pip install torch==2.14.1 '.[test,torch,peers,models]'`):
skipped without them, failed instead when HETCALC_REQUIRE_MODELS=1 (.ci/run sets it).
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import warnings
from pathlib import Path

import pytest

import hetcalc

REQUIRED = os.environ.get("HETCALC_REQUIRE_MODELS") == "1"


def need(name: str):
    """The module `name`; a skip of this file without it, a failure when HETCALC_REQUIRE_MODELS=1."""
    try:
        return importlib.import_module(name)
    except Exception as exc:  # noqa: BLE001 - PyPI's torchvision beside another torch raises RuntimeError
        if REQUIRED:
            raise
        pytest.skip(f"{name} does not import ({type(exc).__name__}): pip install '.[test,torch,peers,models]'",
                    allow_module_level=True)


torch = need("torch")
torchvision = need("torchvision")
timm = need("timm")
for _name in ("onnx", "fvcore", "ptflops", "thop", "torchinfo"):
    need(_name)

import peer_tools  # noqa: E402  (needs torch)
from test_bad_specs import run_cli  # noqa: E402
from test_onnx_modern import BN_ACT, MODERN  # noqa: E402

SHAPE = (3, 64, 64)


def two_stage_convnext():
    """torchvision's ConvNeXt classes (CNBlock, LayerNorm2d, layer scale), two stages of two blocks: the op
    types of convnext_tiny at a fraction of its cost."""
    from torchvision.models.convnext import CNBlockConfig, ConvNeXt

    return ConvNeXt([CNBlockConfig(32, 64, 2), CNBlockConfig(64, None, 2)])


MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(weights=None),
    "mobilenet_v3_small": lambda: torchvision.models.mobilenet_v3_small(weights=None),
    "convnext_two_stages": two_stage_convnext,
    "efficientnet_b0": lambda: timm.create_model("efficientnet_b0", pretrained=False),
    "vit_tiny_patch16_224": lambda: timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=64),
}
PRESETS = sorted(peer_tools.TOOLS)

# ConvNeXt at 64 x 64: a 4 x 4 patchify stem (16 x 16), then 2 blocks of 32 channels, a 2 x 2 downsampling,
# 2 blocks of 64 channels at 8 x 8; each block has one nn.LayerNorm over its whole map
BLOCK_NORM_ELEMENTS = 2 * 32 * 16 * 16 + 2 * 64 * 8 * 8
# timm's ViT-Ti at 64 x 64: 4 x 4 patches + the class token = 17 tokens, 12 blocks of 3 heads of 64 features;
# F.scaled_dot_product_attention: Q K^T and A V, each 17 x 17 x 64 MACs per head
VIT_ATTENTION_MACS = 12 * 2 * 3 * 17 * 17 * 64
# ptflops' timm Attention rule per block (ptflops/pytorch_ops.py timm_attention_counter_hook): N d h for the Q
# scaling, h (2 N^2 d + N^2); against the preset's qkv and proj (MACs and one bias add per output element)
# and the two products
VIT_PTFLOPS_ATTENTION = 12 * ((17 * 64 * 3 + 3 * (2 * 17 * 17 * 64 + 17 * 17))
                              - (17 * 192 * 576 + 17 * 576) - (17 * 192 * 192 + 17 * 192) - 2 * 3 * 17 * 17 * 64)
LAYER_NORM = ("the tool counts nn.LayerNorm (ConvNeXt's block norms) but not torchvision's LayerNorm2d subclass "
              "(stem, downsampling); both are the same LayerNormalization op in the graph, and the preset counts 0")
# (model, preset) -> (why the figure differs, tool's figure - hetcalc's, or None where not worked out)
NOT_FROM_THE_MODULE = {
    ("vit_tiny_patch16_224", "thop"): ("timm's Attention calls F.scaled_dot_product_attention, which thop does "
                                       "not count; the preset counts its two products", -VIT_ATTENTION_MACS),
    ("vit_tiny_patch16_224", "ptflops-pytorch"): (
        "ptflops 0.7.5 hooks timm's Attention with a rule of its own (Q scaling, Q K^T, softmax, A V) and, the "
        "module being one it hooks, never adds its children qkv and proj (Linear) to the total; the preset counts "
        "those Linears and the two products as the graph shows them", VIT_PTFLOPS_ATTENTION),
}
# what the ONNX file cannot show, besides the above (tests/test_onnx_modern.py gives the same reasons)
NOT_FROM_THE_GRAPH = {
    **NOT_FROM_THE_MODULE,
    ("convnext_two_stages", "ptflops-pytorch"): (LAYER_NORM + " (the tool: 1 per element)", BLOCK_NORM_ELEMENTS),
    ("convnext_two_stages", "thop"): (LAYER_NORM + " (the tool: 4 per element)", 4 * BLOCK_NORM_ELEMENTS),
    ("efficientnet_b0", "ptflops-pytorch"): (BN_ACT, None), ("efficientnet_b0", "thop"): (BN_ACT, None),
    ("efficientnet_b0", "torchinfo"): (BN_ACT, None),
}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """The figures do not depend on threads; one keeps the suite fast on a shared machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def build(model: str):
    torch.manual_seed(0)
    return MODELS[model]().eval()


_CACHE: dict = {}


def cached(key, make):
    if key not in _CACHE:
        _CACHE[key] = make()
    return _CACHE[key]


def tools(model: str) -> dict:
    """Each real tool's (figure, parameters) on a fresh copy of the model, and the sum of numel."""
    figures = cached(("tools", model), lambda: peer_tools.run_all(lambda: MODELS[model](), SHAPE))
    return {**figures, "numel": peer_tools.numel(build(model))}


def quietly(arch, convention):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return hetcalc.analyze(arch, variants="standard", convention=convention).standard


def module_network(model: str):
    """The module read once (its export and module facts); each preset then costs that network."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cached(("module", model), lambda: hetcalc.analyze(build(model), input_shape=SHAPE,
                                                                 variants="standard").network)


def imported_spec(model: str, tmp_path_factory) -> tuple[Path, Path]:
    """The model exported as a user would (weights included, BatchNorm kept), and `hetcalc import`'s spec of it."""
    def make():
        folder = tmp_path_factory.mktemp(model)
        onnx_path, spec_path = folder / f"{model}.onnx", folder / f"{model}.yaml"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(build(model), (torch.zeros(1, *SHAPE),), str(onnx_path), dynamo=False,
                              opset_version=17, training=torch.onnx.TrainingMode.PRESERVE,
                              input_names=["input"], output_names=["output"])
        result = run_cli("import", onnx_path, "-o", spec_path)
        assert result.exit_code == 0, result.stderr
        return onnx_path, spec_path
    return cached(("files", model), make)


def check(got: int, want: int, listed) -> None:
    if listed is None:
        assert got == want
        return
    reason, difference = listed
    assert got != want, f"exact now: drop it from the list ({reason})"
    if difference is not None:
        assert want - got == difference, reason


@pytest.mark.parametrize("model", MODELS)
def test_module_parameters_are_sum_of_numel(model):
    assert quietly(module_network(model), "paper").params == tools(model)["numel"]


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("model", MODELS)
def test_module_equals_each_tool(model, preset):
    figure, _ = tools(model)[preset]
    check(quietly(module_network(model), preset).flops, figure, NOT_FROM_THE_MODULE.get((model, preset)))


@pytest.mark.parametrize("model", MODELS)
def test_exported_file_round_trips_through_import(model, tmp_path_factory):
    """The exported file and `hetcalc import`'s spec of it give the same figure under every preset; the spec's
    figures are the tools' except where the graph cannot show what the tool counts."""
    onnx_path, spec_path = imported_spec(model, tmp_path_factory)
    figures = tools(model)
    spec = quietly(spec_path, "paper")
    assert spec.params == quietly(onnx_path, "paper").params == figures["numel"]
    assert spec.macs == quietly(onnx_path, "paper").macs
    for preset in PRESETS:
        got = quietly(spec_path, preset).flops
        assert got == quietly(onnx_path, preset).flops, preset
        check(got, figures[preset][0], NOT_FROM_THE_GRAPH.get((model, preset)))


def test_make_modern_regenerates_a_committed_file(tmp_path):
    """tests/onnx/make_modern.py, run here on one model, writes a file that analyses as the committed one does,
    under every preset, layer by layer."""
    spec = importlib.util.spec_from_file_location("make_modern", MODERN.parent / "make_modern.py")
    make_modern = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_modern)
    key = "shufflenet_v2_x1_0"
    fresh = tmp_path / f"{key}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh.write_bytes(make_modern.stripped_onnx(make_modern.build(key)))
    for preset in ["paper", *PRESETS]:
        got, committed = (quietly(path, preset) for path in (fresh, MODERN / f"{key}.onnx"))
        assert (got.flops, got.params) == (committed.flops, committed.params), preset
        assert [(r.name, r.flops, r.params) for r in got.layers] == [
            (r.name, r.flops, r.params) for r in committed.layers]
