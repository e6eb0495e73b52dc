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

from torch_models import MODELS  # noqa: E402

P = 2


def hooked_counts(model, shape):
    """Per conv (in execution order): M, N, kernel, groups, output area, bias, whether a BatchNorm reads
    its output directly; plus the linear layers' MACs and the model's sum(numel())."""
    convs, linears, keep = [], [], []
    by_output = {}

    def on_conv(module, inputs, output):
        keep.append(output)  # keep the tensor alive, so its id() stays unique
        record = dict(M=inputs[0].shape[1], N=output.shape[1], k=module.kernel_size, g=module.groups,
                      area=output.shape[2] * output.shape[3], bias=module.bias is not None, bn=False)
        convs.append(record)
        by_output[id(output)] = record

    def on_bn(module, inputs, output):
        record = by_output.get(id(inputs[0]))
        if record is not None:
            record["bn"] = True

    def on_linear(module, inputs, output):
        linears.append(module.in_features * module.out_features)

    handles = []
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            handles.append(module.register_forward_hook(on_conv))
        elif isinstance(module, torch.nn.BatchNorm2d):
            handles.append(module.register_forward_hook(on_bn))
        elif isinstance(module, torch.nn.Linear):
            handles.append(module.register_forward_hook(on_linear))
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, *shape))
    for h in handles:
        h.remove()
    params = sum(p.numel() for p in model.parameters())
    return convs, sum(linears), params


def expected(convs, linear_macs, params, variant, part):
    """Totals by hand: standard from the hooks; each replaced conv swapped for its variant's formula."""
    std_macs = sum(c["area"] * c["N"] * (c["M"] // c["g"]) * c["k"][0] * c["k"][1] for c in convs) + linear_macs
    if variant == "standard":
        return std_macs, params
    macs, total = std_macs, params
    for i, c in enumerate(convs):
        kk = c["k"][0] * c["k"][1]
        if i == 0 or c["g"] != 1 or max(c["k"]) == 1:
            continue
        M, N, area = c["M"], c["N"], c["area"]
        std_w = N * M * kk
        if variant == "hetconv":  # eqs. 2-4: M/P kernels K x K and M - M/P kernels 1 x 1 per filter
            new_w, extra = N * (M // part * kk + M - M // part), 0
        else:  # groupwise (G = P) or depthwise (G = M) K x K M -> M, then pointwise M -> N
            g = part if variant == "gwc_pwc" else M
            new_w = M * (M // g) * kk + M * N
            extra = (M if c["bias"] else 0) + (2 * M if c["bn"] else 0)  # bias and BN after the first too
        if variant == "hetconv":
            macs += area * (new_w - std_w)
        else:
            macs += area * (new_w - std_w)
        total += new_w - std_w + extra
    return macs, total


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
    from hetcalc.torch_import import to_onnx_bytes

    build, shape = MODELS["unet"]
    model = build()
    path = tmp_path / "unet.onnx"
    path.write_bytes(to_onnx_bytes(model, shape))
    from_file = hetcalc.analyze(path, P=4)
    from_module = hetcalc.analyze(model, input_shape=shape, P=4)
    assert [v.to_dict() for v in from_file.variants] == [v.to_dict() for v in from_module.variants]
    kinds = {layer.kind for layer in from_file.network.layers}
    assert {"conv", "concat", "upsample", "pad", "slice", "pool"} <= kinds
    dilated = [c for c in from_file.network.convs if c.dilation != (1, 1)]
    assert [c.dilation for c in dilated] == [(2, 2), (3, 3)]


def test_preactivation_conv_feeding_concat_has_no_bn():
    build, shape = MODELS["densenet"]
    net = hetcalc.analyze(build(), input_shape=shape, P=2).network
    # the 3x3 conv2 of each dense layer feeds a concatenation: no BatchNorm of its own; the 1x1 conv1
    # feeds norm2 directly: it has one. The other BatchNorms (norm1, the transition's, the last) stand alone.
    assert [c.bn for c in net.convs if c.K == 3 and c.name != "/conv0/Conv"] == [False] * 5
    assert [c.bn for c in net.convs if "conv1" in c.name] == [True] * 5
    assert sum(layer.kind == "bn" for layer in net.layers) == 5 + 1 + 1


def test_module_needs_input_shape():
    build, _ = MODELS["vgg"]
    with pytest.raises(hetcalc.OptionError, match="input_shape"):
        hetcalc.analyze(build(), P=2)
