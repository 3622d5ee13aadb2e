"""The IAM actions each rule and each remediation needs, with the narrowest resources AWS allows.

Resources use ${AWS::Partition} and ${AWS::AccountId} so the statements work in every partition and
account they are deployed to. "*" appears only where the action supports no resource-level scoping.
"""

from __future__ import annotations

import json

FUNCTIONS = "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"
ALL_RESOURCES = "*"

# Reads every rule needs through rdklib: results, and the re-fetch of oversized configuration items.
RULE_COMMON = (
    ("config:PutEvaluations", ALL_RESOURCES),
    ("config:GetResourceConfigHistory", ALL_RESOURCES),
)

RULE_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "LAMBDA_LAYER_CHECK": (),
    "LAMBDA_CODE_SIGNING_CHECK": (
        ("lambda:ListFunctions", ALL_RESOURCES),
        ("lambda:GetFunctionCodeSigningConfig", FUNCTIONS),
        ("lambda:GetCodeSigningConfig", "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:code-signing-config:*"),
        ("tag:GetResources", ALL_RESOURCES),
    ),
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": (),
    "VPC_ENDPOINT_AZ_COUNT_CHECK": (),
}

REMEDIATION_PERMISSIONS: dict[str, tuple[tuple[str, str], ...]] = {
    # lambda:UpdateFunctionConfiguration and lambda:GetLayerVersion come from the approved layers in
    # rdk-config.json: see layer_grants.
    "AddRequiredLambdaLayer": (("lambda:GetFunctionConfiguration", FUNCTIONS),),
    "AttachLambdaCodeSigningConfig": (
        ("lambda:GetFunctionConfiguration", FUNCTIONS),
        ("lambda:GetFunctionCodeSigningConfig", FUNCTIONS),
        ("lambda:PutFunctionCodeSigningConfig", FUNCTIONS),
        (
            "lambda:PutFunctionCodeSigningConfig",
            "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:code-signing-config:*",
        ),
    ),
    "FixS3LifecycleAsteriskPrefix": (
        ("s3:GetLifecycleConfiguration", "arn:${AWS::Partition}:s3:::*"),
        ("s3:PutLifecycleConfiguration", "arn:${AWS::Partition}:s3:::*"),
        # ListObjectsV2: counts the objects a rewritten prefix matches (the blast radius).
        ("s3:ListBucket", "arn:${AWS::Partition}:s3:::*"),
    ),
    "ReduceVpcEndpointAzCount": (
        ("ec2:DescribeVpcEndpoints", ALL_RESOURCES),
        ("ec2:DescribeSubnets", ALL_RESOURCES),
        ("ec2:ModifyVpcEndpoint", "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc-endpoint/*"),
        ("ec2:ModifyVpcEndpoint", "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:subnet/*"),
    ),
}


def layer_version_resource(layer_pattern: str) -> str:
    """Every version of an approved layer: `arn:*:lambda:*:123456789012:layer:base` -> `...:layer:base:*`.

    A `*` partition becomes the stack's own partition: a policy in one partition never names another.
    """
    parts = layer_pattern.split(":")
    if parts[1] == "*":
        parts[1] = "${AWS::Partition}"
    return ":".join(parts) + ":*"


def layer_grants(layer_patterns) -> tuple:
    """AddRequiredLambdaLayer's scoped grants: read only approved layers, update only to carry one.

    `ForAnyValue:StringLike` on `lambda:Layer` (the request's layer version ARNs) allows an update
    only when it carries at least one approved layer; an update without `Layers` carries no value
    and is denied. The other layers a function already has stay in the list the remediation sends,
    so the condition cannot require that every layer be approved.
    """
    versions = tuple(dict.fromkeys(layer_version_resource(pattern) for pattern in layer_patterns))
    if not versions:
        return ()
    carries_approved_layer = {"ForAnyValue:StringLike": {"lambda:Layer": list(versions)}}
    return (
        *(("lambda:GetLayerVersion", version) for version in versions),
        ("lambda:UpdateFunctionConfiguration", FUNCTIONS, carries_approved_layer),
    )


def statements(grants) -> list[dict]:
    """IAM statements: each action with all its resources; actions sharing resources and condition grouped.

    A grant is (action, resource) or (action, resource, condition).
    """
    by_action: dict[tuple[str, str], list[str]] = {}
    for action, resource, *condition in grants:
        key = (action, json.dumps(condition[0], sort_keys=True) if condition else "")
        resources = by_action.setdefault(key, [])
        if resource not in resources:
            resources.append(resource)
    grouped: dict[tuple[tuple[str, ...], str], list[str]] = {}
    for (action, condition), resources in by_action.items():
        grouped.setdefault((tuple(sorted(resources)), condition), []).append(action)
    result = []
    for (resources, condition), actions in sorted(grouped.items()):
        statement = {"Effect": "Allow", "Action": sorted(actions), "Resource": _resources(list(resources))}
        if condition:
            statement["Condition"] = _substituted(json.loads(condition))
        result.append(statement)
    return result


def _resources(resources: list[str]):
    converted = [_substituted(resource) for resource in resources]
    return converted[0] if len(converted) == 1 else converted


def _substituted(value):
    """CloudFormation Fn::Sub wherever a string names ${AWS::...}."""
    if isinstance(value, dict):
        return {key: _substituted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_substituted(item) for item in value]
    return {"Fn::Sub": value} if "${" in value else value
