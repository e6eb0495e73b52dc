"""Each cost function of hetcalc.costs against hand formulas written out here.

Notation as in the paper: M input depth, N output depth, K kernel, Ho x Wo output map.
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest

from hetcalc import CONV_TYPES
from hetcalc.costs import (
    ConvType,
    Piece,
    dwc_pwc_cost,
    fixed_cost,
    gwc_pwc_cost,
    hetconv_cost,
    standard_cost,
)
from hetcalc.graph import Add, Conv, Linear, Pool


def conv(M, N, Ho, Wo, K=3, *, kernel=None, stride=1, groups=1, bias=False, bn=False, act=None, H=None, W=None):
    """A Conv whose shapes are given directly (the cost functions only read them)."""
    kernel = kernel or (K, K)
    return Conv(name="c", in_shape=(M, H or Ho, W or Wo), out_shape=(N, Ho, Wo), kernel=kernel,
                stride=(stride, stride), padding=(kernel[0] // 2, kernel[1] // 2), groups=groups, bias=bias,
                bn=bn, act=act)


# --------------------------------------------------------------------------- standard (eq. 1)

@pytest.mark.parametrize("M,N,K,Ho,Wo", [
    (3, 64, 3, 32, 32),
    (64, 64, 3, 32, 32),
    (64, 128, 3, 16, 16),
    (3, 64, 7, 112, 112),
    (256, 64, 1, 56, 56),
    (1, 1, 1, 1, 1),
    (5, 7, 5, 3, 11),  # non-square map
])
def test_standard_matches_eq1(M, N, K, Ho, Wo):
    (piece,) = standard_cost(conv(M, N, Ho, Wo, K))
    assert piece.macs == Ho * Wo * M * N * K * K
    assert piece.weights == M * N * K * K
    assert piece.depth == 1
    # no bias, BN or activation: nothing else counted
    assert (piece.biases, piece.bias_adds, piece.bn_channels, piece.bn_elements, piece.act_elements) == (0,) * 5
    assert (piece.pool_ops, piece.add_ops) == (0, 0)


def test_standard_ignores_part_argument():
    c = conv(64, 64, 8, 8)
    assert standard_cost(c) == standard_cost(c, 4) == standard_cost(c, None)


@pytest.mark.parametrize("M,N,groups", [(64, 64, 2), (64, 128, 4), (32, 64, 32), (12, 18, 3), (8, 8, 8)])
def test_grouped_standard_conv(M, N, groups):
    Ho, Wo, K = 10, 6, 3
    (piece,) = standard_cost(conv(M, N, Ho, Wo, K, groups=groups))
    # each of the N filters sees M/groups input channels
    assert piece.weights == N * (M // groups) * K * K
    assert piece.macs == Ho * Wo * N * (M // groups) * K * K
    # grouping by g divides the dense cost by g exactly
    (dense,) = standard_cost(conv(M, N, Ho, Wo, K))
    assert piece.macs * groups == dense.macs


@pytest.mark.parametrize("M,K", [(32, 3), (512, 3), (16, 5), (7, 7)])
def test_depthwise_standard_conv(M, K):
    """groups = M = N: one K x K kernel per channel."""
    Ho, Wo = 14, 14
    (piece,) = standard_cost(conv(M, M, Ho, Wo, K, groups=M))
    assert piece.weights == M * K * K
    assert piece.macs == Ho * Wo * M * K * K


@pytest.mark.parametrize("kernel", [(3, 1), (1, 3), (1, 7), (7, 1), (5, 3), (2, 4)])
def test_non_square_kernels(kernel):
    M, N, Ho, Wo = 16, 24, 9, 13
    kh, kw = kernel
    c = conv(M, N, Ho, Wo, kernel=kernel)
    assert c.K == max(kernel)
    (piece,) = standard_cost(c)
    assert piece.weights == M * N * kh * kw
    assert piece.macs == Ho * Wo * M * N * kh * kw
    P = 4
    (het,) = hetconv_cost(c, P)
    assert het.weights == N * (M // P * kh * kw + M - M // P)
    assert het.macs == Ho * Wo * het.weights
    gwc, pwc = gwc_pwc_cost(c, P)
    assert gwc.macs == Ho * Wo * M * (M // P) * kh * kw
    assert pwc.macs == Ho * Wo * M * N
    dwc, pwc2 = dwc_pwc_cost(c)
    assert dwc.macs == Ho * Wo * M * kh * kw
    assert pwc2.macs == Ho * Wo * M * N


def test_bias_bn_activation_element_counts():
    M, N, Ho, Wo = 8, 12, 5, 7
    (piece,) = standard_cost(conv(M, N, Ho, Wo, bias=True, bn=True, act="relu"))
    assert piece.biases == N
    assert piece.bias_adds == N * Ho * Wo
    assert piece.bn_channels == N
    assert piece.bn_elements == N * Ho * Wo
    assert piece.act_elements == N * Ho * Wo
    assert piece.weights == M * N * 9  # bias and BN do not change the weight count

    (bias_only,) = standard_cost(conv(M, N, Ho, Wo, bias=True))
    assert (bias_only.biases, bias_only.bias_adds) == (N, N * Ho * Wo)
    assert (bias_only.bn_channels, bias_only.bn_elements, bias_only.act_elements) == (0, 0, 0)

    (bn_only,) = standard_cost(conv(M, N, Ho, Wo, bn=True))
    assert (bn_only.biases, bn_only.bias_adds, bn_only.act_elements) == (0, 0, 0)
    assert (bn_only.bn_channels, bn_only.bn_elements) == (N, N * Ho * Wo)

    (act_only,) = standard_cost(conv(M, N, Ho, Wo, act="relu6"))
    assert act_only.act_elements == N * Ho * Wo
    assert (act_only.biases, act_only.bias_adds, act_only.bn_channels, act_only.bn_elements) == (0,) * 4


# --------------------------------------------------------------------------- HetConv (eqs. 2-4)

@pytest.mark.parametrize("M,N,K,P,Ho,Wo", [
    (64, 64, 3, 4, 32, 32),
    (64, 128, 3, 2, 16, 16),
    (128, 64, 3, 64, 8, 8),
    (256, 256, 3, 256, 4, 4),
    (32, 48, 5, 8, 7, 9),
    (12, 12, 3, 3, 5, 5),
    (64, 64, 7, 16, 3, 3),
])
def test_hetconv_hand_formula(M, N, K, P, Ho, Wo):
    (piece,) = hetconv_cost(conv(M, N, Ho, Wo, K), P)
    # MACs = Ho*Wo*N*(M/P*K*K + M - M/P)
    assert piece.macs == Ho * Wo * N * (M // P * K * K + M - M // P)
    assert piece.weights == N * (M // P * K * K + M - M // P)
    assert piece.depth == 1
    # eqs. 2-4: FL_K = FL_S / P, FL_1 = (M - M/P) * N * Ho * Wo
    fl_s = Ho * Wo * M * N * K * K
    fl_k = Fraction(fl_s, P)
    fl_1 = (M - M // P) * N * Ho * Wo
    assert piece.macs == fl_k + fl_1


def test_hetconv_published_example():
    """equations.md: P = 4, M = N = 64 on a 32 x 32 output: exact 12,582,912 MACs."""
    (piece,) = hetconv_cost(conv(64, 64, 32, 32, 3), 4)
    assert piece.macs == 12_582_912


def test_dense_masked_hetconv_example():
    """equations.md: the dense-masked realization (grouped K x K with P groups plus a dense 1 x 1) costs
    13,631,488 MACs for the same layer; the exact HetConv count is below it."""
    grouped = standard_cost(conv(64, 64, 32, 32, 3, groups=4))[0].macs
    dense_1x1 = standard_cost(conv(64, 64, 32, 32, 1))[0].macs
    assert grouped + dense_1x1 == 13_631_488
    assert hetconv_cost(conv(64, 64, 32, 32, 3), 4)[0].macs < grouped + dense_1x1


def test_hetconv_p1_is_standard():
    c = conv(48, 80, 9, 7, 3, bias=True, bn=True, act="relu")
    assert hetconv_cost(c, 1) == standard_cost(c)


def test_hetconv_p_equals_m_has_one_kxk_kernel_per_filter():
    M, N, K, Ho, Wo = 32, 40, 3, 6, 6
    (piece,) = hetconv_cost(conv(M, N, Ho, Wo, K), M)
    assert piece.weights == N * (K * K + M - 1)


def test_hetconv_1x1_equals_standard_for_any_p():
    c = conv(64, 32, 8, 8, 1)
    for P in (1, 2, 4, 8, 64):
        assert hetconv_cost(c, P) == standard_cost(c)


def test_hetconv_keeps_bias_bn_act_of_the_layer():
    M, N, Ho, Wo = 16, 32, 4, 4
    (piece,) = hetconv_cost(conv(M, N, Ho, Wo, bias=True, bn=True, act="relu"), 4)
    assert piece.biases == N and piece.bias_adds == N * Ho * Wo
    assert piece.bn_channels == N and piece.bn_elements == N * Ho * Wo
    assert piece.act_elements == N * Ho * Wo


# --------------------------------------------------------------------------- GWC+PWC (eq. 10) and DWC+PWC (eq. 6)

@pytest.mark.parametrize("M,N,K,G,Ho,Wo", [
    (64, 64, 3, 4, 32, 32),
    (64, 128, 3, 2, 16, 16),
    (128, 64, 3, 8, 8, 8),
    (32, 32, 5, 32, 7, 5),
    (12, 30, 3, 1, 4, 4),
])
def test_gwc_pwc_hand_formula(M, N, K, G, Ho, Wo):
    pieces = gwc_pwc_cost(conv(M, N, Ho, Wo, K), G)
    assert len(pieces) == 2  # two sequential layers
    gwc, pwc = pieces
    assert gwc.weights == M * (M // G) * K * K
    assert gwc.macs == Ho * Wo * M * (M // G) * K * K
    assert pwc.weights == M * N
    assert pwc.macs == Ho * Wo * M * N
    assert gwc.depth == pwc.depth == 1
    total = gwc.macs + pwc.macs
    if M == N:  # eq. 10 exactly
        assert total == Fraction(Ho * Wo * M * N * K * K, G) + M * N * Ho * Wo


@pytest.mark.parametrize("M,N,K,Ho,Wo", [
    (32, 64, 3, 32, 32),
    (64, 128, 3, 16, 16),
    (512, 512, 3, 4, 4),
    (1024, 1024, 3, 2, 2),
    (16, 8, 5, 3, 7),
])
def test_dwc_pwc_hand_formula_eq6(M, N, K, Ho, Wo):
    dwc, pwc = dwc_pwc_cost(conv(M, N, Ho, Wo, K))
    assert dwc.weights == M * K * K
    assert pwc.weights == M * N
    # eq. 6: FL = Do*Do*M*K*K + M*N*Do*Do, exact for every M, N
    assert dwc.macs + pwc.macs == Ho * Wo * M * K * K + M * N * Ho * Wo
    assert dwc_pwc_cost(conv(M, N, Ho, Wo, K), 7) == dwc_pwc_cost(conv(M, N, Ho, Wo, K))  # part ignored


def test_dwc_pwc_is_gwc_pwc_with_g_equal_m():
    c = conv(48, 96, 7, 7, 3, bias=True, bn=True, act="relu")
    assert dwc_pwc_cost(c) == gwc_pwc_cost(c, 48)


def test_factorized_pieces_carry_bias_bn_act_per_layer():
    """The grouped layer has M outputs, the pointwise N; both get the network's bias, BN and activation."""
    M, N, Ho, Wo = 16, 40, 5, 3
    gwc, pwc = gwc_pwc_cost(conv(M, N, Ho, Wo, bias=True, bn=True, act="relu"), 4)
    assert (gwc.biases, gwc.bias_adds, gwc.bn_channels, gwc.bn_elements, gwc.act_elements) == (
        M, M * Ho * Wo, M, M * Ho * Wo, M * Ho * Wo)
    assert (pwc.biases, pwc.bias_adds, pwc.bn_channels, pwc.bn_elements, pwc.act_elements) == (
        N, N * Ho * Wo, N, N * Ho * Wo, N * Ho * Wo)
    plain = gwc_pwc_cost(conv(M, N, Ho, Wo), 4)
    for piece in plain:
        assert (piece.biases, piece.bias_adds, piece.bn_channels, piece.bn_elements, piece.act_elements) == (0,) * 5


def test_strided_layer_costs_use_output_map():
    """The stride sits on the K x K (or grouped) layer; every piece is costed on the output map."""
    M, N = 64, 128
    c = conv(M, N, 16, 16, 3, stride=2, H=32, W=32)
    assert standard_cost(c)[0].macs == 16 * 16 * M * N * 9
    gwc, pwc = gwc_pwc_cost(c, 4)
    assert gwc.macs == 16 * 16 * M * (M // 4) * 9 and pwc.macs == 16 * 16 * M * N


# --------------------------------------------------------------------------- fixed layers

def test_fixed_cost_of_conv_is_standard():
    for c in (conv(64, 64, 8, 8), conv(64, 64, 8, 8, groups=64), conv(3, 16, 4, 4, 1, bias=True)):
        assert fixed_cost(c) == standard_cost(c)


@pytest.mark.parametrize("in_shape,out,bias,act", [
    ((512, 1, 1), 10, True, None),
    ((512, 7, 7), 4096, True, "relu"),
    ((64, 2, 3), 5, False, None),
    ((1, 1, 1), 1, False, "relu"),
])
def test_fc_piece(in_shape, out, bias, act):
    c, h, w = in_shape
    fc = Linear(name="fc", in_shape=in_shape, out_shape=(out, 1, 1), bias=bias, act=act)
    (piece,) = fixed_cost(fc)
    features = c * h * w  # a spatial input is flattened
    assert piece.macs == features * out
    assert piece.weights == features * out
    assert piece.biases == (out if bias else 0)
    assert piece.bias_adds == (out if bias else 0)
    assert piece.act_elements == (out if act else 0)
    assert (piece.bn_channels, piece.bn_elements, piece.pool_ops, piece.add_ops) == (0, 0, 0, 0)
    assert piece.depth == 1


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_piece(mode):
    pool = Pool(name="p", in_shape=(64, 32, 32), out_shape=(64, 16, 16), mode=mode, kernel=(2, 2), stride=(2, 2))
    (piece,) = fixed_cost(pool)
    assert piece.pool_ops == 64 * 16 * 16 * 2 * 2  # kernel area x output elements
    assert (piece.macs, piece.weights, piece.biases, piece.depth) == (0, 0, 0, 0)
    # overlapping 3 x 3 stride-2 pool, non-square map
    pool = Pool(name="p", in_shape=(8, 9, 11), out_shape=(8, 5, 6), mode=mode, kernel=(3, 3), stride=(2, 2),
                padding=(1, 1))
    assert fixed_cost(pool)[0].pool_ops == 8 * 5 * 6 * 9
    # global pool: kernel = whole map, one output per channel
    pool = Pool(name="g", in_shape=(512, 7, 7), out_shape=(512, 1, 1), mode=mode, kernel=(7, 7), stride=(7, 7))
    assert fixed_cost(pool)[0].pool_ops == 512 * 49


def test_add_piece():
    add = Add(name="a", in_shape=(64, 8, 8), out_shape=(64, 8, 8), act="relu")
    (piece,) = fixed_cost(add)
    assert piece.add_ops == 64 * 8 * 8
    assert piece.act_elements == 64 * 8 * 8
    assert (piece.macs, piece.weights, piece.depth) == (0, 0, 0)
    (no_act,) = fixed_cost(Add(name="a", in_shape=(3, 2, 5), out_shape=(3, 2, 5)))
    assert no_act.add_ops == 30 and no_act.act_elements == 0


def test_fixed_cost_refuses_unknown_layer():
    with pytest.raises(TypeError):
        fixed_cost("not a layer")


def test_piece_defaults_are_zero():
    p = Piece()
    assert all(getattr(p, f) == 0 for f in ("macs", "weights", "biases", "bias_adds", "bn_channels",
                                            "bn_elements", "act_elements", "pool_ops", "add_ops", "depth"))


# --------------------------------------------------------------------------- the registry

def test_registry_keys_and_parts():
    assert list(CONV_TYPES) == ["standard", "hetconv", "gwc_pwc", "dwc_pwc"]
    assert all(isinstance(t, ConvType) for t in CONV_TYPES.values())
    assert {k: t.part for k, t in CONV_TYPES.items()} == {
        "standard": None, "hetconv": "P", "gwc_pwc": "G", "dwc_pwc": None}
    assert CONV_TYPES["standard"].cost is standard_cost
    assert CONV_TYPES["hetconv"].cost is hetconv_cost
    assert CONV_TYPES["gwc_pwc"].cost is gwc_pwc_cost
    assert CONV_TYPES["dwc_pwc"].cost is dwc_pwc_cost


@pytest.mark.parametrize("M,N,K,part", [
    (64, 64, 3, 4), (64, 128, 3, 2), (128, 64, 5, 8), (32, 32, 7, 32), (16, 48, 3, 1), (1024, 1024, 3, 1024),
])
def test_closed_forms_are_eqs_5_7_11(M, N, K, part):
    c = conv(M, N, 8, 8, K)
    P = G = part
    eq5 = 1 / P + (1 - 1 / P) / K ** 2
    eq7 = 1 / N + 1 / K ** 2
    eq11 = 1 / G + 1 / K ** 2
    assert CONV_TYPES["standard"].closed_form(c, None) == 1.0
    assert math.isclose(CONV_TYPES["hetconv"].closed_form(c, P), eq5, rel_tol=1e-12)
    assert math.isclose(CONV_TYPES["dwc_pwc"].closed_form(c, None), eq7, rel_tol=1e-12)
    assert math.isclose(CONV_TYPES["gwc_pwc"].closed_form(c, G), eq11, rel_tol=1e-12)


def test_closed_forms_of_non_square_kernel_use_kernel_area():
    c = conv(64, 64, 8, 8, kernel=(3, 1))
    area = 3
    assert math.isclose(CONV_TYPES["hetconv"].closed_form(c, 4), 1 / 4 + (1 - 1 / 4) / area)
    assert math.isclose(CONV_TYPES["gwc_pwc"].closed_form(c, 4), 1 / 4 + 1 / area)
    assert math.isclose(CONV_TYPES["dwc_pwc"].closed_form(c, None), 1 / 64 + 1 / area)
    # and the counted ratio agrees with them (M = N, P | M)
    std = standard_cost(c)[0].macs
    assert Fraction(hetconv_cost(c, 4)[0].macs, std) == Fraction(1, 4) + Fraction(3, 4) / area


def test_closed_form_text_matches_equations():
    assert CONV_TYPES["hetconv"].closed_form_text == "1/P + (1 - 1/P)/K^2"
    assert CONV_TYPES["gwc_pwc"].closed_form_text == "1/G + 1/K^2"
    assert CONV_TYPES["dwc_pwc"].closed_form_text == "1/N + 1/K^2"


def test_figure5_speedup_approaches_k_squared():
    """Figure 5: speedup of a 3x3/1x1 HetConv filter over standard (eqs. 5 and 9) rises toward 9 with P."""
    c = conv(4096, 64, 4, 4, 3)
    speedups = [1 / CONV_TYPES["hetconv"].closed_form(c, P) for P in (1, 2, 4, 8, 16, 32, 64, 4096)]
    assert speedups[0] == 1.0
    assert all(a < b for a, b in zip(speedups, speedups[1:]))
    assert 8.9 < speedups[-1] < 9
