"""Project files as text, JSON or YAML: UTF-8 only, and one error naming the file and the place for anything else.

A file a user edits by hand can come back in another encoding (Windows editors may save UTF-16, with a
byte-order mark), with a stray Latin-1 byte, or with a syntax error. Every command reads project files
through here, so each of those ends in one line that names the file, where in it, and what to do, never in
a UnicodeDecodeError or a parser's traceback.
"""

from __future__ import annotations

import codecs
import json
import re
from pathlib import Path

import yaml

from rdkpack.errors import FileError

# UTF-32's marks start with UTF-16's: look for them first.
BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def read_text(path: Path) -> str:
    """The file's text, decoded as UTF-8 (a UTF-8 byte-order mark is accepted and dropped)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError as error:
        raise FileError(str(path), "not found") from error
    except OSError as error:
        raise FileError(str(path), f"cannot be read: {error.strerror or error}") from error
    return decode(data, path)


def decode(data: bytes, path) -> str:
    for mark, encoding in BYTE_ORDER_MARKS:
        if data.startswith(mark):
            raise FileError(str(path), _not_utf8(f"is {encoding} (some Windows editors save that)", encoding, path))
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    if b"\x00" in data[:4096]:
        where = data.index(b"\x00")
        raise FileError(str(path), _not_utf8(f"has a NUL byte at byte {where}: it looks like UTF-16", "UTF-16", path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        found = data[error.start : error.start + 1]
        raise FileError(
            str(path),
            f"byte {error.start} (line {line}) is {found!r}, not UTF-8 (Latin-1 or Windows-1252?): "
            "save the file as UTF-8",
        ) from error
    return text.replace("\r\n", "\n")  # a Windows checkout (core.autocrlf) reads as the committed file


def _not_utf8(what: str, encoding: str, path) -> str:
    return f"{what}; rdkpack reads UTF-8: save it as UTF-8, e.g. `iconv -f {encoding} -t UTF-8 {path}`"


def read_json(path: Path):
    return parse_json(read_text(path), path)


def parse_json(text: str, path):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise FileError(str(path), f"line {error.lineno} column {error.colno}: not valid JSON: {error.msg}") from error
    except RecursionError as error:
        raise FileError(str(path), "nested too deeply to read as JSON") from error
    except ValueError as error:  # a number Python will not convert (over 4,300 digits)
        raise FileError(str(path), f"not valid JSON here: {error}") from error


def nesting(text: str) -> int:
    """How deep [ and { brackets nest (an upper bound: brackets inside quotes count too)."""
    if text.count("[") + text.count("{") <= MAX_NESTING:
        return 0
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(0, depth - 1)
    return deepest


def parse_template(text: str, path, loader=None) -> dict:
    """A CloudFormation template: YAML (or JSON) whose top is a mapping."""
    template = parse_yaml(text, path, loader)
    if not isinstance(template, dict):
        raise FileError(str(path), f"not a template: its top is {type(template).__name__}, not a mapping")
    return template


def read_yaml(path: Path, loader=None):
    return parse_yaml(read_text(path), path, loader)


# libyaml parses nesting by recursion in C: a document nested 100,000 deep crashes the process, not an exception.
# No project file comes near this depth; deeper is refused before any parser sees it.
MAX_NESTING = 500
DEEP_INDENT = re.compile(rf"^ {{{2 * MAX_NESTING},}}\S", re.MULTILINE)


def parse_yaml(text: str, path, loader=None):
    """YAML (CloudFormation's short-form tags too, with their loader); a FileError with line and column."""
    if nesting(text) > MAX_NESTING or DEEP_INDENT.search(text):
        raise FileError(str(path), f"nested more than {MAX_NESTING} levels deep: not a project file")
    try:
        return loader(text) if loader else yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1} column {mark.column + 1}: " if mark else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise FileError(str(path), f"{where}not valid YAML: {problem}") from error
    except RecursionError as error:
        raise FileError(str(path), "nested too deeply to read as YAML") from error
    except (ValueError, OverflowError) as error:  # a scalar YAML resolves but cannot build (a date 2024-13-45)
        raise FileError(str(path), f"not valid YAML here: {error}") from error


def holds(path: Path, wanted: str) -> bool:
    """Whether a generated file on disk is `wanted`, line endings aside (a Windows checkout writes CRLF); a file in
    another encoding is simply not."""
    try:
        return Path(path).read_bytes().replace(b"\r\n", b"\n") == wanted.encode("utf-8")
    except FileNotFoundError:
        return False
    except OSError as error:
        raise FileError(str(path), f"cannot be read: {error.strerror or error}") from error


def sync_generated(wanted: dict[Path, str], existing: set[Path], write: bool) -> list[Path]:
    """Generated files that are missing, different, or no longer generated (in `existing` but not wanted); written
    or removed when write is set."""
    stale = [path for path, text in wanted.items() if not holds(path, text)]
    leftovers = sorted(existing - set(wanted))
    if write:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(wanted[path], encoding="utf-8")
        for path in leftovers:
            path.unlink()
    return sorted(stale) + leftovers
