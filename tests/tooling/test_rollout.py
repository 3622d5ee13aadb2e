"""The organization rollout end to end: rollout, status, drift, a joining account, a second rollout, remove.

An organization of 7 accounts (the management account, the delegated administrator, 3 production
accounts in one OU, 2 dev accounts in another) in moto; the StackSets and organization packs are
answered by tests/support/org_fake.py in front of it, S3 and the admin account's stacks by moto.
"""

from __future__ import annotations

import functools
import json

import pytest

from rdkpack import cli
from rdkpack.packs import write
from rdkpack.rollout import remove, run, status
from tests.support.org_rollout import REGIONS, Organization, no_sleep

# moto's CloudFormation skips the artifact bucket's policy (the fake checks what the policy is for: who reads the code).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy")


def baseline_parameters(config: dict, rule: str) -> dict:
    """A rule's parameters in the organization baseline pack of rdk-config.json."""
    return config["packs"]["rdk-guardrails-org-baseline"]["rules"][rule]["parameters"]


@pytest.fixture
def organization(aws, tmp_path):
    return Organization(tmp_path / "project", production=3, dev=2)


def test_rollout_reaches_every_account_and_region_and_status_is_in_sync(organization):
    plan = run.plan(organization.session, organization.project())
    assert plan.target.call_as == "DELEGATED_ADMIN"
    assert len(plan.accounts) == 7
    text = "\n".join(plan.lines())
    assert "StackSet rdk-guardrails-rule-functions: create, add-targets (does not exist); 12 instance(s)" in text
    assert "StackSet rdk-guardrails-iam-roles: create, add-targets (does not exist); 6 instance(s)" in text
    assert "pack rdk-guardrails-org-baseline in eu-west-1: put (does not exist); 5 account(s)" in text
    run.apply(plan, say=lambda _: None, sleep=no_sleep)

    result = status.read(organization.session, organization.project())
    assert result.gaps == []
    assert result.in_sync, [row for row in result.rows if row.drift]
    rows = {row.component: (row.expected, row.in_sync) for row in result.rows}
    assert rows["rdk-guardrails-rule-functions"] == (12, 12)  # 6 accounts (not the management account) x 2 regions
    assert rows["rdk-guardrails-iam-roles"] == (6, 6)  # IAM is global: the home region only
    assert rows["pack rdk-guardrails-org-baseline (us-east-1)"] == (5, 5)  # minus the sandbox and management accounts
    # The pack's members evaluate with functions in their own account: the fake resolves each SourceIdentifier.
    for account in organization.production:
        assert organization.fake.functions(account, "eu-west-1")["RDK-Rule-Function-LAMBDALAYERCHECK"] == {account}


def test_rollout_a_second_time_with_nothing_changed_makes_no_write_call(organization):
    organization.rollout()
    organization.fake.calls.clear()
    plan = run.plan(organization.session, organization.project())
    assert plan.writes() == 0
    assert "nothing to change" in plan.lines()[-1]
    run.apply(plan, say=lambda _: None, sleep=no_sleep)
    assert organization.fake.writes() == {}


def test_rollout_dry_run_writes_nothing(organization, monkeypatch, capsys):
    monkeypatch.setattr(cli.boto3, "Session", lambda **_: organization.session)
    assert cli.main(["--project", str(organization.root), "rollout", "--org", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run: nothing written" in out
    assert "stage: 14 of 14 object(s) to upload in 2 region(s)" in out  # 5 rules, the layer, ssm-documents
    assert organization.fake.writes() == {}


def test_rollout_covers_an_account_that_joins_an_ou_afterwards(organization):
    organization.rollout()
    late = organization.org.create_account(AccountName="late", Email="late@example.com")["CreateAccountStatus"]
    account = late["AccountId"]
    organization.org.move_account(
        AccountId=account, SourceParentId=organization.root_id, DestinationParentId=organization.workloads
    )
    organization.fake.calls.clear()
    result = status.read(organization.session, organization.project())
    rows = {row.component: (row.expected, row.in_sync) for row in result.rows}
    assert rows["rdk-guardrails-rule-functions"] == (14, 14)  # auto-deployment: no command
    # AWS Config reached the account as it joined, before its functions existed; that member stays failed.
    assert [(g.account, g.region, g.reason.split(":")[0]) for g in result.gaps] == [
        (account, "eu-west-1", "CREATE_FAILED"),
        (account, "us-east-1", "CREATE_FAILED"),
    ]
    assert organization.fake.writes() == {}

    said = organization.rollout()  # what a scheduled rollout does: put the packs again, nothing else
    assert [line for line in said if not line.startswith("pack ")] == []
    result = status.read(organization.session, organization.project())
    assert result.in_sync, [gap.line() for gap in result.gaps]
    rows = {row.component: (row.expected, row.in_sync) for row in result.rows}
    assert rows["pack rdk-guardrails-org-baseline (eu-west-1)"] == (6, 6)


def test_rollout_a_changed_rule_parameter_shows_as_drift_then_a_second_rollout_brings_it_back(
    organization, capsys, monkeypatch
):
    organization.rollout()
    organization.edit_config(
        lambda config: baseline_parameters(config, "LAMBDA_LAYER_CHECK").update(MinLayerVersion="3")
    )

    monkeypatch.setattr(cli.boto3, "Session", lambda **_: organization.session)
    assert cli.main(["--project", str(organization.root), "status", "--org", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    drifted = {c["name"]: c["drift"] for c in report["components"] if c["drift"]}
    assert set(drifted) == {f"pack rdk-guardrails-org-baseline ({region})" for region in REGIONS}
    assert drifted["pack rdk-guardrails-org-baseline (us-east-1)"] == ["template differs from `rdkpack build`"]

    said = organization.rollout()
    assert [line for line in said if line.startswith("pack ") and line.endswith(": put")] == [
        f"pack rdk-guardrails-org-baseline in {region}: put" for region in REGIONS
    ]
    assert not [line for line in said if line.startswith("stackset")]
    assert status.read(organization.session, organization.project()).in_sync


def test_rollout_then_remove_leaves_nothing_and_a_second_remove_nothing_to_do(organization, monkeypatch, capsys):
    organization.rollout()
    monkeypatch.setattr(cli.boto3, "Session", lambda **_: organization.session)
    assert cli.main(["--project", str(organization.root), "remove", "--org"]) == 2
    assert "--confirm" in capsys.readouterr().err
    assert cli.main(["--project", str(organization.root), "remove", "--org", "--dry-run"]) == 0
    assert "already gone" not in capsys.readouterr().out
    monkeypatch.setattr(remove, "steps", functools.partial(remove.steps, sleep=no_sleep))
    assert cli.main(["--project", str(organization.root), "remove", "--org", "--confirm"]) == 0
    fake = organization.fake
    assert fake.packs == {}
    assert all(s["Status"] == "DELETED" for s in fake.stack_sets.values())
    for region in REGIONS:
        stacks = organization.session.client("cloudformation", region_name=region).list_stacks()["StackSummaries"]
        assert {s["StackStatus"] for s in stacks} <= {"DELETE_COMPLETE"}
    assert organization.session.client("s3").list_buckets()["Buckets"] == []
    fake.calls.clear()
    _, steps = remove.steps(organization.session, organization.project(), sleep=no_sleep)
    assert remove.perform(steps, say=lambda _: None) == 0
    assert fake.writes() == {}


def test_rollout_a_document_update_updates_its_stackset_and_puts_the_packs_again(organization):
    organization.rollout()
    document = organization.root / "remediations" / "ReduceVpcEndpointAzCount" / "ReduceVpcEndpointAzCount.yaml"
    text = document.read_text(encoding="utf-8")
    document.write_text(text.replace("### Document name - ReduceVpcEndpointAzCount", "### Document name (v2)"))
    write.stale_files(organization.root, write=True)
    plan = run.plan(organization.session, organization.project())
    changed = {c.component.name: c.actions for c in plan.changes if c.actions}
    assert changed == {"rdk-guardrails-ssm-documents": ["update"]}
    assert [(p.region, p.reasons) for p in plan.packs] == [
        (region, ["the SSM documents changed since the pack was put"]) for region in REGIONS
    ]
    run.apply(plan, say=lambda _: None, sleep=no_sleep)
    assert status.read(organization.session, organization.project()).in_sync


def test_rollout_refuses_templates_that_are_not_what_the_config_builds(organization, monkeypatch, capsys):
    idle = lambda config: baseline_parameters(config, "VPC_ENDPOINT_IDLE_CHECK").update(IdleDays="45")  # noqa: E731
    organization.edit_config(idle, build=False)
    monkeypatch.setattr(cli.boto3, "Session", lambda **_: organization.session)
    assert cli.main(["--project", str(organization.root), "rollout", "--org"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "not what rdk-config.json builds now: run `rdkpack build`" in error
    assert organization.fake.writes() == {}


def test_rollout_status_table_and_stage_from_the_command_line(organization, monkeypatch, capsys):
    monkeypatch.setattr(cli.boto3, "Session", lambda **_: organization.session)
    assert cli.main(["--project", str(organization.root), "stage", "--dry-run"]) == 0
    assert capsys.readouterr().out.count("would upload: s3://") == 14
    assert cli.main(["--project", str(organization.root), "status", "--org"]) == 1  # nothing deployed yet
    out = capsys.readouterr().out
    assert "pack not deployed" in out and "no instance yet" in out
    organization.rollout()
    assert (
        cli.main(["--project", str(organization.root), "status", "--org", "--pack", "rdk-guardrails-org-baseline"]) == 0
    )
    out = capsys.readouterr().out
    assert "7 active account(s)" in out and out.rstrip().endswith("in sync")
    assert cli.main(["--project", str(organization.root), "status"]) == 2
    assert "pass --org" in capsys.readouterr().err
