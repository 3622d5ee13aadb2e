"""Render scan and demo results: rich tables for a terminal, Markdown, JSON, and a self-contained HTML page.

Resource IDs, annotations and remediation messages come from AWS data (a lifecycle rule ID may be
`[/]`): terminal cells are rich Text objects, never markup, so such data prints literally, and control
characters (a terminal escape sequence in a tag value, say) are shown as escapes, never sent raw.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rdkpack.account.scan import Result, counts
from rdkpack.errors import ScanError

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def literal(value) -> Text:
    """Resource-derived text for the terminal: no markup, control characters shown as escapes."""
    return Text(CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), str(value)))


STYLES = {"COMPLIANT": "green", "NON_COMPLIANT": "bold red", "NOT_APPLICABLE": "dim", "ERROR": "bold magenta"}
COLUMNS = ("Resource", "Rule", "Verdict", "Annotation")
TARGET_COLUMNS = ("Account", "Region")


def columns(results: list[Result]) -> tuple[str, ...]:
    """Account and region lead when the results come from more than one account (an organization scan)."""
    return (*TARGET_COLUMNS, *COLUMNS) if any(r.account for r in results) else COLUMNS


def result_rows(results: list[Result]) -> list[tuple]:
    first = {"ERROR": 0, "NON_COMPLIANT": 1}  # what needs attention leads
    ordered = sorted(results, key=lambda r: (first.get(r.compliance, 2), r.account, r.region, r.rule, r.resource_id))
    target = any(r.account for r in results)
    return [
        ((r.account, r.region) if target else ()) + (r.resource_id, r.rule, r.compliance, r.annotation) for r in ordered
    ]


def results_table(title: str, results: list[Result]) -> Table:
    table = Table(title=title, show_lines=False, expand=True)
    for column in columns(results):
        table.add_column(column, overflow="fold", ratio=3 if column == "Annotation" else 1)
    for *lead, verdict, annotation in result_rows(results):
        cells = [literal(cell) for cell in lead]
        table.add_row(*cells, Text(verdict, style=STYLES.get(verdict, "")), literal(annotation))
    return table


GROUP_COLUMNS = ("Account", "Region", "COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "ERROR", "Endpoint AZs $/month")


def group_rows(report) -> list[tuple]:
    """Per account and region, then the organization's totals."""
    groups = report.groups()
    rows = [
        (g["account"], g["region"], *(g["summary"].get(v, 0) for v in GROUP_COLUMNS[2:6]), money(g)) for g in groups
    ]
    totals = report.totals(groups)
    rows.append(
        (
            f"all {totals['accounts']} accounts",
            "",
            *(totals["summary"].get(v, 0) for v in GROUP_COLUMNS[2:6]),
            money(totals),
        )
    )
    return rows


def money(group: dict) -> str:
    return f"{group['endpoint_az_cost_per_month']:,.2f}"


def print_org(console: Console, report) -> None:
    table = Table(title=f"Compliance by account and region (items from {escape(report.source)})")
    for column in GROUP_COLUMNS:
        table.add_column(column, justify="right" if column not in TARGET_COLUMNS else "left")
    for row in group_rows(report):
        table.add_row(*(literal(cell) for cell in row))
    console.print(table)
    attention = [r for r in report.before if r.compliance in ("NON_COMPLIANT", "ERROR")]
    console.print(results_table(f"Needing attention ({len(attention)} of {len(report.before)})", attention))
    for failure in report.failures:
        console.print(
            Text.assemble(
                ("could not scan ", "bold magenta"), literal(f"{failure.account} {failure.region}: {failure.reason}")
            )
        )
    for rule, why in report.skipped_rules.items():
        console.print(Text(f"not evaluated: {rule} {why}", style="dim"))


def remediation_table(runs) -> Table:
    table = Table(title="Remediations (DryRun plan, then applied)", expand=True)
    for column in ("Resource", "Document", "Plan", "Result"):
        table.add_column(column, overflow="fold", ratio=2 if column in ("Plan", "Result") else 1)
    for run in runs:
        style = "green" if run.status in ("CHANGED", "NO_CHANGE") else "bold red"
        result = Text.assemble((run.status, style), ": ", literal(run.message))
        table.add_row(literal(run.resource_id), Text(run.document), literal(run.plan), result)
    return table


def counts_table(before: list[Result], after: list[Result] | None = None) -> Table:
    """Verdict counts; with `after`, side by side with the counts after remediation."""
    table = Table(title="Compliance before and after remediation" if after is not None else "Summary")
    for column in ("Verdict", "Before", "After") if after is not None else ("Verdict", "Evaluations"):
        table.add_column(column)
    first, second = counts(before), counts(after or [])
    for verdict in first:
        cells = [str(first[verdict])] + ([str(second.get(verdict, 0)) if after else "-"] if after is not None else [])
        table.add_row(Text(verdict, style=STYLES.get(verdict, "")), *cells)
    return table


def print_scan(console: Console, results: list[Result], source: str) -> None:
    console.print(results_table(f"Compliance ({len(results)} evaluations, items from {escape(source)})", results))
    console.print(counts_table(results))


def print_demo(console: Console, report) -> None:
    title = f"Before: pack {escape(report.pack)}, {report.resources} seeded resources"
    console.print(results_table(title, report.before))
    if report.remediations:
        console.print(remediation_table(report.remediations))
    if report.after:
        console.print(results_table("After remediation", report.after))
    console.print(counts_table(report.before, report.after))
    console.print(f"finished in {report.seconds:.1f} s")


def _markdown_cell(text: str) -> str:
    """A table cell: pipes escaped, and HTML escaped so resource data cannot add markup to a rendered page."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: tuple, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_markdown_cell(str(cell)) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def sections(report) -> list[tuple[str, tuple, list]]:
    """(title, header, rows) for every part of a demo or scan report (by account and region for an org scan)."""
    parts = []
    if hasattr(report, "groups"):
        parts.append(("By account and region", GROUP_COLUMNS, group_rows(report)))
        if report.failures:
            rows = [(f.account, f.region, f.reason) for f in report.failures]
            parts.append(("Accounts and regions not scanned", ("Account", "Region", "Reason"), rows))
    parts.append(
        ("Before remediation" if report.after else "Compliance", columns(report.before), result_rows(report.before))
    )
    if report.remediations:
        rows = [(r.resource_id, r.document, r.plan, f"{r.status}: {r.message}") for r in report.remediations]
        parts.append(("Remediations", ("Resource", "Document", "Plan", "Result"), rows))
    if report.after:
        parts.append(("After remediation", COLUMNS, result_rows(report.after)))
    before, after = counts(report.before), counts(report.after)
    rows = [(verdict, before[verdict], after.get(verdict, 0) if report.after else "-") for verdict in before]
    parts.append(("Summary", ("Verdict", "Before", "After"), rows))
    return parts


def to_markdown(report, title: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [f"# {title}", "", f"Pack `{report.pack}`, generated {stamp}.", ""]
    for heading, header, rows in sections(report):
        text += [f"## {heading}", "", markdown_table(header, rows), ""]
    return "\n".join(text)


CSS = (
    "body{font-family:system-ui,sans-serif;margin:2rem;color:#1d2433}table{border-collapse:collapse;width:100%;"
    "margin-bottom:2rem}th,td{border:1px solid #d0d5dd;padding:.35rem .5rem;text-align:left;vertical-align:top;"
    "font-size:.9rem}th{background:#f2f4f7}.NON_COMPLIANT,.FAILED{color:#b42318;font-weight:600}"
    ".COMPLIANT,.CHANGED{color:#067647}.NOT_APPLICABLE{color:#667085}.ERROR{color:#b54708;font-weight:600}"
)


def _html_cell(value) -> str:
    text = html.escape(str(value))
    word = str(value).split(":")[0]
    return (
        f'<td class="{html.escape(word)}">{text}</td>'
        if word in STYLES or word in ("FAILED", "CHANGED")
        else f"<td>{text}</td>"
    )


def to_html(report, title: str) -> str:
    body = [f"<h1>{html.escape(title)}</h1>", f"<p>Pack <code>{html.escape(report.pack)}</code></p>"]
    for heading, header, rows in sections(report):
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        cells = "".join("<tr>" + "".join(_html_cell(c) for c in row) + "</tr>" for row in rows)
        body.append(
            f"<h2>{html.escape(heading)}</h2><table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>"
        )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def to_json(report, title: str) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


def to_junit(report, title: str) -> str:
    """JUnit XML as CI readers take it: a suite per rule, a case per evaluation; NON_COMPLIANT is a failure,
    ERROR an error, NOT_APPLICABLE skipped. Results before remediation (a scan's only results)."""
    suites = ElementTree.Element("testsuites", name=title)
    by_rule: dict[str, list[Result]] = {}
    for result in report.before:
        by_rule.setdefault(result.rule, []).append(result)
    totals = Counter()
    for rule, results in by_rule.items():
        tally = Counter(r.compliance for r in results)
        counts_ = {"tests": len(results), "failures": tally["NON_COMPLIANT"], "errors": tally["ERROR"]}
        counts_["skipped"] = tally["NOT_APPLICABLE"]
        totals.update(counts_)
        suite = ElementTree.SubElement(suites, "testsuite", name=rule, **{k: str(v) for k, v in counts_.items()})
        for result in results:
            where = f" ({result.account} {result.region})" if result.account else ""
            name = CONTROL.sub("", f"{result.resource_type} {result.resource_id}{where}")
            case = ElementTree.SubElement(suite, "testcase", classname=rule, name=name)
            outcome = {"NON_COMPLIANT": "failure", "ERROR": "error", "NOT_APPLICABLE": "skipped"}.get(result.compliance)
            if outcome:
                ElementTree.SubElement(
                    case, outcome, message=CONTROL.sub("", result.annotation), type=result.compliance
                )
    for key in ("tests", "failures", "errors", "skipped"):
        suites.set(key, str(totals[key]))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(suites, encoding="unicode") + "\n"


SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def to_sarif(report, title: str) -> str:
    """SARIF 2.1.0 for code scanning: a rule per guardrail, a result per NON_COMPLIANT evaluation, located
    logically at the resource (account/region/type/id) and physically at rdk-config.json, which chose the values."""
    names = sorted({r.rule for r in report.before} | set(getattr(report, "descriptions", {})))
    descriptions = getattr(report, "descriptions", {})
    rules = [
        {
            "id": name,
            "name": "".join(part.capitalize() for part in name.split("_")),
            "shortDescription": {"text": descriptions.get(name, name)[:1000]},
            "fullDescription": {"text": descriptions.get(name, name)},
            "help": {"text": f"{descriptions.get(name, name)} See README.md, section {name}."},
            "defaultConfiguration": {"level": "warning"},
        }
        for name in names
    ]
    results = []
    for result in report.before:
        if result.compliance != "NON_COMPLIANT":
            continue
        place = "/".join(
            part for part in (result.account, result.region, result.resource_type, result.resource_id) if part
        )
        results.append(
            {
                "ruleId": result.rule,
                "ruleIndex": names.index(result.rule),
                "level": "warning",
                "message": {"text": result.annotation or result.rule},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": "rdk-config.json"},
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [
                            {"name": result.resource_id, "fullyQualifiedName": place, "kind": "resource"}
                        ],
                    }
                ],
                "partialFingerprints": {
                    "rdkpackResource/v1": hashlib.sha256(f"{result.rule}|{place}".encode()).hexdigest()
                },
            }
        )
    run = {
        "tool": {"driver": {"name": "rdkpack", "informationUri": "https://github.com/rdk-guardrails", "rules": rules}},
        "automationDetails": {"id": f"{report.pack}/"},
        "results": results,
    }
    return json.dumps({"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"


RENDERERS = {
    ".md": to_markdown,
    ".html": to_html,
    ".htm": to_html,
    ".json": to_json,
    ".xml": to_junit,
    ".sarif": to_sarif,
}


def renderer(path: Path):
    """The renderer for a report path, by suffix; a ScanError lists the accepted suffixes."""
    render = RENDERERS.get(path.suffix.lower())
    if render is None:
        accepted = ", ".join(RENDERERS)
        raise ScanError(f"--report {path}: unknown suffix {path.suffix or '(none)'!r}; use one of {accepted}")
    return render


def check_report_path(path: Path) -> None:
    """Fail before a scan, not after it, when its report could not be written."""
    if path.is_dir():
        raise ScanError(f"--report {path}: is a folder; give a file path such as {path / 'scan.md'}")
    renderer(path)
    folder = path.parent
    while not folder.exists():  # the report writer creates missing folders
        folder = folder.parent
    if not folder.is_dir():
        raise ScanError(f"--report {path}: {folder} is a file, not a folder; choose another path")
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise ScanError(f"--report {path}: {target} is not writable; choose another path or fix its permissions")
