"""The SCP twin: each statement evaluated against request contexts by a small evaluator of the condition
operators it uses, compared with the allow/deny the README promises; parliament; validate."""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import warnings

import pytest

from rdkpack.packs import scp, validate
from rdkpack.project.config import load_project
from tests.support.project import ROOT

with warnings.catch_warnings():
    warnings.simplefilter("ignore", UserWarning)  # parliament imports the deprecated pkg_resources
    from parliament import analyze_policy_string

PROJECT = load_project(ROOT)
ORG = PROJECT.packs["rdk-guardrails-org-baseline"]
APPROVED = "arn:aws:lambda:eu-west-1:123456789012:layer:company-base:7"
OLD_APPROVED = "arn:aws:lambda:eu-west-1:123456789012:layer:company-base:1"
FOREIGN = "arn:aws:lambda:eu-west-1:999999999999:layer:company-base:7"
CSC = "arn:aws:lambda:eu-west-1:555555555555:code-signing-config:csc-0123456789abcdef0"
OTHER_CSC = "arn:aws:lambda:eu-west-1:666666666666:code-signing-config:csc-0123456789abcdef0"
NEGATED = {"StringNotLike", "StringNotEquals", "ArnNotLike"}
GLOB = {"StringLike", "StringNotLike", "ArnLike", "ArnNotLike"}  # ArnLike: wildcards within each ARN segment


def matches(base: str, value: str, patterns: list[str]) -> bool:
    glob = base in GLOB  # fnmatch also reads [ ] as sets: ARNs hold none
    hit = any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns) if glob else value in patterns
    return not hit if base in NEGATED else hit


def holds(operator: str, key: str, wanted, context: dict) -> bool:
    """IAM's evaluation of one condition test; an absent key is None, a multivalued key a list."""
    value = context.get(key)
    if operator == "Null":
        return (value is None) == (wanted == "true")
    quantifier, _, base = operator.rpartition(":")
    patterns = wanted if isinstance(wanted, list) else [wanted]
    if quantifier == "ForAllValues":  # true for no values at all: the trap the Null test closes
        return all(matches(base, item, patterns) for item in value or [])
    if quantifier == "ForAnyValue":
        return any(matches(base, item, patterns) for item in value or [])
    if value is None:
        return base in NEGATED
    return matches(base, value, patterns)


def denies(policy: dict, action: str, context: dict) -> bool:
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        conditions = statement.get("Condition", {})
        if action in actions and all(
            holds(operator, key, wanted, context)
            for operator, tests in conditions.items()
            for key, wanted in tests.items()
        ):
            return True
    return False


def variant(tag="", allowed="", on_create=False) -> dict:
    """The org pack's SCP with an ExemptionTag, an allow-list of configs, and the create statement."""
    rules = tuple(
        dataclasses.replace(
            rule,
            parameters={
                **rule.parameters,
                **({"ExemptionTag": tag} if tag else {}),
                **({"AllowedCodeSigningConfigArns": allowed} if allowed and rule.name == scp.SIGNING_RULE else {}),
            },
        )
        for rule in ORG.rules
    )
    pack = dataclasses.replace(ORG, rules=rules, preventive={"scp": True, "requireCodeSigningOnCreate": on_create})
    return scp.policy(PROJECT, pack)


CREATE, UPDATE = "lambda:CreateFunction", "lambda:UpdateFunctionConfiguration"
PUT, DELETE = "lambda:PutFunctionCodeSigningConfig", "lambda:DeleteFunctionCodeSigningConfig"
CASES = [
    # (policy options, action, request context, denied?, why)
    ({}, CREATE, {}, False, "a create without layers: there is no package-type key, Image functions look the same"),
    ({}, CREATE, {"lambda:Layer": [APPROVED]}, False, "an approved layer"),
    (
        {},
        CREATE,
        {"lambda:Layer": [OLD_APPROVED]},
        False,
        "any version of an approved layer: MinLayerVersion is Config's",
    ),
    ({}, CREATE, {"lambda:Layer": [FOREIGN]}, True, "layers, none approved"),
    ({}, CREATE, {"lambda:Layer": [FOREIGN, APPROVED]}, False, "other layers beside an approved one"),
    ({}, UPDATE, {}, False, "an update that does not carry Layers"),
    ({}, UPDATE, {"lambda:Layer": [FOREIGN]}, True, "an update to layers none of which is approved"),
    ({}, UPDATE, {"lambda:Layer": [APPROVED]}, False, "the remediation's own update"),
    (
        {"tag": "guardrail-exempt"},
        UPDATE,
        {"lambda:Layer": [FOREIGN], "aws:PrincipalTag/guardrail-exempt": "x"},
        False,
        "a principal carrying the exemption tag",
    ),
    (
        {"tag": "team=platform"},
        UPDATE,
        {"lambda:Layer": [FOREIGN], "aws:PrincipalTag/team": "apps"},
        True,
        "the tag's key with another value",
    ),
    ({}, PUT, {"lambda:CodeSigningConfigArn": CSC}, False, "any config when the rule allows any"),
    ({"allowed": CSC}, PUT, {"lambda:CodeSigningConfigArn": OTHER_CSC}, True, "a config outside the allow-list"),
    ({"allowed": CSC}, PUT, {"lambda:CodeSigningConfigArn": CSC}, False, "an allowed config"),
    ({}, DELETE, {}, True, "detaching a config"),
    ({"tag": "guardrail-exempt"}, DELETE, {"aws:PrincipalTag/guardrail-exempt": "yes"}, False, "exempt principal"),
    ({}, CREATE, {"lambda:CodeSigningConfigArn": OTHER_CSC}, False, "any config when the rule allows any"),
    (
        {"allowed": CSC},
        CREATE,
        {"lambda:CodeSigningConfigArn": OTHER_CSC},
        True,
        "a create naming an unapproved config",
    ),
    ({"allowed": CSC}, CREATE, {}, False, "a create without a config (Image functions too) unless the pack asks"),
    (
        {"tag": "guardrail-exempt"},
        "iam:TagRole",
        {"aws:TagKeys": ["guardrail-exempt"]},
        True,
        "giving a role the exemption tag",
    ),
    (
        {"tag": "guardrail-exempt"},
        "sts:TagSession",
        {"aws:TagKeys": ["guardrail-exempt", "team"]},
        True,
        "a session tag of the exemption key",
    ),
    ({"tag": "guardrail-exempt"}, "iam:TagRole", {"aws:TagKeys": ["team"]}, False, "other tags"),
    (
        {"tag": "guardrail-exempt"},
        "iam:UntagRole",
        {"aws:TagKeys": ["guardrail-exempt"], "aws:PrincipalTag/guardrail-exempt": "x"},
        False,
        "a principal that carries the tag may manage it",
    ),
    ({"on_create": True, "allowed": CSC}, CREATE, {"lambda:CodeSigningConfigArn": OTHER_CSC}, True, "unapproved"),
    ({"on_create": True, "allowed": CSC}, CREATE, {"lambda:CodeSigningConfigArn": CSC}, False, "approved config"),
    ({"on_create": True}, CREATE, {}, True, "a create without a config, an Image function's too (documented)"),
    (
        {"on_create": True, "tag": "image-pipeline"},
        CREATE,
        {"aws:PrincipalTag/image-pipeline": "1"},
        False,
        "an image pipeline's role carrying the exemption tag",
    ),
]


@pytest.mark.parametrize(("options", "action", "context", "expected", "why"), CASES, ids=[c[4] for c in CASES])
def test_each_statement_allows_and_denies_what_the_readme_says(options, action, context, expected, why):
    assert denies(variant(**options), action, context) is expected, why


def test_the_evaluator_sees_the_for_all_values_trap():
    unguarded = {
        "Statement": [{"Action": CREATE, "Condition": {"ForAllValues:StringNotLike": {"lambda:Layer": ["x"]}}}]
    }
    assert denies(unguarded, CREATE, {}), "ForAllValues is true for a request without layers"


@pytest.mark.parametrize("options", [{}, {"tag": "team=platform", "allowed": CSC, "on_create": True}])
def test_the_policy_passes_parliament_and_validate(options):
    body = json.dumps(variant(**options), indent=1)
    findings = [f for f in analyze_policy_string(body).findings if f.severity != "LOW"]
    assert [(f.issue, f.detail) for f in findings] == []
    assert validate.validate_scp(body, "scp.json") == []


def test_the_committed_scp_is_the_org_packs_and_the_sandbox_has_none():
    committed = json.loads((ROOT / "preventive" / ORG.name / "scp.json").read_text())
    assert committed == scp.policy(PROJECT, ORG)
    assert scp.policy(PROJECT, PROJECT.packs["rdk-guardrails-sandbox"]) is None


def test_validate_finds_a_policy_too_large_an_allow_and_a_wildcard_action():
    policy = {"Version": "2012-10-17", "Statement": [{"Sid": "Wide", "Effect": "Allow", "Action": "lambda:*"}]}
    body = json.dumps(policy) + " " * 5_200
    assert [f.code for f in validate.validate_scp(body, "scp.json")] == ["SCP_SIZE", "SCP_EFFECT", "SCP_ACTION"]
