"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  VPC_ENDPOINT_AZ_COUNT_CHECK

Description:
  Checks that VPC endpoints span no more Availability Zones than MaxAzCount (cost, for dev/test) and
  no fewer than MinAzCount (resilience, for production).

Rationale:
  An interface endpoint has a network interface in every AZ it spans and bills about $0.01 per
  AZ-hour (about $7.30 a month per AZ) in every account. Dev/test accounts rarely need AZ fault
  tolerance; production wants at least two AZs.

Indicative Severity:
  Low

Trigger:
  Configuration change on AWS::EC2::VPCEndpoint

Reports on:
  AWS::EC2::VPCEndpoint

Rule Parameters:
  MaxAzCount, MinAzCount
    (Optional) Integers >= 1; at least one must be set, and MinAzCount <= MaxAzCount.
  EndpointTypes
    (Optional) Comma-separated endpoint types to check, default Interface. Types with subnets:
    Interface, GatewayLoadBalancer, Resource, ServiceNetwork. Other types are NOT_APPLICABLE.
  ExcludedServiceNames
    (Optional) Comma-separated service names, '*' matching any run of characters, e.g.
    com.amazonaws.*.s3,com.amazonaws.*.logs for data-heavy endpoints where cross-AZ transfer would
    cost more than the hourly saving.
  HourlyCostPerAz
    (Optional) USD per AZ-hour used in annotations, default 0.01.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Endpoints carrying it are NOT_APPLICABLE.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

The AZ count is the number of subnetIds in the configuration item (AWS allows one subnet per AZ per
endpoint), so the rule makes no API call beyond PutEvaluations.

Scenarios:
  Scenario 1:
    Given: Neither MaxAzCount nor MinAzCount is set
     Then: Return InvalidParametersError naming both
  Scenario 2:
    Given: MaxAzCount or MinAzCount is not an integer >= 1, or MinAzCount > MaxAzCount
     Then: Return InvalidParametersError naming the parameter
  Scenario 3:
    Given: EndpointTypes names an unknown type, or Gateway (gateway endpoints have no AZ presence)
     Then: Return InvalidParametersError naming EndpointTypes and the accepted types
  Scenario 4:
    Given: HourlyCostPerAz is not a non-negative number
     Then: Return InvalidParametersError naming HourlyCostPerAz
  Scenario 5:
    Given: A parameter name the rule does not know (a typo), or a malformed ExemptionTag
     Then: Return InvalidParametersError naming it
  Scenario 6:
    Given: The endpoint carries the ExemptionTag
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 7:
    Given: The endpoint is requester-managed
     Then: Return NOT_APPLICABLE
  Scenario 8:
    Given: The endpoint's state is deleted or deleting (a plain string or {value: ...})
     Then: Return NOT_APPLICABLE
  Scenario 9:
    Given: The endpoint's type is not in EndpointTypes
     Then: Return NOT_APPLICABLE naming the type
  Scenario 10:
    Given: The endpoint's service name matches ExcludedServiceNames
     Then: Return NOT_APPLICABLE naming the service
  Scenario 11:
    Given: The endpoint spans more AZs than MaxAzCount
     Then: Return NON_COMPLIANT with the count, the maximum and the monthly cost of the excess AZs
  Scenario 12:
    Given: The endpoint spans fewer AZs than MinAzCount
     Then: Return NON_COMPLIANT with the count and the minimum
  Scenario 13:
    Given: The AZ count is within the bounds
     Then: Return COMPLIANT
"""

import fnmatch
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from rdklib import ComplianceType, ConfigRule, Evaluation, Evaluator, InvalidParametersError
from rdklib.util.service import build_internal_error_response

APPLICABLE_RESOURCES = ["AWS::EC2::VPCEndpoint"]
RULE_PARAMETERS = (
    "MaxAzCount",
    "MinAzCount",
    "EndpointTypes",
    "ExcludedServiceNames",
    "HourlyCostPerAz",
    "ExemptionTag",
)
TYPES_WITH_SUBNETS = ("Interface", "GatewayLoadBalancer", "Resource", "ServiceNetwork")
GONE_STATES = ("deleted", "deleting")
HOURS_PER_MONTH = 730


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
    max_az: int | None
    min_az: int | None
    endpoint_types: tuple[str, ...]
    excluded_services: tuple[str, ...]
    hourly_cost: float
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class Verdict:
    compliance: str
    annotation: str


def parse_endpoint_types(raw: dict) -> tuple[str, ...]:
    types = parse_csv(raw, "EndpointTypes") or ("Interface",)
    wrong = [t for t in types if t not in TYPES_WITH_SUBNETS]
    if wrong:
        raise InvalidParametersError(
            f"Parameter EndpointTypes has {', '.join(wrong)}; accepted types are {', '.join(TYPES_WITH_SUBNETS)} "
            "(Gateway endpoints have no subnets, so no AZ count)."
        )
    return types


def parse_hourly_cost(raw: dict) -> float:
    text = parameter_text(raw, "HourlyCostPerAz")
    if not text:
        return 0.01
    if not re.fullmatch(r"\d{1,6}(\.\d{1,6})?", text):
        raise InvalidParametersError(
            f"Parameter HourlyCostPerAz must be a non-negative number such as 0.01, got {text!r}."
        )
    return float(text)


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    max_az, min_az = parse_int(raw, "MaxAzCount", None), parse_int(raw, "MinAzCount", None)
    if max_az is None and min_az is None:
        raise InvalidParametersError("Set MaxAzCount, MinAzCount or both: an integer >= 1.")
    if max_az is not None and min_az is not None and min_az > max_az:
        raise InvalidParametersError(f"Parameter MinAzCount ({min_az}) must not exceed MaxAzCount ({max_az}).")
    return Params(
        max_az,
        min_az,
        parse_endpoint_types(raw),
        parse_csv(raw, "ExcludedServiceNames"),
        parse_hourly_cost(raw),
        parse_exemption_tag(raw),
    )


def state_of(configuration: dict) -> str:
    state = configuration.get("state")
    if isinstance(state, dict):
        state = state.get("value")
    return str(state or "").lower()


def az_count(configuration: dict) -> int:
    subnets = configuration.get("subnetIds")
    return len({s for s in subnets if isinstance(s, str)}) if isinstance(subnets, list) else 0


def not_applicable_reason(configuration: dict, tags, params: Params) -> str | None:
    if params.exemption_tag and params.exemption_tag.is_carried_by(tags):
        return f"Exempt: the endpoint carries tag {params.exemption_tag}."
    if configuration.get("requesterManaged") in (True, "true"):
        return "Requester-managed endpoint: an AWS service manages its subnets."
    if state_of(configuration) in GONE_STATES:
        return f"The endpoint is {state_of(configuration)}."
    endpoint_type = configuration.get("vpcEndpointType")
    if endpoint_type not in params.endpoint_types:
        return f"Endpoint type {endpoint_type} is not checked (EndpointTypes: {', '.join(params.endpoint_types)})."
    service = str(configuration.get("serviceName") or "")
    if any(fnmatch.fnmatchcase(service, pattern) for pattern in params.excluded_services):
        return f"Service {service} is in ExcludedServiceNames."
    return None


def judge(configuration: dict, tags, params: Params) -> Verdict:
    reason = not_applicable_reason(configuration, tags, params)
    if reason:
        return Verdict(ComplianceType.NOT_APPLICABLE, reason)
    count = az_count(configuration)
    if params.max_az is not None and count > params.max_az:
        excess = count - params.max_az
        monthly = excess * params.hourly_cost * HOURS_PER_MONTH
        return Verdict(
            ComplianceType.NON_COMPLIANT,
            f"The endpoint spans {count} AZs; the maximum is {params.max_az}. The {excess} extra AZ(s) cost about "
            f"${monthly:,.2f} a month ({excess} x ${params.hourly_cost:g}/AZ-hour x {HOURS_PER_MONTH} h).",
        )
    if params.min_az is not None and count < params.min_az:
        return Verdict(
            ComplianceType.NON_COMPLIANT, f"The endpoint spans {count} AZ(s); the minimum is {params.min_az}."
        )
    bounds = [f"min {params.min_az}" if params.min_az else "", f"max {params.max_az}" if params.max_az else ""]
    return Verdict(ComplianceType.COMPLIANT, f"The endpoint spans {count} AZ(s) ({', '.join(b for b in bounds if b)}).")


class VPC_ENDPOINT_AZ_COUNT_CHECK(ConfigRule):
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
    return handle_event(VPC_ENDPOINT_AZ_COUNT_CHECK(), event, context)
