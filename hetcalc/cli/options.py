"""Options shared by commands, output writing, and console set-up."""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Callable, Iterable, NamedTuple

import click
from click.core import ParameterSource

from hetcalc.convtypes import CONV_TYPES
from hetcalc.convtypes.registry import part_options as part_options_of_types
from hetcalc.counting.convention import HETCONV_ACCOUNTING, OPS, PARAM_STYLES, Convention
from hetcalc.counting.presets import get_preset
from hetcalc.core.errors import OptionError, OutputError  # noqa: F401
from hetcalc.views.document import RENDERERS, Document, format_extensions, format_names
from hetcalc.cli.outputs import Outputs, current


class Integer(click.IntRange):
    """click.IntRange whose refusal reads "'1.5' is not a valid integer." (not "integer range")."""

    name = "integer"


def convention_options(func):
    """How FLOPs and parameters are counted and which layers are replaced: one option per rule."""
    options = [
        click.option("--convention", "convention", default=None, metavar="NAME",
                     help="Count as a named tool does (sets --flops-per-mac and --ops): paper, fvcore, "
                          "ptflops-pytorch, ptflops-aten, thop, torchinfo, flopcounter (docs/conventions.md); "
                          "or as one of the paper's tables is printed: paper-table1, paper-table3, "
                          "paper-section4.3, paper-table4 ... paper-table7 (docs/reproducing-the-paper.md)."),
        click.option("--flops-per-mac", type=Integer(1, 2), default=1, show_default=True,
                     help="FLOPs per multiply-accumulate: 1 (paper, fvcore, ptflops) or 2 "
                          "(PyTorch FlopCounterMode, TensorFlow)."),
        click.option("--ops", "ops", default="", metavar="LIST",
                     help=f"Extra operations to count as FLOPs, comma-separated: {', '.join(OPS)}, "
                          "act:KIND (one activation kind, e.g. act:relu), all (default: none, MACs only; "
                          "docs/conventions.md)."),
        click.option("--replace-first", is_flag=True,
                     help="Also replace the network's first convolution when it is K x K (K > 1); by default "
                          "the first convolution in layer order, whatever its kernel, stays standard, as in "
                          "the paper."),
        click.option("--params", "params", type=click.Choice(PARAM_STYLES), default="pytorch",
                     show_default=True,
                     help="Parameter counting: pytorch (BatchNorm scale and shift) or keras (also its "
                          "moving mean and variance)."),
        click.option("--hetconv", "hetconv", type=click.Choice(HETCONV_ACCOUNTING), default="exact",
                     show_default=True,
                     help="HetConv accounting: exact (eqs. 2-4 as built) or ratio (each replaced layer's "
                          "standard count times eq. 5, as some of the paper's tables do)."),
        click.option("--ratio-1x1", is_flag=True,
                     help="With --hetconv ratio: 1x1 convolutions take the ratio too (Table 6)."),
        click.option("--pointwise-bias/--no-pointwise-bias", default=True, show_default=True,
                     help="GWC+PWC and DWC+PWC: whether the pointwise conv has a bias when the network's "
                          "convolutions do."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


mode_option = click.option(
    "--mode", default="eager", show_default=True, type=click.Choice(("eager", "compiled"), case_sensitive=False),
    help="eager: every operation its own kernel; compiled: BatchNorm folded, activations and residual adds fused "
         "into the convolution (torch.compile, TensorRT).")
layout_option = click.option(
    "--layout", default="nchw", show_default=True, type=click.Choice(("nchw", "nhwc"), case_sensitive=False),
    help="Activation layout: nchw (PyTorch's default) or nhwc (channels-last: the profile's channels-last "
         "rates, a copy where a map is flattened).")


def time_options(func):
    """Memory traffic and predicted time (docs/time-model.md): device, element type, batch, HetConv kernels."""
    options = [
        click.option("--device", default=None, metavar="NAME|PROFILE",
                     help="Predict time on a device: a built-in (see `hetcalc devices`), 'local' after "
                          "`hetcalc calibrate`, or a profile YAML path."),
        click.option("--dtype", default=None, type=click.Choice(("fp32", "fp16", "bf16", "int8"),
                                                                 case_sensitive=False),
                     help="Element type of weights and activations for memory traffic [default: fp32]."),
        click.option("--batch", default=None, type=Integer(1, 10**9), metavar="B",
                     help="Batch size of the forward pass [default: 1]."),
        click.option("--hetconv-impl", "hetconv_impl", default="split", show_default=True,
                     type=click.Choice(("fused", "split", "masked"), case_sensitive=False),
                     help="How HetConv runs: split (grouped KxK + gather + grouped 1x1 + add: what PyTorch "
                          "runs and `hetcalc measure` times), masked (a dense KxK) or fused (a hypothetical single "
                          "kernel with HetConv's FLOPs, which no framework ships)."),
        click.option("--traffic", is_flag=True,
                     help="Show memory traffic (bytes, FLOPs per byte) without a device."),
        mode_option,
        layout_option,
    ]
    for option in reversed(options):
        func = option(func)
    return func


class PartOption(NamedTuple):
    """A convolution type's part, set on the command line: --P is HetConv's part, --G GWC+PWC's groups."""

    name: str  # the option (--P) and the keyword of analyze()
    variant: str  # the convolution type whose part it sets (a CONV_TYPES key)
    noun: str  # one value, in help texts: "part P", "groups"
    plural: str  # several values: "parts", "groups"


NOUNS = {"P": ("part P", "parts"), "G": ("groups", "groups")}  # how the help texts name the paper's two parts


def registered_parts() -> tuple[PartOption, ...]:
    """One part option per option name of the registered convolution types (P, G, and a plug-in's own), in
    registry order: the first leads, and the types that follow it default to it."""
    return tuple(PartOption(name, types[0].key, *NOUNS.get(name, (f"part {name}", f"{name} values")))
                 for name, types in part_options_of_types().items())


class PartStyle(NamedTuple):
    """How a command takes the parts. Help texts are templates: {label}, {noun} and {plural} of the option
    (the label is its convolution type's), {lead} the first option's name."""

    lead_help: str
    other_help: str
    metavars: tuple[str, str] = ("INT|M|N", "INT|M|N")  # the lead's, the others'
    default: str = "4"  # the lead's; the others default to it


_PER_LAYER_DEFAULT = "{label} {noun} [default: {lead}; M when {lead} is N, since a per-layer N need not divide M]."
PART_STYLES = {
    "analysis": PartStyle("{label} {noun} for every replaced layer; M: each layer's own input depth (the paper's "
                          "PC); N: each layer's output depth.", _PER_LAYER_DEFAULT),
    "figure": PartStyle("{label} {noun} for every replaced layer, or M for each layer's own input depth (PC).",
                        _PER_LAYER_DEFAULT, ("N|M", "N|M")),
    "brief": PartStyle("{label} {noun}.", "{label} {noun} [default: {lead}]."),
    "brief figure": PartStyle("{label} {noun}.", "{label} {noun} [default: {lead}].", ("N|M", "N|M")),
    "timed": PartStyle("{label} {noun} (an integer, M or N); several, comma-separated (2,4,8), are timed side by "
                       "side.", "{label} {noun} [default: the first {lead}].", ("LIST", "INT|M|N")),
    "swept": PartStyle("{label} {plural} to sweep: N, A..B (every integer), pow2:A..B (powers of two), "
                       "comma-separated, e.g. 1..16,pow2:32..1024.",
                       "{label} {plural} to sweep, same syntax [default: the {lead} values].", ("VALUES", "VALUES"),
                       "1..1024"),
}


def part_options(style: str, after_lead: Iterable[Callable] = (), extra: bool = True):
    """--P, --G, ...: one option per registered part option, worded as PART_STYLES[style] says; `after_lead`:
    options listed right after the first. The command receives P and G by name and, with `extra`, the other
    registered types' parts (a plug-in's --S) as one `parts` dict to pass on; without it, only P and G."""
    spec = PART_STYLES[style]
    lead, *others = registered_parts()
    others = [part for part in others if extra or part.name == "G"]
    named = {lead.name, "G"}

    def part_option(part: PartOption, help: str, metavar: str, default: str | None):
        ctype = CONV_TYPES[part.variant]
        words = dict(label=ctype.label, noun=part.noun, plural=part.plural, lead=lead.name)
        if part.name not in named:  # a plug-in type's own part: it has no default of the paper's
            help = f"{{label}} {{noun}}: {ctype.part_doc or 'its part'} (needed with --variants {ctype.key})."
            default = None
        return click.option(f"--{part.name}", part.name, default=default, show_default=default is not None,
                            metavar=metavar, help=help.format(**words))

    options = [part_option(lead, spec.lead_help, spec.metavars[0], spec.default), *after_lead,
               *[part_option(part, spec.other_help, spec.metavars[1], None) for part in others]]
    own = [part.name for part in others if part.name not in named]

    def decorate(func):
        if extra:
            func = _collect_parts(func, own)
        for option in reversed(options):
            func = option(func)
        return func

    return decorate


def _collect_parts(func, names: list[str]):
    """The callback, given the plug-in parts as one `parts` dict (only those set) instead of one keyword each."""
    @functools.wraps(func)
    def command(*args, **kwargs):
        parts = {name: kwargs.pop(name) for name in names if name in kwargs}
        return func(*args, parts={k: v for k, v in parts.items() if v is not None}, **kwargs)

    return command


def variants_option(note: str = ""):
    """--variants: which convolution types to show, by CONV_TYPES key; `note` ends the help text."""
    return click.option("--variants", default="all", show_default=True, metavar="LIST",
                        help=f"Comma-separated: {', '.join(CONV_TYPES)}, all{note}.")


def by_option(help: str, default: str | None = "layer"):
    """--by layer|stage: rows (or bars) per layer, or per stage or block; default None: the command chooses."""
    return click.option("--by", "by", type=click.Choice(["layer", "stage"], case_sensitive=False), default=default,
                        show_default=default is not None, help=help)


def wide_option(func):
    """--wide: every column of every table, even past the terminal's edge (tables fit it by default)."""
    return click.option("--wide", is_flag=True,
                        help="On a terminal, show every column even when a table is wider than the terminal (by "
                             "default whole columns are hidden, and named, so that every row fits).")(func)


class FormatChoice(click.Choice):
    """The formats --format takes, read from views.document when a command line is parsed: a format
    registered there is offered by every command."""

    def __init__(self, exclude: tuple[str, ...] = ()) -> None:
        self.exclude = tuple(exclude)
        super().__init__((), case_sensitive=False)

    @property
    def choices(self) -> tuple[str, ...]:
        return format_names(self.exclude)

    @choices.setter
    def choices(self, value) -> None:  # click.Choice.__init__ sets it; the registry is the source
        pass


def format_option(exclude: tuple[str, ...] = ()):
    """--format: every registered format but those in `exclude`."""
    return click.option("--format", "fmt", type=FormatChoice(exclude), default=None,
                        help="Output format [default: table, or from the -o file's extension].")


def make_convention(flops_per_mac: int = 1, ops: str = "", replace_first: bool = False, params: str = "pytorch",
                    hetconv: str = "exact", ratio_1x1: bool = False, pointwise_bias: bool = True,
                    convention: str | None = None) -> Convention:
    """A Convention from the values of `convention_options`; --convention NAME starts from a preset."""
    if convention is not None:
        preset = get_preset(convention)
        fields = preset.fields()
        for flag, value, default, same in (("--flops-per-mac", flops_per_mac, 1, fields["flops_per_mac"]),
                                           ("--ops", ops, "", Convention(ops=fields["ops"]).ops),
                                           ("--params", params, "pytorch", fields["params"])):
            if value != default and (Convention(ops=value).ops if flag == "--ops" else value) != same:
                raise OptionError(f"--convention {preset.name} sets the counting rules: drop {flag} "
                                  f"{value} (or drop --convention)")
        given = {"replace_first": replace_first, "hetconv": hetconv, "ratio_1x1": ratio_1x1,
                 "pointwise_bias": pointwise_bias}
        return preset.convention(**{k: v for k, v in given.items() if _given(k, v)})
    return Convention(flops_per_mac=flops_per_mac, ops=ops, replace_first=replace_first,
                      params=params, hetconv=hetconv, ratio_1x1=ratio_1x1, pointwise_bias=pointwise_bias)


def _given(name: str, value) -> bool:
    """Whether the option behind `name` was given (a flag left at its default leaves a preset's rule alone)."""
    ctx = click.get_current_context(silent=True)
    source = ctx.get_parameter_source(name) if ctx is not None else None
    if source is None:
        return value != getattr(Convention(), name)
    return source not in (ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def output_option(func):
    return click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                        help="Write to FILE (atomically) instead of standard output.")(func)


def check_writable(path: Path | None, inputs: Iterable[str | Path | None] = ()) -> None:
    """Refuse an output path that cannot be written, before any work is done (`Outputs.declare`).

    Under `hetcalc`, the path joins the command's outputs, committed together when the command succeeds.
    """
    if path is None:
        return
    outs = current()
    (outs if outs is not None else Outputs()).declare(path, inputs=[p for p in inputs if p is not None])


def write_atomic(path: Path, data) -> None:
    """Write `data` to `path` through a temporary file and a rename: never a partial file.

    Under `hetcalc`, the write waits for the command to succeed and happens together with its other
    outputs (hetcalc.cli.outputs); called from Python, it happens now. An existing file keeps its
    permissions; a new file gets the usual ones (0666 less the umask). Devices and pipes are written in place.
    `data`: str, bytes, or a function that writes text to the file object it is given (streamed).
    """
    outs = current()
    if outs is not None:
        outs.add(path, data)
        return
    outs = Outputs()
    outs.add(path, data)
    outs.commit()


def is_terminal(file=None) -> bool:
    file = file or sys.stdout
    return bool(getattr(file, "isatty", None)) and file.isatty()


def show(renderables_for) -> None:
    """Print renderables: rich styles on a terminal, plain text when piped or when NO_COLOR is set.

    `renderables_for(ascii_only)` builds them, so plain output gets plain-text tables.
    """
    from hetcalc.views.text import render_text

    if is_terminal() and not os.environ.get("NO_COLOR"):
        from rich.console import Console

        con = Console(width=terminal_width())
        for item in renderables_for(False):
            con.print(item, crop=False)  # a --wide table runs past the edge rather than being cut
    else:
        click.echo(render_text(renderables_for(True)), nl=False)


def terminal_width(default: int = 80) -> int:
    """Columns of the terminal: COLUMNS when it is a sensible number (20 to 1000), else the terminal's own."""
    text = os.environ.get("COLUMNS", "")
    if text.isascii() and text.isdigit() and 20 <= int(text) <= 1000:
        return int(text)
    try:
        columns = os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError, AttributeError):
        columns = 0
    return columns if 20 <= columns <= 1000 else default


# -o extensions that other commands write: a text command refuses them rather than write a table into a .pdf
ELSEWHERE = {**dict.fromkeys((".png", ".svg", ".pdf", ".eps", ".ps", ".jpg", ".jpeg"), "a figure comes from "
                             "`hetcalc plot KIND ARCH -o FILE` (.png, .svg, .pdf)"),
             **dict.fromkeys((".html", ".htm"), "an HTML report comes from `hetcalc report ARCH -o FILE.html`")}


def output_format(fmt: str | None, output: Path | None, exclude: tuple[str, ...] = ()) -> str:
    """The format asked for, else the one the -o file's extension names, else 'table'. An extension that
    another command writes (.pdf, .png, .html) is refused, pointing to that command."""
    if output is None:
        return fmt.lower() if fmt else "table"
    extensions = format_extensions(exclude)
    suffix = output.suffix.lower()
    if suffix not in ELSEWHERE:  # --format beats the extension; an unknown extension gets a table
        return fmt.lower() if fmt else extensions.get(suffix, "table")
    known = ", ".join(f"{ext} ({name})" for ext, name in extensions.items())
    raise OptionError(f"-o {output.name}: this command cannot write a {suffix} file: {ELSEWHERE[suffix]}; it "
                      f"writes {known}")


def check_yaml_output(output: Path | None, what: str) -> None:
    """Refuse -o FILE for a command that writes YAML when FILE's extension names something else."""
    if output is not None and output.suffix.lower() not in (".yaml", ".yml", ""):
        where = ELSEWHERE.get(output.suffix.lower(), "tables and data come from `hetcalc ARCH -o FILE`")
        raise OptionError(f"-o {output.name}: {what} is YAML: give a .yaml file name ({where})")


def emit(output: Path | None, text: str | None = None, renderables_for=None) -> None:
    """Send a result where it goes: text as it is, or renderables (`show`'s argument) as a table;
    to standard output, or atomically to `output`."""
    if renderables_for is not None:
        if output is None:
            show(renderables_for)
            return
        from hetcalc.views.text import render_text

        text = render_text(renderables_for(True))
    if output is None:
        if callable(text):  # a streamed export: written as it is produced
            text(sys.stdout)
            sys.stdout.flush()
        else:
            click.echo(text, nl=False)
    else:
        write_atomic(output, text)


def emit_document(output: Path | None, fmt: str | None, document: Document | Callable[[], Document], *,
                  wide: bool = False, exclude: tuple[str, ...] = (), **exports: Callable) -> None:
    """Send a command's result where it goes, in the format asked for (`output_format`).

    A data format (json=..., csv=...: functions returning text, or a function writing it) is the command's
    own; any other is `document` (or what the function given makes) rendered by RENDERERS[fmt]. A table on a
    terminal is styled and fitted to its width (every column with `wide`).
    """
    fmt = output_format(fmt, output, exclude)
    if fmt in exports:
        emit(output, exports[fmt]())
        return
    doc = document() if callable(document) else document
    renderer = RENDERERS[fmt]
    if output is None and renderer.styled is not None:
        show(lambda ascii_only: renderer.styled(doc, ascii_only, wide))
    else:
        emit(output, renderer.render(doc))
