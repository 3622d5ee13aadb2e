"""Rows shared by every rendering: results ordered for reading, and an organization's per-account groups."""

from __future__ import annotations

import unicodedata

from rdkpack.account.scan import Result, counts

# Characters that act on text instead of showing as themselves: controls (Cc), format characters (Cf: the bidi
# marks, embeddings, overrides and isolates, zero-width characters, the byte-order mark, tag characters), lone
# surrogates (Cs) and line and paragraph separators (Zl, Zp).
UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
# Kept as they are: each report format lays out a tab and a line break itself.
LAYOUT_CONTROLS = frozenset("\t\n")
NONCHARACTERS = frozenset("\ufffe\uffff")  # never text; XML 1.0 forbids them
VERDICTS = ("COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE", "ERROR")
COLUMNS = ("Resource", "Rule", "Verdict", "Annotation")
TARGET_COLUMNS = ("Account", "Region")


def printable(value) -> str:
    """Resource-derived text with control, bidi and other invisible characters (U+202E would show an id reversed)
    as escapes (`\\x07`, `\\u202e`), never sent raw. Every report format's escaping starts here."""
    text = str(value)
    if text.isprintable():  # nearly every id and annotation: no per-character pass
        return text
    return "".join(char.encode("unicode_escape").decode() if is_unprintable(char) else char for char in text)


def is_unprintable(char: str) -> bool:
    if char in LAYOUT_CONTROLS:
        return False
    return unicodedata.category(char) in UNPRINTABLE_CATEGORIES or char in NONCHARACTERS


def rule_counts(results: list[Result], rules=()) -> dict[str, dict[str, int]]:
    """Per rule (the given ones too, even without results), evaluations per verdict: all four, zeros included."""
    tally = {rule: dict.fromkeys(VERDICTS, 0) for rule in rules}
    for result in results:
        per_rule = tally.setdefault(result.rule, dict.fromkeys(VERDICTS, 0))
        per_rule[result.compliance] = per_rule.get(result.compliance, 0) + 1
    return dict(sorted(tally.items()))


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
