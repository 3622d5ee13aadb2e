"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  VPC_ENDPOINT_IDLE_CHECK

Description:
  What the rule checks on each AWS::EC2::VPCEndpoint (write it before the rule ships).

Rationale:
  Why a resource that fails the check is a risk or a cost.

Indicative Severity:
  Medium

Trigger:
  Configuration change on AWS::EC2::VPCEndpoint

Reports on:
  AWS::EC2::VPCEndpoint

Rule Parameters:
  ExemptionTag
    (Optional) 'key' or 'key=value'. Resources carrying it are NOT_APPLICABLE.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

Scenarios:
  Scenario 1:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 2:
    Given: The resource carries the ExemptionTag
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 3:
    Given: Any other resource
     Then: Return COMPLIANT
"""

from dataclasses import dataclass

from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ExemptionTag,
    fit_annotation,
    handle_event,
    parse_exemption_tag,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations: none while the rule reads only the item.
IAM_PERMISSIONS = ()
RULE_PARAMETERS = ("ExemptionTag",)


@dataclass(frozen=True)
class Params:
    exemption: ExemptionTag | None


@dataclass(frozen=True)
class Verdict:
    compliance: str
    annotation: str


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    return Params(exemption=parse_exemption_tag(raw))


def judge(configuration_item: dict, params: Params) -> Verdict:
    """Pure: the verdict for one configuration item."""
    if params.exemption and params.exemption.is_carried_by(configuration_item.get("tags")):
        # Scenario 2
        return Verdict(ComplianceType.NOT_APPLICABLE, f"The resource carries the exemption tag {params.exemption}.")
    # Scenario 3
    return Verdict(ComplianceType.COMPLIANT, "The resource passes the check.")


class VPC_ENDPOINT_IDLE_CHECK(ConfigRule):
    def evaluate_parameters(self, rule_parameters):
        # Scenario 1
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = judge(configuration_item, valid_rule_parameters)
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        # Change-triggered only: a scheduled notification comes from a misconfigured trigger; report nothing.
        return []


def lambda_handler(event, context):
    return handle_event(VPC_ENDPOINT_IDLE_CHECK(), APPLICABLE_RESOURCES, event, context)
