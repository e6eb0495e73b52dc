"""The house rules of hetcalc/ (docs/architecture.md), read from the source alone: nothing is imported.

Subpackages form one order, bottom to top: core -> network -> convtypes -> counting | timing -> analysis ->
measure -> views -> cli (then the package root). A module imports from its own subpackage or from below;
counting and timing never import each other. No import cycle between modules, no private name taken across
subpackages, no function over 80 lines, no module over 600. An import inside a function is allowed only on
the named lists below, each with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "hetcalc"
ORDER = {"core": 0, "network": 1, "convtypes": 2, "counting": 3, "timing": 3, "analysis": 4, "measure": 5,
         "views": 6, "cli": 7}
ROOT_RANK = 8  # hetcalc/__init__.py, __main__.py, compat.py: the public face, above everything
SIBLINGS = {frozenset({"counting", "timing"})}  # same rank, never importing each other
MAX_FUNCTION_LINES = 80
MAX_MODULE_LINES = 600

# Imports of hetcalc modules inside functions: (importing module prefix, imported module prefix) -> why.
# Each is downward (or within a subpackage); the test fails on any other.
LAZY_INTERNAL = {
    ("hetcalc", "hetcalc.network.spec"): "start-up: load_spec_* load the spec parser when first used",
    ("hetcalc", "hetcalc.measure"): "torch extra: build_module loads the torch builder when called",
    ("hetcalc", "hetcalc.views"): "layering and start-up: a Report's str/repr/table()/_repr_html_ load their "
                                  "views (views.notebook) into analysis's display slot when first shown",
    ("hetcalc.measure", "hetcalc.measure"): "torch extra: torch is imported only when a module is built or timed",
    ("hetcalc.network.sources", "hetcalc.network"): "start-up: a warm built-in needs neither the spec parser "
                                                    "nor an importer (no onnx unless a model is read)",
    ("hetcalc.network.builtin_cache", "hetcalc.network.spec"): "start-up: parse only on a cache miss",
    ("hetcalc.network.builtin_cache", "hetcalc.core.version"): "the cache key: read only when a key is made",
    ("hetcalc.network.spec.load", "hetcalc.core.yamlio"): "start-up: bytes are decoded only on a bad file",
    ("hetcalc.network.importers", "hetcalc.network.importers"): "onnx loads only when a model is read",
    ("hetcalc.analysis", "hetcalc.timing"): "start-up: traffic and time are loaded only when asked for",
    ("hetcalc.analysis", "hetcalc.analysis"): "start-up: stages, per-layer parts, presets and the timed "
                                              "report load only when an analysis asks for them",
    ("hetcalc.analysis", "hetcalc.network.spec"): "start-up: the spec parser loads only for a spec given as text",
    ("hetcalc.timing.devices", "hetcalc.timing"): "start-up: profiles load only with --device",
    ("hetcalc.views", "hetcalc.views"): "start-up: matplotlib loads only when a figure is drawn",
    ("hetcalc.views", "hetcalc.analysis"): "start-up: reproduce's setups and sweeps load only when shown",
    ("hetcalc.views", "hetcalc.core.formatting"): "start-up",
    ("hetcalc.measure", "hetcalc.timing"): "a device profile loads only when predictions are asked for",
    ("hetcalc.cli", "hetcalc"): "start-up: a command loads only the library modules it runs (any module below "
                                "the CLI: the upward-edge test still applies)",
}

# Other libraries imported inside functions: module -> why it is not imported at the top.
LAZY_EXTERNAL = {
    "numpy": "start-up: numpy loads only where arrays are used (sweeps, figures, calibration)",
    "matplotlib": "start-up: only figures load matplotlib",
    "torch": "optional extra, never on the main path",
    "onnx": "optional extra, loaded only when a model is read",
    "yaml": "start-up: writing YAML (import, profiles) loads the dumper only then",
    "rich": "start-up: piped output needs no rich console or table",
    "json": "start-up: only exports encode JSON", "csv": "start-up: only exports write CSV",
    "io": "start-up", "tempfile": "start-up: only outputs write temporary files",
    "difflib": "start-up: a 'did you mean' hint is computed only on an error",
    "textwrap": "start-up", "inspect": "start-up: records build signatures only when asked",
    "warnings": "start-up", "importlib": "lazy loading itself",
    "os": "start-up", "sys": "start-up", "stat": "start-up", "shutil": "start-up", "atexit": "start-up",
    "functools": "start-up", "re": "start-up", "gc": "start-up", "dataclasses": "start-up",
    "operator": "start-up",
}



def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}
TREES = {name: ast.parse(path.read_text(encoding="utf-8")) for name, path in MODULES.items()}


def subpackage(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in ORDER else None


def rank(module: str) -> int:
    sub = subpackage(module)
    return ORDER[sub] if sub else ROOT_RANK


def resolved(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports(module: str):
    """(target module, imported name or None, line, inside a function) for every import of `module`."""
    tree = TREES[module]
    nested = {id(inner) for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
              for inner in ast.walk(node) if isinstance(inner, (ast.Import, ast.ImportFrom))}
    for node in ast.walk(tree):
        lazy = id(node) in nested
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno, lazy
        elif isinstance(node, ast.ImportFrom):
            base = resolved(module, node)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                if full in MODULES:  # from hetcalc.views import plots: the module itself
                    yield full, None, node.lineno, lazy
                else:
                    yield base, alias.name, node.lineno, lazy


def internal_edges():
    for module in MODULES:
        for target, name, line, lazy in imports(module):
            if target == "hetcalc" or target.startswith("hetcalc."):
                yield module, target, name, line, lazy


def test_no_upward_edge_between_subpackages():
    bad = []
    for module, target, _, line, _ in internal_edges():
        src, dst = subpackage(module), subpackage(target)
        if src == dst or target == "hetcalc.core.version":
            continue
        if rank(target) > rank(module) or frozenset({src, dst}) in SIBLINGS:
            bad.append(f"{module}:{line} imports {target}")
    assert not bad, "upward or sideways edges:\n" + "\n".join(bad)


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's components of more than one module (or a module importing itself)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph[v]:
                out.append(comp)

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycle_between_modules():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for module, target, _, _, _ in internal_edges():
        if target in MODULES and target != "hetcalc" and target != module:
            graph[module].add(target)
    cycles = strongly_connected(graph)
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(sorted(c)) for c in cycles)


def test_no_private_name_across_subpackages():
    bad = [f"{module}:{line} takes {name} from {target}" for module, target, name, line, _ in internal_edges()
           if name and name.startswith("_") and not name.startswith("__")
           and subpackage(module) != subpackage(target)]
    assert not bad, "\n".join(bad)


def allowed_internal(module: str, target: str) -> bool:
    return any((module == a or module.startswith(a + ".")) and (target == b or target.startswith(b + "."))
               for a, b in LAZY_INTERNAL)


def test_function_level_imports_are_on_the_named_lists():
    bad = []
    for module in MODULES:
        for target, _, line, lazy in imports(module):
            if not lazy:
                continue
            if target == "hetcalc" or target.startswith("hetcalc."):
                if not allowed_internal(module, target):
                    bad.append(f"{module}:{line} imports {target} inside a function")
            elif target.split(".")[0] not in LAZY_EXTERNAL:
                bad.append(f"{module}:{line} imports {target} inside a function")
    assert not bad, "function-level imports not on LAZY_INTERNAL / LAZY_EXTERNAL:\n" + "\n".join(bad)


def test_the_allow_lists_name_only_downward_edges():
    for (a, b), reason in LAZY_INTERNAL.items():
        assert reason
        assert b == "hetcalc" or rank(b) <= rank(a) or a == "hetcalc", (a, b)


def test_functions_are_short():
    long = {}
    for module, tree in TREES.items():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    long[f"{module}.{node.name}"] = length
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def test_modules_are_small():
    big = {m: len(p.read_text(encoding="utf-8").splitlines()) for m, p in MODULES.items()}
    big = {m: n for m, n in big.items() if n > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


@pytest.mark.parametrize("sub", sorted(ORDER))
def test_every_subpackage_exists(sub):
    assert (PACKAGE / sub / "__init__.py").is_file()


def test_the_check_sees_a_violation(tmp_path):
    """The walk is not vacuous: it finds the edges the package does have."""
    edges = {(m, t) for m, t, _, _, _ in internal_edges()}
    assert ("hetcalc.analysis.results", "hetcalc.network.graph") in edges
    assert strongly_connected({"a": {"b"}, "b": {"a"}, "c": set()}) == [{"a", "b"}]
