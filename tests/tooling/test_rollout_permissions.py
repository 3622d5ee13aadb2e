"""The rollout's declared calls are the ones its code makes; the scan role allows every call a scan makes."""

from __future__ import annotations

import re

from rdkpack import aws
from rdkpack.packs import build
from rdkpack.project.config import load_project
from rdkpack.project.permissions import SCAN_OPERATIONS
from rdkpack.rollout import permissions
from tests.support.calls import called_operations
from tests.support.project import ROOT

SERVICES = ("cloudformation", "config", "organizations", "s3", "sts")


def test_rollout_declares_every_call_its_modules_make():
    declared = {operation for _, operation in permissions.operations()}
    for path in sorted((ROOT / "rdkpack" / "rollout").glob("*.py")):
        missing = called_operations(path, SERVICES) - declared
        assert not missing, f"{path.name} calls {sorted(missing)}: declare them beside the calls"


def test_rollout_identity_may_list_delegated_administrators_which_config_checks():
    assert "organizations:ListDelegatedAdministrators" in permissions.actions()
    assert not [action for action in permissions.actions() if "*" in action]


def test_scan_role_allows_every_read_the_inventory_makes_and_nothing_that_writes_but_security_hub():
    inventory = called_operations(
        ROOT / "rdkpack" / "account" / "inventory.py", ("config", "lambda", "s3", "ec2", "resourcegroupstaggingapi")
    )
    assert inventory <= {operation for _, operation in SCAN_OPERATIONS}
    role = build.build_all(load_project(ROOT))["prerequisites/scan-role.yaml"]["Resources"]["ScanRole"]["Properties"]
    allowed = {a for s in role["Policies"][0]["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert {aws.iam_action(service, operation) for service, operation in SCAN_OPERATIONS} <= allowed
    writes = {a for a in allowed if a.split(":")[1].startswith(("Put", "Create", "Delete", "Update", "Batch"))}
    assert writes == {"config:BatchGetResourceConfig", "securityhub:BatchImportFindings"}


def test_the_rollout_tutorial_lists_exactly_the_actions_the_rollout_identity_needs():
    page = (ROOT / "docs" / "guides" / "organization-rollout.md").read_text(encoding="utf-8")
    start = page.index("The identity running the commands needs these actions")
    listed = page[start : page.index("## 3.", start)]

    assert re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", listed.split(":\n", 1)[1]) == permissions.actions()
