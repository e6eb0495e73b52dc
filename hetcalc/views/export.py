"""Report -> data for scripts: JSON (streamed) and CSV (exact integers). Documents (Markdown, LaTeX, ...)
come from views.document's renderers."""

from __future__ import annotations

import io

from hetcalc.core.formatting import csv_value
from hetcalc.analysis.results import LayerRows, Report
from hetcalc.views.document import RENDERERS, format_extensions, format_names
from hetcalc.views.report_views import report_document
from hetcalc.views.reproduce_views import checks_csv, checks_json  # noqa: F401 (their old home)

FORMATS = format_names()  # the formats registered at import; the CLI reads views.document at run time
EXTENSIONS = format_extensions()

LAYER_FIELDS = ("variant", "P", "G", "layer", "kind", "M", "N", "K", "stride", "out_h", "out_w", "replaced",
                "realization", "flops", "params", "macs", "depth", "ratio", "closed_form", "kernel", "strides",
                "groups", "layers")
SUMMARY_FIELDS = ("variant", "label", "P", "G", "flops", "params", "macs", "flops_reduction", "speedup",
                  "params_reduction", "latency_depth", "added_latency", "replaced_layers")


TIME_LAYER_FIELDS = ("bytes", "intensity", "time_s", "bound")  # with --device / --traffic (docs/json.md)
TIME_SUMMARY_FIELDS = ("bytes", "peak_activation_bytes", "time_s", "time_speedup")


def to_json(report: Report) -> str:
    """The report as JSON text (docs/json.md); `write_json` streams the same text to a file."""
    buf = io.StringIO()
    write_json(report, buf)
    return buf.getvalue()


_LAYERS_MARK = "\0layers\0"


def write_json(report: Report, fh) -> None:
    """Stream the report's JSON to a text file: the same data as `json.dumps(report.to_dict())`.

    Indented two spaces, each per-layer object on one line: the C encoder writes each layer as it goes,
    so a 100,000-layer report never sits in memory as one text (nor as one tree of dicts).
    """
    import json

    data = report.to_dict(layers=False)
    for variant in data["variants"]:
        variant["layers"] = _LAYERS_MARK
    pieces = json.dumps(data, indent=2).split(json.dumps(_LAYERS_MARK))
    encode = json.JSONEncoder(separators=(", ", ": ")).encode
    facts: dict = {}
    for variant, piece in zip(report.variants, pieces):
        fh.write(piece)
        layers = variant.layers
        if not layers:
            fh.write("[]")
            continue
        fh.write("[\n        ")
        batch: list[str] = []
        for i, line in enumerate(_layer_lines(layers, encode, facts)):
            batch.append(line)
            if len(batch) == 1024:
                fh.write(",\n        ".join(batch) + (",\n        " if i < len(layers) - 1 else ""))
                batch = []
        fh.write(",\n        ".join(batch) + "\n      ]")
    fh.write(pieces[-1] + "\n")


_NAMELESS = '{"name": ""'
_MEMO_LIMIT = 4096  # distinct layer rows remembered per variant: bounds the memory of a network of unique layers


def _layer_lines(layers, encode, facts: dict):
    """Each layer's JSON object on one line. Rows of a LayerRows that differ only in the layer's name (the
    blocks of a repeated stage, the layers no variant rebuilds) are encoded once, the name spliced in."""
    if not isinstance(layers, LayerRows):
        for layer in layers:
            yield encode(layer.to_dict())
        return
    from json.encoder import encode_basestring_ascii as quote

    memo: dict = {}
    for name, key in layers.keyed(facts):
        tail = memo.get(key)
        if tail is None:
            text = encode(LayerRows.by_key(key, "").to_dict())
            assert text.startswith(_NAMELESS), text  # the name is the first field
            tail = text[len(_NAMELESS):]
            if len(memo) < _MEMO_LIMIT:
                memo[key] = tail
        yield '{"name": ' + quote(name) + tail


def to_csv(report: Report, per_layer: bool = True) -> str:
    """One row per variant and layer (or per variant with per_layer=False); integers written exactly."""
    import csv

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    timed = report.device is not None
    extra_layer = [f for f in TIME_LAYER_FIELDS if timed or f in ("bytes", "intensity")] if report.dtype else []
    extra_summary = [f for f in TIME_SUMMARY_FIELDS if timed or not f.startswith("time")] if report.dtype else []
    mode = ["mode", "layout"] if report.dtype else []  # eager or compiled, nchw or nhwc: the kernels priced
    if per_layer:
        writer.writerow((*LAYER_FIELDS, *extra_layer, *mode))
        for v in report.variants:
            for r in v.layers:
                writer.writerow([v.variant, csv_value(v.P), csv_value(v.G), csv_value(r.name), r.kind, r.M, r.N,
                                 csv_value(r.K),
                                 csv_value(r.stride), r.out[0], r.out[1], r.replaced, r.realization, r.flops,
                                 r.params, r.macs, r.depth, csv_value(r.ratio), csv_value(r.closed_form),
                                 "" if r.kernel is None else "x".join(map(str, r.kernel)),
                                 "" if r.strides is None else "x".join(map(str, r.strides)), csv_value(r.groups),
                                 r.count, *[csv_value(getattr(r, f)) for f in extra_layer],
                                 *[getattr(report, key) for key in mode]])
    else:
        writer.writerow((*SUMMARY_FIELDS, *extra_summary, *mode))
        for v in report.variants:
            writer.writerow([csv_value(getattr(v, f)) for f in (*SUMMARY_FIELDS, *extra_summary)]
                            + [getattr(report, key) for key in mode])
    return buf.getvalue()


def to_markdown_doc(report: Report, per_layer: bool = True) -> str:
    return render(report, "markdown", per_layer)


def to_latex_doc(report: Report, per_layer: bool = True) -> str:
    return render(report, "latex", per_layer)


def render(report: Report, fmt: str, per_layer: bool = True) -> str:
    """The report as text in any format but the terminal's: json, csv, or a registered renderer's."""
    if fmt == "json":
        return to_json(report)
    if fmt == "csv":
        return to_csv(report, per_layer)
    return RENDERERS[fmt].render(report_document(report, per_layer))


def streamed(report: Report, fmt: str, per_layer: bool = True):
    """Like `render`, but JSON comes as a function writing to a text file, so that it streams."""
    if fmt == "json":
        return json_writer(report)
    return render(report, fmt, per_layer)


def json_writer(report: Report):
    """A function writing the report's JSON to the text file it is given (`write_json`, streamed)."""
    return lambda fh: write_json(report, fh)
