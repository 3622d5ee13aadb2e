"""rdkpack scan --security-hub: ASFF findings checked against botocore's shapes and the documented limits, imported
into moto's Security Hub in batches of 100, updated in place by a re-scan, retried when refused, each account's
imported by that account."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import re
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from hypothesis import given
from hypothesis import strategies as st

from rdkpack import aws
from rdkpack.account import org
from rdkpack.account.demo_account import seed
from rdkpack.account.scan import ERROR, Result, ScanReport
from rdkpack.cli import main
from rdkpack.errors import SecurityHubError
from rdkpack.project.config import load_project
from rdkpack.report import security_hub as sh
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
PACK = "rdk-guardrails-sandbox"
ACCOUNT, REGION = "123456789012", "us-east-1"
TARGET = sh.Target(ACCOUNT, REGION, "aws")
NOW, LATER = "2026-11-02T10:00:00.000Z", "2026-11-03T10:00:00.000Z"
MODEL = boto3.Session(region_name=REGION).client("securityhub").meta.service_model
IMPORT = MODEL.operation_model("BatchImportFindings")
# AwsSecurityFinding's limits in the Security Hub API reference (botocore's model carries none of them).
LIMITS = {"Id": 512, "GeneratorId": 512, "Title": 256, "Description": 1024}
ID_FORMAT = re.compile(r"rdkpack/[a-z0-9-]+/\d{12}/[A-Z0-9_]+/[0-9a-f]{64}")
HOSTILE = ["a\x00b\x1b[31mred\x7f", "\u202eevil\u200b", "lone \ud800 surrogate", "x" * 5000, " \t\n", ""]


def result(resource_id="orders", compliance="NON_COMPLIANT", annotation="The function has no layers.", **kw):
    return Result(
        kw.get("rule", "LAMBDA_LAYER_CHECK"),
        kw.get("kind", "AWS::Lambda::Function"),
        resource_id,
        compliance,
        annotation,
    )


def strings(value):
    """Every string in a finding, keys included."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key
            yield from strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from strings(inner)
    elif isinstance(value, str):
        yield value


def enum_violations(shape, value, path: str = "finding"):
    """Values outside their shape's enum, which botocore's validator does not check."""
    if shape.type_name == "structure":
        for key, inner in value.items():
            yield from enum_violations(shape.members[key], inner, f"{path}.{key}")
    elif shape.type_name == "list":
        for index, inner in enumerate(value):
            yield from enum_violations(shape.member, inner, f"{path}[{index}]")
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        yield f"{path}={value!r}"


def assert_valid(finding: dict) -> None:
    """botocore's input shape (required fields, types, lengths' minimums), its enums, then ASFF's maximums and
    string pattern, which botocore leaves to the service."""
    validate_parameters({"Findings": [finding]}, IMPORT.input_shape)
    assert list(enum_violations(IMPORT.input_shape.members["Findings"].member, finding)) == []
    assert set(IMPORT.input_shape.members["Findings"].member.required_members) <= set(finding)
    for key, limit in LIMITS.items():
        assert len(finding[key]) <= limit, key
    assert all(len(k) <= 128 and len(v) <= 2048 for k, v in finding["ProductFields"].items())
    assert len(finding["Severity"]["Original"]) <= 64 and len(finding["Resources"][0]["Region"]) <= 16
    for text in strings(finding):
        assert re.fullmatch(r".*\S.*", text), repr(text)  # the model's pattern for every string
        assert not any(unicodedata.category(c) in ("Cc", "Cf", "Cs") for c in text), repr(text)
    assert ID_FORMAT.fullmatch(finding["Id"])


# ---- one evaluation as one finding ----


@pytest.mark.parametrize("resource_id", HOSTILE, ids=["control", "bidi", "surrogate", "5000-chars", "blank", "empty"])
@pytest.mark.parametrize("compliance", ["NON_COMPLIANT", "COMPLIANT", "NOT_APPLICABLE", ERROR])
def test_a_finding_matches_botocores_shape_and_asffs_limits_whatever_the_resource_id(resource_id, compliance):
    finding = sh.to_finding(TARGET, result(resource_id, compliance, annotation=resource_id), PACK, NOW)
    assert_valid(finding)
    assert finding["Description"].strip()


@given(resource_id=st.text(), annotation=st.text(), rule=st.from_regex(r"[A-Z][A-Z0-9_]{0,200}", fullmatch=True))
def test_any_text_gives_a_valid_finding_with_a_stable_id(resource_id, annotation, rule):
    made = result(resource_id, annotation=annotation, rule=rule)
    finding = sh.to_finding(TARGET, made, PACK, NOW)
    assert_valid(finding)
    assert finding["Id"] == sh.to_finding(TARGET, made, "another-pack", LATER)["Id"]


@pytest.mark.parametrize(
    ("compliance", "status", "state", "workflow", "severity"),
    [
        ("NON_COMPLIANT", "FAILED", "ACTIVE", "NEW", "MEDIUM"),
        ("COMPLIANT", "PASSED", "ARCHIVED", "RESOLVED", "INFORMATIONAL"),
        ("NOT_APPLICABLE", "NOT_AVAILABLE", "ARCHIVED", "RESOLVED", "INFORMATIONAL"),
        (ERROR, "NOT_AVAILABLE", "ACTIVE", "NEW", "INFORMATIONAL"),
    ],
)
def test_each_verdict_maps_to_its_compliance_record_state_workflow_and_severity(
    compliance, status, state, workflow, severity
):
    finding = sh.to_finding(TARGET, result(compliance=compliance), PACK, NOW)
    assert (finding["Compliance"], finding["RecordState"], finding["Workflow"]) == (
        {"Status": status},
        state,
        {"Status": workflow},
    )
    assert (
        finding["Severity"]
        == finding["FindingProviderFields"]["Severity"]
        == {"Label": severity, "Original": compliance}
    )


def test_a_non_compliant_function_is_a_whole_asff_finding():
    assert sh.to_finding(TARGET, result(), PACK, NOW) == {
        "SchemaVersion": "2018-10-08",
        "Id": "rdkpack/us-east-1/123456789012/LAMBDA_LAYER_CHECK/"
        + hashlib.sha256(b"AWS::Lambda::Function|orders").hexdigest(),
        "ProductArn": "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default",
        "GeneratorId": "rdkpack/LAMBDA_LAYER_CHECK",
        "AwsAccountId": ACCOUNT,
        "Types": ["Software and Configuration Checks/AWS Config Analysis"],
        "CreatedAt": NOW,
        "UpdatedAt": NOW,
        "Severity": {"Label": "MEDIUM", "Original": "NON_COMPLIANT"},
        "FindingProviderFields": {
            "Severity": {"Label": "MEDIUM", "Original": "NON_COMPLIANT"},
            "Types": ["Software and Configuration Checks/AWS Config Analysis"],
        },
        "Title": "LAMBDA_LAYER_CHECK NON_COMPLIANT: AWS::Lambda::Function orders",
        "Description": "The function has no layers.",
        "Resources": [
            {
                "Type": "AwsLambdaFunction",
                "Id": "arn:aws:lambda:us-east-1:123456789012:function:orders",
                "Partition": "aws",
                "Region": "us-east-1",
            }
        ],
        "Compliance": {"Status": "FAILED"},
        "RecordState": "ACTIVE",
        "Workflow": {"Status": "NEW"},
        "ProductFields": {
            "rdkpack/Rule": "LAMBDA_LAYER_CHECK",
            "rdkpack/Pack": PACK,
            "rdkpack/Verdict": "NON_COMPLIANT",
            "rdkpack/ResourceType": "AWS::Lambda::Function",
        },
    }


@pytest.mark.parametrize(
    ("kind", "resource_id", "asff_type", "resource_arn"),
    [
        ("AWS::S3::Bucket", "logs", "AwsS3Bucket", "arn:aws-cn:s3:::logs"),
        ("AWS::EC2::VPCEndpoint", "vpce-1", "Other", "arn:aws-cn:ec2:cn-north-1:123456789012:vpc-endpoint/vpce-1"),
        ("AWS::SQS::Queue", "q", "Other", "q"),
    ],
)
def test_the_resource_has_its_asff_type_and_its_arn_where_one_can_be_built(kind, resource_id, asff_type, resource_arn):
    target = sh.Target(ACCOUNT, "cn-north-1", "aws-cn")
    finding = sh.to_finding(target, result(resource_id, kind=kind), PACK, NOW)
    assert finding["Resources"] == [
        {"Type": asff_type, "Id": resource_arn, "Partition": "aws-cn", "Region": "cn-north-1"}
    ]
    assert finding["ProductArn"] == "arn:aws-cn:securityhub:cn-north-1:123456789012:product/123456789012/default"


def test_every_type_the_rules_judge_has_an_arn_and_an_asff_type_security_hub_lists():
    listed = set(MODEL.shape_for("ResourceDetails").members)  # ASFF's resource types
    kinds = {kind for rule in PROJECT.rules.values() for kind in rule.resource_types}
    assert kinds <= set(sh.ARN_FORMATS)
    assert {sh.ASFF_TYPES.get(kind, "Other") for kind in kinds} <= listed
    assert "AwsEc2VpcEndpoint" not in listed, "ASFF gained an endpoint type: map AWS::EC2::VPCEndpoint to it"


def test_the_id_differs_by_region_account_rule_type_and_resource():
    ids = {
        sh.finding_id(target, made)
        for target in (TARGET, sh.Target("210987654321", REGION, "aws"), sh.Target(ACCOUNT, "eu-west-1", "aws"))
        for made in (result(), result("search"), result(rule="OTHER_CHECK"), result(kind="AWS::S3::Bucket"))
    }
    assert len(ids) == 12


def test_the_import_time_is_iso_8601_utc_with_milliseconds_and_a_z():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", sh.timestamp())


# ---- sending: batches of 100, FailedFindings sent again ----


def test_failed_findings_are_sent_again_with_a_growing_pause_until_taken():
    sent, pauses = [], []
    batch = [{"Id": name} for name in "abc"]

    def send(findings):
        sent.append([f["Id"] for f in findings])
        failed = findings[1:] if len(sent) < 3 else []
        return {
            "FailedFindings": [{"Id": f["Id"], "ErrorCode": "InternalException", "ErrorMessage": "x"} for f in failed]
        }

    assert sh.send_batch(send, batch, sleep=pauses.append) == (3, [])
    assert sent == [["a", "b", "c"], ["b", "c"], ["c"]] and pauses == [0.2, 0.4]


@pytest.mark.parametrize("final", ["InvalidInput", "InvalidAccess"])
def test_findings_still_failing_after_five_attempts_are_returned_and_final_refusals_are_not_retried(final):
    sent, pauses = [], []
    refusals = {
        "bad": {"Id": "bad", "ErrorCode": final, "ErrorMessage": "refused for good"},
        "busy": {"Id": "busy", "ErrorCode": "InternalException", "ErrorMessage": "try later"},
    }

    def send(findings):
        sent.append([f["Id"] for f in findings])
        return {"FailedFindings": [refusals[f["Id"]] for f in findings if f["Id"] in refusals]}

    imported, refused = sh.send_batch(send, [{"Id": "ok"}, {"Id": "bad"}, {"Id": "busy"}], sleep=pauses.append)
    assert imported == 1 and refused == [refusals["bad"], refusals["busy"]]
    assert sent == [["ok", "bad", "busy"]] + [["busy"]] * 4 and pauses == [0.2, 0.4, 0.8, 1.6]


class StubbedSession:
    """A session whose clients answer from Stubbers (which check each answer against botocore's output shape):
    STS names the caller, Security Hub answers what the test adds."""

    def __init__(self):
        self.region_name = REGION
        self.clients = {name: boto3.Session(region_name=REGION).client(name) for name in ("securityhub", "sts")}
        self.stubs = {name: Stubber(client) for name, client in self.clients.items()}
        caller = {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/scanner", "UserId": "AIDAEXAMPLE"}
        self.stubs["sts"].add_response("get_caller_identity", caller, {})
        for stub in self.stubs.values():
            stub.activate()

    def client(self, service, **_):
        return self.clients[service]


def test_the_cli_warns_and_exits_1_for_findings_security_hub_keeps_refusing(monkeypatch, capsys):
    stubbed = StubbedSession()
    results = [result(f"fn-{n}") for n in range(3)]
    findings = [sh.to_finding(TARGET, made, PACK, NOW) for made in results]
    busy = {"Id": findings[2]["Id"], "ErrorCode": "InternalException", "ErrorMessage": "try later"}
    answer = {"FailedCount": 1, "SuccessCount": 2, "FailedFindings": [busy]}
    stubbed.stubs["securityhub"].add_response("batch_import_findings", answer, {"Findings": findings})
    for _ in range(sh.FAILED_ATTEMPTS - 1):
        retry = {"FailedCount": 1, "SuccessCount": 0, "FailedFindings": [busy]}
        stubbed.stubs["securityhub"].add_response("batch_import_findings", retry, {"Findings": findings[2:]})
    monkeypatch.setattr(sh, "timestamp", lambda: NOW)
    pauses = []
    monkeypatch.setattr(sh, "time", SimpleNamespace(sleep=pauses.append))
    monkeypatch.setattr(boto3, "Session", lambda **_: stubbed)
    monkeypatch.setattr("rdkpack.account.scan.scan_account", lambda *_, **__: ScanReport(PACK, "api", results))
    monkeypatch.chdir(ROOT)
    assert main(["scan", "--security-hub", "--region", REGION]) == 1
    stubbed.stubs["securityhub"].assert_no_pending_responses()
    assert pauses == [0.2, 0.4, 0.8, 1.6]
    out, err = capsys.readouterr()
    assert "security hub: imported 2 finding(s) (1 failed)" in out
    assert err == (
        f"warning: 1 finding(s) were not imported into Security Hub (first: {ACCOUNT} {REGION} {busy['Id']}: "
        "InternalException: try later); run the scan again to send them again\n"
    )


# ---- against moto's Security Hub ----


def recorded_imports(session) -> list[int]:
    """The number of findings in each BatchImportFindings call the session's clients make."""
    sizes = []
    session.events.register(
        "before-parameter-build.securityhub.BatchImportFindings",
        lambda params, **_: sizes.append(len(params["Findings"])),
    )
    return sizes


def stored(session, region=REGION) -> dict[str, dict]:
    pages = session.client("securityhub", region_name=region).get_paginator("get_findings").paginate()
    return {finding["Id"]: finding for page in pages for finding in page["Findings"]}


def test_250_results_go_in_3_calls_of_at_most_100_and_moto_stores_each_finding_as_sent(aws):
    session = boto3.Session(region_name=REGION)
    sizes = recorded_imports(session)
    results = [result(f"fn-{n:03}") for n in range(250)]
    summary = sh.import_account_scan(ScanReport(PACK, "api", results), session, now=NOW)
    assert sizes == [100, 100, 50]
    assert (summary.imported, summary.failed) == (250, 0)
    assert summary.line() == "security hub: imported 250 finding(s) (0 failed)"
    findings = stored(session)
    assert len(findings) == 250
    sent = sh.to_finding(TARGET, results[7], PACK, NOW)
    assert findings[sent["Id"]] == sent


def test_hostile_resource_ids_are_imported_as_distinct_clean_findings(aws):
    session = boto3.Session(region_name=REGION)
    results = [result(resource_id, annotation=resource_id) for resource_id in HOSTILE]
    assert sh.import_account_scan(ScanReport(PACK, "api", results), session).imported == len(HOSTILE)
    findings = stored(session)
    assert sorted(findings) == sorted(sh.finding_id(TARGET, made) for made in results)
    for finding in findings.values():
        assert_valid(finding)
    long_one = findings[sh.finding_id(TARGET, results[3])]
    assert long_one["Title"].endswith("…") and len(long_one["Resources"][0]["Id"]) == sh.RESOURCE_ID_MAX


def test_a_rescan_updates_each_finding_in_place_and_a_fixed_resource_closes_its_finding(aws):
    session = boto3.Session(region_name=REGION)
    first = [result("orders"), result("search"), result("ml", "NOT_APPLICABLE", "Image package type.")]
    sh.import_account_scan(ScanReport(PACK, "api", first), session, now=NOW)
    fixed = result("orders", "COMPLIANT", "The function uses the required layer.")
    sh.import_account_scan(ScanReport(PACK, "api", [fixed, *first[1:]]), session, now=LATER)
    findings = stored(session)
    assert len(findings) == 3, "no duplicates"
    orders = findings[sh.finding_id(TARGET, fixed)]
    assert (orders["Compliance"], orders["RecordState"], orders["UpdatedAt"]) == (
        {"Status": "PASSED"},
        "ARCHIVED",
        LATER,
    )
    assert orders["FindingProviderFields"]["Severity"] == {"Label": "INFORMATIONAL", "Original": "COMPLIANT"}
    assert orders["Description"] == "The function uses the required layer."
    assert findings[sh.finding_id(TARGET, first[1])]["RecordState"] == "ACTIVE"


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "InvalidAccessException",
            "Account 123456789012 is not subscribed to AWS Security Hub",
            "security hub: Security Hub is not enabled for account 123456789012 in us-east-1 (Account 123456789012 "
            "is not subscribed to AWS Security Hub): enable it there, or scan without --security-hub",
        ),
        (
            "AccessDeniedException",
            "not authorized",
            "security hub: access denied for securityhub:BatchImportFindings: grant it to the scanning identity "
            "(the one write --security-hub makes)",
        ),
    ],
)
def test_security_hub_refusing_the_account_is_one_clear_error(aws, code, message, expected):
    session = boto3.Session(region_name=REGION)

    def refuse(**_):
        body = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {}}
        return SimpleNamespace(status_code=403 if "Denied" in code else 401, headers={}), body

    session.events.register("before-call.securityhub.BatchImportFindings", refuse)
    with pytest.raises(SecurityHubError) as raised:
        sh.import_account_scan(ScanReport(PACK, "api", [result()]), session)
    assert str(raised.value) == expected


def test_the_one_action_the_flag_needs_is_a_real_iam_action():
    # The data file only: importing parliament would warn about its use of pkg_resources.
    definition = Path(importlib.util.find_spec("parliament").origin).parent / "iam_definition.json"
    known = {f"{s['prefix']}:{p['privilege']}" for s in json.loads(definition.read_text()) for p in s["privileges"]}
    assert aws.iam_action("securityhub", "BatchImportFindings") in known


# ---- with a role in each account ----

MEMBERS = ("555555555555", "666666666666")
DENIED = "777777777777"
ROLE = "RdkGuardrailsScanRole"


def member_session(base, account: str, region: str):
    plan = org.RoleScan(PROJECT, PACK, ROLE, (region,))
    return org.assumed_session(plan.credentials(base.client("sts"), account), region)


def role_report() -> org.OrgReport:
    results = [
        Result("LAMBDA_LAYER_CHECK", "AWS::Lambda::Function", "orders", "NON_COMPLIANT", "a", account, region)
        for account in (*MEMBERS, DENIED)
        for region in (REGION, "eu-west-1")
    ]
    return org.OrgReport(PACK, f"role {ROLE}", results)


def deny_assume_role(base) -> None:
    def deny(params, **_):
        if DENIED in params["body"].get("RoleArn", ""):
            body = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}, "ResponseMetadata": {}}
            return SimpleNamespace(status_code=403, headers={}), body
        return None

    base.events.register("before-call.sts.AssumeRole", deny)


def test_each_account_imports_its_own_findings_through_the_role(aws):
    base = boto3.Session(region_name=REGION)
    deny_assume_role(base)
    plan = org.RoleScan(PROJECT, PACK, ROLE, (REGION, "eu-west-1"))
    summary = sh.import_role_scan(role_report(), plan, base, now=NOW)
    assert summary.imported == 4
    assert [(r.account, r.region, r.count) for r in summary.refusals] == [(DENIED, REGION, 1), (DENIED, "eu-west-1", 1)]
    assert summary.refusals[0].reason.startswith(f"cannot assume {ROLE}: access denied for sts:AssumeRole")
    assert (
        f"in account {DENIED}, the role is missing or does not trust the scanning account" in summary.refusals[0].reason
    )
    for account in MEMBERS:
        for region in (REGION, "eu-west-1"):
            (finding,) = stored(member_session(base, account, region), region).values()
            assert finding["AwsAccountId"] == account and finding["Resources"][0]["Region"] == region
            assert finding["ProductArn"] == f"arn:aws:securityhub:{region}:{account}:product/{account}/default"
    assert stored(base) == {}, "the scanning account imported nothing for its members"


def test_the_cli_imports_a_role_scan_through_each_accounts_role(aws, monkeypatch, capsys):
    base = boto3.Session(region_name=REGION)
    deny_assume_role(base)
    planned = []

    def scanned(plan, session, accounts, **_):
        planned.append(plan)
        return role_report()

    monkeypatch.setattr(org, "scan_with_role", scanned)
    monkeypatch.setattr(boto3, "Session", lambda **_: base)
    monkeypatch.chdir(ROOT)
    argv = ["scan", "--json", "--security-hub", "--accounts", *MEMBERS, DENIED, "--role-name", ROLE]
    assert main([*argv, "--regions", REGION, "eu-west-1"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["totals"]["summary"]["NON_COMPLIANT"] == 6
    lines = err.splitlines()
    assert lines[0] == "security hub: imported 4 finding(s) (2 failed)"
    assert lines[1].startswith(f"warning: 2 finding(s) were not imported into Security Hub (first: {DENIED} us-east-1:")
    assert planned[0].role_name == ROLE


def test_an_aggregator_scan_is_refused_before_any_aws_call(monkeypatch, capsys):
    monkeypatch.setattr(org, "scan_aggregator", lambda *_, **__: pytest.fail("the aggregator was read"))
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.chdir(ROOT)
    assert main(["scan", "--security-hub", "--aggregator", "org-aggregator"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--security-hub cannot import an --aggregator scan" in err
    assert "only from that account" in err and "--role-name" in err


# ---- the CLI against the demo account, over HTTP ----


@pytest.fixture
def account(moto_server_url, monkeypatch):
    """The seeded demo account behind moto_server, as the CLI's session, recording every operation it calls."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    seed(session)
    calls = []
    # before-parameter-build runs ahead of the seed's fakes for what moto lacks, which answer at before-call.
    session.events.register("before-parameter-build.*.*", lambda model, **_: calls.append(model.name))
    monkeypatch.setattr(boto3, "Session", lambda **_: session)
    monkeypatch.chdir(ROOT)
    return session, calls


def test_without_the_flag_the_scan_calls_no_security_hub_api(account, capsys):
    session, calls = account
    assert main(["scan", "--pack", PACK]) == 0
    assert "BatchImportFindings" not in calls and "security hub" not in capsys.readouterr().out
    assert stored(session) == {}


def test_the_flag_imports_every_evaluation_of_the_demo_account_and_writes_nothing_else(account, capsys):
    session, calls = account
    assert main(["scan", "--pack", PACK, "--security-hub", "--json"]) == 0
    out, err = capsys.readouterr()
    scanned = json.loads(out)
    assert f"security hub: imported {len(scanned['results'])} finding(s) (0 failed)" in err
    writes = {name for name in calls if not re.match(r"(Describe|List|Get|BatchGet)[A-Za-z]*$", name)}
    assert writes == {"BatchImportFindings"}
    findings = stored(session).values()
    assert len(findings) == len(scanned["results"]) > 20
    failed = sum(f["Compliance"]["Status"] == "FAILED" and f["RecordState"] == "ACTIVE" for f in findings)
    assert failed == scanned["summary"]["NON_COMPLIANT"] > 0
    assert {f["AwsAccountId"] for f in findings} == {ACCOUNT}
    layer = next(f for f in findings if "billing-old-layer-0" in f["Title"])
    assert layer["Resources"][0]["Id"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:billing-old-layer-0"
    for finding in findings:
        assert_valid(finding)


def test_an_error_on_a_retry_keeps_the_count_of_what_was_already_imported():
    calls = []

    def send(batch):
        calls.append(len(batch))
        if len(calls) == 1:
            return {"FailedFindings": [{"Id": batch[0]["Id"], "ErrorCode": "ThrottlingException", "ErrorMessage": "x"}]}
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "BatchImportFindings")

    imported, refused = sh.send_batch(send, [{"Id": str(i)} for i in range(100)], sleep=lambda _: None)
    assert calls == [100, 1]
    assert imported == 99
    assert [(entry["Id"], entry["ErrorCode"]) for entry in refused] == [("0", "ServiceUnavailable")]
