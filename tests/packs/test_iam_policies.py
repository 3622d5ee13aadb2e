"""Every IAM policy the project ships passes parliament, names its actions and scopes its resources."""

from __future__ import annotations

import dataclasses
import json
import re
import warnings

import pytest

from rdkpack.packs import build, guard
from rdkpack.project.config import load_project
from tests.support.project import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

PROJECT = load_project(ROOT)
# Actions AWS offers no resource-level permission for: "*" is the narrowest resource they accept.
RESOURCE_STAR_ONLY = {
    "config:PutEvaluations",
    "config:GetResourceConfigHistory",
    "lambda:ListFunctions",
    "lambda:ListCodeSigningConfigs",
    "tag:GetResources",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeSubnets",
    "cloudwatch:GetMetricData",
}
# s3:PutLifecycleConfiguration lets its holder expire objects, which parliament reports as a way around
# a missing s3:DeleteObject. Rewriting lifecycle rules is the remediation's whole job, so this one
# finding is accepted; the role can only be assumed by Systems Manager in its own account.
ACCEPTED = {("RemediationRole", "RESOURCE_POLICY_PRIVILEGE_ESCALATION", "arn:aws:s3:::*")}


def resolved(value):
    """The policy as it is in an account: CloudFormation substitutions replaced by example values."""
    if isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        names = {
            "${AWS::Partition}": "aws",
            "${AWS::AccountId}": "123456789012",
            "${AWS::Region}": "us-east-1",
            "${RulesBucket}": "guard-rules",
            "${RulesPrefix}": "rdk-guardrails/guard",
        }
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
    local = dataclasses.replace(PROJECT, lambda_location="local")
    templates = (
        build.iam_roles_template(PROJECT),
        build.central_role_template(PROJECT),
        build.iam_roles_template(local),
        *(guard.hooks_template(pack) for pack in PROJECT.packs.values() if pack.preventive.get("guardHook")),
    )
    for template in templates:
        for logical, resource in template["Resources"].items():
            for policy in resource.get("Properties", {}).get("Policies", []):
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


# ---- the layer remediation's scope follows the approved layers in rdk-config.json ----

LAYER_ACTIONS = {"lambda:GetLayerVersion", "lambda:UpdateFunctionConfiguration"}
APPROVED = ["arn:aws:lambda:*:123456789012:layer:company-base:*"]


def remediation_statements():
    role = build.iam_roles_template(PROJECT)["Resources"]["RemediationRole"]
    return resolved(role["Properties"]["Policies"][0]["PolicyDocument"])["Statement"]


def as_list(value):
    return value if isinstance(value, list) else [value]


def test_layer_grants_name_exactly_the_approved_layers():
    assert build.approved_layer_patterns(PROJECT) == ("arn:aws:lambda:*:123456789012:layer:company-base",)
    granted = [
        (action, tuple(as_list(s["Resource"])), json.dumps(s.get("Condition"), sort_keys=True))
        for s in remediation_statements()
        for action in as_list(s["Action"])
        if action in LAYER_ACTIONS
    ]
    carries_approved = json.dumps({"ForAnyValue:StringLike": {"lambda:Layer": APPROVED}}, sort_keys=True)
    assert sorted(granted) == [
        ("lambda:GetLayerVersion", tuple(APPROVED), "null"),
        ("lambda:UpdateFunctionConfiguration", ("arn:aws:lambda:*:123456789012:function:*",), carries_approved),
    ]


def string_like(value: str, pattern: str) -> bool:
    return re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), value) is not None


def allows_update(statements, layers: list[str] | None) -> bool:
    """A minimal IAM evaluation of UpdateFunctionConfiguration: Allow statements and ForAnyValue:StringLike."""
    for statement in statements:
        if "lambda:UpdateFunctionConfiguration" not in as_list(statement["Action"]):
            continue
        condition = statement.get("Condition", {}).get("ForAnyValue:StringLike", {}).get("lambda:Layer")
        if condition is None or any(string_like(layer, p) for layer in layers or [] for p in condition):
            return True
    return False


@pytest.mark.parametrize(
    ("layers", "allowed"),
    [
        pytest.param(["arn:aws:lambda:eu-west-1:123456789012:layer:company-base:7"], True, id="approved-layer"),
        pytest.param(
            [
                "arn:aws:lambda:eu-west-1:999999999999:layer:team:1",
                "arn:aws:lambda:eu-west-1:123456789012:layer:company-base:7",
            ],
            True,
            id="approved-layer-kept-beside-others",
        ),
        pytest.param(["arn:aws:lambda:eu-west-1:999999999999:layer:evil:1"], False, id="unapproved-layer"),
        pytest.param(["arn:aws:lambda:eu-west-1:123456789012:layer:company-base-evil:1"], False, id="lookalike-name"),
        pytest.param([], False, id="layers-removed"),
        pytest.param(None, False, id="update-without-layers"),
    ],
)
def test_remediation_role_updates_a_function_only_to_carry_an_approved_layer(layers, allowed):
    assert allows_update(remediation_statements(), layers) is allowed


# ---- the idle-endpoint remediation deletes only where a pack attaches it, never an exempt endpoint ----


def deletion_statements(project=PROJECT):
    role = build.iam_roles_template(project)["Resources"]["RemediationRole"]
    statements = resolved(role["Properties"]["Policies"][0]["PolicyDocument"])["Statement"]
    return [s for s in statements if "ec2:DeleteVpcEndpoints" in as_list(s["Action"])]


def test_delete_vpc_endpoints_is_scoped_to_the_sandbox_account_and_untagged_endpoints():
    assert deletion_statements() == [
        {
            "Effect": "Allow",
            "Action": ["ec2:DeleteVpcEndpoints"],
            "Resource": "arn:aws:ec2:*:111111111111:vpc-endpoint/*",
            "Condition": {"Null": {"aws:ResourceTag/idle-exempt": "true"}},
        }
    ]


def with_idle_remediation(**changes):
    """The project with the idle rule's pack entries changed: parameters and where the remediation is attached."""
    packs = {}
    for name, pack in PROJECT.packs.items():
        rules = []
        for rule in pack.rules:
            changed = rule
            if rule.name == "VPC_ENDPOINT_IDLE_CHECK" and name in changes:
                parameters, attach = changes[name]
                remediation = dataclasses.replace(rule.remediation, attach=attach, document="DeleteIdleVpcEndpoint")
                changed = dataclasses.replace(rule, parameters=parameters, remediation=remediation)
            rules.append(changed)
        packs[name] = dataclasses.replace(pack, rules=tuple(rules))
    return dataclasses.replace(PROJECT, packs=packs)


def test_an_organization_pack_attaching_the_deletion_scopes_it_to_each_account_and_every_exemption_tag():
    project = with_idle_remediation(
        **{"rdk-guardrails-org-baseline": ({"ExemptionTag": "keep=yes"}, True)},
    )
    assert deletion_statements(project) == [
        {
            "Effect": "Allow",
            "Action": ["ec2:DeleteVpcEndpoints"],
            "Resource": "arn:aws:ec2:*:123456789012:vpc-endpoint/*",
            "Condition": {
                "Null": {"aws:ResourceTag/idle-exempt": "true"},
                "StringNotLike": {"aws:ResourceTag/keep": ["yes", "yes *"]},
            },
        }
    ]


def test_no_pack_attaching_the_deletion_grants_no_delete():
    project = with_idle_remediation(**{"rdk-guardrails-sandbox": ({}, False)})
    assert deletion_statements(project) == []
