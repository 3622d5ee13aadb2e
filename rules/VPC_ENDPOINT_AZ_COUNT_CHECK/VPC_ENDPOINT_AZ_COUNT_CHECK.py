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
    Interface, GatewayLoadBalancer, Resource, ServiceNetwork, Tunnel (Gateway has none). An endpoint
    of a type not listed is NOT_APPLICABLE: by default, every type but Interface.
  ExcludedServiceNames
    (Optional) Comma-separated service names, '*' matching any run of characters, e.g.
    com.amazonaws.*.s3,com.amazonaws.*.logs for endpoints that must keep AZ isolation. (Fewer AZs
    change no data charge: AWS bills no inter-AZ transfer to an interface endpoint since April 2022.)
  HourlyCostPerAz
    (Optional) USD per AZ-hour used in annotations, default 0.01.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Endpoints carrying it are NOT_APPLICABLE. The tag's value may
    end the waiver with the word expires=YYYY-MM-DD (a UTC date; words are separated by spaces):
      'key':       any value; expires= anywhere in it, e.g. az-exempt = "expires=2027-01-31 v2 migration"
      'key=value': the value as the first word, then optionally expires= and more words, e.g. for
                   team=platform the tag team = "platform" or "platform expires=2027-01-31 v2 migration"
    Exempt through that date; from the next day the normal verdict plus "Waiver (tag X) expired on
    D."; an expires= that is no valid date (2027-02-30, 27-1-1) exempts nothing. Without expires=
    the tag exempts until it is removed.
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
    Given: The endpoint carries the ExemptionTag, with no expires= in its value
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 7:
    Given: The endpoint is requester-managed
     Then: Return NOT_APPLICABLE
  Scenario 8:
    Given: The endpoint's state is deleted or deleting (a plain string or {value: ...})
     Then: Return NOT_APPLICABLE
  Scenario 9:
    Given: The endpoint's type is not in EndpointTypes (by default Gateway, GatewayLoadBalancer,
           Resource, ServiceNetwork and Tunnel endpoints)
     Then: Return NOT_APPLICABLE naming the type and the checked types
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
  Scenario 14:
    Given: The endpoint carries the ExemptionTag with expires=D, D today or later (UTC)
     Then: Return NOT_APPLICABLE "Exempt until D" naming the tag and its value
  Scenario 15:
    Given: The endpoint carries the ExemptionTag with expires=D, D before today (UTC)
     Then: Return the verdict without the tag, plus "Waiver (tag X) expired on D."
  Scenario 16:
    Given: The ExemptionTag's expires= is not a YYYY-MM-DD date (2027-02-30, 27-1-1)
     Then: Return the verdict without the tag, plus a note that the expiry is not a date: not exempt
"""

import fnmatch
from dataclasses import dataclass
from datetime import date

from rdklib import ComplianceType, ConfigRule, Evaluation, InvalidParametersError
from rule_kit import (
    ExemptionTag,
    Verdict,
    configuration_of,
    exemption_of,
    fit_annotation,
    handle_event,
    parse_csv,
    parse_decimal,
    parse_exemption_tag,
    parse_int,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations: none, the rule reads only the item.
IAM_PERMISSIONS = ()
RULE_PARAMETERS = (
    "MaxAzCount",
    "MinAzCount",
    "EndpointTypes",
    "ExcludedServiceNames",
    "HourlyCostPerAz",
    "ExemptionTag",
)
# Every VpcEndpointType in botocore's EC2 model but Gateway (no subnets): the types EndpointTypes may name.
TYPES_WITH_SUBNETS = ("Interface", "GatewayLoadBalancer", "Resource", "ServiceNetwork", "Tunnel")
GONE_STATES = ("deleted", "deleting")
HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class Params:
    max_az: int | None
    min_az: int | None
    endpoint_types: tuple[str, ...]
    excluded_services: tuple[str, ...]
    hourly_cost: float
    exemption_tag: ExemptionTag | None


def parse_endpoint_types(raw: dict) -> tuple[str, ...]:
    types = parse_csv(raw, "EndpointTypes") or ("Interface",)
    wrong = [t for t in types if t not in TYPES_WITH_SUBNETS]
    if wrong:
        raise InvalidParametersError(
            f"Parameter EndpointTypes has {', '.join(wrong)}; accepted types are {', '.join(TYPES_WITH_SUBNETS)} "
            "(Gateway endpoints have no subnets, so no AZ count)."
        )
    return types


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
        parse_decimal(raw, "HourlyCostPerAz", 0.01),
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


def not_applicable_reason(configuration: dict, params: Params) -> str | None:
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


def judge(configuration: dict, tags, params: Params, today: date | None = None) -> Verdict:
    """The verdict on the endpoint's AZ count, unless its exemption tag is in force on `today` (default: UTC today)."""
    exemption = exemption_of(params.exemption_tag, tags, today)
    if exemption and exemption.in_force:
        return Verdict(ComplianceType.NOT_APPLICABLE, exemption.reason("endpoint"))
    return judge_az_count(configuration, params).noted(exemption)


def judge_az_count(configuration: dict, params: Params) -> Verdict:
    reason = not_applicable_reason(configuration, params)
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
    return handle_event(VPC_ENDPOINT_AZ_COUNT_CHECK(), APPLICABLE_RESOURCES, event, context)
