"""Names and defaults that do not mislead: a 'did you mean' for every name lookup, -o refusing a file the
command cannot write, a spec's note in the header and in `hetcalc list`, presets that reproduce the paper's
tables as printed, split as the time model's HetConv, and FLOPs marked per image beside per-batch time."""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

import pytest

import hetcalc
from hetcalc.core.errors import OptionError
from hetcalc.counting import PRESETS, preset_convention


def one_line_error(result, code: int, *fragments: str) -> str:
    assert result.exit_code == code, (result.exit_code, result.output)
    assert result.stdout == "" and "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


# ---- did you mean -------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, hint", [
    (("resnet-50",), "did you mean 'resnet50'?"),
    (("vgg16", "--convention", "ptflops"), "did you mean 'ptflops-pytorch' or 'ptflops-aten'?"),
    (("vgg16", "--convention", "fvcor"), "did you mean 'fvcore'?"),
    (("vgg16", "--variants", "hetconf"), "did you mean 'hetconv'?"),
    (("vgg16", "--ops", "biass"), "did you mean 'bias'?"),
    (("vgg16", "--device", "a10"), "did you mean 'a100'?"),
    (("reproduce", "4.30"), "did you mean '4.3'?"),
])
def test_every_name_lookup_suggests_the_close_names(run, args, hint):
    one_line_error(run(*args), 2, hint)


def test_the_api_suggests_too():
    with pytest.raises(OptionError, match="did you mean 'resnet50'"):
        hetcalc.analyze("resnet-50")
    with pytest.raises(OptionError, match="did you mean 'replace_first'"):
        hetcalc.analyze("vgg16", replace_frist=True)


def test_the_hint_helper():
    from hetcalc.core.hints import candidates, did_you_mean

    assert candidates("ptflops", ["paper", "ptflops-pytorch", "ptflops-aten"]) == ["ptflops-pytorch", "ptflops-aten"]
    assert candidates("RESNET-50", ["resnet50", "resnet56"]) == ["resnet50"]
    assert did_you_mean("zzz", ["paper"]) == "" and did_you_mean(None, ["paper"]) == ""
    assert did_you_mean("resnet", ["resnet34", "resnet50", "resnet56"]) == \
        " (did you mean 'resnet34', 'resnet50' or 'resnet56'?)"


# ---- -o refuses what the command cannot write ---------------------------------------------------------

@pytest.mark.parametrize("args", [("vgg16",), ("sweep", "vgg16"), ("reproduce", "5")])
@pytest.mark.parametrize("name, points_to", [("out.pdf", "hetcalc plot"), ("out.png", "hetcalc plot"),
                                             ("out.html", "hetcalc report"), ("OUT.PDF", "hetcalc plot")])
def test_text_commands_refuse_a_figure_or_page_extension(run, tmp_path, args, name, points_to):
    one_line_error(run(*args, "-o", str(tmp_path / name)), 2, name, points_to)
    assert list(tmp_path.iterdir()) == []  # a text table in a .pdf was written with exit 0


def test_format_cannot_make_a_figure_extension_acceptable(run, tmp_path):
    one_line_error(run("vgg16", "--format", "json", "-o", str(tmp_path / "x.pdf")), 2, "hetcalc plot")
    assert run("vgg16", "--format", "json", "-o", str(tmp_path / "x.csv")).exit_code == 0  # --format wins


def test_plot_and_import_point_elsewhere(run, tmp_path):
    one_line_error(run("plot", "layers", "vgg16", "-o", str(tmp_path / "x.csv")), 2, "hetcalc ARCH -o")
    one_line_error(run("plot", "layers", "vgg16", "-o", str(tmp_path / "x.html")), 2, "hetcalc report")
    from pathlib import Path

    onnx = Path(__file__).parent / "onnx" / "resnet18.onnx"
    one_line_error(run("import", str(onnx), "-o", str(tmp_path / "x.json")), 2, "YAML", ".yaml")
    assert list(tmp_path.iterdir()) == []


# ---- a spec's note ------------------------------------------------------------------------------------

MOBILENET_NOTE = "the real MobileNet v1 is the DWC+PWC row"


def test_mobilenet_says_its_standard_row_is_not_mobilenet(run):
    header = run("mobilenet", "--summary-only").stdout.split("\n\n")[0]
    assert "Note: the standard row is MobileNet with every layer a dense 3x3 convolution" in header
    assert MOBILENET_NOTE in " ".join(header.split())
    listed = run("list").stdout
    row = next(line for line in listed.splitlines() if line.startswith("mobilenet"))
    assert "(note below)" in row
    assert "mobilenet: the standard row is MobileNet" in listed and MOBILENET_NOTE in " ".join(listed.split())


def test_a_note_in_any_spec(tmp_path, run):
    spec = tmp_path / "n.yaml"
    spec.write_text("note: counted at batch 1\ninput: [3, 8, 8]\nlayers:\n  - conv: 4\n  - fc: 2\n")
    assert "Note: counted at batch 1" in run(str(spec)).stdout
    assert hetcalc.analyze(str(spec)).network.meta["note"] == "counted at batch 1"
    spec.write_text("note: [1]\ninput: [3, 8, 8]\nlayers:\n  - conv: 4\n")
    one_line_error(run(str(spec)), 1, "note must be a string")


# ---- the paper's tables as printed --------------------------------------------------------------------

def printed(count: int, scale: int, digits: int = 2) -> set[str]:
    """`count` at the printed precision, truncated and rounded (the paper does both)."""
    value = Decimal(count) / scale
    quantum = Decimal(1).scaleb(-digits)
    return {str(value.quantize(quantum, ROUND_DOWN)), str(value.quantize(quantum, ROUND_HALF_UP))}


M, G = 10**6, 10**9


@pytest.mark.parametrize("preset, arch, P, variant, what, figure, scale", [
    # Table 1 (VGG-16, CIFAR-10): the standard row, P = 4, GWC4_PWC, DWC_PWC, PC (P = N)
    ("paper-table1", "vgg16", 4, "standard", "flops", "313.74", M),
    ("paper-table1", "vgg16", 4, "standard", "params", "15.00", M),
    ("paper-table1", "vgg16", 4, "hetconv", "flops", "105.98", M),
    ("paper-table1", "vgg16", 4, "hetconv", "params", "5.17", M),
    ("paper-table1", "vgg16", 2, "hetconv", "flops", "175.23", M),
    ("paper-table1", "vgg16", 64, "hetconv", "flops", "41.05", M),
    ("paper-table1", "vgg16", 4, "gwc_pwc", "flops", "107.67", M),
    ("paper-table1", "vgg16", 4, "dwc_pwc", "flops", "38.53", M),
    ("paper-table1", "vgg16", "N", "hetconv", "flops", "38.18", M),
    # Table 3 and section 4.3 (ResNet-56): the 126.01M total
    ("paper-table3", "resnet56", 2, "standard", "flops", "126.01", M),
    ("paper-section4.3", "resnet56", 2, "standard", "flops", "126.01", M),
    # Table 4 (MobileNet, CIFAR-10): the DWC+PWC baseline and MobileNet_P32
    ("paper-table4", "mobilenet", 32, "dwc_pwc", "flops", "46.36", M),
    ("paper-table4", "mobilenet", 32, "hetconv", "flops", "55.94", M),
    # Table 6 (ResNet-34) and Table 7 (ResNet-50), ImageNet
    ("paper-table6", "resnet34", 4, "standard", "flops", "3.66", G),
    ("paper-table6", "resnet34", 4, "hetconv", "flops", "1.30", G),
    ("paper-table7", "resnet50", 4, "standard", "flops", "4.09", G),
    ("paper-table7", "resnet50", 4, "hetconv", "flops", "2.85", G),
])
def test_paper_table_presets_give_the_published_figures(preset, arch, P, variant, what, figure, scale):
    variants = ("standard", variant)
    report = hetcalc.analyze(arch, P=P, G=P if isinstance(P, int) else 4, variants=variants, convention=preset)
    assert figure in printed(getattr(report.variant(variant), what), scale)


def test_table5_reduction_and_the_paper_preset_is_not_table1():
    report = hetcalc.analyze("vgg16-imagenet", P=4, convention="paper-table5", variants="standard,hetconv")
    # 15,470,264,320 MACs (published) -> 5,296,979,968 at P = 4: 65.8% as printed
    assert report.standard.flops == 15_470_264_320
    assert f"{100 * (1 - report.variant('hetconv').flops / report.standard.flops):.1f}" == "65.8"
    paper = hetcalc.analyze("vgg16", P=4, convention="paper", variants="hetconv").variant("hetconv").flops
    assert "105.98" not in printed(paper, M)  # eq. 1 alone gives 105.85M: the description says so
    assert "paper-tableN" in PRESETS["paper"].counts and "105.98M" in PRESETS["paper"].counts


def test_the_cli_preset_matches_the_long_form_of_docs(run):
    preset = run("vgg16", "--P", "4", "--convention", "paper-table1", "--format", "json").stdout
    long = run("vgg16", "--P", "4", "--ops", "bias", "--hetconv", "ratio", "--params", "keras",
               "--no-pointwise-bias", "--format", "json").stdout
    import json

    flops = [[v["flops"], v["params"]] for v in json.loads(preset)["variants"]]
    assert flops == [[v["flops"], v["params"]] for v in json.loads(long)["variants"]]
    assert flops[1][0] == 105_982_134  # docs/reproducing-the-paper.md: 313,740,810 x eq. 5 per layer


def test_a_table_preset_refuses_a_flag_that_contradicts_it_and_accepts_one_that_repeats_it(run):
    one_line_error(run("vgg16", "--convention", "paper-table1", "--hetconv", "exact"), 2, "--hetconv")
    assert run("vgg16", "--convention", "paper-table1", "--hetconv", "ratio").exit_code == 0
    assert run("vgg16", "--convention", "paper-table1", "--params", "keras", "--ops", "bias").exit_code == 0
    one_line_error(run("vgg16", "--convention", "paper-table1", "--params", "pytorch", "--ops", "bn"), 2, "--ops bn")
    with pytest.raises(OptionError, match="pointwise"):
        preset_convention("paper-table1", pointwise_bias=True)
    assert preset_convention("paper-table6", replace_first=True).ratio_1x1


def test_reconcile_compares_tools_only():
    from hetcalc.counting.presets import tool_presets

    assert not any(p.name.startswith("paper-") for p in tool_presets())


# ---- the time model's default HetConv ----------------------------------------------------------------

def test_device_times_split_by_default_as_measure_does(run):
    split = hetcalc.analyze("vgg16", P=4, device="t4", hetconv_impl="split").variant("hetconv").time_s
    default = hetcalc.analyze("vgg16", P=4, device="t4").variant("hetconv").time_s
    fused = hetcalc.analyze("vgg16", P=4, device="t4", hetconv_impl="fused").variant("hetconv").time_s
    assert default == split != fused
    out = " ".join(run("vgg16", "--device", "t4", "--summary-only").stdout.split())
    assert "HetConv as split" in out
    out = " ".join(run("vgg16", "--device", "t4", "--hetconv-impl", "fused", "--summary-only").stdout.split())
    assert "hypothetical" in out and "no framework ships" in out


# ---- per image beside per batch ------------------------------------------------------------------------

def test_batch_marks_flops_per_image_and_time_per_batch(run):
    out = run("vgg16", "--device", "t4", "--batch", "8").stdout
    assert "Summary (per image)" in out and "Per-layer FLOPs (per image)" in out
    assert "Traffic and time per batch of 8 images; FLOPs (other tables) per image." in " ".join(out.split())
    assert "FLOPs and parameters are per image; traffic and time are per batch of 8." in " ".join(out.split())
    assert "per image" not in run("vgg16", "--device", "t4").stdout  # batch 1: nothing to tell apart
