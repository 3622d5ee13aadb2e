"""The organization rollout's edges: failures within the tolerance, member failures a put cannot fix, failed
operations, central functions, the recorder, --ous targets, and what the fake refuses as AWS does.

An organization of 7 accounts (the management account, the delegated administrator, 3 production
accounts in one OU, 2 dev accounts in another) in moto; the StackSets and organization packs are
answered by tests/support/org_fake.py in front of it, S3 and the admin account's stacks by moto.
"""

from __future__ import annotations

import pytest

from rdkpack import cli
from rdkpack.errors import RolloutError
from rdkpack.rollout import run, stage, status
from rdkpack.rollout.context import poll
from tests.support import org_fake
from tests.support.org_rollout import REGIONS, Organization, no_sleep

# moto's CloudFormation skips the artifact bucket's policy (the fake checks what the policy is for: who reads the code).
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS..S3..BucketPolicy")


@pytest.fixture
def organization(aws, tmp_path):
    return Organization(tmp_path / "project", production=3, dev=2)


def test_rollout_failures_within_the_tolerance_are_shown_and_retried_only_on_request(organization):
    organization.edit_config(
        lambda config: config["rollout"]["operationPreferences"].update(failureTolerancePercentage=20)
    )
    account = organization.production[0]
    organization.fake.denied[account] = "User is not authorized to perform iam:CreateRole with an explicit deny (SCP)"
    organization.rollout()  # 1 account of 6 fails: within 20 %, so every operation SUCCEEDS

    result = status.read(organization.session, organization.project())
    assert not result.in_sync and not any(row.drift for row in result.rows)  # failures are gaps, not drift
    lines = "\n".join(gap.line() for gap in result.gaps)
    assert f"{account} us-east-1: rdk-guardrails-iam-roles: OUTDATED (FAILED): User is not authorized" in lines
    member = f"{account} eu-west-1: pack rdk-guardrails-org-baseline: CREATE_FAILED: InsufficientPermissionsException"
    assert member in lines
    organization.fake.calls.clear()
    again = run.plan(organization.session, organization.project())
    assert again.writes() == 0  # neither a retry nobody asked for nor a put that would change nothing
    assert "1 failed instance(s)" in "\n".join(again.lines())

    del organization.fake.denied[account]  # the SCP is fixed
    organization.fake.redeployed.clear()
    plan = run.plan(organization.session, organization.project(), retry_failed=True)
    assert {c.component.name: c.actions for c in plan.changes if c.actions} == {
        name: ["retry"]
        for name in (
            "rdk-guardrails-iam-roles",
            "rdk-guardrails-ssm-documents",
            "rdk-guardrails-shared-values",
            "rdk-guardrails-rule-functions",
            "rdk-guardrails-scan-role",
        )
    }
    run.apply(plan, say=lambda _: None, sleep=no_sleep)
    assert {count for _, count in organization.fake.redeployed} <= {1, 2}  # that account's instances, no others
    plan = run.plan(organization.session, organization.project())  # now its functions exist: the packs go again
    assert [p.reasons for p in plan.packs] == [["1 member account(s) failed where the rule functions now exist"]] * 2
    # The first status read after the put still shows the last put's CREATE_FAILED: the wait must not take it.
    assert run.apply(plan, say=lambda _: None, sleep=no_sleep) == []
    assert status.read(organization.session, organization.project()).in_sync


def test_rollout_puts_a_pack_again_only_once_for_a_member_failure_a_put_cannot_fix(organization):
    organization.rollout()
    late = organization.org.create_account(AccountName="late", Email="late@example.com")["CreateAccountStatus"]
    organization.fake.no_recorder.add(late["AccountId"])
    said = organization.rollout()  # the member failed as it joined: worth one put once its functions exist
    assert [line for line in said if line.endswith(": put")] == [
        f"pack rdk-guardrails-org-baseline in {region}: put" for region in REGIONS
    ]
    organization.fake.calls.clear()
    plan = run.plan(organization.session, organization.project())
    assert plan.writes() == 0  # it failed again with its functions there: no recorder, not ours to fix
    gaps = status.read(organization.session, organization.project()).gaps
    assert {g.reason.split(":")[1].strip() for g in gaps} == {"NoAvailableConfigurationRecorderException"}


def test_rollout_a_failed_stackset_operation_names_the_accounts_and_cloudformations_reason(organization, monkeypatch):
    staged = stage.wanted

    def without_layer(project, built=None):
        return [artifact for artifact in staged(project, built) if not artifact.key.startswith("layers/")]

    monkeypatch.setattr(stage, "wanted", without_layer)
    with pytest.raises(RolloutError) as raised:
        organization.rollout()
    message = str(raised.value)
    assert message.startswith("StackSet rdk-guardrails-rule-functions: operation ")
    first = min(organization.admin, *organization.production, *organization.dev)
    assert f"FAILED: {first}/eu-west-1: RdklibLayer: " in message and "not found" in message
    assert message.count("RdklibLayer: ") == 10 and message.endswith("(+2 more)")  # 6 accounts x 2 regions
    assert organization.fake.packs == {}  # the packs wait for their functions


def test_rollout_wait_gives_up_after_its_timeout_naming_what_it_waited_for():
    seen = []
    with pytest.raises(RolloutError, match=r"stack s in r: not finished after 30 s \(last seen: CREATE_IN_PROGRESS\)"):
        poll(
            lambda: "CREATE_IN_PROGRESS",
            {"CREATE_COMPLETE"}.__contains__,
            "stack s in r",
            timeout_seconds=30,
            poll_seconds=10,
            sleep=seen.append,
        )
    assert seen == [10, 10, 10]


def test_rollout_to_some_ous_excludes_the_rest_from_the_packs_and_status_keeps_those_targets(organization):
    organization.rollout(ous=(organization.workloads,))
    result = status.read(organization.session, organization.project())  # no --ous: the deployed targets
    assert result.in_sync, [gap.line() for gap in result.gaps] + [row.drift for row in result.rows]
    rows = {row.component: (row.expected, row.in_sync) for row in result.rows}
    assert rows["rdk-guardrails-rule-functions"] == (8, 8)  # the admin and 3 production accounts x 2 regions
    assert rows["pack rdk-guardrails-org-baseline (us-east-1)"] == (4, 4)

    late = organization.org.create_account(AccountName="late", Email="late@example.com")["CreateAccountStatus"]
    account = late["AccountId"]
    result = status.read(organization.session, organization.project())
    # Outside the targets: no functions there, so the packs must exclude it (organization packs reach every account).
    assert any("excluded accounts" in d for row in result.rows for d in row.drift)
    assert not [gap for gap in result.gaps if gap.account == account]

    organization.org.move_account(
        AccountId=account, SourceParentId=organization.root_id, DestinationParentId=organization.workloads
    )
    result = status.read(organization.session, organization.project())
    assert {(g.account, g.component) for g in result.gaps} == {(account, "pack rdk-guardrails-org-baseline")}
    assert not any(row.drift for row in result.rows)  # inside now: the excluded accounts are right again
    organization.rollout()
    assert status.read(organization.session, organization.project()).in_sync


def test_rollout_remove_takes_no_regions_because_a_stackset_goes_from_every_region_at_once(organization, capsys):
    assert cli.main(["--project", str(organization.root), "remove", "--org", "--regions", "eu-west-1"]) == 2
    assert "unrecognized arguments: --regions" in capsys.readouterr().err


def test_rollout_fake_refuses_what_aws_refuses_auto_deployment_beside_targets_on_update(organization):
    organization.rollout()
    cloudformation = organization.session.client("cloudformation")
    with pytest.raises(cloudformation.exceptions.ClientError, match="AutoDeployment cannot be specified"):
        cloudformation.update_stack_set(
            StackSetName="rdk-guardrails-iam-roles",
            CallAs="DELEGATED_ADMIN",
            UsePreviousTemplate=True,
            AutoDeployment={"Enabled": True, "RetainStacksOnAccountRemoval": False},
            Regions=["us-east-1"],
            DeploymentTargets={"OrganizationalUnitIds": [organization.root_id]},
        )


def test_rollout_deploys_the_recorder_when_asked_in_every_account_and_region(organization):
    organization.edit_config(
        lambda config: config["rollout"].update(recorder={"deliveryBucketName": "org-config-logs"})
    )
    organization.rollout()
    result = status.read(organization.session, organization.project())
    assert result.in_sync, [gap.line() for gap in result.gaps]
    rows = {row.component: (row.expected, row.in_sync) for row in result.rows}
    assert rows["rdk-guardrails-config-recorder"] == (12, 12)
    recorder = organization.fake.stack_sets["rdk-guardrails-config-recorder"]
    template = org_fake.parsed(recorder["TemplateBody"])["Resources"]
    assert template["ConfigurationRecorder"]["Properties"]["RecordingGroup"]["ResourceTypes"] == [
        "AWS::EC2::VPCEndpoint",
        "AWS::Lambda::Function",
        "AWS::S3::Bucket",
    ]


def test_rollout_central_functions_serve_only_the_accounts_their_permissions_name(organization):
    left_out = organization.production[2]
    invokers = [a for a in (organization.admin, *organization.production, *organization.dev) if a != left_out]
    central = {
        "location": "central",
        "centralAccountId": organization.admin,
        "lambdaRoleName": "RdkGuardrailsRuleLambdaRole",
        "invokerAccountIds": invokers,
    }
    organization.edit_config(lambda config: config.update(ruleLambdas=central))
    said = organization.rollout()
    assert "stack rdk-guardrails-rule-functions: create-stack" in said
    functions = organization.session.client("lambda", region_name="eu-west-1").list_functions()["Functions"]
    assert len(functions) == 5  # one copy per region, in the central account, as a plain stack (moto)
    result = status.read(organization.session, organization.project())
    assert {(g.account, g.reason.split(":")[1].strip()) for g in result.gaps} == {
        (left_out, "InsufficientPermissionsException")
    }
    assert "rdk-guardrails-rule-functions" not in organization.fake.stack_sets
