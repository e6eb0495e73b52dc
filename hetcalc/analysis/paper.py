"""The HetConv paper's printed FLOPs and parameter figures (Singh et al., CVPR 2019), as printed.

Error and accuracy columns are left out. Each row names what it measures in hetcalc's terms: the
variant, P or G, and whether SE blocks were added (the paper's reduction ratio is 8, section 4).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PaperRow:
    """One row of a paper table: how to build it and the figures printed for it ('' = not printed)."""

    table: str
    row: str
    variant: str  # standard | hetconv | gwc_pwc | dwc_pwc
    P: int | str | None = None
    G: int | None = None
    se: bool = False
    flops: str = ""
    flops_reduction: str = ""
    params: str = ""
    params_reduction: str = ""
    layer: str | None = None  # a per-layer figure: the layer it is about


def _t1(row, variant, P=None, G=None, se=False, *figures):
    return PaperRow("1", row, variant, P, G, se, *figures)


TABLE1 = [
    _t1("VGG-16_P1", "hetconv", 1, None, False, "313.74M", "", "15.00M", ""),
    _t1("VGG-16_P1_SE", "hetconv", 1, None, True, "314.19M", "", "15.22M", ""),
    _t1("VGG-16_P2", "hetconv", 2, None, False, "175.23M", "44.15", "8.45M", "43.68"),
    _t1("VGG-16_P2_SE", "hetconv", 2, None, True, "175.67M", "44.00", "8.68M", "42.99"),
    _t1("VGG-16_P4", "hetconv", 4, None, False, "105.98M", "66.22", "5.17M", "65.45"),
    _t1("VGG-16_P4_SE", "hetconv", 4, None, True, "106.42M", "66.08", "5.41M", "64.48"),
    _t1("VGG-16_GWC4_PWC", "gwc_pwc", None, 4, False, "107.67M", "65.68", "5.42M", ""),
    _t1("VGG-16_P8", "hetconv", 8, None, False, "71.35M", "77.26", "3.54M", "76.40"),
    _t1("VGG-16_P8_SE", "hetconv", 8, None, True, "71.79M", "77.12", "3.77M", "75.22"),
    _t1("VGG-16_P16", "hetconv", 16, None, False, "54.04M", "82.78", "2.72M", "81.86"),
    _t1("VGG-16_P16_SE", "hetconv", 16, None, True, "54.48M", "82.64", "2.95M", "80.59"),
    _t1("VGG-16_P32", "hetconv", 32, None, False, "45.38M", "85.54", "2.31M", "84.58"),
    _t1("VGG-16_P32_SE", "hetconv", 32, None, True, "45.82M", "85.39", "2.54M", "83.28"),
    _t1("VGG-16_P64", "hetconv", 64, None, False, "41.05M", "86.92", "2.11M", "85.95"),
    _t1("VGG-16_P64_SE", "hetconv", 64, None, True, "41.49M", "86.77", "2.34M", "84.63"),
    _t1("VGG-16_DWC_PWC", "dwc_pwc", None, None, False, "38.53M", "87.72", "1.97M", ""),
    _t1("VGG-16_PC", "hetconv", "PC", None, False, "38.18M", "87.83", "1.93M", ""),
    _t1("VGG-16_PC_SE", "hetconv", "PC", None, True, "38.62M", "87.69", "2.15M", ""),
]

TABLE3 = [
    PaperRow("3", "ResNet-56_P2", "hetconv", 2, flops_reduction="44.30"),
    PaperRow("3", "ResNet-56_P4", "hetconv", 4, flops_reduction="66.45"),
    PaperRow("3", "ResNet-56_P2_SE", "hetconv", 2, se=True, flops_reduction="44.27"),
    PaperRow("3", "ResNet-56_P4_SE", "hetconv", 4, se=True, flops_reduction="66.42"),
]

SECTION43 = [
    PaperRow("4.3", "ResNet-56 per 3x3 layer", "standard", flops="2.36M", layer="stage1.0.conv2"),
    PaperRow("4.3", "ResNet-56 total", "standard", flops="126.01M"),
]

TABLE4 = [
    PaperRow("4", "MobileNet", "dwc_pwc", flops="46.36M"),
    PaperRow("4", "MobileNet_P32", "hetconv", 32, flops="55.94M"),
    PaperRow("4", "MobileNet_P32_SE", "hetconv", 32, se=True, flops="56.91M"),
]

TABLE5 = [PaperRow("5", "VGG-16_P4", "hetconv", 4, flops_reduction="65.8")]

TABLE6 = [
    PaperRow("6", "ResNet-34_P1", "standard", flops="3.6G"),
    PaperRow("6", "ResNet-34_P4", "hetconv", 4, flops="1.3G", flops_reduction="64.48"),
    PaperRow("6", "ResNet-34_P4_SE", "hetconv", 4, se=True, flops="1.3G", flops_reduction="64.48"),
]

TABLE7 = [
    PaperRow("7", "ResNet-50_P1", "standard", flops="4.09G"),
    PaperRow("7", "ResNet-50_P4", "hetconv", 4, flops="2.85G", flops_reduction="30.32"),
]

ROWS = [*TABLE1, *TABLE3, *SECTION43, *TABLE4, *TABLE5, *TABLE6, *TABLE7]
