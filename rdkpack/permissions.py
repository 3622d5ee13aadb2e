"""The IAM actions each rule and each remediation needs, with the narrowest resources AWS allows.

Resources use ${AWS::Partition} and ${AWS::AccountId} so the statements work in every partition and
account they are deployed to. "*" appears only where the action supports no resource-level scoping.
"""

from __future__ import annotations

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
    "AddRequiredLambdaLayer": (
        ("lambda:GetFunctionConfiguration", FUNCTIONS),
        ("lambda:UpdateFunctionConfiguration", FUNCTIONS),
        # Layers are usually shared from a central account, so any account's layer versions.
        ("lambda:GetLayerVersion", "arn:${AWS::Partition}:lambda:*:*:layer:*:*"),
    ),
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


def statements(grants) -> list[dict]:
    """IAM statements: each action with all its resources, actions sharing the same resources grouped."""
    by_action: dict[str, list[str]] = {}
    for action, resource in grants:
        resources = by_action.setdefault(action, [])
        if resource not in resources:
            resources.append(resource)
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for action, resources in by_action.items():
        by_resources.setdefault(tuple(sorted(resources)), []).append(action)
    return [
        {"Effect": "Allow", "Action": sorted(actions), "Resource": _resources(list(resources))}
        for resources, actions in sorted(by_resources.items())
    ]


def _resources(resources: list[str]):
    converted = [_resource(resource) for resource in resources]
    return converted[0] if len(converted) == 1 else converted


def _resource(resource: str):
    return {"Fn::Sub": resource} if "${" in resource else resource
