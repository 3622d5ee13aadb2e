"""A template's resource as the configuration item AWS Config would record for it once deployed: the normalized
properties (model.py) in the API's shape go through the same builders the live inventory uses."""

from __future__ import annotations

import re

from rdkpack.account.inventory import (
    configuration_item,
    endpoint_configuration,
    lambda_configuration,
    lifecycle_configuration,
)
from rdkpack.check.model import LAMBDA_FUNCTION, S3_BUCKET, VPC_ENDPOINT, TemplateResource

# Templates name no account or region: the items carry these, which no rule judges.
ACCOUNT, REGION = "000000000000", "us-east-1"


def function_name(resource: TemplateResource, properties: dict) -> str:
    """The function's name; without one (not written, or known only at deploy time) a name Lambda would accept,
    from the logical ID or Terraform address (`module.app.aws_lambda_function.api["x"]` has dots, brackets and
    quotes, which a rule that checks the name would take for no function at all)."""
    if properties.get("FunctionName"):
        return str(properties["FunctionName"])
    return re.sub(r"[^A-Za-z0-9_-]+", "-", resource.logical_id).strip("-")[-64:].strip("-") or "function"


def lambda_item(resource: TemplateResource, properties: dict) -> dict:
    name = function_name(resource, properties)
    arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    function = {
        "FunctionName": name,
        "FunctionArn": arn,
        "PackageType": properties.get("PackageType") or "Zip",
        "Runtime": properties.get("Runtime"),
        # A layer's signature exists only once it is published: a template cannot say it.
        "Layers": [{"Arn": layer} for layer in properties.get("Layers") or []],
    }
    return configuration_item(
        LAMBDA_FUNCTION, name, lambda_configuration(function), ARN=arn, tags=properties.get("Tags") or {}
    )


def bucket_item(resource: TemplateResource, properties: dict) -> dict:
    name = str(properties.get("BucketName") or resource.logical_id.lower())
    rules = properties.get("LifecycleRules")
    supplementary = {} if rules is None else {"BucketLifecycleConfiguration": lifecycle_configuration(rules)}
    return configuration_item(
        S3_BUCKET, name, {"name": name}, supplementary=supplementary, tags=properties.get("Tags") or {}
    )


def endpoint_item(resource: TemplateResource, properties: dict) -> dict:
    endpoint_id = str(properties.get("VpcEndpointId") or resource.logical_id)
    endpoint = {
        "VpcEndpointId": endpoint_id,
        "VpcEndpointType": properties.get("VpcEndpointType") or "Gateway",
        "ServiceName": properties.get("ServiceName"),
        "SubnetIds": list(properties.get("SubnetIds") or []),
        "State": "available",
    }
    return configuration_item(
        VPC_ENDPOINT, endpoint_id, endpoint_configuration(endpoint), tags=properties.get("Tags") or {}, awsRegion=REGION
    )


BUILDERS = {LAMBDA_FUNCTION: lambda_item, S3_BUCKET: bucket_item, VPC_ENDPOINT: endpoint_item}


def item_for(resource: TemplateResource, properties: dict) -> dict | None:
    """The item for one resolved variant of the resource's properties (no Unknown left), or None for a type no rule
    judges (a code-signing config is looked up, not judged)."""
    build = BUILDERS.get(resource.type)
    return build(resource, properties) if build else None
