"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  S3_LIFECYCLE_ASTERISK_PREFIX_CHECK

Description:
  Checks that no S3 lifecycle rule has '*' in a prefix filter.

Rationale:
  S3 treats '*' in a lifecycle prefix as a literal character: a rule with prefix '*' or '/*' applies
  only to keys that begin with an asterisk, and 'logs/*' only to keys that begin with 'logs/*'. S3
  accepts such a rule without error, so it silently expires or transitions nothing and storage
  costs keep growing.

Indicative Severity:
  Medium

Trigger:
  Configuration change on AWS::S3::Bucket

Reports on:
  AWS::S3::Bucket

Rule Parameters:
  IncludeDisabledRules
    (Optional) 'true' or 'false', default true: a disabled rule with '*' is still a trap for the
    day it is enabled.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Buckets carrying it are NOT_APPLICABLE.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

The rule reads supplementaryConfiguration.BucketLifecycleConfiguration from the configuration item
(an object in change notifications, a JSON string when fetched through the Config API) and makes no
API call beyond PutEvaluations.

Scenarios:
  Scenario 1:
    Given: IncludeDisabledRules is not 'true' or 'false'
     Then: Return InvalidParametersError naming IncludeDisabledRules
  Scenario 2:
    Given: ExemptionTag has an empty key
     Then: Return InvalidParametersError naming ExemptionTag
  Scenario 3:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 4:
    Given: The bucket carries the ExemptionTag
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 5:
    Given: BucketLifecycleConfiguration is absent or null
     Then: Return NOT_APPLICABLE
  Scenario 6:
    Given: BucketLifecycleConfiguration is not valid JSON or not an object
     Then: Return NOT_APPLICABLE saying the configuration could not be read
  Scenario 7:
    Given: A checked rule's legacy prefix contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 8:
    Given: A checked rule's LifecyclePrefixPredicate prefix contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 9:
    Given: A prefix operand of a checked rule's LifecycleAndOperator contains '*'
     Then: Return NON_COMPLIANT naming the rule ID and the prefix
  Scenario 10:
    Given: A disabled rule has '*' in a prefix
     Then: Return NON_COMPLIANT by default, COMPLIANT when IncludeDisabledRules is false
  Scenario 11:
    Given: Every checked prefix is free of '*' (tag and object-size predicates are not prefixes)
     Then: Return COMPLIANT
  Scenario 12:
    Given: The same lifecycle configuration as an object or as a JSON string
     Then: Return the same verdict
  Scenario 13:
    Given: Many offending rules
     Then: The annotation names as many as fit in 256 characters and counts the rest
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from rdklib import ComplianceType, ConfigRule, Evaluation, Evaluator, InvalidParametersError
from rdklib.util.service import build_internal_error_response

APPLICABLE_RESOURCES = ["AWS::S3::Bucket"]
RULE_PARAMETERS = ("IncludeDisabledRules", "ExemptionTag")
LIFECYCLE_KEY = "BucketLifecycleConfiguration"
UNREADABLE = object()


# ---- shared rule helpers: byte-identical in every rule (tests/test_rule_conventions.py) ----
ROLE_PARAMETERS = ("ExecutionRoleName", "AssumeRoleMode", "ExecutionRoleRegion")
ANNOTATION_MAX = 256
EVENT_KEYS = ("invokingEvent", "executionRoleArn", "resultToken", "eventLeftScope")
# What the rule and rdklib read from a change notification's item; the capture time may also be a number.
ITEM_KEYS = ("resourceType", "resourceId", "configurationItemStatus")

# rdklib builds its clients with no botocore Config: standard retries come from the environment.
os.environ.setdefault("AWS_RETRY_MODE", "standard")
os.environ.setdefault("AWS_MAX_ATTEMPTS", "10")
PARTITION_RE = r"aws(?:-cn|-us-gov|-iso(?:-[bef])?|-eusc)?"
REGION_RE = r"[a-z]{2,4}(?:-[a-z]+)+-\d{1,2}"


@dataclass(frozen=True)
class ExemptionTag:
    key: str
    value: str | None

    def is_carried_by(self, tags) -> bool:
        if not isinstance(tags, dict) or self.key not in tags:
            return False
        return self.value is None or tags[self.key] == self.value

    def __str__(self) -> str:
        return self.key if self.value is None else f"{self.key}={self.value}"


@dataclass(frozen=True)
class ArnPattern:
    """An ARN whose partition, region or account segment, or resource id after 'type:', may be '*'."""

    partition: str
    service: str
    region: str
    account: str
    resource: str

    def matches(self, partition: str, region: str, account: str, resource: str) -> bool:
        pairs = ((self.partition, partition), (self.region, region), (self.account, account))
        if not all(want in ("*", got) for want, got in pairs):
            return False
        if self.resource.endswith(":*"):
            return resource.startswith(self.resource[:-1])
        return self.resource == resource

    def __str__(self) -> str:
        return f"arn:{self.partition}:{self.service}:{self.region}:{self.account}:{self.resource}"


def parameter_text(raw: dict, name: str) -> str:
    value = raw.get(name)
    return "" if value is None else str(value).strip()


def reject_unknown_parameters(raw: dict, rule_parameters: tuple) -> None:
    accepted = rule_parameters + ROLE_PARAMETERS
    unknown = sorted(str(name) for name in raw if name not in accepted)
    if unknown:
        raise InvalidParametersError(
            f"Unknown parameter(s): {', '.join(unknown)}. Accepted parameter names: {', '.join(accepted)}."
        )
    mode = parameter_text(raw, "AssumeRoleMode")
    if mode and mode.lower() not in ("true", "false"):
        raise InvalidParametersError(f"Parameter AssumeRoleMode must be 'true' or 'false', got {mode!r}.")


def parse_exemption_tag(raw: dict) -> ExemptionTag | None:
    text = parameter_text(raw, "ExemptionTag")
    if not text:
        return None
    key, separator, value = text.partition("=")
    if not key.strip() or len(key.strip()) > 128:
        raise InvalidParametersError(
            f"Parameter ExemptionTag must be 'key' or 'key=value' with a key of 1-128 characters, got {text!r}."
        )
    return ExemptionTag(key.strip(), value.strip() if separator else None)


def parse_int(raw: dict, name: str, default: int | None, minimum: int = 1) -> int | None:
    text = parameter_text(raw, name)
    if not text:
        return default
    if not re.fullmatch(r"\d{1,9}", text) or int(text) < minimum:
        raise InvalidParametersError(f"Parameter {name} must be an integer >= {minimum}, got {text!r}.")
    return int(text)


def parse_bool(raw: dict, name: str, default: bool) -> bool:
    text = parameter_text(raw, name).lower()
    if not text:
        return default
    if text not in ("true", "false"):
        raise InvalidParametersError(f"Parameter {name} must be 'true' or 'false', got {text!r}.")
    return text == "true"


def parse_csv(raw: dict, name: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in parameter_text(raw, name).split(",") if item.strip())


def parse_arn_pattern(text: str, name: str, service: str, resource_re: str, example: str) -> ArnPattern:
    parts = text.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == service:
        segments = ((parts[1], PARTITION_RE), (parts[3], REGION_RE), (parts[4], r"\d{12}"))
        if all(part == "*" or re.fullmatch(rx, part) for part, rx in segments) and re.fullmatch(resource_re, parts[5]):
            return ArnPattern(*parts[1:])
    raise InvalidParametersError(
        f"Parameter {name} has {text!r}, which is not of the form {example} "
        "('*' may stand for the partition, region or account)."
    )


def decoded(value):
    """value without its JSON-string layers: Config API values may be encoded once or twice."""
    for _ in range(2):
        if not isinstance(value, str):
            break
        value = json.loads(value)
    return value


def configuration_of(configuration_item) -> dict:
    try:
        configuration = decoded(configuration_item.get("configuration"))
    except (AttributeError, ValueError):
        return {}
    return configuration if isinstance(configuration, dict) else {}


def fit_annotation(text: str) -> str:
    return text if len(text) <= ANNOTATION_MAX else text[: ANNOTATION_MAX - 3] + "..."


MESSAGE_SUBJECTS = {
    "ConfigurationItemChangeNotification": ("configurationItem", ITEM_KEYS),
    "OversizedConfigurationItemChangeNotification": ("configurationItemSummary", ("resourceType", "resourceId")),
    "ScheduledNotification": (None, ()),
}


def invoking_problem(invoking: dict) -> str | None:
    message_type = invoking.get("messageType")
    if message_type not in MESSAGE_SUBJECTS:
        return f"Unexpected messageType {message_type!r}; expected one of {', '.join(MESSAGE_SUBJECTS)}."
    name, keys = MESSAGE_SUBJECTS[message_type]
    subject = invoking.get(name) if name else {}
    if not isinstance(subject, dict) or not all(isinstance(subject.get(key), str) for key in keys):
        return f"{name} must be an object with {', '.join(keys)}."
    if name == "configurationItem" and ordering_time(invoking) is None:
        return (
            "configurationItem needs a configurationItemCaptureTime (ISO-8601 text or epoch number), "
            "or the event a notificationCreationTime."
        )
    return None


def iso_time(value) -> str | None:
    """A timestamp as ISO-8601 text; recorded items may carry epoch seconds or milliseconds instead."""
    if isinstance(value, str) and value.strip():
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 1e14:
        seconds = value / 1000 if value > 1e11 else value
        return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return None


def ordering_time(invoking: dict) -> str | None:
    """The item's capture time as rdklib needs it for PutEvaluations, else the notification time."""
    item = invoking.get("configurationItem") or {}
    return iso_time(item.get("configurationItemCaptureTime")) or iso_time(invoking.get("notificationCreationTime"))


def event_problem(event) -> str | None:
    """Why an event cannot have come from AWS Config (rdklib would crash on it), or None."""
    if not isinstance(event, dict):
        return "The event is not a JSON object."
    missing = [key for key in EVENT_KEYS if key not in event]
    if missing:
        return f"The event lacks {', '.join(missing)}."
    try:
        invoking = json.loads(event["invokingEvent"])
        parameters = json.loads(event.get("ruleParameters") or "{}")
    except (TypeError, ValueError):
        return "invokingEvent and ruleParameters must be JSON strings."
    if not isinstance(invoking, dict) or not isinstance(parameters, dict):
        return "invokingEvent and ruleParameters must be JSON objects."
    return invoking_problem(invoking)


def handle_event(rule, event, context):
    """rdklib's Evaluator, once the event is known to be one AWS Config could have sent."""
    problem = event_problem(event)
    if problem:
        return build_internal_error_response(problem, str(event)[:1000])
    return Evaluator(rule, APPLICABLE_RESOURCES).handle(with_text_capture_time(event), context)


def with_text_capture_time(event: dict) -> dict:
    """The event with the item's capture time as ISO-8601 text, which PutEvaluations accepts as OrderingTimestamp."""
    invoking = json.loads(event["invokingEvent"])
    item = invoking.get("configurationItem")
    if not isinstance(item, dict) or item.get("configurationItemCaptureTime") == ordering_time(invoking):
        return event
    item["configurationItemCaptureTime"] = ordering_time(invoking)
    return {**event, "invokingEvent": json.dumps(invoking)}


# ---- end of shared rule helpers ----


@dataclass(frozen=True)
class Params:
    include_disabled: bool
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class Offence:
    rule_id: str
    prefix: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.prefix!r}"


@dataclass(frozen=True)
class Verdict:
    compliance: str
    annotation: str


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    return Params(parse_bool(raw, "IncludeDisabledRules", True), parse_exemption_tag(raw))


def lifecycle_of(configuration_item: dict):
    """The lifecycle configuration as a dict, None when absent, UNREADABLE when malformed."""
    supplementary = configuration_item.get("supplementaryConfiguration")
    if not isinstance(supplementary, dict) or supplementary.get(LIFECYCLE_KEY) is None:
        return None
    try:
        lifecycle = decoded(supplementary[LIFECYCLE_KEY])
    except ValueError:
        return UNREADABLE
    if lifecycle is None:
        return None
    return lifecycle if isinstance(lifecycle, dict) else UNREADABLE


def predicate_prefixes(predicate) -> list:
    if not isinstance(predicate, dict):
        return []
    if predicate.get("type") == "LifecyclePrefixPredicate":
        return [predicate.get("prefix")]
    if predicate.get("type") == "LifecycleAndOperator" and isinstance(predicate.get("operands"), list):
        return [prefix for operand in predicate["operands"] for prefix in predicate_prefixes(operand)]
    return []


def rule_prefixes(rule: dict) -> list[str]:
    """Every prefix a lifecycle rule filters on: the legacy prefix and those in its filter."""
    lifecycle_filter = rule.get("filter")
    predicate = lifecycle_filter.get("predicate") if isinstance(lifecycle_filter, dict) else None
    prefixes = [rule.get("prefix"), *predicate_prefixes(predicate)]
    return [prefix for prefix in prefixes if isinstance(prefix, str)]


def offences(lifecycle: dict, include_disabled: bool) -> list[Offence]:
    rules = lifecycle.get("rules")
    found = []
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, dict) or (not include_disabled and rule.get("status") == "Disabled"):
            continue
        rule_id = str(rule.get("id") or f"#{index + 1}")
        found += [Offence(rule_id, prefix) for prefix in rule_prefixes(rule) if "*" in prefix]
    return found


def summarise(header: str, items: list) -> str:
    text = header
    for shown, item in enumerate(items):
        rest = f" (+{len(items) - shown} more)"
        candidate = f"{text}{'; ' if shown else ' '}{item}"
        if len(candidate) + len(rest) > ANNOTATION_MAX and shown:
            return text + rest
        text = candidate
    return text


def judge(configuration_item: dict, params: Params) -> Verdict:
    if params.exemption_tag and params.exemption_tag.is_carried_by(configuration_item.get("tags")):
        return Verdict(ComplianceType.NOT_APPLICABLE, f"Exempt: the bucket carries tag {params.exemption_tag}.")
    lifecycle = lifecycle_of(configuration_item)
    if lifecycle is None:
        return Verdict(ComplianceType.NOT_APPLICABLE, "The bucket has no lifecycle configuration.")
    if lifecycle is UNREADABLE:
        return Verdict(ComplianceType.NOT_APPLICABLE, f"{LIFECYCLE_KEY} in the configuration item could not be read.")
    found = offences(lifecycle, params.include_disabled)
    if found:
        header = f"S3 matches '*' in a lifecycle prefix literally, so {len(found)} prefix(es) select no keys:"
        return Verdict(ComplianceType.NON_COMPLIANT, summarise(header, found))
    return Verdict(ComplianceType.COMPLIANT, "No lifecycle rule has '*' in a prefix.")


class S3_LIFECYCLE_ASTERISK_PREFIX_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = judge(configuration_item, valid_rule_parameters)
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        # Change-triggered only: a scheduled notification comes from a misconfigured trigger; report nothing.
        return []


def lambda_handler(event, context):
    return handle_event(S3_LIFECYCLE_ASTERISK_PREFIX_CHECK(), event, context)
