"""The torch builder's old module path: everything now lives in `hetcalc.measure.torch`.

Kept only while `hetcalc.compat` and `hetcalc.measure.build_module` still name this path.
"""

from __future__ import annotations

from hetcalc.measure.torch import *  # noqa: F401,F403
from hetcalc.measure.torch import __all__  # noqa: F401
