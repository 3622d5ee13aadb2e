"""Errors a user can cause end in one `error:` line, exit code 2, no traceback and nothing written.

Every case runs through `rdkpack.cli.main`. AWS answers come from a before-call hook on the session
(the mechanism botocore's Stubber uses): listed operations get the simulated error code or response,
any other operation gets `NotSimulatedInThisTest`, so nothing leaves the process.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import botocore.retries.standard
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import EndpointConnectionError

from rdkpack import aws, cli, entry
from rdkpack.account import inventory, scan
from rdkpack.account.demo_account import seed
from rdkpack.cli import build_parser, main
from rdkpack.packs import deploy
from rdkpack.project.config import load_project
from tests.support.project import ROOT, copy_project

REAL_SESSION = boto3.session.Session
PROJECT_PARTS = ("rules", "remediations", "conformance-packs", "preventive", "rdk-config.json")
LAYER_PARAMETERS = "rules/LAMBDA_LAYER_CHECK/parameters.json"
LAYER_MODULE = "rules/LAMBDA_LAYER_CHECK/LAMBDA_LAYER_CHECK.py"
LAYER_DOCUMENT = "remediations/AddRequiredLambdaLayer/AddRequiredLambdaLayer.yaml"
S3_RULE = ["--rules", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"]
ONE_BUCKET = {"resourceIdentifiers": [{"resourceType": "AWS::S3::Bucket", "resourceId": "b"}]}


@dataclass(frozen=True)
class Case:
    argv: list[str]  # {report}, {project} and {tmp} are filled in per test
    expected: str  # a fragment of the one error line
    replies: dict | None = field(default_factory=dict)  # operation -> error code or response; None: no hook
    env: dict = field(default_factory=dict)  # variable -> value, or None to unset it
    edit: dict = field(default_factory=dict)  # project path -> new text, a function of the old text, or None: delete
    cwd: str = "root"  # root: the repository; outside: an empty folder
    no_aws_calls: bool = False
    prints_plan: bool = False  # deploy prints its plan on stdout before the write that fails


def scan_case(argv, expected, replies, **options) -> Case:
    return Case(["scan", "--report", "{report}", *argv], expected, replies, **options)


def project_case(command, expected, edit) -> Case:
    return Case(["--project", "{project}", *command], expected, edit=edit)


def without_parameters(text: str) -> str:
    return json.dumps({k: v for k, v in json.loads(text).items() if k != "Parameters"})


def without_rule_name(text: str) -> str:
    body = json.loads(text)
    del body["Parameters"]["RuleName"]
    return json.dumps(body)


def with_exemption_tag(text: str) -> str:
    config = json.loads(text)
    config["packs"]["rdk-guardrails-sandbox"]["rules"]["LAMBDA_LAYER_CHECK"]["parameters"]["ExemptionTag"] = "x"
    return json.dumps(config)


CREDENTIALS = {
    "unrecognized-client": scan_case(
        ["--source", "api", "--rules", "LAMBDA_LAYER_CHECK"],
        "credentials are invalid",
        {"ListFunctions": "UnrecognizedClientException"},
    ),
    "invalid-signature": scan_case(
        [], "credentials are invalid", {"DescribeConfigurationRecorderStatus": "InvalidSignatureException"}
    ),
    "ec2-auth-failure": scan_case(
        ["--source", "api", "--rules", "VPC_ENDPOINT_AZ_COUNT_CHECK"],
        "credentials are invalid",
        {"DescribeVpcEndpoints": "AuthFailure"},
    ),
    "s3-invalid-access-key": scan_case(
        ["--source", "api", *S3_RULE], "credentials are invalid", {"ListBuckets": "InvalidAccessKeyId"}
    ),
    "expired-token": scan_case(
        [], "credentials have expired", {"DescribeConfigurationRecorderStatus": "ExpiredTokenException"}
    ),
    "no-credentials": scan_case(
        [],
        "no AWS credentials found",
        None,
        env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_EC2_METADATA_DISABLED": "true"},
    ),
    "unknown-profile": scan_case(["--profile", "no-such-profile"], "could not be found: check --profile", {}),
    "no-region": scan_case([], "pass --region, set AWS_DEFAULT_REGION", {}, env={"AWS_DEFAULT_REGION": None}),
}

DENIED = {
    "denied-list-buckets": scan_case(
        ["--source", "api", *S3_RULE], "access denied for s3:ListAllMyBuckets", {"ListBuckets": "AccessDenied"}
    ),
    "denied-recorder-status": scan_case(
        [],
        "access denied for config:DescribeConfigurationRecorderStatus",
        {"DescribeConfigurationRecorderStatus": "AccessDeniedException"},
    ),
    "denied-batch-get": scan_case(
        ["--source", "config", *S3_RULE],
        "access denied for config:BatchGetResourceConfig",
        {
            "DescribeConfigurationRecorders": {"ConfigurationRecorders": [{"recordingGroup": {"allSupported": True}}]},
            "ListDiscoveredResources": ONE_BUCKET,
            "BatchGetResourceConfig": "AccessDeniedException",
        },
    ),
    "denied-tag-get-resources": Case(
        ["--project", "{project}", "scan", "--source", "api", "--rules", "LAMBDA_LAYER_CHECK"],
        "access denied for tag:GetResources",
        {"GetResources": "AccessDeniedException"},
        edit={"rdk-config.json": with_exemption_tag},
    ),
    "denied-describe-vpc-endpoints": scan_case(
        ["--source", "api", "--rules", "VPC_ENDPOINT_AZ_COUNT_CHECK"],
        "access denied for ec2:DescribeVpcEndpoints",
        {"DescribeVpcEndpoints": "UnauthorizedOperation"},
    ),
    # Defence in depth: an error no command expects still ends in one line naming the operation.
    "unexpected-aws-error": scan_case(
        [],
        "DescribeConfigurationRecorderStatus failed (InternalFailure)",
        {"DescribeConfigurationRecorderStatus": "InternalFailure"},
    ),
}

REPORTS = {
    "report-unknown-suffix": Case(
        ["scan", "--report", "{tmp}/scan.txt"], "unknown suffix '.txt'; use one of .md", no_aws_calls=True
    ),
    "report-under-a-file": Case(
        ["scan", "--report", "{tmp}/a-file/scan.md"], "a-file is a file, not a folder", no_aws_calls=True
    ),
    "report-is-a-folder": Case(["scan", "--report", "{tmp}"], "is a folder; give a file path", no_aws_calls=True),
}

PROJECT_FILES = {
    "parameters-invalid-json": project_case(
        ["build"], "LAMBDA_LAYER_CHECK/parameters.json: line 1", {LAYER_PARAMETERS: "{"}
    ),
    "parameters-without-Parameters": project_case(
        ["build"], "parameters.json: Parameters: missing or not an object", {LAYER_PARAMETERS: without_parameters}
    ),
    "parameters-without-RuleName": project_case(
        ["validate"], "parameters.json: Parameters/RuleName: is None", {LAYER_PARAMETERS: without_rule_name}
    ),
    "rule-module-missing": project_case(["build"], "LAMBDA_LAYER_CHECK.py: (file): not found", {LAYER_MODULE: None}),
    "rule-module-without-class-scan": project_case(
        ["scan", "--rules", "LAMBDA_LAYER_CHECK"],
        "LAMBDA_LAYER_CHECK.py: LAMBDA_LAYER_CHECK: not defined",
        {LAYER_MODULE: "APPLICABLE_RESOURCES = []\n"},
    ),
    "rule-module-without-class-validate": project_case(
        ["validate"], "LAMBDA_LAYER_CHECK.py: LAMBDA_LAYER_CHECK: not defined", {LAYER_MODULE: "X = 1\n"}
    ),
    "rule-module-syntax-error-demo": Case(
        ["--project", "{project}", "demo", "--no-remediate"],
        "LAMBDA_LAYER_CHECK.py: (module): cannot be imported: SyntaxError",
        None,
        edit={LAYER_MODULE: "def (:\n"},
    ),
    "document-invalid-yaml": project_case(["build"], "AddRequiredLambdaLayer.yaml: line", {LAYER_DOCUMENT: "a: [\n"}),
    "document-without-parameters": project_case(
        ["scan"], "AddRequiredLambdaLayer.yaml: parameters: missing", {LAYER_DOCUMENT: "schemaVersion: '0.3'\n"}
    ),
    "no-project-here": Case(["build"], "rdk-config.json: not found here or in any folder above", cwd="outside"),
    "project-without-config": Case(["--project", "{tmp}", "build"], "rdk-config.json: not found in --project"),
}

USAGE = {
    "scale-zero": Case(["demo", "--scale", "0"], "argument --scale: expected a whole number from 1 to 1000"),
    "scale-negative": Case(["demo", "--scale", "-3"], "argument --scale: expected a whole number from 1 to 1000"),
    "scale-too-large": Case(["demo", "--scale", "1001"], "argument --scale: expected a whole number from 1 to 1000"),
    "scale-not-a-number": Case(["demo", "--scale", "lots"], "argument --scale: expected a whole number from 1 to 1000"),
    "unknown-option": Case(["scan", "--regoin", "x"], "unrecognized arguments: --regoin"),
    "aggregator-empty": Case(["scan", "--aggregator", ""], "argument --aggregator: expected an AWS Config aggregator"),
    "timeout-negative": Case(
        ["deploy", "--pack", "p", "--timeout", "-5"], "argument --timeout: expected whole seconds"
    ),
    "timeout-zero": Case(["deploy", "--pack", "p", "--timeout", "0"], "argument --timeout: expected whole seconds"),
    "region-typo": Case(["scan", "--region", "us-east"], "argument --region: expected an AWS region name"),
    "regions-typo": Case(["scan", "--regions", "eu_west_1"], "argument --regions: expected an AWS region name"),
    "stage-regions-all": Case(["stage", "--regions", "all"], "argument --regions: expected an AWS region name"),
    "stdout-without-format": Case(["scan", "--output", "-"], "--output - writes to standard output: name its format"),
    "stdout-and-json": Case(
        ["scan", "--output", "-", "--format", "sarif", "--json"], "--output - and --json both write to standard output"
    ),
    "project-inside-a-project": Case(
        ["--project", "{project}/rules", "build"], "is inside the project at {project}; pass --project {project}"
    ),
}

SANDBOX = ["deploy", "--pack", "rdk-guardrails-sandbox"]
ORG = ["deploy", "--pack", "rdk-guardrails-org-baseline", "--org"]


def caller(account: str) -> dict:
    return {"Account": account, "Arn": f"arn:aws:iam::{account}:user/ops", "UserId": "AIDA"}


NOTHING_DEPLOYED = {"ConformancePackDetails": []}
DEPLOY = {
    "deploy-no-credentials": Case(
        SANDBOX,
        "no AWS credentials found",
        None,
        env={"AWS_ACCESS_KEY_ID": None, "AWS_SECRET_ACCESS_KEY": None, "AWS_EC2_METADATA_DISABLED": "true"},
    ),
    "deploy-unknown-profile": Case([*SANDBOX, "--profile", "no-such-profile"], "could not be found: check --profile"),
    "deploy-no-region": Case(SANDBOX, "pass --region, set AWS_DEFAULT_REGION", {}, env={"AWS_DEFAULT_REGION": None}),
    "deploy-denied-get-caller-identity": Case(
        SANDBOX,
        "access denied for sts:GetCallerIdentity: grant it to the deploying identity",
        {"GetCallerIdentity": "AccessDenied"},
    ),
    "deploy-expired-token": Case(
        SANDBOX, "credentials have expired (ExpiredToken)", {"GetCallerIdentity": "ExpiredToken"}
    ),
    "deploy-denied-describe-conformance-packs": Case(
        SANDBOX,
        "access denied for config:DescribeConformancePacks",
        {"GetCallerIdentity": caller("111111111111"), "DescribeConformancePacks": "AccessDeniedException"},
    ),
    "deploy-denied-put-conformance-pack": Case(
        SANDBOX,
        "access denied for config:PutConformancePack: grant it to the deploying identity",
        {
            "GetCallerIdentity": caller("111111111111"),
            "DescribeConformancePacks": NOTHING_DEPLOYED,
            "PutConformancePack": "AccessDeniedException",
        },
        prints_plan=True,
    ),
    "deploy-denied-put-organization-conformance-pack": Case(
        ORG,
        "access denied for config:PutOrganizationConformancePack: grant it to the deploying identity",
        {
            "GetCallerIdentity": caller("444444444444"),
            "DescribeConformancePacks": NOTHING_DEPLOYED,
            "PutOrganizationConformancePack": "AccessDeniedException",
        },
        prints_plan=True,
    ),
    "deploy-to-the-wrong-account": Case(
        SANDBOX,
        "pack rdk-guardrails-sandbox is for account 111111111111 (rdk-config.json), but these credentials are for "
        "account 999999999999",
        {"GetCallerIdentity": caller("999999999999")},
    ),
}

CASES = {**CREDENTIALS, **DENIED, **REPORTS, **PROJECT_FILES, **USAGE, **DEPLOY}


def simulated(replies: dict, calls: list):
    """A before-call hook answering every call from replies: an error code (str) or a response (dict)."""

    def answer(model, **_):
        calls.append(model.name)
        reply = replies.get(model.name, "NotSimulatedInThisTest")
        if isinstance(reply, str):
            error = {"Error": {"Code": reply, "Message": f"simulated {reply}"}}
            return AWSResponse(None, 400, {}, None), {**error, "ResponseMetadata": {"HTTPStatusCode": 400}}
        return AWSResponse(None, 200, {}, None), {**reply, "ResponseMetadata": {"HTTPStatusCode": 200}}

    return answer


def session_factory(replies: dict | None, calls: list):
    def make(**kwargs):
        session = REAL_SESSION(**kwargs)
        if replies is None:
            session.events.register("before-call", lambda model, **_: calls.append(model.name))
        else:
            session.events.register("before-call", simulated(replies, calls))
        return session

    return make


def edited_project(target: Path, edit: dict) -> None:
    copy_project(target, PROJECT_PARTS)
    for relative, text in edit.items():
        path = target / relative
        if text is None:
            path.unlink()
        else:
            path.write_text(text(path.read_text()) if callable(text) else text)


def files_under(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in folder.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_user_errors_end_in_one_line_and_exit_code_2(case, tmp_path, monkeypatch, capsys):
    project, outside = tmp_path / "project", tmp_path / "outside"
    (tmp_path / "a-file").write_text("not a folder")
    outside.mkdir()
    edited_project(project, case.edit)
    for name, value in {"AWS_ENDPOINT_URL": "http://127.0.0.1:9", **case.env}.items():
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    calls = []
    monkeypatch.setattr(boto3, "Session", session_factory(case.replies, calls))
    monkeypatch.chdir(ROOT if case.cwd == "root" else outside)
    places = {"report": tmp_path / "out" / "scan.md", "project": project, "tmp": tmp_path}
    before = files_under(tmp_path)

    code = main([part.format(**places) for part in case.argv])

    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    assert case.expected.format(**places) in err
    assert out.startswith("pack ") if case.prints_plan else out == ""
    assert files_under(tmp_path) == before, "something was written"
    if case.no_aws_calls:
        assert calls == []


# ---- the IAM action an AccessDenied names ----


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("s3", "ListBuckets", "s3:ListAllMyBuckets"),
        ("s3", "GetBucketLifecycleConfiguration", "s3:GetLifecycleConfiguration"),
        ("s3", "GetBucketTagging", "s3:GetBucketTagging"),
        ("s3", "ListObjectsV2", "s3:ListBucket"),
        ("resourcegroupstaggingapi", "GetResources", "tag:GetResources"),
        ("config", "BatchGetResourceConfig", "config:BatchGetResourceConfig"),
        ("config", "DescribeConfigurationRecorderStatus", "config:DescribeConfigurationRecorderStatus"),
        ("lambda", "GetFunctionCodeSigningConfig", "lambda:GetFunctionCodeSigningConfig"),
    ],
)
def test_iam_action_of_an_operation(service, operation, action):
    assert aws.iam_action(service, operation) == action


def iam_actions_parliament_knows() -> set[str]:
    # The data file only: importing parliament would warn about its use of pkg_resources.
    definition = Path(importlib.util.find_spec("parliament").origin).parent / "iam_definition.json"
    services = json.loads(definition.read_text())
    return {f"{s['prefix']}:{p['privilege']}".lower() for s in services for p in s["privileges"]}


@pytest.fixture
def recording_account(moto_server_url, monkeypatch):
    """A seeded account behind moto_server, recording the (service, operation) of every call."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server_url)
    session = REAL_SESSION(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    seed(session)
    calls = set()

    def record(model, **_):
        calls.add((model.service_model.service_name, model.name))

    # before-parameter-build runs ahead of the seed's fakes, which answer at before-call.
    session.events.register("before-parameter-build", record)
    return session, calls


def test_every_iam_action_the_tool_can_name_exists(recording_account):
    session, calls = recording_account
    project = load_project(ROOT)
    for source in ("api", "config"):  # every read, tags included, from both item sources
        inventory.collect(session, inventory.RESOURCE_TYPES, source, frozenset(inventory.RESOURCE_TYPES))
    for pack in project.packs:  # and the rules' own calls, with every pack's parameters
        scan.scan_account(project, pack, session)
    known = iam_actions_parliament_knows()
    calls |= set(deploy.OPERATIONS)  # deploy's calls are stubbed in its tests, which check they are all listed
    named = {aws.iam_action(service, operation) for service, operation in calls} | set(aws.IAM_ACTIONS.values())
    assert {"s3:ListAllMyBuckets", "tag:GetResources", "lambda:ListCodeSigningConfigs"} <= named
    assert sorted(action for action in named if action.lower() not in known) == []


# ---- where the project is, and --scale's range ----


def test_the_cli_finds_the_project_from_a_subfolder(monkeypatch, capsys):
    monkeypatch.chdir(ROOT / "rules" / "LAMBDA_LAYER_CHECK")
    assert main(["build", "--check"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "argv", [["--project", str(ROOT), "build", "--check"], ["build", "--check", "--project", str(ROOT)]]
)
def test_project_option_before_or_after_the_subcommand(argv, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 0


@pytest.mark.parametrize("value", ["1", "1000"])
def test_scale_accepts_1_to_1000(value):
    assert build_parser().parse_args(["demo", "--scale", value]).scale == int(value)


def test_ctrl_c_is_one_line_and_the_shells_exit_code(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "run_command", interrupted)
    assert main(["build"]) == 130
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: interrupted\n")


def test_output_dash_writes_the_one_report_to_stdout_and_nothing_else(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = copy_project(tmp_path / "project")
    assert main(["--project", str(project), "demo", "--no-remediate", "--output", "-", "--format", "sarif"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["version"] == "2.1.0"
    assert not (tmp_path / "-").exists()


def test_without_network_a_client_gives_up_after_three_attempts_not_ten(monkeypatch):
    """Nothing listens on 127.0.0.1:9: the machine is offline as far as AWS goes. Three tries, then the one line."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(aws, "_ANSWERED", False)  # no AWS answer yet in this process
    session = REAL_SESSION(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    client = aws.client(session, "lambda")
    attempts = []
    client.meta.events.register("before-send", lambda **_: attempts.append(1))
    with pytest.raises(EndpointConnectionError) as caught:
        client.list_functions()
    assert len(attempts) == aws.UNREACHABLE_ATTEMPTS == 3
    assert aws.explain(caught.value).startswith("cannot reach AWS (Could not connect to the endpoint URL")


def test_once_aws_has_answered_a_lost_connection_gets_every_attempt(monkeypatch):
    """In a long scan a dropped connection is a blip (a resolver's packet limit), not a machine offline."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(aws, "_ANSWERED", True)
    monkeypatch.setattr(botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda *_: 0)  # no waiting
    session = REAL_SESSION(aws_access_key_id="a", aws_secret_access_key="b", region_name="us-east-1")
    client = aws.client(session, "lambda")
    attempts = []
    client.meta.events.register("before-send", lambda **_: attempts.append(1))
    with pytest.raises(EndpointConnectionError):
        client.list_functions()
    assert len(attempts) == aws.MAX_ATTEMPTS


def test_the_demo_writes_a_jsonl_report_too(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project = copy_project(tmp_path / "project")
    assert main(["--project", str(project), "demo", "--no-remediate", "--json", "--output", "demo.jsonl"]) == 0
    lines = [json.loads(line) for line in (tmp_path / "demo.jsonl").read_text().splitlines()]
    assert lines[0]["source"] == "demo" and lines[-1]["kind"] == "done"
    assert sum(line["kind"] == "result" for line in lines) == len(json.loads(capsys.readouterr().out)["before"])


def test_ctrl_c_while_the_cli_is_still_importing_is_one_line_too(monkeypatch, capsys):
    def interrupted(name):
        raise KeyboardInterrupt

    monkeypatch.setattr(entry.importlib, "import_module", interrupted)
    assert entry.main() == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_the_command_is_installed_through_the_entry_module():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'rdkpack = "rdkpack.entry:main"' in text
