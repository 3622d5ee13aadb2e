"""Markdown for the generated pages: text from docstrings, documents and help strings made safe to render.

The pages are read on the site (Python-Markdown) and as files in the repository (GitHub's Markdown), so the
helpers keep to what both render the same: backslash escapes, code spans without `|` in tables, `&lt;` for `<`.
"""

from __future__ import annotations

import re

CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
# Characters that would start emphasis, a link or code, or escape the next one; `<` would start raw HTML.
SPECIAL = re.compile(r"([\\`*\[\]])")


def _outside_code(text: str, change) -> str:
    """text with change() applied to everything outside its code spans."""
    parts, last = [], 0
    for match in CODE_SPAN.finditer(text):
        parts += [change(text[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*parts, change(text[last:])])


def plain(text: str) -> str:
    """Text to show as it is written: no character of it is Markdown."""
    return SPECIAL.sub(r"\\\1", str(text)).replace("<", "&lt;")


def cell(text: str) -> str:
    """Plain text for a table cell: on one line, with `|` escaped."""
    return plain(" ".join(str(text).split())).replace("|", "\\|")


def cell_with_code(text: str) -> str:
    """Text for a table cell in which `code spans` stay code (help strings write option values so)."""
    return _outside_code(" ".join(str(text).split()), lambda part: plain(part).replace("|", "\\|"))


def code(text: str) -> str:
    """A code span holding text (longer backtick fences when text holds backticks)."""
    text = str(text)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    padding = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{padding}{text}{padding}{fence}"


BOLD = re.compile(r"\*\*(?=\w)(?P<text>.+?)(?<=[\w.!?:)])\*\*")
BULLET = re.compile(r"\* ")


def _stars_escaped(text: str) -> str:
    """`<` as `&lt;`, and every `*` but those of a `**bold**` span escaped: `prefix '*'` and `'logs/**'` stay stars."""
    parts, last = [], 0
    for match in BOLD.finditer(text):
        parts += [re.sub(r"(?<!\\)\*", r"\\*", text[last : match.start()]), match.group(0)]
        last = match.end()
    return "".join([*parts, re.sub(r"(?<!\\)\*", r"\\*", text[last:])]).replace("<", "&lt;")


def authored(text: str) -> str:
    """Markdown written for the SSM console (a document's description), kept, with what Python-Markdown reads
    otherwise than the console: a list needs a blank line before and after it, and a lone `*` that is no bullet or
    `**bold**` marker (`prefix '*'`) would start emphasis."""
    lines: list[str] = []
    in_list = False
    for line in text.splitlines():
        bullet = BULLET.match(line)
        starts_or_ends_a_list = (bullet and not in_list) or (in_list and not bullet and not line.startswith(" "))
        if starts_or_ends_a_list and line.strip() and lines and lines[-1].strip():
            lines.append("")
        in_list = bool(bullet) or (in_list and line.startswith(" ") and bool(line.strip()))
        head, rest = (line[: bullet.end()], line[bullet.end() :]) if bullet else ("", line)
        lines.append(head + _outside_code(rest, _stars_escaped))
    return "\n".join(lines)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A Markdown table; the cells are Markdown already (see cell and code)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def anchor(title: str) -> str:
    """The id Python-Markdown's toc gives a heading (lowercase, words joined by '-'), for links within the site."""
    slug = re.sub(r"[^\w\s-]", "", title.lower()).strip()
    return re.sub(r"[-\s]+", "-", slug)
