"""Where hetcalc's own files are: one definition, so that moving a module never silently moves a folder."""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the installed (or checked-out) hetcalc/ folder
PROFILES_DIR = PACKAGE_DIR / "profiles"  # the built-in device profiles
# the built-in YAML specs: inside an installed package, or beside the package in a source checkout
ARCHITECTURE_DIRS = (PACKAGE_DIR / "architectures", PACKAGE_DIR.parent / "architectures")
# the modules that turn a spec into a Network: a change to any of them makes new built-in cache entries
PARSER_DIRS = (PACKAGE_DIR / "network", PACKAGE_DIR / "core")
