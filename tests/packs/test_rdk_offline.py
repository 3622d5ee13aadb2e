"""The rules work with the rdk CLI itself: template generation and deploy, with no AWS account."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from rdkpack.project.config import load_project
from tests.support.env import subprocess_env
from tests.support.project import ROOT, RULE_NAMES, copy_project, parameters

BIN = Path(sys.executable).parent


def rdk(*args: str, endpoint_url: str | None = None, cwd: Path = ROOT / "rules") -> str:
    result = subprocess.run(
        [str(BIN / "rdk"), *args],
        cwd=cwd,
        env=subprocess_env(endpoint_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_create_rule_template_rules_only_passes_cfn_lint(tmp_path):
    output = tmp_path / "rules.json"
    rdk("create-rule-template", "--rules-only", "--all", "-o", str(output))
    template = json.loads(output.read_text())
    rules = {r["Properties"]["ConfigRuleName"]: r for r in template["Resources"].values()}
    assert set(rules) == set(RULE_NAMES)
    for name, resource in rules.items():
        source_events = parameters(name)["Parameters"].get("SourceEvents")
        if source_events:
            assert resource["Properties"]["Scope"]["ComplianceResourceTypes"] == source_events.split(",")
    lint = subprocess.run([str(BIN / "cfn-lint"), str(output)], capture_output=True, text=True, check=False)
    assert lint.returncode == 0, lint.stdout + lint.stderr


@pytest.fixture
def rdk_account(moto_server_url, tmp_path):
    """A copy of rules/ to deploy from, and a moto account that has rdk's code bucket (as `rdk init` makes)."""
    rules = copy_project(tmp_path, ("rules",)) / "rules"
    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    session.client("s3", endpoint_url=moto_server_url).create_bucket(
        Bucket="config-rule-code-bucket-123456789012-us-east-1"
    )
    return rules, session


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..Config")
def test_rdk_deploy_creates_each_rule_lambda_with_its_parameters(moto_server_url, rdk_account):
    rules, session = rdk_account

    rdk("deploy", "--all", endpoint_url=moto_server_url, cwd=rules)

    functions = session.client("lambda", endpoint_url=moto_server_url).list_functions()["Functions"]
    deployed = {f["FunctionName"]: f["Runtime"] for f in functions}
    assert deployed == {f"RDK-Rule-Function-{name.replace('_', '')}": "python3.12" for name in RULE_NAMES}
    cloudformation = session.client("cloudformation", endpoint_url=moto_server_url)
    for name in RULE_NAMES:
        stack = cloudformation.describe_stacks(StackName=name.replace("_", ""))["Stacks"][0]
        passed = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
        body = parameters(name)["Parameters"]
        expected = json.loads(body["InputParameters"])
        expected.update({k: v for k, v in json.loads(body.get("OptionalParameters", "{}")).items() if v})
        assert json.loads(passed["SourceInputParameters"]) == expected


def largest_lambda_timeout() -> int:
    """The longest LambdaTimeout a rule's parameters.json declares (rdk's default 60 s when none does)."""
    return max(int(parameters(name)["Parameters"].get("LambdaTimeout", 60)) for name in RULE_NAMES)


def test_every_readme_deploy_command_passes_the_timeout_the_rules_declare():
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    commands = [
        line
        for line in readme.splitlines()
        if "bin/rdk deploy" in line and ("--all" in line or "LAMBDA_CODE_SIGNING_CHECK" in line)
    ]
    assert commands, "the README shows no rdk deploy command for the rules"
    for command in commands:
        assert f"--lambda-timeout {largest_lambda_timeout()}" in command, command
    assert largest_lambda_timeout() == int(parameters("LAMBDA_CODE_SIGNING_CHECK")["Parameters"]["LambdaTimeout"])


def readme_functions_only_command() -> list[str]:
    """The README's `rdk deploy ... -f` command for the pack's rule Lambdas, as arguments after `rdk`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8").replace("\\\n", " ")
    line = next(line for line in readme.splitlines() if "rdk deploy --all -f" in line)
    arguments = line.split("rdk deploy", 1)[1].split("&&", 1)[0].split()
    return ["deploy", *arguments]


@pytest.mark.filterwarnings("ignore:Tried to parse AWS..Config")
def test_readme_functions_only_deploy_gives_the_lambdas_the_trusted_role_and_rdklib(moto_server_url, rdk_account):
    rules, session = rdk_account
    role = load_project(ROOT).lambda_role_name
    session.client("iam", endpoint_url=moto_server_url).create_role(RoleName=role, AssumeRolePolicyDocument="{}")
    lambda_client = session.client("lambda", endpoint_url=moto_server_url)
    layer = lambda_client.publish_layer_version(LayerName="rdklib-layer", Content={"ZipFile": b"PK"})["LayerVersionArn"]

    command = readme_functions_only_command()
    assert "--rdklib-layer-arn" in command and f"--lambda-role-name {role}" in " ".join(command)
    # moto reads a CreateStack TemplateURL path-style only when the host is named localhost (still loopback).
    endpoint = moto_server_url.replace("127.0.0.1", "localhost")
    rdk(*[layer if part == '"$RDKLIB_LAYER"' else part for part in command], endpoint_url=endpoint, cwd=rules)

    functions = lambda_client.list_functions()["Functions"]
    assert {f["FunctionName"] for f in functions} == {f"RDK-Rule-Function-{n.replace('_', '')}" for n in RULE_NAMES}
    for function in functions:
        assert function["Role"] == f"arn:aws:iam::123456789012:role/{role}", function["FunctionName"]
        assert function["Timeout"] == largest_lambda_timeout(), function["FunctionName"]
    # moto's CloudFormation drops a function's Layers, so read them from the template rdk deployed.
    stack = session.client("cloudformation", endpoint_url=moto_server_url).get_template(
        StackName="RDK-Config-Rule-Functions"
    )
    template = stack["TemplateBody"] if isinstance(stack["TemplateBody"], dict) else json.loads(stack["TemplateBody"])
    layers = {
        resource["Properties"]["FunctionName"]: resource["Properties"].get("Layers")
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert layers == {f"RDK-Rule-Function-{n.replace('_', '')}": [layer] for n in RULE_NAMES}
