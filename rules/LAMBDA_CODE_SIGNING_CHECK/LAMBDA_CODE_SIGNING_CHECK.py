"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  LAMBDA_CODE_SIGNING_CHECK

Description:
  Checks that every Zip-packaged Lambda function has a code-signing configuration attached,
  optionally one from an approved list, optionally with the policy Enforce.

Rationale:
  Code signing ensures functions run only signed, unaltered code from trusted publishers.

Indicative Severity:
  Medium

Trigger:
  Configuration change on AWS::Lambda::Function, and periodic (TwentyFour_Hours): the code-signing
  configuration is not in the configuration item, and attaching or detaching one may record no
  configuration change.

Reports on:
  AWS::Lambda::Function

Rule Parameters:
  AllowedCodeSigningConfigArns
    (Optional) Comma-separated code-signing config ARNs; '*' may stand for the partition, region or
    account segment, or for the config id: arn:aws:lambda:*:123456789012:code-signing-config:*
  RequireEnforce
    (Optional) 'true' or 'false', default false: the attached config's
    CodeSigningPolicies.UntrustedArtifactOnDeployment must be Enforce.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Functions carrying it are NOT_APPLICABLE.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

API budget per invocation: one GetFunctionCodeSigningConfig per evaluated function; with
RequireEnforce, one GetCodeSigningConfig per distinct config ARN. The periodic sweep lists functions
with the ListFunctions paginator (which carries PackageType, so no GetFunction), and finds exempt
functions with one tag query (tag:GetResources) only when ExemptionTag is set. Old evaluations are not
swept on the periodic run (deleted functions already become NOT_APPLICABLE through their own
configuration change), which saves a GetComplianceDetailsByConfigRule call per 100 functions.

Scenarios:
  Scenario 1:
    Given: AllowedCodeSigningConfigArns holds something that is not a code-signing config ARN
     Then: Return InvalidParametersError naming the parameter and the value
  Scenario 2:
    Given: RequireEnforce is not 'true' or 'false'
     Then: Return InvalidParametersError naming RequireEnforce
  Scenario 3:
    Given: ExemptionTag has an empty key
     Then: Return InvalidParametersError naming ExemptionTag
  Scenario 4:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 5:
    Given: The function carries the ExemptionTag
     Then: Return NOT_APPLICABLE naming the tag, with no API call
  Scenario 6:
    Given: packageType is Image
     Then: Return NOT_APPLICABLE (container-image functions cannot use code signing), with no API call
  Scenario 7:
    Given: The function was deleted before GetFunctionCodeSigningConfig (ResourceNotFoundException)
     Then: Return NOT_APPLICABLE
  Scenario 8:
    Given: No code-signing config is attached
     Then: Return NON_COMPLIANT
  Scenario 9:
    Given: AllowedCodeSigningConfigArns is set
      And: The attached config matches none of them
     Then: Return NON_COMPLIANT naming the attached config
  Scenario 10:
    Given: A config is attached (and allowed, if a list is set)
      And: RequireEnforce is false
     Then: Return COMPLIANT without calling GetCodeSigningConfig
  Scenario 11:
    Given: RequireEnforce is true
      And: The attached config's UntrustedArtifactOnDeployment is Warn
     Then: Return NON_COMPLIANT naming the config and its policy
  Scenario 12:
    Given: RequireEnforce is true
      And: The attached config's UntrustedArtifactOnDeployment is Enforce
     Then: Return COMPLIANT
  Scenario 13:
    Given: RequireEnforce is true
      And: Several functions share a config within one invocation
     Then: GetCodeSigningConfig is called once per distinct config ARN
  Scenario 14:
    Given: A scheduled notification
     Then: Every function listed by the ListFunctions paginator is evaluated, with resourceId = the
           function name and resourceType AWS::Lambda::Function, and no GetFunction call
  Scenario 15:
    Given: A scheduled notification and an ExemptionTag
     Then: Exempt functions come from one tag query and get NOT_APPLICABLE without a code-signing call
  Scenario 16:
    Given: A scheduled notification and a function deleted during the sweep
     Then: That function is NOT_APPLICABLE and the sweep goes on
  Scenario 17:
    Given: A configuration item whose functionName and resourceName are missing or not a function name
     Then: Return NOT_APPLICABLE without an API call
"""

import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from botocore.exceptions import ClientError
from rdklib import ComplianceType, ConfigRule, Evaluation, Evaluator, InvalidParametersError
from rdklib.util.service import build_internal_error_response

APPLICABLE_RESOURCES = ["AWS::Lambda::Function"]
RESOURCE_TYPE = "AWS::Lambda::Function"
RULE_PARAMETERS = ("AllowedCodeSigningConfigArns", "RequireEnforce", "ExemptionTag")
CSC_RESOURCE_RE = r"code-signing-config:(?:csc-[a-z0-9]{17}|\*)"
CSC_ARN_EXAMPLE = "arn:aws:lambda:*:123456789012:code-signing-config:csc-0123456789abcdef0"


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
    allowed: tuple[ArnPattern, ...]
    require_enforce: bool
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class Verdict:
    compliance: str
    annotation: str


class CodeSigningLookup:
    """Code-signing facts from the Lambda API, with one GetCodeSigningConfig per ARN per invocation.

    The client is built on first use, so exempt and Image functions cost no API call (not even the
    AssumeRole rdklib makes when it builds a client).
    """

    def __init__(self, client_factory):
        self.client_factory = client_factory
        self.policies: dict[str, str | None] = {}

    @cached_property
    def client(self):
        return self.client_factory.build_client("lambda")

    def attached_config(self, function_name: str) -> str | None:
        """The attached config ARN, '' when none, None when the function no longer exists."""
        try:
            response = self.client.get_function_code_signing_config(FunctionName=function_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return response.get("CodeSigningConfigArn") or ""

    def deployment_policy(self, config_arn: str) -> str | None:
        """UntrustedArtifactOnDeployment (Warn or Enforce), or None when the config no longer exists."""
        if config_arn not in self.policies:
            try:
                config = self.client.get_code_signing_config(CodeSigningConfigArn=config_arn)["CodeSigningConfig"]
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                self.policies[config_arn] = None
            else:
                policies = config.get("CodeSigningPolicies") or {}
                self.policies[config_arn] = policies.get("UntrustedArtifactOnDeployment", "Warn")
        return self.policies[config_arn]


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    allowed = tuple(
        parse_arn_pattern(value, "AllowedCodeSigningConfigArns", "lambda", CSC_RESOURCE_RE, CSC_ARN_EXAMPLE)
        for value in parse_csv(raw, "AllowedCodeSigningConfigArns")
    )
    return Params(allowed, parse_bool(raw, "RequireEnforce", False), parse_exemption_tag(raw))


def is_allowed(config_arn: str, allowed: tuple[ArnPattern, ...]) -> bool:
    parts = config_arn.split(":", 5)
    if len(parts) != 6:
        return False
    return any(pattern.matches(parts[1], parts[3], parts[4], parts[5]) for pattern in allowed)


def judge_code_signing(config_arn: str, params: Params, lookup: CodeSigningLookup) -> Verdict:
    if not config_arn:
        return Verdict(ComplianceType.NON_COMPLIANT, "No code-signing configuration is attached to the function.")
    if params.allowed and not is_allowed(config_arn, params.allowed):
        return Verdict(
            ComplianceType.NON_COMPLIANT,
            f"Code-signing config {config_arn} is not in AllowedCodeSigningConfigArns.",
        )
    if params.require_enforce:
        policy = lookup.deployment_policy(config_arn)
        if policy is None:
            return Verdict(ComplianceType.NON_COMPLIANT, f"Code-signing config {config_arn} no longer exists.")
        if policy != "Enforce":
            return Verdict(
                ComplianceType.NON_COMPLIANT,
                f"Code-signing config {config_arn} has UntrustedArtifactOnDeployment {policy}; Enforce is required.",
            )
        return Verdict(ComplianceType.COMPLIANT, f"Code-signing config {config_arn} enforces signatures.")
    return Verdict(ComplianceType.COMPLIANT, f"Code-signing config {config_arn} is attached.")


def judge(name, package_type, is_exempt: bool, params: Params, lookup: CodeSigningLookup) -> Verdict:
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        return Verdict(ComplianceType.NOT_APPLICABLE, "The configuration item names no Lambda function.")
    if is_exempt:
        return Verdict(ComplianceType.NOT_APPLICABLE, f"Exempt: the function carries tag {params.exemption_tag}.")
    if package_type == "Image":
        return Verdict(
            ComplianceType.NOT_APPLICABLE, "Image package type: container-image functions cannot use code signing."
        )
    config_arn = lookup.attached_config(name)
    if config_arn is None:
        return Verdict(ComplianceType.NOT_APPLICABLE, "The function no longer exists.")
    return judge_code_signing(config_arn, params, lookup)


def exempt_function_arns(client_factory, tag: ExemptionTag | None) -> set:
    if tag is None:
        return set()
    tag_filter = {"Key": tag.key} if tag.value is None else {"Key": tag.key, "Values": [tag.value]}
    paginator = client_factory.build_client("resourcegroupstaggingapi").get_paginator("get_resources")
    pages = paginator.paginate(ResourceTypeFilters=["lambda:function"], TagFilters=[tag_filter])
    return {item["ResourceARN"] for page in pages for item in page["ResourceTagMappingList"]}


class LAMBDA_CODE_SIGNING_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        params = valid_rule_parameters
        configuration = configuration_of(configuration_item)
        name = configuration.get("functionName") or configuration_item.get("resourceName")
        is_exempt = bool(params.exemption_tag and params.exemption_tag.is_carried_by(configuration_item.get("tags")))
        verdict = judge(name, configuration.get("packageType"), is_exempt, params, CodeSigningLookup(client_factory))
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        params = valid_rule_parameters
        exempt = exempt_function_arns(client_factory, params.exemption_tag)
        lookup = CodeSigningLookup(client_factory)
        evaluations = []
        for page in lookup.client.get_paginator("list_functions").paginate():
            for function in page["Functions"]:
                name = function["FunctionName"]
                is_exempt = function.get("FunctionArn") in exempt
                verdict = judge(name, function.get("PackageType"), is_exempt, params, lookup)
                evaluations.append(
                    Evaluation(verdict.compliance, name, RESOURCE_TYPE, fit_annotation(verdict.annotation))
                )
        return evaluations


def lambda_handler(event, context):
    return handle_event(LAMBDA_CODE_SIGNING_CHECK(), event, context)
