"""Waivers with an expiry: on a resource (`Metadata: {rdk-guardrails: {skip: [{id, comment, expires}]}}`) or, for any
format, Terraform plans included, in `rdk-waivers.yaml` beside rdk-config.json:

    waivers:
      - file: "infra/*.yaml"          # a glob over the template's path, relative to the project
        resource: "OrdersFunction*"   # a glob over the logical ID or Terraform address
        id: LAMBDA_LAYER_CHECK
        comment: "the layer ships with the v2 migration"
        expires: 2027-01-31

Until its date (inclusive) a waiver suppresses the rule's finding on the resource; after it, the finding stands and
says the waiver expired and when; a waiver without a comment, an expiry or a valid date is itself a finding.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rdkpack.account.scan import WAIVER_SOON_DAYS
from rdkpack.check.model import TemplateResource, Waiver
from rdkpack.errors import ConfigError
from rdkpack.project import files
from rdkpack.project.documents import load_yaml

WAIVERS_FILE = "rdk-waivers.yaml"
ACTIVE, EXPIRED, INVALID = "active", "expired", "invalid"
SOON_DAYS = WAIVER_SOON_DAYS
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class FileWaiver:
    file: str
    resource: str
    waiver: Waiver

    def covers(self, resource: TemplateResource, relative_file: str) -> bool:
        return fnmatch.fnmatch(relative_file, self.file) and address_matches(resource.logical_id, self.resource)


def address_matches(address: str, pattern: str) -> bool:
    """A logical ID or Terraform address against a glob where only '*' and '?' are wild: brackets are the address's
    own (`aws_lambda_function.api["orders"]`, `aws_vpc_endpoint.interface[0]`), not fnmatch's character classes."""
    wild = "".join(
        ".*" if part == "*" else "." if part == "?" else re.escape(part) for part in re.split(r"([*?])", pattern)
    )
    return re.fullmatch(wild, address, re.DOTALL) is not None


def read_waivers_file(root: Path) -> list[FileWaiver]:
    path = root / WAIVERS_FILE
    if not path.is_file():
        return []
    data = files.read_yaml(path, load_yaml) or {}
    entries = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise ConfigError(
            str(path), "waivers", "missing or not a list", expected="a list of {file, resource, id, comment, expires}"
        )
    found = []
    for number, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not all(
            isinstance(entry.get(key), str) for key in ("file", "resource", "id")
        ):
            raise ConfigError(
                str(path), f"waivers[{number}]", "needs file, resource and id (text)", expected="globs and a rule name"
            )
        waiver = Waiver(
            entry["id"],
            text_or_none(entry.get("comment")),
            text_or_none(entry.get("expires")),
            f"{WAIVERS_FILE} entry {number}",
        )
        found.append(FileWaiver(entry["file"], entry["resource"], waiver))
    return found


def text_or_none(value) -> str | None:
    if value is None or value == "":
        return None
    return value.isoformat() if isinstance(value, date) else str(value)


def iso_date(text: str) -> date:
    """YYYY-MM-DD only, as the rules read a tag's expiry (date.fromisoformat also takes 20270131)."""
    if not ISO_DATE.fullmatch(text):
        raise ValueError(text)
    return date.fromisoformat(text)


def status(waiver: Waiver, today: date) -> tuple[str, str]:
    """(ACTIVE | EXPIRED | INVALID, what to say)."""
    missing = [name for name, value in (("comment", waiver.comment), ("expires", waiver.expires)) if not value]
    if missing:
        return (
            INVALID,
            f"waiver of {waiver.rule} ({waiver.where}) has no {' or '.join(missing)}: each says why and until when",
        )
    try:
        until = iso_date(waiver.expires)
    except ValueError:
        return INVALID, f"waiver of {waiver.rule} ({waiver.where}) expires {waiver.expires!r}, not a date (YYYY-MM-DD)"
    if until < today:
        return EXPIRED, f"waiver of {waiver.rule} ({waiver.where}) expired on {waiver.expires}: {waiver.comment}"
    return ACTIVE, f"waived until {waiver.expires} ({waiver.where}): {waiver.comment}"


def expires_soon(waiver: Waiver, today: date, days: int = SOON_DAYS) -> bool:
    try:
        until = iso_date(waiver.expires or "")
    except ValueError:
        return False
    return 0 <= (until - today).days <= days
