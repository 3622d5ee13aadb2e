"""A self-contained HTML page: a summary with a chart, then the results, filterable and printable.

One file, no external asset (no CDN, font or image by URL), works offline. Every resource-derived string
is escaped (control characters shown as escapes), and a Content-Security-Policy allows only the page's
own stylesheet and script, by their sha256 hashes: resource data cannot add style or script.

What a browser check relies on (scripts/check_report_in_browser.py): `#summary-chart` (the SVG),
`table[data-filterable]` whose body rows carry `data-verdict` and `data-rule`, the form `#filters` with
`select[name=verdict]` and `select[name=rule]`, `#shown` (its `data-shown` is the count of rows shown), and
`document.body.dataset.ready == "true"` once the script has run.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from datetime import UTC, datetime
from html import escape

from rdkpack.account.scan import excess_az_cost
from rdkpack.report.html_assets import CSS, JS
from rdkpack.report.html_chart import mini_bar, rule_chart
from rdkpack.report.rows import GROUP_COLUMNS, VERDICTS, columns, money, printable, result_rows, rule_counts

COLUMN_CLASSES = {"Account": "c-target", "Region": "c-target", "Resource": "c-resource", "Rule": "c-rule"}


def text(value) -> str:
    """Resource-derived text as HTML text or a quoted attribute value: control, bidi and zero-width characters as
    escapes (`printable`), then `&`, `<`, `>` and both quotes as character references."""
    return escape(printable(value), quote=True)


def csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = (
    f"default-src 'none'; style-src {csp_hash(CSS)}; script-src {csp_hash(JS)}; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)


def phases(report) -> dict[str, list]:
    """The results to summarise: before and after remediation for a demo that remediated, else the one scan."""
    return {"Before": report.before, "After": report.after} if report.after else {"": report.before}


def rules_of(report) -> list[str]:
    """Every rule the report covers, those without applicable resources too."""
    named = set(getattr(report, "descriptions", {}) or {})
    return sorted(named | {r.rule for r in report.before} | {r.rule for r in report.after})


def num(n: int, verdict: str = "") -> str:
    kind = "zero" if not n else "hot" if verdict in ("NON_COMPLIANT", "ERROR") else ""
    return f'<td class="num {kind}">{n:,}</td>'


def card(label: str, value: str, note: str = "", kind: str = "") -> str:
    extra = f'<div class="note">{note}</div>' if note else ""
    return f'<div class="card {kind}"><div class="label">{label}</div><div class="value">{value}</div>{extra}</div>'


def cost_text(results) -> str:
    return f"${excess_az_cost(results):,.2f}"


def cards(report) -> str:
    """Key figures: what needs attention first, then the cost of endpoint AZs over the maximum."""
    before, after = Counter(r.compliance for r in report.before), Counter(r.compliance for r in report.after)
    cost_note = "a month for endpoint AZs over MaxAzCount (from the endpoint rule's annotations)"
    if report.after:
        runs = Counter(run.status for run in report.remediations)
        statuses = ", ".join(f"{n} {status}" for status, n in sorted(runs.items()))
        change = "before → after remediation"
        bad, good = "NON_COMPLIANT", "COMPLIANT"
        parts = [
            card(bad, f"{before[bad]:,} → {after[bad]:,}", change, "bad" if after[bad] else "ok"),
            card(good, f"{before[good]:,} → {after[good]:,}", change, "ok"),
            card("Remediations", f"{len(report.remediations):,}", text(statuses)),
            card("Endpoint AZ cost", f"{cost_text(report.before)} → {cost_text(report.after)}", cost_note, "cost"),
        ]
    else:
        total, bad, errors = len(report.before), before["NON_COMPLIANT"], before["ERROR"]
        share = f"{100 * bad / total:.0f}% of evaluations" if total else "no evaluations"
        parts = [
            card("Evaluations", f"{total:,}", f"{len(rules_of(report))} rules"),
            card("NON_COMPLIANT", f"{bad:,}", share, "bad" if bad else "ok"),
            card("ERROR", f"{errors:,}", "resources that could not be read or evaluated", "err" if errors else "ok"),
            card("Endpoint AZ cost", cost_text(report.before), cost_note, "cost"),
        ]
    if hasattr(report, "groups"):
        targets = report.by_target()
        accounts = len({account for account, _ in targets})
        parts.insert(0, card("Accounts", f"{accounts:,}", f"{len(targets):,} account-regions"))
        if report.failures:
            parts.append(card("Not scanned", f"{len(report.failures):,}", "account-regions, see below", "err"))
    return f'<div class="cards">{"".join(parts)}</div>'


def legend(report) -> str:
    """The verdict colours with their totals (before → after for a demo that remediated)."""
    totals = [{v: sum(r.compliance == v for r in results) for v in VERDICTS} for results in phases(report).values()]
    items = "".join(
        f'<li><span class="sw {v}"></span>{v} <b>{" → ".join(f"{t[v]:,}" for t in totals)}</b></li>' for v in VERDICTS
    )
    return f'<ul class="legend" aria-hidden="true">{items}</ul>'


def rule_table(per_phase: dict[str, dict[str, dict[str, int]]]) -> str:
    """Per rule (and per phase for a demo): counts by verdict, all four always shown."""
    two = len(per_phase) > 1
    head = "<th scope='col'>Rule</th>" + ("<th scope='col'>Phase</th>" if two else "")
    head += (
        "".join(f'<th scope="col" class="num">{v}</th>' for v in VERDICTS) + '<th scope="col" class="num">Total</th>'
    )
    rows = []
    for rule in next(iter(per_phase.values())):  # every phase counts the same rules
        for index, (phase, counts) in enumerate(per_phase.items()):
            lead = f'<th scope="row" rowspan="{len(per_phase)}">{text(rule)}</th>' if index == 0 else ""
            phase_cell = f"<td>{phase}</td>" if two else ""
            cells = "".join(num(counts[rule].get(v, 0), v) for v in VERDICTS) + num(sum(counts[rule].values()))
            rows.append(f'<tr data-rule="{text(rule)}" data-phase="{phase.lower()}">{lead}{phase_cell}{cells}</tr>')
    return (
        f'<table id="rule-summary" class="summary"><caption>Evaluations per rule and verdict</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def summary_section(report) -> str:
    per_phase = {phase: rule_counts(results, rules_of(report)) for phase, results in phases(report).items()}
    caption = "Evaluations per rule" + (": before and after remediation" if report.after else "")
    return (
        f'<section id="summary"><h2>Summary</h2>{cards(report)}'
        f"<figure><figcaption>{caption}</figcaption>{legend(report)}{rule_chart(per_phase)}</figure>"
        f"{rule_table(per_phase)}</section>"
    )


def groups_section(report) -> str:
    """An organization's counts and endpoint AZ cost per account and region, then the totals."""
    groups = report.groups()
    failed = {(f.account, f.region) for f in report.failures if not f.rules}  # not those that lost some rules
    head = "<th scope='col'>Account</th><th scope='col'>Region</th><th scope='col'>Verdicts</th>"
    head += "".join(f'<th scope="col" class="num">{c}</th>' for c in (*VERDICTS, GROUP_COLUMNS[-1]))
    rows = []
    for g in groups:
        unscanned = (g["account"], g["region"]) in failed
        bar = "not scanned" if unscanned else mini_bar({v: g["summary"].get(v, 0) for v in VERDICTS})
        cells = "".join(num(g["summary"].get(v, 0), v) for v in VERDICTS)
        rows.append(
            f'<tr{' class="unscanned"' if unscanned else ""} data-account="{text(g["account"])}" '
            f'data-region="{text(g["region"])}"><td>{text(g["account"])}</td><td>{text(g["region"])}</td>'
            f'<td>{bar}</td>{cells}<td class="num">{money(g)}</td></tr>'
        )
    totals = report.totals(groups)
    cells = "".join(num(totals["summary"].get(v, 0), v) for v in VERDICTS)
    foot = (
        f'<tr><th scope="row" colspan="2">all {totals["accounts"]} accounts</th>'
        f"<td>{mini_bar({v: totals['summary'].get(v, 0) for v in VERDICTS})}</td>{cells}"
        f'<td class="num">{money(totals)}</td></tr>'
    )
    parts = [
        '<section id="groups"><h2>By account and region</h2><table id="group-summary" class="groups">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody><tfoot>{foot}</tfoot></table>"
    ]
    if report.failures:
        rows = "".join(
            f"<tr><td>{text(f.account)}</td><td>{text(f.region)}</td><td>{text(f.reason)}</td></tr>"
            for f in report.failures
        )
        parts.append(
            "<h3>Accounts and regions not scanned</h3><table id=\"failures\"><thead><tr><th scope='col'>Account</th>"
            f"<th scope='col'>Region</th><th scope='col'>Reason</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    if report.skipped_rules:
        items = "".join(
            f"<li><code>{text(rule)}</code>: {text(why)}</li>" for rule, why in report.skipped_rules.items()
        )
        parts.append(f'<h3>Rules not evaluated</h3><ul class="notes">{items}</ul>')
    return "".join(parts) + "</section>"


def remediations_section(report) -> str:
    rows = "".join(
        f'<tr data-rule="{text(r.rule)}"><td class="id">{text(r.resource_id)}</td><td>{text(r.document)}</td>'
        f'<td>{text(r.plan)}</td><td class="{text(r.status)}">{text(r.status)}</td><td>{text(r.message)}</td></tr>'
        for r in report.remediations
    )
    head = "".join(f"<th scope='col'>{c}</th>" for c in ("Resource", "Document", "Plan (DryRun)", "Status", "Result"))
    return (
        '<section id="remediations"><h2>Remediations</h2><table id="remediation-runs" class="runs">'
        "<caption>Each NON_COMPLIANT result's paired remediation: its DryRun plan, then the real run</caption>"
        '<colgroup><col class="c-resource"><col class="c-document"><col><col class="c-status"><col></colgroup>'
        f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></section>"
    )


def results_table(results, table_id: str, label: str, caption: bool) -> str:
    header = columns(results)
    cols = "".join(f'<col class="{COLUMN_CLASSES.get(c, "c-verdict" if c == "Verdict" else "")}">' for c in header)
    head = "".join(f'<th scope="col">{c}</th>' for c in header)
    body = []
    for row in result_rows(results):
        *lead, resource, rule, verdict, annotation = (text(cell) for cell in row)
        cells = "".join(f"<td>{cell}</td>" for cell in lead)
        body.append(
            f'<tr data-verdict="{verdict}" data-rule="{rule}">{cells}<td class="id">{resource}</td><td>{rule}</td>'
            f'<td class="{verdict}">{verdict}</td><td>{annotation}</td></tr>'
        )
    if not body:
        body.append(f'<tr><td colspan="{len(header)}" class="empty">No results.</td></tr>')
    return (
        f'<table id="{table_id}" class="results" data-filterable aria-label="{label}">'
        + (f'<caption><span class="count">{len(results):,} results</span></caption>' if caption else "")
        + f"<colgroup>{cols}</colgroup>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def filters(report) -> str:
    everything = report.before + report.after
    verdicts = [*VERDICTS, *sorted({r.compliance for r in everything} - set(VERDICTS))]
    verdict_options = "".join(f'<option value="{text(v)}">{text(v)}</option>' for v in verdicts)
    rule_options = "".join(f'<option value="{text(r)}">{text(r)}</option>' for r in rules_of(report))
    return (
        '<form id="filters" class="filters" role="search" aria-label="Filter the results" hidden>'
        f'<label>Verdict<select id="filter-verdict" name="verdict"><option value="">All verdicts</option>'
        f"{verdict_options}</select></label>"
        f'<label>Rule<select id="filter-rule" name="rule"><option value="">All rules</option>{rule_options}'
        "</select></label>"
        '<label>Text<input id="filter-text" name="q" type="search" placeholder="resource, account or annotation" '
        'autocomplete="off"></label><button type="reset">Show all</button></form>'
    )


def results_section(report) -> str:
    total = len(report.before) + len(report.after)
    parts = [
        f'<section id="results"><h2>Results</h2>{filters(report)}'
        f'<p id="shown" class="shown" aria-live="polite" data-shown="{total}" data-total="{total}">'
        f"{total:,} results</p>"
    ]
    if report.after:
        parts.append('<h3 id="before">Before remediation</h3>')
        parts.append(results_table(report.before, "results-before", "Results before remediation", caption=True))
        parts.append('<h3 id="after">After remediation</h3>')
        parts.append(results_table(report.after, "results-after", "Results after remediation", caption=True))
    else:
        parts.append(results_table(report.before, "results-table", "Results", caption=False))
    return "".join(parts) + "</section>"


def header(report, title: str) -> str:
    facts = [f"Pack <code>{text(report.pack)}</code>"]
    if hasattr(report, "source"):
        facts.append(f"items from {text(report.source)}")
    if hasattr(report, "scale"):
        facts.append(f"{report.resources} seeded resources (scale {report.scale}), finished in {report.seconds:.1f} s")
    facts.append(f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    links = [("summary", "Summary")]
    links += [("groups", "By account and region")] if hasattr(report, "groups") else []
    links += [("remediations", "Remediations")] if report.remediations else []
    links += [("results", "Results")]
    nav = "".join(f'<a href="#{anchor}">{name}</a>' for anchor, name in links)
    return f'<header><h1>{text(title)}</h1><p class="meta">{" · ".join(facts)}</p><nav>{nav}</nav></header>'


def to_html(report, title: str) -> str:
    parts = [header(report, title), summary_section(report)]
    if hasattr(report, "groups"):
        parts.append(groups_section(report))
    if report.remediations:
        parts.append(remediations_section(report))
    parts.append(results_section(report))
    parts.append("<footer>Generated by rdkpack. One self-contained file: nothing is loaded from elsewhere.</footer>")
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{text(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(parts)}</main><script>{JS}</script></body></html>\n"
    )
