"""hetcalc's figure style: matplotlib set up for saving only, the palette, and the rc settings.

Importing this module prepares matplotlib's environment but does not import matplotlib; the figure
functions import it when they draw.
"""

from __future__ import annotations

import contextlib
import warnings

from hetcalc.convtypes import CONV_TYPES
from hetcalc.core.errors import OptionError
from hetcalc.core.formatting import printable


def prepare_matplotlib() -> None:
    """Before matplotlib is first imported: figures are only ever saved, so the Agg backend whatever
    MPLBACKEND says (a bogus value would make the import fail), and a private config folder when the
    user's is not writable (matplotlib would warn on every run)."""
    import os
    import sys

    if "matplotlib" in sys.modules:
        return
    os.environ["MPLBACKEND"] = "Agg"
    if not os.environ.get("MPLCONFIGDIR"):
        home = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        folder = os.path.join(home, "matplotlib")
        probe = folder if os.path.isdir(folder) else home
        if not (os.path.isdir(probe) and os.access(probe, os.W_OK | os.X_OK)):
            os.environ["MPLCONFIGDIR"] = _private_config_dir()
    elif not os.access(os.environ["MPLCONFIGDIR"], os.W_OK | os.X_OK):
        os.environ["MPLCONFIGDIR"] = _private_config_dir()


def _private_config_dir() -> str:
    """A folder of our own for matplotlib's font cache: kept between runs (building the cache takes
    seconds), in the temporary folder, owned by this user and private to them; a fresh one otherwise."""
    import os
    import stat
    import tempfile

    folder = os.path.join(tempfile.gettempdir(), f"hetcalc-matplotlib-{os.getuid()}")
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o077 \
                and os.access(folder, os.W_OK | os.X_OK):
            return folder
    except OSError:
        pass
    import atexit
    import shutil

    private = tempfile.mkdtemp(prefix="hetcalc-mpl-")
    atexit.register(shutil.rmtree, private, True)
    return private


prepare_matplotlib()


BASELINE = "standard"  # the variant every reduction and speedup is measured against (Report.standard)


class Palette(dict):
    """A look (colour, marker or dashes) per convolution-type key. The built-in types keep theirs; a type
    registered later takes the next spare one, in CONV_TYPES order, so it draws without an edit here."""

    def __init__(self, pinned: dict, spare: tuple):
        super().__init__(pinned)
        self.spare = spare

    def __missing__(self, key: str):
        others = [k for k in CONV_TYPES if k not in self]
        i = others.index(key) if key in others else len(others)
        return self.spare[i % len(self.spare)]


# One colour per variant in every figure: the Okabe-Ito palette, safe for colour-blind readers
# (grey for the baseline). Markers and dashes keep the variants apart in greyscale print too.
COLOURS = Palette({"standard": "#999999", "hetconv": "#0072B2", "gwc_pwc": "#E69F00", "dwc_pwc": "#009E73"},
                  spare=("#D55E00", "#CC79A7", "#56B4E9", "#F0E442"))  # the rest of Okabe-Ito, black aside
MARKERS = Palette({"standard": "", "hetconv": "o", "gwc_pwc": "s", "dwc_pwc": ""}, spare=("^", "D", "v", "P"))
LINESTYLES = Palette({"standard": ":", "hetconv": "-", "gwc_pwc": "-", "dwc_pwc": "--"},
                     spare=("-.", "-", "--", (0, (5, 1, 1, 1))))
SCATTER_MARKERS = Palette({"standard": "o", "hetconv": "^", "gwc_pwc": "s", "dwc_pwc": "D"},
                          spare=("v", "P", "X", "*"))  # a roofline's points
ASYMPTOTE_COLOUR = "#000000"

# Sizes for a figure that will be printed at about its own size in a paper or on a slide.
STYLE = {
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "legend.title_fontsize": 9, "figure.titlesize": 11, "axes.spines.top": False,
    "axes.spines.right": False, "axes.grid": True, "grid.color": "#d9d9d9", "grid.linewidth": 0.6,
    "axes.axisbelow": True, "lines.linewidth": 1.8, "lines.markersize": 5, "legend.frameon": False,
    "pdf.fonttype": 42, "ps.fonttype": 42, "svg.hashsalt": "hetcalc",
    "svg.fonttype": "none",  # SVG text stays text: searchable, selectable, editable in a paper's figure
    # text from a user (a title, a layer name like "$\\foo$") is text, never TeX math
    "text.parse_math": False, "text.usetex": False,
}


def styled(build):
    """Run a figure builder under hetcalc's figure style, whatever the user's matplotlibrc says."""
    import functools

    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        import matplotlib.style

        with layout_guard(), matplotlib.style.context(["default", STYLE]):
            return build(*args, **kwargs)

    return wrapper


@contextlib.contextmanager
def layout_guard():
    """Turn matplotlib's 'axes sizes collapsed' layout warning into a one-line OptionError."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        if "collapsed" in str(w.message):
            raise OptionError("the figure is too small for its content (its axes collapsed); give a larger "
                              "size (--size W,H in inches)")
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def user_text(text) -> str:
    """Text from a user as a figure shows it: line breaks kept, other control characters escaped (a font
    has no glyph for them). Math text is off in the style, so '$' is a dollar sign."""
    return "\n".join(printable(line) for line in str(text).split("\n"))


def tick_text(value: float) -> str:
    """A count for an axis tick: 0, 500, 2K, 1.5M, 10G."""
    for scale, unit in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"
