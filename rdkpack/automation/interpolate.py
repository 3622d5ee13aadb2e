"""`{{ Name }}` references in step inputs, resolved the way Automation resolves them.

A string that is exactly one reference takes the referenced value with its type (a Boolean parameter arrives as
true, an Integer as a number, a StringList as a list); a reference inside longer text is replaced by the value's
text. References name a parameter, a step output (`Step.Output`), or a variable (`global:REGION`,
`global:ACCOUNT_ID`, `global:AWS_PARTITION`, `global:DATE`, `global:DATE_TIME`, `automation:EXECUTION_ID`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_:.\-]+)\s*\}\}")


class UnknownReference(KeyError):
    """A reference that names no parameter, variable or earlier step output."""


def references(value) -> set[str]:
    """Every name a value (string, list or map, nested) refers to."""
    if isinstance(value, str):
        return set(REFERENCE.findall(value))
    if isinstance(value, list):
        return set().union(*(references(item) for item in value)) if value else set()
    if isinstance(value, dict):
        return set().union(*(references(item) for item in value.values())) if value else set()
    return set()


def as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def interpolate(value, known: Mapping[str, object]):
    """value with every reference replaced; UnknownReference names the first one `known` lacks."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value.strip())
        if whole:
            return lookup(whole.group(1), known)
        return REFERENCE.sub(lambda match: as_text(lookup(match.group(1), known)), value)
    if isinstance(value, list):
        return [interpolate(item, known) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, known) for key, item in value.items()}
    return value


def lookup(name: str, known: Mapping[str, object]):
    if name not in known:
        raise UnknownReference(name)
    return known[name]
