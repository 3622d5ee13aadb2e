"""rdkpack scan over several accounts and two regions (moto_server over HTTP): with a role in each
account, and through an aggregator (faked in front of moto, which ignores the source account)."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.stub import Stubber
from botocore.validate import validate_parameters

from rdkpack import aws
from rdkpack.account import inventory, org, role_session
from rdkpack.cli import main
from rdkpack.errors import ScanError
from tests.support.org_scan import (
    ACCOUNTS,
    AZ_MONTH,
    DENIED,
    ITEM_ONLY,
    PACK,
    PROJECT,
    REGIONS,
    ROLE,
    assumed,
)


def role_scan(base, accounts=(*ACCOUNTS, DENIED), concurrency=org.DEFAULT_CONCURRENCY) -> org.OrgReport:
    plan = org.RoleScan(PROJECT, PACK, ROLE, REGIONS, ITEM_ONLY, "api")
    return org.scan_with_role(plan, base, list(accounts), concurrency=concurrency)


def test_each_account_and_region_is_scanned_and_grouped_with_its_endpoint_cost(organization):
    report = role_scan(organization)
    groups = {(g["account"], g["region"]): g for g in report.groups()}
    assert set(groups) == {(a, r) for a in (*ACCOUNTS, DENIED) for r in REGIONS}
    for extra, account in enumerate(ACCOUNTS, start=1):
        for region in REGIONS:
            group = groups[(account, region)]
            # a layerless function, a `*` bucket, an endpoint over the maximum; the clean bucket
            assert group["summary"] == {"COMPLIANT": 1, "NON_COMPLIANT": 3, "NOT_APPLICABLE": 0}, (account, region)
            assert group["endpoint_az_cost_per_month"] == pytest.approx(extra * AZ_MONTH)
    assert report.totals()["endpoint_az_cost_per_month"] == pytest.approx(2 * (1 + 2) * AZ_MONTH)
    buckets = {(r.account, r.region, r.resource_id) for r in report.before if r.resource_type == "AWS::S3::Bucket"}
    assert len(buckets) == 8, "each bucket is scanned in its own region only"


def test_an_account_that_cannot_be_assumed_is_reported_and_the_others_are_scanned(organization):
    report = role_scan(organization)
    assert [(f.account, f.region) for f in report.failures] == [(DENIED, r) for r in REGIONS]
    assert all(f.reason.startswith(f"cannot assume {ROLE}: access denied for sts:AssumeRole") for f in report.failures)
    # Who must act: the member account's role (and the template that creates it), or the scanner's permission.
    assert (
        f"in account {DENIED}, the role is missing or does not trust the scanning account" in report.failures[0].reason
    )
    assert "prerequisites/scan-role.yaml" in report.failures[0].reason
    assert {r.account for r in report.before} == set(ACCOUNTS)


def test_any_concurrency_gives_the_same_rows_in_the_same_order_and_assumes_each_role_once(organization):
    assumed_accounts = []
    organization.events.register_first(
        "before-call.sts.AssumeRole", lambda params, **_: assumed_accounts.append(params["body"]["RoleArn"])
    )
    rows = lambda report: [(r.account, r.region, r.rule, r.resource_id, r.compliance) for r in report.before]  # noqa: E731
    one, many = role_scan(organization, concurrency=1), role_scan(organization, concurrency=8)
    assert rows(one) == rows(many) and rows(one)
    assert [(f.account, f.region) for f in one.failures] == [(f.account, f.region) for f in many.failures]
    assert sorted(assumed_accounts) == sorted(2 * [f"arn:aws:iam::{a}:role/{ROLE}" for a in (*ACCOUNTS, DENIED)])


@contextlib.contextmanager
def answered_in_members(event: str, handler):
    """Every session the scan makes in a member account answers `event` with handler first (as AWS would there)."""
    original = org.assumed_session

    def session_for(credentials, region):
        made = original(credentials, region)
        made.events.register_first(event, handler)
        return made

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(org, "assumed_session", session_for)
        yield


def aws_error(code: str, status: int = 400):
    """A before-call answer: AWS's error, as the client sees it once its retries are over."""
    body = {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {}}
    return lambda **_: (SimpleNamespace(status_code=status, headers={}), body)


LAMBDA_RULES = ("LAMBDA_LAYER_CHECK",)  # of ITEM_ONLY, the rule that reads Lambda functions


def test_throttling_that_outlasts_the_retries_loses_only_the_rules_of_that_api(organization):
    """ListFunctions throttled past every attempt in one account and region: the bucket and endpoint rules keep
    their verdicts there, the failure names the Lambda rule, the API and what to do."""
    plan = org.RoleScan(PROJECT, PACK, ROLE, ("us-east-1",), ITEM_ONLY, "api")
    with answered_in_members("before-call.lambda.ListFunctions", aws_error("ThrottlingException")):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    [failure] = report.failures
    assert (failure.account, failure.region, failure.rules) == (ACCOUNTS[0], "us-east-1", LAMBDA_RULES)
    assert failure.reason.startswith("LAMBDA_LAYER_CHECK not evaluated: reading AWS::Lambda::Function: AWS throttled ")
    assert "lambda:ListFunctions (ThrottlingException) through all 10 attempts" in failure.reason
    assert "--resume" in failure.reason and "lower --concurrency" in failure.reason
    assert {r.rule for r in report.before} == set(ITEM_ONLY) - set(LAMBDA_RULES)
    assert report.as_dict()["failures"] == [
        {"account": ACCOUNTS[0], "region": "us-east-1", "reason": failure.reason, "rules": list(LAMBDA_RULES)}
    ]


def test_a_permission_the_member_role_lacks_is_the_member_roles_to_grant(organization):
    plan = org.RoleScan(PROJECT, PACK, ROLE, ("us-east-1",), ITEM_ONLY, "api")
    with answered_in_members("before-call.lambda.ListFunctions", aws_error("AccessDeniedException", 403)):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    [failure] = report.failures
    assert failure.rules == LAMBDA_RULES
    assert failure.reason.endswith(
        f"access denied for lambda:ListFunctions: grant it to role {ROLE} in account {ACCOUNTS[0]} "
        "(prerequisites/scan-role.yaml grants every scan action)"
    )
    assert "scanning identity" not in failure.reason


def test_member_clients_retry_adaptively_and_lambda_is_paced_per_account_and_region(organization):
    """Each pair's Lambda requests stay under Lambda's control-plane rate, whatever the latency; another pair
    (another account or region) has its own pace."""
    keys = org.RoleScan(PROJECT, PACK, ROLE, REGIONS).credentials(organization.client("sts"), ACCOUNTS[0])
    one, other = (org.assumed_session(keys, region) for region in REGIONS)
    retries = aws.client(one, "lambda").meta.config.retries
    assert retries == {"mode": "adaptive", "total_max_attempts": 10}
    slept = []
    for session in (one, other):
        session.lambda_pace.clock = lambda: 100.0  # every request at the same instant
        session.lambda_pace.sleep = slept.append
    for _ in range(3):
        aws.client(one, "lambda").list_functions()
    aws.client(other, "lambda").list_functions()
    assert slept == [
        pytest.approx(1 / role_session.LAMBDA_REQUESTS_PER_SECOND),
        pytest.approx(2 / role_session.LAMBDA_REQUESTS_PER_SECOND),
    ]


def test_a_suspended_account_named_with_accounts_is_blamed_on_its_state_not_its_role(organization):
    suspended = {"Account": {"Id": DENIED, "Arn": "arn", "State": "SUSPENDED", "Name": "old"}}
    organization.events.register(
        "before-call.organizations.DescribeAccount",
        lambda **_: (SimpleNamespace(status_code=200, headers={}), {**suspended, "ResponseMetadata": {}}),
    )
    report = role_scan(organization, [DENIED])
    assert {f.reason for f in report.failures} == {
        f"cannot assume {ROLE}: account {DENIED} is SUSPENDED in the organization, and AWS refuses its roles until "
        "it is reinstated: nothing to fix in the role (leave it out of --accounts)"
    }


def test_a_region_that_refuses_the_roles_credentials_is_named_as_not_enabled(organization):
    """An opt-in region not enabled in the account answers every call as if the credentials were unknown."""

    def opt_in_region(context, **_):
        if context.get("client_region") == "ap-east-1":
            error = {
                "Error": {
                    "Code": "AuthFailure",
                    "Message": "AWS was not able to validate the provided access credentials",
                }
            }
            return SimpleNamespace(status_code=401, headers={}), {**error, "ResponseMetadata": {}}
        return None

    plan = org.RoleScan(PROJECT, PACK, ROLE, ("ap-east-1", "us-east-1"), ("VPC_ENDPOINT_AZ_COUNT_CHECK",), "api")
    with answered_in_members("before-call", opt_in_region):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    [failure] = report.failures
    assert (failure.account, failure.region) == (ACCOUNTS[0], "ap-east-1")
    assert failure.reason.startswith("region ap-east-1 does not accept the role's credentials")
    assert f"not enabled in account {ACCOUNTS[0]}" in failure.reason
    assert {r.region for r in report.before} == {"us-east-1"}


def test_assumed_sessions_share_one_session_classes_and_models_but_not_credentials():
    """A client per account and region costs little CPU (bench org_scan_latency): one botocore session, one
    class and one model per service; each client still signs with its own account's credentials."""
    keys = [{"AccessKeyId": f"ASIA{n}", "SecretAccessKey": f"secret{n}", "SessionToken": f"token{n}"} for n in range(4)]
    sessions = [org.assumed_session(credentials, region) for credentials in keys[:2] for region in REGIONS]
    clients = [session.client("ec2") for session in sessions]
    assert len({type(client) for client in clients}) == 1
    assert len({id(client.meta.service_model) for client in clients}) == 1
    assert [client.meta.region_name for client in clients] == [r for _ in keys[:2] for r in REGIONS]
    signed = [client._request_signer._credentials.get_frozen_credentials() for client in clients]
    assert [(f.access_key, f.secret_key, f.token) for f in signed] == [
        (k["AccessKeyId"], k["SecretAccessKey"], k["SessionToken"]) for k in keys[:2] for _ in REGIONS
    ]
    elsewhere = boto3.Session(region_name="us-east-1").client("ec2")
    assert type(elsewhere) is not type(clients[0]), "other sessions build their classes as botocore does"


def test_a_handler_registered_on_an_assumed_session_reaches_only_its_clients(organization):
    keys = {"AccessKeyId": "ASIA0", "SecretAccessKey": "s", "SessionToken": "t"}
    mine, other = org.assumed_session(keys, "us-east-1"), org.assumed_session(keys, "us-east-1")
    answer = SimpleNamespace(status_code=200, headers={}), {"Regions": [], "ResponseMetadata": {}}
    mine.events.register_first("before-call.ec2.DescribeRegions", lambda **_: answer)
    assert mine.client("ec2").describe_regions()["Regions"] == []
    assert other.client("ec2").describe_regions()["Regions"], "moto answers the other session"


# ---- through an aggregator ----


def aggregator_answers(base, monkeypatch):
    """The aggregator's two APIs answered from the members' items (moto's ignore the source account)."""
    items = []
    for account in ACCOUNTS:
        for region in REGIONS:
            session = assumed(base, account, region)
            for kind in inventory.RESOURCE_TYPES:
                for item in inventory.items_from_apis(session, kind, with_tags=False):
                    items.append({**item, "accountId": account, "awsRegion": region})
    model = base.client("config").meta.service_model

    def recorded(item):
        return {
            "accountId": item["accountId"],
            "awsRegion": item["awsRegion"],
            "resourceType": item["resourceType"],
            "resourceId": item["resourceId"],
            "resourceName": item["resourceName"],
            "configurationItemStatus": "OK",
            "configuration": json.dumps(item["configuration"]),
            "supplementaryConfiguration": {k: json.dumps(v) for k, v in item["supplementaryConfiguration"].items()},
        }

    def answer(operation, body):
        validate_parameters(body, model.operation_model(operation).output_shape)
        return SimpleNamespace(status_code=200, headers={}), body

    def listed(params, **_):
        kind = json.loads(params["body"])["ResourceType"]
        found = [
            {
                "SourceAccountId": i["accountId"],
                "SourceRegion": i["awsRegion"],
                "ResourceId": i["resourceId"],
                "ResourceType": kind,
            }
            for i in items
            if i["resourceType"] == kind
        ]
        return answer("ListAggregateDiscoveredResources", {"ResourceIdentifiers": found})

    def batch(params, **_):
        wanted = json.loads(params["body"])["ResourceIdentifiers"]
        assert len(wanted) <= 100
        keys = {(w["SourceAccountId"], w["SourceRegion"], w["ResourceId"]) for w in wanted}
        found = [recorded(i) for i in items if (i["accountId"], i["awsRegion"], i["resourceId"]) in keys]
        return answer("BatchGetAggregateResourceConfig", {"BaseConfigurationItems": found})

    base.events.register("before-call.config-service.ListAggregateDiscoveredResources", listed)
    base.events.register("before-call.config-service.BatchGetAggregateResourceConfig", batch)


def test_an_aggregator_gives_the_verdicts_the_roles_give_for_item_only_rules(organization, monkeypatch):
    aggregator_answers(organization, monkeypatch)
    through_aggregator = org.scan_aggregator(PROJECT, PACK, organization, "org-aggregator")
    through_roles = role_scan(organization, ACCOUNTS)
    key = lambda r: (r.account, r.region, r.rule, r.resource_id, r.compliance)  # noqa: E731
    assert sorted(map(key, through_aggregator.before)) == sorted(map(key, through_roles.before))
    # Both read live APIs (Lambda's code-signing lists, CloudWatch's BytesProcessed), not the recorded items.
    assert list(through_aggregator.skipped_rules) == ["LAMBDA_CODE_SIGNING_CHECK", "VPC_ENDPOINT_IDLE_CHECK"]
    assert "--role-name" in through_aggregator.skipped_rules["LAMBDA_CODE_SIGNING_CHECK"]
    assert "--role-name" in through_aggregator.skipped_rules["VPC_ENDPOINT_IDLE_CHECK"]


# ---- the CLI ----


def test_the_cli_prints_the_scan_grouped_by_account_and_region(organization, monkeypatch, capsys):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    argv = ["scan", "--json", "--pack", PACK, "--rules", *ITEM_ONLY, "--source", "api"]
    assert main([*argv, "--accounts", *ACCOUNTS, "--role-name", ROLE, "--regions", *REGIONS]) == 0
    output = json.loads(capsys.readouterr().out)
    assert [(a["account"], a["region"]) for a in output["accounts"]] == [
        (a, r) for a in ACCOUNTS for r in sorted(REGIONS)
    ]
    assert output["totals"]["summary"]["NON_COMPLIANT"] == 12
    assert all(result["account"] == group["account"] for group in output["accounts"] for result in group["results"])


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--accounts", "555555555555"], "--accounts and --org need --role-name"),
        (["--accounts", "5555"], "expected a 12-digit account ID, got '5555'"),
        (["--aggregator", "a", "--org", "--role-name", "R"], "--aggregator reads every member from one account"),
        (["--accounts", "555555555555", "--org", "--role-name", "R"], "give --accounts or --org, not both"),
    ],
)
def test_wrong_organization_options_are_one_line_and_exit_2(extra, message, monkeypatch, capsys):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["scan", *extra]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_an_unexpected_error_in_one_account_is_its_failure_and_the_others_are_kept(organization, monkeypatch):
    real = org.RoleScan.region

    def flaky(self, credentials, account, region):
        if account == ACCOUNTS[1]:
            raise RuntimeError("boom")
        return real(self, credentials, account, region)

    monkeypatch.setattr(org.RoleScan, "region", flaky)
    report = role_scan(organization, ACCOUNTS)
    assert {r.account for r in report.before} == {ACCOUNTS[0]}
    assert [(f.account, f.reason) for f in report.failures] == [(ACCOUNTS[1], "scan stopped: RuntimeError: boom")] * 2


def test_org_lists_active_accounts_by_state_without_the_management_account(monkeypatch, capsys):
    session = boto3.Session(aws_access_key_id="x", aws_secret_access_key="x", region_name="us-east-1")
    client = session.client("organizations")
    stub = Stubber(client)
    accounts = [
        {"Id": "555555555555", "State": "ACTIVE"},
        {"Id": "666666666666", "State": "SUSPENDED", "Status": "ACTIVE"},  # State wins over the retired Status
        {"Id": PROJECT.management_account_id, "State": "ACTIVE"},
        {"Id": "111111111111", "State": "ACTIVE"},  # the sandbox pack's account, excluded by the org pack
    ]
    stub.add_response("list_accounts", {"Accounts": accounts}, {})
    stub.activate()
    monkeypatch.setattr(org.aws, "client", lambda *_: client)
    notes = []
    found = org.organization_accounts(session, notes)
    assert found == sorted(["555555555555", PROJECT.management_account_id, "111111111111"])
    assert notes == ["account 666666666666 is SUSPENDED in the organization: not scanned"]
    planned = []
    monkeypatch.setattr(
        org, "organization_accounts", lambda *_: ["555555555555", PROJECT.management_account_id, "111111111111"]
    )
    monkeypatch.setattr(
        org, "scan_with_role", lambda plan, s, accounts, **_: planned.append(accounts) or org.OrgReport("p", "s", [])
    )
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    assert main(["scan", "--json", "--pack", "rdk-guardrails-org-baseline", "--org", "--role-name", ROLE]) == 0
    assert planned == [["555555555555"]]


def test_unprocessed_keys_are_asked_again_a_bounded_number_of_times():
    asked, pauses = [], []

    def fetch(batch):
        asked.append(list(batch))
        return {"found": batch[:1], "left": batch[1:]}

    found = inventory.read_in_batches(fetch, ["a", "b", "c"], ("found", "left"), sleep=pauses.append)
    assert found == ["a", "b", "c"] and asked == [["a", "b", "c"], ["b", "c"], ["c"]]
    assert pauses == [0.2, 0.4]
    with pytest.raises(ScanError, match=r"left 1 item\(s\) unprocessed after 5 attempts \(first: x\)"):
        inventory.read_in_batches(lambda batch: {"left": batch}, ["x"], ("found", "left"), sleep=pauses.append)


def test_regions_all_scans_each_accounts_enabled_regions_and_notes_the_others(organization):
    """--regions all: DescribeRegions (AllRegions) through each account's role; a region not enabled is a note."""
    model = organization.client("ec2").meta.service_model.operation_model("DescribeRegions")
    listed = []

    def regions(params, **_):
        listed.append(params)
        answer = {
            "Regions": [
                {"RegionName": "us-east-1", "OptInStatus": "opt-in-not-required"},
                {"RegionName": "eu-west-1", "OptInStatus": "opted-in"},
                {"RegionName": "ap-east-1", "OptInStatus": "not-opted-in"},
            ]
        }
        validate_parameters(answer, model.output_shape)
        return SimpleNamespace(status_code=200, headers={}), answer

    plan = org.RoleScan(PROJECT, PACK, ROLE, (org.ALL_REGIONS,), ITEM_ONLY, "api")
    with answered_in_members("before-call.ec2.DescribeRegions", regions):
        report = org.scan_with_role(plan, organization, [*ACCOUNTS, DENIED], concurrency=4)
    assert {(r.account, r.region) for r in report.before} == {(a, r) for a in ACCOUNTS for r in REGIONS}
    assert report.notes == [f"account {a}: 1 region(s) not enabled, skipped: ap-east-1" for a in ACCOUNTS]
    [failure] = report.failures  # the account whose role is refused: once, in the scanning region
    assert (failure.account, failure.region) == (DENIED, "us-east-1") and "the role is missing" in failure.reason
    assert len(listed) == len(ACCOUNTS)


def test_regions_all_stands_alone(capsys):
    arguments = ["scan", "--region", "us-east-1", "--accounts", ACCOUNTS[0], "--role-name", ROLE]
    assert main([*arguments, "--regions", "all", "eu-west-1"]) == 2
    assert capsys.readouterr().err.strip() == (
        "error: --regions all stands alone: it scans each account's enabled regions"
    )


def test_a_recorder_that_skips_the_packs_types_is_noted_per_account_and_region_and_read_from_the_apis(organization):
    """--source auto in a member region whose recorder records only EC2 instances: the rules' types come from the
    service APIs there (the same verdicts), and a note names the account, region and types."""
    ok = SimpleNamespace(status_code=200, headers={})
    status = {"ConfigurationRecordersStatus": [{"name": "default", "recording": True}], "ResponseMetadata": {}}
    group = {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::EC2::Instance"]}
    recorders = {
        "ConfigurationRecorders": [{"name": "default", "roleARN": "arn:aws:iam::1:role/r", "recordingGroup": group}],
        "ResponseMetadata": {},
    }
    rows = lambda report: sorted((r.rule, r.resource_id, r.compliance) for r in report.before)  # noqa: E731
    by_api = org.scan_with_role(
        org.RoleScan(PROJECT, PACK, ROLE, ("eu-west-1",), ITEM_ONLY, "api"), organization, [ACCOUNTS[0]]
    )
    plan = org.RoleScan(PROJECT, PACK, ROLE, ("eu-west-1",), ITEM_ONLY, "auto")
    with (
        answered_in_members("before-call.config.DescribeConfigurationRecorderStatus", lambda **_: (ok, status)),
        answered_in_members("before-call.config.DescribeConfigurationRecorders", lambda **_: (ok, recorders)),
    ):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    assert rows(report) == rows(by_api) and rows(report)
    [note] = report.notes
    assert note.startswith(f"account {ACCOUNTS[0]} eu-west-1: the AWS Config recorder does not record ")
    assert note.endswith(": read from the service APIs")
    assert all(kind in note for kind in ("AWS::Lambda::Function", "AWS::S3::Bucket", "AWS::EC2::VPCEndpoint"))
    assert report.as_dict()["notes"] == [note]


def test_regions_all_where_the_role_cannot_list_regions_scans_the_packs_regions_and_says_what_to_grant(organization):
    """A scan role deployed before it gained ec2:DescribeRegions: that account's pack regions, and a note naming
    the permission and the role to grant it to, never a silent single region."""
    plan = org.RoleScan(PROJECT, PACK, ROLE, (org.ALL_REGIONS,), ITEM_ONLY, "api", REGIONS)
    with answered_in_members("before-call.ec2.DescribeRegions", aws_error("UnauthorizedOperation", 403)):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    assert {(r.account, r.region) for r in report.before} == {(ACCOUNTS[0], r) for r in REGIONS}
    assert report.notes == [
        f"account {ACCOUNTS[0]}: cannot list its enabled regions (access denied for ec2:DescribeRegions: grant it to "
        f"role {ROLE} in account {ACCOUNTS[0]} (prerequisites/scan-role.yaml grants every scan action)): scanned "
        f"the pack's regions instead: {', '.join(REGIONS)}"
    ]


def test_credentials_near_their_expiry_are_asked_for_again(organization):
    """A role session lasts an hour; a pair that starts within CREDENTIALS_REFRESH of the end gets new ones."""
    asked = []
    plan = org.RoleScan(PROJECT, PACK, ROLE, REGIONS)
    expiry = iter([datetime.now(UTC) + timedelta(minutes=5), datetime.now(UTC) + timedelta(hours=1)])

    def credentials(sts, account):
        asked.append(account)
        return {"AccessKeyId": "A", "SecretAccessKey": "S", "SessionToken": "T", "Expiration": next(expiry)}

    cache = org.AccountCredentials(plan, organization)
    cache.plan = SimpleNamespace(credentials=credentials)
    for _ in range(3):
        cache.of(ACCOUNTS[0])
    assert asked == [ACCOUNTS[0]] * 2  # the second one lasts: asked for no more


def test_a_network_error_on_assume_role_is_that_accounts_failure_not_the_scans(organization):
    def unreachable(**_):
        raise EndpointConnectionError(endpoint_url="https://sts.us-east-1.amazonaws.com")

    organization.events.register_first("before-call.sts.AssumeRole", unreachable)
    report = role_scan(organization, [ACCOUNTS[0]])
    assert {f.reason for f in report.failures} == {
        f"cannot assume {ROLE}: cannot reach AWS (Could not connect to the endpoint URL: "
        '"https://sts.us-east-1.amazonaws.com"): check the network, any proxy, and the region'
    }


@pytest.mark.parametrize("source", ["auto", "config"])
def test_a_recorder_that_cannot_be_read_costs_a_warning_under_auto_and_its_rules_under_config(organization, source):
    """The role lacks config:DescribeConfigurationRecorders (it came with this version): under auto the types are
    read from the APIs, with a note; under config every rule of the pair is lost, with why."""
    ok = SimpleNamespace(status_code=200, headers={})
    status = {"ConfigurationRecordersStatus": [{"name": "default", "recording": True}], "ResponseMetadata": {}}
    plan = org.RoleScan(PROJECT, PACK, ROLE, ("eu-west-1",), ITEM_ONLY, source)
    with (
        answered_in_members("before-call.config.DescribeConfigurationRecorderStatus", lambda **_: (ok, status)),
        answered_in_members("before-call.config.DescribeConfigurationRecorders", aws_error("AccessDeniedException")),
    ):
        report = org.scan_with_role(plan, organization, [ACCOUNTS[0]])
    denied = f"access denied for config:DescribeConfigurationRecorders: grant it to role {ROLE} in account"
    if source == "auto":
        assert {r.rule for r in report.before} == set(ITEM_ONLY) and not report.failures
        [note] = report.notes
        assert f"the AWS Config recorder cannot be read ({denied}" in note and note.endswith("service APIs")
    else:
        assert not report.before and {r for f in report.failures for r in f.rules} == set(ITEM_ONLY)
        assert all(denied in f.reason for f in report.failures)


def test_an_account_and_region_without_resources_is_in_the_report_with_zero_counts(organization):
    """Scanned and empty is not the same as not scanned: the report says how many accounts it covered."""
    plan = org.RoleScan(PROJECT, PACK, ROLE, ("ap-southeast-2",), ITEM_ONLY, "api")
    report = org.scan_with_role(plan, organization, list(ACCOUNTS))
    assert not report.before and not report.failures
    groups = report.groups()
    assert [(g["account"], g["region"]) for g in groups] == [(a, "ap-southeast-2") for a in ACCOUNTS]
    assert all(not any(g["summary"].values()) for g in groups)
    assert report.totals(groups)["accounts"] == len(ACCOUNTS)
