"""The IAM actions each rule and each remediation needs, with the narrowest resources AWS allows.

Resources use ${AWS::Partition} and ${AWS::AccountId} so the statements work in every partition and
account they are deployed to. "*" appears only where the action supports no resource-level scoping.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

FUNCTIONS = "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:function:*"
ALL_RESOURCES = "*"

# Reads every rule needs through rdklib: results, and the re-fetch of oversized configuration items.
RULE_COMMON = (
    ("config:PutEvaluations", ALL_RESOURCES),
    ("config:GetResourceConfigHistory", ALL_RESOURCES),
)

# What a rule's or remediation script's IAM_PERMISSIONS may name as a resource, as the narrowest ARN AWS allows.
RESOURCE_KINDS = {
    "*": ALL_RESOURCES,
    "function": FUNCTIONS,
    "code-signing config": "arn:${AWS::Partition}:lambda:*:${AWS::AccountId}:code-signing-config:*",
    "bucket": "arn:${AWS::Partition}:s3:::*",
    "vpc endpoint": "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:vpc-endpoint/*",
    "subnet": "arn:${AWS::Partition}:ec2:*:${AWS::AccountId}:subnet/*",
}
# Kinds whose scope comes from the approved layers in rdk-config.json (see declared_grants).
APPROVED_LAYER = "approved layer"
CARRYING_APPROVED_LAYER = "function, when the update carries an approved layer"
# The SSM parameters under sharedValues.parameterPath in rdk-config.json.
SHARED_VALUE = "shared value"
# A destructive action's scope comes from the packs that attach the document (see AttachingPacks).
ENDPOINT_IN_ATTACHING_PACK = "vpc endpoint in a pack that attaches the remediation, without its exemption tag"


@dataclass(frozen=True)
class AttachingPacks:
    """Where a document is attached: the packs' accounts and the exemption tags of the rules it remediates.

    `accounts` holds account IDs, or only `${AWS::AccountId}` when an organization pack attaches the
    document (it runs in every account). The remediation role is the same in every account (one
    iam-roles.yaml StackSet), so without this a production account's role could delete what only a
    sandbox pack means to.
    """

    accounts: tuple[str, ...] = ()
    exemption_tags: tuple[str, ...] = ()  # `key` or `key=value`, as the rules' ExemptionTag


def untagged_condition(tags) -> dict:
    """An IAM condition true only for resources carrying none of the tags (`key`: absent; `key=value`: not it, nor
    it followed by more words such as `expires=YYYY-MM-DD`).

    `Null` true means the tag is absent; `StringNotLike` is also true when the tag is absent. IAM cannot compare a
    date in a tag's value: a waiver that has expired still keeps the grant off until the tag is removed, so the
    remediation fails access denied rather than acting (the script itself refuses only while it is in force).
    """
    condition: dict = {}
    for tag in sorted(tags):
        key, separator, value = (part.strip() for part in tag.partition("="))
        name = f"aws:ResourceTag/{key}"
        if separator:
            values = condition.setdefault("StringNotLike", {}).setdefault(name, [])
            values += [value, f"{value} *"]
        else:
            condition.setdefault("Null", {})[name] = "true"
    return condition


def attaching_pack_grants(action: str, packs: AttachingPacks) -> list:
    """The action on the endpoints of the attaching packs' accounts, unless they carry an exemption tag."""
    condition = untagged_condition(packs.exemption_tags)
    grants = []
    for account in packs.accounts:
        resource = f"arn:${{AWS::Partition}}:ec2:*:{account}:vpc-endpoint/*"
        grants.append((action, resource, condition) if condition else (action, resource))
    return grants


def shared_value_resource(path: str) -> str:
    """`/rdk-guardrails/` -> every parameter under it, in any region of the role's own account."""
    return f"arn:${{AWS::Partition}}:ssm:*:${{AWS::AccountId}}:parameter{path}*"


def layer_version_resource(layer_pattern: str) -> str:
    """Every version of an approved layer: `arn:*:lambda:*:123456789012:layer:base` -> `...:layer:base:*`.

    A `*` partition becomes the stack's own partition: a policy in one partition never names another.
    """
    parts = layer_pattern.split(":")
    if parts[1] == "*":
        parts[1] = "${AWS::Partition}"
    return ":".join(parts) + ":*"


def declared_grants(
    declared, layer_patterns=(), shared_value_path: str = "", attaching: AttachingPacks | None = None
) -> tuple:
    """A script's IAM_PERMISSIONS as (action, resource[, condition]) grants; raises ValueError on an unknown kind.

    `ForAnyValue:StringLike` on `lambda:Layer` (the request's layer version ARNs) allows an update
    only when it carries at least one approved layer; an update without `Layers` carries no value
    and is denied. The other layers a function already has stay in the list the remediation sends,
    so the condition cannot require that every layer be approved.
    """
    versions = tuple(dict.fromkeys(layer_version_resource(pattern) for pattern in layer_patterns))
    grants = []
    for action, kind in declared:
        if kind == APPROVED_LAYER:
            grants += [(action, version) for version in versions]
        elif kind == CARRYING_APPROVED_LAYER:
            if versions:
                grants.append((action, FUNCTIONS, {"ForAnyValue:StringLike": {"lambda:Layer": list(versions)}}))
        elif kind == SHARED_VALUE:
            if shared_value_path:
                grants.append((action, shared_value_resource(shared_value_path)))
        elif kind == ENDPOINT_IN_ATTACHING_PACK:
            grants += attaching_pack_grants(action, attaching or AttachingPacks())
        elif kind in RESOURCE_KINDS:
            grants.append((action, RESOURCE_KINDS[kind]))
        else:
            special = (APPROVED_LAYER, CARRYING_APPROVED_LAYER, SHARED_VALUE, ENDPOINT_IN_ATTACHING_PACK)
            kinds = ", ".join((*RESOURCE_KINDS, *special))
            raise ValueError(f"unknown resource {kind!r} for {action}; expected one of {kinds}")
    return tuple(grants)


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
