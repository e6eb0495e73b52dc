"""A BatchNorm-folded ONNX export (torch's legacy exporter with training=EVAL, or the dynamo exporter) gets one
warning line saying what is not counted and how to export; an export that keeps BatchNorm, and a module
analyzed directly, get none. The [torch] extra carries what the default exporter needs."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

import hetcalc  # noqa: E402
from hetcalc.network.importers.hints import FoldedBatchNormWarning  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def model():
    torch.manual_seed(0)
    m = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, bias=False), torch.nn.BatchNorm2d(8), torch.nn.ReLU(),
                            torch.nn.Conv2d(8, 4, 3, bias=False), torch.nn.BatchNorm2d(4)).eval()
    with torch.no_grad():  # trained statistics: folding leaves a nonzero bias on each convolution
        for bn in (m[1], m[4]):
            bn.running_mean.normal_()
            bn.bias.normal_()
    return m


def export(path, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model(), (torch.zeros(1, 3, 16, 16),), str(path), **options)
    return path


def warnings_of(arch, **options):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        report = hetcalc.analyze(arch, variants="standard", **options)
    return report, [w for w in caught if issubclass(w.category, FoldedBatchNormWarning)]


# 3x3 convs 3 -> 8 and 8 -> 4, and each BatchNorm's scale and shift (2 x channels)
WEIGHTS = 8 * 3 * 9 + 4 * 8 * 9
WITH_BN = WEIGHTS + 2 * 8 + 2 * 4


def test_a_folded_legacy_export_gets_one_hint_line(tmp_path):
    path = export(tmp_path / "folded.onnx", dynamo=False, training=torch.onnx.TrainingMode.EVAL)
    report, hints = warnings_of(path)
    assert report.standard.params == WEIGHTS + 8 + 4  # the folded biases, no BatchNorm
    assert len(hints) == 1
    message = str(hints[0].message)
    assert "\n" not in message and "folded BatchNorm" in message and "TrainingMode.PRESERVE" in message


def test_a_folded_dynamo_export_gets_the_hint(tmp_path):
    pytest.importorskip("onnxscript")
    _, hints = warnings_of(export(tmp_path / "dynamo.onnx", dynamo=True))
    assert len(hints) == 1


def test_an_export_that_keeps_batchnorm_and_a_module_get_none(tmp_path):
    path = export(tmp_path / "kept.onnx", dynamo=False, training=torch.onnx.TrainingMode.PRESERVE)
    report, hints = warnings_of(path)
    assert report.standard.params == WITH_BN and not hints
    report, hints = warnings_of(model(), input_shape=(3, 16, 16))
    assert report.standard.params == WITH_BN and not hints


def test_the_cli_prints_the_hint_as_one_line(tmp_path, run):
    path = export(tmp_path / "folded.onnx", dynamo=False, training=torch.onnx.TrainingMode.EVAL)
    result = run(str(path), "--summary-only")
    assert result.exit_code == 0
    hint = [line for line in result.stderr.splitlines() if "folded BatchNorm" in line]
    assert len(hint) == 1


def test_the_torch_extra_carries_the_default_exporter():
    line = re.search(r"^torch = \[(.*)\]", (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    names = {re.match(r'\s*"([a-z]+)', req).group(1) for req in line.split(",")}
    assert {"torch", "onnx", "onnxscript"} <= names


def test_a_network_normalized_by_layernorm_gets_none():
    path = ROOT / "tests" / "onnx" / "modern" / "convnext_tiny.onnx"
    if not path.exists():
        pytest.skip("no ConvNeXt export in tests/onnx/modern")
    _, hints = warnings_of(path)
    assert not hints


def test_an_untrained_dynamo_export_gets_the_hint_for_its_dropped_biases(tmp_path):
    """Untrained (BatchNorm's shift and mean zero): the dynamo exporter folds each BatchNorm into an all-zero bias
    and drops it, leaving convolutions without biases and no BatchNorm; ten of them in a row get the hint."""
    pytest.importorskip("onnxscript")
    layers = []
    for i in range(10):
        layers += [torch.nn.Conv2d(3 if i == 0 else 8, 8, 3, padding=1, bias=False), torch.nn.BatchNorm2d(8),
                   torch.nn.ReLU()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(torch.nn.Sequential(*layers).eval(), (torch.zeros(1, 3, 8, 8),), str(tmp_path / "u.onnx"),
                          dynamo=True)
    report, hints = warnings_of(tmp_path / "u.onnx")
    assert report.standard.params == 8 * 3 * 9 + 9 * 8 * 8 * 9  # the weights alone: 2 x 80 BatchNorm channels gone
    assert len(hints) == 1 and "all-zero bias" in str(hints[0].message)
