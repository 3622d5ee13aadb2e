"""Both rule Lambda locations are coherent end to end: the role rdk gives the Lambdas is the one trusted."""

from __future__ import annotations

import dataclasses
import re

import pytest

from rdkpack.packs import build
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
README = (ROOT / "README.md").read_text(encoding="utf-8")


def readme_pack_deploy_commands() -> list[str]:
    """`rdk deploy ... -f` commands in the README's code blocks: the functions behind a conformance pack."""
    blocks = re.findall(r"```sh\n(.*?)```", README, flags=re.DOTALL)
    lines = [line.strip() for block in blocks for line in block.replace("\\\n", " ").splitlines()]
    return [line for line in lines if re.search(r"\brdk deploy\b", line) and re.search(r"\s-f\b", line)]


def trusted_principal(outputs: dict) -> str:
    role = outputs["prerequisites/iam-roles.yaml"]["Resources"]["RuleExecutionRole"]["Properties"]
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]
    return condition["ArnEquals"]["aws:PrincipalArn"]["Fn::Sub"]


def created_roles(outputs: dict, path: str) -> dict[str, dict]:
    resources = outputs.get(path, {}).get("Resources", {})
    return {r["Properties"]["RoleName"]: r for r in resources.values() if r["Type"] == "AWS::IAM::Role"}


@pytest.mark.parametrize(
    ("location", "lambda_account", "role_template"),
    [
        ("central", "444444444444", "prerequisites/central-lambda-role.yaml"),
        ("local", "${AWS::AccountId}", "prerequisites/iam-roles.yaml"),
    ],
)
def test_execution_role_trusts_the_role_the_readme_deploys_the_lambdas_with(location, lambda_account, role_template):
    outputs = build.build_all(dataclasses.replace(PROJECT, lambda_location=location))
    trusted = trusted_principal(outputs)
    role_name = PROJECT.lambda_role_name
    assert trusted == f"arn:${{AWS::Partition}}:iam::{lambda_account}:role/{role_name}"
    assert role_name in created_roles(outputs, role_template), f"nothing creates {role_name} in {location} mode"
    commands = readme_pack_deploy_commands()
    assert len(commands) >= 2, "the README shows the central and the local rdk deploy command"
    assert [c for c in commands if f"--lambda-role-name {role_name}" not in c] == []
    assert [c for c in commands if "--rdklib-layer-arn" not in c] == [], "with -f, rdk attaches no rdklib layer"


def test_local_lambda_role_may_assume_only_its_own_accounts_execution_role():
    outputs = build.build_all(dataclasses.replace(PROJECT, lambda_location="local"))
    role = created_roles(outputs, "prerequisites/iam-roles.yaml")[PROJECT.lambda_role_name]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assume = [s["Resource"] for s in statements if "sts:AssumeRole" in s["Action"]]
    assert assume == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{PROJECT.execution_role_name}"}
    ]
    assert not any(path.startswith("prerequisites/central-") for path in outputs)
