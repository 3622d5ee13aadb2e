"""Inline SVG charts for the HTML report, drawn in Python: no script, no external asset, well-formed XML.

Colours are presentation attributes (`fill`), not `style` attributes, so the page's Content-Security-Policy
allows them and the chart keeps its colours when saved or opened on its own.
"""

from __future__ import annotations

from html import escape

from rdkpack.report.rows import VERDICTS

COLOURS = {"COMPLIANT": "#1a7f37", "NON_COMPLIANT": "#cf222e", "NOT_APPLICABLE": "#c5ccd4", "ERROR": "#8250df"}
INK = {"COMPLIANT": "#ffffff", "NON_COMPLIANT": "#ffffff", "NOT_APPLICABLE": "#1f2328", "ERROR": "#ffffff"}
OTHER = "#6e7781"  # a verdict none of the four names (never expected; drawn rather than lost)
WIDTH = 1100
BAR = 24  # bar height
LABEL = 22  # the rule's name line above its bars
GAP = 16  # between rules
PHASE = 60  # room for "Before"/"After" left of the bars in a demo


def describe(counts: dict[str, int]) -> str:
    """'2 COMPLIANT, 3 NON_COMPLIANT' (zeros left out), or 'no evaluations'."""
    return ", ".join(f"{n} {verdict}" for verdict, n in counts.items() if n) or "no evaluations"


def _segments(counts: dict[str, int], x: float, y: float, width: float, what: str) -> list[str]:
    """One rect per non-zero verdict, widths proportional to the counts, each labelled when the count fits."""
    total = sum(counts.values())
    if not total:
        return [
            f'<rect x="{x:g}" y="{y:g}" width="{width:g}" height="{BAR}" rx="3" fill="#ffffff" stroke="#d1d9e0"/>',
            f'<text x="{x + 8:g}" y="{y + BAR / 2 + 5:g}" fill="#59636e">no applicable resources</text>',
        ]
    parts, done = [], 0
    for verdict, n in counts.items():
        if not n:
            continue
        left = x + round(width * done / total, 2)
        done += n
        span = round(x + round(width * done / total, 2) - left, 2)
        name = escape(verdict)
        share = f"{100 * n / total:.0f}%"
        parts.append(
            f'<rect class="seg" data-verdict="{name}" x="{left:g}" y="{y:g}" width="{span:g}" height="{BAR}" '
            f'fill="{COLOURS.get(verdict, OTHER)}"><title>{escape(what)}: {n} {name} of {total} ({share})</title>'
            "</rect>"
        )
        if span >= 9 * len(str(n)) + 10:
            parts.append(
                f'<text x="{left + span / 2:g}" y="{y + BAR / 2 + 5:g}" text-anchor="middle" '
                f'fill="{INK.get(verdict, "#ffffff")}" font-weight="600" aria-hidden="true">{n}</text>'
            )
    return parts


def rule_chart(per_phase: dict[str, dict[str, dict[str, int]]]) -> str:
    """A horizontal 100% stacked bar per rule (per rule and phase when there are two phases: before/after).

    `per_phase` maps a phase name ("" for a single scan) to rule_counts(). Counts are written inside the
    segments that have room; every segment also has a <title> (a tooltip, and the accessible name).
    """
    phases = list(per_phase)
    rules = sorted({rule for counts in per_phase.values() for rule in counts})
    x0 = PHASE if len(phases) > 1 else 0
    body, summary, y = [], [], 0
    for rule in rules:
        totals = [sum(per_phase[p].get(rule, {}).values()) for p in phases]
        count_text = " → ".join(str(t) for t in totals) if len(phases) > 1 else str(totals[0])
        body.append(f'<text x="0" y="{y + 16}" font-weight="600">{escape(rule)}</text>')
        body.append(f'<text x="{WIDTH}" y="{y + 16}" text-anchor="end" fill="#59636e">{count_text} evaluations</text>')
        y += LABEL
        for phase in phases:
            counts = per_phase[phase].get(rule) or dict.fromkeys(VERDICTS, 0)
            label = f"{rule} {phase.lower()}".strip()
            if len(phases) > 1:
                body.append(f'<text x="0" y="{y + BAR / 2 + 5:g}" fill="#59636e">{escape(phase)}</text>')
            body += _segments(counts, x0, y, WIDTH - x0, label)
            summary.append(f"{label}: {describe(counts)}")
            y += BAR + 4
        y += GAP - 4
    height = max(y - GAP + 4, 1)
    title = "Evaluations per rule and verdict" + (" before and after remediation" if len(phases) > 1 else "")
    return (
        f'<svg id="summary-chart" class="chart" role="img" aria-labelledby="chart-title chart-desc" '
        f'viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif" font-size="14" fill="#1f2328">'
        f'<title id="chart-title">{escape(title)}</title><desc id="chart-desc">{escape("; ".join(summary))}.</desc>'
        f"{''.join(body)}</svg>"
    )


def mini_bar(counts: dict[str, int], width: int = 140, height: int = 12) -> str:
    """A small stacked bar for one table row (an account and region), described by its aria-label."""
    total = sum(counts.values())
    rects, done = [], 0
    for verdict, n in counts.items():
        if not n:
            continue
        left = round(width * done / total, 2)
        done += n
        rects.append(
            f'<rect x="{left:g}" width="{round(width * done / total - left, 2):g}" height="{height}" '
            f'fill="{COLOURS.get(verdict, OTHER)}"/>'
        )
    if not rects:
        rects.append(f'<rect width="{width}" height="{height}" fill="#ffffff" stroke="#d1d9e0"/>')
    return (
        f'<svg class="mini" role="img" aria-label="{escape(describe(counts))}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}">{"".join(rects)}</svg>'
    )
