"""The shortcuts that make a 100,000-layer spec fast give what the plain paths give.

Three shortcuts (docs/performance.md): a repeated stage block is built once and re-wired; a variant only
recounts the layers it rebuilds; the streamed JSON encodes each distinct row once and splices the name in.
Each is checked here against a path that does not take it, on inputs chosen to hit its edges.
"""

from __future__ import annotations

import io
import json

import pytest

import hetcalc
from hetcalc import export
from hetcalc.graph import Add, Conv
from hetcalc.spec import load_spec_text

# names that JSON must escape, repeated blocks (the builder's template) and more layers than a write batch
ODD_NAMES = """
name: odd
title: odd names
input: [16, 8, 8]
layers:
  - conv: {out: 16, name: 'q"uote\\\\back'}
  - conv: {out: 16, name: "caf\\u00e9 \\U0001F600", repeat: 2}
  - stage: {block: basic, out: 32, stride: 2, repeat: 4, name: s1}
  - stage: {block: bottleneck, width: 8, out: 32, repeat: 3, shortcut: projection}
  - conv: {out: 32, kernel: 1, repeat: 1100}
  - avgpool: global
  - fc: 10
"""


def ordered(text: str):
    """JSON with the order of keys kept (a dict comparison would not see a reordered field)."""
    return json.loads(text, object_pairs_hook=list)


def reference_json(report) -> str:
    """The report through the plain path: every layer's LayerResult and its to_dict()."""
    return json.dumps(report.to_dict())


@pytest.mark.parametrize("arch", ["resnet50", "resnet56", "mobilenet", ODD_NAMES])
@pytest.mark.parametrize("options", [{}, {"P": "M", "se": 4}, {"P": 2, "hetconv": "ratio"}])
def test_streamed_json_equals_the_plain_path(arch, options):
    source = load_spec_text(arch, "odd.yaml") if arch == ODD_NAMES else arch
    report = hetcalc.analyze(source, **options)
    text = export.to_json(report)
    assert ordered(text) == ordered(reference_json(report))
    layer_lines = [line for line in text.splitlines() if line.startswith('        {"name": ')]
    assert len(layer_lines) == sum(len(v.layers) for v in report.variants)  # one line per layer


def test_streamed_json_without_the_memo(monkeypatch):
    report = hetcalc.analyze(load_spec_text(ODD_NAMES, "odd.yaml"))
    monkeypatch.setattr(export, "_MEMO_LIMIT", 0)  # every row encoded afresh
    assert export.to_json(report) == _memo_text(report)


def _memo_text(report) -> str:
    buf = io.StringIO()
    export.write_json(report, buf)
    return buf.getvalue()


def test_odd_names_survive_the_splice():
    report = hetcalc.analyze(load_spec_text(ODD_NAMES, "odd.yaml"))
    names = [layer["name"] for layer in json.loads(export.to_json(report))["variants"][0]["layers"]]
    assert names[:3] == ['q"uote\\\\back', "café 😀.1", "café 😀.2"]
    assert len(names) == len(set(names)) == len(report.network.layers)


def test_repeated_stage_blocks_are_wired_block_to_block():
    """Each block's add reads its body's last conv and the block's input (or its projection)."""
    net = load_spec_text(ODD_NAMES, "odd.yaml")
    layers = net.layers
    index = {layer.name: i for i, layer in enumerate(layers)}
    for stage, blocks, last in (("s1", 4, "conv2"), ("stage1", 3, "conv3")):
        block_input = index[f"{stage}.0.conv1"] - 1
        for j in range(blocks):
            pre = f"{stage}.{j}."
            add = layers[index[pre + "add"]]
            assert isinstance(add, Add)
            body, short = add.inputs
            assert body == index[pre + last]
            assert short == index.get(pre + "shortcut", block_input), (pre, add.inputs)
            assert layers[index[pre + "conv1"]].inputs == (block_input,)
            if pre + "shortcut" in index:
                assert layers[short].inputs == (block_input,)
            block_input = index[pre + "add"]


def test_repeated_blocks_equal_blocks_written_out():
    """A stage of repeat 5 and the same five blocks as separate stages (named to match) are the same
    layers: shapes, options and edges."""
    repeated = load_spec_text("""
name: a
input: [8, 16, 16]
layers:
  - stage: {block: basic, out: 16, stride: 2, repeat: 5, name: s}
""", "a.yaml")
    written = load_spec_text("""
name: b
input: [8, 16, 16]
layers:
  - stage: {block: basic, out: 16, stride: 2, repeat: 1, name: s}
""", "a.yaml")
    # the first block is built the plain way in both; the later four come from the template in `repeated`
    first = len(written.layers)
    assert repeated.layers[:first] == written.layers
    template = repeated.layers[first:2 * first - 1]  # block 1 (no shortcut: stride 1, 16 -> 16 channels)
    for j in range(1, 5):
        block = [layer for layer in repeated.layers if layer.name.startswith(f"s.{j}.")]
        assert [type(layer) for layer in block] == [Conv, Conv, Add]
        for mine, model in zip(block, template):
            assert mine.name.split(".", 2)[2] == model.name.split(".", 2)[2]
            plain = {k: v for k, v in vars(mine).items() if k not in ("name", "inputs")}
            assert plain == {k: v for k, v in vars(model).items() if k not in ("name", "inputs")}


def test_variant_totals_add_up_from_their_layers():
    """Totals come from standard's plus the rebuilt layers' differences: they equal the layers' sums."""
    for arch in ("vgg16", "resnet50", "mobilenet", load_spec_text(ODD_NAMES, "odd.yaml")):
        report = hetcalc.analyze(arch, P="M", se=2)
        for v in report.variants:
            rows = list(v.layers)
            assert v.flops == sum(r.flops for r in rows)
            assert v.params == sum(r.params for r in rows)
            assert v.macs == sum(r.macs for r in rows)
            assert v.replaced_layers == sum(r.replaced for r in rows)
            net = report.network
            assert v.latency_depth == net.longest_path([r.depth for r in rows])


def test_longest_path_by_hand():
    """A diamond: input -> a -> (b, c) -> add; the longest path takes the heavier branch."""
    from hetcalc.graph import Network

    a = Conv(name="a", in_shape=(4, 4, 4), out_shape=(4, 4, 4), kernel=(1, 1), inputs=(-1,))
    b = Conv(name="b", in_shape=(4, 4, 4), out_shape=(4, 4, 4), kernel=(1, 1), inputs=(0,))
    c = Conv(name="c", in_shape=(4, 4, 4), out_shape=(4, 4, 4), kernel=(1, 1), inputs=(0,))
    d = Add(name="d", in_shape=(4, 4, 4), out_shape=(4, 4, 4), inputs=(1, 2))
    net = Network(name="n", title="n", input=(4, 4, 4), layers=(a, b, c, d))
    assert net.longest_path([1, 5, 2, 1]) == 1 + 5 + 1
    assert net.longest_path([1, 2, 7, 0]) == 1 + 7
    assert net.longest_path(lambda i: 1) == 3
