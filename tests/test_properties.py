"""Property tests (hypothesis) of the cost functions, the closed forms and analyze()."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import hetcalc
from hetcalc import CONV_TYPES
from hetcalc.costs import dwc_pwc_cost, gwc_pwc_cost, hetconv_cost, standard_cost
from hetcalc.graph import Conv

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PIECE_FIELDS = ("macs", "weights", "biases", "bias_adds", "bn_channels", "bn_elements", "act_elements",
                "pool_ops", "add_ops", "depth")


def make_conv(M, N, Ho, Wo, kernel, *, bias=False, bn=False, act=None):
    return Conv(name="c", in_shape=(M, Ho, Wo), out_shape=(N, Ho, Wo), kernel=kernel, bias=bias, bn=bn, act=act)


def macs(pieces) -> int:
    return sum(p.macs for p in pieces)


channels = st.integers(1, 512)
maps = st.integers(1, 64)
ksize = st.integers(1, 7)
flags = st.booleans()


@st.composite
def divisible(draw, max_part=64, max_mult=32):
    """(M, P) with P dividing M."""
    P = draw(st.integers(1, max_part))
    return P * draw(st.integers(1, max_mult)), P


@st.composite
def divisor_pair(draw):
    """(M, P1, P2): P1 < P2, both divide M."""
    M = draw(st.integers(2, 720))
    divisors = [d for d in range(1, M + 1) if M % d == 0]
    p1, p2 = sorted(draw(st.lists(st.sampled_from(divisors), min_size=2, max_size=2, unique=True)))
    return M, p1, p2


# --------------------------------------------------------------------------- HetConv against standard

@FAST
@given(M=channels, N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize, bias=flags, bn=flags, act=flags)
def test_p1_hetconv_is_standard(M, N, Ho, Wo, kh, kw, bias, bn, act):
    c = make_conv(M, N, Ho, Wo, (kh, kw), bias=bias, bn=bn, act="relu" if act else None)
    assert hetconv_cost(c, 1) == standard_cost(c)


@FAST
@given(mp=divisible(), N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_hetconv_never_costs_more_than_standard(mp, N, Ho, Wo, kh, kw):
    M, P = mp
    c = make_conv(M, N, Ho, Wo, (kh, kw))
    (het,), (std,) = hetconv_cost(c, P), standard_cost(c)
    assert het.macs <= std.macs
    assert het.weights <= std.weights
    if kh * kw >= 2 and P >= 2:
        assert het.macs < std.macs


@FAST
@given(mpp=divisor_pair(), N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_hetconv_cost_falls_as_p_grows(mpp, N, Ho, Wo, kh, kw):
    M, p1, p2 = mpp
    c = make_conv(M, N, Ho, Wo, (kh, kw))
    (a,), (b,) = hetconv_cost(c, p1), hetconv_cost(c, p2)
    if kh * kw >= 2:
        assert b.macs < a.macs and b.weights < a.weights
    else:  # a 1 x 1 kernel: nothing to make heterogeneous
        assert b.macs == a.macs and b.weights == a.weights


# --------------------------------------------------------------------------- eqs. 8 and 12

@settings(max_examples=150, deadline=None)
@given(M=st.integers(1, 10 ** 30), K=st.integers(2, 15))
def test_eq8_and_eq12_hold_exactly(M, K):
    """1/M + (1-1/M)/K^2 < 1/M + 1/K^2 (eq. 8, P = M) and the same with P = G (eq. 12), in exact arithmetic."""
    k2 = K * K
    assert Fraction(1, M) + (1 - Fraction(1, M)) / k2 < Fraction(1, M) + Fraction(1, k2)


@FAST
@given(M=st.integers(1, 10 ** 6), K=st.integers(2, 9), kind=st.sampled_from(["square", "tall", "wide"]))
def test_eq8_and_eq12_closed_forms_in_registry(M, K, kind):
    kernel = {"square": (K, K), "tall": (K, 1), "wide": (1, K)}[kind]
    c = make_conv(M, M, 4, 4, kernel)
    het = CONV_TYPES["hetconv"].closed_form
    # eq. 8: HetConv with P = M against DWC+PWC, N = M
    assert het(c, M) < CONV_TYPES["dwc_pwc"].closed_form(c, None)
    # eq. 12: HetConv with P = G against GWC+PWC, for several G
    for G in {1, 2, M}:
        assert het(c, G) < CONV_TYPES["gwc_pwc"].closed_form(c, G)


@FAST
@given(M=st.integers(1, 4096), Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_eq8_counted_when_m_equals_n(M, Ho, Wo, kh, kw):
    if kh * kw < 2:
        kh = 2
    c = make_conv(M, M, Ho, Wo, (kh, kw))
    assert macs(hetconv_cost(c, M)) < macs(dwc_pwc_cost(c))


@FAST
@given(mp=divisible(max_part=128), Ho=maps, Wo=maps, kh=st.integers(2, 7), kw=ksize)
def test_eq12_counted_when_m_equals_n(mp, Ho, Wo, kh, kw):
    M, P = mp
    c = make_conv(M, M, Ho, Wo, (kh, kw))
    assert macs(hetconv_cost(c, P)) < macs(gwc_pwc_cost(c, P))


# --------------------------------------------------------------------------- counted ratio = closed form

@FAST
@given(mp=divisible(), N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_counted_ratio_is_eq5_when_p_divides_m(mp, N, Ho, Wo, kh, kw):
    M, P = mp
    c = make_conv(M, N, Ho, Wo, (kh, kw))
    ratio = Fraction(macs(hetconv_cost(c, P)), macs(standard_cost(c)))
    k2 = kh * kw
    assert ratio == Fraction(1, P) + (1 - Fraction(1, P)) / k2
    assert abs(CONV_TYPES["hetconv"].closed_form(c, P) - float(ratio)) < 1e-12


@FAST
@given(M=channels, N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_counted_ratio_is_eq7_always(M, N, Ho, Wo, kh, kw):
    c = make_conv(M, N, Ho, Wo, (kh, kw))
    ratio = Fraction(macs(dwc_pwc_cost(c)), macs(standard_cost(c)))
    assert ratio == Fraction(1, N) + Fraction(1, kh * kw)
    assert abs(CONV_TYPES["dwc_pwc"].closed_form(c, None) - float(ratio)) < 1e-12


@FAST
@given(mp=divisible(), Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_counted_ratio_is_eq11_when_m_equals_n(mp, Ho, Wo, kh, kw):
    M, G = mp
    c = make_conv(M, M, Ho, Wo, (kh, kw))
    ratio = Fraction(macs(gwc_pwc_cost(c, G)), macs(standard_cost(c)))
    assert ratio == Fraction(1, G) + Fraction(1, kh * kw)
    assert abs(CONV_TYPES["gwc_pwc"].closed_form(c, G) - float(ratio)) < 1e-12


@FAST
@given(mp=divisible(), N=channels, Ho=maps, Wo=maps, kh=ksize, kw=ksize)
def test_counted_gwc_is_the_layers_as_built(mp, N, Ho, Wo, kh, kw):
    """For M != N eq. 11 is not exact: the count is Do^2*M*(M/G)*K^2 + Do^2*M*N, ratio M/(G*N) + 1/K^2."""
    M, G = mp
    c = make_conv(M, N, Ho, Wo, (kh, kw))
    ratio = Fraction(macs(gwc_pwc_cost(c, G)), macs(standard_cost(c)))
    assert ratio == Fraction(M, G * N) + Fraction(1, kh * kw)


# --------------------------------------------------------------------------- exact Python integers

huge = st.integers(10 ** 9, 10 ** 15)


@FAST
@given(M=huge, N=huge, Ho=st.integers(1, 10 ** 6), Wo=st.integers(1, 10 ** 6), K=ksize,
       P=st.sampled_from([1, 2, 4, 8, 16]))
def test_counts_are_exact_ints_for_huge_layers(M, N, Ho, Wo, K, P):
    M = M - M % 16  # divisible by every P drawn
    c = make_conv(M, N, Ho, Wo, (K, K), bias=True, bn=True, act="relu")
    expected = {
        "standard": Ho * Wo * M * N * K * K,
        "hetconv": Ho * Wo * N * (M // P * K * K + M - M // P),
        "gwc_pwc": Ho * Wo * M * (M // P) * K * K + Ho * Wo * M * N,
        "dwc_pwc": Ho * Wo * M * K * K + Ho * Wo * M * N,
    }
    for key, want in expected.items():
        pieces = CONV_TYPES[key].cost(c, P)
        for piece in pieces:
            for f in PIECE_FIELDS:
                assert type(getattr(piece, f)) is int, (key, f)
        assert macs(pieces) == want


def test_ten_to_the_twelve_channels_through_analyze():
    M = N = 10 ** 12
    spec = {"name": "huge", "input": [M, 8, 8], "defaults": {"conv": {"bias": True, "bn": True, "act": "relu"}},
            "layers": [{"conv": N}, {"conv": N}, {"avgpool": "global"}, {"fc": 10}]}
    conv = hetcalc.Convention(flops_per_mac=2, ops=("bias", "bn", "act", "pool", "add"))
    report = hetcalc.analyze(spec, P=4, convention=conv)
    area = 64
    std_conv = area * M * N * 9
    het_conv = area * N * (M // 4 * 9 + M - M // 4)
    assert report.standard.macs == 2 * std_conv + N * 10
    assert report.variant("hetconv").macs == std_conv + het_conv + N * 10
    for v in report.variants:
        for value in (v.flops, v.params, v.macs, v.latency_depth, v.added_latency):
            assert type(value) is int
        for layer in v.layers:
            assert type(layer.flops) is int and type(layer.params) is int and type(layer.macs) is int


@FAST
@given(M=st.integers(1, 10 ** 13), N=st.integers(1, 10 ** 13), K=st.integers(1, 5), P=st.integers(1, 8),
       ops=st.lists(st.sampled_from(["bias", "bn", "act", "pool", "add"]), unique=True),
       fpm=st.sampled_from([1, 2]))
def test_analyze_totals_are_ints_and_exact(M, N, K, P, ops, fpm):
    M = M * P  # P divides M
    spec = {"input": [M, 6, 6], "layers": [{"conv": {"out": M, "kernel": 1}},
                                            {"conv": {"out": M, "kernel": K, "bias": True}},
                                            {"conv": {"out": N, "kernel": K, "bn": True, "act": "relu"}},
                                            {"fc": 3}]}
    report = hetcalc.analyze(spec, P=P, convention=hetcalc.Convention(flops_per_mac=fpm, ops=tuple(ops)))
    for v in report.variants:
        assert type(v.flops) is int and type(v.params) is int and type(v.macs) is int
        assert sum(layer.flops for layer in v.layers) == v.flops
        assert sum(layer.params for layer in v.layers) == v.params
    # the HetConv layers (2nd is the first K x K only if K > 1 and it is not the network's first conv)
    std = report.standard
    het = report.variant("hetconv")
    assert het.macs <= std.macs
    if K == 1:
        assert het.macs == std.macs and het.replaced_layers == 0

