"""Safe YAML loading that remembers where every value came from.

Specs are loaded with PyYAML's safe loader (no tags that construct objects), duplicate keys are refused,
and aliases and nesting are bounded so a small file cannot expand into a huge or deep document.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from .errors import SpecError

MAX_NODES = 200_000
MAX_DEPTH = 64
MAX_BYTES = 8 * 1024 * 1024


class YMap(dict):
    """A mapping that knows its own line/column and those of each value (1-based)."""

    mark: tuple[int, int] = (0, 0)
    key_marks: dict


class YList(list):
    """A sequence that knows its own line/column and those of each item (1-based)."""

    mark: tuple[int, int] = (0, 0)
    item_marks: list


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


class _Converter:
    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.count = 0

    def fail(self, message: str, node: yaml.Node) -> SpecError:
        line, col = _mark(node)
        return SpecError(message, source=self.source, line=line, column=col)

    def convert(self, node: yaml.Node, depth: int = 0):
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"document expands to more than {MAX_NODES:,} values "
                            "(aliases or size); specs must be small", node)
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, yaml.MappingNode):
            out = YMap()
            out.mark = _mark(node)
            out.key_marks = {}
            self.loader.flatten_mapping(node)  # resolves `<<` merge keys
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise self.fail("mapping keys must be plain names", key_node)
                key = self._scalar(key_node)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise self.fail(f"mapping key {key!r} must be a name", key_node)
                if key in out:
                    raise self.fail(f"duplicate key '{key}'", key_node)
                out[key] = self.convert(value_node, depth + 1)
                out.key_marks[key] = _mark(value_node)
            return out
        if isinstance(node, yaml.SequenceNode):
            out = YList()
            out.mark = _mark(node)
            out.item_marks = []
            for item in node.value:
                out.append(self.convert(item, depth + 1))
                out.item_marks.append(_mark(item))
            return out
        return self._scalar(node)

    def _scalar(self, node: yaml.Node):
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            raise self.fail(f"cannot read value: {_problem(exc)}", node) from None


def _problem(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    return " ".join(str(problem).split())


def load_yaml_text(text: str, source: str):
    """Parse one YAML document into YMap/YList/scalars; SpecError on anything unsafe or malformed."""
    if "\x00" in text:
        raise SpecError("not a text file (contains NUL bytes)", source=source)
    loader = yaml.SafeLoader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
            raise SpecError(f"YAML syntax error: {_problem(exc)}", source=source, line=line,
                            column=col) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"YAML error: {_problem(exc)}", source=source) from None
        except RecursionError:
            raise SpecError(f"nesting deeper than {MAX_DEPTH} levels", source=source) from None
        if node is None:
            raise SpecError("empty spec: expected a mapping with 'input' and 'layers'", source=source)
        return _Converter(loader, source).convert(node)
    finally:
        loader.dispose()


def read_spec_file(path: Path) -> str:
    """The text of a spec file, or a SpecError that names it."""
    source = str(path)
    if path.is_dir():
        raise SpecError("is a directory, not a spec file", source=source)
    if not path.exists():
        raise SpecError("no such file", source=source)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise SpecError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB", source=source)
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if b"\x00" in data:
        raise SpecError("not a text file (contains NUL bytes)", source=source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError(f"not UTF-8 text (bad byte at offset {exc.start})", source=source) from None
