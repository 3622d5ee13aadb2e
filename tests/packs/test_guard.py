"""The Guard twin: one table of scenarios, each written once as a CloudFormation resource and as the
configuration item the same resource records, must get the same verdict from the generated Guard rule
(cfn-guard's own engine through cfn-guard-rs's low-level checker, offline) and from the Python rule.

Rows with an intrinsic function are where the two differ by design: the template holds a struct that
only deployment resolves, so the Guard rule passes it and the Config rule judges the resolved value."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
from cfn_guard_rs.cfn_guard_rs import run_checks_rs

from rdkpack.account.inventory import lifecycle_configuration
from rdkpack.packs import guard, validate
from rdkpack.project.config import load_project
from tests.support.project import ROOT, load_rule

PROJECT = load_project(ROOT)
GUARD_VERDICTS = {"PASS": "COMPLIANT", "FAIL": "NON_COMPLIANT", "SKIP": "NOT_APPLICABLE"}
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:company-base"
FOREIGN = "arn:aws:lambda:us-east-1:999999999999:layer:company-base:9"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


def pack_rule(pack: str, rule: str, **parameters):
    found = next(r for r in PROJECT.packs[pack].rules if r.name == rule)
    merged = {**found.parameters, **parameters}
    return dataclasses.replace(found, parameters={k: v for k, v in merged.items() if v is not None})


def function(layers=(), package_type="Zip", tags=None, cfn_layers=None):
    cfn = {"PackageType": package_type, "Layers": list(cfn_layers if cfn_layers is not None else layers)}
    if tags:
        cfn["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    configuration = {"functionName": "fn", "packageType": package_type, "layers": [{"arn": a} for a in layers]}
    return "AWS::Lambda::Function", cfn, {"configuration": configuration, "tags": tags or {}}


def bucket(*rules, tags=None):
    """Lifecycle rules as (prefix, status[, the template's prefix when an intrinsic gives it]); CloudFormation's
    Prefix, S3's Filter.Prefix in the item."""
    cfn_rules = [
        {"Id": f"r{i}", "Status": rule[1], "Prefix": rule[2] if len(rule) > 2 else rule[0], "ExpirationInDays": 30}
        for i, rule in enumerate(rules)
    ]
    s3_rules = [
        {"ID": f"r{i}", "Status": rule[1], "Filter": {"Prefix": rule[0]}, "Expiration": {"Days": 30}}
        for i, rule in enumerate(rules)
    ]
    cfn = {"LifecycleConfiguration": {"Rules": cfn_rules}} if rules else {}
    if tags:
        cfn["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    supplementary = {"BucketLifecycleConfiguration": lifecycle_configuration(s3_rules)} if rules else {}
    item = {"configuration": {"name": "b"}, "supplementaryConfiguration": supplementary, "tags": tags or {}}
    return "AWS::S3::Bucket", cfn, item


def endpoint(subnets, service="com.amazonaws.us-east-1.ssm", kind="Interface", cfn_subnets=None, cfn_service=None):
    cfn = {
        "VpcEndpointType": kind,
        "ServiceName": cfn_service or service,
        "VpcId": "vpc-1",
        "SubnetIds": cfn_subnets if cfn_subnets is not None else list(subnets),
    }
    configuration = {"vpcEndpointType": kind, "serviceName": service, "subnetIds": list(subnets), "state": "available"}
    return "AWS::EC2::VPCEndpoint", cfn, {"configuration": configuration, "tags": {}}


def without_subnets(resource):
    kind, cfn, item = resource
    return kind, {k: v for k, v in cfn.items() if k != "SubnetIds"}, item


SANDBOX, ORG = "rdk-guardrails-sandbox", "rdk-guardrails-org-baseline"
L, S, V = "LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK"
# (name, pack, rule, extra parameters, resource, expected verdict, Guard's verdict when it differs by design)
SCENARIOS = [
    ("no layers", SANDBOX, L, {}, function(), "NON_COMPLIANT", None),
    ("approved layer at the minimum", SANDBOX, L, {}, function([f"{LAYER}:2"]), "COMPLIANT", None),
    ("approved layer above the minimum", SANDBOX, L, {}, function([f"{LAYER}:12"]), "COMPLIANT", None),
    ("approved layer below the minimum", SANDBOX, L, {}, function([f"{LAYER}:1"]), "NON_COMPLIANT", None),
    ("another account's layer of that name", SANDBOX, L, {}, function([FOREIGN]), "NON_COMPLIANT", None),
    ("an approved layer beside another", SANDBOX, L, {}, function([FOREIGN, f"{LAYER}:3"]), "COMPLIANT", None),
    ("an Image function", SANDBOX, L, {}, function(package_type="Image"), "NOT_APPLICABLE", None),
    (
        "any account's layer of that name",
        SANDBOX,
        L,
        {"LayerArn": "arn:aws:lambda:*:*:layer:company-base"},
        function([FOREIGN]),
        "COMPLIANT",
        None,
    ),
    (
        "exempt by tag",
        SANDBOX,
        L,
        {"ExemptionTag": "guardrail-exempt"},
        function(tags={"guardrail-exempt": "yes"}),
        "NOT_APPLICABLE",
        None,
    ),
    (
        "the tag key with another value",
        SANDBOX,
        L,
        {"ExemptionTag": "team=platform"},
        function(tags={"team": "apps"}),
        "NON_COMPLIANT",
        None,
    ),
    (
        "a Ref layer that resolves to an approved one",
        SANDBOX,
        L,
        {},
        function([f"{LAYER}:3"], cfn_layers=[{"Ref": "BaseLayer"}]),
        "COMPLIANT",
        None,
    ),
    (
        "a Fn::Sub layer that resolves to a foreign one",
        SANDBOX,
        L,
        {},
        function([FOREIGN], cfn_layers=[{"Fn::Sub": "arn:${AWS::Partition}:lambda:x"}]),
        "NON_COMPLIANT",
        "COMPLIANT",
    ),
    ("a '*' prefix", SANDBOX, S, {}, bucket(("*", "Enabled")), "NON_COMPLIANT", None),
    ("a 'logs/*' prefix", SANDBOX, S, {}, bucket(("logs/", "Enabled"), ("logs/*", "Enabled")), "NON_COMPLIANT", None),
    ("a '*.log' prefix", SANDBOX, S, {}, bucket(("*.log", "Enabled")), "NON_COMPLIANT", None),
    ("clean prefixes", SANDBOX, S, {}, bucket(("logs/", "Enabled"), ("", "Enabled")), "COMPLIANT", None),
    ("no lifecycle", SANDBOX, S, {}, bucket(), "NOT_APPLICABLE", None),
    ("a disabled '*' rule, disabled rules checked", SANDBOX, S, {}, bucket(("*", "Disabled")), "NON_COMPLIANT", None),
    (
        "a disabled '*' rule, IncludeDisabledRules left to its default",
        SANDBOX,
        S,
        {"IncludeDisabledRules": None},
        bucket(("*", "Disabled")),
        "NON_COMPLIANT",
        None,
    ),
    (
        "a disabled '*' rule, disabled rules not checked",
        SANDBOX,
        S,
        {"IncludeDisabledRules": "false"},
        bucket(("*", "Disabled"), ("logs/", "Enabled")),
        "COMPLIANT",
        None,
    ),
    (
        "a Ref prefix that resolves to a clean one",
        SANDBOX,
        S,
        {},
        bucket(("logs/", "Enabled", {"Ref": "Prefix"})),
        "COMPLIANT",
        "NOT_APPLICABLE",  # a rule whose prefix is a Ref is not checked before deployment
    ),
    (
        "a Ref prefix that resolves to '*'",
        SANDBOX,
        S,
        {},
        bucket(("*", "Enabled", {"Ref": "Prefix"})),
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
    ),
    ("one AZ, maximum 1", SANDBOX, V, {}, endpoint(SUBNETS[:1]), "COMPLIANT", None),
    ("three AZs, maximum 1", SANDBOX, V, {}, endpoint(SUBNETS), "NON_COMPLIANT", None),
    (
        "three AZs of an excluded service",
        SANDBOX,
        V,
        {},
        endpoint(SUBNETS, "com.amazonaws.us-east-1.logs"),
        "NOT_APPLICABLE",
        None,
    ),
    (
        "a gateway endpoint",
        SANDBOX,
        V,
        {},
        endpoint([], "com.amazonaws.us-east-1.s3", "Gateway"),
        "NOT_APPLICABLE",
        None,
    ),
    ("one AZ, minimum 2", ORG, V, {}, endpoint(SUBNETS[:1]), "NON_COMPLIANT", None),
    ("no SubnetIds, minimum 2", ORG, V, {}, without_subnets(endpoint([])), "NON_COMPLIANT", None),
    ("two AZs, minimum 2", ORG, V, {}, endpoint(SUBNETS[:2]), "COMPLIANT", None),
    (
        "Ref subnets that resolve to three AZs, maximum 1",
        SANDBOX,
        V,
        {},
        endpoint(SUBNETS, cfn_subnets={"Ref": "Subnets"}),
        "NON_COMPLIANT",
        "NOT_APPLICABLE",
    ),
    (
        "a Fn::Sub service name of an excluded service",
        SANDBOX,
        V,
        {},
        endpoint(
            SUBNETS[:1], "com.amazonaws.us-east-1.logs", cfn_service={"Fn::Sub": "com.amazonaws.${AWS::Region}.logs"}
        ),
        "NOT_APPLICABLE",
        "COMPLIANT",
    ),
]


SHAPES = {
    # a template, as `cfn-guard validate` reads it in a pipeline
    "template": lambda kind, properties: {"Resources": {"Resource": {"Type": kind, "Properties": properties}}},
    # what a Guard hook hands the rules for one resource (CloudFormation Hooks user guide)
    "hook": lambda kind, properties: {
        "HookContext": {
            "AWSAccountID": "123456789012",
            "StackId": "stack",
            "HookTypeName": "Private::Guard::Rdk",
            "InvocationPoint": "PRE_PROVISION",
            "TargetName": kind,
            "TargetType": "RESOURCE",
            "TargetLogicalId": "Resource",
            "ChangeSetId": "",
            "Action": "CREATE",
        },
        "Resources": {"Resource": {"ResourceType": kind, "ResourceProperties": properties}},
    },
}


def guard_verdict(rule_text: str, resource_type: str, properties: dict, shape: str = "template") -> tuple[str, list]:
    document = SHAPES[shape](resource_type, properties)
    report = json.loads(run_checks_rs(json.dumps(document), rule_text, False))
    return GUARD_VERDICTS[report["status"]], sorted(set(messages(report["not_compliant"])))


def messages(node) -> list[str]:
    if isinstance(node, dict):
        found = [node["custom_message"]] if node.get("custom_message") else []
        return found + [m for value in node.values() for m in messages(value)]
    return [m for value in node for m in messages(value)] if isinstance(node, list) else []


def python_verdict(rule_name: str, parameters: dict, resource_type: str, item: dict) -> str:
    module = load_rule(rule_name, f"guard_parity_{rule_name}")
    rule = getattr(module, rule_name)()
    configuration_item = {
        "resourceType": resource_type,
        "resourceId": "r",
        "resourceName": "r",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "supplementaryConfiguration": {},
        **item,
    }
    evaluations = rule.evaluate_change({}, None, configuration_item, rule.evaluate_parameters(parameters))
    return evaluations[0].complianceType


@pytest.mark.parametrize("shape", list(SHAPES))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[row[0] for row in SCENARIOS])
def test_the_guard_rule_and_the_config_rule_agree(scenario, shape):
    _, pack, rule_name, extra, (resource_type, properties, item), expected, guard_differs = scenario
    rule = pack_rule(pack, rule_name, **extra)
    assert python_verdict(rule_name, rule.parameters, resource_type, item) == expected
    verdict, found = guard_verdict(guard.WRITERS[rule_name](rule), resource_type, properties, shape)
    assert verdict == (guard_differs or expected)
    assert all(text.startswith(f"{rule_name}: ") for text in found)
    assert bool(found) is (verdict == "NON_COMPLIANT"), "a failure says what was found and what is expected"


def test_the_messages_name_what_was_found_and_expected():
    rule = pack_rule(SANDBOX, L)
    _, found = guard_verdict(guard.layer_rule(rule), *function([FOREIGN])[:2])
    assert found == [
        f"{L}: no layer is a version >= 2 of arn:aws:lambda:*:123456789012:layer:company-base "
        "(a layer given by Ref or Fn::Sub is left to the Config rule)"
    ]


def test_every_guarded_rule_of_every_pack_that_asks_is_committed():
    for name, pack in PROJECT.packs.items():
        for rule_name, text in guard.rules(pack).items():
            assert (ROOT / "preventive" / name / f"{rule_name}.guard").read_text() == text


@pytest.mark.parametrize("minimum", [1, 2, 9, 10, 19, 99, 100, 305])
def test_the_version_regex_accepts_exactly_the_versions_at_or_above_the_minimum(minimum):
    pattern = re.compile(f"^{guard.at_least(minimum)}$")
    assert [n for n in range(1, 2_000) if bool(pattern.match(str(n))) != (n >= minimum)] == []
    assert not pattern.match("02") and not pattern.match("")


def test_validate_finds_guard_rules_cfn_guard_cannot_parse():
    assert validate.validate_guard(guard.layer_rule(pack_rule(SANDBOX, L)), "x.guard") == []
    found = validate.validate_guard("rule broken when {", "x.guard")
    assert [(f.code, f.file) for f in found] == [("GUARD_PARSE", "x.guard")]


def test_the_hooks_template_targets_one_type_per_rule_and_reads_only_its_rules():
    for name, pack in PROJECT.packs.items():
        template = guard.hooks_template(pack)
        hooks = [
            r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudFormation::GuardHook"
        ]
        assert sorted(h["TargetFilters"]["TargetNames"][0] for h in hooks) == sorted(guard.TARGETS.values())
        assert {h["FailureMode"] for h in hooks} == {pack.preventive["guardHook"]["failureMode"]}
        role = template["Resources"]["GuardHookRole"]["Properties"]
        statement = role["Policies"][0]["PolicyDocument"]["Statement"][0]
        assert statement["Action"] == ["s3:GetObject", "s3:GetObjectVersion"]
        rules = f"arn:${{AWS::Partition}}:s3:::${{RulesBucket}}/${{RulesPrefix}}/{name}/*"
        assert statement["Resource"] == {"Fn::Sub": rules}
        trust = role["AssumeRolePolicyDocument"]["Statement"][0]
        assert trust["Principal"] == {"Service": "hooks.cloudformation.amazonaws.com"}
        assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    modes = {name: pack.preventive["guardHook"]["failureMode"] for name, pack in PROJECT.packs.items()}
    assert modes == {"rdk-guardrails-sandbox": "WARN", "rdk-guardrails-org-baseline": "FAIL"}
