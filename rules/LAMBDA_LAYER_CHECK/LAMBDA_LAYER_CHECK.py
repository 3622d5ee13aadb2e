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
    (Optional) 'key' or 'key=value'. Functions carrying it are NOT_APPLICABLE. The tag's value may
    end the waiver with the word expires=YYYY-MM-DD (a UTC date; words are separated by spaces):
      'key':       any value; expires= anywhere in it, e.g. layer-exempt = "expires=2027-01-31 v2 migration"
      'key=value': the value as the first word, then optionally expires= and more words, e.g. for
                   team=platform the tag team = "platform" or "platform expires=2027-01-31 v2 migration"
    Exempt through that date; from the next day the normal verdict plus "Waiver (tag X) expired on
    D."; an expires= that is no valid date (2027-02-30, 27-1-1) exempts nothing. Without expires=
    the tag exempts until it is removed.
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
    Given: The function carries the ExemptionTag, with no expires= in its value
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
  Scenario 14:
    Given: The function carries the ExemptionTag with expires=D, D today or later (UTC)
     Then: Return NOT_APPLICABLE "Exempt until D" naming the tag and its value
  Scenario 15:
    Given: The function carries the ExemptionTag with expires=D, D before today (UTC)
     Then: Return the verdict without the tag, plus "Waiver (tag X) expired on D."
  Scenario 16:
    Given: The ExemptionTag's expires= is not a YYYY-MM-DD date (2027-02-30, 27-1-1)
     Then: Return the verdict without the tag, plus a note that the expiry is not a date: not exempt
"""

import re
from dataclasses import dataclass
from datetime import date

from rdklib import ComplianceType, ConfigRule, Evaluation, InvalidParametersError
from rule_kit import (
    ArnPattern,
    ExemptionTag,
    Verdict,
    configuration_of,
    exemption_of,
    fit_annotation,
    handle_event,
    parse_arn_pattern,
    parse_csv,
    parse_exemption_tag,
    parse_int,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations: none, the rule reads only the item.
IAM_PERMISSIONS = ()
RULE_PARAMETERS = ("LayerArn", "MinLayerVersion", "ExemptionTag")
LAYER_NAME_RE = r"[A-Za-z0-9_-]{1,140}"
LAYER_ARN_EXAMPLE = "arn:aws:lambda:*:123456789012:layer:company-base"


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


def judge(configuration: dict, tags, params: Params, today: date | None = None) -> Verdict:
    """The verdict on the function's layers, unless its exemption tag is in force on `today` (default: UTC today)."""
    exemption = exemption_of(params.exemption_tag, tags, today)
    if exemption and exemption.in_force:
        return Verdict(ComplianceType.NOT_APPLICABLE, exemption.reason("function"))
    return judge_layers(configuration, params).noted(exemption)


def judge_layers(configuration: dict, params: Params) -> Verdict:
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
    return handle_event(LAMBDA_LAYER_CHECK(), APPLICABLE_RESOURCES, event, context)
