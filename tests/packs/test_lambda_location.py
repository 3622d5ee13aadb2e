"""Both rule Lambda locations are coherent end to end: the role the rule functions run as is the one trusted."""

from __future__ import annotations

import dataclasses

import pytest

from rdkpack.packs import build
from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)


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
def test_execution_role_trusts_the_role_the_rule_functions_run_as(location, lambda_account, role_template):
    project = dataclasses.replace(
        PROJECT, lambda_location=location, central_account_id="444444444444", invoker_account_ids=("555555555555",)
    )
    outputs = build.build_all(project)
    role_name = PROJECT.lambda_role_name
    assert trusted_principal(outputs) == f"arn:${{AWS::Partition}}:iam::{lambda_account}:role/{role_name}"
    assert role_name in created_roles(outputs, role_template), f"nothing creates {role_name} in {location} mode"
    functions = outputs["prerequisites/rule-functions.yaml"]["Resources"].values()
    roles = {f["Properties"]["Role"]["Fn::Sub"] for f in functions if f["Type"] == "AWS::Lambda::Function"}
    # The functions run in the account of the stack that creates them: the central account, or every account.
    assert roles == {f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{role_name}"}


def test_local_lambda_role_may_assume_only_its_own_accounts_execution_role():
    outputs = build.build_all(dataclasses.replace(PROJECT, lambda_location="local"))
    role = created_roles(outputs, "prerequisites/iam-roles.yaml")[PROJECT.lambda_role_name]
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assume = [s["Resource"] for s in statements if "sts:AssumeRole" in s["Action"]]
    assert assume == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:iam::${{AWS::AccountId}}:role/{PROJECT.execution_role_name}"}
    ]
    assert not any(path.startswith("prerequisites/central-") for path in outputs)
