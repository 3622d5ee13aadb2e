"""Automation parameters as Systems Manager takes them: every value a list of strings, converted to the type the
document declares, checked against allowedPattern (RE2), allowedValues and the size limits, defaults filled in.

StartAutomationExecution and AWS Config send `{name: [str, ...]}`; the console and `--parameter` send strings too.
Everything is checked before any step runs, and a refusal names the parameter and the rule it broke.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping

from rdkpack.errors import AutomationRefused
from rdkpack.project.documents import compile_pattern

TYPES = ("String", "StringList", "Integer", "Boolean", "MapList", "StringMap")
# StartAutomationExecution's model: at most 200 parameters, names 1..50 characters, at most 50 values a
# parameter, each 1..512 characters.
MAX_PARAMETERS, MAX_NAME, MAX_VALUES, MAX_VALUE = 200, 50, 50, 512
# Integer's range is not documented: values outside a signed 32-bit integer are refused rather than trusted.
INT_MIN, INT_MAX = -(2**31), 2**31 - 1
INTEGER = re.compile(r"-?[0-9]+")
SSM_REFERENCE = re.compile(r"\{\{\s*ssm:([^{}\s]+)\s*\}\}")

Values = list[str]
ParameterLookup = Callable[[str], tuple[str, str]]  # name -> (Type, Value) as ssm:GetParameter answers


def refused(document: str, name: str, message: str) -> AutomationRefused:
    return AutomationRefused(f"{document}: parameter {name}: {message}")


def given_values(document: str, given: Mapping[str, object]) -> dict[str, Values]:
    """The parameters as StartAutomationExecution takes them ({name: [str]}), within its limits."""
    if len(given) > MAX_PARAMETERS:
        raise AutomationRefused(f"{document}: {len(given)} parameters; StartAutomationExecution takes at most 200")
    out: dict[str, Values] = {}
    for name, value in given.items():
        values = list(value) if isinstance(value, list | tuple) else [value]
        if not 1 <= len(name) <= MAX_NAME:
            raise refused(document, name[:60], f"a name is 1 to {MAX_NAME} characters")
        if len(values) > MAX_VALUES:
            raise refused(document, name, f"{len(values)} values; at most {MAX_VALUES} a parameter")
        for item in values:
            if not isinstance(item, str):
                raise refused(document, name, f"value {item!r} is not a string (every value is sent as a string)")
            if not 1 <= len(item) <= MAX_VALUE:
                raise refused(
                    document,
                    name,
                    f"a value of {len(item)} characters; each is 1 to {MAX_VALUE} (leave it out for the default)",
                )
        out[name] = values
    return out


def as_strings(value) -> Values:
    """A document default (typed YAML) as the strings a caller would send for it."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    if isinstance(value, dict):
        return [json.dumps(value)]
    return [str(value)]


def convert(document: str, name: str, kind: str, values: Values):
    """The value SSM hands the document for values sent as strings, or a refusal naming the rule."""
    if kind in ("StringList", "MapList"):
        return values if kind == "StringList" else [parse_map(document, name, item) for item in values]
    if len(values) != 1:
        raise refused(document, name, f"type {kind} takes one value, got {len(values)}")
    value = values[0]
    if kind == "String":
        return value
    if kind == "Integer":
        if not INTEGER.fullmatch(value) or not INT_MIN <= int(value) <= INT_MAX:
            raise refused(document, name, f"{value!r} is not an Integer (digits, optional '-', 32-bit)")
        return int(value)
    if kind == "Boolean":
        if value.lower() not in ("true", "false"):
            raise refused(document, name, f"{value!r} is not a Boolean (true or false)")
        return value.lower() == "true"
    return parse_map(document, name, value)


def parse_map(document: str, name: str, value: str) -> dict:
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise refused(document, name, f"{value[:80]!r} is not a JSON object (StringMap and MapList items are maps)")
    return parsed


def check_constraints(document: str, name: str, spec: dict, values: Values) -> None:
    """allowedPattern and allowedValues for each value; minItems/maxItems and minChars/maxChars."""
    kind = spec.get("type")
    if kind in ("StringList", "MapList"):
        low, high = spec.get("minItems"), spec.get("maxItems")
        if (low is not None and len(values) < low) or (high is not None and len(values) > high):
            raise refused(document, name, f"{len(values)} items; the document allows {low or 0} to {high or 'any'}")
    pattern = spec.get("allowedPattern")
    allowed = spec.get("allowedValues")
    for value in values:
        if kind == "String":
            low, high = spec.get("minChars"), spec.get("maxChars")
            if (low is not None and len(value) < low) or (high is not None and len(value) > high):
                raise refused(document, name, f"{len(value)} characters; the document allows {low or 0} to {high}")
        if pattern is not None and not compile_pattern(pattern).search(value):
            raise refused(document, name, f"{value[:120]!r} does not match allowedPattern {pattern}")
        if allowed is not None and value not in [as_strings(item)[0] for item in allowed]:
            raise refused(document, name, f"{value[:120]!r} is not one of allowedValues {allowed}")


def resolve_references(document: str, name: str, values: Values, lookup: ParameterLookup | None) -> Values:
    """A value that is exactly `{{ssm:/name}}` is replaced by that Parameter Store value before any check."""
    out = []
    for value in values:
        match = SSM_REFERENCE.fullmatch(value.strip())
        if not match:
            out.append(value)
            continue
        if lookup is None:
            raise refused(document, name, f"{value} needs Parameter Store, which this run cannot read")
        try:
            kind, resolved = lookup(match.group(1))
        except AutomationRefused as error:  # a missing or unreadable parameter: say which document parameter
            raise refused(document, name, str(error)) from error
        if kind == "SecureString":
            raise refused(document, name, f"{value} is a SecureString; Automation parameters take String or StringList")
        out.extend(resolved.split(",") if kind == "StringList" else [resolved])
    return out


def resolve(
    document: str, specs: Mapping[str, dict], given: Mapping[str, object], lookup: ParameterLookup | None = None
) -> tuple[dict[str, object], dict[str, Values]]:
    """(typed values for the steps, the strings as GetAutomationExecution reports them): every parameter of the
    document, given or defaulted; AutomationRefused on the first parameter SSM would refuse."""
    sent = given_values(document, given)
    unknown = sorted(set(sent) - set(specs))
    if unknown:
        raise refused(document, unknown[0], f"not a parameter of the document (it takes {', '.join(specs)})")
    typed: dict[str, object] = {}
    reported: dict[str, Values] = {}
    for name, spec in specs.items():
        if name in sent:
            values = sent[name]
        elif "default" in spec:
            values = as_strings(spec["default"])
        else:
            raise refused(document, name, "required (the document gives it no default) and not given")
        values = resolve_references(document, name, values, lookup)
        check_constraints(document, name, spec, values)
        typed[name] = convert(document, name, spec["type"], values)
        reported[name] = values
    return typed, reported


def check_specs(document: str, specs: Mapping[str, dict]) -> None:
    """What CreateDocument would refuse: an unknown type, a pattern RE2 cannot compile, a default that breaks
    its own type or constraints."""
    for name, spec in specs.items():
        sizes = [key for key in ("minItems", "maxItems", "minChars", "maxChars") if key in spec]
        bad = [key for key in sizes if not isinstance(spec[key], int) or isinstance(spec[key], bool) or spec[key] < 0]
        if bad:
            raise refused(document, name, f"{bad[0]} must be a whole number, got {spec[bad[0]]!r}")
        if "allowedValues" in spec and not isinstance(spec["allowedValues"], list):
            raise refused(document, name, "allowedValues must be a list")
        if spec.get("type") not in TYPES:
            raise refused(document, name, f"type {spec.get('type')!r} is not one of {', '.join(TYPES)}")
        if "allowedPattern" in spec:
            try:
                compile_pattern(spec["allowedPattern"])
            except ValueError as error:
                raise refused(document, name, f"allowedPattern is not an RE2 expression: {error}") from error
        if "default" in spec and not SSM_REFERENCE.fullmatch(str(spec["default"]).strip()):
            values = as_strings(spec["default"])
            try:
                check_constraints(document, name, spec, values)
                convert(document, name, spec["type"], values)
            except AutomationRefused as error:
                raise refused(document, name, f"the default breaks the document's own rule: {error}") from error
