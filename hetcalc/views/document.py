"""What a command shows (a `Document`: header lines, grids, footer) and the formats it renders in.

A new output format is one renderer module (`render(doc) -> str`) and one line in RENDERERS: every command
with --format offers it, and -o picks it by its extensions.
"""

from __future__ import annotations

from dataclasses import field
from typing import Callable, NamedTuple

from hetcalc.core.records import Record, record
from hetcalc.views import latex, markdown, text
from hetcalc.views.grid import Grid


@record
class Document(Record):
    """A command's result as text: the same content in every format."""

    lines: list[str] = field(default_factory=list)  # header lines: the first is the heading
    grids: list[Grid] = field(default_factory=list)  # each shown with its notes
    footer: list[str] = field(default_factory=list)  # closing lines, set apart (a verdict)
    details: list[str] = field(default_factory=list)  # lines after the grids as they are (paths, sources)


class Renderer(NamedTuple):
    render: Callable[[Document], str]  # the document as text, for a pipe or a file
    extensions: tuple[str, ...] = ()  # -o file extensions that choose the format
    styled: Callable | None = None  # (doc, ascii_only, wide) -> renderables for a terminal, if it has a styled form


TABLE = "table"  # the default format
RENDERERS: dict[str, Renderer] = {
    TABLE: Renderer(text.render, (".txt",), text.renderables),
    "markdown": Renderer(markdown.render, (".md", ".markdown")),
    "latex": Renderer(latex.render, (".tex",)),
}
# Formats of a result's data rather than of its document: each command writes them itself.
EXPORTS: dict[str, tuple[str, ...]] = {"csv": (".csv",), "json": (".json",)}


def format_names(exclude: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Every output format: table, then the data exports, then the other renderers."""
    names = (TABLE, *EXPORTS, *(name for name in RENDERERS if name != TABLE))
    return tuple(name for name in names if name not in exclude)


def format_extensions(exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """File extension -> the format it names ('.md' -> 'markdown')."""
    return {ext: name for name in format_names(exclude)
            for ext in (EXPORTS[name] if name in EXPORTS else RENDERERS[name].extensions)}
