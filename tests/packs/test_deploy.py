"""rdkpack deploy against stubbed AWS Config, STS and S3 (moto has no conformance packs)."""

from __future__ import annotations

import boto3
import pytest
import yaml
from botocore.stub import ANY, Stubber

from rdkpack import deploy
from rdkpack.cli import main
from rdkpack.config import load_project
from rdkpack.errors import DeployError
from tests.conftest import ROOT

PROJECT = load_project(ROOT)


class StubbedSession:
    """Stands in for boto3.Session: one stubbed client per service, every call checked."""

    def __init__(self):
        self.clients, self.stubs = {}, {}
        for service in ("sts", "config", "s3"):
            client = boto3.client(service, region_name="us-east-1")
            self.clients[service], self.stubs[service] = client, Stubber(client)
            self.stubs[service].activate()

    def client(self, service, **_):
        return self.clients[service]

    def verify(self):
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()


@pytest.fixture
def session():
    stubbed = StubbedSession()
    yield stubbed
    stubbed.verify()


def caller(session, account="999999999999"):
    session.stubs["sts"].add_response(
        "get_caller_identity", {"Account": account, "Arn": f"arn:aws:iam::{account}:user/ops", "UserId": "AIDA"}, {}
    )


def account_status(session, state, reason=None):
    detail = {
        "ConformancePackName": "rdk-guardrails-sandbox",
        "ConformancePackId": "conformance-pack-1",
        "ConformancePackArn": "arn:aws:config:us-east-1:999999999999:conformance-pack/sandbox/conformance-pack-1",
        "ConformancePackState": state,
        "StackArn": "arn:aws:cloudformation:us-east-1:999999999999:stack/s/1",
        "LastUpdateRequestedTime": "2026-11-22T10:00:00Z",
    }
    if reason:
        detail["ConformancePackStatusReason"] = reason
    session.stubs["config"].add_response(
        "describe_conformance_pack_status",
        {"ConformancePackStatusDetails": [detail]},
        {"ConformancePackNames": ["rdk-guardrails-sandbox"]},
    )


def test_account_pack_plan_is_built_for_the_callers_account(session):
    caller(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    assert plan.target == "account 999999999999"
    assert plan.automatic_remediations == ("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",)
    assert "arn:aws:iam::999999999999:role/RdkGuardrailsRemediationRole" in plan.body
    assert not plan.via_s3
    assert plan.lines()[0] == "pack rdk-guardrails-sandbox (account) -> account 999999999999"


def test_account_pack_is_put_and_awaited(session):
    caller(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    session.stubs["config"].add_response(
        "put_conformance_pack",
        {"ConformancePackArn": "arn:aws:config:us-east-1:999999999999:conformance-pack/x"},
        {"ConformancePackName": "rdk-guardrails-sandbox", "TemplateBody": plan.body},
    )
    account_status(session, "CREATE_IN_PROGRESS")
    account_status(session, "CREATE_COMPLETE")
    deploy.put_pack(plan, session)
    waits = []
    assert deploy.wait_for_pack(plan, session, poll_seconds=5, sleep=waits.append) == "CREATE_COMPLETE"
    assert waits == [5]


def test_failed_pack_reports_the_reason(session):
    caller(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    account_status(session, "CREATE_FAILED", "Lambda RDK-Rule-Function-LAMBDALAYERCHECK not found")
    with pytest.raises(
        DeployError, match="ended in CREATE_FAILED: Lambda RDK-Rule-Function-LAMBDALAYERCHECK not found"
    ):
        deploy.wait_for_pack(plan, session, sleep=lambda _: None)


def test_wait_gives_up_after_the_timeout(session):
    caller(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    for _ in range(3):
        account_status(session, "CREATE_IN_PROGRESS")
    with pytest.raises(DeployError, match="still CREATE_IN_PROGRESS after 20 s"):
        deploy.wait_for_pack(plan, session, timeout_seconds=20, poll_seconds=10, sleep=lambda _: None)


def test_organization_pack_is_put_with_excluded_accounts(session):
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
    caller(session)
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-sandbox", False, session)
    big = deploy.Plan(**{**plan.__dict__, "body": plan.body + "#" * 60_000, "template_bytes": 70_000, "via_s3": True})
    with pytest.raises(DeployError, match="over the 51200-byte TemplateBody limit: pass --template-bucket"):
        deploy.put_pack(big, session)
    session.stubs["s3"].add_response("put_object", {}, {"Bucket": "packs", "Key": ANY, "Body": ANY})
    session.stubs["config"].add_response(
        "put_conformance_pack",
        {"ConformancePackArn": "arn:aws:config:us-east-1:999999999999:conformance-pack/x"},
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
    caller(session)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(boto3, "Session", lambda **_: session)
    assert main(["deploy", "--pack", "rdk-guardrails-sandbox", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "pack rdk-guardrails-sandbox (account) -> account 999999999999" in out
    assert "dry run: nothing deployed" in out


def test_plan_body_is_the_validated_pack_shape(session):
    plan = deploy.plan_deploy(PROJECT, "rdk-guardrails-org-baseline", True, session)
    assert set(yaml.safe_load(plan.body)["Resources"]) >= {"LambdaLayerCheck", "VpcEndpointAzCountCheck"}
