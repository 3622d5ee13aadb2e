"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  VPC_ENDPOINT_IDLE_CHECK

Description:
  Checks that interface VPC endpoints carry traffic: an endpoint whose CloudWatch BytesProcessed
  (AWS/PrivateLinkEndpoints) over the last IdleDays days is at most MaxIdleBytes is idle.

Rationale:
  An interface endpoint bills about $0.01 per AZ-hour (about $7.30 a month per AZ) whether or not
  anything uses it. Endpoints left behind by finished projects or copied templates cost money and
  keep private DNS overrides alive in their VPC.

Indicative Severity:
  Low

Trigger:
  Configuration change on AWS::EC2::VPCEndpoint, and periodic (TwentyFour_Hours): traffic stopping
  records no configuration change, so the daily sweep finds endpoints that became idle.

Reports on:
  AWS::EC2::VPCEndpoint

Rule Parameters:
  IdleDays
    (Optional) Days of traffic history to judge, 1..455, default 30. CloudWatch keeps hourly data
    points for 455 days; the rule asks for daily sums (Period 86,400 s, valid at any age CloudWatch
    keeps). An endpoint younger than IdleDays is NOT_APPLICABLE: it has no full window yet.
  MaxIdleBytes
    (Optional) Most bytes (both directions) an endpoint may process in the window and still count as
    idle, an integer from 0 to 10^15 (the bound DeleteIdleVpcEndpoint accepts), default 0.
  ExcludedServiceNames
    (Optional) Comma-separated service names, '*' matching any run of characters, for endpoints that
    must stay even when idle (disaster-recovery standby, quarterly batch jobs).
  HourlyCostPerAz
    (Optional) USD per AZ-hour used in annotations, default 0.01.
  ExemptionTag
    (Optional) 'key' or 'key=value'. Endpoints carrying it are NOT_APPLICABLE. The tag's value may
    end the waiver with the word expires=YYYY-MM-DD (a UTC date; words are separated by spaces):
      'key':       any value; expires= anywhere in it, e.g. idle-exempt = "expires=2027-01-31 DR standby"
      'key=value': the value as the first word, then optionally expires= and more words, e.g. for
                   team=platform the tag team = "platform" or "platform expires=2027-01-31 DR standby"
    Exempt through that date; from the next day the normal verdict plus "Waiver (tag X) expired on
    D."; an expires= that is no valid date (2027-02-30, 27-1-1) exempts nothing. Without expires=
    the tag exempts until it is removed. DeleteIdleVpcEndpoint's own check refuses an endpoint
    exactly while the tag exempts it.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

Traffic: one GetMetricData query per endpoint, metric AWS/PrivateLinkEndpoints BytesProcessed with
exactly the dimensions AWS publishes it with per endpoint (Endpoint Type, Service Name, VPC Endpoint
Id, VPC Id), Stat Sum, Period 86,400. PrivateLink reports a data point only for minutes with
traffic, so no data point means zero bytes. Gateway endpoints publish no metrics and cost nothing
per hour; cross-Region endpoints publish no metrics either.

API budget: a change evaluation makes one GetMetricData call. The daily sweep makes
ceil(N/1,000) DescribeVpcEndpoints (pages of 1,000), ceil(M/Q) GetMetricData for the M endpoints it
must measure, with Q = min(500, 100,800 // (IdleDays + 1)) queries a call (500 queries a call and
100,800 data points a call are CloudWatch's limits; each query returns at most IdleDays + 1 daily
points), and ceil(N/100) PutEvaluations. Deleted endpoints become NOT_APPLICABLE through their own
configuration change, or in the sweep while DescribeVpcEndpoints still lists them as deleted.

Scenarios:
  Scenario 1:
    Given: IdleDays is not an integer from 1 to 455
     Then: Return InvalidParametersError naming IdleDays and CloudWatch's 455-day retention
  Scenario 2:
    Given: MaxIdleBytes is not an integer from 0 to 10^15, or HourlyCostPerAz is not a non-negative number
     Then: Return InvalidParametersError naming the parameter
  Scenario 3:
    Given: A parameter name the rule does not know (a typo), or a malformed ExemptionTag
     Then: Return InvalidParametersError naming it
  Scenario 4:
    Given: The endpoint carries the ExemptionTag, with no expires= in its value
     Then: Return NOT_APPLICABLE naming the tag, with no API call
  Scenario 5:
    Given: The endpoint is requester-managed, deleted or deleting, or in another state than available
     Then: Return NOT_APPLICABLE naming why, with no API call
  Scenario 6:
    Given: The endpoint's type is not Interface: Gateway (gateway endpoints publish no metrics),
           GatewayLoadBalancer, Resource, ServiceNetwork or Tunnel
     Then: Return NOT_APPLICABLE naming the type, with no API call
  Scenario 7:
    Given: The endpoint's service name matches ExcludedServiceNames
     Then: Return NOT_APPLICABLE naming the service, with no API call
  Scenario 8:
    Given: The endpoint serves another Region's service (cross-Region: PrivateLink publishes no metrics)
     Then: Return NOT_APPLICABLE naming both Regions, with no API call
  Scenario 9:
    Given: The endpoint was created less than IdleDays ago, or its creation time is unknown
     Then: Return NOT_APPLICABLE naming its age, with no API call
  Scenario 10:
    Given: The configuration item names no endpoint id, VPC id or service name
     Then: Return NOT_APPLICABLE, with no API call (the metric's dimensions would be unknown)
  Scenario 11:
    Given: BytesProcessed over IdleDays sums to at most MaxIdleBytes (no data point counts as zero)
     Then: Return NON_COMPLIANT with the bytes, the window and what its AZs bill a month (HourlyCostPerAz)
  Scenario 12:
    Given: BytesProcessed over IdleDays sums to more than MaxIdleBytes
     Then: Return COMPLIANT with the bytes
  Scenario 13:
    Given: CloudWatch answers the endpoint's query with status Forbidden or InternalError
     Then: Return NOT_APPLICABLE naming the status (never idle without data)
  Scenario 14:
    Given: A scheduled notification
     Then: Every endpoint DescribeVpcEndpoints lists (pages of 1,000) is evaluated with resourceId and
           resourceType, deleted ones as NOT_APPLICABLE, with one GetMetricData query per measured
           endpoint and at most Q queries a call
  Scenario 15:
    Given: Many recorded configuration items at once (evaluate_items, what rdkpack scan calls)
     Then: Their traffic comes from batched GetMetricData calls, with the verdicts of evaluate_change
  Scenario 16:
    Given: The endpoint carries the ExemptionTag with expires=D, D today or later (UTC)
     Then: Return NOT_APPLICABLE "Exempt until D" naming the tag and its value, with no API call
           (change path and sweep)
  Scenario 17:
    Given: The endpoint carries the ExemptionTag with expires=D, D before today (UTC)
     Then: Return the verdict without the tag, plus "Waiver (tag X) expired on D." (change path and sweep)
  Scenario 18:
    Given: The ExemptionTag's expires= is not a YYYY-MM-DD date (2027-02-30, 27-1-1)
     Then: Return the verdict without the tag, plus a note that the expiry is not a date: not exempt
"""

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ExemptionTag,
    Verdict,
    configuration_of,
    exemption_of,
    fit_annotation,
    handle_event,
    iso_time,
    parse_csv,
    parse_decimal,
    parse_exemption_tag,
    parse_int,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations, (action, resource); neither has resource-level permissions.
IAM_PERMISSIONS = (("ec2:DescribeVpcEndpoints", "*"), ("cloudwatch:GetMetricData", "*"))
RULE_PARAMETERS = ("IdleDays", "MaxIdleBytes", "ExcludedServiceNames", "HourlyCostPerAz", "ExemptionTag")
NAMESPACE, METRIC = "AWS/PrivateLinkEndpoints", "BytesProcessed"
# The dimension set PrivateLink publishes per endpoint; GetMetricData matches dimensions exactly.
DIMENSIONS = ("Endpoint Type", "Service Name", "VPC Endpoint Id", "VPC Id")
PERIOD_SECONDS = 86_400  # a multiple of 3,600, so valid for data of any age CloudWatch keeps
MAX_IDLE_DAYS = 455  # CloudWatch keeps 1-hour data points for 455 days
MAX_IDLE_BYTES = 10**15  # a petabyte in the window is never "idle"; DeleteIdleVpcEndpoint accepts the same
# GetMetricData, per call: at most 500 queries, and 100,800 data points (the default MaxDatapoints) before it pages.
QUERIES_PER_CALL, DATAPOINTS_PER_CALL = 500, 100_800
DESCRIBE_PAGE = 1_000  # DescribeVpcEndpoints returns at most 1,000 a page
CHECKED_TYPE, HOURS_PER_MONTH = "Interface", 730
UNJUDGED_STATUSES = ("Forbidden", "InternalError")
utc_now = partial(datetime.now, UTC)  # the clock (tests replace it)


@dataclass(frozen=True)
class Params:
    idle_days: int
    max_bytes: int
    excluded_services: tuple[str, ...]
    hourly_cost: float
    exemption_tag: ExemptionTag | None


@dataclass(frozen=True)
class Endpoint:
    """What the rule reads of an endpoint, from a configuration item or a DescribeVpcEndpoints answer."""

    endpoint_id: object  # from an item: anything; judged before use
    endpoint_type: object
    service: object
    vpc_id: object
    state: str
    requester_managed: bool
    created: datetime | None
    az_count: int
    cross_region: str  # "us-east-1 to eu-west-1" for an endpoint of another Region's service, else ""
    tags: object


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    idle_days = parse_int(
        raw, "IdleDays", 30, maximum=MAX_IDLE_DAYS, why=f"CloudWatch keeps hourly data points {MAX_IDLE_DAYS} days"
    )
    max_bytes = parse_int(
        raw, "MaxIdleBytes", 0, minimum=0, maximum=MAX_IDLE_BYTES, why="the most DeleteIdleVpcEndpoint accepts"
    )
    cost = parse_decimal(raw, "HourlyCostPerAz", 0.01)
    return Params(idle_days, max_bytes, parse_csv(raw, "ExcludedServiceNames"), cost, parse_exemption_tag(raw))


def moment(value) -> datetime | None:
    """A timestamp (datetime, ISO-8601 text or epoch number) as an aware UTC datetime, or None."""
    try:
        found = value if isinstance(value, datetime) else datetime.fromisoformat(str(iso_time(value)))
        return (found if found.tzinfo else found.replace(tzinfo=UTC)).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def endpoint_of(described: dict, region: str, tags, fallback_id=None, fallback_created=None) -> Endpoint:
    """An endpoint from DescribeVpcEndpoints' shape: PascalCase from the API, camelCase in Config's items."""

    def get(key: str):
        return described.get(key, described.get(key[0].upper() + key[1:]))

    state, subnets, service_region = get("state"), get("subnetIds"), text(get("serviceRegion"))
    state = state.get("value") if isinstance(state, dict) else state  # Config's schema shows {value: ...}
    return Endpoint(
        get("vpcEndpointId") or fallback_id,
        get("vpcEndpointType"),
        get("serviceName"),
        get("vpcId"),
        text(state).lower(),
        get("requesterManaged") in (True, "true"),
        moment(get("creationTimestamp") or fallback_created),
        len({s for s in subnets if isinstance(s, str)}) if isinstance(subnets, list) else 0,
        f"{region} to {service_region}" if region and service_region not in ("", region) else "",
        tags,
    )


def recorded_endpoint(item: dict) -> Endpoint:
    """The endpoint as a configuration item records it (change notifications, a scan's items)."""
    region, tags = text(item.get("awsRegion")), item.get("tags")
    return endpoint_of(configuration_of(item), region, tags, item.get("resourceId"), item.get("resourceCreationTime"))


def listed_endpoint(found: dict, region: str) -> Endpoint:
    """The endpoint as DescribeVpcEndpoints answers it (the sweep)."""
    return endpoint_of(found, region, {tag["Key"]: tag.get("Value", "") for tag in found.get("Tags") or ()})


def names_its_metric(endpoint: Endpoint) -> bool:
    """Whether the endpoint id, VPC id and service name, the metric's dimension values, are all known."""
    values = (endpoint.endpoint_id, endpoint.vpc_id, endpoint.service)
    shape = r"vpce-[0-9a-f]{8,17} vpc-[0-9a-f]{8,17} \S+"
    return all(isinstance(v, str) for v in values) and re.fullmatch(shape, " ".join(values)) is not None


def not_applicable_reason(endpoint: Endpoint, params: Params, now: datetime) -> str | None:
    """Why the endpoint is not judged, known without an API call (the first that applies), or None."""
    exemption, age = exemption_of(params.exemption_tag, endpoint.tags, now.date()), now - (endpoint.created or now)
    reasons = (
        (exemption and exemption.in_force, exemption and exemption.reason("endpoint")),
        (endpoint.requester_managed, "Requester-managed endpoint: the AWS service that created it owns it."),
        (endpoint.state != "available", f"The endpoint is {endpoint.state or 'in no known state'}, not available."),
        (
            endpoint.endpoint_type != CHECKED_TYPE,
            f"Endpoint type {endpoint.endpoint_type} is not checked: the rule judges Interface endpoints.",
        ),
        (
            any(fnmatch.fnmatchcase(text(endpoint.service), pattern) for pattern in params.excluded_services),
            f"Service {endpoint.service} is in ExcludedServiceNames.",
        ),
        (endpoint.cross_region, f"Cross-Region endpoint ({endpoint.cross_region}): PrivateLink publishes no metrics."),
        (endpoint.created is None, "The endpoint's creation time is unknown, so its IdleDays window is too."),
        (
            age < timedelta(days=params.idle_days),
            f"The endpoint is {max(age.days, 0)} day(s) old, younger than IdleDays ({params.idle_days}).",
        ),
        (not names_its_metric(endpoint), "The item names no endpoint id, VPC id and service: its metric is unknown."),
    )
    return next((reason for applies, reason in reasons if applies), None)


def judge(endpoint: Endpoint, params: Params, now: datetime, traffic: dict) -> Verdict:
    """Pure: the verdict from the endpoint and its traffic (bytes, or an unjudged query's status), with its waiver."""
    exemption = exemption_of(params.exemption_tag, endpoint.tags, now.date())
    return judge_traffic(endpoint, params, now, traffic).noted(exemption)


def judge_traffic(endpoint: Endpoint, params: Params, now: datetime, traffic: dict) -> Verdict:
    reason = not_applicable_reason(endpoint, params, now)
    if reason:
        return Verdict(ComplianceType.NOT_APPLICABLE, reason)
    found = traffic.get(endpoint.endpoint_id, 0.0)
    if isinstance(found, str):
        return Verdict(ComplianceType.NOT_APPLICABLE, f"CloudWatch answered {found} for its {METRIC}: not judged.")
    window = f"in the last {params.idle_days} day(s)"
    if found > params.max_bytes:
        return Verdict(ComplianceType.COMPLIANT, f"The endpoint processed {found:,.0f} bytes {window}.")
    monthly = endpoint.az_count * params.hourly_cost * HOURS_PER_MONTH
    return Verdict(
        ComplianceType.NON_COMPLIANT,
        f"The endpoint processed {found:,.0f} bytes {window} (MaxIdleBytes {params.max_bytes:,}): idle. "
        f"Its {endpoint.az_count} AZ(s) bill about ${monthly:,.2f} a month "
        f"({endpoint.az_count} x ${params.hourly_cost:g}/AZ-hour x {HOURS_PER_MONTH} h).",
    )


def metric_query(query_id: str, endpoint: Endpoint) -> dict:
    """The endpoint's BytesProcessed, daily sums, named by every dimension PrivateLink publishes it with."""
    values = (endpoint.endpoint_type, endpoint.service, endpoint.endpoint_id, endpoint.vpc_id)
    dimensions = [{"Name": name, "Value": value} for name, value in zip(DIMENSIONS, values, strict=True)]
    metric = {"Namespace": NAMESPACE, "MetricName": METRIC, "Dimensions": dimensions}
    return {"Id": query_id, "MetricStat": {"Metric": metric, "Period": PERIOD_SECONDS, "Stat": "Sum"}}


def queries_per_call(idle_days: int) -> int:
    """Queries a GetMetricData call can carry: 500, or fewer when their IdleDays + 1 daily points pass 100,800."""
    return min(QUERIES_PER_CALL, DATAPOINTS_PER_CALL // (idle_days + 1))


def fetch_traffic(client, endpoints: list[Endpoint], idle_days: int, now: datetime) -> dict:
    """Endpoint id -> bytes processed in the window (no data point: 0), or the status of an unjudged query."""
    end = now.replace(second=0, microsecond=0)
    start, size, traffic = end - timedelta(days=idle_days), queries_per_call(idle_days), {}
    for offset in range(0, len(endpoints), size):
        chunk = endpoints[offset : offset + size]
        totals, statuses = [0.0] * len(chunk), [""] * len(chunk)
        queries = [metric_query(f"e{index}", endpoint) for index, endpoint in enumerate(chunk)]
        paginator = client.get_paginator("get_metric_data")
        for page in paginator.paginate(MetricDataQueries=queries, StartTime=start, EndTime=end):
            for result in page["MetricDataResults"]:
                index = int(result["Id"][1:])
                totals[index] += sum(result.get("Values") or ())
                statuses[index] = result.get("StatusCode", "")
        for endpoint, total, status in zip(chunk, totals, statuses, strict=True):
            traffic[endpoint.endpoint_id] = status if status in UNJUDGED_STATUSES else total
    return traffic


def verdicts(client_factory, endpoints: list[Endpoint], params: Params) -> list[Verdict]:
    """Each endpoint's verdict; CloudWatch is asked only about the endpoints no other reason settles."""
    now = utc_now()
    measured = [e for e in endpoints if not_applicable_reason(e, params, now) is None]
    cloudwatch = client_factory.build_client("cloudwatch") if measured else None  # none for NOT_APPLICABLE ones
    traffic = fetch_traffic(cloudwatch, measured, params.idle_days, now)
    return [judge(endpoint, params, now, traffic) for endpoint in endpoints]


def evaluations(resource_ids: list, found: list[Verdict]) -> list[Evaluation]:
    return [
        Evaluation(verdict.compliance, resource_id, APPLICABLE_RESOURCES[0], fit_annotation(verdict.annotation))
        for resource_id, verdict in zip(resource_ids, found, strict=True)
    ]


class VPC_ENDPOINT_IDLE_CHECK(ConfigRule):
    delete_old_evaluations_on_scheduled_notification = False

    def evaluate_parameters(self, rule_parameters):
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = verdicts(client_factory, [recorded_endpoint(configuration_item)], valid_rule_parameters)[0]
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        client = client_factory.build_client("ec2")
        pages = client.get_paginator("describe_vpc_endpoints").paginate(PaginationConfig={"PageSize": DESCRIBE_PAGE})
        region = client.meta.region_name
        endpoints = [listed_endpoint(found, region) for page in pages for found in page["VpcEndpoints"]]
        return evaluations(
            [e.endpoint_id for e in endpoints], verdicts(client_factory, endpoints, valid_rule_parameters)
        )

    def evaluate_items(self, client_factory, configuration_items, valid_rule_parameters):
        """Many recorded items at once (rdkpack scan): their GetMetricData queries batched."""
        endpoints = [recorded_endpoint(item) for item in configuration_items]
        found = verdicts(client_factory, endpoints, valid_rule_parameters)
        return evaluations([item.get("resourceId") for item in configuration_items], found)


def lambda_handler(event, context):
    return handle_event(VPC_ENDPOINT_IDLE_CHECK(), APPLICABLE_RESOURCES, event, context)
