"""The README's remediate section names exactly the actions bulk remediation calls (declared in bulk.py)."""

from __future__ import annotations

import re

from rdkpack.remediate import bulk
from tests.support.project import ROOT


def test_readme_lists_every_action_bulk_remediation_calls_and_no_other():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[
        text.index("## Remediate: `rdkpack remediate`") : text.index("## Deploy a rule to a sandbox account")
    ]
    listed = set(re.findall(r"`config:([A-Za-z]+)`", section))
    declared = {operation for service, operation in (*bulk.READS, *bulk.WRITES) if service == "config"}
    assert listed == declared
