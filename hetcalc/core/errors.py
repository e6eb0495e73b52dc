"""One-line domain errors: each names the file, the place in it and the bad value."""

from __future__ import annotations


# A file name or a value may hold a newline or a control character; the error must stay one plain line.
_ONE_LINE = {code: f"\\x{code:02x}" for code in (*range(32), 127)}


class HetcalcError(Exception):
    """Base of every error hetcalc raises on bad input; its str() is one line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.message = " ".join(str(message).split()).translate(_ONE_LINE)
        self.source = source
        self.line = line
        self.column = column
        super().__init__(str(self))

    @property
    def where(self) -> str:
        """`file:line:column` as far as known, or ''."""
        parts = [p for p in (self.source, self.line, self.column) if p is not None]
        return ":".join(str(p) for p in parts).translate(_ONE_LINE)

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class SpecError(HetcalcError):
    """An architecture spec that cannot describe a network."""


class OptionError(HetcalcError):
    """An option value (P, G, a format, a variant) that cannot apply."""


class OutputError(HetcalcError):
    """An output file that could not be written (the target is left as it was)."""
