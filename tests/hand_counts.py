"""Hand formulas for the variants of a network, from per-convolution records taken off a real model
(tests/torch_models.py's forward hooks). No hetcalc and no torch: the torch-free ONNX tests use them too.
"""

from __future__ import annotations


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
        macs += area * (new_w - std_w)
        total += new_w - std_w + extra
    return macs, total
