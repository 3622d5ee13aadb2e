"""The documentation site: its generated pages are current, the built site holds every rule parameter, every document
parameter and every command and option, the README stays short and its links into the site resolve.

The site is built once for the module with `mkdocs build --strict`, from a copy of mkdocs.yml, docs/ and the hook into
a temporary folder, with a stand-in for the HTML report's screenshot (`make docs` takes the real one first).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from rdkpack import cli, docs
from rdkpack.docs import gherkin
from rdkpack.docs.markdown import authored, plain
from rdkpack.docs.rule_parameters import parameter_accepts
from rdkpack.project.config import load_project
from rdkpack.project.kit.rule_kit import ROLE_PARAMETERS
from rdkpack.project.loader import rule_module
from rdkpack.remediate import bulk
from tests.support.project import PROJECT_PARTS, ROOT, copy_project

README_MAX_LINES = 300
SITE_PARTS = ("mkdocs.yml", "docs", "scripts/docs_hooks.py")
SCREENSHOT = Path("reports") / "demo-report.png"
PROJECT = load_project(ROOT)


def png(width: int = 2, height: int = 2) -> bytes:
    """A small white PNG: the stand-in for the report's screenshot."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\xff\xff" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def site_sources(target: Path, screenshot: bool) -> Path:
    for part in SITE_PARTS:
        source, copy = ROOT / part, target / part
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy(source, copy)
    if screenshot:
        (target / SCREENSHOT).parent.mkdir(parents=True, exist_ok=True)
        (target / SCREENSHOT).write_bytes(png())
    return target


def mkdocs_build(project: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(project / "site")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    project = site_sources(tmp_path_factory.mktemp("docs-site"), screenshot=True)
    built = mkdocs_build(project)
    assert built.returncode == 0, built.stderr
    return project / "site"


def page_text(site: Path, page: str) -> str:
    """A built page's text: its HTML without tags, entities decoded."""
    source = (site / page / "index.html").read_text(encoding="utf-8")
    return html.unescape(re.sub(r"<[^>]+>", " ", source))


def parameter_row(site: Path, page: str, name: str) -> str:
    """The text of the table row whose first cell is the parameter name, on one line."""
    source = (site / page / "index.html").read_text(encoding="utf-8")
    row = re.search(rf"<tr>\s*<td><code>{re.escape(name)}</code></td>(?P<cells>.*?)</tr>", source, re.DOTALL)
    assert row, f"{page}: no table row for {name}"
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", row.group("cells"))).split()).replace(" ,", ",")


def subcommands() -> dict[str, argparse.ArgumentParser]:
    (action,) = (a for a in cli.build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


# ---- generated pages ----


def test_generated_pages_are_current():
    assert docs.stale_pages(ROOT, cli.build_parser(), write=False) == []


def test_docs_check_names_a_stale_page_and_docs_rewrites_it(tmp_path, capsys):
    project = copy_project(tmp_path, (*PROJECT_PARTS, "docs"))
    module = project / "rules" / "LAMBDA_LAYER_CHECK" / "LAMBDA_LAYER_CHECK.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("Indicative Severity:\n  Medium", "Indicative Severity:\n  High", 1))

    assert cli.main(["--project", str(project), "docs", "--check"]) == 1
    out, err = capsys.readouterr()
    assert out == "stale: docs/rules/LAMBDA_LAYER_CHECK.md\n"
    assert err == "generated documentation pages are stale: run `rdkpack docs` and commit the result\n"

    assert cli.main(["--project", str(project), "docs"]) == 0
    assert "- **Indicative severity:** High" in (project / "docs" / "rules" / "LAMBDA_LAYER_CHECK.md").read_text()
    assert cli.main(["--project", str(project), "docs", "--check"]) == 0


def test_docs_removes_the_page_of_a_rule_that_is_gone(tmp_path, capsys):
    project = copy_project(tmp_path, (*PROJECT_PARTS, "docs"))
    leftover = project / "docs" / "rules" / "GONE_RULE.md"
    leftover.write_text("# GONE_RULE\n", encoding="utf-8")

    assert cli.main(["--project", str(project), "docs", "--check"]) == 1
    assert "stale: docs/rules/GONE_RULE.md" in capsys.readouterr().out
    assert cli.main(["--project", str(project), "docs"]) == 0
    assert not leftover.exists()


def test_a_windows_checkout_with_crlf_line_endings_has_current_pages(tmp_path):
    project = copy_project(tmp_path, (*PROJECT_PARTS, "docs"))
    for suffix in ("*.md", "*.py", "*.json", "*.yaml"):
        for path in project.rglob(suffix):
            path.write_bytes(path.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    assert docs.stale_pages(project, cli.build_parser(), write=False) == []


def test_a_rule_parameter_missing_from_the_docstring_is_named(tmp_path, capsys):
    project = copy_project(tmp_path, (*PROJECT_PARTS, "docs"))
    module = project / "rules" / "LAMBDA_LAYER_CHECK" / "LAMBDA_LAYER_CHECK.py"
    text = module.read_text(encoding="utf-8")
    module.write_text(text.replace("  MinLayerVersion\n    (Optional)", "  MinimumVersion\n    (Optional)", 1))

    assert cli.main(["--project", str(project), "docs", "--check"]) == 2
    error = capsys.readouterr().err
    assert "LAMBDA_LAYER_CHECK.py: Rule Parameters: MinLayerVersion is not described" in error


# ---- the built site ----


@pytest.mark.parametrize("rule", sorted(PROJECT.rules))
def test_every_rule_parameter_appears_on_its_page_in_the_built_site(site, rule):
    text = page_text(site, f"rules/{rule}")
    names = (*rule_module(ROOT, rule).RULE_PARAMETERS, *ROLE_PARAMETERS)
    assert [name for name in names if name not in text] == []
    path = ROOT / "rules" / rule / f"{rule}.py"
    for name, accepts in parameter_accepts(path, vars(rule_module(ROOT, rule))).items():
        row = parameter_row(site, f"rules/{rule}", name)
        assert accepts.describe().replace("`", "") in row, (name, row)
        assert accepts.shown_default() is None or accepts.shown_default() in row, (name, row)
    scenarios = gherkin.read_spec(ROOT / "rules" / rule / f"{rule}.py").scenarios
    assert [s.number for s in scenarios if f"Scenario {s.number}." not in text] == []


@pytest.mark.parametrize("document", sorted(PROJECT.documents))
def test_every_document_parameter_and_output_appears_on_its_page_in_the_built_site(site, document):
    text = page_text(site, f"remediations/{document}")
    spec = PROJECT.documents[document].parameters
    assert [name for name in spec if name not in text] == []
    patterns = [p["allowedPattern"] for p in spec.values() if "allowedPattern" in p]
    assert [pattern for pattern in patterns if pattern not in text] == []


def test_every_command_and_option_appears_in_the_built_site(site):
    text = page_text(site, "reference/cli")
    missing = []
    for name, command in subcommands().items():
        missing += [] if f"rdkpack {name}" in text else [name]
        for action in command._actions:
            missing += [f"{name} {option}" for option in action.option_strings if option not in text]
    assert missing == []


def test_the_scan_page_shows_the_report_screenshot(site):
    assert (site / "assets" / "demo-report.png").read_bytes() == png()
    assert 'src="../../assets/demo-report.png"' in (site / "guides" / "scan" / "index.html").read_text()


def test_a_build_without_the_screenshot_fails_naming_the_command_that_takes_it(tmp_path):
    built = mkdocs_build(site_sources(tmp_path, screenshot=False))
    assert built.returncode != 0
    assert "reports/demo-report.png is missing: run `make report-check`" in built.stderr


def test_the_site_links_the_ci_example(site):
    assert (site / "examples" / "github-actions-check.yml").is_file()
    assert 'href="../../examples/github-actions-check.yml"' in (site / "guides" / "check" / "index.html").read_text()


# ---- the README ----


def readme_links() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [target for target in re.findall(r"\]\(([^)\s]+)\)", text) if not target.startswith(("http", "#"))]


def test_readme_is_at_most_300_lines():
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= README_MAX_LINES


def test_readme_links_into_the_site_resolve_to_built_pages(site):
    links = [link for link in readme_links() if link.startswith("docs/")]
    assert len(links) >= 10, links
    unbuilt = []
    for link in links:
        path = Path(link.split("#")[0]).relative_to("docs")
        built = path.with_suffix("") / "index.html" if path.suffix == ".md" and path.stem != "index" else path
        built = path.parent / "index.html" if path.name == "index.md" else built
        unbuilt += [] if (site / built).is_file() else [link]
    assert unbuilt == []


def test_readme_links_resolve_to_files_of_the_repository():
    assert [link for link in readme_links() if not (ROOT / link.split("#")[0]).exists()] == []


# ---- pages written by hand that must match the code ----


def test_remediate_page_lists_every_action_bulk_remediation_calls_and_no_other():
    text = (ROOT / "docs" / "guides" / "remediate.md").read_text(encoding="utf-8")
    section = text[text.index("## Through AWS Config, in many accounts") :]
    listed = set(re.findall(r"`config:([A-Za-z]+)`", section))
    declared = {operation for service, operation in (*bulk.READS, *bulk.WRITES) if service == "config"}
    assert listed == declared


# ---- the Markdown the generators write ----


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("prefix '*' or 'logs/*'", "prefix '\\*' or 'logs/\\*'", id="lone stars escaped"),
        pytest.param("**Warning:** it deletes", "**Warning:** it deletes", id="bold kept"),
        pytest.param("('*', '**') x", "('\\*', '\\*\\*') x", id="a quoted double star is no bold"),
        pytest.param("run `a*b` now", "run `a*b` now", id="code span kept"),
        pytest.param("arn:<partition>", "arn:&lt;partition>", id="no raw html"),
        pytest.param("a list:\n* one\n* two\nafter", "a list:\n\n* one\n* two\n\nafter", id="list set apart"),
    ],
)
def test_authored_markdown_renders_as_the_console_shows_it(text, expected):
    assert authored(text) == expected


def test_plain_text_shows_every_character_as_written():
    assert plain("a*b [c] `d` <e> \\f") == "a\\*b \\[c\\] \\`d\\` &lt;e> \\\\f"


def test_a_scenario_outcome_is_what_its_then_returns(tmp_path):
    module = tmp_path / "RULE.py"
    module.write_text(
        '"""\nRule Name:\n  RULE\n\nScenarios:\n  Scenario 1:\n    Given: A\n     Then: Return NOT_APPLICABLE\n'
        "  Scenario 2:\n    Given: B\n      And: C\n     Then: Return NON_COMPLIANT naming\n           the thing\n"
        '  Scenario 3:\n    Given: D\n     Then: Every item is evaluated\n"""\n'
    )
    spec = gherkin.read_spec(module)
    assert [(s.number, s.given, s.then, s.outcome) for s in spec.scenarios] == [
        (1, ("A",), "Return NOT_APPLICABLE", "NOT_APPLICABLE"),
        (2, ("B", "C"), "Return NON_COMPLIANT naming the thing", "NON_COMPLIANT"),
        (3, ("D",), "Every item is evaluated", gherkin.OTHER),
    ]
