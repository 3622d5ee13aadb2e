"""rdkpack remediate --local: one committed document run here, as Systems Manager runs it, against a moto server
(HTTP: the step's own Python 3.11 process reaches it through AWS_ENDPOINT_URL, with the assumed role's keys)."""

from __future__ import annotations

import json
from datetime import datetime

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from rdkpack.cli import main

DOCUMENT = "FixS3LifecycleAsteriskPrefix"
BUCKET = "logs-bucket"
ROLE = "arn:aws:iam::123456789012:role/RdkGuardrailsRemediationRole"
ABORT_UPLOADS = {
    "ID": "abort-uploads",
    "Status": "Enabled",
    "Filter": {"Prefix": "logs/*"},
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
}
EXPIRING = {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}}
TIMESTAMPS = ("ExecutionStartTime", "ExecutionEndTime")


@pytest.fixture
def s3(moto_server_url, monkeypatch):
    """The moto server as the only AWS this test (and the step's process) reaches, with dummy keys."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return boto3.client("s3", region_name="us-east-1")


def bucket_with(s3, rule: dict) -> list[dict]:
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_lifecycle_configuration(Bucket=BUCKET, LifecycleConfiguration={"Rules": [rule]})
    return rules_of(s3)


def rules_of(s3) -> list[dict]:
    return s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]


def remediate(*parameters: str, extra: tuple[str, ...] = ()) -> int:
    argv = ["remediate", "--local", "--document", DOCUMENT]
    for parameter in parameters:
        argv += ["--parameter", parameter]
    return main([*argv, *extra])


def stderr_lines(capsys) -> tuple[str, list[str]]:
    captured = capsys.readouterr()
    return captured.out, [line for line in captured.err.splitlines() if not line.startswith("note: ")]


def test_a_fixable_prefix_is_rewritten_and_the_run_printed(s3, capsys):
    bucket_with(s3, ABORT_UPLOADS)
    assert remediate(f"BucketName={BUCKET}", f"AutomationAssumeRole={ROLE}") == 0
    out, errors = stderr_lines(capsys)
    assert errors == []
    assert rules_of(s3) == [{**ABORT_UPLOADS, "Filter": {"Prefix": "logs/"}}]
    lines = out.splitlines()
    assert lines[0].startswith(f"{DOCUMENT} ") and lines[0].endswith(": Success")
    assert lines[1] == "  step FixPrefixes: Success"
    assert lines[2] == "FixPrefixes.Output: {"
    output = json.loads(out.split("FixPrefixes.Output: ", 1)[1])
    assert (output["Status"], output["BucketName"]) == ("CHANGED", BUCKET)
    assert output["RulesChanged"][0] | {"ObjectsMatched": "-"} == {
        "RuleId": "abort-uploads",
        "Field": "Filter.Prefix",
        "Before": "logs/*",
        "After": "logs/",
        "Expires": "",
        "Archives": "",
        "ObjectsMatched": "-",
    }


@pytest.mark.parametrize(
    ("parameters", "named"),
    [
        (["BucketName=Bad_Name", f"AutomationAssumeRole={ROLE}"], "parameter BucketName: 'Bad_Name' does not match"),
        ([f"BucketName={BUCKET}", f"AutomationAssumeRole={ROLE}", "Bucket=x"], "parameter Bucket: not a parameter"),
        (
            [f"BucketName={BUCKET}", f"AutomationAssumeRole={ROLE}", "IncludeExpiringRules=yes"],
            "parameter IncludeExpiringRules: 'yes' is not a Boolean",
        ),
        ([f"BucketName={BUCKET}"], "parameter AutomationAssumeRole: required"),
    ],
    ids=["pattern", "unknown", "boolean", "missing-role"],
)
def test_parameters_ssm_would_refuse_stop_the_run_before_any_step(s3, capsys, parameters, named):
    before = bucket_with(s3, ABORT_UPLOADS)
    assert remediate(*parameters) == 2
    out, errors = stderr_lines(capsys)
    assert out == ""
    assert len(errors) == 1 and errors[0].startswith(f"error: {DOCUMENT}: {named}"), errors
    assert rules_of(s3) == before


def test_a_run_the_script_refuses_exits_1_naming_the_step_and_the_refusal(s3, capsys):
    before = bucket_with(s3, EXPIRING)
    assert remediate(f"BucketName={BUCKET}", f"AutomationAssumeRole={ROLE}") == 1
    out, errors = stderr_lines(capsys)
    assert len(errors) == 1, errors
    assert errors[0].startswith(f"error: {DOCUMENT} step FixPrefixes: RemediationRefused: Bucket {BUCKET}: widening")
    assert "(expires objects: Expiration.Days=30" in errors[0] and "IncludeExpiringRules=true" in errors[0]
    assert "Nothing was changed" in errors[0]
    assert "step FixPrefixes: Failed" in out
    assert rules_of(s3) == before


def automation_execution_shape():
    model = botocore.session.get_session().get_service_model("ssm")
    return model.operation_model("GetAutomationExecution").output_shape.members["AutomationExecution"]


def test_json_prints_the_execution_as_get_automation_execution_does(s3, capsys):
    bucket_with(s3, ABORT_UPLOADS)
    assert remediate(f"BucketName={BUCKET}", f"AutomationAssumeRole={ROLE}", "DryRun=true", extra=("--json",)) == 0
    out, _ = stderr_lines(capsys)
    execution = json.loads(out)
    # ISO 8601 timestamps, as the AWS CLI prints them; read back, the execution is the model's shape.
    for record in (execution, *execution["StepExecutions"]):
        for name in TIMESTAMPS:
            assert "T" in record[name]
            record[name] = datetime.fromisoformat(record[name])
    validate_parameters(execution, automation_execution_shape())
    assert execution["AutomationExecutionStatus"] == "Success"
    assert execution["DocumentName"] == DOCUMENT
    assert execution["Parameters"] == {
        "BucketName": [BUCKET],
        "AutomationAssumeRole": [ROLE],
        "IncludeExpiringRules": ["false"],
        "IncludeRestoreRequiredTransitions": ["false"],
        "DryRun": ["true"],
    }
    [step] = execution["StepExecutions"]
    assert (step["StepName"], step["Action"], step["StepStatus"]) == ("FixPrefixes", "aws:executeScript", "Success")
    assert json.loads(execution["Outputs"]["FixPrefixes.Output"][0])["Status"] == "DRY_RUN"
    assert rules_of(s3)[0]["Filter"] == {"Prefix": "logs/*"}, "a dry run changes nothing"


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["remediate", "--local"], "--local runs one --document with --parameter values"),
        (
            ["remediate", "--document", DOCUMENT, "--parameter", f"BucketName={BUCKET}"],
            "--document, --parameter, --wait",
        ),
        (["remediate", "--local", "--document", DOCUMENT, "--pack", "p"], "--local runs one --document"),
        (["remediate", "--local", "--document", DOCUMENT, "--parameter", "BucketName"], "expected Name=Value"),
        (["remediate", "--local", "--document", "NoSuchDocument"], "NoSuchDocument: no such document"),
        (["remediate", "--local", "--document", DOCUMENT, "--dry-run"], "--parameter DryRun=true"),
        (["remediate", "--local", "--document", DOCUMENT, "--output", "r.json"], "--output: not for --local"),
    ],
    ids=["no-document", "no-local", "pack", "no-equals", "unknown-document", "dry-run", "output"],
)
def test_usage_errors_are_one_line_and_exit_2(s3, capsys, argv, expected):
    assert main(argv) == 2
    out, errors = stderr_lines(capsys)
    assert out == ""
    assert len(errors) == 1 and errors[0].startswith("error: ") and expected in errors[0], errors


def test_as_caller_runs_the_steps_with_the_callers_credentials_and_says_so(s3, capsys, monkeypatch):
    bucket_with(s3, ABORT_UPLOADS)
    refused = {"AssumeRole": 0}

    def deny(**_):  # any AssumeRole would fail: --as-caller must not ask for one
        refused["AssumeRole"] += 1
        raise AssertionError("AssumeRole called")

    monkeypatch.setattr(
        "rdkpack.automation.runner.Runner.assume", lambda self, role, _id: deny() if role else (None, "123456789012")
    )
    unassumable = "arn:aws:iam::123456789012:role/TrustsOnlySsm"
    assert remediate(f"BucketName={BUCKET}", f"AutomationAssumeRole={unassumable}", extra=("--as-caller",)) == 0
    captured = capsys.readouterr()
    assert f"note: the steps ran with the caller's credentials, not {unassumable}" in captured.err
    assert rules_of(s3) == [{**ABORT_UPLOADS, "Filter": {"Prefix": "logs/"}}]
    assert refused["AssumeRole"] == 0
