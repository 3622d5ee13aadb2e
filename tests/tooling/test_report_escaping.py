"""Every report shows resource-derived text literally. Anyone who can name an S3 lifecycle rule controls a
resource id or an annotation, so the same hostile strings go into every field AWS data fills (resource id,
annotation, account, region, failure reason, remediation plan and message), and no format lets them act:
no Markdown link, emphasis, code, HTML or table break, no XML the reader rejects, no HTML element, and no
control, bidirectional or zero-width character reaching a report raw."""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree

import pytest
from markdown_it import MarkdownIt

from rdkpack import report
from rdkpack.account.demo import DemoReport, RemediationRun
from rdkpack.account.org import Failure, OrgReport
from rdkpack.account.scan import Result, ScanReport
from rdkpack.report import markdown
from rdkpack.report.rows import printable
from tests.support.reports import Page, scan_report

RULE = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"
DOCUMENT = "FixS3LifecycleAsteriskPrefix"
HOSTILE_TEXTS = [
    pytest.param("[l](http://x) **b** `t`", id="markdown-link-bold-code"),
    pytest.param("<script>alert(1)</script><img src=x>", id="html-tags"),
    pytest.param("<http://evil.example>", id="angle-autolink"),
    pytest.param("see http://evil.example, www.evil.example or a@evil.example", id="bare-autolinks"),
    pytest.param("_u_ ~~s~~ $m$ \\[x\\] ![i](y) &#91;", id="emphasis-strike-math-escape-entity"),
    pytest.param("a|b", id="table-break"),
    pytest.param("one\ntwo", id="newline"),
    pytest.param("evil\u202egnp.exe \u2066i\u2069 \u061c \u200e", id="bidi-controls"),
    pytest.param("nul\x00bel\x07esc\x1b[31m csi\x9b del\x7f", id="c0-c1-controls"),
    pytest.param("zw\u200dj\u200bs\ufeffb", id="zero-width"),
    pytest.param("tag\U000e0041 line\u2028sep lone\ud800", id="tag-separator-surrogate"),
]
# What must never reach a report raw, written out here rather than taken from the code under test: C0 and C1
# controls (tab and line feed aside), bidirectional marks, embeddings, overrides and isolates, zero-width
# characters, the byte-order mark, line and paragraph separators, tag characters and lone surrogates.
RAW_INVISIBLE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2028\u2029\u2066-\u2069\ufeff"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)
# The source text a GFM renderer turns into an autolink: a URL scheme, www. or an email address, unescaped.
AUTOLINK_TRIGGER = re.compile(r"(?<!\\)://|www\.|(?<!\\)@", re.IGNORECASE)
MARKUP_TOKENS = {"link_open", "image", "em_open", "strong_open", "s_open", "code_inline", "html_inline", "html_block"}
GFM = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def scan_of(text: str) -> ScanReport:
    return scan_report([Result(RULE, "AWS::S3::Bucket", text, "NON_COMPLIANT", text)])


def org_of(text: str) -> OrgReport:
    result = Result(RULE, "AWS::S3::Bucket", text, "NON_COMPLIANT", text, account=text, region=text)
    return OrgReport("rdk-guardrails-org-baseline", "role R", [result], [Failure(text, text, text)])


def demo_of(text: str) -> DemoReport:
    before = [Result(RULE, "AWS::S3::Bucket", text, "NON_COMPLIANT", text)]
    runs = [RemediationRun(RULE, DOCUMENT, text, text, "FAILED", text)]
    return DemoReport("rdk-guardrails-sandbox", 1, 1, before, runs, before, 1.0)


def markdown_tables(source: str) -> dict[str, list[list[tuple[str, set[str]]]]]:
    """Each table under its `##` heading, as rows of cells: (the text a reader sees, the inline token types)."""
    tables, heading, row = {}, "", None
    tokens = GFM.parse(source)
    for index, token in enumerate(tokens):
        if token.type == "heading_open" and token.tag == "h2":
            heading = tokens[index + 1].content
            tables[heading] = []
        elif token.type == "tr_open":
            row = []
            tables[heading].append(row)
        elif token.type == "inline" and row is not None:
            children = token.children or []
            row.append(("".join(child.content for child in children), {child.type for child in children}))
        elif token.type == "tr_close":
            row = None
    return tables


def texts(rows) -> list[list[str]]:
    return [[text for text, _ in row] for row in rows]


def shown_in_markdown(text: str) -> str:
    return printable(text).replace("\n", " ").strip()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_markdown_shows_hostile_text_literally_in_every_table(hostile):
    shown = shown_in_markdown(hostile)
    sources = {made.__name__: report.to_markdown(made(hostile), "t") for made in (scan_of, org_of, demo_of)}
    for name, source in sources.items():
        for heading, rows in markdown_tables(source).items():
            markup = {kind for row in rows for _, kinds in row for kind in kinds} & MARKUP_TOKENS
            assert not markup, f"{name}, {heading}: the text became {markup}"
            assert all(len(row) == len(rows[0]) for row in rows), f"{name}, {heading}: a row broke the table"
        assert not RAW_INVISIBLE.search(source), f"{name}: a control, bidi or zero-width character reached it raw"
        assert not AUTOLINK_TRIGGER.search(source), f"{name}: a bare URL or address GFM would autolink"
        source.encode("utf-8")  # Output.write writes UTF-8: a lone surrogate would fail the write
    scan, org, demo = (markdown_tables(sources[name]) for name in ("scan_of", "org_of", "demo_of"))
    assert texts(scan["Compliance"])[1] == [shown, RULE, "NON_COMPLIANT", shown]
    assert texts(org["Accounts and regions not scanned"])[1] == [shown, shown, shown]
    assert texts(org["By account and region"])[1][:2] == [shown, shown]
    assert texts(org["Compliance"])[1] == [shown, shown, shown, RULE, "NON_COMPLIANT", shown]
    assert texts(demo["Remediations"])[1] == [shown, DOCUMENT, shown, f"FAILED: {shown}"]


def test_markdown_leaves_identifiers_and_plain_punctuation_as_written():
    """Only what Markdown would act on is escaped: the raw report stays readable and greppable."""
    plain = "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK denied s3:GetLifecycleConfiguration on demo-star-0 (1 of 2)."
    assert markdown.markdown_table(("Annotation",), [(plain,)]).splitlines()[2] == f"| {plain} |"


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_junit_is_well_formed_xml_and_shows_hostile_text_as_escapes(hostile):
    for made in (scan_of, org_of):
        source = report.to_junit(made(hostile), "t")
        assert not RAW_INVISIBLE.search(source), "XML 1.0 forbids C0 controls; bidi and zero-width hide text"
        case = ElementTree.fromstring(source.encode("utf-8")).find("testsuite/testcase")
        assert case.find("failure").get("message") == printable(hostile)
        assert printable(hostile) in case.get("name")


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_html_adds_no_element_and_shows_hostile_text_as_escapes(hostile):
    for made in (scan_of, org_of, demo_of):
        source = report.to_html(made(hostile), "t")
        assert not RAW_INVISIBLE.search(source), f"{made.__name__}: a control, bidi or zero-width character"
        source.encode("utf-8")
        page, plain = Page(source), Page(report.to_html(made("x"), "t"))
        assert [e.tag for e in page.elements] == [e.tag for e in plain.elements], "the text added no element"
        table = "results-before" if made is demo_of else "results-table"
        assert page.table(table)[0]["Annotation"] == printable(hostile).strip()


@pytest.mark.parametrize("hostile", HOSTILE_TEXTS)
def test_sarif_stays_valid_json_with_no_raw_invisible_character(hostile):
    """SARIF readers take message.text as plain text: it keeps the exact data, JSON-escaped."""
    for made in (scan_of, org_of):
        source = report.to_sarif(made(hostile), "t")
        assert not RAW_INVISIBLE.search(source)
        result = json.loads(source)["runs"][0]["results"][0]
        assert result["message"]["text"] == hostile
        assert result["locations"][0]["logicalLocations"][0]["name"] == hostile
