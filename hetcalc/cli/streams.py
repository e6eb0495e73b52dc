"""Standard output and error when they misbehave: closed, full, or unable to encode the text."""

from __future__ import annotations

import errno
import os
import sys

_CONTROL = {code: f"\\x{code:02x}" for code in (*range(32), 127)}


MAX_LINE = 1000  # characters of an error or warning line: a 1 MB name in a message is cut, not printed


def one_line(message: str) -> str:
    """A message as one printable line: whitespace runs folded, control characters and lone surrogates escaped,
    and cut to MAX_LINE characters (saying how long it was)."""
    text = " ".join(str(message).split()).translate(_CONTROL)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    if len(text) > MAX_LINE:
        text = f"{text[:MAX_LINE - 100]}... ({len(text):,} characters in all)"
    return text


def shown_path(path) -> str:
    """A path for a message: escaped, and shortened when longer than a line."""
    text = one_line(os.fsdecode(path) if isinstance(path, bytes) else str(path))
    return text if len(text) <= 160 else f"{text[:80]}...{text[-60:]} ({len(text):,} characters)"


class ClosedStream:
    """Stands for a standard stream that was closed when hetcalc started: writing to it is an error."""

    encoding = "utf-8"
    errors = "strict"

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text) -> int:
        raise OSError(errno.EBADF, f"{self.name} is closed")

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        raise OSError(errno.EBADF, f"{self.name} is closed")


_STDOUT_ERRNOS = {errno.ENOSPC, errno.EBADF, errno.EIO, errno.EPIPE, getattr(errno, "EDQUOT", -1), errno.EFBIG}


def describe_os_error(exc: OSError) -> str:
    """`PATH: reason` for an OSError; standard output named when no path is known."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.EBADF and "closed" in reason:
        return "cannot write to standard output: it is closed"
    if exc.filename is not None:
        path = shown_path(exc.filename)
        if exc.filename2 is not None:
            path += f" -> {shown_path(exc.filename2)}"
        return f"{path}: {reason}"
    if exc.errno in _STDOUT_ERRNOS:
        return f"cannot write to standard output: {reason}"
    return reason


def describe_encode_error(exc: UnicodeError) -> str:
    """What could not be encoded or decoded, and where it was going."""
    if isinstance(exc, UnicodeEncodeError):
        bad = exc.object[exc.start:exc.end]
        shown = one_line(ascii(bad))
        if any(0xD800 <= ord(c) <= 0xDFFF for c in bad):
            return (f"cannot write {shown}: it is a lone surrogate, not a character (a name or path that is "
                    "not valid Unicode)")
        encoding = getattr(sys.stdout, "encoding", None) or exc.encoding
        return (f"cannot write to standard output: its encoding {encoding} cannot show {shown}; set "
                "PYTHONIOENCODING=utf-8 or write to a file with -o")
    if isinstance(exc, UnicodeDecodeError):
        return f"cannot decode {exc.encoding} text: byte 0x{exc.object[exc.start]:02x} at offset {exc.start}"
    return one_line(str(exc))


def silence_stdout(exc: BaseException | None = None) -> None:
    """After standard output failed, point it at /dev/null so that the exit flush cannot fail again."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)
    except OSError:
        pass
