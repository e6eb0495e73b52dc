"""Safe YAML loading that remembers where every value came from.

Specs are plain data. They are parsed with PyYAML's safe loader and then converted node by node here, so
that only strings, integers, floats, booleans, nulls, lists and mappings come out: any other tag
(`!!python/object`, `!!binary`, a date, a custom `!tag`) is refused, so nothing is ever constructed.
Duplicate keys are refused, nesting is bounded while composing (before Python's recursion limit), and
the number of values after alias expansion is bounded, so a small file cannot become a huge document.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from hetcalc.core.errors import SpecError
from hetcalc.core.inputs import note_input

# Hand-written specs have a few hundred values and fit in a few kilobytes; a spec `hetcalc import` writes has
# one line per layer, about 11 values and 75 bytes for a plain conv, and must load back up to the graph's bound
# of 100,000 layers (network/rules.py MAX_LAYERS): 1,200,000 values and 16 MiB hold that. The bounds keep a
# hostile or mistaken file (an alias bomb, a runaway generator) to seconds of parsing, about 20 s at the bound.
MAX_NODES = 1_200_000  # values, counted while parsing and again after alias and merge expansion
MAX_DEPTH = 64  # nested lists and mappings
MAX_BYTES = 16 * 1024 * 1024

_Y = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_Y + t for t in ("str", "int", "float", "bool", "null"))
MAP, SEQ, MERGE = _Y + "map", _Y + "seq", _Y + "merge"
SCALAR_TAGS = (STR, INT, FLOAT, BOOL, NULL)

# YAML 1.1 reads these integer spellings in ways nobody writing a spec means: 064 is octal 52, 1:30 is 90.
_OCTAL = re.compile(r"[-+]?0[0-9_]+")
_SEXAGESIMAL = re.compile(r"[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+")
_DECIMAL = re.compile(r"[-+]?[0-9][0-9_]*")


def _cut(text: str, size: int = 40) -> str:
    return text if len(text) <= size else text[: size - 3] + "..."


class YMap(dict):
    """A mapping that knows its own line/column, those of each value and those of each key (1-based)."""

    mark: tuple[int, int] | None = None
    key_marks: dict  # key -> (line, column) of its value
    name_marks: dict  # key -> (line, column) of the key itself


class YList(list):
    """A sequence that knows its own line/column and those of each item (1-based)."""

    mark: tuple[int, int] | None = None
    item_marks: list


def _mark(node_or_mark) -> tuple[int, int]:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return mark.line + 1, mark.column + 1


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_Y):] if tag.startswith(_Y) else tag


class _Loader(yaml.SafeLoader):
    """The safe loader, refusing as it composes nesting deeper than MAX_DEPTH (before any RecursionError)
    and more than MAX_NODES values (before a large file is parsed to the end)."""

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent, index):
        self.nodes += 1
        if self.depth >= MAX_DEPTH or self.nodes > MAX_NODES:
            line, col = _mark(self.peek_event())
            problem = (f"nesting deeper than {MAX_DEPTH} levels" if self.depth >= MAX_DEPTH
                       else f"document has more than {MAX_NODES:,} values; a spec must be small")
            raise SpecError(problem, source=self.source, line=line, column=col)
        self.depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


try:  # libyaml's scanner and parser, under the same bounded Python composer: about 5x faster
    from yaml._yaml import CParser as _CParser
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    _CParser = None


if _CParser is not None:
    class _FastLoader(yaml.composer.Composer, _CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml events, composed by PyYAML's composer with _Loader's bounds. Used for ASCII text only
        (its marks then equal the pure-Python reader's); any problem is re-raised by re-reading with _Loader,
        so that every error message is the pure-Python loader's."""

        def __init__(self, stream: str, source: str) -> None:
            _CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            self.source = source
            self.depth = 0
            self.nodes = 0

        def compose_node(self, parent, index):
            self.nodes += 1
            if self.depth >= MAX_DEPTH or self.nodes > MAX_NODES:
                raise _Retry
            self.depth += 1
            try:
                return yaml.composer.Composer.compose_node(self, parent, index)
            finally:
                self.depth -= 1

        def compose_scalar_node(self, anchor):
            node = yaml.composer.Composer.compose_scalar_node(self, anchor)
            if node.style == "":  # libyaml's plain style; the pure-Python parser's is None
                node.style = None
            return node


class _Retry(Exception):
    """The fast path met something the pure-Python loader must judge (and word the error for)."""


def _fast_node(text: str, source: str):
    """The document's root node through libyaml, or None when the pure-Python loader must read it."""
    if _CParser is None or not text.isascii() or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    loader = _FastLoader(text, source)
    try:
        return loader, loader.get_single_node()
    except (_Retry, yaml.YAMLError, RecursionError, ValueError, TypeError):
        loader.dispose()
        return None


class _Converter:
    """Nodes -> YMap/YList/scalars, counting values and refusing anything but plain data."""

    def __init__(self, loader: yaml.SafeLoader, source: str) -> None:
        self.loader = loader
        self.source = source
        self.count = 0
        self.active: set[int] = set()  # ids of the collections being converted: catches recursive aliases

    def fail(self, message: str, node) -> SpecError:
        line, col = _mark(node)
        return SpecError(message, source=self.source, line=line, column=col)

    def convert(self, node: yaml.Node, depth: int = 1):
        self.count += 1
        if self.count > MAX_NODES:
            raise self.fail(f"document expands to more than {MAX_NODES:,} values through aliases or size; "
                            "a spec must be small (use 'repeat' and 'stage' instead)", node)
        if depth > MAX_DEPTH:
            raise self.fail(f"nesting deeper than {MAX_DEPTH} levels (through aliases)", node)
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        expected = MAP if isinstance(node, yaml.MappingNode) else SEQ
        if node.tag != expected:
            raise self._tag_error(node)
        if id(node) in self.active:
            raise self.fail("recursive alias: this collection contains itself", node)
        self.active.add(id(node))
        try:
            return self._mapping(node, depth) if expected == MAP else self._sequence(node, depth)
        finally:
            self.active.discard(id(node))

    def _sequence(self, node: yaml.SequenceNode, depth: int) -> YList:
        out = YList()
        out.mark = _mark(node)
        out.item_marks = []
        for item in node.value:
            out.append(self.convert(item, depth + 1))
            out.item_marks.append(_mark(item))
        return out

    def _mapping(self, node: yaml.MappingNode, depth: int) -> YMap:
        out = YMap()
        out.mark = _mark(node)
        out.key_marks, out.name_marks = {}, {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merges.append(value_node)
                continue
            key = self._key(key_node)
            if key in out:
                line = out.name_marks[key][0]
                raise self.fail(f"duplicate key '{_cut(str(key))}' (first given on line {line})", key_node)
            out[key] = self.convert(value_node, depth + 1)
            out.key_marks[key] = _mark(value_node)
            out.name_marks[key] = _mark(key_node)
        # `<<: *base` or `<<: [*a, *b]`: keys given here win, then earlier sources over later ones.
        for merge in merges:
            sources = merge.value if isinstance(merge, yaml.SequenceNode) and merge.tag == SEQ else [merge]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    raise self.fail("'<<' merges only mappings (an alias like *base or a list of them)", source)
                merged = self.convert(source, depth + 1)
                for key, value in merged.items():
                    if key not in out:
                        out[key] = value
                        out.key_marks[key] = merged.key_marks[key]
                        out.name_marks[key] = merged.name_marks[key]
        return out

    def _key(self, node: yaml.Node):
        if not isinstance(node, yaml.ScalarNode):
            raise self.fail("mapping keys must be plain names, not lists or mappings", node)
        key = self._scalar(node)
        if isinstance(key, bool):
            raise self.fail(f"mapping key {_cut(node.value)!r} reads as a boolean (quote it: YAML reads "
                            "yes/no/on/off/true/false as booleans)", node)
        if key is None:
            raise self.fail(f"mapping key {_cut(node.value)!r} reads as null (quote it, or give the key a name)",
                            node)
        if not isinstance(key, (str, int)):
            raise self.fail(f"mapping key {_cut(node.value)!r} must be a name", node)
        return key

    def _scalar(self, node: yaml.ScalarNode):
        if node.tag not in SCALAR_TAGS:
            raise self._tag_error(node)
        if node.tag == INT:
            text = node.value.strip()
            if _OCTAL.fullmatch(text):
                raise self.fail(f"{_cut(text)} has a leading zero, which YAML reads as octal "
                                f"({self._number(node)}); write it without the leading zero", node)
            if _SEXAGESIMAL.fullmatch(text):
                raise self.fail(f"{_cut(text)} reads as a base-60 number ({self._number(node)}) in YAML; "
                                "quote it if it is text", node)
        return self._construct(node)

    def _number(self, node: yaml.ScalarNode) -> str:
        value = self._construct(node)
        return str(value) if value.bit_length() <= 100 else "a huge number"

    def _construct(self, node: yaml.ScalarNode):
        try:
            return self.loader.construct_object(node, deep=True)
        except Exception:  # noqa: BLE001 - safe constructors raise ValueError, KeyError, IndexError on odd text
            text = node.value.strip()
            if node.tag == INT and _DECIMAL.fullmatch(text):  # Python reads at most 4,300 digits
                raise self.fail(f"integer of {len(text):,} digits is far too large (spec integers are at most "
                                "10**30)", node) from None
            kind = {INT: "an integer", FLOAT: "a float", BOOL: "a boolean"}.get(node.tag, "a value")
            raise self.fail(f"cannot read {_cut(node.value)!r} as {kind}", node) from None

    def _tag_error(self, node: yaml.Node) -> SpecError:
        tag = _short_tag(node.tag)
        if node.tag == _Y + "timestamp":
            return self.fail(f"{_cut(node.value)!r} reads as a date or time; quote it if it is text", node)
        if "python/" in node.tag:
            return self.fail(f"YAML tag '{tag}' is refused: specs are plain data and never construct "
                             "Python objects", node)
        return self.fail(f"YAML tag '{tag}' is not allowed in a spec (only strings, numbers, booleans, "
                         "null, lists and mappings)", node)


def _problem(exc: Exception) -> str:
    problem = getattr(exc, "problem", None) or str(exc)
    return " ".join(str(problem).split())


def load_yaml_document(text: str, source: str):
    """(value, (line, column) of the document's root) from YAML text; SpecError on anything bad."""
    if "\x00" in text:
        raise SpecError("not a text file (contains NUL bytes)", source=source,
                        line=text.count("\n", 0, text.index("\x00")) + 1)
    if len(text) > MAX_BYTES:
        raise SpecError(f"spec is longer than {MAX_BYTES // (1024 * 1024)} MiB; a spec must be small",
                        source=source, line=1)
    loader = None
    try:
        try:
            fast = _fast_node(text, source)
            if fast is not None:
                loader, node = fast
            else:
                loader = _Loader(text, source)  # the reader checks every character here
                node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            raise _syntax_error(exc, source) from None
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
            char = exc.character if isinstance(exc.character, str) else chr(exc.character)
            raise SpecError(f"character {char!r} (#x{ord(char):04x}) is not allowed in YAML text",
                            source=source, line=line, column=column) from None
        except yaml.YAMLError as exc:
            raise SpecError(f"YAML error: {_problem(exc)}", source=source) from None
        except RecursionError:  # not reached while MAX_DEPTH is well under the recursion limit
            raise SpecError(f"nesting deeper than {MAX_DEPTH} levels", source=source) from None
        if node is None:
            raise SpecError("empty spec: expected a mapping with 'input' and 'layers'", source=source,
                            line=1)
        return _Converter(loader, source).convert(node), _mark(node)
    finally:
        if loader is not None:
            loader.dispose()


def _syntax_error(exc: yaml.MarkedYAMLError, source: str) -> SpecError:
    mark = exc.problem_mark or exc.context_mark
    line, col = _mark(mark) if mark else (None, None)
    problem = _problem(exc)
    if "'\\t'" in problem:
        problem += " (YAML indents with spaces, never tabs)"
    if exc.context and exc.context_mark and mark is not exc.context_mark:
        context = " ".join(exc.context.split())
        if problem.startswith("but "):  # "expected a single document in the stream", "but found another..."
            problem = f"{context}, {problem}"
        else:
            problem += f" ({context} started on line {exc.context_mark.line + 1})"
    return SpecError(f"YAML syntax error: {problem}", source=source, line=line, column=col)


def load_yaml_text(text: str, source: str):
    """Parse one YAML document into YMap/YList/scalars; SpecError on anything unsafe or malformed."""
    return load_yaml_document(text, source)[0]


def read_spec_file(path: Path) -> str:
    """The text of a spec file, or a SpecError that names it."""
    path = Path(path)
    source = str(path)
    if len(source) > 200:  # a message names the file on one line
        source = f"{source[:80]}...{source[-60:]} ({len(source):,} characters)"
    try:
        is_dir, exists = path.is_dir(), path.exists()
    except (OSError, ValueError) as exc:  # a name too long, a folder without permission, a NUL byte
        raise SpecError(f"cannot read: {getattr(exc, 'strerror', None) or exc}", source=source) from None
    if is_dir:
        raise SpecError("is a directory, not a spec file", source=source)
    if not exists:
        raise SpecError("no such file", source=source)
    try:
        with path.open("rb") as fh:  # a bounded read: a device or a pipe cannot fill memory
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror or exc}", source=source) from None
    if len(data) > MAX_BYTES:
        raise SpecError(f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB; a spec must be small",
                        source=source, line=1)
    note_input(path)
    return decode_spec_bytes(data, source)


def decode_spec_bytes(data: bytes, source: str) -> str:
    """Spec bytes as text: UTF-8 only, no NUL bytes, a clear error naming the place otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpecError("UTF-16 text; save the spec as UTF-8", source=source, line=1)
    if b"\x00" in data:
        raise SpecError("not a text file (contains NUL bytes)", source=source,
                        line=data.count(b"\n", 0, data.index(b"\x00")) + 1)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecError(f"not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})",
                        source=source, line=line) from None
