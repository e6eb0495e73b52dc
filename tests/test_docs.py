"""The docs against the program: every command documented, every option named, every example real.

Commands are discovered from `hetcalc.cli.main` itself, so a new command or option fails here until
docs/cli.md describes it. Console examples in the docs are re-run and compared (`pytest --update-golden`
rewrites them); the Python examples of docs/api.md run as doctests.
"""

from __future__ import annotations

import doctest
import re
import shlex

from pathlib import Path

import click
import pytest

from hetcalc import CONV_TYPES
from hetcalc.cli import main
from hetcalc.counting import OPS
from hetcalc.export import FORMATS, LAYER_FIELDS, SUMMARY_FIELDS

DOCS = Path(__file__).resolve().parent.parent / "docs"
CLI_DOC = DOCS / "cli.md"
EXPECTED_COMMANDS = {"analyze", "list", "plot", "sweep", "reproduce", "measure"}
# Pages written by others, linked before they exist.
OTHER_PAGES = {"spec.md", "plots.md", "performance.md", "reproducing-the-paper.md"}
MY_PAGES = ("index.md", "conventions.md", "cli.md", "json.md", "api.md")


def _walk(group: click.Group, ctx: click.Context, prefix: tuple[str, ...] = ()):
    """(path, command) for every command under `group`, subcommands of groups included."""
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        path = (*prefix, name)
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _walk(cmd, click.Context(cmd, info_name=name, parent=ctx), path)


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(main, info_name="hetcalc")
    return {" ".join(path): cmd for path, cmd in _walk(main, ctx)}


COMMANDS = _commands()


def _cli_doc() -> str:
    return CLI_DOC.read_text(encoding="utf-8")


def _section(text: str, top: str) -> str:
    """The `## ` section of docs/cli.md whose heading names `hetcalc <top>`."""
    parts = re.split(r"(?m)^## ", text)
    for part in parts[1:]:
        heading = part.splitlines()[0]
        if f"hetcalc {top}`" in heading or f"hetcalc {top} " in heading:
            return part
    raise AssertionError(f"docs/cli.md has no '## ... `hetcalc {top}` ...' section")


def _mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def test_every_expected_command_is_registered():
    # Guards the parametrized tests below against passing on an empty command list.
    assert EXPECTED_COMMANDS <= {path.split()[0] for path in COMMANDS}, sorted(COMMANDS)
    assert all(cmd is not None for cmd in COMMANDS.values())


def test_group_help_has_an_example():
    assert "Example:" in (main.help or "")


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_help_has_an_example(path):
    help_text = COMMANDS[path].help or ""
    assert help_text.strip(), f"'hetcalc {path}' has no help text"
    assert "Example:" in help_text, f"'hetcalc {path}' help has no 'Example:': {help_text.strip()[:80]!r}"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_command_is_documented(path):
    assert f"hetcalc {path}" in _cli_doc(), f"docs/cli.md never shows 'hetcalc {path}'"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_option_is_documented_in_its_section(path):
    section = _section(_cli_doc(), path.split()[0])
    options = [opt for param in COMMANDS[path].params if isinstance(param, click.Option)
               for opt in (*param.opts, *param.secondary_opts) if opt.startswith("--")]
    missing = [opt for opt in options if not _mentions(section, opt)]
    assert not missing, f"docs/cli.md's section on 'hetcalc {path.split()[0]}' does not mention {missing}"


def test_analyze_options_are_all_documented():
    # The brief's own check, spelled out for the main command: every long option of analyze.
    analyze = COMMANDS["analyze"]
    longs = [opt for p in analyze.params if isinstance(p, click.Option)
             for opt in (*p.opts, *p.secondary_opts) if opt.startswith("--")]
    assert {"--P", "--G", "--variants", "--format", "--output", "--ops"} <= set(longs)
    text = _cli_doc()
    assert [opt for opt in longs if not _mentions(text, opt)] == []


def test_cli_doc_names_every_format_and_exit_status():
    text = _cli_doc()
    for fmt in FORMATS:
        assert f"`{fmt}`" in text, fmt
    statuses = re.findall(r"(?m)^\| ([0-9]) \|", text)
    assert statuses == ["0", "1", "2"]
    assert "NO_COLOR" in text


# --------------------------------------------------------------------------- console examples

CONSOLE = re.compile(r"(```console\n\$ (hetcalc [^\n]*)\n)(.*?)(```)", re.S)


def _console_blocks():
    for page in MY_PAGES:
        text = (DOCS / page).read_text(encoding="utf-8")
        for match in CONSOLE.finditer(text):
            yield page, match.group(2)


def test_docs_have_console_examples():
    commands = [cmd for _, cmd in _console_blocks()]
    assert any(cmd.startswith("hetcalc list") for cmd in commands)
    assert any(cmd.startswith("hetcalc vgg16 --P 4") for cmd in commands)


@pytest.mark.parametrize("page", MY_PAGES)
def test_console_examples_are_real_output(page, run, update_golden):
    """Each ```console block starting `$ hetcalc ...` shows exactly what that command prints."""
    path = DOCS / page
    text = path.read_text(encoding="utf-8")
    stale = []

    def refresh(match: re.Match) -> str:
        result = run(*shlex.split(match.group(2))[1:])
        assert result.exit_code == 0, f"{page}: `{match.group(2)}` failed: {result.output}"
        if result.stdout != match.group(3):
            stale.append(match.group(2))
        return match.group(1) + result.stdout + match.group(4)

    new = CONSOLE.sub(refresh, text)
    if update_golden:
        path.write_text(new, encoding="utf-8")
    else:
        assert not stale, f"{page}: output changed for {stale}; run `pytest --update-golden` and review"


# --------------------------------------------------------------------------- other pages


def test_api_examples_run(tmp_path, monkeypatch):
    """docs/api.md's ```pycon blocks, run in order as doctests sharing one namespace."""
    monkeypatch.chdir(tmp_path)
    path = DOCS / "api.md"
    text = path.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```pycon\n(.*?)```", text, re.S))
    assert len(blocks) >= 5
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict = {}
    examples = 0
    for block in blocks:
        lineno = text.count("\n", 0, block.start(1))
        test = parser.get_doctest(block.group(1), globs, "docs/api.md", str(path), lineno)
        runner.run(test, clear_globs=False)
        globs = test.globs
        examples += len(test.examples)
    assert examples >= 20
    assert runner.failures == 0, "docs/api.md examples fail (details in the captured output)"


def test_csv_columns_documented_in_order(documented_keys):
    assert tuple(documented_keys["LAYER_FIELDS"]) == LAYER_FIELDS
    assert tuple(documented_keys["SUMMARY_FIELDS"]) == SUMMARY_FIELDS


def test_csv_examples_are_real_output(run):
    text = (DOCS / "json.md").read_text(encoding="utf-8")
    csv_blocks = [b for b in re.findall(r"```text\n(.*?)```", text, re.S) if b.startswith("variant,")]
    assert len(csv_blocks) == 2
    per_layer = run("vgg16", "--P", "4", "--format", "csv").stdout.splitlines()
    summary = run("vgg16", "--P", "4", "--format", "csv", "--summary-only").stdout.splitlines()
    for line in csv_blocks[0].splitlines():
        assert line in per_layer, line
    assert csv_blocks[1].splitlines() == summary


def test_conventions_cover_every_op_and_variant():
    text = (DOCS / "conventions.md").read_text(encoding="utf-8")
    for op in OPS:
        assert f"| `{op}` |" in text, f"conventions.md has no row for --ops {op}"
    for ctype in CONV_TYPES.values():
        assert ctype.label in text and ctype.ratio_equation in text
    for figure in ("13,631,488", "12,582,912", "4,456,448", "6,815,744", "18,874,368"):
        assert figure in text


def test_conventions_excerpt_is_real_output(run):
    """The worked example's table excerpt: each of its lines is a line of the real output."""
    text = (DOCS / "conventions.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ hetcalc vgg16 --P 4 \|[^\n]*\n(.*?)```", text, re.S)
    assert block, "conventions.md lost its excerpt of `hetcalc vgg16 --P 4`"
    real = run("vgg16", "--P", "4").stdout.splitlines()
    for line in block.group(1).splitlines():
        assert line in real, f"not in the output of `hetcalc vgg16 --P 4`: {line!r}"


def test_index_links_every_page():
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\]\(([\w.-]+\.md)\)", index))
    assert set(MY_PAGES) - {"index.md"} <= linked
    assert OTHER_PAGES <= linked
    present = {p.name for p in DOCS.glob("*.md")} - {"index.md"}
    assert present <= linked, f"docs/index.md does not link {sorted(present - linked)}"


def _anchors(page: str) -> set[str]:
    """GitHub's heading anchors of a page: lower case, punctuation dropped, spaces to hyphens."""
    text = (DOCS / page).read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
            for h in re.findall(r"(?m)^#+ (.*)$", text)}


@pytest.mark.parametrize("page", MY_PAGES)
def test_relative_links_resolve(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([\w./-]+\.md)(?:#([\w-]*))?\)", text):
        assert (DOCS / target).exists() or target in OTHER_PAGES, f"{page} links to missing {target}"
        if anchor and target in MY_PAGES:
            assert anchor in _anchors(target), f"{page} links to missing anchor {target}#{anchor}"


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_every_heading_anchor_a_page_links_exists(page):
    """Anchors into any docs page, the page's own included (`[above](#heading)`), name a heading there."""
    text = (DOCS / page).read_text(encoding="utf-8")
    for target, anchor in re.findall(r"\]\(([\w./-]+\.md)?#([\w-]*)\)", text):
        target = target or page
        if (DOCS / target).exists():
            assert anchor in _anchors(target), f"{page} links to missing anchor {target}#{anchor}"


def test_the_synopsis_at_the_top_of_cli_md_lists_every_command():
    synopsis = re.search(r"```text\n(.*?)```", _cli_doc(), re.S).group(1)
    listed = {m.group(1) for m in re.finditer(r"(?m)^hetcalc (\w+)", synopsis)}
    top = {path.split()[0] for path in COMMANDS}
    assert top <= listed | {"analyze"}, f"docs/cli.md's synopsis misses {sorted(top - listed)}"


def test_every_ops_term_is_named_in_cli_md():
    from hetcalc.counting.terms import OPS

    row = next(line for line in _cli_doc().splitlines() if line.startswith("| `--ops LIST`"))
    missing = [term for term in OPS if f"`{term}`" not in row]
    assert not missing and "`act:KIND`" in row, f"docs/cli.md's --ops row misses {missing}"
