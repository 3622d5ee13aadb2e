"""Markdown: a heading and a table per report section."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from rdkpack.report.rows import sections


def _markdown_cell(text: str) -> str:
    """A table cell: pipes escaped, and HTML escaped so resource data cannot add markup to a rendered page."""
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", " ")


def markdown_table(header: tuple, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_markdown_cell(str(cell)) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(report, title: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [f"# {title}", "", f"Pack `{report.pack}`, generated {stamp}.", ""]
    for heading, header, rows in sections(report):
        text += [f"## {heading}", "", markdown_table(header, rows), ""]
    return "\n".join(text)
