"""A remediation run's report (rdkpack remediate): a row per resource, in JSON, JSON lines, Markdown and JUnit XML,
and the terminal table. Refused is not failed: a JUnit case is skipped when the remediation refused to act."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from rich.markup import escape
from rich.table import Table

from rdkpack.report.junit import xml_text
from rdkpack.report.markdown import markdown_table, markdown_text
from rdkpack.report.outputs import only_formats
from rdkpack.report.terminal import literal

HEADER = ("Account", "Region", "Resource type", "Resource", "Outcome", "Message")
JUNIT_OUTCOMES = {"FAILED": "failure", "NOT_STARTED": "error", "STILL_RUNNING": "error", "REFUSED": "skipped"}


def rows(report) -> list[tuple]:
    return [(o.account, o.region, o.resource_type, o.resource_id, o.outcome, o.message) for o in report.outcomes]


def to_json(report, title: str) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def to_jsonl(report, title: str) -> str:
    head = {"format": "rdkpack-remediation-report/1", "pack": report.pack, "rule": report.rule, "title": title}
    lines = [head] + [{"outcome": outcome.as_dict()} for outcome in report.outcomes]
    lines += [{"failure": failure.__dict__} for failure in report.failures]
    return "".join(json.dumps(line, ensure_ascii=True) + "\n" for line in lines)


def to_markdown(report, title: str) -> str:
    mode = " (dry run: nothing was started)" if report.dry_run else ""
    text = [f"# {markdown_text(title)}", "", f"Pack `{report.pack}`, rule `{report.rule}`{mode}.", ""]
    summary = ", ".join(f"{name} {count}" for name, count in report.counts().items() if count)
    text += [f"Summary: {summary or 'no resource'}.", "", markdown_table(HEADER, rows(report)), ""]
    if report.failures:
        failures = [(f.account, f.region, f.reason) for f in report.failures]
        text += ["## Not remediated", "", markdown_table(("Account", "Region", "Reason"), failures), ""]
    return "\n".join(text)


def to_junit(report, title: str) -> str:
    suites = ElementTree.Element("testsuites", name=xml_text(title))
    suite = ElementTree.SubElement(suites, "testsuite", name=xml_text(report.rule))
    tally = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for outcome in report.outcomes:
        name = xml_text(f"{outcome.resource_type} {outcome.resource_id} ({outcome.account} {outcome.region})")
        case = ElementTree.SubElement(suite, "testcase", classname=xml_text(report.rule), name=name)
        tally["tests"] += 1
        kind = JUNIT_OUTCOMES.get(outcome.outcome)
        if kind:
            tally[{"failure": "failures", "error": "errors", "skipped": "skipped"}[kind]] += 1
            ElementTree.SubElement(case, kind, message=xml_text(outcome.message), type=outcome.outcome)
    for failure in report.failures:
        case = ElementTree.SubElement(
            suite, "testcase", classname=xml_text(report.rule), name=xml_text(f"{failure.account} {failure.region}")
        )
        ElementTree.SubElement(case, "error", message=xml_text(failure.reason), type="NOT_REMEDIATED")
        tally["tests"] += 1
        tally["errors"] += 1
    for key, value in tally.items():
        suite.set(key, str(value))
        suites.set(key, str(value))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


FORMATS = {"json": to_json, "jsonl": to_jsonl, "markdown": to_markdown, "junit": to_junit}


def check_formats(outputs) -> None:
    only_formats(outputs, FORMATS, "remediate")


def write(output, report, title: str) -> None:
    """The report in the output's format, to its file or standard output."""
    output.put(FORMATS[output.format](report, title))


def print_remediation(console, report, limit: int = 50) -> None:
    title = f"{report.rule} in pack {report.pack}" + (" (dry run)" if report.dry_run else "")
    table = Table(title=escape(title))
    for column in HEADER:
        table.add_column(column, overflow="fold")
    shown = rows(report)
    for row in shown[:limit]:
        table.add_row(*(literal(cell) for cell in row))
    console.print(table)
    if len(shown) > limit:
        console.print(f"... and {len(shown) - limit} more (write them all with --output FILE)")
    for failure in report.failures:
        console.print(f"not remediated: {failure.account} {failure.region}: {failure.reason}", markup=False)
    summary = ", ".join(f"{name} {count}" for name, count in report.counts().items() if count)
    if not summary and report.failures:  # nothing was read there: no claim about its resources
        summary = f"no resource; {len(report.failures)} account/region pair(s) not remediated, listed above"
    console.print(f"summary: {summary or 'no NON_COMPLIANT resource'}", markup=False)
