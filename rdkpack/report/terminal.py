"""The terminal: rich tables. Resource-derived cells are rich Text objects, never markup, so a lifecycle
rule ID such as `[/]` prints literally, and control characters are shown as escapes, never sent raw."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from rdkpack.account.scan import Result, counts
from rdkpack.report.rows import GROUP_COLUMNS, TARGET_COLUMNS, columns, group_rows, printable, result_rows

TERMINAL_ROWS = 50  # rows a terminal table shows before it says how many more there are
STYLES = {"COMPLIANT": "green", "NON_COMPLIANT": "bold red", "NOT_APPLICABLE": "dim", "ERROR": "bold magenta"}


def more(console: Console, count: int, what: str) -> None:
    if count > TERMINAL_ROWS:
        console.print(
            Text(
                f"... and {count - TERMINAL_ROWS:,} more {what}: write them all with --output FILE "
                "(.html, .md, .sarif, .xml, .json or .jsonl)",
                style="dim",
            )
        )


def literal(value) -> Text:
    """Resource-derived text for the terminal: no markup, control characters shown as escapes."""
    return Text(printable(value))


def results_table(title: str, results: list[Result]) -> Table:
    table = Table(title=title, show_lines=False, expand=True)
    for column in columns(results):
        table.add_column(column, overflow="fold", ratio=3 if column == "Annotation" else 1)
    for *lead, verdict, annotation in result_rows(results):
        cells = [literal(cell) for cell in lead]
        table.add_row(*cells, Text(verdict, style=STYLES.get(verdict, "")), literal(annotation))
    return table


def print_org(console: Console, report) -> None:
    """The organization at a glance. A terminal cannot show 300 accounts x 4 regions usefully (and rich would take
    a minute to lay out their rows): past TERMINAL_ROWS rows a table says how many more there are, and where the
    whole scan is (every --output format holds every row)."""
    table = Table(title=f"Compliance by account and region (items from {escape(report.source)})")
    for column in GROUP_COLUMNS:
        table.add_column(column, justify="right" if column not in TARGET_COLUMNS else "left")
    *rows, totals = group_rows(report)
    for row in [*rows[:TERMINAL_ROWS], totals]:
        table.add_row(*(literal(cell) for cell in row))
    console.print(table)
    more(console, len(rows), "account/region rows")
    attention = [r for r in report.before if r.compliance in ("NON_COMPLIANT", "ERROR")]
    title = f"Needing attention ({len(attention)} of {len(report.before)})"
    console.print(results_table(title, attention[:TERMINAL_ROWS]))
    more(console, len(attention), "rows needing attention")
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


def print_rollout_status(console: Console, status) -> None:
    """`rdkpack status --org`: a count table per component, then each account and region not in sync."""
    table = Table(title=f"Organization {escape(status.organization)}: {status.accounts} active account(s)")
    for column in ("Component", "Kind", "Expected", "In sync", "Not in sync", "Drift"):
        table.add_column(column, justify="right" if column in ("Expected", "In sync", "Not in sync") else "left")
    for row in status.rows:
        drift = "; ".join(row.drift) or "none"
        table.add_row(
            literal(row.component),
            row.kind,
            str(row.expected),
            str(row.in_sync),
            Text(str(row.expected - row.in_sync), style="bold red" if row.expected > row.in_sync else ""),
            literal(drift),
        )
    console.print(table)
    for gap in status.gaps:
        console.print(literal(gap.line()))
    console.print(
        "in sync"
        if status.in_sync
        else f"not in sync: {len(status.gaps)} account/region gap(s)"
        + (", drift" if any(row.drift for row in status.rows) else "")
    )
