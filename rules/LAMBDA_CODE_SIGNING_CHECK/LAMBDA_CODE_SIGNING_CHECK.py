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

import re
from dataclasses import dataclass
from functools import cached_property

from botocore.exceptions import ClientError
from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ArnPattern,
    ExemptionTag,
    configuration_of,
    fit_annotation,
    handle_event,
    parse_arn_pattern,
    parse_bool,
    parse_csv,
    parse_exemption_tag,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations, (action, resource): rdkpack builds the role from it.
IAM_PERMISSIONS = (
    ("lambda:ListFunctions", "*"),
    ("lambda:GetFunctionCodeSigningConfig", "function"),
    ("lambda:GetCodeSigningConfig", "code-signing config"),
    ("tag:GetResources", "*"),  # only with ExemptionTag
)
RULE_PARAMETERS = ("AllowedCodeSigningConfigArns", "RequireEnforce", "ExemptionTag")
CSC_RESOURCE_RE = r"code-signing-config:(?:csc-[a-z0-9]{17}|\*)"
CSC_ARN_EXAMPLE = "arn:aws:lambda:*:123456789012:code-signing-config:csc-0123456789abcdef0"


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
                    Evaluation(verdict.compliance, name, APPLICABLE_RESOURCES[0], fit_annotation(verdict.annotation))
                )
        return evaluations


def lambda_handler(event, context):
    return handle_event(LAMBDA_CODE_SIGNING_CHECK(), APPLICABLE_RESOURCES, event, context)
