"""rdkpack scan against moto_server over HTTP: verdicts, read-only, sources, errors, CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from botocore.stub import Stubber

from rdkpack.account import inventory, scan
from rdkpack.account.demo_account import seed
from rdkpack.cli import main
from rdkpack.errors import ScanError
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
READ_ONLY = re.compile(r"^(Describe|List|Get|BatchGet)[A-Za-z]*$")


@pytest.fixture
def account(moto_server_url, monkeypatch):
    """A seeded account behind moto_server; every client of the session goes there over HTTP."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    seed(session)
    calls = []
    # before-parameter-build runs ahead of the seed's fakes for what moto lacks, which answer at before-call.
    session.events.register("before-parameter-build.*.*", lambda model, **_: calls.append(model.name))
    return session, calls


def test_code_signing_is_judged_from_the_lists_with_one_client_per_service(account, monkeypatch):
    session, calls = account
    made = []
    original = session.client
    monkeypatch.setattr(session, "client", lambda service, **kw: made.append(service) or original(service, **kw))
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=["LAMBDA_CODE_SIGNING_CHECK"])
    assert scan.counts(result.before) == {"COMPLIANT": 1, "NON_COMPLIANT": 2, "NOT_APPLICABLE": 1}
    assert "GetFunctionCodeSigningConfig" not in calls and "GetCodeSigningConfig" not in calls
    assert calls.count("ListCodeSigningConfigs") == 1
    assert sorted(made) == ["config", "lambda"], "one client per service for the inventory and the rule together"


def test_scan_gives_the_same_verdicts_as_the_rules_in_config_would(account):
    session, _ = account
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session)
    assert result.source == "api"
    assert scan.counts(result.before) == {"COMPLIANT": 7, "NON_COMPLIANT": 11, "NOT_APPLICABLE": 10}
    annotations = {(r.rule, r.resource_id): r.annotation for r in result.before}
    assert annotations[("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "demo-logs-star-0")].endswith("expire-logs: 'logs/*'")


def test_idle_endpoints_are_judged_with_one_batched_metric_call(account):
    session, calls = account
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=["VPC_ENDPOINT_IDLE_CHECK"])
    assert scan.counts(result.before) == {"COMPLIANT": 1, "NON_COMPLIANT": 1, "NOT_APPLICABLE": 5}
    assert calls.count("GetMetricData") == 1, "one GetMetricData call for every endpoint the scan measures"
    assert calls.count("DescribeVpcEndpoints") == 1


def test_scan_is_read_only(account):
    session, calls = account
    scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session)
    assert calls, "the hook saw no calls"
    assert "PutEvaluations" not in calls
    assert [name for name in calls if not READ_ONLY.match(name)] == []


def test_scan_with_the_baseline_pack_uses_its_parameters(account):
    session, _ = account
    result = scan.scan_account(PROJECT, "rdk-guardrails-org-baseline", session, only=["VPC_ENDPOINT_AZ_COUNT_CHECK"])
    assert result.descriptions == {
        "VPC_ENDPOINT_AZ_COUNT_CHECK": PROJECT.rules["VPC_ENDPOINT_AZ_COUNT_CHECK"].description
    }
    verdicts = sorted((r.compliance, r.annotation) for r in result.before if r.compliance == "NON_COMPLIANT")
    # ssm, and the idle rule's idle and busy endpoints (secretsmanager, ecr.api): one AZ each.
    assert verdicts == [("NON_COMPLIANT", "The endpoint spans 1 AZ(s); the minimum is 2.")] * 3


def test_scan_prefers_the_config_recorder_when_it_is_on(account):
    session, calls = account
    client = session.client("config")
    role = "arn:aws:iam::123456789012:role/config"
    client.put_configuration_recorder(ConfigurationRecorder={"name": "default", "roleARN": role})
    client.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "demo-clean-0"})
    client.start_configuration_recorder(ConfigurationRecorderName="default")
    calls.clear()
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"])
    assert result.source == "config"
    assert {"ListDiscoveredResources", "BatchGetResourceConfig"} <= set(calls)
    assert scan.counts(result.before) == {"COMPLIANT": 1, "NON_COMPLIANT": 4, "NOT_APPLICABLE": 1}


def test_progress_ticks_once_per_evaluated_item(account):
    session, _ = account
    ticks = []

    def progress(total):
        ticks.append(total)
        return lambda: ticks.append("tick")

    scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, progress=progress)
    assert ticks[0] == 28
    assert ticks.count("tick") == 28


def test_unknown_rule_or_pack_is_named(account):
    session, _ = account
    with pytest.raises(ScanError, match="pack rdk-guardrails-sandbox has no rule NOPE"):
        scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=["NOPE"])
    with pytest.raises(ScanError, match="no pack 'ghost'"):
        scan.scan_account(PROJECT, "ghost", session)


def test_cli_scan_json_report_and_exit_code(account, tmp_path, monkeypatch, capsys):
    session, _ = account
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(boto3, "Session", lambda **_: session)
    page = tmp_path / "scan.html"
    code = main(["scan", "--json", "--fail-on-noncompliant", "--report", str(page), "--rules", "LAMBDA_LAYER_CHECK"])
    output = json.loads(capsys.readouterr().out)
    assert code == 1
    assert output["summary"] == {"COMPLIANT": 1, "NON_COMPLIANT": 2, "NOT_APPLICABLE": 1}
    assert "billing-old-layer-0" in page.read_text()
    assert main(["scan", "--rules", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "--pack", "rdk-guardrails-sandbox"]) == 0


def test_one_scan_writes_every_output_each_in_its_format(account, tmp_path, monkeypatch, capsys):
    session, _ = account
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(boto3, "Session", lambda **_: session)
    files = [tmp_path / name for name in ("scan.sarif", "junit.xml", "nested/scan.json", "page.htm")]
    named = tmp_path / "for-code-scanning.txt"
    argv = ["scan", "--rules", "LAMBDA_LAYER_CHECK", *(f"--output={f}" for f in files)]
    assert main(argv) == 0
    assert json.loads(files[0].read_text())["version"] == "2.1.0"
    assert files[1].read_text().startswith('<?xml version="1.0"')
    assert json.loads(files[2].read_text())["format"] == scan.REPORT_FORMAT
    assert "billing-old-layer-0" in files[3].read_text()
    assert main(["scan", "--rules", "LAMBDA_LAYER_CHECK", "--output", str(named), "--format", "sarif"]) == 0
    assert json.loads(named.read_text())["runs"][0]["tool"]["driver"]["name"] == "rdkpack"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--output", "a.sarif", "--output", "b.xml", "--format", "json"], "--format applies to a single file"),
        (["--format", "junit"], "--format junit needs an --output FILE"),
        (["--output", "a.sarif", "--report", "./a.sarif"], "given twice"),
        (["--output", "a.txt"], "or name the format with --format"),
    ],
)
def test_output_mistakes_are_named_before_any_aws_call(argv, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(boto3, "Session", lambda **_: pytest.fail("no AWS session before the outputs are checked"))
    assert main(["--project", str(ROOT), "scan", *argv]) == 2
    assert expected in capsys.readouterr().err
    assert not list(tmp_path.iterdir())


# ---- the recorder path in detail, and errors: Stubber ----


class StubbedSession:
    def __init__(self, *services):
        self.clients = {s: boto3.client(s, region_name="us-east-1") for s in services}
        self.stubs = {s: Stubber(c) for s, c in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    def client(self, service, **_):
        return self.clients[service]


def recorded(bucket, prefix):
    lifecycle = {
        "rules": [
            {
                "id": "r",
                "status": "Enabled",
                "prefix": None,
                "filter": {"predicate": {"type": "LifecyclePrefixPredicate", "prefix": prefix}},
            }
        ]
    }
    return {
        "resourceType": "AWS::S3::Bucket",
        "resourceId": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "configuration": json.dumps({"name": bucket}),
        "supplementaryConfiguration": {"BucketLifecycleConfiguration": json.dumps(lifecycle)},
        "configurationItemStatus": "OK",
    }


def test_recorder_items_are_batched_by_100_and_unprocessed_keys_retried():
    session = StubbedSession("config")
    stub = session.stubs["config"]
    names = [f"bucket-{i:03}" for i in range(150)]
    identifiers = [{"resourceType": "AWS::S3::Bucket", "resourceId": n} for n in names]
    stub.add_response(
        "list_discovered_resources",
        {"resourceIdentifiers": identifiers[:100], "nextToken": "t"},
        {"resourceType": "AWS::S3::Bucket"},
    )
    stub.add_response(
        "list_discovered_resources",
        {"resourceIdentifiers": identifiers[100:]},
        {"resourceType": "AWS::S3::Bucket", "nextToken": "t"},
    )
    keys = [{"resourceType": "AWS::S3::Bucket", "resourceId": n} for n in names]
    stub.add_response(
        "batch_get_resource_config",
        {
            "baseConfigurationItems": [recorded(n, "logs/*") for n in names[:99]],
            "unprocessedResourceKeys": keys[99:100],
        },
        {"resourceKeys": keys[:100]},
    )
    stub.add_response(
        "batch_get_resource_config",
        {"baseConfigurationItems": [recorded(names[99], "ok/")]},
        {"resourceKeys": keys[99:100]},
    )
    stub.add_response(
        "batch_get_resource_config",
        {"baseConfigurationItems": [recorded(n, "ok/") for n in names[100:]]},
        {"resourceKeys": keys[100:]},
    )
    items = inventory.items_from_recorder(session, "AWS::S3::Bucket", with_tags=False)
    stub.assert_no_pending_responses()
    assert len(items) == 150
    results = scan.evaluate_direct(ROOT, "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", {}, items, None)
    assert scan.counts(results) == {"COMPLIANT": 51, "NON_COMPLIANT": 99, "NOT_APPLICABLE": 0}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("AccessDeniedException", "access denied for lambda:ListFunctions: grant it to the scanning identity"),
        ("ExpiredTokenException", "credentials have expired"),
    ],
)
def test_aws_errors_become_clear_scan_errors(code, message):
    session = StubbedSession("lambda")
    session.stubs["lambda"].add_client_error("list_functions", code, http_status_code=403)
    with pytest.raises(ScanError, match=message):
        inventory.lambda_items(session, with_tags=False)


def test_missing_credentials_are_explained(monkeypatch, tmp_path):
    for name in [k for k in os.environ if k.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    session = boto3.Session(region_name="us-east-1")
    with pytest.raises(ScanError, match="no AWS credentials found"):
        inventory.vpc_endpoint_items(session)


def test_cli_reports_scan_errors_with_exit_code_2(monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    assert main(["scan", "--profile", "no-such-profile"]) == 2
    assert "error: The config profile (no-such-profile) could not be found" in capsys.readouterr().err


def test_scan_imports_neither_moto_nor_cfn_lint(tmp_path):
    """The scan of a real account must not pay for (or depend on) the demo's moto or validate's cfn-lint."""
    probe = (
        "import sys\nfrom rdkpack.cli import main\n"
        "try:\n    main(['scan', '--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'moto', 'cfnlint', 'hypothesis', 'parliament'}))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path)
    assert done.stdout.strip().splitlines()[-1] == "[]"


@pytest.mark.parametrize(
    ("source", "used", "consequence"),
    [("auto", "config+api", "read from the service APIs"), ("config", "config", "the rules see no such items")],
)
def test_a_recorder_that_skips_a_type_the_pack_evaluates_is_named(account, source, used, consequence):
    session, _ = account
    client = session.client("config")
    group = {"allSupported": False, "includeGlobalResourceTypes": False, "resourceTypes": ["AWS::S3::Bucket"]}
    recorder = {"name": "default", "roleARN": "arn:aws:iam::123456789012:role/config", "recordingGroup": group}
    client.put_configuration_recorder(ConfigurationRecorder=recorder)
    client.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": "demo-clean-0"})
    client.start_configuration_recorder(ConfigurationRecorderName="default")
    only = ["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK"]
    result = scan.scan_account(PROJECT, "rdk-guardrails-sandbox", session, only=only, source=source)
    assert result.source == used
    assert result.warnings == [f"the AWS Config recorder does not record AWS::EC2::VPCEndpoint: {consequence}"]
    endpoints = [r for r in result.before if r.resource_type == "AWS::EC2::VPCEndpoint"]
    assert bool(endpoints) == (source == "auto")  # under auto, the skipped type still comes from the EC2 API
