"""The JSONPath subset Automation output selectors use: `$`, `.Key` and `[index]`, e.g. `$.Payload.Status`."""

from __future__ import annotations

import re

TOKEN = re.compile(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]")


def select(selector: str, data):
    """The value at selector; ValueError when the path is not there."""
    if not selector.startswith("$"):
        raise ValueError(f"selector {selector!r} does not start with $")
    position, value = 1, data
    while position < len(selector):
        match = TOKEN.match(selector, position)
        if not match:
            raise ValueError(f"selector {selector!r}: cannot read {selector[position:]!r}")
        key, index = match.groups()
        if key is not None:
            if not isinstance(value, dict) or key not in value:
                raise ValueError(f"{selector} has no {key!r}")
            value = value[key]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise ValueError(f"{selector} has no item {index}")
            value = value[int(index)]
        position = match.end()
    return value
