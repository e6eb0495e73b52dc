"""Compiled mode's kernel lists (timing/fusion.py) against hand formulas: BatchNorm folded, activations and
residual adds fused into the convolution that produces their input; nothing else fused."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import hetcalc
from hetcalc.analysis.timed import variant_kernels
from hetcalc.cli import main
from hetcalc.errors import OptionError

C, H = 16, 8
BLOCK = {"input": [C, H, H], "defaults": {"conv": {"bn": True, "act": "relu"}},
         "layers": [{"stage": {"block": "basic", "out": C, "repeat": 1}}]}  # conv-bn-relu, conv-bn, add, relu


def kernels(arch, mode, B, dtype="fp32", variant="standard", impl="fused", **options):
    report = hetcalc.analyze(arch, P=4, variants=variant, **options)  # counted only: the kernels come next
    return [k for layer in variant_kernels(report, report.variant(variant), dtype, B, impl, mode) for k in layer]


@pytest.mark.parametrize("B,dtype,s", [(1, "fp32", 4), (3, "fp16", 2)])
def test_basic_block_eager_and_compiled_by_hand(B, dtype, s):
    E = B * C * H * H  # every activation of the block
    W = C * C * 9  # each 3 x 3 convolution's weights
    eager = kernels(BLOCK, "eager", B, dtype)
    assert [k.op for k in eager] == ["conv", "bn", "act", "conv", "bn", "add", "act"]
    eager_bytes = 2 * ((E + W + E) + (2 * E + 4 * C)) + 2 * E + 3 * E + 2 * E  # 2 x (conv, bn); relu; add; relu
    assert sum(k.bytes for k in eager) == eager_bytes * s

    compiled = kernels(BLOCK, "compiled", B, dtype)
    assert [k.op for k in compiled] == ["conv", "conv"]  # BN folded; both ReLUs and the add in epilogues
    first, second = compiled
    # BN's shift becomes the bias (C values); the first ReLU runs on the tile before it is written
    assert first.bytes_read == (E + W + C) * s and first.bytes_written == E * s
    # the add reads its second input (the block's input, E) inside the second convolution
    assert second.bytes_read == (E + W + C + E) * s and second.bytes_written == E * s
    assert first.weight_bytes == second.weight_bytes == (W + C) * s
    macs = B * H * H * W
    assert first.flops == 2 * macs + E  # the ReLU's one op per element still happens
    assert second.flops == 2 * macs + E + E  # the add and the ReLU
    report = hetcalc.analyze(BLOCK, variants="standard", dtype=dtype, batch=B, mode="compiled")
    assert report.standard.bytes == (5 * E + 2 * W + 2 * C) * s


def test_a_convolution_with_its_own_bias_reads_no_second_one():
    spec = {"input": [C, H, H], "layers": [{"conv": {"out": C, "bias": True, "bn": True, "act": "relu"}}]}
    (k,) = kernels(spec, "compiled", 2)
    E, W = 2 * C * H * H, C * C * 9
    assert k.bytes_read == (E + W + C) * 4  # its own bias takes BN's shift


def test_hetconv_split_keeps_its_gather_and_fuses_its_add():
    B, s, P, M, N = 2, 4, 4, 16, 32
    spec = {"input": [M, H, H], "layers": [{"conv": {"out": M, "kernel": 1, "bn": True, "act": "relu"}},
                                            {"conv": {"out": N, "bn": True, "act": "relu"}}]}
    eager = kernels(spec, "eager", B, variant="hetconv", impl="split", replace_first=False)
    compiled = kernels(spec, "compiled", B, variant="hetconv", impl="split", replace_first=False)
    assert [k.op for k in eager] == ["conv", "bn", "act", "conv", "gather", "conv", "add", "bn", "act"]
    assert [k.op for k in compiled] == ["conv", "conv", "gather", "conv"]
    grouped, gather, pointwise = compiled[1:]
    assert gather == eager[4]  # not fused: an index_select of P x (M - M/P) channels, read and written
    assert gather.bytes_read == B * P * (M - M // P) * H * H * s
    out = B * N * H * H
    # the pointwise conv's epilogue reads the grouped conv's output (the add's other input) and takes BN's shift
    assert pointwise.bytes_read == eager[5].bytes_read + (out + N) * s
    assert pointwise.bytes_written == out * s and grouped == eager[3]


@pytest.mark.parametrize("variant", ["gwc_pwc", "dwc_pwc"])
def test_two_convolutions_in_a_row_do_not_fuse(variant):
    B, s, M, N = 2, 4, 16, 32
    spec = {"input": [M, H, H], "layers": [{"conv": {"out": M, "kernel": 1, "bn": True, "act": "relu"}},
                                            {"conv": {"out": N, "bn": True, "act": "relu"}}]}
    compiled = kernels(spec, "compiled", B, variant=variant, replace_first=False)
    assert [k.op for k in compiled] == ["conv", "conv", "conv"]
    mid = B * M * H * H
    assert compiled[1].bytes_written == mid * s  # the intermediate tensor is still written ...
    assert compiled[2].bytes_read == (M * N + N + mid) * s  # ... and read (weights, folded bias, input)


def test_pooling_fc_and_a_shared_output():
    spec = {"input": [3, 8, 8], "layers": [{"conv": {"out": 8, "bn": True, "act": "relu"}}, {"maxpool": 2},
                                           {"fc": {"out": 10, "act": "relu"}}]}
    ops = [k.op for k in kernels(spec, "compiled", 1)]
    assert ops == ["conv", "pool", "linear"]  # the pool stays a kernel; the FC's ReLU is in its epilogue


def test_resnet50_compiled_runs_its_convolutions_pools_and_fc_only():
    ks = kernels("resnet50", "compiled", 1)
    ops = [k.op for k in ks]
    # ResNet-50: the stem, 16 bottlenecks of 3 convs, 4 projection shortcuts; a max pool, a global pool, one FC
    assert ops.count("conv") == 1 + 16 * 3 + 4
    assert ops.count("pool") == 2 and ops.count("linear") == 1 and len(ops) == 56
    eager = kernels("resnet50", "eager", 1)
    assert [k.op for k in eager].count("add") == 16 and [k.op for k in eager].count("bn") == 53


def test_mode_is_checked_and_reported():
    with pytest.raises(OptionError, match="mode must be one of eager, compiled, got 'jit'"):
        hetcalc.analyze("resnet56", mode="jit")
    report = hetcalc.analyze("resnet56", variants="standard", mode="compiled")  # turns traffic on
    assert report.mode == "compiled" and report.standard.bytes
    assert hetcalc.analyze("resnet56", variants="standard", batch=2).mode == "eager"


def test_cli_mode_in_header_json_and_csv(tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["resnet56", "--device", "rtx4090", "--mode", "compiled", "--summary-only"])
    assert result.exit_code == 0, result.output
    assert "fp32, batch 1, compiled mode" in result.output
    out = tmp_path / "r.json"
    assert runner.invoke(main, ["resnet56", "--traffic", "--mode", "compiled", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text())["mode"] == "compiled"
    csv_out = tmp_path / "r.csv"
    assert runner.invoke(main, ["resnet56", "--traffic", "--summary-only", "-o", str(csv_out)]).exit_code == 0
    header, first = csv_out.read_text().splitlines()[:2]
    assert header.split(",")[-2] == "mode" and first.split(",")[-2] == "eager"
    bad = runner.invoke(main, ["resnet56", "--mode", "jit"])
    assert bad.exit_code != 0 and "jit" in bad.output


def test_the_generated_kernel_ablation_reads_and_writes_the_activation_once():
    """into="kernel" (inductor's default, an ablation of benchmarks/gpu_compiled.py): the fused ops run as one
    generated element-wise kernel after the library convolution, BN applied there, not folded."""
    from hetcalc.timing.fusion import compiled_kernels
    from hetcalc.timing.traffic import conv_layer_kernels, fixed_layer_kernels

    B, s = 2, 4
    E, W = B * C * H * H, C * C * 9
    net = hetcalc.resolve(BLOCK)
    eager = [conv_layer_kernels(net.layers[0], "standard", None, "fused", B, s),
             conv_layer_kernels(net.layers[1], "standard", None, "fused", B, s),
             fixed_layer_kernels(net.layers[2], B, s)]
    out = compiled_kernels(net, eager, into="kernel")
    assert [[k.op for k in ks] for ks in out] == [["conv", "fused"], ["conv", "fused"], []]
    first, second = out[0][1], out[1][1]
    assert first.bytes_read == (E + 4 * C) * s and first.bytes_written == E * s  # BN's 4 values, then ReLU
    assert second.bytes_read == (E + 4 * C + E) * s and second.bytes_written == E * s  # BN, add (reads E), ReLU
    assert out[0][0].bytes_read == (E + W) * s  # the convolution is the library's, unchanged
