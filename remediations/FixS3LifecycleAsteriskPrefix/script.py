"""Rewrite S3 lifecycle prefixes that contain '*': read, plan, apply, verify.

S3 matches '*' in a lifecycle prefix literally, so 'logs/*' selects only keys that begin with
'logs/*'. PutBucketLifecycleConfiguration replaces the whole configuration, so the write carries
every rule back unchanged except the offending prefixes.

A rewritten prefix matches objects the rule never touched. For a rule that expires current or
noncurrent objects (Expiration Days or Date, NoncurrentVersionExpiration) that means S3 starts
deleting them, so such a rewrite needs IncludeExpiringRules=true; without it the run fails, naming
each such rule, its expiration action, the prefix change and the objects the new prefix matches, and
changes nothing. Disabled rules count too: enabling one later would start the deletion.

For a rule that transitions current or noncurrent objects (Transitions, NoncurrentVersionTransitions) to a
storage class whose objects must be restored before they can be read (GLACIER, DEEP_ARCHIVE, or a class this
script does not know) the rewrite archives objects the rule never touched, so it needs
IncludeRestoreRequiredTransitions=true, a separate approval: approving deletions does not approve archiving.
Without it the run fails the same way, naming each rule, its transition (storage class and days or date) and
the objects matched. Transitions to STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING (its archive tiers are set on
the bucket, not in lifecycle) and GLACIER_IR keep objects readable, and AbortIncompleteMultipartUpload and
ExpiredObjectDeleteMarker delete no current data: those rewrites need no flag.

Embedded verbatim in FixS3LifecycleAsteriskPrefix.yaml (aws:executeScript, python3.11).
The IAM the automation role needs is IAM_PERMISSIONS below.
"""

import copy
import datetime
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The automation role's IAM, (action, resource): rdkpack builds the role and checks the document from it.
IAM_PERMISSIONS = (
    ("s3:GetLifecycleConfiguration", "bucket"),
    ("s3:PutLifecycleConfiguration", "bucket"),
    ("s3:ListBucket", "bucket"),  # ListObjectsV2, once per new prefix: the objects it matches (blast radius)
)
AND_PREDICATES = ("Prefix", "Tags", "ObjectSizeGreaterThan", "ObjectSizeLessThan")
COUNT_PAGE = 1000
COUNT_NOTE = (
    "Object counts are current objects under the new prefix before any tag or size filter of the rule "
    "(an upper bound); noncurrent versions are not counted."
)
# Transition targets whose objects stay readable without a restore; any other class counts as needing one.
# INTELLIGENT_TIERING is not among them: a bucket's Intelligent-Tiering configuration may add its archive tiers,
# whose objects then need a restore too, and the lifecycle rule alone cannot tell.
READABLE_CLASSES = ("STANDARD_IA", "ONEZONE_IA", "GLACIER_IR")
TRANSITION_ACTIONS = ("Transitions", "NoncurrentVersionTransitions")


class RemediationError(Exception):
    """The remediation failed: a write AWS refused, a change it could not verify, or a read it needed (the message
    says what changed). A refusal before any write is the subclass RemediationRefused."""


class RemediationRefused(RemediationError):
    """The remediation refused to act before any write (unsafe, not approved, or nothing it can fix): nothing was
    changed. rdkpack remediate reports it as REFUSED, apart from a failure."""


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
    expires: str = ""  # the rule's deleting actions, e.g. "Expiration.Days=30"; "" when it deletes nothing
    enabled: bool = True
    archives: str = ""  # transitions to a restore-required class, e.g. "Transitions.Days=90 to GLACIER"


@dataclass(frozen=True)
class Plan:
    changes: tuple
    rules_after: list
    unfixable: tuple  # (rule id, field, prefix) with no prefix equivalent
    blocked: tuple = ()  # changes that widen an expiring rule while IncludeExpiringRules is false
    # changes that widen a rule archiving to a restore-required class while IncludeRestoreRequiredTransitions is false
    blocked_restore_required: tuple = ()


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


def shown(value) -> str:
    """A lifecycle value as messages show it: a midnight (UTC) date as YYYY-MM-DD."""
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date().isoformat()
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def expiring_actions(rule: dict) -> tuple:
    """Pure: the rule's actions that delete current or noncurrent objects, e.g. 'Expiration.Days=30'.

    Every Expiration field but ExpiredObjectDeleteMarker deletes current objects, and every
    NoncurrentVersionExpiration field deletes noncurrent versions. Unknown fields count as deleting.
    """
    actions = []
    for action in ("Expiration", "NoncurrentVersionExpiration"):
        settings = rule.get(action)
        if not isinstance(settings, dict):
            continue
        deleting = [
            f"{action}.{key}={shown(value)}"
            for key, value in settings.items()
            if value is not None and key != "ExpiredObjectDeleteMarker"
        ]
        if action == "NoncurrentVersionExpiration" and not deleting:
            deleting = [action]
        actions.extend(deleting)
    return tuple(actions)


def restore_required_transitions(rule: dict) -> tuple:
    """Pure: the rule's transitions to a class read only after a restore, e.g. 'Transitions.Days=90 to GLACIER'."""
    found = []
    for action in TRANSITION_ACTIONS:
        steps = rule.get(action) or []
        for step in [steps] if isinstance(steps, dict) else steps:
            storage_class = step.get("StorageClass")
            if storage_class in READABLE_CLASSES:
                continue
            when = " ".join(f"{key}={shown(value)}" for key, value in step.items() if key != "StorageClass")
            found.append(f"{action}.{when} to {storage_class}")
    return tuple(found)


def read(client, bucket: str) -> Lifecycle | None:
    try:
        response = client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "NoSuchLifecycleConfiguration":
            return None
        if code == "NoSuchBucket":
            raise RemediationRefused(f"Bucket {bucket} does not exist; nothing was changed.") from error
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


def plan_change(lifecycle: Lifecycle, include_expiring: bool = False, include_restore_required: bool = False) -> Plan:
    """Pure: the rules with only the offending prefixes rewritten; everything else as it was.

    Rewrites of rules that expire objects are `blocked` unless include_expiring is true, and rewrites of rules
    that archive to a restore-required class are `blocked_restore_required` unless include_restore_required is.
    """
    rules_after = copy.deepcopy(lifecycle.rules)
    changes, unfixable = [], []
    for index, rule in enumerate(rules_after):
        rule_id = rule.get("ID") or f"#{index + 1}"
        expires = ", ".join(expiring_actions(rule))
        archives = ", ".join(restore_required_transitions(rule))
        enabled = rule.get("Status") != "Disabled"
        for field, container in list(prefix_locations(rule)):
            before = container["Prefix"]
            after = fixed_prefix(before)
            if after is None:
                unfixable.append((rule_id, field, before))
            elif after != before:
                container["Prefix"] = after
                changes.append(Change(rule_id, field, before, after, expires, enabled, archives))
                if field == "Filter.And.Prefix":
                    simplify_and(rule["Filter"])
    blocked = () if include_expiring else tuple(c for c in changes if c.expires)
    archiving = () if include_restore_required else tuple(c for c in changes if c.archives)
    return Plan(tuple(changes), rules_after, tuple(unfixable), blocked, archiving)


def new_prefixes(plan: Plan) -> list:
    """The distinct prefixes the plan writes, in plan order: one object count each."""
    return list(dict.fromkeys(c.after for c in plan.changes))


def fetch_object_counts(client, bucket: str, prefixes) -> dict:
    """Objects each prefix matches, from one ListObjectsV2 page: '12', or '1,000+' when truncated."""
    counts = {}
    for prefix in prefixes:
        page = client.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=COUNT_PAGE)
        matched = page.get("KeyCount", len(page.get("Contents", [])))
        counts[prefix] = f"{matched:,}+" if page.get("IsTruncated") else f"{matched:,}"
    return counts


def expiry_text(change: Change) -> str:
    if not change.expires:
        return "expires no objects"
    if change.enabled:
        return f"expires objects: {change.expires}"
    return f"expires objects once enabled (rule is Disabled): {change.expires}"


def archive_text(change: Change) -> str:
    if not change.archives:
        return ""
    if change.enabled:
        return f"; archives objects (readable only after a restore): {change.archives}"
    return f"; archives objects once enabled (rule is Disabled; readable only after a restore): {change.archives}"


def objects(count: str) -> str:
    return f"{count} object" if count == "1" else f"{count} objects"


def describe(change: Change, counts: dict) -> str:
    """One rewrite with its blast radius, e.g. "rule r Filter.Prefix 'logs/*' -> 'logs/' (expires ...)"."""
    return (
        f"rule {change.rule_id} {change.field} {change.before!r} -> {change.after!r} "
        f"({expiry_text(change)}{archive_text(change)}; the new prefix matches {objects(counts[change.after])})"
    )


def refusal(bucket: str, plan: Plan) -> str:
    listed = "; ".join(f"rule {rule_id} {field} {prefix!r}" for rule_id, field, prefix in plan.unfixable)
    return (
        f"Bucket {bucket}: {listed} has '*' before the end of the prefix, which has no prefix equivalent "
        "(S3 lifecycle prefixes do not support wildcards). Rewrite it by hand, for example with a tag or "
        f"object-size filter. Nothing was changed.{also_needs_approval(plan)}"
    )


def also_needs_approval(plan: Plan) -> str:
    notes = ""
    if plan.blocked:
        listed = ", ".join(f"rule {c.rule_id} {c.field} ({c.expires})" for c in plan.blocked)
        notes += f" Also, widening {listed} would make S3 delete objects: that will need IncludeExpiringRules=true."
    if plan.blocked_restore_required:
        listed = ", ".join(f"rule {c.rule_id} {c.field} ({c.archives})" for c in plan.blocked_restore_required)
        notes += (
            f" Also, widening {listed} would move objects to a class readable only after a restore: that will need "
            "IncludeRestoreRequiredTransitions=true."
        )
    return notes


def approval_refusal(bucket: str, plan: Plan, counts: dict) -> str:
    """Why the run stops: each widening that deletes or archives objects, and the parameter that approves it."""
    reasons = []
    if plan.blocked:
        reasons.append(("would make S3 start deleting objects the rules never touched", plan.blocked))
    if plan.blocked_restore_required:
        archiving = "would make S3 move objects the rules never touched to a storage class they can be read from only"
        reasons.append((f"{archiving} after a restore", plan.blocked_restore_required))
    sentences = [
        f"{'widening these lifecycle prefixes' if i == 0 else 'Widening these'} {what}: "
        + "; ".join(describe(c, counts) for c in changes)
        + "."
        for i, (what, changes) in enumerate(reasons)
    ]
    flags = ["IncludeExpiringRules=true"] if plan.blocked else []
    flags += ["IncludeRestoreRequiredTransitions=true"] if plan.blocked_restore_required else []
    others = sum(1 for c in plan.changes if c not in plan.blocked and c not in plan.blocked_restore_required)
    held = f", nor the {others} other planned rewrite(s)" if others else ""
    return (
        f"Bucket {bucket}: {' '.join(sentences)} {COUNT_NOTE} Review the rules and the objects, then re-run with "
        f"{' and '.join(flags)}. Nothing was changed{held}."
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


def output(bucket: str, status: str, plan: Plan | None, message: str, counts: dict | None = None) -> dict:
    changes = [] if plan is None else plan.changes
    return {
        "BucketName": bucket,
        "Status": status,
        "Message": message,
        "RulesChanged": [
            {
                "RuleId": c.rule_id,
                "Field": c.field,
                "Before": c.before,
                "After": c.after,
                "Expires": c.expires,
                "Archives": c.archives,
                "ObjectsMatched": (counts or {}).get(c.after, ""),
            }
            for c in changes
        ],
        "Changes": [describe(c, counts) for c in changes],  # a plan with changes always comes with its counts
        "Before": {"Prefixes": {f"{c.rule_id} {c.field}": c.before for c in changes}},
        "After": {"Prefixes": {f"{c.rule_id} {c.field}": c.after for c in changes}},
    }


def handler(events, context):
    bucket = str(events["BucketName"]).strip()
    client = s3_client()
    lifecycle = read(client, bucket)
    if lifecycle is None:
        return output(bucket, "NO_CHANGE", None, "The bucket has no lifecycle configuration.")
    plan = plan_change(
        lifecycle,
        as_bool(events.get("IncludeExpiringRules", False)),
        as_bool(events.get("IncludeRestoreRequiredTransitions", False)),
    )
    if plan.unfixable:
        raise RemediationRefused(refusal(bucket, plan))
    if not plan.changes:
        return output(bucket, "NO_CHANGE", plan, "No lifecycle prefix contains '*'.")
    counts = fetch_object_counts(client, bucket, new_prefixes(plan))
    if plan.blocked or plan.blocked_restore_required:
        raise RemediationRefused(approval_refusal(bucket, plan, counts))
    rewrites = "; ".join(describe(c, counts) for c in plan.changes)
    if as_bool(events.get("DryRun", False)):
        return output(bucket, "DRY_RUN", plan, f"Would rewrite {rewrites}. {COUNT_NOTE}", counts)
    apply(client, bucket, lifecycle, plan)
    verify(client, bucket, lifecycle, plan)
    message = f"Rewrote {rewrites}; every other rule and field is unchanged. {COUNT_NOTE}"
    return output(bucket, "CHANGED", plan, message, counts)
