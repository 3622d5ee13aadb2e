"""Every request a test sends is held to the constraints AWS enforces and botocore does not check client-side.

botocore validates types, required members and some `min`s, but not `max` lengths, list and map sizes, numeric
ranges, enums or `pattern`s: a request moto or a Stubber accepts may be one AWS refuses. `violations()` walks an
operation's input shape and reports each broken constraint by path (`CreateStackSet.TemplateBody`); DOCUMENTED_LIMITS
adds limits AWS documents and the models lack. `check_every_request()` (called by tests/conftest.py) runs the check on
every botocore client the test process creates, before botocore's own validation, and raises RequestConstraintError.

Model patterns are Java regular expressions that must match the whole value. `java_regex()` translates them to
Python's `re` (Unicode properties become explicit ranges, Java's ASCII-only \\w \\d \\s become re.ASCII, surrogate
pairs become code points, ...); a pattern it cannot translate, or that `re` cannot compile, is skipped and recorded in
SKIPPED_PATTERNS. Where the translation is looser than Java (`.` also matches \\r, \\u0085, \\u2028 and \\u2029;
\\p{IsAlphabetic} takes every mark), a check can only pass more values, never fewer.

Not reached: clients in subprocesses (`rdk deploy` and the CLI against moto_server) and pure-Python fakes that are no
botocore client (tests/robustness/test_rule_properties.py); a fake can call `violations()` itself.
"""

from __future__ import annotations

import decimal
import json
import re
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from botocore.client import ClientCreator
from botocore.exceptions import ParamValidationError

# (service, shape name, pattern) for every pattern met that could not be translated or compiled: not checked.
SKIPPED_PATTERNS: set[tuple[str, str, str]] = set()


class RequestConstraintError(ParamValidationError):
    """A request breaks constraints of the service model (or AWS's documented limits) that botocore does not check."""

    fmt = "Parameter validation failed (constraints botocore does not check):\n{report}"


# ---------------------------------------------------------------------------------------------------------------------
# Documented limits the service models lack.


@dataclass(frozen=True)
class DocumentedLimit:
    """A limit from AWS's documentation: at `path` ('[]' steps into each list item), `measure` <= `maximum`,
    or (with `forbidden`) a value the operation refuses although the shape's enum lists it."""

    path: tuple[str, ...]
    source: str
    measure: str = "bytes"  # bytes (UTF-8), characters, items, or json bytes (compact JSON, UTF-8)
    maximum: int | None = None
    forbidden: frozenset[str] = frozenset()
    applies: Callable[[dict], bool] = lambda params: True


def _size(value, measure: str) -> int | None:
    if measure == "items":
        return len(value) if isinstance(value, (list, tuple, dict)) else None
    if measure == "json bytes":
        return len(json.dumps(value, separators=(",", ":"), default=str).encode()) if isinstance(value, dict) else None
    if not isinstance(value, str):
        return None
    return len(value.encode("utf-8", "surrogatepass")) if measure == "bytes" else len(value)


_TEMPLATE_BODY = DocumentedLimit(
    ("TemplateBody",),
    "CloudFormation quotas: template body size in a request is 51,200 bytes; larger templates go through "
    "TemplateURL (S3, 1 MB; not checkable from the request)",
    maximum=51_200,
)
_PACK_TEMPLATE_BODY = DocumentedLimit(
    ("TemplateBody",),
    "AWS Config: a conformance pack's TemplateBody is at most 51,200 bytes (the model's max counts characters)",
    maximum=51_200,
)
_INSUFFICIENT_DATA = "AWS Config accepts only COMPLIANT, NON_COMPLIANT and NOT_APPLICABLE in an evaluation"

# (service name, operation) -> limits. Already in botocore 1.44's models, so not repeated here: PutEvaluations <= 100
# evaluations, Annotation <= 256, ConfigRuleName <= 128, InputParameters <= 1,024, OrganizationConformancePackName
# <= 128 and ConformancePackName <= 256 (with their pattern), the remediation limits, PolicyText <= 10,000,
# BatchImportFindings <= 100 findings. Not checkable per request: Lambda AddPermission (the 20 KB resource policy is
# cumulative) and templates behind TemplateURL / TemplateS3Uri.
DOCUMENTED_LIMITS: dict[tuple[str, str], tuple[DocumentedLimit, ...]] = {
    **{
        ("cloudformation", operation): (_TEMPLATE_BODY,)
        for operation in (
            "CreateStack",
            "UpdateStack",
            "CreateStackSet",
            "UpdateStackSet",
            "ValidateTemplate",
            "CreateChangeSet",
            "EstimateTemplateCost",
            "GetTemplateSummary",
        )
    },
    ("config", "PutConformancePack"): (_PACK_TEMPLATE_BODY,),
    ("config", "PutOrganizationConformancePack"): (_PACK_TEMPLATE_BODY,),
    ("config", "PutEvaluations"): (
        DocumentedLimit(
            ("Evaluations", "[]", "ComplianceType"), _INSUFFICIENT_DATA, forbidden=frozenset({"INSUFFICIENT_DATA"})
        ),
    ),
    ("config", "PutExternalEvaluation"): (
        DocumentedLimit(
            ("ExternalEvaluation", "ComplianceType"), _INSUFFICIENT_DATA, forbidden=frozenset({"INSUFFICIENT_DATA"})
        ),
    ),
    **{
        ("ssm", operation): (
            DocumentedLimit(("Content",), "Systems Manager quotas: document content is at most 64 KB", maximum=65_536),
        )
        for operation in ("CreateDocument", "UpdateDocument")
    },
    ("ssm", "PutParameter"): (
        DocumentedLimit(
            ("Value",),
            "Parameter Store: a standard parameter's value is at most 4 KB (Tier absent is taken as Standard)",
            maximum=4_096,
            applies=lambda params: params.get("Tier", "Standard") == "Standard",
        ),
        DocumentedLimit(("Value",), "Parameter Store: an advanced parameter's value is at most 8 KB", maximum=8_192),
    ),
    ("cloudwatch", "GetMetricData"): (
        DocumentedLimit(
            ("MetricDataQueries",),
            "CloudWatch: GetMetricData takes at most 500 MetricDataQuery structures",
            measure="items",
            maximum=500,
        ),
    ),
    ("securityhub", "BatchImportFindings"): (
        DocumentedLimit(
            ("Findings", "[]"), "Security Hub: a finding is at most 240 KB", measure="json bytes", maximum=240 * 1024
        ),
    ),
    ("organizations", "CreatePolicy"): (
        DocumentedLimit(
            ("Content",),
            "Organizations quotas: a service or resource control policy is at most 5,120 characters",
            measure="characters",
            maximum=5_120,
            applies=lambda params: params.get("Type") in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"),
        ),
    ),
}


def _at(value, path: tuple[str, ...], name: str) -> Iterator[tuple[str, object]]:
    if not path:
        yield name, value
    elif path[0] == "[]":
        if isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                yield from _at(item, path[1:], f"{name}[{i}]")
    elif isinstance(value, dict) and path[0] in value:
        yield from _at(value[path[0]], path[1:], f"{name}.{path[0]}")


def _documented_violations(service: str, operation: str, params: dict, already: set[str]) -> Iterator[str]:
    for limit in DOCUMENTED_LIMITS.get((service, operation), ()):
        if not limit.applies(params):
            continue
        for path, value in _at(params, limit.path, operation):
            if path in already:
                continue  # a constraint on it already failed: one message a member
            if limit.forbidden and isinstance(value, str) and value in limit.forbidden:
                already.add(path)
                yield f"{path}: {value!r} is refused ({limit.source})"
            size = _size(value, limit.measure) if limit.maximum is not None else None
            if size is not None and size > limit.maximum:
                already.add(path)
                yield f"{path}: {size:,} {limit.measure}, more than the documented {limit.maximum:,} ({limit.source})"


# ---------------------------------------------------------------------------------------------------------------------
# The model's constraints, compiled once per operation into a tree of checks over the input shape.


class _Node:
    """The constraints of one shape and of the shapes under it (None where nothing under it is constrained)."""

    __slots__ = ("checks", "key", "kind", "members", "value")

    def __init__(self, kind: str):
        self.kind = kind
        self.checks: list[Callable[[object, str], str | None]] = []
        self.members: dict[str, _Node] = {}
        self.key: _Node | None = None
        self.value: _Node | None = None  # list member or map value

    def empty(self) -> bool:
        return not (self.checks or self.members or self.key or self.value)


def _preview(value) -> str:
    text = value if isinstance(value, str) else repr(value)
    return repr(text[:60] + "…") if len(text) > 60 else repr(text)


def _length_checks(shape, unit: str, measure: Callable[[object], int | None]) -> list[Callable]:
    checks = []
    sensitive = shape.metadata.get("sensitive")
    for bound in ("min", "max"):
        if bound not in shape.metadata:
            continue
        limit = shape.metadata[bound]

        def check(value, path, limit=limit, bound=bound):
            size = measure(value)
            if size is None or (size >= limit if bound == "min" else size <= limit):
                return None
            shown = "" if unit in ("items", "entries") or sensitive else f" ({_preview(value)})"
            word = "shorter than" if bound == "min" else "longer than"
            if unit in ("items", "entries"):
                word = "fewer than" if bound == "min" else "more than"
            return f"{path}: {size:,} {unit}{shown}, {word} the model's {bound} {limit:,}"

        checks.append(check)
    return checks


def _range_checks(shape) -> list[Callable]:
    checks = []
    for bound in ("min", "max"):
        if bound not in shape.metadata:
            continue
        limit = shape.metadata[bound]

        def check(value, path, limit=limit, bound=bound):
            if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
                return None  # not a number: botocore reports the type
            if value < limit if bound == "min" else value > limit:
                return f"{path}: {value}, {'below' if bound == 'min' else 'above'} the model's {bound} {limit}"
            return None

        checks.append(check)
    return checks


def _enum_check(shape) -> Callable:
    allowed = frozenset(shape.enum)
    listed = ", ".join(shape.enum[:12]) + (f", … ({len(shape.enum)} values)" if len(shape.enum) > 12 else "")

    def check(value, path):
        if isinstance(value, str) and value not in allowed:
            return f"{path}: {_preview(value)} is not one of the model's enum: {listed}"
        return None

    return check


def _pattern_check(service: str, shape) -> Callable:
    pattern = shape.metadata["pattern"]
    sensitive = shape.metadata.get("sensitive")

    def check(value, path):
        if not isinstance(value, str):
            return None
        compiled = compile_pattern(service, shape.name, pattern)
        if compiled is None or compiled.fullmatch(value):
            return None
        shown = "a sensitive value" if sensitive else _preview(value)
        return f"{path}: {shown} does not match the model's pattern {pattern!r}"

    return check


def _string_length(value) -> int | None:
    return len(value) if isinstance(value, str) else None


def _blob_length(value) -> int | None:
    if isinstance(value, (bytes, bytearray)):
        return len(value)
    return len(value.encode("utf-8", "surrogatepass")) if isinstance(value, str) else None  # files: unknown


def _container_length(value) -> int | None:
    return len(value) if isinstance(value, (list, tuple, dict)) else None


def _scalar_checks(service: str, shape) -> list[Callable]:
    kind = shape.type_name
    if kind == "string":
        checks = _length_checks(shape, "characters", _string_length)
        if shape.enum:
            checks.append(_enum_check(shape))
        if "pattern" in shape.metadata:
            checks.append(_pattern_check(service, shape))
        return checks
    if kind == "blob":
        return _length_checks(shape, "bytes", _blob_length)  # blobs: no pattern
    if kind in ("integer", "long", "double", "float"):
        return _range_checks(shape)
    return []  # boolean, timestamp


def _build(service: str, shape, memo: dict[str, _Node | None]) -> _Node | None:
    """The checks under `shape`, once per shape name (a recursive shape meets its own node while it is filled in)."""
    if shape.name in memo:
        return memo[shape.name]
    node = memo[shape.name] = _Node(shape.type_name)
    if shape.type_name == "structure":
        if shape.is_document_type:
            memo[shape.name] = None
            return None
        for name, member in shape.members.items():
            child = _build(service, member, memo)
            if child is not None:
                node.members[name] = child
    elif shape.type_name == "list":
        node.checks = _length_checks(shape, "items", _container_length)
        node.value = _build(service, shape.member, memo)
    elif shape.type_name == "map":
        node.checks = _length_checks(shape, "entries", _container_length)
        node.key = _build(service, shape.key, memo)
        node.value = _build(service, shape.value, memo)
    else:
        node.checks = _scalar_checks(service, shape)
    memo[shape.name] = None if node.empty() else node
    return memo[shape.name]


def _walk(node: _Node, value, path: str, out: list[tuple[str, str]]) -> None:
    for check in node.checks:
        message = check(value, path)
        if message:
            out.append((path, message))
    if node.kind == "structure" and isinstance(value, dict):
        for name, child in node.members.items():
            if name in value and value[name] is not None:
                _walk(child, value[name], f"{path}.{name}", out)
    elif node.kind == "list" and node.value and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _walk(node.value, item, f"{path}[{i}]", out)
    elif node.kind == "map" and isinstance(value, dict):
        for key, item in value.items():
            if node.key:
                _walk(node.key, key, f"{path} key {key!r}", out)
            if node.value:
                _walk(node.value, item, f"{path}[{key!r}]", out)


_PLANS: dict[tuple[str, str, str], _Node | None] = {}
_SHAPES: dict[tuple[str, str], dict[str, _Node | None]] = {}  # per service and API version, by shape name
_BUILDING = threading.Lock()  # clients may be called from threads: no plan is used half-built


def violations(operation_model, params: dict) -> list[str]:
    """Every constraint `params` break: the model's (beyond botocore's checks) and DOCUMENTED_LIMITS, by path."""
    service_model = operation_model.service_model
    service = service_model.service_name
    key = (service, service_model.api_version, operation_model.name)
    if key not in _PLANS:
        with _BUILDING:
            if key not in _PLANS:
                memo = _SHAPES.setdefault((service, service_model.api_version), {})
                shape = operation_model.input_shape
                _PLANS[key] = _build(service, shape, memo) if shape is not None else None
    found: list[tuple[str, str]] = []
    if _PLANS[key] is not None and isinstance(params, dict):
        _walk(_PLANS[key], params, operation_model.name, found)
    messages = [message for _, message in found]
    if isinstance(params, dict):
        messages += _documented_violations(service, operation_model.name, params, {path for path, _ in found})
    return messages


# ---------------------------------------------------------------------------------------------------------------------
# Java regular expressions in Python.


class Untranslatable(ValueError):
    """A Java construct with no faithful Python equivalent here."""


_COMPILED: dict[str, re.Pattern | None] = {}


def compile_pattern(service: str, shape_name: str, pattern: str) -> re.Pattern | None:
    """The Python form of a model pattern, compiled once; None (and recorded in SKIPPED_PATTERNS) if it has none."""
    if pattern not in _COMPILED:
        try:
            translated, flags = java_regex(pattern)
            _COMPILED[pattern] = re.compile(translated, flags)
        except (Untranslatable, re.error, OverflowError, RecursionError):
            _COMPILED[pattern] = None
    if _COMPILED[pattern] is None:
        SKIPPED_PATTERNS.add((service, shape_name, pattern))
    return _COMPILED[pattern]


_CATEGORY_RANGES: dict[str, list[tuple[int, int]]] = {}


def _category_ranges(category: str) -> list[tuple[int, int]]:
    """Code-point ranges of a Unicode general category (one or two letters), from this Python's unicodedata."""
    if not _CATEGORY_RANGES:
        table: dict[str, list[tuple[int, int]]] = {}
        start, current = 0, unicodedata.category("\0")
        for cp in range(1, sys.maxunicode + 2):
            cat = unicodedata.category(chr(cp)) if cp <= sys.maxunicode else None
            if cat != current:
                table.setdefault(current, []).append((start, cp - 1))
                start, current = cp, cat
        _CATEGORY_RANGES.update(table)  # whole, so a thread never reads it half-built
    if len(category) == 2:
        return _CATEGORY_RANGES.get(category, [])
    return _merge([r for cat, ranges in _CATEGORY_RANGES.items() if cat[0] == category for r in ranges])


def _merge(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for low, high in sorted(ranges):
        if merged and low <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(high, merged[-1][1]))
        else:
            merged.append((low, high))
    return merged


def _complement(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out, start = [], 0
    for low, high in _merge(ranges):
        if low > start:
            out.append((start, low - 1))
        start = high + 1
    if start <= sys.maxunicode:
        out.append((start, sys.maxunicode))
    return out


def _chars(text: str) -> list[tuple[int, int]]:
    return [(ord(c), ord(c)) for c in text]


_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
_WHITESPACE = [*_chars("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"), (0x2000, 0x200A)]
# Java's POSIX classes are ASCII-only unless UNICODE_CHARACTER_CLASS is set.
_POSIX: dict[str, list[tuple[int, int]]] = {
    "Lower": [(0x61, 0x7A)],
    "Upper": [(0x41, 0x5A)],
    "ASCII": [(0, 0x7F)],
    "Alpha": [(0x41, 0x5A), (0x61, 0x7A)],
    "Digit": [(0x30, 0x39)],
    "Alnum": [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)],
    "Punct": _merge(_chars(_PUNCT)),
    "Graph": _merge([(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), *_chars(_PUNCT)]),
    "Print": _merge([(0x20, 0x20), (0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A), *_chars(_PUNCT)]),
    "Blank": _chars(" \t"),
    "Cntrl": [(0, 0x1F), (0x7F, 0x7F)],
    "XDigit": [(0x30, 0x39), (0x41, 0x46), (0x61, 0x66)],
    "Space": _merge(_chars(" \t\n\x0b\x0c\r")),
    "all": [(0, sys.maxunicode)],
    "L1": [(0, 0xFF)],
}
# Binary properties, some approximated on the lenient side (IsAlphabetic takes every mark, not Other_Alphabetic's).
_BINARY: dict[str, tuple[str, ...]] = {
    "Alphabetic": ("L", "Nl", "Mn", "Mc"),
    "Letter": ("L",),
    "Digit": ("Nd",),
    "Punctuation": ("P",),
    "Control": ("Cc",),
    "LD": ("L", "Nd"),  # Java's letter-or-digit
}
_GENERAL_CATEGORIES = {"L", "M", "N", "P", "S", "Z", "C", "LC"}


def _property(name: str) -> list[tuple[int, int]]:
    """The code points of Java's \\p{name}."""
    if name in _POSIX:
        return _POSIX[name]
    bare = name.removeprefix("Is").removeprefix("gc=").removeprefix("general_category=")
    if bare in ("Whitespace", "White_Space"):
        return _merge(_WHITESPACE)
    if bare in _BINARY:
        return _merge([r for cat in _BINARY[bare] for r in _category_ranges(cat)])
    if bare == "LC":
        return _merge([r for cat in ("Lu", "Ll", "Lt") for r in _category_ranges(cat)])
    if bare in _GENERAL_CATEGORIES or (len(bare) == 2 and bare[0] in "LMNPSZC" and _category_ranges(bare)):
        return _category_ranges(bare)
    raise Untranslatable(f"\\p{{{name}}}")


def _escape(cp: int) -> str:
    if cp < 0x80 and chr(cp).isalnum():
        return chr(cp)
    if cp <= 0xFF:
        return f"\\x{cp:02x}"
    return f"\\u{cp:04x}" if cp <= 0xFFFF else f"\\U{cp:08x}"


def _ranges_text(ranges: list[tuple[int, int]]) -> str:
    return "".join(_escape(low) if low == high else f"{_escape(low)}-{_escape(high)}" for low, high in ranges)


@dataclass
class _Set:
    """A class escape as Python class text: `\\d`, or explicit ranges (a negated property already complemented)."""

    text: str


_SIMPLE_SETS = {"d", "D", "w", "W", "s", "S"}  # under re.ASCII, Python's mean what Java's default ones mean
_CONTROL_CHARS = {"t": 9, "n": 10, "r": 13, "f": 12, "a": 7, "e": 27}
_OUTSIDE_ONLY = {
    "b": r"\b",
    "B": r"\B",
    "A": r"\A",
    "z": r"\Z",
    "Z": r"(?=(?:\r\n|[\n\r\x85\u2028\u2029])?\Z)",
    "R": r"(?:\r\n|[\n\x0b\x0c\r\x85\u2028\u2029])",
}
_HORIZONTAL = _merge([*_chars(" \t\xa0\u1680\u180e\u202f\u205f\u3000"), (0x2000, 0x200A)])
_VERTICAL = _merge(_chars("\n\x0b\x0c\r\x85\u2028\u2029"))


class _Reader:
    """Java regex source, read one token at a time."""

    def __init__(self, pattern: str):
        self.text = pattern
        self.i = 0

    def peek(self, n: int = 1) -> str:
        return self.text[self.i : self.i + n]

    def take(self, n: int = 1) -> str:
        part = self.text[self.i : self.i + n]
        if len(part) < n:
            raise Untranslatable("unexpected end")
        self.i += n
        return part

    def done(self) -> bool:
        return self.i >= len(self.text)

    def hex_digits(self, count: int) -> int:
        digits = self.take(count)
        if not re.fullmatch(r"[0-9a-fA-F]+", digits):
            raise Untranslatable(f"bad hex escape {digits!r}")
        return int(digits, 16)

    def until(self, end: str) -> str:
        stop = self.text.find(end, self.i)
        if stop < 0:
            raise Untranslatable(f"no closing {end!r}")
        part, self.i = self.text[self.i : stop], stop + len(end)
        return part

    def escape(self, in_class: bool) -> int | _Set | str | list[int]:
        """After a backslash: a code point, a _Set, Python text (outside classes) or code points (\\Q...\\E)."""
        c = self.take()
        if c in "pPhHvV" or c in _SIMPLE_SETS:
            return self._set(c)
        if c == "Q":
            return self._quoted()
        outside = None if in_class else self._outside_escape(c)
        return outside if outside is not None else self._char_escape(c)

    def _set(self, c: str) -> _Set:
        if c in _SIMPLE_SETS:
            return _Set("\\" + c)
        if c in "hHvV":
            ranges = _HORIZONTAL if c in "hH" else _VERTICAL
        else:
            name = self.take()
            ranges = _property(self.until("}") if name == "{" else name)
        return _Set(_ranges_text(_complement(ranges) if c.isupper() else ranges))

    def _quoted(self) -> list[int]:
        if "\\E" in self.text[self.i :]:
            return [ord(ch) for ch in self.until("\\E")]
        rest, self.i = self.text[self.i :], len(self.text)  # \\Q without \\E quotes the rest
        return [ord(ch) for ch in rest]

    def _outside_escape(self, c: str) -> str | None:
        if c in _OUTSIDE_ONLY:
            return _OUTSIDE_ONLY[c]
        if c in "123456789":
            return "\\" + c
        if c == "k" and self.peek() == "<":
            self.take()
            return f"(?P={self.until('>')})"
        return None

    def _char_escape(self, c: str) -> int:
        if c in _CONTROL_CHARS:
            return _CONTROL_CHARS[c]
        if c in "ux":
            return self._hex_escape(c)
        if c == "0":
            digits = re.match(r"[0-3]?[0-7]{1,2}", self.text[self.i :])
            if not digits:
                raise Untranslatable("bad octal escape")
            self.i += digits.end()
            return int(digits.group(), 8)
        if c == "c":
            return ord(self.take()) ^ 64
        if c.isalnum():
            raise Untranslatable(f"\\{c}")
        return ord(c)  # an escaped punctuation character

    def _hex_escape(self, c: str) -> int:
        if c == "u":
            return self._utf16(self.hex_digits(4))
        if self.peek() != "{":
            return self.hex_digits(2)
        self.take()
        digits = self.until("}")
        if not re.fullmatch(r"[0-9a-fA-F]{1,6}", digits):
            raise Untranslatable(f"bad hex escape {digits!r}")
        return int(digits, 16)

    def _utf16(self, unit: int) -> int:
        """A high surrogate followed by a low one (\\uD83D\\uDE00) is one code point in Java's patterns."""
        if 0xD800 <= unit <= 0xDBFF and re.match(r"\\u[dD][c-fC-F][0-9a-fA-F]{2}", self.text[self.i :]):
            low = int(self.text[self.i + 2 : self.i + 6], 16)
            self.i += 6
            return 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        return unit


def _class(reader: _Reader) -> tuple[bool, list[int | tuple[int, int] | _Set]]:
    """A character class after its '[': (negated, items). Nested classes are unions, as in Java."""
    negated = reader.peek() == "^" and bool(reader.take())
    items: list[int | tuple[int, int] | _Set] = []
    first = True
    while True:
        if reader.done():
            raise Untranslatable("unclosed class")
        c = reader.take()
        if c == "]" and not first:
            return negated, items
        first = False
        if c == "[":
            inner_negated, inner = _class(reader)
            if inner_negated:
                raise Untranslatable("negated nested class")
            items += inner
        elif c == "&" and reader.peek() == "&":
            raise Untranslatable("class intersection")
        elif c == "\\":
            item = reader.escape(in_class=True)
            items += item if isinstance(item, list) else [item]
        elif c == "-" and items and isinstance(items[-1], int) and reader.peek() not in ("]", "[", ""):
            high = reader.take()
            if high == "\\":
                high_item = reader.escape(in_class=True)
                if not isinstance(high_item, int):
                    items += [ord("-"), *(high_item if isinstance(high_item, list) else [high_item])]
                    continue
                items[-1] = (items[-1], high_item)
            else:
                items[-1] = (items[-1], ord(high))
        else:
            items.append(ord(c))


def _class_text(negated: bool, items: list[int | tuple[int, int] | _Set]) -> str:
    parts = []
    for item in items:
        if isinstance(item, _Set):
            parts.append(item.text)
        elif isinstance(item, tuple):
            if item[0] > item[1]:
                raise Untranslatable("reversed range")
            parts.append(f"{_escape(item[0])}-{_escape(item[1])}")
        else:
            parts.append(_escape(item))
    return "[" + ("^" if negated else "") + "".join(parts) + "]" if parts else ("[\\s\\S]" if negated else "(?!)")


_JAVA_ONLY_FLAGS = {"u": "", "d": "", "U": ""}  # Unicode case folding, UNIX_LINES, UNICODE_CHARACTER_CLASS


def _flags(java: str) -> tuple[str, bool]:
    """Java inline flags as Python ones, and whether UNICODE_CHARACTER_CLASS (U) was turned on."""
    on, _, off = java.partition("-")
    for flag in on + off:
        if flag not in "imsxuUdc":
            raise Untranslatable(f"flag {flag!r}")
    if "U" in off or "c" in on + off:
        raise Untranslatable("flag U off or c")
    keep = "".join(f for f in on if f not in _JAVA_ONLY_FLAGS)
    keep_off = "".join(f for f in off if f not in _JAVA_ONLY_FLAGS)
    return keep + (f"-{keep_off}" if keep_off else ""), "U" in on


class _Translation:
    def __init__(self, pattern: str):
        self.reader = _Reader(pattern)
        self.out: list[str] = []
        self.closers: list[int] = [0]  # per open group: how many scoped-flag groups to close with it
        self.unicode = False

    def run(self) -> tuple[str, int]:
        reader = self.reader
        while not reader.done():
            c = reader.take()
            if c == "\\":
                self._escape()
            elif c == "[":
                self.out.append(_class_text(*_class(reader)))
            elif c == "(":
                self._group()
            elif c == ")":
                if len(self.closers) == 1:
                    raise Untranslatable("unbalanced )")
                self.out.append(")" * self.closers.pop() + ")")
            elif c == "|" and self.closers[-1]:
                raise Untranslatable("alternation after a mid-group inline flag")
            elif c in "^$" and reader.peek() in ("*", "+", "?", "{"):
                self.out.append(f"(?:{c})")  # Java lets an anchor be repeated; Python only a group
            else:
                self.out.append(c)
        if len(self.closers) != 1:
            raise Untranslatable("unbalanced (")
        self.out.append(")" * self.closers[0])
        return "".join(self.out), 0 if self.unicode else re.ASCII

    def _escape(self) -> None:
        item = self.reader.escape(in_class=False)
        if isinstance(item, _Set):
            self.out.append(item.text if item.text.startswith("\\") and len(item.text) == 2 else f"[{item.text}]")
        elif isinstance(item, str):
            self.out.append(item)
        elif isinstance(item, list):
            self.out.append("".join(_escape(cp) for cp in item))
        else:
            self.out.append(_escape(item))

    def _group(self) -> None:
        reader = self.reader
        if reader.peek() != "?":
            self.out.append("(")
            self.closers.append(0)
            return
        head = re.match(r"\?(?:<(?=[A-Za-z])|[-a-zA-Z]*[:)]|[=!>]|<[=!])", reader.text[reader.i :])
        if not head:
            raise Untranslatable("unknown group")
        token = head.group()
        reader.i += len(token)
        if token == "?<":
            self.out.append("(?P<")
            self.closers.append(0)
        elif token[-1] == ")" and len(token) > 2:  # (?flags): on from here to the end of the enclosing group
            flags, unicode = _flags(token[1:-1])
            self.unicode |= unicode
            if flags and not self.out:
                self.out.append(f"(?{flags})")
            elif flags:
                self.out.append(f"(?{flags}:")
                self.closers[-1] += 1
        elif token[-1] == ":" and len(token) > 2:
            flags, unicode = _flags(token[1:-1])
            self.unicode |= unicode
            self.out.append(f"(?{flags}:" if flags else "(?:")
            self.closers.append(0)
        elif token == "?)":
            raise Untranslatable("empty flag group")
        else:
            self.out.append("(" + token)
            self.closers.append(0)


def java_regex(pattern: str) -> tuple[str, int]:
    """A Java regex as (Python pattern, re flags), to be used with fullmatch. Raises Untranslatable."""
    return _Translation(pattern).run()


# ---------------------------------------------------------------------------------------------------------------------
# The hook on every client.

_HANDLER_ID = "tests.support.request_constraints"
_CALLERS_SKIPPED = ("botocore", "boto3", "unittest.mock", "moto.core.models", __name__)


def _check_request(params, model, **_) -> None:
    found = violations(model, params)
    if found:
        raise RequestConstraintError(report="\n".join(found))


def _created_by_moto() -> bool:
    """Whether the client is being built by moto itself (its models call boto3.client for a few services)."""
    frame = sys._getframe(2)
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_CALLERS_SKIPPED):
            return module == "moto" or module.startswith("moto.")
        frame = frame.f_back
    return False


def check_every_request() -> None:
    """From now on, every botocore client this process creates (but moto's own) checks each call's parameters."""
    if getattr(ClientCreator.create_client, "checks_requests", False):
        return
    original = ClientCreator.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        if not _created_by_moto():
            client.meta.events.register_last("before-parameter-build", _check_request, unique_id=_HANDLER_ID)
        return client

    create_client.checks_requests = True
    ClientCreator.create_client = create_client
