"""CloudFormation Guard rules: the preventive twin of three rules, with the pack's parameter values baked in.

Written in the Guard 2.x language (no functions such as count(): a list's length is tested by index,
`SubnetIds[1] not exists` for "at most one"), over CloudFormation resource properties. A value given by
an intrinsic function (`Ref`, `Fn::Sub`, `Fn::GetAtt`...) is a struct in the template and cannot be
known before deployment: each rule passes it (`is_struct`) and leaves it to the Config rule, which
sees the resolved value. README, "Preventive twins", lists what each rule checks.
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
    """The layer rule's ARN pattern as a regex: `*` stands for a whole partition or region segment."""
    parts = pattern.split(":")
    partition = "aws[a-z-]*" if parts[1] == "*" else re.escape(parts[1])
    region = "[a-z0-9-]+" if parts[3] == "*" else re.escape(parts[3])
    return ":".join(["arn", partition, re.escape(parts[2]), region, *(re.escape(p) for p in parts[4:])])


def csv(rule: PackRule, name: str) -> list[str]:
    return [part.strip() for part in str(rule.parameters.get(name, "")).split(",") if part.strip()]


def not_exempt(rule: PackRule) -> str:
    """A filter clause leaving out resources that carry the rule's ExemptionTag (none without one)."""
    tag = str(rule.parameters.get("ExemptionTag", "")).strip()
    if not tag:
        return ""
    key, _, value = tag.partition("=")
    carried = f"Key == {text(key.strip())}" + (f" Value == {text(value.strip())}" if value else "")
    return f"    Properties.Tags not exists or Properties.Tags[ {carried} ] empty\n"


def layer_rule(rule: PackRule) -> str:
    patterns = csv(rule, "LayerArn")
    minimum = int(rule.parameters.get("MinLayerVersion") or 1)
    versions = at_least(minimum)
    approved = "|".join(arn_regex(pattern) for pattern in patterns)
    expected = f"a version >= {minimum} of {' or '.join(patterns)}"
    return f"""# LAMBDA_LAYER_CHECK: Zip functions carry an approved layer at version >= MinLayerVersion.
let lambda_functions = Resources.*[
    Type == 'AWS::Lambda::Function'
    Properties.PackageType not exists or Properties.PackageType != 'Image'
{not_exempt(rule)}]

rule LAMBDA_LAYER_CHECK when %lambda_functions !empty {{
    %lambda_functions.Properties {{
        Layers exists
        Layers !empty
        <<LAMBDA_LAYER_CHECK: the function has no layers; expected {expected}>>
        some Layers[*] == /^({approved}):{versions}$/ or
        some Layers[*] is_struct
        <<LAMBDA_LAYER_CHECK: no layer is {expected} (a layer given by Ref or Fn::Sub is left to the Config rule)>>
    }}
}}
"""


LIFECYCLE_MESSAGE = (
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: S3 matches '*' in a lifecycle prefix literally, so the rule's prefix "
    "selects no keys; use the prefix up to the '*'"
)


def lifecycle_rule(rule: PackRule) -> str:
    include_disabled = str(rule.parameters.get("IncludeDisabledRules", "false")).strip().lower() == "true"
    checked = "Rules[*]" if include_disabled else "Rules[ Status == 'Enabled' ]"
    disabled = "Disabled rules are checked too." if include_disabled else "Disabled rules are not checked."
    return f"""# S3_LIFECYCLE_ASTERISK_PREFIX_CHECK: S3 matches '*' in a lifecycle prefix literally,
# so such a rule selects (almost) nothing. {disabled}
let s3_buckets = Resources.*[
    Type == 'AWS::S3::Bucket'
    Properties.LifecycleConfiguration exists
{not_exempt(rule)}]

rule S3_LIFECYCLE_ASTERISK_PREFIX_CHECK when %s3_buckets !empty {{
    %s3_buckets.Properties.LifecycleConfiguration.{checked} {{
        when Prefix is_string {{
            Prefix != /\\*/
            <<{LIFECYCLE_MESSAGE}>>
        }}
    }}
}}
"""


def service_regex(names: list[str]) -> str:
    return "|".join(".*".join(re.escape(part) for part in name.split("*")) for name in names)


def endpoint_rule(rule: PackRule) -> str:
    types = csv(rule, "EndpointTypes") or ["Interface"]
    excluded = csv(rule, "ExcludedServiceNames")
    maximum, minimum = rule.parameters.get("MaxAzCount"), rule.parameters.get("MinAzCount")
    exclusion = (
        f"    Properties.ServiceName is_struct or Properties.ServiceName != /^({service_regex(excluded)})$/\n"
        if excluded
        else ""
    )
    checks = []
    if maximum:
        checks.append(
            f"            SubnetIds[{int(maximum)}] not exists\n"
            f"            <<VPC_ENDPOINT_AZ_COUNT_CHECK: the endpoint spans more than {int(maximum)} AZ(s) (one subnet "
            f"per AZ); each extra AZ costs about $7.30 a month>>"
        )
    if minimum:
        checks.append(
            f"            SubnetIds[{int(minimum) - 1}] exists\n"
            f"            <<VPC_ENDPOINT_AZ_COUNT_CHECK: the endpoint spans fewer than {int(minimum)} AZ(s)>>"
        )
    listed = ", ".join(text(kind) for kind in types)
    return f"""# VPC_ENDPOINT_AZ_COUNT_CHECK: endpoints of the checked types span at most MaxAzCount
# and at least MinAzCount AZs.
let vpc_endpoints = Resources.*[
    Type == 'AWS::EC2::VPCEndpoint'
    Properties.VpcEndpointType in [{listed}]
{exclusion}{not_exempt(rule)}]

rule VPC_ENDPOINT_AZ_COUNT_CHECK when %vpc_endpoints !empty {{
    %vpc_endpoints.Properties {{
        when SubnetIds is_list {{
{chr(10).join(checks)}
        }}
    }}
}}
"""


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
