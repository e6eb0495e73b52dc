"""Why the counters disagree: each preset's figure for one network, split into the terms that make it.

Every term is a raw count of the network as realized (MACs, bias adds, BatchNorm elements, ...) times the
number of times the tool counts it; the terms of a tool add up to its figure exactly, and the paper's
figure (conv and FC MACs, eq. 1) comes first. Pure: a `Reconciliation` out, nothing printed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hetcalc.counting.convention import Convention
from hetcalc.core.errors import HetcalcError, OptionError
from hetcalc.counting.modules import MODULE_RULES
from hetcalc.counting.presets import Preset, tool_presets
from hetcalc.counting.terms import COUNTING_TERMS
from hetcalc.analysis.api import analyze
from hetcalc.analysis.options import parse_variants, variant_keys
from hetcalc.network.sources import resolve

MACS_LABEL = "conv + FC MACs"  # the term every figure starts with; the others are counting terms
MODULES_LABEL = "by module class"  # a torch module's: what its classes change for the tools that count by class


def term_label(term: str) -> str:
    """A term's row label: "macs" or an --ops name (its label in counting/terms.py)."""
    if term == "modules":
        return MODULES_LABEL
    return MACS_LABEL if term == "macs" else COUNTING_TERMS[term].label


@dataclass(frozen=True)
class Term:
    """One term of a tool's figure: `count` (its rule in counting/terms.py) counted `times` times."""

    term: str  # "macs" or an --ops name
    count: int
    times: int

    @property
    def ops(self) -> int:
        return self.count * self.times

    @property
    def label(self) -> str:
        return term_label(self.term)

    def to_dict(self) -> dict:
        return {"term": self.term, "label": self.label, "count": self.count, "times": self.times, "ops": self.ops}


@dataclass(frozen=True)
class ToolFigure:
    """A preset's figure and parameter count (None where the tool gives none), with its terms."""

    preset: Preset
    figure: int
    params: int | None
    terms: tuple[Term, ...]

    def to_dict(self, paper: int) -> dict:
        return {"convention": self.preset.name, "tool": self.preset.tool, "call": self.preset.call,
                "unit": self.preset.unit, "figure": self.figure, "params": self.params,
                "vs_paper": self.figure - paper, "terms": [t.to_dict() for t in self.terms]}


@dataclass(frozen=True)
class Reconciliation:
    architecture: str
    title: str
    source: str
    input: tuple[int, int, int]
    variant: str
    label: str  # "standard", "HetConv (P=4)", ...
    rules: tuple[str, ...]  # the replacement rules in force (which layers, how HetConv is counted)
    tools: tuple[ToolFigure, ...]  # the paper first, then each tool
    notes: tuple[str, ...] = ()  # which figures the input cannot fix, and why

    @property
    def paper(self) -> ToolFigure:
        return self.tools[0]

    def to_dict(self) -> dict:
        """The JSON object of docs/json.md (`hetcalc reconcile`)."""
        return {"architecture": self.architecture, "title": self.title, "source": self.source,
                "input": list(self.input), "variant": self.variant, "label": self.label, "rules": list(self.rules),
                "tools": [t.to_dict(self.paper.figure) for t in self.tools], "notes": list(self.notes)}


def reconcile(arch: Any, variant: str = "standard", P: Any = 4, G: Any = None, se: int | None = None, *,
              input_shape: Any = None, **replacement: Any) -> Reconciliation:
    """Every preset's figure for one variant of `arch`, each split into its terms.

    `replacement` sets which layers are replaced and how (replace_first, pointwise_bias); the counting
    rules are the presets'. HetConv ratio accounting rounds per layer, so its terms could not add up: refused.
    A torch module (with `input_shape`) adds a `modules` term to the tools that count by module class: what
    its classes change (counting/modules.py).
    """
    for key in replacement:
        if key not in ("replace_first", "pointwise_bias"):
            raise OptionError(f"reconcile takes replace_first and pointwise_bias, not {key!r}: the counting "
                              "rules are each preset's")
    keys = parse_variants(variant)
    if len(keys) != 1:
        raise OptionError(f"reconcile takes one variant (one of {', '.join(variant_keys())}), got {variant!r}")
    key = keys[0]
    network = resolve(arch, input_shape=input_shape)  # once: a torch module is traced once

    def run(convention: Convention):
        report = analyze(network, P=P, G=G, variants=key, convention=convention, se=se)
        return report, report.variant(key)

    report, base = run(Convention(**replacement))
    counts: dict[str, int] = {}
    tools = []
    for preset in tool_presets():
        convention = preset.convention(**replacement)
        _, result = run(convention)
        terms = [Term("macs", base.macs, preset.flops_per_mac)]
        for op in dict.fromkeys(convention.ops):
            if op not in counts:
                counts[op] = run(Convention(ops=(op,), **replacement))[1].flops - base.macs
            if counts[op] == 0 and COUNTING_TERMS[op].quiet:  # what the network does not have: no row
                continue
            terms.append(Term(op, counts[op], convention.ops.count(op)))
        by_class = result.flops - sum(t.ops for t in terms)
        if by_class and network.meta.get("modules"):  # a torch module's classes (counting/modules.py)
            terms.append(Term("modules", by_class, 1))
        if sum(t.ops for t in terms) != result.flops:  # cannot happen: each term is linear in the layers
            raise HetcalcError(f"internal error: the terms of {preset.name} do not add up to its figure")
        tools.append(ToolFigure(preset, result.flops, result.params if preset.params else None, tuple(terms)))
    rules = tuple(base_rules(report.convention))
    if se:
        rules += (f"Squeeze-and-Excitation (reduction {se}) after every convolution outside residual blocks and "
                  "once per residual block: FC C -> C/R -> C, no biases.",)
    return Reconciliation(report.architecture, report.title, report.source, report.input, key, base.label, rules,
                          tuple(tools), graph_notes(network))


def graph_notes(network) -> tuple[str, ...]:
    """For a model read from a graph file: the figures a graph cannot fix, and why."""
    if network.meta.get("modules") or not network.description.startswith("imported from"):
        return ()
    tools = ", ".join(MODULE_RULES)
    return (f"{tools} count by module class, which a graph does not show: their figures here are for every layer "
            "written as torchvision's module (nn.Conv2d, nn.BatchNorm2d, nn.ReLU, nn.Linear); a functional call "
            "(F.relu, F.max_pool2d) or a subclass (timm's BatchNormAct2d, its Linear) moves them. Reconcile the "
            "torch module itself (reconcile(model, input_shape=...)) for their exact figures.",)


def base_rules(convention: Convention) -> list[str]:
    """The rules that every preset shares here: which layers are replaced and how (not how FLOPs count)."""
    return [r for r in convention.rules() if not r.startswith(("FLOPs:", "Plus ", "Parameters", "Latency"))]
