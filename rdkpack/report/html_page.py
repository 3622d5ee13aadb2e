"""A self-contained HTML page: no external assets, works offline."""

from __future__ import annotations

import html

from rdkpack.report.rows import sections
from rdkpack.report.terminal import STYLES

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
