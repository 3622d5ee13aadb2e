"""Rewrite S3 lifecycle prefixes that contain '*': read, plan, apply, verify.

S3 matches '*' in a lifecycle prefix literally, so 'logs/*' selects only keys that begin with
'logs/*'. PutBucketLifecycleConfiguration replaces the whole configuration, so the write carries
every rule back unchanged except the offending prefixes.

Embedded verbatim in FixS3LifecycleAsteriskPrefix.yaml (aws:executeScript, python3.11).
IAM actions the automation role needs: s3:GetLifecycleConfiguration and
s3:PutLifecycleConfiguration on the bucket.
"""

import copy
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
AND_PREDICATES = ("Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan")


class RemediationError(Exception):
    """The bucket cannot be remediated safely; nothing was changed."""


@dataclass(frozen=True)
class Lifecycle:
    rules: list
    transition_default_minimum_object_size: str | None


@dataclass(frozen=True)
class Change:
    rule_id: str
    field: str
    before: str
    after: str


@dataclass(frozen=True)
class Plan:
    changes: tuple
    rules_after: list
    unfixable: tuple  # (rule id, field, prefix) with no prefix equivalent


def s3_client():
    return boto3.client("s3", config=BOTO_CONFIG)


def as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def fixed_prefix(prefix: str) -> str | None:
    """The prefix S3 should have been given, or None when '*' has no prefix equivalent."""
    if "*" not in prefix:
        return prefix
    if set(prefix) <= {"*", "/"}:
        return ""
    trimmed = prefix.rstrip("*")
    return None if "*" in trimmed else trimmed


def read(client, bucket: str) -> Lifecycle | None:
    try:
        response = client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "NoSuchLifecycleConfiguration":
            return None
        if code == "NoSuchBucket":
            raise RemediationError(f"Bucket {bucket} does not exist; nothing was changed.") from error
        raise
    return Lifecycle(response.get("Rules", []), response.get("TransitionDefaultMinimumObjectSize"))


def prefix_locations(rule: dict):
    """(field name, container dict) for every prefix a rule holds."""
    if isinstance(rule.get("Prefix"), str):
        yield "Prefix", rule
    lifecycle_filter = rule.get("Filter") or {}
    if isinstance(lifecycle_filter.get("Prefix"), str):
        yield "Filter.Prefix", lifecycle_filter
    if isinstance((lifecycle_filter.get("And") or {}).get("Prefix"), str):
        yield "Filter.And.Prefix", lifecycle_filter["And"]


def simplify_and(lifecycle_filter: dict) -> None:
    """Drop an emptied And prefix; an And left with one predicate becomes that predicate."""
    operator = lifecycle_filter["And"]
    if operator.get("Prefix") == "":
        del operator["Prefix"]
    predicates = [(key, operator[key]) for key in AND_PREDICATES if key in operator]
    if len(predicates) == 1 and predicates[0][0] != "Tags":
        del lifecycle_filter["And"]
        lifecycle_filter[predicates[0][0]] = predicates[0][1]
    elif len(predicates) == 1 and len(predicates[0][1]) == 1:
        del lifecycle_filter["And"]
        lifecycle_filter["Tag"] = predicates[0][1][0]


def plan_change(lifecycle: Lifecycle) -> Plan:
    """Pure: the rules with only the offending prefixes rewritten; everything else as it was."""
    rules_after = copy.deepcopy(lifecycle.rules)
    changes, unfixable = [], []
    for index, rule in enumerate(rules_after):
        rule_id = rule.get("ID") or f"#{index + 1}"
        for field, container in list(prefix_locations(rule)):
            before = container["Prefix"]
            after = fixed_prefix(before)
            if after is None:
                unfixable.append((rule_id, field, before))
            elif after != before:
                container["Prefix"] = after
                changes.append(Change(rule_id, field, before, after))
                if field == "Filter.And.Prefix":
                    simplify_and(rule["Filter"])
    return Plan(tuple(changes), rules_after, tuple(unfixable))


def refusal(bucket: str, plan: Plan) -> str:
    listed = "; ".join(f"rule {rule_id} {field} {prefix!r}" for rule_id, field, prefix in plan.unfixable)
    return (
        f"Bucket {bucket}: {listed} has '*' before the end of the prefix, which has no prefix equivalent "
        "(S3 lifecycle prefixes do not support wildcards). Rewrite it by hand, for example with a tag or "
        "object-size filter. Nothing was changed."
    )


def apply(client, bucket: str, lifecycle: Lifecycle, plan: Plan) -> None:
    if read(client, bucket) != lifecycle:
        raise RemediationError(
            f"Bucket {bucket}: the lifecycle configuration changed while the remediation ran; nothing was "
            "overwritten. Run the remediation again."
        )
    request = {"Bucket": bucket, "LifecycleConfiguration": {"Rules": plan.rules_after}}
    if lifecycle.transition_default_minimum_object_size:
        request["TransitionDefaultMinimumObjectSize"] = lifecycle.transition_default_minimum_object_size
    client.put_bucket_lifecycle_configuration(**request)


def verify(client, bucket: str, lifecycle: Lifecycle, plan: Plan) -> None:
    expected = Lifecycle(plan.rules_after, lifecycle.transition_default_minimum_object_size)
    after = read(client, bucket)
    if after != expected:
        raise RemediationError(
            f"Bucket {bucket}: the lifecycle configuration read back after the change is not the planned one."
        )


def output(bucket: str, status: str, plan: Plan | None, message: str) -> dict:
    changes = [] if plan is None else plan.changes
    return {
        "BucketName": bucket,
        "Status": status,
        "Message": message,
        "RulesChanged": [
            {"RuleId": c.rule_id, "Field": c.field, "Before": c.before, "After": c.after} for c in changes
        ],
    }


def handler(events, context):
    bucket = str(events["BucketName"]).strip()
    client = s3_client()
    lifecycle = read(client, bucket)
    if lifecycle is None:
        return output(bucket, "NO_CHANGE", None, "The bucket has no lifecycle configuration.")
    plan = plan_change(lifecycle)
    if plan.unfixable:
        raise RemediationError(refusal(bucket, plan))
    if not plan.changes:
        return output(bucket, "NO_CHANGE", plan, "No lifecycle prefix contains '*'.")
    rewrites = "; ".join(f"rule {c.rule_id} {c.field} {c.before!r} -> {c.after!r}" for c in plan.changes)
    if as_bool(events.get("DryRun", False)):
        return output(bucket, "DRY_RUN", plan, f"Would rewrite {rewrites}.")
    apply(client, bucket, lifecycle, plan)
    verify(client, bucket, lifecycle, plan)
    return output(bucket, "CHANGED", plan, f"Rewrote {rewrites}; every other rule and field is unchanged.")
