"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  LAMBDA_LAYER_CHECK

Description:
  Checks that every Zip-packaged Lambda function carries an approved layer at or above a
  minimum version (for example a company base layer with logging, tracing and security agents).

Rationale:
  A shared layer is how a platform team ships fixes to every function; a function without it,
  or pinned to an old version, misses those fixes silently.

Indicative Severity:
  Medium

Trigger:
  Configuration change on AWS::Lambda::Function

Reports on:
  AWS::Lambda::Function

Rule Parameters:
  LayerArn
    (Required) Comma-separated unversioned layer ARNs. '*' may stand for a whole partition,
    region or account segment: arn:aws:lambda:*:123456789012:layer:company-base
  MinLayerVersion
    (Optional) Integer >= 1, default 1. Versions compare as integers (10 > 9).
  ExemptionTag
    (Optional) 'key' or 'key=value'. Functions carrying it are NOT_APPLICABLE.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

Scenarios:
  Scenario 1:
    Given: LayerArn is missing or blank
     Then: Return InvalidParametersError naming LayerArn
  Scenario 2:
    Given: LayerArn holds a versioned ARN
     Then: Return InvalidParametersError saying to use MinLayerVersion instead
  Scenario 3:
    Given: LayerArn holds something that is not a Lambda layer ARN
     Then: Return InvalidParametersError naming the value and the expected form
  Scenario 4:
    Given: MinLayerVersion is not an integer >= 1
     Then: Return InvalidParametersError naming MinLayerVersion
  Scenario 5:
    Given: ExemptionTag has an empty key
     Then: Return InvalidParametersError naming ExemptionTag
  Scenario 6:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 7:
    Given: The function carries the ExemptionTag
     Then: Return NOT_APPLICABLE with an annotation naming the tag
  Scenario 8:
    Given: packageType is Image
     Then: Return NOT_APPLICABLE (container-image functions cannot use layers)
  Scenario 9:
    Given: packageType is Zip, missing or null
      And: The function has no layers
     Then: Return NON_COMPLIANT naming the expected layer
  Scenario 10:
    Given: The function has layers, none of which matches LayerArn
     Then: Return NON_COMPLIANT naming the expected layer
  Scenario 11:
    Given: A matching layer below MinLayerVersion
     Then: Return NON_COMPLIANT naming the version found and the minimum
  Scenario 12:
    Given: A matching layer at or above MinLayerVersion (compared as integers)
     Then: Return COMPLIANT
  Scenario 13:
    Given: LayerArn uses '*' for partition, region or account
     Then: A layer in any partition, region or account (as wildcarded) matches
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from rdklib import ComplianceType, ConfigRule, Evaluation, Evaluator, InvalidParametersError
from rdklib.util.service import build_internal_error_response

APPLICABLE_RESOURCES = ["AWS::Lambda::Function"]
RULE_PARAMETERS = ("LayerArn", "MinLayerVersion", "ExemptionTag")
LAYER_NAME_RE = r"[A-Za-z0-9_-]{1,140}"
LAYER_ARN_EXAMPLE = "arn:aws:lambda:*:123456789012:layer:company-base"


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
    layer_patterns: tuple[ArnPattern, ...]
    min_version: int
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class LayerRef:
    partition: str
    region: str
    account: str
    resource: str
    version: int

    @property
    def unversioned_arn(self) -> str:
        return f"arn:{self.partition}:lambda:{self.region}:{self.account}:{self.resource}"


@dataclass(frozen=True)
class Verdict:
    compliance: str
    annotation: str


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    values = parse_csv(raw, "LayerArn")
    if not values:
        raise InvalidParametersError(
            f"Parameter LayerArn is required: comma-separated unversioned layer ARNs such as {LAYER_ARN_EXAMPLE}."
        )
    for value in values:
        if re.fullmatch(rf"arn:.+:layer:{LAYER_NAME_RE}:\d+", value):
            raise InvalidParametersError(
                f"Parameter LayerArn has the versioned ARN {value!r}: give the ARN without the version "
                "and set the minimum version with MinLayerVersion."
            )
    patterns = tuple(
        parse_arn_pattern(value, "LayerArn", "lambda", rf"layer:{LAYER_NAME_RE}", LAYER_ARN_EXAMPLE) for value in values
    )
    return Params(patterns, parse_int(raw, "MinLayerVersion", 1), parse_exemption_tag(raw))


def parse_layer_arn(arn) -> LayerRef | None:
    """A function's layer version ARN split into parts, or None when it is not one."""
    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 8 or parts[0] != "arn" or parts[2] != "lambda" or parts[5] != "layer":
        return None
    if not parts[7].isdigit():
        return None
    return LayerRef(parts[1], parts[3], parts[4], f"layer:{parts[6]}", int(parts[7]))


def layer_arns(configuration: dict) -> list:
    layers = configuration.get("layers")
    if not isinstance(layers, list):
        return []
    return [layer.get("arn") for layer in layers if isinstance(layer, dict)]


def matching_layers(arns: list, patterns: tuple[ArnPattern, ...]) -> list[LayerRef]:
    refs = [parse_layer_arn(arn) for arn in arns]
    return [
        ref
        for ref in refs
        if ref and any(p.matches(ref.partition, ref.region, ref.account, ref.resource) for p in patterns)
    ]


def expected_text(params: Params) -> str:
    names = " or ".join(str(p) for p in params.layer_patterns)
    return f"{names} at version >= {params.min_version}"


def judge(configuration: dict, tags, params: Params) -> Verdict:
    if params.exemption_tag and params.exemption_tag.is_carried_by(tags):
        return Verdict(ComplianceType.NOT_APPLICABLE, f"Exempt: the function carries tag {params.exemption_tag}.")
    if configuration.get("packageType") == "Image":
        return Verdict(
            ComplianceType.NOT_APPLICABLE, "Image package type: container-image functions cannot use layers."
        )
    arns = layer_arns(configuration)
    if not arns:
        return Verdict(ComplianceType.NON_COMPLIANT, f"The function has no layers; expected {expected_text(params)}.")
    matches = matching_layers(arns, params.layer_patterns)
    if not matches:
        return Verdict(
            ComplianceType.NON_COMPLIANT,
            f"None of the function's {len(arns)} layer(s) is approved; expected {expected_text(params)}.",
        )
    best = max(matches, key=lambda ref: ref.version)
    if best.version < params.min_version:
        return Verdict(
            ComplianceType.NON_COMPLIANT,
            f"Layer {best.unversioned_arn} is at version {best.version}; the minimum is {params.min_version}.",
        )
    return Verdict(
        ComplianceType.COMPLIANT,
        f"Layer {best.unversioned_arn} is at version {best.version} (minimum {params.min_version}).",
    )


class LAMBDA_LAYER_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = judge(configuration_of(configuration_item), configuration_item.get("tags"), valid_rule_parameters)
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        # Change-triggered only: a scheduled notification comes from a misconfigured trigger; report nothing.
        return []


def lambda_handler(event, context):
    return handle_event(LAMBDA_LAYER_CHECK(), event, context)
