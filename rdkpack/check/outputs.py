"""rdkpack check's reports: SARIF 2.1.0 with the file and line of each resource, JUnit, JSON, Markdown, and the
terminal table. Template text (logical IDs, messages) is escaped for each format as scan's reports escape it."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from rich.markup import escape
from rich.table import Table

from rdkpack.check.judge import UNKNOWN
from rdkpack.check.waivers import ACTIVE
from rdkpack.report.junit import xml_text
from rdkpack.report.markdown import markdown_table, markdown_text
from rdkpack.report.outputs import only_formats
from rdkpack.report.sarif import SARIF_SCHEMA, fingerprint
from rdkpack.report.terminal import literal

WAIVER_RULE = "RDK_WAIVER"  # a waiver without a comment, an expiry or a date
HEADER = ("File", "Line", "Resource", "Rule", "Verdict", "Message")


def level(row, strict: bool) -> str:
    if row.compliance == UNKNOWN:
        return "error" if strict else "note"
    return "error"


def sarif_result(row, rule_ids: list[str], strict: bool) -> dict:
    rule = WAIVER_RULE if row.compliance == "WAIVER" else row.rule
    waived = f"|{row.rule}" if rule == WAIVER_RULE else ""
    logical = {"name": row.resource, "kind": "resource"}
    if row.construct_path:
        logical["fullyQualifiedName"] = row.construct_path
    result = {
        "ruleId": rule,
        "ruleIndex": rule_ids.index(rule),
        "level": level(row, strict),
        "message": {"text": row.message or rule},
        "locations": [
            {
                "physicalLocation": {"artifactLocation": {"uri": row.file}, "region": {"startLine": max(row.line, 1)}},
                "logicalLocations": [logical],
            }
        ],
        # A waiver finding also names the rule it waives: two incomplete waivers of one resource are two alerts.
        "partialFingerprints": {"rdkpackTemplate/v1": fingerprint(f"{rule}|{row.file}|{row.resource}{waived}")},
    }
    if row.waiver == ACTIVE:
        result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": row.waiver_note}]
    return result


def help_page(rule: str) -> str:
    """The documentation page that explains a result's rule: the rule's own page, or the check guide's waivers."""
    return "docs/guides/check.md (waivers)" if rule == WAIVER_RULE else f"docs/rules/{rule}.md"


def to_sarif(report, title: str, descriptions: dict[str, str] | None = None) -> str:
    """A result per NON_COMPLIANT, UNKNOWN (a note unless --strict) and waiver finding; a waived one carries a
    suppression with the waiver's comment and expiry."""
    shown = [row for row in report.rows if row.compliance in ("NON_COMPLIANT", UNKNOWN, "WAIVER")]
    rule_ids = sorted({WAIVER_RULE if row.compliance == "WAIVER" else row.rule for row in shown})
    descriptions = descriptions or {}
    rules = [
        {
            "id": rule,
            "shortDescription": {"text": descriptions.get(rule, rule)[:1000]},
            "help": {"text": f"{descriptions.get(rule, rule)} See {help_page(rule)}."},
            "defaultConfiguration": {"level": "error"},
        }
        for rule in rule_ids
    ]
    results = [sarif_result(row, rule_ids, report.strict) for row in shown]
    run = {
        "tool": {"driver": {"name": "rdkpack check", "informationUri": "https://github.com/", "rules": rules}},
        "artifacts": [{"location": {"uri": file}} for file in report.files],
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


def to_json(report, title: str) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def rows_of(report) -> list[tuple]:
    return [
        (row.file, row.line, row.resource, row.rule, "WAIVED" if row.waiver == ACTIVE else row.compliance, row.message)
        for row in report.rows
    ]


def to_markdown(report, title: str) -> str:
    text = [f"# {markdown_text(title)}", "", f"Pack `{report.pack}`; {len(report.files)} file(s).", ""]
    summary = ", ".join(f"{name} {count}" for name, count in sorted(report.counts().items()))
    text += [f"Summary: {summary or 'no resource the rules judge'}.", "", markdown_table(HEADER, rows_of(report)), ""]
    text += [f"- {markdown_text(note)}" for note in report.notes]
    return "\n".join(text) + "\n"


def to_junit(report, title: str) -> str:
    """A suite per rule, a case per resource: a finding is a failure; not applicable, waived and (without
    --strict) unknown are skipped."""
    suites = ElementTree.Element("testsuites", name=xml_text(title))
    by_rule: dict[str, list] = {}
    for row in report.rows:
        by_rule.setdefault(row.rule, []).append(row)
    for rule, rows in by_rule.items():
        suite = ElementTree.SubElement(suites, "testsuite", name=xml_text(rule), tests=str(len(rows)))
        failures = skipped = 0
        for row in rows:
            name = xml_text(f"{row.file}:{row.line} {row.resource}")
            case = ElementTree.SubElement(suite, "testcase", classname=xml_text(rule), name=name)
            if row.fails(report.strict):
                failures += 1
                ElementTree.SubElement(case, "failure", message=xml_text(row.message), type=row.compliance)
            elif row.compliance != "COMPLIANT" or row.waiver == ACTIVE:
                skipped += 1
                ElementTree.SubElement(case, "skipped", message=xml_text(row.waiver_note or row.message))
        suite.set("failures", str(failures))
        suite.set("skipped", str(skipped))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


FORMATS = {"sarif": to_sarif, "json": to_json, "markdown": to_markdown, "junit": to_junit}


def check_formats(outputs) -> None:
    only_formats(outputs, FORMATS, "check")


def write(output, report, title: str, descriptions: dict[str, str]) -> None:
    render = FORMATS[output.format]
    output.put(render(report, title, descriptions) if output.format == "sarif" else render(report, title))


def print_check(console, report, limit: int = 50) -> None:
    table = Table(title=escape(f"rdkpack check with pack {report.pack}"))
    for column in HEADER:
        table.add_column(column, overflow="fold")
    rows = [row for row in rows_of(report) if row[4] != "COMPLIANT"]
    for row in rows[:limit]:
        table.add_row(*(literal(cell) for cell in row))
    console.print(table)
    if len(rows) > limit:
        console.print(f"... and {len(rows) - limit} more (write them all with --output FILE)")
    summary = ", ".join(f"{name} {count}" for name, count in sorted(report.counts().items()))
    console.print(f"{len(report.files)} file(s); {summary or 'no resource the rules judge'}", markup=False)
