"""Options shared by commands, output writing, and console set-up."""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import Iterable

import click

from ..counting import HETCONV_ACCOUNTING, OPS, PARAM_STYLES, Convention
from ..errors import OptionError, OutputError


def convention_options(func):
    """How FLOPs and parameters are counted and which layers are replaced: one option per rule."""
    options = [
        click.option("--flops-per-mac", type=click.IntRange(1, 2), default=1, show_default=True,
                     help="FLOPs per multiply-accumulate: 1 (paper, fvcore, ptflops) or 2 "
                          "(PyTorch FlopCounterMode, TensorFlow)."),
        click.option("--ops", "ops", default="", metavar="LIST",
                     help=f"Extra operations to count as FLOPs, comma-separated: {', '.join(OPS)}, all "
                          "(default: none, MACs only)."),
        click.option("--replace-first", is_flag=True,
                     help="Replace the network's first K x K convolution too (the paper keeps it)."),
        click.option("--params", "params", type=click.Choice(PARAM_STYLES), default="pytorch",
                     show_default=True,
                     help="Parameter counting: pytorch (BatchNorm scale and shift) or keras (also its "
                          "moving mean and variance)."),
        click.option("--hetconv", "hetconv", type=click.Choice(HETCONV_ACCOUNTING), default="exact",
                     show_default=True,
                     help="HetConv accounting: exact (eqs. 2-4 as built) or ratio (each replaced layer's "
                          "standard count times eq. 5, as some of the paper's tables do)."),
        click.option("--ratio-1x1", is_flag=True,
                     help="With --hetconv ratio: 1x1 convolutions take the ratio too (Table 6)."),
        click.option("--pointwise-bias/--no-pointwise-bias", default=True, show_default=True,
                     help="GWC+PWC and DWC+PWC: whether the pointwise conv has a bias when the network's "
                          "convolutions do."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def time_options(func):
    """Memory traffic and predicted time (docs/time-model.md): device, element type, batch, HetConv kernels."""
    options = [
        click.option("--device", default=None, metavar="NAME|PROFILE",
                     help="Predict time on a device: a built-in (see `hetcalc devices`), 'local' after "
                          "`hetcalc calibrate`, or a profile YAML path."),
        click.option("--dtype", default=None, type=click.Choice(("fp32", "fp16", "bf16", "int8"),
                                                                 case_sensitive=False),
                     help="Element type of weights and activations for memory traffic [default: fp32]."),
        click.option("--batch", default=None, type=click.IntRange(1, 10**9), metavar="B",
                     help="Batch size of the forward pass [default: 1]."),
        click.option("--hetconv-impl", "hetconv_impl", default="fused", show_default=True,
                     type=click.Choice(("fused", "split", "masked"), case_sensitive=False),
                     help="How HetConv runs: one fused kernel, split (grouped KxK + gather + grouped "
                          "1x1 + add) or masked (a dense KxK)."),
        click.option("--traffic", is_flag=True,
                     help="Show memory traffic (bytes, FLOPs per byte) without a device."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_convention(flops_per_mac: int = 1, ops: str = "", replace_first: bool = False, params: str = "pytorch",
                    hetconv: str = "exact", ratio_1x1: bool = False, pointwise_bias: bool = True) -> Convention:
    """A Convention from the values of `convention_options`."""
    names = [o.strip().lower() for o in ops.split(",") if o.strip()]
    if "all" in names:
        names = list(OPS)
    return Convention(flops_per_mac=flops_per_mac, ops=tuple(names), replace_first=replace_first,
                      params=params, hetconv=hetconv, ratio_1x1=ratio_1x1, pointwise_bias=pointwise_bias)


def output_option(func):
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write to FILE (atomically) instead of standard output.")(func)


def check_writable(path: Path | None, inputs: Iterable[str | Path | None] = ()) -> None:
    """Refuse an output path that cannot be written, before any work is done.

    The folder must exist and accept a new file (tried for real: permission bits say nothing to root or
    on a read-only file system); the path must not be a folder, nor one of the run's `inputs`.
    """
    if path is None:
        return
    path = Path(path)
    folder = path.parent
    if not folder.exists():
        raise OptionError(f"cannot write {path}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OptionError(f"cannot write {path}: {folder} is not a folder")
    if path.is_dir():
        raise OptionError(f"cannot write {path}: it is a directory")
    for source in inputs:
        if source is not None and path.exists() and Path(source).exists() and path.samefile(source):
            raise OptionError(f"cannot write {path}: it is an input of this run")
    if path.exists() and not path.is_file():
        return  # a device or a pipe (/dev/null, /dev/stdout): written in place
    if path.exists() and not os.access(path, os.W_OK):
        raise OptionError(f"cannot write {path}: permission denied")
    try:
        with tempfile.TemporaryFile(dir=_real(path).parent):
            pass
    except OSError as exc:
        raise OptionError(f"cannot write {path}: folder {folder} is not writable "
                          f"({exc.strerror or exc})") from None


def _real(path: Path) -> Path:
    """The file a symlink points to, so that writing replaces the target and keeps the link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a partial file.

    An existing file is replaced only once the new content is complete, and keeps its permissions; a new
    file gets the usual ones (0666 less the umask). Devices and pipes are written in place.
    """
    path = Path(path)
    check_writable(path)
    payload = data if isinstance(data, bytes) else data.encode("utf-8")
    if path.exists() and not path.is_file():
        try:
            with path.open("wb") as fh:
                fh.write(payload)
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", source=str(path)) from None
        return
    target = _real(path)
    mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
    tmp = None
    try:
        for _ in range(100):
            tmp = target.parent / f".{target.name}.{os.urandom(4).hex()}.tmp"
            try:
                fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                break
            except FileExistsError:
                continue
        else:
            raise OSError(errno.EEXIST, "no free temporary file name")
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror or exc}; the file was left as it was",
                          source=str(path)) from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def is_terminal(file=None) -> bool:
    file = file or sys.stdout
    return bool(getattr(file, "isatty", None)) and file.isatty()


def show(renderables_for) -> None:
    """Print renderables: rich styles on a terminal, plain text when piped or when NO_COLOR is set.

    `renderables_for(ascii_only)` builds them, so plain output gets plain-text tables.
    """
    from ..tables import render_text

    if is_terminal() and not os.environ.get("NO_COLOR"):
        from rich.console import Console

        con = Console()
        for item in renderables_for(False):
            con.print(item)
    else:
        click.echo(render_text(renderables_for(True)), nl=False)


def output_format(fmt: str | None, output: Path | None, extensions: dict[str, str]) -> str:
    """The format asked for, else the one the -o file's extension names, else 'table'."""
    if fmt:
        return fmt.lower()
    return extensions.get(output.suffix.lower(), "table") if output is not None else "table"


def emit(output: Path | None, text: str | None = None, renderables_for=None) -> None:
    """Send a result where it goes: text as it is, or renderables (`show`'s argument) as a table;
    to standard output, or atomically to `output`."""
    if renderables_for is not None:
        if output is None:
            show(renderables_for)
            return
        from ..tables import render_text

        text = render_text(renderables_for(True))
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
