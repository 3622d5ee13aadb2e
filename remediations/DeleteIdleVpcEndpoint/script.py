"""Delete an idle interface VPC endpoint, only with explicit approval: read, plan, apply, verify.

Deleting cannot be undone in place. The script re-reads the endpoint and re-measures its traffic
(CloudWatch BytesProcessed over IdleDays, the rule's own query) right before acting, and refuses an
endpoint that carried more than MaxIdleBytes bytes meanwhile. It deletes only with
ApproveDeletion=true; without it a run fails with the blast radius and changes nothing. DryRun=true
returns the plan whatever ApproveDeletion says, since it changes nothing. Every plan, refusal and
result carries the recreate spec: the CreateVpcEndpoint request that builds an equivalent endpoint
(with a new id, new network interfaces, IP addresses and endpoint DNS names). An endpoint already
deleted or being deleted is NO_CHANGE; after DeleteVpcEndpoints the script verifies the endpoint is
deleting or gone.

Embedded verbatim in DeleteIdleVpcEndpoint.yaml (aws:executeScript, python3.11).
The IAM the automation role needs is IAM_PERMISSIONS below.
"""

import datetime
import fnmatch
import json
import re
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The automation role's IAM, (action, resource): rdkpack builds the role and checks the document from it.
IAM_PERMISSIONS = (
    ("ec2:DescribeVpcEndpoints", "*"),
    ("cloudwatch:GetMetricData", "*"),
    ("ec2:DeleteVpcEndpoints", "vpc endpoint in a pack that attaches the remediation, without its exemption tag"),
)
NAMESPACE, METRIC = "AWS/PrivateLinkEndpoints", "BytesProcessed"
DIMENSIONS = ("Endpoint Type", "Service Name", "VPC Endpoint Id", "VPC Id")  # exactly as PrivateLink publishes
PERIOD_SECONDS = 86_400
MAX_IDLE_DAYS = 455  # CloudWatch keeps 1-hour data points for 455 days
MAX_IDLE_BYTES = 10**15  # a petabyte in the window is never "idle"
# MaxIdleBytes is an SSM String (whether SSM's Integer holds 10**15 is undocumented): ASCII digits as the rule reads
# them, at most 30 with leading zeros allowed. With the bounds, the document's allowedPattern accepts exactly these.
DIGITS = re.compile(r"[0-9]{1,30}")
HOURLY_COST_PER_AZ, HOURS_PER_MONTH = 0.01, 730
GONE_STATES = ("deleted", "deleting")
EXPIRES = "expires="  # the word in the exemption tag's value that ends the waiver, as the rule reads it


class RemediationError(Exception):
    """The remediation failed: a write AWS refused, a change it could not verify, or a read it needed (the message
    says what changed). A refusal before any write is the subclass RemediationRefused."""


class RemediationRefused(RemediationError):
    """The remediation refused to act before any write (unsafe, not approved, or nothing it can fix): nothing was
    changed. rdkpack remediate reports it as REFUSED, apart from a failure."""


@dataclass(frozen=True)
class Endpoint:
    endpoint_id: str
    endpoint_type: str
    state: str
    requester_managed: bool
    vpc_id: str
    service: str
    subnet_ids: tuple
    private_dns: bool
    created: object  # datetime, or None when DescribeVpcEndpoints gives none
    service_region: str
    described: dict  # the DescribeVpcEndpoints answer, for the recreate spec


@dataclass(frozen=True)
class Plan:
    endpoint: Endpoint
    bytes_processed: float
    idle_days: int
    recreate: dict  # CreateVpcEndpoint parameters

    @property
    def monthly_saving(self) -> float:
        return round(len(self.endpoint.subnet_ids) * HOURLY_COST_PER_AZ * HOURS_PER_MONTH, 2)


def ec2_client():
    return boto3.client("ec2", config=BOTO_CONFIG)


def cloudwatch_client():
    return boto3.client("cloudwatch", config=BOTO_CONFIG)


def as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def parse_count(value, name: str, minimum: int, maximum: int) -> int:
    """An SSM Integer parameter (it may arrive as a string or a float) within bounds."""
    number = whole_number(value)
    if number is None or not minimum <= number <= maximum:
        raise RemediationRefused(f"{name} must be an integer from {minimum} to {maximum}, got {value!r}.")
    return number


def parse_digits(value, name: str, minimum: int, maximum: int) -> int:
    """An SSM String parameter of ASCII digits within bounds: no sign, space, fraction, exponent or separator."""
    if isinstance(value, str) and DIGITS.fullmatch(value):
        return parse_count(value, name, minimum, maximum)
    raise RemediationRefused(f"{name} must be an integer from {minimum} to {maximum} in digits, got {value!r}.")


def whole_number(value) -> int | None:
    """An SSM Integer as it may arrive (3, "3", 3.0 or "3.0") as an int; None for a fraction, inf, nan or text."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    try:
        return int(text)  # exact, where float would round above 2**53
    except ValueError:
        pass
    try:
        number = float(text)
    except ValueError:
        return None
    return int(number) if number.is_integer() else None


def parse_exemption(value) -> tuple:
    """The rule's ExemptionTag syntax, "key" or "key=value", as (key, value or None); ("", None) for none."""
    text = str(value or "").strip()
    key, _, tag_value = text.partition("=")
    return (key.strip(), tag_value.strip() if "=" in text else None)


def parse_patterns(value) -> tuple:
    """The rule's ExcludedServiceNames syntax: comma-separated glob patterns."""
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def parse_expiry(text: str):
    """A YYYY-MM-DD calendar date in ASCII digits, or None."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
        return None
    try:
        return datetime.date(int(text[:4]), int(text[5:7]), int(text[8:]))
    except ValueError:
        return None


def exempt_until(exemption: tuple, tags: dict, today: datetime.date):
    """Whether the rule's ExemptionTag exempts the endpoint on `today`, read as the rule reads it: None when it does
    not; else its expiry (YYYY-MM-DD), or "" for a tag with none. With `key=value` the tag's value must begin with
    that value's words; the first `expires=YYYY-MM-DD` word (any case) ends the exemption after that UTC date, and
    an expiry that is no date exempts nothing."""
    key, value = exemption
    if not key or key not in tags:
        return None
    words = str(tags[key] or "").split()
    if value is not None:
        wanted = value.split()
        if words[: len(wanted)] != wanted:
            return None
        words = words[len(wanted) :]
        if not wanted and words and not words[0].lower().startswith(EXPIRES):
            return None  # `key=`: the value must be empty, or begin with its expiry
    raw = next((word[len(EXPIRES) :] for word in words if word.lower().startswith(EXPIRES)), None)
    if raw is None:
        return ""
    expires = parse_expiry(raw)
    return raw if expires is not None and today <= expires else None


def check_not_excluded(endpoint: Endpoint, exemption: tuple, patterns: tuple, today=None) -> None:
    """Refuse an endpoint the rule leaves alone, whatever role runs the document (IAM denies only the
    attached role, and only for the exemption tag): one whose exemption tag is in force on `today` (default: the
    UTC date now), or whose service is excluded."""
    key, value = exemption
    tags = {tag["Key"]: tag.get("Value", "") for tag in endpoint.described.get("Tags") or ()}
    until = exempt_until(exemption, tags, today or datetime.datetime.now(datetime.timezone.utc).date())
    if until is not None:
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} carries the exemption tag {key}"
            f"{'' if value is None else '=' + value}{f' until {until}' if until else ''}: it is not deleted. "
            "Nothing was changed."
        )
    matched = next((pattern for pattern in patterns if fnmatch.fnmatchcase(endpoint.service, pattern)), None)
    if matched:
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} serves {endpoint.service}, which ExcludedServiceNames excludes "
            f"({matched}): it is not deleted. Nothing was changed."
        )


def read(client, endpoint_id: str):
    """The endpoint, or None when it no longer exists."""
    try:
        found = client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    except ClientError as error:
        if error.response["Error"]["Code"] in ("InvalidVpcEndpointId.NotFound", "InvalidVpcEndpoint.NotFound"):
            return None
        raise
    if not found:
        return None
    described = found[0]
    return Endpoint(
        endpoint_id=described["VpcEndpointId"],
        endpoint_type=described.get("VpcEndpointType", ""),
        state=str(described.get("State", "")).lower(),
        requester_managed=bool(described.get("RequesterManaged")),
        vpc_id=described.get("VpcId", ""),
        service=described.get("ServiceName", ""),
        subnet_ids=tuple(sorted(described.get("SubnetIds") or ())),
        private_dns=bool(described.get("PrivateDnsEnabled")),
        created=described.get("CreationTimestamp"),
        service_region=described.get("ServiceRegion") or "",
        described=described,
    )


def check_can_delete(endpoint: Endpoint, idle_days: int, now: datetime.datetime, region: str) -> None:
    """Refuse what the rule does not judge idle: another type, requester-managed, unavailable, unmeasurable."""
    name = f"VPC endpoint {endpoint.endpoint_id}"
    if endpoint.endpoint_type != "Interface":
        raise RemediationRefused(f"{name} is of type {endpoint.endpoint_type}; only Interface endpoints are deleted.")
    if endpoint.requester_managed:
        raise RemediationRefused(f"{name} is requester-managed: the AWS service that created it owns it.")
    if endpoint.state != "available":
        raise RemediationRefused(f"{name} is {endpoint.state}, not available. Run the remediation again later.")
    if endpoint.service_region and endpoint.service_region != region:
        raise RemediationRefused(
            f"{name} serves {endpoint.service_region} from {region}: PrivateLink publishes no metrics for "
            "cross-Region endpoints, so its traffic cannot be measured."
        )
    created = endpoint.created
    if not isinstance(created, datetime.datetime) or now - created < datetime.timedelta(days=idle_days):
        raise RemediationRefused(
            f"{name} was created {created or 'at an unknown time'}, less than IdleDays ({idle_days}) ago "
            "as far as can be told: its traffic history is too short to call it idle."
        )


def metric_query(endpoint: Endpoint) -> dict:
    values = (endpoint.endpoint_type, endpoint.service, endpoint.endpoint_id, endpoint.vpc_id)
    dimensions = [{"Name": name, "Value": value} for name, value in zip(DIMENSIONS, values, strict=True)]
    metric = {"Namespace": NAMESPACE, "MetricName": METRIC, "Dimensions": dimensions}
    return {"Id": "bytes", "MetricStat": {"Metric": metric, "Period": PERIOD_SECONDS, "Stat": "Sum"}}


def fetch_bytes(client, endpoint: Endpoint, idle_days: int, now: datetime.datetime) -> float:
    """BytesProcessed over the last idle_days days; no data point means no traffic."""
    end = now.replace(second=0, microsecond=0)
    pages = client.get_paginator("get_metric_data").paginate(
        MetricDataQueries=[metric_query(endpoint)], StartTime=end - datetime.timedelta(days=idle_days), EndTime=end
    )
    total = 0.0
    for result in (result for page in pages for result in page["MetricDataResults"]):
        if result.get("StatusCode") in ("Forbidden", "InternalError"):
            raise RemediationError(
                f"CloudWatch answered {result['StatusCode']} for the {METRIC} of {endpoint.endpoint_id}: its "
                "traffic is unknown, so it is not deleted. Nothing was changed."
            )
        total += sum(result.get("Values") or ())
    return total


def recreate_spec(described: dict) -> dict:
    """Pure: the CreateVpcEndpoint request for an equivalent endpoint (AWS-reserved aws: tags left out)."""
    spec = {
        "VpcEndpointType": described["VpcEndpointType"],
        "VpcId": described["VpcId"],
        "ServiceName": described["ServiceName"],
        "SubnetIds": sorted(described.get("SubnetIds") or ()),
        "SecurityGroupIds": sorted(group["GroupId"] for group in described.get("Groups") or ()),
        "PrivateDnsEnabled": bool(described.get("PrivateDnsEnabled")),
    }
    for key in ("PolicyDocument", "IpAddressType"):
        if described.get(key):
            spec[key] = described[key]
    dns_options = {key: value for key, value in (described.get("DnsOptions") or {}).items() if value is not None}
    if dns_options:
        spec["DnsOptions"] = dns_options
    tags = [tag for tag in described.get("Tags") or () if not tag["Key"].startswith("aws:")]
    if tags:
        spec["TagSpecifications"] = [{"ResourceType": "vpc-endpoint", "Tags": tags}]
    return spec


def plan_change(endpoint: Endpoint, bytes_processed: float, idle_days: int, max_bytes: int) -> Plan:
    """Pure: the deletion, or a refusal when the endpoint carried traffic (it is not idle)."""
    if bytes_processed > max_bytes:
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} processed {bytes_processed:,.0f} bytes in the last {idle_days} "
            f"day(s), more than MaxIdleBytes ({max_bytes:,}): it is not idle, so it is not deleted. "
            "Nothing was changed."
        )
    return Plan(endpoint, bytes_processed, idle_days, recreate_spec(endpoint.described))


def blast_radius(plan: Plan) -> str:
    """What deleting takes away, for the plan, the refusal and the result."""
    endpoint = plan.endpoint
    dns = (
        "Private DNS is on: the service's default DNS name then resolves to its public endpoint, so calls from "
        f"{endpoint.vpc_id} go out through an internet or NAT gateway, or fail where the VPC has no egress"
        if endpoint.private_dns
        else "Private DNS is off: only clients that use the endpoint's own DNS names or IPs are affected"
    )
    return (
        f"Deleting {endpoint.endpoint_id} ({endpoint.service} in {endpoint.vpc_id}, {len(endpoint.subnet_ids)} "
        f"AZ(s)) removes its network interfaces and endpoint DNS names; it processed {plan.bytes_processed:,.0f} "
        f"bytes in the last {plan.idle_days} day(s). {dns}. Recreating it (RecreateSpec, CreateVpcEndpoint) gives a "
        "new endpoint id, IP addresses and DNS names"
    )


def apply(client, before: Endpoint) -> None:
    """Delete, after one more read: an endpoint that changed meanwhile is left for another run."""
    current = read(client, before.endpoint_id)
    if current is None or (current.state, current.subnet_ids) != (before.state, before.subnet_ids):
        raise RemediationError(
            f"VPC endpoint {before.endpoint_id} changed while the remediation ran; nothing was deleted. "
            "Run the remediation again."
        )
    failed = client.delete_vpc_endpoints(VpcEndpointIds=[before.endpoint_id]).get("Unsuccessful") or []
    if failed:
        error = failed[0].get("Error") or {}
        raise RemediationError(
            f"DeleteVpcEndpoints did not delete {before.endpoint_id}: {error.get('Code')}: {error.get('Message')}."
        )


def verify(client, endpoint_id: str) -> str:
    """The endpoint's state once DeleteVpcEndpoints returned: deleting or deleted (gone counts as deleted)."""
    after = read(client, endpoint_id)
    state = "deleted" if after is None else after.state
    if state not in GONE_STATES:
        raise RemediationError(f"VPC endpoint {endpoint_id} was asked to delete but is {state}.")
    return state


def summary(endpoint: Endpoint) -> dict:
    return {
        "State": endpoint.state,
        "VpcId": endpoint.vpc_id,
        "ServiceName": endpoint.service,
        "SubnetIds": list(endpoint.subnet_ids),
        "PrivateDnsEnabled": endpoint.private_dns,
    }


def output(endpoint_id: str, status: str, message: str, *, before: dict, after: dict, plan=None) -> dict:
    return {
        "VpcEndpointId": endpoint_id,
        "Status": status,
        "Message": message,
        "BytesProcessed": None if plan is None else plan.bytes_processed,
        "EstimatedMonthlySavingUsd": 0.0 if plan is None else plan.monthly_saving,
        "RecreateSpec": {} if plan is None else plan.recreate,
        "Changes": [] if plan is None else [f"delete VPC endpoint {endpoint_id} ({plan.endpoint.service})"],
        "Before": before,
        "After": after,
    }


def handler(events, context):
    endpoint_id = str(events["VpcEndpointId"]).strip()
    idle_days = parse_count(events.get("IdleDays", 30), "IdleDays", 1, MAX_IDLE_DAYS)
    max_bytes = parse_digits(events.get("MaxIdleBytes", "0"), "MaxIdleBytes", 0, MAX_IDLE_BYTES)
    approved = as_bool(events.get("ApproveDeletion", False))
    client = ec2_client()
    endpoint = read(client, endpoint_id)
    if endpoint is None or endpoint.state in GONE_STATES:
        state = {"State": "deleted" if endpoint is None else endpoint.state}
        where = client.meta.region_name
        message = (
            f"VPC endpoint {endpoint_id} is already {state['State']}."
            if endpoint
            else f"VPC endpoint {endpoint_id} is not found in {where}: deleted, or in another region or account."
        )
        return output(endpoint_id, "NO_CHANGE", message, before=state, after=state)
    now = datetime.datetime.now(datetime.timezone.utc)
    exemption, patterns = parse_exemption(events.get("ExemptionTag")), events.get("ExcludedServiceNames")
    check_not_excluded(endpoint, exemption, parse_patterns(patterns), now.date())
    check_can_delete(endpoint, idle_days, now, client.meta.region_name)
    bytes_processed = fetch_bytes(cloudwatch_client(), endpoint, idle_days, now)
    plan = plan_change(endpoint, bytes_processed, idle_days, max_bytes)
    radius, before = blast_radius(plan), summary(endpoint)
    if as_bool(events.get("DryRun", False)):
        needs = "" if approved else " A run that deletes needs ApproveDeletion=true."
        message = f"Would delete: {radius}.{needs}"
        return output(endpoint_id, "DRY_RUN", message, before=before, after={"State": "deleted"}, plan=plan)
    if not approved:
        raise RemediationRefused(
            f"{radius}. Deleting needs ApproveDeletion=true: review the blast radius and the recreate spec "
            f"{json.dumps(plan.recreate, sort_keys=True)}, then re-run with ApproveDeletion=true. Nothing was changed."
        )
    apply(client, endpoint)
    state = verify(client, endpoint_id)
    message = f"Deleted (the endpoint is {state}): {radius}."
    return output(endpoint_id, "CHANGED", message, before=before, after={"State": state}, plan=plan)
