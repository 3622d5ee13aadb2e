"""Every IAM policy the project ships passes parliament, names its actions and scopes its resources."""

from __future__ import annotations

import json
import warnings

import pytest

from rdkpack import build
from rdkpack.config import load_project
from tests.conftest import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

PROJECT = load_project(ROOT)
# Actions AWS offers no resource-level permission for: "*" is the narrowest resource they accept.
RESOURCE_STAR_ONLY = {
    "config:PutEvaluations",
    "config:GetResourceConfigHistory",
    "lambda:ListFunctions",
    "tag:GetResources",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSubnets",
}
# s3:PutLifecycleConfiguration lets its holder expire objects, which parliament reports as a way around
# a missing s3:DeleteObject. Rewriting lifecycle rules is the remediation's whole job, so this one
# finding is accepted; the role can only be assumed by Systems Manager in its own account.
ACCEPTED = {("RemediationRole", "RESOURCE_POLICY_PRIVILEGE_ESCALATION", "arn:aws:s3:::*")}


def resolved(value):
    """The policy as it is in an account: CloudFormation substitutions replaced by example values."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        names = {"${AWS::Partition}": "aws", "${AWS::AccountId}": "123456789012", "${AWS::Region}": "us-east-1"}
        text = value["Fn::Sub"]
        for name, example in names.items():
            text = text.replace(name, example)
        return text
    if isinstance(value, dict):
        return {key: resolved(item) for key, item in value.items()}
    if isinstance(value, list):
        return [resolved(item) for item in value]
    return value


def policies():
    templates = (build.iam_roles_template(PROJECT), build.central_role_template(PROJECT))
    for template in templates:
        for logical, resource in template["Resources"].items():
            for policy in resource["Properties"].get("Policies", []):
                yield pytest.param(logical, resolved(policy["PolicyDocument"]), id=f"{logical}.{policy['PolicyName']}")


@pytest.mark.parametrize(("role", "document"), list(policies()))
def test_policy_passes_parliament(role, document):
    findings = analyze_policy_string(json.dumps(document)).findings
    unexpected = [
        (finding.issue, finding.detail)
        for finding in findings
        if not any(
            role == r and finding.issue == issue and resource in str(finding.detail) for r, issue, resource in ACCEPTED
        )
    ]
    assert unexpected == []


@pytest.mark.parametrize(("role", "document"), list(policies()))
def test_policy_names_every_action_and_uses_star_only_where_aws_requires_it(role, document):
    for statement in document["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        assert all("*" not in action for action in actions), statement
        if "*" in resources:
            assert set(actions) <= RESOURCE_STAR_ONLY, statement


def test_parliament_catches_a_bad_policy():
    bad = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:lambda:*:*:function:*"}],
    }
    assert [f.issue for f in analyze_policy_string(json.dumps(bad)).findings] == ["RESOURCE_MISMATCH"]
