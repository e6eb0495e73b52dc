"""All of one command's output files, committed together or not at all.

A command declares its outputs before it does any work (`Outputs.declare`: the folder must take a new
file, the path must not be an input of the run), hands each one its content (`Outputs.add`: text, bytes
or a function that streams text), and the CLI commits once the command has succeeded:

1. every regular file is written in full to a temporary file beside it and synced;
2. every device or pipe (/dev/null, /dev/full, a FIFO) is written in place and flushed, so that a full
   device fails the command before any file is replaced;
3. with SIGINT, SIGTERM and SIGHUP held back, the temporary files are renamed over their targets.

Any error or signal before step 3 removes the temporary files and leaves every target as it was.
An input is compared by device and inode, so a symlink or a hard link to the spec (or to a built-in's
YAML, in the installed package or in the source tree) is refused as well.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
from pathlib import Path
from typing import Callable, Iterable, Union

from hetcalc.core.errors import OptionError, OutputError
from hetcalc.core.paths import ARCHITECTURE_DIRS, PACKAGE_DIR
from hetcalc.core.inputs import READ as _READ, note_input  # noqa: F401

Content = Union[str, bytes, Callable]  # a callable receives a text file (UTF-8) and writes to it
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))
_LIVE: set[str] = set()  # temporary files not yet renamed: removed on any error or signal


class Interrupted(BaseException):
    """SIGTERM or SIGHUP, raised like KeyboardInterrupt so that cleanup code runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def raise_on_signal(signum, frame) -> None:
    remove_temporaries()
    raise Interrupted(signum)


def install_signal_handlers() -> dict:
    """SIGTERM and SIGHUP unwind the stack (removing temporary files) instead of killing the process.

    Returns the handlers replaced, for `restore_signal_handlers`."""
    previous = {}
    for sig in SIGNALS:
        if sig != signal.SIGINT and signal.getsignal(sig) in (signal.SIG_DFL, None):
            try:
                previous[sig] = signal.signal(sig, raise_on_signal)
            except (ValueError, OSError):  # not the main thread
                pass
    return previous


def restore_signal_handlers(previous: dict) -> None:
    for sig, handler in previous.items():
        try:
            signal.signal(sig, handler)
        except (ValueError, OSError, TypeError):
            pass


def remove_temporaries() -> None:
    for name in list(_LIVE):
        try:
            os.unlink(name)
        except OSError:
            pass
        _LIVE.discard(name)


def builtin_files() -> list[Path]:
    """Every built-in YAML: the installed package's and, in a checkout, the source tree's."""
    files: list[Path] = []
    for folder in ARCHITECTURE_DIRS:
        if folder.is_dir():
            files += sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    return files


def _identity(path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_dev, st.st_ino


def _is_special(path: Path) -> bool:
    """A device, pipe or socket: written in place (there is nothing to rename over)."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def _real(path: Path) -> Path:
    """The file a symlink points to, so that the rename replaces the target and keeps the link."""
    return Path(os.path.realpath(path)) if path.is_symlink() else path


class Outputs:
    """One command's output files: declared first, committed together."""

    def __init__(self, inputs: Iterable = ()) -> None:
        self.inputs: list = []
        self.items: list[tuple[Path, Content]] = []
        self.declared: list[Path] = []
        self.add_inputs(inputs)

    def add_inputs(self, inputs: Iterable) -> None:
        self.inputs += [p for p in inputs if isinstance(p, (str, Path)) and p]

    def _protected(self) -> dict[tuple[int, int], str]:
        known = {}
        for source in [*builtin_files(), *self.inputs]:
            ident = _identity(source)
            if ident is not None:
                known.setdefault(ident, str(source))
        for ident in _READ:
            known.setdefault(ident, "a file this run read")
        return known

    def declare(self, path, inputs: Iterable = ()) -> Path | None:
        """Refuse an output path that cannot be written, before any work is done.

        The folder must exist and take a new file (tried for real: permission bits say nothing to root or on
        a read-only file system); the path must be neither a folder, nor an input of the run, nor another
        output of the same command.
        """
        if path is None:
            return None
        self.add_inputs(inputs)
        path = Path(path)
        folder = path.parent
        if not folder.exists():
            raise OptionError(f"cannot write {path}: folder {folder} does not exist")
        if not folder.is_dir():
            raise OptionError(f"cannot write {path}: {folder} is not a folder")
        if path.is_dir():
            raise OptionError(f"cannot write {path}: it is a directory")
        self._check_not_input(path)
        ident = _identity(path)
        for other in self.declared:
            if os.path.abspath(other) == os.path.abspath(path) or (ident is not None and _identity(other) == ident):
                raise OptionError(f"cannot write {path}: it is already an output of this command "
                                  f"({other}); give it another name")
        self.declared.append(path)
        if _is_special(path):
            return path  # a device or a pipe (/dev/null, /dev/stdout): written in place
        if path.exists() and not os.access(path, os.W_OK):
            raise OptionError(f"cannot write {path}: permission denied")
        import tempfile  # here, not at the top: it pulls in shutil, bz2 and lzma (start-up time)

        try:
            with tempfile.TemporaryFile(dir=_real(path).parent):
                pass
        except OSError as exc:
            raise OptionError(f"cannot write {path}: folder {folder} is not writable "
                              f"({exc.strerror or exc})") from None
        return path

    def _check_not_input(self, path: Path) -> None:
        ident = _identity(path)
        if ident is None:
            return
        real = Path(os.path.realpath(path))
        if real.is_relative_to(PACKAGE_DIR):  # hetcalc's own modules: replacing one breaks the installation
            raise OptionError(f"cannot write {path}: it is part of hetcalc itself ({real}); give the output "
                              "another name")
        source = self._protected().get(ident)
        if source is not None:
            what = "a built-in architecture" if any(_identity(b) == ident for b in builtin_files()) else \
                "an input of this run"
            raise OptionError(f"cannot write {path}: it is {what} ({source}); give the output another name")

    def add(self, path, content: Content) -> None:
        """Queue `content` for `path` (declared now if it was not): written by `commit`."""
        path = Path(path)
        if not any(p == path for p in self.declared):
            self.declare(path)
        self.items.append((path, content))

    def commit(self) -> None:
        """Write every queued output, all or none (see the module's docstring)."""
        items, self.items = self.items, []
        if not items:
            return
        for path, _ in items:
            self._check_not_input(path)  # an input read since `declare`, e.g. a spec the command found
        temps: list[tuple[Path, Path, int | None]] = []  # (temporary, target, mode to keep)
        try:
            for path, content in items:
                if not _is_special(path):
                    temps.append(self._write_temporary(path, content))
            for path, content in items:
                if _is_special(path):
                    self._write_in_place(path, content)
            blocked = _block_signals()
            try:
                for tmp, target, mode in temps:
                    try:
                        if mode is not None:
                            os.chmod(tmp, mode)
                        os.replace(tmp, target)
                    except OSError as exc:
                        raise OutputError(f"cannot write: {exc.strerror or exc}; the file was left as it was",
                                          source=_shown(target)) from None
                    _LIVE.discard(str(tmp))
            finally:
                _unblock_signals(blocked)
        finally:
            for tmp, _, _ in temps:
                if str(tmp) in _LIVE:
                    _LIVE.discard(str(tmp))
                    try:
                        os.unlink(tmp)
                    except OSError:
                        pass

    def _write_temporary(self, path: Path, content: Content) -> tuple[Path, Path, int | None]:
        target = _real(path)
        try:
            mode = stat.S_IMODE(target.stat().st_mode) if target.exists() else None
            for _ in range(100):
                tmp = target.parent / f".{target.name[:200]}.{os.urandom(4).hex()}.tmp"
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
                    break
                except FileExistsError:
                    continue
            else:
                raise OSError(errno.EEXIST, "no free temporary file name")
            _LIVE.add(str(tmp))
            try:
                with os.fdopen(fd, "wb") as fh:
                    _write_content(fh, content, path)
                    fh.flush()
                    os.fsync(fh.fileno())
            except BaseException:
                _LIVE.discard(str(tmp))
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}; the file was left as it was",
                              source=_shown(path)) from None
        return tmp, target, mode

    def _write_in_place(self, path: Path, content: Content) -> None:
        try:
            with open(path, "wb") as fh:
                _write_content(fh, content, path)
                fh.flush()
        except OSError as exc:
            raise OutputError(f"cannot write: {exc.strerror or exc}", source=_shown(path)) from None


def _write_content(fh, content: Content, path: Path) -> None:
    """Bytes as they are; text as strict UTF-8 (a lone surrogate is an error, never an invalid file)."""
    import io

    try:
        if isinstance(content, bytes):
            fh.write(content)
        elif isinstance(content, str):
            fh.write(content.encode("utf-8"))
        else:
            text = io.TextIOWrapper(fh, encoding="utf-8", errors="strict", newline="\n",
                                    write_through=False)
            try:
                content(text)
                text.flush()
            finally:
                text.detach()
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start:exc.end]
        raise OutputError(f"cannot write: text holds {bad!r}, which is not valid Unicode (a lone "
                          "surrogate)", source=_shown(path)) from None


def _shown(path) -> str:
    from hetcalc.cli.streams import shown_path

    return shown_path(path)


def _block_signals():
    if hasattr(signal, "pthread_sigmask"):
        try:
            return signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        except (OSError, ValueError):
            return None
    return None


def _unblock_signals(previous) -> None:
    if previous is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


# --------------------------------------------------------------------------- the current command's outputs

_CURRENT: list[Outputs] = []


def current() -> Outputs | None:
    """The Outputs of the command being run by `hetcalc` (None when called from Python)."""
    return _CURRENT[-1] if _CURRENT else None


def commit_now() -> None:
    """Write the current command's queued outputs now (all or none), so that it may say they were written."""
    outs = current()
    if outs is not None:
        outs.commit()


class command_outputs:
    """`with command_outputs() as outs:` run a command; commit its outputs if it returns, drop them if not."""

    def __enter__(self) -> Outputs:
        _READ.clear()
        self.outputs = Outputs()
        _CURRENT.append(self.outputs)
        return self.outputs

    def __exit__(self, kind, exc, tb) -> bool:
        _CURRENT.remove(self.outputs)
        if kind is None:
            self.outputs.commit()
        return False
