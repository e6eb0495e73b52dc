"""`hetcalc report`: one self-contained HTML page, checked as text and in a real headless browser.

The browser test runs Debian's chromium (installed by .ci/run; skipped locally when it is absent, unless
HETCALC_REQUIRE_BROWSER is set, as CI sets it): the page loads without a console error or an uncaught
exception, and its screenshot is not blank.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

import hetcalc
from hetcalc.html_report import report_html
from hetcalc.tables import layer_grid

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage", "--hide-scrollbars"]
# Written by the test into a copy of the page, before anything else: errors end up in the DOM.
PROBE = ("<script>window.__errors=[];window.addEventListener('error',function(e){"
         "document.documentElement.setAttribute('data-errors',(document.documentElement.getAttribute("
         "'data-errors')||'')+'|'+(e.message||(e.target&&(e.target.src||e.target.href))||'error'))},true);"
         "['error','warn'].forEach(function(k){var f=console[k];console[k]=function(){"
         "document.documentElement.setAttribute('data-console',(document.documentElement.getAttribute("
         "'data-console')||'')+'|'+Array.from(arguments).join(' '));f.apply(console,arguments)}});</script>")


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """`hetcalc report resnet56 --P 4 -o report.html`, run as a user would."""
    from click.testing import CliRunner

    from hetcalc.cli import main

    out = tmp_path_factory.mktemp("report") / "report.html"
    result = CliRunner().invoke(main, ["report", "resnet56", "--P", "4", "-o", str(out)], prog_name="hetcalc")
    assert result.exit_code == 0, result.output
    assert result.stderr == ""  # -o given: nothing to say
    return out


def test_the_page_is_self_contained(page):
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert not re.search(r"""(?:src|href)\s*=\s*["'](?!#)""", text)  # nothing fetched: only #fragment links
    assert not re.search(r"url\((?!#)", text)
    assert text.count("<svg") == 2 and "<text" in text  # two inline figures, their text kept as text
    assert "@media print" in text


def test_the_page_holds_rules_summary_and_the_per_layer_table(page):
    text = page.read_text(encoding="utf-8")
    report = hetcalc.analyze("resnet56", P=4)
    import html

    for rule in report.convention.rules():
        assert f"<li>{html.escape(rule)}</li>" in text
    layers = text.split("id=\"layer-table\"", 1)[1].split("</table>", 1)[0]
    assert layers.count("<tr class=\"replaced\">") == 54  # 27 blocks x 2 replaced 3x3 convs
    body = text.split("id=\"layer-table\"", 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr") == len(layer_grid(report).rows)
    assert "<td>42.12M</td>" in text  # HetConv total in the summary (42,118,... FLOPs)


def test_per_stage_report(tmp_path):
    report = hetcalc.analyze("resnet56", P=4, by="stage")
    text = report_html(report)
    assert 'id="stage-table"' in text and "stage2 *" in text


def test_report_refuses_a_non_html_name(run, tmp_path):
    result = run("report", "vgg16", "-o", str(tmp_path / "r.pdf"))
    assert result.exit_code == 2 and ".html" in result.stderr
    assert list(tmp_path.iterdir()) == []


def _chromium(args: list[str], timeout: int = 180) -> subprocess.CompletedProcess:
    """Run chromium with a new profile; once more if it crashed or hung (a loaded machine can do that to a
    browser start), so that the assertions judge the page, not the machine."""
    for attempt in (1, 2):
        with tempfile.TemporaryDirectory() as profile:
            try:
                done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                                      capture_output=True, text=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                if attempt == 2:
                    raise
                continue
        if done.returncode == 0 or attempt == 2:
            return done
    return done


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("HETCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (.ci/run installs it)")
def test_the_page_loads_in_chromium_without_errors_and_shows_its_content(page, tmp_path):
    assert CHROMIUM, "HETCALC_REQUIRE_BROWSER is set but chromium is missing"
    probed = tmp_path / "probed.html"
    probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _chromium(["--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000", "--dump-dom",
                     probed.as_uri()])
    assert dom.returncode == 0, dom.stderr[-2000:]
    html_tag = re.search(r"<html[^>]*>", dom.stdout).group(0)
    assert "data-errors" not in html_tag and "data-console" not in html_tag, html_tag
    assert not re.search(r"Uncaught|CONSOLE\(\d+\).*(error|Error)", dom.stderr), dom.stderr[-2000:]
    assert dom.stdout.count("<svg") == 2 and 'id="layer-table"' in dom.stdout
    shot = tmp_path / "shot.png"
    result = _chromium(["--window-size=1366,900", f"--screenshot={shot}", page.as_uri()])
    assert result.returncode == 0 and shot.exists(), result.stderr[-2000:]
    from matplotlib.image import imread

    pixels = imread(str(shot))[..., :3]
    assert pixels.shape[:2] == (900, 1366)
    ink = (pixels.min(axis=2) < 0.6).mean()  # dark pixels: text, rules, bars
    colour = ((pixels.max(axis=2) - pixels.min(axis=2)) > 0.3).mean()  # the figures' coloured bars
    assert ink > 0.01 and colour > 0.002, (ink, colour)


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("HETCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (.ci/run installs it)")
def test_the_error_probe_catches_errors(tmp_path):
    """The check above can fail: a page with a script error and a console error is caught."""
    assert CHROMIUM
    bad = tmp_path / "bad.html"
    bad.write_text(f"<!DOCTYPE html><html><head>{PROBE}</head><body><script>console.error('boom');"
                   "no_such_function();</script></body></html>", encoding="utf-8")
    dom = _chromium(["--virtual-time-budget=2000", "--dump-dom", bad.as_uri()])
    html_tag = re.search(r"<html[^>]*>", dom.stdout).group(0)
    assert "data-errors" in html_tag and "no_such_function" in html_tag
    assert "data-console" in html_tag and "boom" in html_tag


# Written by the test at the end of a copy of the page: opens every <details>, then records in the DOM each
# table whose box is wider than its container (it would scroll sideways) and each figure's width.
MEASURE = ("<script>document.querySelectorAll('details').forEach(function(d){d.open=true});"
           "var r=document.documentElement,w=document.body.clientWidth;"
           "r.setAttribute('data-body',w);"
           "document.querySelectorAll('.scroll').forEach(function(s){var t=s.querySelector('table');"
           "if(s.scrollWidth>s.clientWidth+1||t.getBoundingClientRect().right>w+1)"
           "r.setAttribute('data-overflow',(r.getAttribute('data-overflow')||'')+'|'+t.id+':'+s.scrollWidth)});"
           "r.setAttribute('data-figures',Array.from(document.querySelectorAll('figure svg')).map(function(f){"
           "return Math.round(f.getBoundingClientRect().width)}).join(','));</script>")


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("HETCALC_REQUIRE_BROWSER"),
                    reason="chromium is not installed (.ci/run installs it)")
@pytest.mark.parametrize("arch", ["resnet50", "vgg16"])
def test_at_1280_px_every_table_fits_and_the_figures_use_the_page(run, tmp_path, arch):
    assert CHROMIUM, "HETCALC_REQUIRE_BROWSER is set but chromium is missing"
    page = tmp_path / "r.html"
    assert run("report", arch, "--P", "4", "-o", str(page)).exit_code == 0
    text = page.read_text(encoding="utf-8")
    measured = tmp_path / "measured.html"
    measured.write_text(text.replace("</body>", MEASURE + "</body>", 1), encoding="utf-8")
    dom = _chromium(["--window-size=1280,900", "--virtual-time-budget=3000", "--dump-dom", measured.as_uri()])
    assert dom.returncode == 0, dom.stderr[-2000:]
    html_tag = re.search(r"<html[^>]*>", dom.stdout).group(0)
    assert "data-overflow" not in html_tag, html_tag  # the per-layer table scrolled sideways at 1280 px
    body = int(re.search(r'data-body="(\d+)"', html_tag).group(1))
    figures = [int(w) for w in re.search(r'data-figures="([\d,]*)"', html_tag).group(1).split(",")]
    assert sum(figures) > 0.8 * body, (figures, body)  # side by side, they fill the page's width


def test_a_deep_network_opens_on_its_stages_with_every_layer_behind_a_toggle():
    report = hetcalc.analyze("resnet50", P=4)
    text = report_html(report)
    stage = text.index('id="stage-table"')
    toggle = text.index("<details", stage)
    assert text.index('id="layer-table"') > toggle and "<summary>Every layer (54 layers)</summary>" in text
    assert "<script" not in text  # the toggle is HTML's own
    short = report_html(hetcalc.analyze("vgg16", P=4))
    assert "<details" not in short and 'id="layer-table"' in short
