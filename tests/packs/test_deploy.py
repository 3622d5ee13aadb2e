"""rdkpack deploy against stubbed AWS Config, STS and S3 (moto has no conformance packs)."""

from __future__ import annotations

import json

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from rdkpack.cli import main
from rdkpack.errors import DeployError
from rdkpack.packs import deploy, write
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

PROJECT = load_project(ROOT)


class StubbedSession:
    """Stands in for boto3.Session: one stubbed client per service, every call checked."""

    region_name = "us-east-1"

    def __init__(self):
        self.clients, self.stubs, self.calls = {}, {}, set()
        for service in ("sts", "config", "s3"):
            client = boto3.client(service, region_name="us-east-1")
            client.meta.events.register(
                "before-call", lambda model, **_: self.calls.add((model.service_model.service_name, model.name))
            )
            self.clients[service], self.stubs[service] = client, Stubber(client)
            self.stubs[service].activate()

    def client(self, service, **_):
        return self.clients[service]

    def verify(self):
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
        assert self.calls <= set(deploy.OPERATIONS), "a call deploy.OPERATIONS does not list"


@pytest.fixture
def session():
    stubbed = StubbedSession()
    yield stubbed
    stubbed.verify()


SANDBOX_ACCOUNT = "111111111111"
ADMIN_ACCOUNT = "444444444444"


def caller(session, account=SANDBOX_ACCOUNT):
    session.stubs["sts"].add_response(
        "get_caller_identity", {"Account": account, "Arn": f"arn:aws:iam::{account}:user/ops", "UserId": "AIDA"}, {}
    )


def deployed(session, *names, token=None, next_token=None):
    """DescribeConformancePacks answering with these pack names (one page)."""
    details = [
        {
            "ConformancePackName": name,
            "ConformancePackArn": f"arn:aws:config:us-east-1:{SANDBOX_ACCOUNT}:conformance-pack/{name}/cp-1",
            "ConformancePackId": "conformance-pack-1",
        }
        for name in names
    ]
    response = {"ConformancePackDetails": details, **({"NextToken": next_token} if next_token else {})}
    session.stubs["config"].add_response("describe_conformance_packs", response, {"NextToken": token} if token else {})


def checked_account(session, account=SANDBOX_ACCOUNT):
    """The read-only checks a deployment makes before any write: who am I, what is deployed here."""
    caller(session, account)
    deployed(session)


def account_status(session, state, reason=None):
    detail = {
        "ConformancePackName": "rdk-guardrails-sandbox",
        "ConformancePackId": "conformance-pack-1",
        "ConformancePackArn": f"arn:aws:config:us-east-1:{SANDBOX_ACCOUNT}:conformance-pack/sandbox/conformance-pack-1",
        "ConformancePackState": state,
        "StackArn": f"arn:aws:cloudformation:us-east-1:{SANDBOX_ACCOUNT}:stack/s/1",
        "LastUpdateRequestedTime": "2026-11-22T10:00:00Z",
    }
    if reason:
        detail["ConformancePackStatusReason"] = reason
    session.stubs["config"].add_response(
        "describe_conformance_pack_status",
        {"ConformancePackStatusDetails": [detail]},
        {"ConformancePackNames": ["rdk-guardrails-sandbox"]},
    )


def test_account_pack_plan_deploys_the_committed_pack_to_its_account(session):
    checked_account(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    assert plan.target == f"account {SANDBOX_ACCOUNT}"
    assert plan.automatic_remediations == ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",)
    assert plan.body == (ROOT / "conformance-packs" / "rdk-guardrails-sandbox.yaml").read_text()
    assert f"arn:aws:iam::{SANDBOX_ACCOUNT}:role/RdkGuardrailsRemediationRole" in plan.body
    assert not plan.via_s3
    assert plan.lines()[0] == f"pack rdk-guardrails-sandbox (account) -> account {SANDBOX_ACCOUNT}"


def test_account_pack_is_put_and_awaited(session):
    checked_account(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    session.stubs["config"].add_response(
        "put_conformance_pack",
        {"ConformancePackArn": f"arn:aws:config:us-east-1:{SANDBOX_ACCOUNT}:conformance-pack/x"},
        {"ConformancePackName": "rdk-guardrails-sandbox", "TemplateBody": plan.body},
    )
    account_status(session, "CREATE_IN_PROGRESS")
    account_status(session, "CREATE_COMPLETE")
    deploy.put_pack(plan, session)
    waits = []
    assert deploy.wait_for_pack(plan, session, poll_seconds=5, sleep=waits.append) == "CREATE_COMPLETE"
    assert waits == [5]


def test_failed_pack_reports_the_reason(session):
    checked_account(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    account_status(session, "CREATE_FAILED", "Lambda RDK-Rule-Function-LAMBDALAYERCHECK not found")
    with pytest.raises(
        DeployError, match="ended in CREATE_FAILED: Lambda RDK-Rule-Function-LAMBDALAYERCHECK not found"
    ):
        deploy.wait_for_pack(plan, session, sleep=lambda _: None)


def test_wait_gives_up_after_the_timeout(session):
    checked_account(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    for _ in range(3):
        account_status(session, "CREATE_IN_PROGRESS")
    with pytest.raises(DeployError, match="still CREATE_IN_PROGRESS after 20 s"):
        deploy.wait_for_pack(plan, session, timeout_seconds=20, poll_seconds=10, sleep=lambda _: None)


def test_organization_pack_is_put_with_excluded_accounts(session):
    checked_account(session, ADMIN_ACCOUNT)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-org-baseline", True, session)
    assert plan.excluded_accounts == ("111111111111",)
    assert "222222222222:role/RdkGuardrailsRemediationRole" in plan.body
    session.stubs["config"].add_response(
        "put_organization_conformance_pack",
        {"OrganizationConformancePackArn": "arn:aws:config:us-east-1:222222222222:organization-conformance-pack/x"},
        {
            "OrganizationConformancePackName": "rdk-guardrails-org-baseline",
            "ExcludedAccounts": ["111111111111"],
            "TemplateBody": plan.body,
        },
    )
    session.stubs["config"].add_response(
        "describe_organization_conformance_pack_statuses",
        {
            "OrganizationConformancePackStatuses": [
                {"OrganizationConformancePackName": "rdk-guardrails-org-baseline", "Status": "CREATE_SUCCESSFUL"}
            ]
        },
        {"OrganizationConformancePackNames": ["rdk-guardrails-org-baseline"]},
    )
    deploy.put_pack(plan, session)
    assert deploy.wait_for_pack(plan, session, sleep=lambda _: None) == "CREATE_SUCCESSFUL"


def test_template_over_the_body_limit_goes_through_s3(session):
    checked_account(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    big = deploy.Plan(**{**plan.__dict__, "body": plan.body + "#" * 60_000, "template_bytes": 70_000, "via_s3": True})
    with pytest.raises(DeployError, match="over the 51200-byte TemplateBody limit: pass --template-bucket"):
        deploy.put_pack(big, session)
    session.stubs["s3"].add_response("put_object", {}, {"Bucket": "packs", "Key": ANY, "Body": ANY})
    session.stubs["config"].add_response(
        "put_conformance_pack",
        {"ConformancePackArn": f"arn:aws:config:us-east-1:{SANDBOX_ACCOUNT}:conformance-pack/x"},
        {"ConformancePackName": "rdk-guardrails-sandbox", "TemplateS3Uri": ANY},
    )
    deploy.put_pack(big, session, bucket="packs")


@pytest.mark.parametrize(
    ("pack", "org", "message"),
    [
        ("rdk-guardrails-org-baseline", False, "scope organization: deploy it with --org"),
        ("rdk-guardrails-sandbox", True, "scope account: deploy it without --org"),
        ("nope", False, "no pack 'nope' in rdk-config.json"),
    ],
)
def test_wrong_pack_or_scope_is_refused_before_any_call(session, pack, org, message):
    with pytest.raises(DeployError, match=message):
        deploy.plan_deploy(PROJECT, pack, org, session)


def test_cli_dry_run_prints_the_plan_and_deploys_nothing(session, monkeypatch, capsys):
    checked_account(session)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(boto3, "Session", lambda **_: session)
    assert main(["deploy", "--pack", "rdk-guardrails-sandbox", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"pack rdk-guardrails-sandbox (account) -> account {SANDBOX_ACCOUNT}" in out
    assert "dry run: nothing deployed" in out


def test_plan_body_is_the_validated_pack_shape(session):
    checked_account(session, ADMIN_ACCOUNT)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-org-baseline", True, session)
    assert set(yaml.safe_load(plan.body)["Resources"]) >= {"LambdaLayerCheck", "VpcEndpointAzCountCheck"}


# ---- checks before any write: each refusal says what to run instead, and makes no write call ----


def project_copy(tmp_path, mutate=None, rebuild=False):
    """The project in tmp_path with rdk-config.json changed by mutate; rebuilt (committed) when rebuild is set."""
    copy_project(tmp_path, ("rules", "remediations", "conformance-packs"))
    data = json.loads((ROOT / "rdk-config.json").read_text())
    if mutate:
        mutate(data)
    (tmp_path / "rdk-config.json").write_text(json.dumps(data, indent=2))
    if rebuild:
        write.stale_files(tmp_path, write=True)
    return load_project(tmp_path)


def layer_rule(data, pack="rdk-guardrails-sandbox"):
    return data["packs"][pack]["rules"]["LAMBDA_LAYER_CHECK"]


def test_pack_changed_in_rdk_config_since_build_is_refused(session, tmp_path):
    project = project_copy(tmp_path, lambda d: layer_rule(d)["parameters"].update(MinLayerVersion="3"))
    with pytest.raises(DeployError) as refused:
        deploy.plan_deploy(project, "rdk-guardrails-sandbox", False, session)
    assert str(refused.value) == (
        f"{tmp_path}/conformance-packs/rdk-guardrails-sandbox.yaml is not what rdk-config.json builds now: "
        "run `rdkpack build`, review the change and commit it, then deploy"
    )


def test_missing_pack_file_is_refused(session, tmp_path):
    project = project_copy(tmp_path)
    (tmp_path / "conformance-packs" / "rdk-guardrails-sandbox.yaml").unlink()
    with pytest.raises(DeployError, match=r"rdk-guardrails-sandbox\.yaml is missing: run `rdkpack build`"):
        deploy.plan_deploy(project, "rdk-guardrails-sandbox", False, session)


def test_project_that_does_not_validate_is_refused(session, tmp_path):
    unapproved = "arn:aws:lambda:us-east-1:999999999999:layer:other:4"
    project = project_copy(
        tmp_path,
        lambda d: layer_rule(d)["remediation"]["parameters"].update(LayerVersionArn=unapproved),
        rebuild=True,
    )
    with pytest.raises(DeployError) as refused:
        deploy.plan_deploy(project, "rdk-guardrails-sandbox", False, session)
    message = str(refused.value)
    assert message.startswith("the project does not validate: ") and "validate: error:" not in message
    assert "LambdaLayerCheckRemediation: Parameters.LayerVersionArn" in message
    assert "[UNAPPROVED_LAYER]" in message
    assert message.endswith("Run `rdkpack validate`, fix, then deploy")


def test_account_pack_in_another_account_is_refused(session):
    caller(session, "999999999999")
    with pytest.raises(DeployError) as refused:
        deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    assert str(refused.value) == (
        f"pack rdk-guardrails-sandbox is for account {SANDBOX_ACCOUNT} (rdk-config.json), but these credentials are "
        f"for account 999999999999: use credentials for {SANDBOX_ACCOUNT}, or give this account its own pack in "
        "rdk-config.json and run `rdkpack build`"
    )


def test_account_pack_where_the_organization_pack_runs_is_refused(session):
    caller(session)
    deployed(session, "my-own-pack", next_token="page-2")
    deployed(session, "OrgConformsPack-rdk-guardrails-org-baseline-x1y2z3", token="page-2")
    with pytest.raises(DeployError) as refused:
        deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    assert str(refused.value) == (
        f"account {SANDBOX_ACCOUNT} already has pack rdk-guardrails-org-baseline (as "
        "OrgConformsPack-rdk-guardrails-org-baseline-x1y2z3); it must not hold rdk-guardrails-sandbox too: "
        f"add {SANDBOX_ACCOUNT} to excludedAccounts of rdk-guardrails-org-baseline in rdk-config.json and redeploy "
        "it first"
    )


def test_organization_pack_from_an_account_holding_the_sandbox_pack_is_refused(session):
    caller(session, ADMIN_ACCOUNT)
    deployed(session, "rdk-guardrails-sandbox")
    with pytest.raises(DeployError, match=f"account {ADMIN_ACCOUNT} already has pack rdk-guardrails-sandbox"):
        deploy.plan_deploy(PROJECT, "rdk-guardrails-org-baseline", True, session)


def test_redeploying_the_same_pack_is_allowed(session):
    caller(session)
    deployed(session, "rdk-guardrails-sandbox", "OrgConformsPack-another-team-pack-abc")
    assert deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session).target == f"account {SANDBOX_ACCOUNT}"


@pytest.mark.parametrize(
    ("deployed_name", "copy"),
    [
        ("OrgConformsPack-rdk-guardrails-org-baseline-x1y2z3", True),
        ("OrgConformsPack-rdk-guardrails-org-baseline-v2-x1y2z3", False),  # the copy of another org pack
        ("OrgConformsPack-rdk-guardrails-org-baseline", False),
        ("rdk-guardrails-org-baseline-x1y2z3", False),
    ],
)
def test_member_copy_of_an_organization_pack_is_recognised_by_its_exact_name(deployed_name, copy):
    assert deploy.is_member_copy(deployed_name, "rdk-guardrails-org-baseline") is copy


def test_a_pack_is_not_deployed_to_a_region_it_does_not_list(session):
    session.region_name = "ap-south-1"
    with pytest.raises(DeployError, match="pack rdk-guardrails-org-baseline lists the regions us-east-1, eu-west-1"):
        deploy.plan_deploy(PROJECT, "rdk-guardrails-org-baseline", True, session)
