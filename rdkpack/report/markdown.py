"""Markdown: a heading and a table per report section."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from rdkpack.report.rows import printable, sections

# What GitHub-flavoured Markdown acts on inside a table cell, each escaped with a backslash (CommonMark shows an
# escaped ASCII punctuation character as itself):
# - anywhere: the escape itself, code spans, emphasis, links and images, cell breaks, strikethrough, GitHub
#   math, email autolinks and @mentions;
# - an underscore run only where a letter or digit is not on both sides: CommonMark's intraword rule means
#   S3_LIFECYCLE_CHECK emphasises nothing and stays readable;
# - the colon of `://` and the dot of `www.`, which start a bare-URL autolink.
# `<`, `>` and `&` become character references instead (no HTML, angle autolink or entity survives).
MARKDOWN_ACTIVE = re.compile(r"[\\`*\[\]|~$@]|\b_+|_+\b|:(?=//)|(?<=www)\.", re.IGNORECASE)


def markdown_text(value) -> str:
    """Resource-derived text as a table cell shows it literally: invisible characters as escapes (`printable`),
    a line break as a space, and every character Markdown would act on escaped."""
    text = html.escape(printable(value).replace("\n", " "), quote=False)
    return MARKDOWN_ACTIVE.sub(lambda match: "".join(f"\\{char}" for char in match.group()), text)


def markdown_table(header: tuple, rows) -> str:
    lines = ["| " + " | ".join(markdown_text(cell) for cell in header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def to_markdown(report, title: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = [f"# {markdown_text(title)}", "", f"Pack `{report.pack}`, generated {stamp}.", ""]
    for heading, header, rows in sections(report):
        text += [f"## {heading}", "", markdown_table(header, rows), ""]
    return "\n".join(text)
