"""scripts/check_report_in_browser.py in headless Chromium: a good report passes with a screenshot, and a page
that throws, never finishes its script or runs a script its CSP forbids fails, naming the problem."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rdkpack import report
from rdkpack.report.html_assets import JS
from rdkpack.report.html_page import csp_hash
from tests.support.project import ROOT
from tests.support.reports import demo_report, hostile_results, org_report, scan_report

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCRIPT = ROOT / "scripts" / "check_report_in_browser.py"
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.is_file(), reason=f"{CHROMIUM} is not installed: run scripts/install-chromium.sh (make does)"
)


def check(tmp_path: Path, page: str, *options: str) -> tuple[int, list[str], str, Path]:
    """Exit code, the `problem:` lines, stdout, and the screenshot path of one run of the script."""
    html, png = tmp_path / "report.html", tmp_path / "shots" / "report.png"
    html.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(html), str(png), "--timeout", "60", *options],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stderr.splitlines(), done.stdout, png


@needs_chromium
@pytest.mark.parametrize(
    "made",
    [pytest.param(lambda: scan_report(hostile_results()), id="hostile-scan"), demo_report, org_report],
)
def test_browser_check_passes_a_good_report_and_writes_a_screenshot(tmp_path, made):
    code, problems, out, png = check(tmp_path, report.to_html(made(), "rdk <scan>"))
    assert (code, problems) == (0, [])
    assert out.startswith(f"ok: {tmp_path / 'report.html'}: ") and "filter NON_COMPLIANT" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


@needs_chromium
def test_browser_check_names_an_uncaught_exception(tmp_path):
    page = "<!DOCTYPE html><html><body><p>x</p><script>throw new Error('deliberate failure')</script></body></html>"
    code, problems, _, _ = check(tmp_path, page, "--ready-wait", "1")
    assert code == 1
    assert "problem: uncaught exception: Error: deliberate failure (line 1)" in problems


@needs_chromium
def test_browser_check_fails_a_page_whose_script_never_says_ready(tmp_path):
    unready = JS.replace('document.body.dataset.ready = "true";', "")
    assert unready != JS
    page = report.to_html(scan_report(), "t").replace(JS, unready).replace(csp_hash(JS), csp_hash(unready))
    code, problems, _, _ = check(tmp_path, page, "--ready-wait", "1")
    assert (code, problems) == (
        1,
        ["problem: the page's script did not finish: document.body.dataset.ready is not 'true' 1 s after load"],
    )


@needs_chromium
def test_browser_check_reports_a_script_the_csp_blocks(tmp_path):
    page = report.to_html(scan_report(), "t").replace("</main>", "</main><script>document.title = 'x'</script>")
    code, problems, _, _ = check(tmp_path, page)
    assert code == 1
    assert len(problems) == 1 and problems[0].startswith("problem: browser log (security): Executing inline script")
    assert "Content Security Policy" in problems[0]


def test_browser_check_stops_on_a_missing_file_without_starting_chromium(tmp_path):
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(tmp_path / "none.html"), str(tmp_path / "x.png")],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert (done.returncode, done.stderr) == (1, f"problem: {tmp_path / 'none.html'}: no such file\n")
