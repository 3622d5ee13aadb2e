"""ReduceVpcEndpointAzCount: pure choice of subnets, the full loop through the committed document on moto, races and
waits with Stubber (script-level: the Stubber replaces the script's own client factory)."""

from __future__ import annotations

import boto3
import botocore.session
import pytest

from tests.support.automation import refusal, run_document
from tests.support.project import load_remediation_script

script = load_remediation_script("ReduceVpcEndpointAzCount")

SSM = "com.amazonaws.us-east-1.ssm"


def subnet(letter, az_id):
    return script.Subnet(f"subnet-{letter}", f"us-east-1{letter}", az_id)


A, B, C = subnet("a", "use1-az6"), subnet("b", "use1-az1"), subnet("c", "use1-az2")


@pytest.mark.parametrize(
    ("max_azs", "keep_first", "kept"),
    [
        pytest.param(1, (), (B,), id="lowest-az-id"),
        pytest.param(2, (), (B, C), id="two-lowest"),
        pytest.param(1, ("us-east-1c",), (C,), id="preferred-name"),
        pytest.param(1, ("use1-az6",), (A,), id="preferred-id"),
        pytest.param(2, ("us-east-1a",), (A, B), id="preferred-then-lowest"),
        pytest.param(2, ("us-east-1c", "use1-az6"), (C, A), id="preference-order"),
        pytest.param(1, ("us-west-2a",), (B,), id="unknown-preference-ignored"),
    ],
)
def test_plan_keeps_preferred_then_lowest_az_ids(max_azs, keep_first, kept):
    plan = script.plan_change([A, B, C], max_azs, keep_first)
    assert plan.keep == kept
    assert set(plan.remove) == {A, B, C} - set(kept)
    assert plan.monthly_saving == round((3 - max_azs) * 7.3, 2)


def test_plan_never_removes_the_last_subnet():
    assert script.plan_change([A, B], 0, ()).keep == (B,)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        *((value, "MaxAzCount must be at least 1") for value in ("0", "-1", 0)),
        *((value, "MaxAzCount must be an integer >= 1") for value in ("two", "", "1.5", 1.5, "inf", "nan", True)),
    ],
)
def test_max_az_count_below_one_or_not_a_whole_number_is_refused(value, message):
    with pytest.raises(script.RemediationError, match=message):
        script.parse_max_az_count(value)


@pytest.mark.parametrize("value", [2, "2", 2.0, "2.0"])
def test_max_az_count_accepts_what_ssm_may_pass(value):
    assert script.parse_max_az_count(value) == 2


# ---- the full loop: the committed document run as SSM runs it, against moto ----


@pytest.fixture
def network(aws):
    ec2 = boto3.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = {
        az[-1]: ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=az)["Subnet"]["SubnetId"]
        for i, az in enumerate(("us-east-1a", "us-east-1b", "us-east-1c"))
    }

    def endpoint(letters="abc", endpoint_type="Interface"):
        spec = {"VpcId": vpc, "ServiceName": SSM, "VpcEndpointType": endpoint_type}
        if endpoint_type == "Interface":
            spec["SubnetIds"] = [subnets[letter] for letter in letters]
        return ec2.create_vpc_endpoint(**spec)["VpcEndpoint"]["VpcEndpointId"]

    return ec2, subnets, endpoint


def subnets_of(ec2, endpoint_id):
    return sorted(ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["SubnetIds"])


def parameters(endpoint_id, max_azs=1, keep="", dry_run=False):
    return {"VpcEndpointId": endpoint_id, "MaxAzCount": max_azs, "KeepAvailabilityZones": keep, "DryRun": dry_run}


def run(endpoint_id, **given):
    """The document's output, its parameters sent as strings as AWS Config and the console send them."""
    return run_document("ReduceVpcEndpointAzCount", **parameters(endpoint_id, **given))


def refused(endpoint_id, **given):
    """The failed execution's message."""
    return refusal("ReduceVpcEndpointAzCount", **parameters(endpoint_id, **given))


def run_script(endpoint_id, **given):
    """script.py's handler itself, for the Stubber tests (they patch its client factory)."""
    return script.handler(parameters(endpoint_id, **given), None)


def test_endpoint_in_three_azs_is_reduced_to_the_lowest_az_id_and_verified(network):
    ec2, subnets, endpoint = network
    endpoint_id = endpoint()
    result = run(endpoint_id)
    assert subnets_of(ec2, endpoint_id) == [subnets["b"]]
    assert result == {
        "VpcEndpointId": endpoint_id,
        "Status": "CHANGED",
        "Message": "Removed the subnets in us-east-1c, us-east-1a.",
        "AvailabilityZonesBefore": ["us-east-1a", "us-east-1b", "us-east-1c"],
        "AvailabilityZonesAfter": ["us-east-1b"],
        "SubnetsBefore": sorted(subnets.values()),
        "SubnetsAfter": [subnets["b"]],
        "SubnetsRemoved": sorted([subnets["a"], subnets["c"]]),
        "EstimatedMonthlySavingUsd": 14.6,
        "Changes": [f"remove subnet {subnets['c']} (us-east-1c)", f"remove subnet {subnets['a']} (us-east-1a)"],
        "Before": {
            "AvailabilityZones": ["us-east-1a", "us-east-1b", "us-east-1c"],
            "Subnets": sorted(subnets.values()),
        },
        "After": {"AvailabilityZones": ["us-east-1b"], "Subnets": [subnets["b"]]},
    }
    assert run(endpoint_id)["Status"] == "NO_CHANGE"


def test_preferred_azs_are_kept_first(network):
    ec2, subnets, endpoint = network
    endpoint_id = endpoint()
    run(endpoint_id, max_azs="2", keep="us-east-1c,use1-az6")
    assert subnets_of(ec2, endpoint_id) == sorted([subnets["c"], subnets["a"]])


def test_endpoint_within_the_maximum_is_left_alone(network):
    ec2, subnets, endpoint = network
    endpoint_id = endpoint("ab")
    result = run(endpoint_id, max_azs=2)
    assert (result["Status"], result["EstimatedMonthlySavingUsd"]) == ("NO_CHANGE", 0.0)
    assert subnets_of(ec2, endpoint_id) == sorted([subnets["a"], subnets["b"]])


def test_dry_run_reports_the_plan_and_changes_nothing(network):
    ec2, subnets, endpoint = network
    endpoint_id = endpoint()
    result = run(endpoint_id, dry_run=True)
    assert (result["Status"], result["SubnetsAfter"]) == ("DRY_RUN", [subnets["b"]])
    assert subnets_of(ec2, endpoint_id) == sorted(subnets.values())


def test_gateway_endpoint_fails_clearly(network):
    _, _, endpoint = network
    assert "of type Gateway; only Interface endpoints" in refused(endpoint(endpoint_type="Gateway"))


# Every VpcEndpointType in botocore's EC2 model but Interface: Gateway, GatewayLoadBalancer, Resource, ServiceNetwork,
# Tunnel (and any type AWS adds). The rule checks them only where EndpointTypes names them; this never reduces them.
OTHER_TYPES = [
    t
    for t in botocore.session.get_session().get_service_model("ec2").shape_for("VpcEndpointType").enum
    if t != "Interface"
]


@pytest.mark.parametrize("endpoint_type", OTHER_TYPES)
def test_only_interface_endpoints_are_reduced(endpoint_type):
    assert "Tunnel" in OTHER_TYPES
    endpoint = script.Endpoint("vpce-0123456789abcdef0", endpoint_type, "available", False, ("subnet-a", "subnet-b"))
    with pytest.raises(script.RemediationError, match=f"is of type {endpoint_type}; only Interface endpoints"):
        script.check_can_modify(endpoint)


def test_missing_endpoint_fails_clearly(network):
    assert "vpce-0123456789abcdef0 does not exist; nothing was changed" in refused("vpce-0123456789abcdef0")


def test_max_az_count_of_zero_fails_and_changes_nothing(network):
    ec2, subnets, endpoint = network
    endpoint_id = endpoint()
    assert "MaxAzCount must be at least 1" in refused(endpoint_id, max_azs=0)
    assert subnets_of(ec2, endpoint_id) == sorted(subnets.values())


# ---- races and settling, where moto answers instantly: Stubber ----


def described(subnet_ids, state="available", requester_managed=False):
    return {
        "VpcEndpoints": [
            {
                "VpcEndpointId": "vpce-0123456789abcdef0",
                "VpcEndpointType": "Interface",
                "State": state,
                "RequesterManaged": requester_managed,
                "SubnetIds": list(subnet_ids),
            }
        ]
    }


SUBNETS = {
    "Subnets": [
        {"SubnetId": s.subnet_id, "AvailabilityZone": s.az_name, "AvailabilityZoneId": s.az_id} for s in (A, B, C)
    ]
}
ALL = ["subnet-a", "subnet-b", "subnet-c"]


@pytest.fixture
def stubbed(stub_client, monkeypatch):
    monkeypatch.setattr(script, "SETTLE_DELAY_SECONDS", 0)
    return stub_client(script, "ec2_client", "ec2")


def expect_describe(stub, subnet_ids, state="available", requester_managed=False):
    stub.add_response(
        "describe_vpc_endpoints",
        described(subnet_ids, state, requester_managed),
        {"VpcEndpointIds": ["vpce-0123456789abcdef0"]},
    )


def test_waits_for_the_endpoint_to_settle_before_verifying(stubbed):
    expect_describe(stubbed, ALL)
    stubbed.add_response("describe_subnets", SUBNETS, {"SubnetIds": ALL})
    expect_describe(stubbed, ALL)
    stubbed.add_response(
        "modify_vpc_endpoint",
        {"Return": True},
        {"VpcEndpointId": "vpce-0123456789abcdef0", "RemoveSubnetIds": ["subnet-c", "subnet-a"]},
    )
    expect_describe(stubbed, ["subnet-b"], state="pending")
    expect_describe(stubbed, ["subnet-b"])
    assert run_script("vpce-0123456789abcdef0")["Status"] == "CHANGED"


def test_concurrent_change_between_read_and_write_is_not_overwritten(stubbed):
    expect_describe(stubbed, ALL)
    stubbed.add_response("describe_subnets", SUBNETS, {"SubnetIds": ALL})
    expect_describe(stubbed, ["subnet-a", "subnet-b"])
    with pytest.raises(script.RemediationError, match="changed while the remediation ran; nothing was changed"):
        run_script("vpce-0123456789abcdef0")


def test_requester_managed_endpoint_fails_and_changes_nothing(stubbed):
    expect_describe(stubbed, ALL, requester_managed=True)
    with pytest.raises(script.RemediationError, match="requester-managed"):
        run_script("vpce-0123456789abcdef0")


def test_endpoint_that_is_not_available_fails_and_changes_nothing(stubbed):
    expect_describe(stubbed, ALL, state="pending")
    with pytest.raises(script.RemediationError, match="is pending, not available"):
        run_script("vpce-0123456789abcdef0")


def test_verification_fails_when_the_endpoint_fails(stubbed):
    expect_describe(stubbed, ALL)
    stubbed.add_response("describe_subnets", SUBNETS, {"SubnetIds": ALL})
    expect_describe(stubbed, ALL)
    stubbed.add_response("modify_vpc_endpoint", {"Return": True})
    expect_describe(stubbed, ALL, state="failed")
    with pytest.raises(script.RemediationError, match="did not reach subnets"):
        run_script("vpce-0123456789abcdef0")
