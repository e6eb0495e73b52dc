"""Options shared by commands, output writing, and console set-up."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import click

from ..counting import OPS, Convention
from ..errors import OptionError


def convention_options(func):
    """--flops-per-mac, --ops, --replace-first: how FLOPs are counted and which layers replaced."""
    func = click.option("--replace-first", is_flag=True,
                        help="Replace the network's first K x K convolution too (the paper keeps it).")(func)
    func = click.option("--ops", "ops", default="", metavar="LIST",
                        help=f"Extra operations to count as FLOPs, comma-separated: {', '.join(OPS)}, all "
                             "(default: none, MACs only).")(func)
    func = click.option("--flops-per-mac", type=click.IntRange(1, 2), default=1, show_default=True,
                        help="FLOPs per multiply-accumulate: 1 (paper, fvcore, ptflops) or 2 "
                             "(PyTorch FlopCounterMode, TensorFlow).")(func)
    return func


def make_convention(flops_per_mac: int, ops: str, replace_first: bool) -> Convention:
    names = [o.strip().lower() for o in ops.split(",") if o.strip()]
    if "all" in names:
        names = list(OPS)
    return Convention(flops_per_mac=flops_per_mac, ops=tuple(names), replace_first=replace_first)


def output_option(func):
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write to FILE (atomically) instead of standard output.")(func)


def check_writable(path: Path | None) -> None:
    """Refuse an output path whose folder is missing or not writable, before any work is done."""
    if path is None:
        return
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OptionError(f"cannot write {path}: folder {folder} does not exist")
    if path.is_dir():
        raise OptionError(f"cannot write {path}: it is a directory")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise OptionError(f"cannot write {path}: permission denied")


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a partial file."""
    check_writable(path)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent or ".")
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def is_terminal(file=None) -> bool:
    file = file or sys.stdout
    return bool(getattr(file, "isatty", None)) and file.isatty()


def show(renderables_for) -> None:
    """Print renderables: rich colour on a terminal, plain ASCII text when piped.

    `renderables_for(ascii_only)` builds them, so piped output gets ASCII rules.
    """
    from ..tables import render_text

    if is_terminal():
        from rich.console import Console

        con = Console()
        for item in renderables_for(False):
            con.print(item)
    else:
        click.echo(render_text(renderables_for(True)), nl=False)
