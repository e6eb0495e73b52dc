"""The files a run has read, by device and inode, so that no output of the run can replace one of them."""

from __future__ import annotations

import os

READ: set[tuple[int, int]] = set()


def note_input(path) -> None:
    """Record a file the run read (a spec, a built-in's YAML)."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return
    READ.add((st.st_dev, st.st_ino))
