"""CloudFormation Guard rules: the preventive twin of three rules, with the pack's parameter values baked in.

Written in the Guard 2.x language (no functions such as count(): a list's length is tested by index,
`SubnetIds[1] not exists` for "at most one"), over CloudFormation resource properties. A value given by
an intrinsic function (`Ref`, `Fn::Sub`, `Fn::GetAtt`...) is a struct in the template and cannot be
known before deployment: each rule passes it (`is_struct`) and leaves it to the Config rule, which
sees the resolved value. docs/concepts/preventive-twins.md lists what each rule checks.
"""

from __future__ import annotations

import json
import re

from rdkpack.project.config import Pack, PackRule

GUARDED_RULES = ("LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK")
TARGETS = {
    "LAMBDA_LAYER_CHECK": "AWS::Lambda::Function",
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": "AWS::S3::Bucket",
    "VPC_ENDPOINT_AZ_COUNT_CHECK": "AWS::EC2::VPCEndpoint",
}


def text(value: str) -> str:
    """A Guard string literal."""
    return json.dumps(value)


def at_least(minimum: int) -> str:
    """A regex for the decimal integers >= minimum (no leading zeros), since Guard 2.x compares no substrings."""
    if minimum <= 1:
        return "[1-9][0-9]*"
    digits = str(minimum)
    choices = [f"[1-9][0-9]{{{len(digits)},}}", re.escape(digits)]
    for index, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - index - 1
            choices.append(f"{digits[:index]}[{int(digit) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "(" + "|".join(choices) + ")"


def arn_regex(pattern: str) -> str:
    """The layer rule's ARN pattern as a regex: `*` stands for a whole partition, region or account segment."""
    parts = pattern.split(":")
    partition = "aws[a-z-]*" if parts[1] == "*" else re.escape(parts[1])
    region = "[a-z0-9-]+" if parts[3] == "*" else re.escape(parts[3])
    account = "[0-9]{12}" if parts[4] == "*" else re.escape(parts[4])
    return ":".join(["arn", partition, re.escape(parts[2]), region, account, *(re.escape(p) for p in parts[5:])])


def not_exempt(rule: PackRule) -> list[str]:
    """A filter clause leaving out resources that carry the rule's ExemptionTag (none without one). Guard cannot
    compare dates: a tag whose value carries `expires=YYYY-MM-DD` exempts here until the tag is removed, and the
    live rule and `rdkpack check` judge the expiry."""
    tag = rule.exemption_tag()
    if tag is None:
        return []
    key, value = tag
    carried = f"Key == {text(key)}" + (f" Value in [{text(value)}, /^{re.escape(value)} /]" if value else "")
    return [f"{{props}}.Tags not exists or {{props}}.Tags[ {carried} ] empty"]


# A template names a resource's Type and Properties; a Guard hook hands each resource to the rules as
# ResourceType and ResourceProperties. Every rule checks both shapes, so one text serves `cfn-guard
# validate` on templates and the hook.
SHAPES = (("template", "Type", "Properties"), ("hook", "ResourceType", "ResourceProperties"))


def guard_rule(name: str, resource_type: str, filters: list[str], target: str, checks: str) -> str:
    """The rule over both shapes: filters and target use {props}, checks run on each selected target."""
    lets, blocks = [], []
    variable = name.lower()
    for shape, type_key, props in SHAPES:
        clauses = "".join(f"    {clause.format(props=props)}\n" for clause in filters)
        lets.append(f"let {variable}_{shape} = Resources.*[\n    {type_key} == {text(resource_type)}\n{clauses}]")
        body = "\n".join(f"            {line}" if line else "" for line in checks.strip("\n").split("\n"))
        blocks.append(
            f"    when %{variable}_{shape} !empty {{\n        %{variable}_{shape}{target.format(props=props)} {{\n"
            f"{body}\n        }}\n    }}"
        )
    return "\n".join(lets) + f"\n\nrule {name} {{\n" + "\n".join(blocks) + "\n}\n"


def layer_rule(rule: PackRule) -> str:
    patterns = rule.listed("LayerArn")
    minimum = int(rule.parameters.get("MinLayerVersion") or 1)
    approved = "|".join(arn_regex(pattern) for pattern in patterns)
    expected = f"a version >= {minimum} of {' or '.join(patterns)}"
    checks = f"""Layers exists
Layers !empty
<<LAMBDA_LAYER_CHECK: the function has no layers; expected {expected}>>
some Layers[*] == /^({approved}):{at_least(minimum)}$/ or
some Layers[*] is_struct
<<LAMBDA_LAYER_CHECK: no layer is {expected} (a layer given by Ref or Fn::Sub is left to the Config rule)>>"""
    filters = ["{props}.PackageType not exists or {props}.PackageType != 'Image'", *not_exempt(rule)]
    header = "# LAMBDA_LAYER_CHECK: Zip functions carry an approved layer at version >= MinLayerVersion.\n"
    return header + guard_rule("LAMBDA_LAYER_CHECK", TARGETS["LAMBDA_LAYER_CHECK"], filters, ".{props}", checks)


LIFECYCLE_MESSAGE = (
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: S3 matches '*' in a lifecycle prefix literally, so the rule's prefix "
    "selects no keys; use the prefix up to the '*'"
)


def lifecycle_rule(rule: PackRule) -> str:
    # The Config rule's default: disabled rules are checked unless IncludeDisabledRules is false.
    include_disabled = str(rule.parameters.get("IncludeDisabledRules", "true")).strip().lower() != "false"
    checked = "Rules[*]" if include_disabled else "Rules[ Status == 'Enabled' ]"
    disabled = "Disabled rules are checked too." if include_disabled else "Disabled rules are not checked."
    checks = f"""when Prefix is_string {{
    Prefix != /\\*/
    <<{LIFECYCLE_MESSAGE}>>
}}"""
    header = (
        "# S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: S3 matches '*' in a lifecycle prefix literally,\n"
        f"# so such a rule selects (almost) nothing. {disabled}\n"
    )
    filters = ["{props}.LifecycleConfiguration exists", *not_exempt(rule)]
    target = ".{props}.LifecycleConfiguration." + checked
    return header + guard_rule(
        "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", TARGETS["S3_LIFECYCLE_ASTERISK_PREFIX_CHECK"], filters, target, checks
    )


def service_regex(names: list[str]) -> str:
    return "|".join(".*".join(re.escape(part) for part in name.split("*")) for name in names)


def endpoint_rule(rule: PackRule) -> str:
    types = rule.listed("EndpointTypes") or ["Interface"]
    excluded = rule.listed("ExcludedServiceNames")
    maximum, minimum = rule.parameters.get("MaxAzCount"), rule.parameters.get("MinAzCount")
    filters = [f"{{props}}.VpcEndpointType in [{', '.join(text(kind) for kind in types)}]"]
    if excluded:
        filters.append(f"{{props}}.ServiceName is_struct or {{props}}.ServiceName != /^({service_regex(excluded)})$/")
    filters += not_exempt(rule)
    checks = []
    if minimum:  # no subnets at all is zero AZs: below any minimum
        zero = f"VPC_ENDPOINT_AZ_COUNT_CHECK: the endpoint spans 0 AZs; the minimum is {int(minimum)}"
        checks.append(f"SubnetIds exists\n<<{zero}>>")
    limits = []
    if maximum:
        limits.append(
            f"    SubnetIds[{int(maximum)}] not exists\n"
            f"    <<VPC_ENDPOINT_AZ_COUNT_CHECK: the endpoint spans more than {int(maximum)} AZ(s) "
            "(one subnet per AZ); each extra AZ costs about $7.30 a month>>"
        )
    if minimum:
        limits.append(
            f"    SubnetIds[{int(minimum) - 1}] exists\n"
            f"    <<VPC_ENDPOINT_AZ_COUNT_CHECK: the endpoint spans fewer than {int(minimum)} AZ(s)>>"
        )
    checks.append("when SubnetIds is_list {\n" + "\n".join(limits) + "\n}")
    header = "# VPC_ENDPOINT_AZ_COUNT_CHECK: endpoints of the checked types span at most MaxAzCount\n"
    header += "# and at least MinAzCount AZs.\n"
    return header + guard_rule(
        "VPC_ENDPOINT_AZ_COUNT_CHECK", TARGETS["VPC_ENDPOINT_AZ_COUNT_CHECK"], filters, ".{props}", "\n".join(checks)
    )


WRITERS = {
    "LAMBDA_LAYER_CHECK": layer_rule,
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": lifecycle_rule,
    "VPC_ENDPOINT_AZ_COUNT_CHECK": endpoint_rule,
}


def rules(pack: Pack) -> dict[str, str]:
    """RULE -> Guard text, for the guarded rules of a pack that asks for a Guard hook."""
    if not pack.preventive.get("guardHook"):
        return {}
    return {rule.name: WRITERS[rule.name](rule) for rule in pack.rules if rule.name in WRITERS}


def hook_alias(rule_name: str) -> str:
    return "Private::Guard::Rdk" + "".join(part.capitalize() for part in rule_name.split("_"))


def hooks_template(pack: Pack) -> dict:
    """One AWS::CloudFormation::GuardHook per guarded rule (its resource type only), reading the rule from S3."""
    failure_mode = pack.preventive["guardHook"]["failureMode"]
    rules_uri = "arn:${AWS::Partition}:s3:::${RulesBucket}/${RulesPrefix}/" + pack.name + "/*"
    resources = {
        "GuardHookRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "Description": f"Read the Guard rules of pack {pack.name}; assumed by CloudFormation Hooks only.",
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "hooks.cloudformation.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": "ReadGuardRules",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": ["s3:GetObject", "s3:GetObjectVersion"],
                                    "Resource": {"Fn::Sub": rules_uri},
                                }
                            ],
                        },
                    }
                ],
            },
        }
    }
    for rule in (r for r in pack.rules if r.name in WRITERS):
        resources[hook_alias(rule.name).rsplit("::", 1)[1] + "Hook"] = {
            "Type": "AWS::CloudFormation::GuardHook",
            "Properties": {
                "Alias": hook_alias(rule.name),
                "ExecutionRole": {"Fn::GetAtt": ["GuardHookRole", "Arn"]},
                "FailureMode": failure_mode,
                "HookStatus": "ENABLED",
                "TargetOperations": ["RESOURCE"],
                "TargetFilters": {"Actions": ["CREATE", "UPDATE"], "TargetNames": [TARGETS[rule.name]]},
                "RuleLocation": {
                    "Uri": {"Fn::Sub": "s3://${RulesBucket}/${RulesPrefix}/" + f"{pack.name}/{rule.name}.guard"}
                },
            },
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"CloudFormation Guard hooks for pack {pack.name} (FailureMode {failure_mode}): each checks "
        "one resource type against its rule in preventive/" + pack.name + "/, uploaded to s3://RulesBucket/"
        "RulesPrefix/" + pack.name + "/. Deploy in every account and region of the pack.",
        "Parameters": {
            "RulesBucket": {"Type": "String", "Description": "S3 bucket holding the uploaded Guard rules."},
            "RulesPrefix": {"Type": "String", "Default": "rdk-guardrails/guard", "Description": "Key prefix."},
        },
        "Resources": resources,
    }
