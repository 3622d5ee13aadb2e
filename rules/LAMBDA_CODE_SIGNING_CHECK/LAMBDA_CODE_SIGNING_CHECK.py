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
    (Optional) 'key' or 'key=value'. Functions carrying it are NOT_APPLICABLE. The tag's value may
    end the waiver with the word expires=YYYY-MM-DD (a UTC date; words are separated by spaces):
      'key':       any value; expires= anywhere in it, e.g. signing-exempt = "expires=2027-01-31 v2 migration"
      'key=value': the value as the first word, then optionally expires= and more words, e.g. for
                   team=platform the tag team = "platform" or "platform expires=2027-01-31 v2 migration"
    Exempt through that date; from the next day the normal verdict plus "Waiver (tag X) expired on
    D."; an expires= that is no valid date (2027-02-30, 27-1-1) exempts nothing. Without expires=
    the tag exempts until it is removed.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

API budget: a change evaluation makes one GetFunctionCodeSigningConfig, plus one GetCodeSigningConfig
per distinct config when RequireEnforce is set or the function has layers. The periodic sweep makes
no per-function call: ListCodeSigningConfigs (every config with its policy and allowed publishers),
ListFunctionsByCodeSigningConfig per config, the ListFunctions paginator, one tag query (on the tag's
key) only with ExemptionTag, and PutEvaluations 100 at a time; its Lambda calls are capped at LAMBDA_CALLS_PER_SECOND.
Deleted functions become NOT_APPLICABLE through their own configuration change.

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
    Given: The function carries the ExemptionTag, with no expires= in its value
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
    Given: A scheduled notification
     Then: Configs come from ListCodeSigningConfigs and their functions from
           ListFunctionsByCodeSigningConfig, with no per-function call and no GetCodeSigningConfig
  Scenario 14:
    Given: A scheduled notification
     Then: Every function listed by the ListFunctions paginator is evaluated, with resourceId = the
           function name and resourceType AWS::Lambda::Function, and no GetFunction call
  Scenario 15:
    Given: A scheduled notification and an ExemptionTag
     Then: Tagged functions come from one tag query on the tag's key, their values are judged as on the
           change path, and exempt ones get NOT_APPLICABLE without a code-signing call
  Scenario 16:
    Given: A scheduled notification and a config whose function list names a function ListFunctions
           did not list (created or deleted during the sweep)
     Then: Only listed functions are evaluated
  Scenario 17:
    Given: A configuration item whose functionName and resourceName are missing or not a function name
     Then: Return NOT_APPLICABLE without an API call
  Scenario 18:
    Given: A code-signing config is attached
      And: A layer is unsigned, or signed by a profile outside the config's AllowedPublishers
     Then: Return NON_COMPLIANT naming the layer and the profile found versus allowed (change and sweep)
  Scenario 19:
    Given: A code-signing config is attached and every layer is signed by an allowed publisher
     Then: Return COMPLIANT
  Scenario 20:
    Given: A scheduled notification
     Then: The sweep's Lambda calls stay at or under LAMBDA_CALLS_PER_SECOND
  Scenario 21:
    Given: Many recorded configuration items at once (evaluate_items, what rdkpack scan calls)
     Then: They are judged from the sweep's lists, with no per-function call and the verdicts of
           evaluate_change, each evaluation naming its function
  Scenario 22:
    Given: The function carries the ExemptionTag with expires=D, D today or later (UTC)
     Then: Return NOT_APPLICABLE "Exempt until D" naming the tag and its value, with no API call
           (change path and sweep)
  Scenario 23:
    Given: The function carries the ExemptionTag with expires=D, D before today (UTC)
     Then: Return the verdict without the tag, plus "Waiver (tag X) expired on D." (change path and sweep)
  Scenario 24:
    Given: The ExemptionTag's expires= is not a YYYY-MM-DD date (2027-02-30, 27-1-1)
     Then: Return the verdict without the tag, plus a note that the expiry is not a date: not exempt
"""

import re
from dataclasses import dataclass
from functools import cached_property

from botocore.exceptions import ClientError
from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ArnPattern,
    Exemption,
    ExemptionTag,
    RateCap,
    Verdict,
    configuration_of,
    exemption_of,
    fit_annotation,
    handle_event,
    parse_arn_pattern,
    parse_bool,
    parse_csv,
    parse_exemption_tag,
    reject_unknown_parameters,
    source_event_types,
    tagged_resources,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations, (action, resource): rdkpack builds the role from it.
IAM_PERMISSIONS = (
    ("lambda:ListFunctions", "*"),
    ("lambda:ListCodeSigningConfigs", "*"),
    ("lambda:ListFunctionsByCodeSigningConfig", "code-signing config"),
    ("lambda:GetFunctionCodeSigningConfig", "function"),
    ("lambda:GetCodeSigningConfig", "code-signing config"),
    ("tag:GetResources", "*"),  # only with ExemptionTag
)
# About a third of Lambda's control-plane read quota (about 15 requests/s per account and region).
LAMBDA_CALLS_PER_SECOND = 5
RULE_PARAMETERS = ("AllowedCodeSigningConfigArns", "RequireEnforce", "ExemptionTag")
CSC_RESOURCE_RE = r"code-signing-config:(?:csc-[a-z0-9]{17}|\*)"
CSC_ARN_EXAMPLE = "arn:aws:lambda:*:123456789012:code-signing-config:csc-0123456789abcdef0"


@dataclass(frozen=True)
class Params:
    allowed: tuple[ArnPattern, ...]
    require_enforce: bool
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class SigningConfig:
    policy: str  # UntrustedArtifactOnDeployment: Warn or Enforce
    publishers: tuple[str, ...]  # AllowedPublishers.SigningProfileVersionArns


def signing_config(config: dict) -> SigningConfig:
    policy = (config.get("CodeSigningPolicies") or {}).get("UntrustedArtifactOnDeployment", "Warn")
    return SigningConfig(policy, tuple((config.get("AllowedPublishers") or {}).get("SigningProfileVersionArns", ())))


class CodeSigningLookup:
    """Code-signing facts: per call on the change path, from the account's lists on the sweep.

    The client is built on first use, so exempt and Image functions cost no API call (not even the
    AssumeRole rdklib makes when it builds a client). `configs` caches one answer per config ARN.
    """

    def __init__(self, client_factory):
        self.client_factory = client_factory
        self.configs: dict[str, SigningConfig | None] = {}
        self.attached: dict[str, str] | None = None  # function name -> config ARN, once the sweep listed them

    @cached_property
    def client(self):
        return self.client_factory.build_client("lambda")

    def attached_config(self, function_name: str) -> str | None:
        """The attached config ARN, '' when none, None when the function no longer exists."""
        if self.attached is not None:
            return self.attached.get(function_name, "")
        try:
            response = self.client.get_function_code_signing_config(FunctionName=function_name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return response.get("CodeSigningConfigArn") or ""

    def config(self, config_arn: str) -> SigningConfig | None:
        """The config's policy and publishers, or None when the config no longer exists."""
        if config_arn not in self.configs:
            try:
                found = self.client.get_code_signing_config(CodeSigningConfigArn=config_arn)["CodeSigningConfig"]
            except ClientError as error:
                if error.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise
                self.configs[config_arn] = None
            else:
                self.configs[config_arn] = signing_config(found)
        return self.configs[config_arn]

    def load_account(self) -> None:
        """Every config and the functions using it, with no per-function call (the sweep)."""
        self.attached = {}
        pages = self.client.get_paginator("list_code_signing_configs").paginate(PaginationConfig={"PageSize": 10_000})
        for config in (config for page in pages for config in page["CodeSigningConfigs"]):
            arn = config["CodeSigningConfigArn"]
            self.configs[arn] = signing_config(config)
            users = self.client.get_paginator("list_functions_by_code_signing_config")
            for page in users.paginate(CodeSigningConfigArn=arn, PaginationConfig={"PageSize": 10_000}):
                self.attached.update((function_arn.split(":")[6], arn) for function_arn in page["FunctionArns"])


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    allowed = tuple(
        parse_arn_pattern(value, "AllowedCodeSigningConfigArns", "lambda", CSC_RESOURCE_RE, CSC_ARN_EXAMPLE)
        for value in parse_csv(raw, "AllowedCodeSigningConfigArns")
    )
    return Params(allowed, parse_bool(raw, "RequireEnforce", False), parse_exemption_tag(raw))


def layer_problem(layers: list[tuple[str, str]], config: SigningConfig) -> str | None:
    """The first layer whose signing profile (arn, profile or '') the config does not allow."""
    for arn, profile in layers:
        if profile not in config.publishers:
            found = f"signed by {profile}" if profile else "unsigned"
            allowed = ", ".join(config.publishers) or "none"
            return f"Layer {arn} is {found}; the code-signing config allows publishers: {allowed}."
    return None


def config_problem(config_arn: str, layers, params: Params, lookup: CodeSigningLookup) -> str | None:
    """Why the attached config is not enough, or None."""
    if not config_arn:
        return "No code-signing configuration is attached to the function."
    if params.allowed and not any(pattern.matches_arn(config_arn) for pattern in params.allowed):
        return f"Code-signing config {config_arn} is not in AllowedCodeSigningConfigArns."
    if not (params.require_enforce or layers):
        return None
    config = lookup.config(config_arn)
    if config is None:
        return f"Code-signing config {config_arn} no longer exists."
    if params.require_enforce and config.policy != "Enforce":
        return (
            f"Code-signing config {config_arn} has UntrustedArtifactOnDeployment {config.policy}; Enforce is required."
        )
    return layer_problem(layers, config)


@dataclass(frozen=True)
class Function:
    name: object  # from the item: anything; judged before use
    package_type: object
    layers: list  # (layer ARN, signing profile version ARN or '')
    exemption: Exemption | None  # from its ExemptionTag, judged on the UTC date of evaluation


def layer_signatures(layers, arn_key: str, profile_key: str) -> list[tuple[str, str]]:
    """(layer ARN, signing profile version ARN or '') from the item's or ListFunctions' layer list."""
    if not isinstance(layers, list):
        return []
    return [(str(x.get(arn_key)), str(x.get(profile_key) or "")) for x in layers if isinstance(x, dict)]


def judge(function: Function, params: Params, lookup: CodeSigningLookup) -> Verdict:
    """The verdict on the function's code signing, unless its exemption tag is in force."""
    if not isinstance(function.name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", function.name):
        return Verdict(ComplianceType.NOT_APPLICABLE, "The configuration item names no Lambda function.")
    if function.exemption and function.exemption.in_force:
        return Verdict(ComplianceType.NOT_APPLICABLE, function.exemption.reason("function"))
    return judge_signing(function, params, lookup).noted(function.exemption)


def judge_signing(function: Function, params: Params, lookup: CodeSigningLookup) -> Verdict:
    if function.package_type == "Image":
        text = "Image package type: container-image functions cannot use code signing."
        return Verdict(ComplianceType.NOT_APPLICABLE, text)
    config_arn = lookup.attached_config(function.name)
    if config_arn is None:
        return Verdict(ComplianceType.NOT_APPLICABLE, "The function no longer exists.")
    problem = config_problem(config_arn, function.layers, params, lookup)
    if problem:
        return Verdict(ComplianceType.NON_COMPLIANT, problem)
    done = "enforces signatures" if params.require_enforce else "is attached"
    return Verdict(ComplianceType.COMPLIANT, f"Code-signing config {config_arn} {done}.")


def recorded_function(configuration_item: dict, params: Params) -> Function:
    """The function as a configuration item records it (change notifications, a scan's items)."""
    configuration = configuration_of(configuration_item)
    name = configuration.get("functionName") or configuration_item.get("resourceName")
    layers = layer_signatures(configuration.get("layers"), "arn", "signingProfileVersionArn")
    exemption = exemption_of(params.exemption_tag, configuration_item.get("tags"))
    return Function(name, configuration.get("packageType"), layers, exemption)


def swept_lookup(client_factory) -> CodeSigningLookup:
    """Every config and its functions from the account's lists, Lambda calls paced at LAMBDA_CALLS_PER_SECOND."""
    lookup = CodeSigningLookup(client_factory)
    RateCap(LAMBDA_CALLS_PER_SECOND).attach(lookup.client)
    lookup.load_account()
    return lookup


def evaluation(function: Function, params: Params, lookup: CodeSigningLookup) -> Evaluation:
    verdict = judge(function, params, lookup)
    return Evaluation(verdict.compliance, function.name, APPLICABLE_RESOURCES[0], fit_annotation(verdict.annotation))


class LAMBDA_CODE_SIGNING_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        function = recorded_function(configuration_item, valid_rule_parameters)
        verdict = judge(function, valid_rule_parameters, CodeSigningLookup(client_factory))
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        params = valid_rule_parameters
        tagged = tagged_resources(client_factory, params.exemption_tag, "lambda:function")
        lookup = swept_lookup(client_factory)
        evaluations = []
        for page in lookup.client.get_paginator("list_functions").paginate():
            for listed in page["Functions"]:
                layers = layer_signatures(listed.get("Layers"), "Arn", "SigningProfileVersionArn")
                exemption = exemption_of(params.exemption_tag, tagged.get(listed.get("FunctionArn")))
                function = Function(listed["FunctionName"], listed.get("PackageType"), layers, exemption)
                evaluations.append(evaluation(function, params, lookup))
        return evaluations

    def evaluate_items(self, client_factory, configuration_items, valid_rule_parameters):
        """Many recorded items at once (rdkpack scan): the sweep's lists, no per-function call."""
        lookup = swept_lookup(client_factory)
        functions = (recorded_function(item, valid_rule_parameters) for item in configuration_items)
        return [evaluation(function, valid_rule_parameters, lookup) for function in functions]


def lambda_handler(event, context):
    return handle_event(LAMBDA_CODE_SIGNING_CHECK(), APPLICABLE_RESOURCES, event, context)
