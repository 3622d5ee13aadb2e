"""The HTML report: a summary that matches the results, a well-formed chart, filterable rows, and a page that
loads nothing from elsewhere and cannot run script from resource data (escaping and a hash-based CSP)."""

from __future__ import annotations

import base64
import hashlib
import re
import time
from collections import Counter
from dataclasses import replace
from xml.etree import ElementTree

from hypothesis import given
from hypothesis import strategies as st

from rdkpack import report
from rdkpack.account.scan import Result, excess_az_cost
from rdkpack.report.html_assets import CSS, JS
from rdkpack.report.rows import VERDICTS, printable
from tests.support.reports import (
    ACCOUNTS,
    HOSTILE,
    REGIONS,
    UNSCANNED,
    Page,
    demo_report,
    hostile_results,
    org_report,
    sample_results,
    scan_report,
)

CHART = re.compile(r'<svg id="summary-chart".*?</svg>', re.S)


def page_of(made) -> Page:
    return Page(report.to_html(made, "rdk <scan> & report"))


def rule_summary(page: Page) -> dict[tuple[str, str], dict[str, int]]:
    """{(rule, phase): {verdict: count, "Total": n}} from the summary table (the last five cells of each row)."""
    found = {}
    for attrs, cells in page.tables["rule-summary"][1:]:
        numbers = [int(cell.replace(",", "")) for cell in cells[-5:]]
        found[(attrs["data-rule"], attrs["data-phase"])] = dict(zip((*VERDICTS, "Total"), numbers, strict=True))
    return found


def cards(page: Page) -> dict[str, str]:
    """The summary's key figures: {label: value}."""
    labels = [e.text for e in page.all("div") if e.attrs.get("class") == "label"]
    return dict(zip(labels, [e.text for e in page.all("div") if e.attrs.get("class") == "value"], strict=True))


def expected_counts(results: list[Result], phase: str = "") -> dict[tuple[str, str], dict[str, int]]:
    tally = Counter((r.rule, r.compliance) for r in results)
    return {
        (rule, phase): {v: tally[(rule, v)] for v in VERDICTS} | {"Total": sum(tally[(rule, v)] for v in VERDICTS)}
        for rule in {r.rule for r in results}
    }


def test_html_summary_counts_each_rules_results_by_verdict():
    results = hostile_results()
    page = page_of(scan_report(results))
    assert rule_summary(page) == expected_counts(results)
    assert expected_counts(results)[("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "")] == {
        "COMPLIANT": 1,
        "NON_COMPLIANT": 2,
        "NOT_APPLICABLE": 0,
        "ERROR": 1,
        "Total": 4,
    }


def test_html_summary_lists_a_scanned_rule_without_resources_with_zeros():
    built = scan_report(sample_results(3))
    built.descriptions = {"LAMBDA_LAYER_CHECK": "x", "LAMBDA_CODE_SIGNING_CHECK": "y"}
    found = rule_summary(page_of(built))
    assert found[("LAMBDA_CODE_SIGNING_CHECK", "")] == dict.fromkeys((*VERDICTS, "Total"), 0)
    assert "no applicable resources" in CHART.search(report.to_html(built, "t")).group()


def test_html_single_account_cost_is_the_endpoint_rules_excess_az_cost():
    page = page_of(scan_report(sample_results(16)))  # two endpoints over the maximum
    assert excess_az_cost(sample_results(16)) == 29.20
    assert cards(page)["Endpoint AZ cost"] == "$29.20"
    assert cards(page)["NON_COMPLIANT"] == "6"


def test_html_demo_shows_counts_and_cost_before_and_after_remediation():
    built = demo_report()
    page = page_of(built)
    assert rule_summary(page) == expected_counts(built.before, "before") | expected_counts(built.after, "after")
    assert cards(page)["NON_COMPLIANT"] == "3 → 1"
    assert cards(page)["Endpoint AZ cost"] == "$14.60 → $0.00"
    runs = page.table("remediation-runs")
    assert [(row["Resource"], row["Status"]) for row in runs] == [
        ("orders-0", "CHANGED"),
        ("vpce-wide-6", "CHANGED"),
        ("star-4", "FAILED"),
    ]
    before = page.table("results-before")
    after = page.table("results-after")
    assert Counter(row["Verdict"] for row in before) == Counter(r.compliance for r in built.before)
    assert Counter(row["Verdict"] for row in after) == Counter(r.compliance for r in built.after)
    chart = ElementTree.fromstring(CHART.search(page.source).group())
    labels = {text.text for text in chart.iter("text")}
    assert {"Before", "After"} <= labels


def test_html_org_report_shows_each_account_and_region_with_its_cost_and_the_totals():
    built = org_report()
    page = page_of(built)
    groups = page.table("group-summary")
    by_target = {(row["Account"], row["Region"]): row for row in groups[:-1]}
    assert set(by_target) == {(a, r) for a in ACCOUNTS for r in REGIONS} | {(UNSCANNED.account, UNSCANNED.region)}
    one = by_target[(ACCOUNTS[0], REGIONS[0])]
    assert {v: one[v] for v in VERDICTS} == {
        "COMPLIANT": "3",
        "NON_COMPLIANT": "3",
        "NOT_APPLICABLE": "1",
        "ERROR": "1",
    }
    assert one["Endpoint AZs $/month"] == "14.60"
    assert by_target[(UNSCANNED.account, UNSCANNED.region)]["Verdicts"] == "not scanned"
    assert page.tables["group-summary"][-1][1] == ["all 3 accounts", "", "12", "12", "4", "4", "58.40"]
    assert cards(page)["Endpoint AZ cost"] == "$58.40" and cards(page)["Not scanned"] == "1"
    assert page.table("failures")[0]["Reason"] == UNSCANNED.reason
    assert "X_CHECK" in page.by_id("groups").text
    results = page.table("results-table")
    assert {(row["Account"], row["Region"]) for row in results} == {(a, r) for a in ACCOUNTS for r in REGIONS}


def test_html_summary_chart_is_well_formed_svg_with_an_accessible_name_and_a_segment_per_count():
    source = report.to_html(scan_report(hostile_results()), "t")
    chart = ElementTree.fromstring(CHART.search(source).group())
    assert chart.get("role") == "img" and chart.get("aria-labelledby") == "chart-title chart-desc"
    assert chart.find("title").text == "Evaluations per rule and verdict"
    assert "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: 1 COMPLIANT, 2 NON_COMPLIANT, 1 ERROR" in chart.find("desc").text
    segments = [rect for rect in chart.iter("rect") if rect.get("class") == "seg"]
    expected = Counter((r.rule, r.compliance) for r in hostile_results())
    assert sorted(rect.find("title").text.split(" of ")[0] for rect in segments) == sorted(
        f"{rule}: {n} {verdict}" for (rule, verdict), n in expected.items()
    )
    assert all(float(rect.get("width")) > 0 for rect in segments)
    for mini in re.findall(r'<svg class="mini".*?</svg>', report.to_html(org_report(), "t"), re.S):
        assert ElementTree.fromstring(mini).get("aria-label")


def test_html_page_loads_nothing_from_elsewhere():
    for made in (scan_report(hostile_results()), org_report(), demo_report()):
        page = page_of(made)
        assert not [e for e in page.elements if "src" in e.attrs or e.tag in ("link", "img", "iframe", "object")]
        assert all(e.attrs["href"].startswith("#") for e in page.elements if "href" in e.attrs)
        assert "url(" not in CSS and "@import" not in CSS and "@font-face" not in CSS
        assert not re.search(r"fetch|XMLHttpRequest|import\(|\.src\b", JS)


def test_html_resource_data_is_escaped_and_shown_literally():
    source = report.to_html(scan_report(hostile_results()), "t")
    page = Page(source)
    assert source.count("<script") == 1 and "<img" not in source and "]]>" not in source
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", source), "no raw control characters"
    assert not [name for e in page.elements for name in e.attrs if name.startswith("on")]
    hostile = next(row for row in page.table("results-table") if "alert(1)" in row["Resource"])
    shown = HOSTILE.replace("\x00", "\\x00").replace("\x07", "\\x07").replace("\x1b", "\\x1b")
    assert hostile["Resource"] == hostile["Annotation"] == shown


def test_html_bidi_and_zero_width_characters_are_shown_as_escapes_not_applied():
    spoof = "evil\u202egnp.exe\u200b"  # would display as "evilexe.png" with the override applied
    result = Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", spoof, "NON_COMPLIANT", spoof)
    source = report.to_html(scan_report([result]), "t")
    assert "\u202e" not in source and "\u200b" not in source
    row = Page(source).table("results-table")[0]
    assert row["Resource"] == "evil\\u202egnp.exe\\u200b"


@given(st.text(max_size=40))
def test_html_any_resource_id_comes_back_as_the_cells_text(resource_id):
    result = Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", resource_id, "NON_COMPLIANT", resource_id)
    page = Page(report.to_html(scan_report([result]), "t"))
    row = page.table("results-table")[0]
    assert row["_attrs"] == {"data-verdict": "NON_COMPLIANT", "data-rule": "LAMBDA_LAYER_CHECK"}
    assert row["Resource"] == row["Annotation"] == printable(resource_id).strip()
    plain = Page(report.to_html(scan_report([replace(result, resource_id="x", annotation="x")]), "t"))
    assert [e.tag for e in page.elements] == [e.tag for e in plain.elements], "the id added no element"


def test_html_csp_allows_exactly_the_inline_style_and_script_by_their_hashes():
    source = report.to_html(demo_report(), "t")
    page = Page(source)
    meta = next(e for e in page.all("meta") if e.attrs.get("http-equiv") == "Content-Security-Policy")
    policy = dict(d.strip().split(" ", 1) for d in meta.attrs["content"].split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:" and policy["base-uri"] == "'none'"

    def hashes(tag):
        return {
            "'sha256-" + base64.b64encode(hashlib.sha256(block.encode()).digest()).decode() + "'"
            for block in page.raw_blocks(tag)
        }

    assert set(policy["script-src"].split()) == hashes("script") and len(hashes("script")) == 1
    assert set(policy["style-src"].split()) == hashes("style") and len(hashes("style")) == 1
    assert "unsafe" not in meta.attrs["content"]
    assert page.raw_blocks("script") == [JS] and page.raw_blocks("style") == [CSS]
    assert not [e for e in page.elements if "style" in e.attrs], "a style attribute would be blocked by the CSP"


def test_html_rows_carry_what_the_filter_needs_and_the_script_never_parses_html():
    built = demo_report()
    page = page_of(built)
    rows = [attrs for table in ("results-before", "results-after") for attrs, _ in page.tables[table][1:]]
    assert Counter(r["data-verdict"] for r in rows) == Counter(r.compliance for r in built.before + built.after)
    assert Counter(r["data-rule"] for r in rows) == Counter(r.rule for r in built.before + built.after)
    options = [e.attrs["value"] for e in page.elements if e.tag == "option"]
    assert options[: len(VERDICTS) + 1] == ["", *VERDICTS]
    assert page.by_id("shown").attrs["data-shown"] == str(len(rows))
    assert page.by_id("filters").attrs.get("hidden") == "", "shown by the script, so no dead controls without it"
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", JS)
    assert 'document.body.dataset.ready = "true"' in JS


def test_html_print_css_hides_the_controls_keeps_colours_and_rows_whole():
    printed = CSS[CSS.index("@media print") :]
    assert ".filters,nav{display:none!important}" in printed
    assert "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}" in printed
    assert "tr,.card,figure,svg{break-inside:avoid" in printed
    assert "thead{display:table-header-group}" in printed


def test_html_ten_thousand_results_stay_one_reasonable_file():
    results = sample_results(10_000)
    started = time.perf_counter()
    source = report.to_html(scan_report(results), "t")
    seconds = time.perf_counter() - started
    assert len(source.encode()) < 3_000_000, f"{len(source.encode()):,} bytes for 10,000 results"
    assert seconds < 5, f"{seconds:.1f} s to render 10,000 results"
    assert source.count("<tr data-verdict=") == 10_000
