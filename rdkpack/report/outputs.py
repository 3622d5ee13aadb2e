"""Report files: each `--output` path with its format, from `--format` or the path's suffix."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from rdkpack.errors import ScanError, UsageError
from rdkpack.report.html_page import to_html
from rdkpack.report.junit import to_junit
from rdkpack.report.markdown import to_markdown
from rdkpack.report.sarif import to_sarif
from rdkpack.report.stream import to_jsonl


def to_json(report, title: str) -> str:
    return json.dumps(report.as_dict(), indent=2) + "\n"


FORMATS = {
    "markdown": to_markdown,
    "html": to_html,
    "json": to_json,
    "junit": to_junit,
    "sarif": to_sarif,
    "jsonl": to_jsonl,
}
SUFFIXES = {
    ".md": "markdown",
    ".html": "html",
    ".htm": "html",
    ".json": "json",
    ".xml": "junit",
    ".sarif": "sarif",
    ".jsonl": "jsonl",
}


STDOUT = "-"  # --output -: the report on standard output (with --format), instead of the terminal's tables


@dataclass(frozen=True)
class Output:
    path: Path
    format: str

    @property
    def to_stdout(self) -> bool:
        return str(self.path) == STDOUT

    def write(self, report, title: str) -> None:
        self.put(FORMATS[self.format](report, title))

    def put(self, text: str) -> None:
        """A rendered report to its file, or to standard output."""
        if self.to_stdout:  # as UTF-8 whatever the console's code page (Windows redirects in cp1252)
            sys.stdout.flush()
            target = getattr(sys.stdout, "buffer", None)
            if target is None:
                sys.stdout.write(text)
            else:
                target.write(text.encode("utf-8"))
                target.flush()
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(text, encoding="utf-8")


def only_formats(outputs: list[Output], formats, command: str) -> None:
    """Before any AWS call: each --output is one of the formats this command writes."""
    for output in outputs:
        if output.format not in formats:
            suffixes = ", ".join(suffix for name in formats for suffix, kind in SUFFIXES.items() if kind == name)
            raise UsageError(
                f"--output {output.path}: {command} writes {', '.join(formats)} ({suffixes}), not {output.format}"
            )


def format_of(path: Path) -> str:
    """The format a path's suffix names; a ScanError lists the suffixes and the --format alternative."""
    name = SUFFIXES.get(path.suffix.lower())
    if name is None:
        accepted = ", ".join(SUFFIXES)
        raise ScanError(
            f"--output {path}: unknown suffix {path.suffix or '(none)'!r}; use one of {accepted}, "
            f"or name the format with --format ({', '.join(FORMATS)})"
        )
    return name


def renderer(path: Path):
    return FORMATS[format_of(path)]


def plan_outputs(paths: list[str], format_name: str | None) -> list[Output]:
    """Every report the run will write, checked before any AWS call: a scan must not end with a report it
    cannot write. `--format` names one file's format, so with several files each is named by its suffix."""
    if format_name and len(paths) > 1:
        raise ScanError(
            f"--format {format_name} with {len(paths)} --output files: --format applies to a single file; "
            "with several, give each a suffix (.sarif, .xml, .json, .jsonl, .html, .md)"
        )
    if format_name and not paths:
        raise ScanError(f"--format {format_name} needs an --output FILE to write")
    if STDOUT in paths and not format_name:
        raise ScanError(
            f"--output {STDOUT} writes to standard output: name its format with --format ({', '.join(FORMATS)})"
        )
    if paths.count(STDOUT) > 1:
        raise ScanError(f"--output {STDOUT} given twice; standard output can take one report")
    outputs, seen = [], set()
    for text in paths:
        if text == STDOUT:
            outputs.append(Output(Path(STDOUT), format_name))
            continue
        path = Path(text)
        check_writable(path)
        if path.resolve() in seen:
            raise ScanError(f"--output {path}: given twice; each report needs its own file")
        seen.add(path.resolve())
        outputs.append(Output(path, format_name or format_of(path)))
    return outputs


def check_writable(path: Path) -> None:
    if path.is_dir():
        raise ScanError(f"--output {path}: is a folder; give a file path such as {path / 'scan.md'}")
    folder = path.parent
    while not folder.exists():  # Output.write creates missing folders
        folder = folder.parent
    if not folder.is_dir():
        raise ScanError(f"--output {path}: {folder} is a file, not a folder; choose another path")
    target = path if path.exists() else folder
    if not os.access(target, os.W_OK):
        raise ScanError(f"--output {path}: {target} is not writable; choose another path or fix its permissions")
