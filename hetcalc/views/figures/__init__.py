"""Figures: the paper's Figure 5, a network's per-layer costs, its totals against P, latency depth, and
its layers on a device's roofline.

Each figure has a data function that returns the numbers it shows (`PlotData`, CSV-ready, counts as exact
integers) and a figure function that returns a matplotlib `Figure` on an Agg canvas (no display needed).
Only the CLI saves. matplotlib is imported inside the functions, and only figure code imports this
package (`hetcalc plot`, the HTML report), so `import hetcalc` stays light.
"""

from hetcalc.views.figures.style import ASYMPTOTE_COLOUR, COLOURS, LINESTYLES, MARKERS, tick_text, user_text
from hetcalc.views.figures.render import (DEFAULT_DPI, FORMATS, MAX_DPI, MAX_INCHES, MAX_RASTER, PNG_MAX_PIXELS,
                                          figure_format, layout_problems, render_figure)
from hetcalc.views.figures.data import PlotData
from hetcalc.views.figures.speedup import MAX_K, speedup_data, speedup_figure
from hetcalc.views.figures.layers import (LOG_SPREAD, MAX_LAYER_BARS, SCALES, default_layers_report, default_layers_size,
                                         layers_data, layers_figure, use_log)
from hetcalc.views.figures.sweep import sweep_data, sweep_figure
from hetcalc.views.figures.depth import depth_data, depth_figure
from hetcalc.views.figures.roofline import roofline_data, roofline_figure
# the totals a sweep figure draws, computed in analysis (before, hetcalc.plots ran them itself)
from hetcalc.analysis.sweep_totals import MAX_P, SweepTotals, largest_common_part, powers_of_two, sweep_totals

__all__ = [
    "ASYMPTOTE_COLOUR", "COLOURS", "DEFAULT_DPI", "FORMATS", "LINESTYLES", "LOG_SPREAD", "MARKERS", "MAX_DPI",
    "MAX_INCHES", "MAX_K", "MAX_LAYER_BARS", "MAX_P", "MAX_RASTER", "PNG_MAX_PIXELS", "PlotData", "SCALES", "SweepTotals",
    "default_layers_report", "default_layers_size", "depth_data", "depth_figure", "figure_format", "largest_common_part", "layers_data",
    "layers_figure", "layout_problems", "powers_of_two", "render_figure", "roofline_data", "roofline_figure",
    "speedup_data", "speedup_figure", "sweep_data", "sweep_figure", "sweep_totals", "tick_text", "use_log",
    "user_text",
]
