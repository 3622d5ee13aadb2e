"""The rules work with the rdk CLI itself: template generation and deploy, with no AWS account."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

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


def test_every_documented_deploy_command_passes_the_timeout_the_rules_declare():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    text = "\n".join(page.read_text(encoding="utf-8") for page in pages).replace("\\\n", " ")
    commands = [
        line
        for line in text.splitlines()
        if "bin/rdk deploy" in line and ("--all" in line or "LAMBDA_CODE_SIGNING_CHECK" in line)
    ]
    assert commands, "neither the README nor the site shows an rdk deploy command for the rules"
    for command in commands:
        assert f"--lambda-timeout {largest_lambda_timeout()}" in command, command
    assert largest_lambda_timeout() == int(parameters("LAMBDA_CODE_SIGNING_CHECK")["Parameters"]["LambdaTimeout"])
