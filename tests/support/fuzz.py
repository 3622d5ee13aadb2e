"""Mutations of project files as hypothesis strategies, and one in-process run of the CLI with its outcome.

A mutation is the bytes a user's editor, a bad merge or a typo could leave in a file: another encoding, a
truncation, a line of YAML or JSON junk, or (for a file that parses) one value of the wrong type, out of range or
huge, an unknown key, or a key deleted. Each carries a short description, so a failure says which input caused it.
"""

from __future__ import annotations

import codecs
import contextlib
import io
import json
import math
import traceback
from dataclasses import dataclass
from pathlib import Path

import yaml
from hypothesis import example
from hypothesis import strategies as st

from rdkpack.cli import main
from tests.support.project import ROOT

# Placeholders a structural mutation puts in a value, replaced in the serialized text by what no serializer writes:
# nesting far beyond the parsers' recursion limit, and an integer longer than Python converts (4,300 digits).
DEEP = "__FUZZ_DEEP__"
HUGE_INTEGER = "__FUZZ_HUGE_INTEGER__"
HUGE_INTEGER_TEXT = "1" + "0" * 5_000
# libyaml's composer recurses in C: some 30,000 levels overflow the stack and kill the process (see
# test_fuzz_inputs.py's subprocess test), so in-process YAML nests less deep, still 5 times Python's recursion limit.
JSON_DEPTH, YAML_DEPTH = 100_000, 5_000

WRONG_VALUES = (
    "abc",
    "",
    "(",  # no regular expression, no JSON
    -1,
    0,
    1e3,
    10**30,
    math.inf,
    math.nan,
    None,
    True,
    [],
    {},
    "x" * 100_000,
    DEEP,
    HUGE_INTEGER,
)
UNKNOWN_KEYS = ("unknownKey", "", "x" * 1_000)
JUNK_LINES = (
    ": : [",
    "{",
    "]",
    "}",
    "[",
    "\tindented: by a tab",
    "- - -",
    "*undefined_alias",
    '"unterminated',
    "key: value: more",
    ",",
    "x" * 100_000,
)
NON_ASCII = "éñß°µ"


@dataclass(frozen=True)
class Mutation:
    path: str  # relative to the project root, with forward slashes
    what: str  # what was done, short enough to read in a failure
    data: bytes  # the file's new content

    def __repr__(self) -> str:
        return f"{self.path}: {self.what} ({len(self.data):,} bytes)"


def shown(value, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 20]}...({len(text):,} chars)"


# ---- text-level mutations: any file ----


def encodings(text: str) -> st.SearchStrategy[tuple[str, bytes]]:
    latin1 = st.tuples(st.integers(0, len(text)), st.sampled_from(NON_ASCII)).map(
        lambda at: (
            f"Latin-1 with {at[1]!r} at character {at[0]}",
            (text[: at[0]] + at[1] + text[at[0] :]).encode("latin-1", errors="replace"),
        )
    )
    whole = (
        ("UTF-16 with a byte-order mark", text.encode("utf-16")),
        ("UTF-16-LE without a byte-order mark", text.encode("utf-16-le")),
        ("UTF-16-BE without a byte-order mark", text.encode("utf-16-be")),
        ("UTF-32 with a byte-order mark", text.encode("utf-32")),
        ("UTF-8 with a byte-order mark", codecs.BOM_UTF8 + text.encode("utf-8")),
    )
    return st.sampled_from(whole) | latin1


def truncations(data: bytes) -> st.SearchStrategy[tuple[str, bytes]]:
    return st.integers(0, len(data) - 1).map(lambda size: (f"truncated to {size} bytes", data[:size]))


def junk(text: str) -> st.SearchStrategy[tuple[str, bytes]]:
    """A junk line appended, or inserted before a line."""
    lines = text.splitlines(keepends=True)

    def insert(choice: tuple[str, int]) -> tuple[str, bytes]:
        line, at = choice
        where = "appended" if at == len(lines) else f"inserted before line {at + 1}"
        new = [*lines[:at], line + "\n", *lines[at:]] if at < len(lines) else [*lines, "\n", line, "\n"]
        return f"{shown(line)} {where}", "".join(new).encode("utf-8")

    return st.tuples(st.sampled_from(JUNK_LINES), st.integers(0, len(lines))).map(insert)


def text_mutations(data: bytes) -> st.SearchStrategy[tuple[str, bytes]]:
    text = data.decode("utf-8")
    return encodings(text) | truncations(data) | junk(text)


# ---- structural mutations: a file that parses as JSON or YAML ----


def nodes(value, path: tuple = ()):
    """(path, value) of every node, the root's path being ()."""
    yield path, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from nodes(child, (*path, index))


def changed(value, path: tuple, change):
    """value with the node at path replaced by change(node); containers copied along the path only."""
    if not path:
        return change(value)
    head, rest = path[0], path[1:]
    copy = dict(value) if isinstance(value, dict) else list(value)
    copy[head] = changed(value[head], rest, change)
    return copy


def without(value, path: tuple):
    parent_path, last = path[:-1], path[-1]

    def drop(parent):
        copy = dict(parent) if isinstance(parent, dict) else list(parent)
        del copy[last]
        return copy

    return changed(value, parent_path, drop)


def dump_json(value) -> str:
    text = json.dumps(value, indent=2)  # NaN and Infinity as Python's json writes (and reads) them
    return text.replace(f'"{DEEP}"', "[" * JSON_DEPTH + "]" * JSON_DEPTH).replace(
        f'"{HUGE_INTEGER}"', HUGE_INTEGER_TEXT
    )


def dump_yaml(value) -> str:
    text = yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=120)
    return text.replace(DEEP, "[" * YAML_DEPTH + "]" * YAML_DEPTH).replace(HUGE_INTEGER, HUGE_INTEGER_TEXT)


def at_any_depth(paths: list[tuple]) -> st.SearchStrategy[tuple]:
    """A path, its depth drawn first: a top-level key is as likely as one of the many leaves."""
    by_depth: dict[int, list[tuple]] = {}
    for path in paths:
        by_depth.setdefault(len(path), []).append(path)
    return st.sampled_from(sorted(by_depth)).flatmap(lambda depth: st.sampled_from(by_depth[depth]))


@st.composite
def structural(draw, parsed, dump) -> tuple[str, bytes]:
    """One value replaced by a wrong one (at any depth, the root too), an unknown key added, or a key deleted."""
    every = [path for path, _ in nodes(parsed)]
    mappings = [path for path, node in nodes(parsed) if isinstance(node, dict)]
    operation = draw(st.sampled_from(("replace", "add", "delete") if len(every) > 1 else ("replace", "add")))
    if operation == "replace":
        path, value = draw(at_any_depth(every)), draw(st.sampled_from(WRONG_VALUES))
        new, what = changed(parsed, path, lambda _: value), f"{'/'.join(map(str, path)) or '(root)'} = {shown(value)}"
    elif operation == "add" and mappings:
        path, key = draw(at_any_depth(mappings)), draw(st.sampled_from(UNKNOWN_KEYS))
        value = draw(st.sampled_from(WRONG_VALUES))
        new = changed(parsed, path, lambda node: {**node, key: value})
        what = f"{'/'.join(map(str, path)) or '(root)'}: unknown key {shown(key)} = {shown(value)}"
    else:
        path = draw(at_any_depth([path for path in every if path]))
        new, what = without(parsed, path), f"{'/'.join(map(str, path))} deleted"
    return what, dump(new).encode("utf-8")


def mutations(relative: str, data: bytes) -> st.SearchStrategy[Mutation]:
    """Every kind of mutation of one file: structural ones too when it is JSON or YAML that parses."""
    strategy = text_mutations(data)
    suffix = Path(relative).suffix
    if suffix == ".json":
        strategy = strategy | structural(json.loads(data), dump_json)
    elif suffix == ".yaml":
        strategy = strategy | structural(yaml.safe_load(data), dump_yaml)
    return strategy.filter(lambda mutation: mutation[1] != data).map(lambda mutation: Mutation(relative, *mutation))


# ---- mutations that once failed, as hypothesis examples ----


def explicit(path: str, what: str, change) -> Mutation:
    """The project's file at path parsed, changed by change(parsed), and written back as JSON or YAML."""
    data = (ROOT / path).read_bytes()
    if path.endswith(".json"):
        return Mutation(path, what, dump_json(change(json.loads(data))).encode("utf-8"))
    return Mutation(path, what, dump_yaml(change(yaml.safe_load(data))).encode("utf-8"))


def at(keys: tuple, change):
    return lambda parsed: changed(parsed, keys, change)


def in_first(kind: str, keys: tuple, value):
    """Set keys under the first resource of that type in a template."""

    def change(template: dict) -> dict:
        name = next(name for name, resource in template["Resources"].items() if resource["Type"] == kind)
        return changed(template, ("Resources", name, *keys), lambda _: value)

    return change


def with_examples(found: list[Mutation]):
    """@example(mutation=...) for each of found, in order."""

    def decorate(test):
        for mutation in reversed(found):
            test = example(mutation=mutation)(test)
        return test

    return decorate


# ---- one run of the CLI ----


class ReachedAws(BaseException):
    """Raised in place of an AWS call: the command accepted its arguments. A BaseException, so no `except
    Exception` in the code under test can take it for a failure of its own."""


@dataclass(frozen=True)
class Run:
    argv: tuple[str, ...]
    code: int | None  # None: raised (see raised) or reached AWS
    out: str
    err: str
    raised: str | None = None  # the traceback of an exception that escaped main
    reached_aws: str | None = None  # the operation the run would have called

    def __str__(self) -> str:
        argv = " ".join(shown(part, 80) if len(part) > 80 else part for part in self.argv)
        outcome = f"exit {self.code}" if self.raised is None else "raised"
        text = f"rdkpack {argv}: {outcome}\n  stderr: {shown(self.err, 600)}\n  stdout tail: {shown(self.out[-300:])}"
        if self.raised:
            text += f"\n  traceback (rdkpack's frames and the last):\n{short_traceback(self.raised)}"
        return text


def short_traceback(text: str) -> str:
    """The frames in rdkpack/ (where a fix goes), the innermost frame and the exception."""
    lines = text.splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith('  File "')]
    ours = [i for i in frames if "/rdkpack/" in lines[i]]
    keep = sorted({*ours, *(i + 1 for i in ours), *range(frames[-1] if frames else 0, len(lines))})
    return "\n".join(lines[i] for i in keep if i < len(lines))


def run_cli(argv: list[str]) -> Run:
    """main(argv) with stdout and stderr captured; an exception escaping main is kept with its traceback."""
    out, err = io.StringIO(), io.StringIO()
    code = raised = reached = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except KeyboardInterrupt:
            raise
        except ReachedAws as call:
            reached = str(call)
        except BaseException:  # SystemExit included: main returns its exit code, it never exits
            raised = traceback.format_exc()
    return Run(tuple(argv), code, out.getvalue(), err.getvalue(), raised, reached)
