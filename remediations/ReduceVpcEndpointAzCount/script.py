"""Remove subnets (AZs) from an interface VPC endpoint down to a maximum: read, plan, apply, verify.

Embedded verbatim in ReduceVpcEndpointAzCount.yaml (aws:executeScript, python3.11).
The IAM the automation role needs is IAM_PERMISSIONS below.
"""

import time
from dataclasses import dataclass

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

BOTO_CONFIG = Config(retries={"mode": "standard", "max_attempts": 10})
# The automation role's IAM, (action, resource): rdkpack builds the role and checks the document from it.
IAM_PERMISSIONS = (
    ("ec2:DescribeVpcEndpoints", "*"),
    ("ec2:DescribeSubnets", "*"),
    ("ec2:ModifyVpcEndpoint", "vpc endpoint"),
    ("ec2:ModifyVpcEndpoint", "subnet"),
)
HOURLY_COST_PER_AZ = 0.01
HOURS_PER_MONTH = 730
SETTLE_ATTEMPTS = 40
SETTLE_DELAY_SECONDS = 10


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
    subnet_ids: tuple


@dataclass(frozen=True)
class Subnet:
    subnet_id: str
    az_name: str
    az_id: str


@dataclass(frozen=True)
class Plan:
    keep: tuple  # Subnet, in keeping order
    remove: tuple  # Subnet

    @property
    def monthly_saving(self) -> float:
        return round(len(self.remove) * HOURLY_COST_PER_AZ * HOURS_PER_MONTH, 2)


def ec2_client():
    return boto3.client("ec2", config=BOTO_CONFIG)


def as_bool(value) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def parse_max_az_count(value) -> int:
    count = whole_number(value)
    if count is None:
        raise RemediationRefused(f"MaxAzCount must be an integer >= 1, got {value!r}.")
    if count < 1:
        raise RemediationRefused(f"MaxAzCount must be at least 1 (an endpoint keeps its last subnet), got {value!r}.")
    return count


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


def parse_keep_list(value) -> tuple:
    return tuple(item.strip() for item in str(value or "").split(",") if item.strip())


def read(client, endpoint_id: str) -> Endpoint:
    try:
        endpoints = client.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "InvalidVpcEndpointId.NotFound":
            raise RemediationRefused(f"VPC endpoint {endpoint_id} does not exist; nothing was changed.") from error
        raise
    if not endpoints:
        raise RemediationRefused(f"VPC endpoint {endpoint_id} does not exist; nothing was changed.")
    found = endpoints[0]
    return Endpoint(
        endpoint_id=found["VpcEndpointId"],
        endpoint_type=found.get("VpcEndpointType", ""),
        state=str(found.get("State", "")).lower(),
        requester_managed=bool(found.get("RequesterManaged")),
        subnet_ids=tuple(found.get("SubnetIds") or ()),
    )


def read_subnets(client, subnet_ids: tuple) -> list:
    subnets = client.describe_subnets(SubnetIds=list(subnet_ids))["Subnets"]
    return [Subnet(s["SubnetId"], s["AvailabilityZone"], s.get("AvailabilityZoneId", "")) for s in subnets]


def check_can_modify(endpoint: Endpoint) -> None:
    if endpoint.endpoint_type != "Interface":
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} is of type {endpoint.endpoint_type}; only Interface endpoints "
            "are reduced. Nothing was changed."
        )
    if endpoint.requester_managed:
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} is requester-managed; the service that created it owns its "
            "subnets. Nothing was changed."
        )
    if endpoint.state != "available":
        raise RemediationRefused(
            f"VPC endpoint {endpoint.endpoint_id} is {endpoint.state}, not available; nothing was changed. "
            "Run the remediation again once it is available."
        )


def plan_change(subnets: list, max_az_count: int, keep_first: tuple) -> Plan:
    """Pure: keep the preferred AZs first, then the lowest AZ IDs; remove the rest."""

    def rank(subnet: Subnet):
        preferred = [i for i, name in enumerate(keep_first) if name in (subnet.az_name, subnet.az_id)]
        return (preferred[0] if preferred else len(keep_first), subnet.az_id, subnet.az_name, subnet.subnet_id)

    ordered = sorted(subnets, key=rank)
    keep = max(max_az_count, 1)
    return Plan(tuple(ordered[:keep]), tuple(ordered[keep:]))


def apply(client, before: Endpoint, plan: Plan) -> None:
    if read(client, before.endpoint_id).subnet_ids != before.subnet_ids:
        raise RemediationError(
            f"VPC endpoint {before.endpoint_id} changed while the remediation ran; nothing was changed. "
            "Run the remediation again."
        )
    client.modify_vpc_endpoint(VpcEndpointId=before.endpoint_id, RemoveSubnetIds=[s.subnet_id for s in plan.remove])


def verify(client, endpoint_id: str, plan: Plan) -> Endpoint:
    wanted = sorted(s.subnet_id for s in plan.keep)
    for _ in range(SETTLE_ATTEMPTS):
        after = read(client, endpoint_id)
        if after.state == "available" and sorted(after.subnet_ids) == wanted:
            return after
        if after.state in ("failed", "deleting", "deleted", "rejected"):
            break
        time.sleep(SETTLE_DELAY_SECONDS)
    raise RemediationError(
        f"VPC endpoint {endpoint_id} did not reach subnets {wanted}: it has {sorted(after.subnet_ids)} "
        f"in state {after.state}."
    )


def output(endpoint_id: str, status: str, subnets: list, plan: Plan | None, message: str) -> dict:
    removed = () if plan is None else plan.remove
    kept = [s for s in subnets if s not in removed]
    return {
        "VpcEndpointId": endpoint_id,
        "Status": status,
        "Message": message,
        "AvailabilityZonesBefore": sorted(s.az_name for s in subnets),
        "AvailabilityZonesAfter": sorted(s.az_name for s in kept),
        "SubnetsBefore": sorted(s.subnet_id for s in subnets),
        "SubnetsAfter": sorted(s.subnet_id for s in kept),
        "SubnetsRemoved": sorted(s.subnet_id for s in removed),
        "EstimatedMonthlySavingUsd": 0.0 if plan is None else plan.monthly_saving,
        "Changes": [f"remove subnet {s.subnet_id} ({s.az_name})" for s in removed],
        "Before": {
            "AvailabilityZones": sorted(s.az_name for s in subnets),
            "Subnets": sorted(s.subnet_id for s in subnets),
        },
        "After": {"AvailabilityZones": sorted(s.az_name for s in kept), "Subnets": sorted(s.subnet_id for s in kept)},
    }


def handler(events, context):
    endpoint_id = str(events["VpcEndpointId"]).strip()
    max_az_count = parse_max_az_count(events["MaxAzCount"])
    client = ec2_client()
    endpoint = read(client, endpoint_id)
    check_can_modify(endpoint)
    subnets = read_subnets(client, endpoint.subnet_ids)
    if len(subnets) <= max_az_count:
        return output(endpoint_id, "NO_CHANGE", subnets, None, f"The endpoint spans {len(subnets)} AZ(s).")
    plan = plan_change(subnets, max_az_count, parse_keep_list(events.get("KeepAvailabilityZones")))
    azs = ", ".join(s.az_name for s in plan.remove)
    if as_bool(events.get("DryRun", False)):
        return output(endpoint_id, "DRY_RUN", subnets, plan, f"Would remove the subnets in {azs}.")
    apply(client, endpoint, plan)
    verify(client, endpoint_id, plan)
    return output(endpoint_id, "CHANGED", subnets, plan, f"Removed the subnets in {azs}.")
