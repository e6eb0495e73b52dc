"""Random damage to valid specs: hetcalc either builds a network or raises its own error, never anything else.

Three fuzzers: structural mutations of spec data (values, types, deleted and added keys, moved entries),
checked through both the Python-dict path and the YAML-text path, which must agree; character-level
damage to YAML text; and arbitrary small YAML-like documents.
"""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hetcalc import HetcalcError, analyze, load_spec_text
from hetcalc.architectures import builtin_dir
from hetcalc.graph import Network
from hetcalc.spec import (CONV_KEYS, FC_KEYS, LAYER_TYPES, POOL_KEYS, RESIDUAL_KEYS, STAGE_KEYS, TOP_KEYS,
                          build_network)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

EXTRA_SPECS = [
    """
    name: mixed
    input: [3, 16, 12]
    defaults: {conv: {bias: true, bn: true, act: relu}, fc: {bias: false}}
    layers:
      - conv: {out: 8, kernel: [3, 1], padding: [1, 0], name: stem}
      - maxpool: {kernel: 3, stride: 2, padding: 1}
      - residual:
          body: [conv: {out: 16, stride: 2}, conv: {out: 16, act: none}]
          shortcut: [conv: {out: 16, kernel: 1, stride: 2, replace: false}]
      - residual: {body: [conv: 16, conv: 16], repeat: 2, name: blk}
      - residual: {body: [conv: {out: 32, stride: 2}], shortcut: zero_pad}
      - conv: {out: 32, groups: 4, kernel: 3, in: 32}
      - stage: {block: bottleneck, out: 64, width: 16, repeat: 2, stride: 2}
      - avgpool: global
      - fc: {out: 10, in: 64}
    """,
    """
    input: [1, 28, 28]
    layers:
      - conv: {out: 6, kernel: 5, padding: 2, act: tanh}
      - avgpool: 2
      - conv: {out: 16, kernel: 5, padding: 0, replace: true}
      - maxpool: [2, 2]
      - fc: {out: 120, act: relu}
      - fc: 84
      - fc: 10
    """,
]
SEEDS = [yaml.safe_load(p.read_text()) for p in sorted(builtin_dir().glob("*.yaml"))]
SEEDS += [yaml.safe_load(text) for text in EXTRA_SPECS]
TEXTS = [p.read_text() for p in sorted(builtin_dir().glob("*.yaml"))]

KEYS = sorted({*TOP_KEYS, *CONV_KEYS, *FC_KEYS, *POOL_KEYS, *STAGE_KEYS, *RESIDUAL_KEYS, *LAYER_TYPES})
WORDS = ["conv", "fc", "global", "basic", "bottleneck", "zero_pad", "identity", "projection", "relu", "none",
         "M", "", " ", "yes", "null", "0x10", "064", "1:30", "2024-01-01", "<<", "*a", "!!python/name:os"]
ATOMS = st.one_of(
    st.integers(-3, 40),
    st.sampled_from([0, -1, 2**31, 2**63, 10**30, 10**30 + 1, 10**100, -(10**30)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(WORDS),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)
NAMES = st.one_of(st.sampled_from(KEYS), st.text(max_size=6), st.integers(-2, 5))
VALUES = st.recursive(ATOMS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
                      max_leaves=6)


def test_seeds_are_valid_specs():
    for seed in SEEDS:
        assert build_network(copy.deepcopy(seed), "<seed>").layers


def containers(node, out=None):
    """Every list and dict inside `node`, itself included."""
    out = [] if out is None else out
    if isinstance(node, (list, dict)):
        out.append(node)
        for child in (node.values() if isinstance(node, dict) else node):
            containers(child, out)
    return out


def mutate(spec, data) -> None:
    """One random edit somewhere in `spec`: replace, delete, add, duplicate or wrap a value."""
    target = data.draw(st.sampled_from(containers(spec)))
    keys = list(target) if isinstance(target, dict) else list(range(len(target)))
    op = data.draw(st.sampled_from(["tweak", "tweak", "replace", "delete", "add", "duplicate", "wrap"]))
    if op == "add" or not keys:
        if isinstance(target, dict):
            target[data.draw(NAMES)] = data.draw(VALUES)
        else:
            target.insert(data.draw(st.integers(0, len(target))), data.draw(VALUES))
        return
    key = data.draw(st.sampled_from(keys))
    if op == "tweak":  # a plausible value of the same kind: keeps many mutants valid, so costs get computed
        value = target[key]
        if isinstance(value, bool):
            target[key] = not value
        elif isinstance(value, int):
            target[key] = data.draw(st.sampled_from([1, 2, 3, 4, 7, 8, 16, 64, value * 2, max(value // 2, 1)]))
        elif isinstance(value, str):
            target[key] = data.draw(st.sampled_from(WORDS[:10]))
        elif isinstance(value, list) and value:
            target[key] = value[:-1]
    elif op == "replace":
        target[key] = data.draw(VALUES)
    elif op == "delete":
        del target[key]
    elif op == "duplicate" and isinstance(target, list):
        target.insert(key, copy.deepcopy(target[key]))
    else:
        target[key] = [target[key]] if data.draw(st.booleans()) else {data.draw(NAMES): target[key]}


def outcome(build):
    """The network built, or the HetcalcError raised; any other exception fails the test."""
    try:
        return build()
    except HetcalcError as exc:
        assert "\n" not in str(exc)
        return exc


def layer_facts(net: Network):
    return [(layer.name, layer.kind, layer.in_shape, layer.out_shape) for layer in net.layers]


@FUZZ
@given(st.data())
def test_mutated_specs_build_or_raise_hetcalc_errors(data):
    spec = copy.deepcopy(data.draw(st.sampled_from(SEEDS)))
    for _ in range(data.draw(st.integers(1, 3))):
        mutate(spec, data)
    from_dict = outcome(lambda: build_network(copy.deepcopy(spec), "<dict>"))
    text = yaml.safe_dump(spec, sort_keys=False)
    from_text = outcome(lambda: load_spec_text(text, "fuzz.yaml"))
    # The YAML path and the Python path agree on what is valid and on what the network is.
    assert isinstance(from_dict, Network) == isinstance(from_text, Network), (from_dict, from_text)
    if isinstance(from_text, Network):
        assert layer_facts(from_text) == layer_facts(from_dict)
        if len(from_text.layers) <= 2_000:
            report = outcome(lambda: analyze(from_text, P="M"))
            if not isinstance(report, HetcalcError):
                for variant in report.variants:
                    assert isinstance(variant.flops, int) and isinstance(variant.params, int)
    else:
        assert from_text.source == "fuzz.yaml" and from_text.line is not None, str(from_text)


DAMAGE = st.sampled_from(list(":-[]{},&*!|>%@`#'\"\t\n 0x.~?=<\x00\x07\ufeff\u2028")
                         + ["<<: *a", "&a", "''", "!!set ", "!!int ", "!!bool ", "!!float ", "!!str ", "!!null ",
                            "!!timestamp ", "!!binary ", "!!omap ", "!!python/tuple "])


@FUZZ
@given(st.sampled_from(TEXTS), st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 2), DAMAGE),
                                        min_size=1, max_size=4))
def test_damaged_yaml_text_builds_or_raises_spec_errors(text, edits):
    for position, op, piece in edits:
        i = position % (len(text) + 1)
        if op == 0:
            text = text[:i] + piece + text[i:]
        elif op == 1:
            text = text[:i] + text[i + 1:]
        else:
            text = text[:i] + piece + text[i + 1:]
    result = outcome(lambda: load_spec_text(text, "damaged.yaml"))
    if isinstance(result, HetcalcError):
        assert result.source == "damaged.yaml" and result.line is not None, str(result)


@FUZZ
@given(st.dictionaries(NAMES, VALUES, max_size=4), st.sampled_from([None, [3, 8, 8], [1, 1, 1]]))
def test_arbitrary_documents_build_or_raise_hetcalc_errors(document, shape):
    if shape is not None:
        document["input"] = shape
    outcome(lambda: build_network(copy.deepcopy(document), "<dict>"))
    result = outcome(lambda: load_spec_text(yaml.safe_dump(document), "doc.yaml"))
    if isinstance(result, HetcalcError):
        assert result.line is not None, str(result)
