"""DeleteIdleVpcEndpoint: the pure plan and recreate spec, the full loop through the committed document on moto,
refusals and races with Stubber (script-level: the Stubber replaces the script's own client factories)."""

from __future__ import annotations

import dataclasses
import datetime
import json
import re

import boto3
import pytest
from botocore.stub import ANY
from botocore.validate import validate_parameters

from rdkpack.project import documents
from tests.support.automation import refusal, run_document
from tests.support.endpoint_account import idle_and_busy_endpoints
from tests.support.project import ROOT, load_remediation_script

script = load_remediation_script("DeleteIdleVpcEndpoint")

ENDPOINT, VPC = "vpce-0123456789abcdef0", "vpc-0123456789abcdef0"
SSM = "com.amazonaws.us-east-1.ssm"
NOW = datetime.datetime.now(datetime.UTC)
OLD = NOW - datetime.timedelta(days=90)


def described(state="available", created=OLD, **extra):
    """An endpoint as DescribeVpcEndpoints answers it, with everything the recreate spec reads."""
    return {
        "VpcEndpointId": ENDPOINT,
        "VpcEndpointType": "Interface",
        "VpcId": VPC,
        "ServiceName": SSM,
        "State": state,
        "SubnetIds": ["subnet-0000000000000000b", "subnet-0000000000000000a"],
        "Groups": [{"GroupId": "sg-0000000000000000b", "GroupName": "b"}, {"GroupId": "sg-0000000000000000a"}],
        "PrivateDnsEnabled": True,
        "PolicyDocument": '{"Statement": []}',
        "IpAddressType": "ipv4",
        "DnsOptions": {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": False},
        "RequesterManaged": False,
        "CreationTimestamp": created,
        "Tags": [{"Key": "team", "Value": "data"}, {"Key": "aws:cloudformation:stack-name", "Value": "net"}],
        **extra,
    }


def endpoint_of(found=None):
    return script.Endpoint(
        endpoint_id=ENDPOINT,
        endpoint_type="Interface",
        state="available",
        requester_managed=False,
        vpc_id=VPC,
        service=SSM,
        subnet_ids=("subnet-0000000000000000a", "subnet-0000000000000000b"),
        private_dns=True,
        created=OLD,
        service_region="",
        described=found or described(),
    )


# ---- pure: the plan, the recreate spec, the blast radius ----


def test_recreate_spec_is_a_create_vpc_endpoint_request_without_aws_tags():
    spec = script.recreate_spec(described())
    assert spec == {
        "VpcEndpointType": "Interface",
        "VpcId": VPC,
        "ServiceName": SSM,
        "SubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        "SecurityGroupIds": ["sg-0000000000000000a", "sg-0000000000000000b"],
        "PrivateDnsEnabled": True,
        "PolicyDocument": '{"Statement": []}',
        "IpAddressType": "ipv4",
        "DnsOptions": {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": False},
        "TagSpecifications": [{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "team", "Value": "data"}]}],
    }
    shape = boto3.client("ec2", region_name="us-east-1").meta.service_model.operation_model("CreateVpcEndpoint")
    validate_parameters(spec, shape.input_shape)  # raises when the spec is not a valid request


def test_plan_deletes_an_endpoint_at_or_under_max_idle_bytes():
    plan = script.plan_change(endpoint_of(), 10.0, 30, 10)
    assert (plan.bytes_processed, plan.idle_days, plan.monthly_saving) == (10.0, 30, 14.6)
    assert plan.recreate == script.recreate_spec(described())


def test_plan_refuses_an_endpoint_whose_traffic_appeared():
    with pytest.raises(script.RemediationError, match=r"processed 11 bytes .* more than MaxIdleBytes \(10\)"):
        script.plan_change(endpoint_of(), 11.0, 30, 10)


def test_blast_radius_names_private_dns_consequences_and_the_new_identity():
    text = script.blast_radius(script.plan_change(endpoint_of(), 0.0, 30, 0))
    assert text.startswith(f"Deleting {ENDPOINT} ({SSM} in {VPC}, 2 AZ(s)) removes its network interfaces")
    assert "Private DNS is on: the service's default DNS name then resolves to its public endpoint" in text
    assert "fail where the VPC has no egress" in text and "new endpoint id, IP addresses and DNS names" in text
    without_private_dns = dataclasses.replace(endpoint_of(), private_dns=False)
    text = script.blast_radius(script.plan_change(without_private_dns, 0.0, 30, 0))
    assert "Private DNS is off: only clients that use the endpoint's own DNS names or IPs are affected" in text


@pytest.mark.parametrize(("value", "expected"), [(30, 30), ("30", 30), (30.0, 30), ("455", 455)])
def test_idle_days_accepts_what_ssm_may_pass(value, expected):
    assert script.parse_count(value, "IdleDays", 1, 455) == expected


@pytest.mark.parametrize("value", ["0", "456", "thirty", "", "30.5", "inf", "-inf", "nan", "1e400", True])
def test_idle_days_outside_cloudwatch_retention_is_refused(value):
    with pytest.raises(script.RemediationError, match="IdleDays must be an integer from 1 to 455"):
        script.parse_count(value, "IdleDays", 1, 455)


DOCUMENT = documents.load_document(ROOT / "remediations" / "DeleteIdleVpcEndpoint")
MAX_IDLE_BYTES_SPEC = DOCUMENT["parameters"]["MaxIdleBytes"]
# What the rule's parse_int takes for MaxIdleBytes (ASCII digits, at most 30, 0 to 10**15) and what it refuses.
DIGIT_STRINGS = {
    "0": 0,
    "4096": 4096,
    str(10**15): 10**15,
    "0" * 30: 0,
    "0" * 14 + str(10**15): 10**15,
    "0" * 15 + "9" * 15: 10**15 - 1,
    "007": 7,
}
NOT_DIGIT_STRINGS = [
    str(10**15 + 1),
    "0" * 15 + str(10**15),  # 31 digits
    "0" * 31,
    "1e3",
    "1_000",
    "1,000",
    "+5",
    "-0",
    "5.0",
    " 5",
    "5 ",
    "5\n",
    "",
    "٣",  # a digit to int(), not to the rule
    "0x10",
]


def test_max_idle_bytes_is_a_string_of_digits_defaulting_to_the_rules_default():
    assert MAX_IDLE_BYTES_SPEC["type"] == "String", "SSM does not document whether its Integer type holds 10**15"
    assert MAX_IDLE_BYTES_SPEC["default"] == "0"
    assert script.parse_digits(MAX_IDLE_BYTES_SPEC["default"], "MaxIdleBytes", 0, script.MAX_IDLE_BYTES) == 0


@pytest.mark.parametrize(("value", "expected"), DIGIT_STRINGS.items())
def test_max_idle_bytes_takes_digits_up_to_the_rules_bound_exactly(value, expected):
    assert script.parse_digits(value, "MaxIdleBytes", 0, script.MAX_IDLE_BYTES) == expected
    assert re.search(MAX_IDLE_BYTES_SPEC["allowedPattern"], value), "the document's pattern takes it too"


@pytest.mark.parametrize("value", [*NOT_DIGIT_STRINGS, 10, 10**15, 10.0, True, None])
def test_max_idle_bytes_refuses_anything_but_a_string_of_digits_within_bounds(value):
    with pytest.raises(script.RemediationError) as refused:
        script.parse_digits(value, "MaxIdleBytes", 0, script.MAX_IDLE_BYTES)
    assert str(refused.value).startswith("MaxIdleBytes must be an integer from 0 to 1000000000000000")
    assert str(refused.value).endswith(f"got {value!r}.")
    if isinstance(value, str) and not value.endswith("\n"):  # `$` passes one final newline (Python, Java): not so here
        assert not re.search(MAX_IDLE_BYTES_SPEC["allowedPattern"], value), "the document's pattern refuses it too"


# ---- the full loop: the committed document run as SSM runs it, against moto (endpoints backdated in moto's
# backend, traffic in its CloudWatch) ----


@pytest.fixture
def endpoints(aws):
    return boto3.client("ec2"), idle_and_busy_endpoints(boto3.Session())


def state_of(ec2, endpoint_id):
    return ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["State"]


def parameters(endpoint_id, approve=True, dry_run=False, **extra):
    return {"VpcEndpointId": endpoint_id, "ApproveDeletion": approve, "DryRun": dry_run, **extra}


def run(endpoint_id, **given):
    """The document's output, its parameters sent as strings as AWS Config and the console send them."""
    return run_document("DeleteIdleVpcEndpoint", **parameters(endpoint_id, **given))


def refused(endpoint_id, **given):
    """The failed execution's message."""
    return refusal("DeleteIdleVpcEndpoint", **parameters(endpoint_id, **given))


def run_script(endpoint_id, **given):
    """script.py's handler itself, for the Stubber tests (they patch its client factories)."""
    return script.handler(parameters(endpoint_id, **given), None)


def test_an_approved_idle_endpoint_is_deleted_verified_and_a_second_run_is_a_no_op(endpoints):
    ec2, found = endpoints
    before = ec2.describe_vpc_endpoints(VpcEndpointIds=[found["idle"]])["VpcEndpoints"][0]
    result = run(found["idle"], IdleDays="30", MaxIdleBytes="0")
    assert state_of(ec2, found["idle"]) == "deleted"
    assert result["Status"] == "CHANGED"
    assert result["Message"].startswith(f"Deleted (the endpoint is deleted): Deleting {found['idle']} ")
    assert result["Changes"] == [f"delete VPC endpoint {found['idle']} (com.amazonaws.us-east-1.secretsmanager)"]
    assert (result["BytesProcessed"], result["EstimatedMonthlySavingUsd"]) == (0.0, 7.3)
    assert result["Before"] == {
        "State": "available",
        "VpcId": before["VpcId"],
        "ServiceName": "com.amazonaws.us-east-1.secretsmanager",
        "SubnetIds": before["SubnetIds"],
        "PrivateDnsEnabled": before["PrivateDnsEnabled"],
    }
    assert result["After"] == {"State": "deleted"}
    json.dumps(result)  # SSM returns the output as a StringMap: it must serialise
    again = run(found["idle"])
    assert (again["Status"], again["Changes"], again["Before"], again["After"]) == (
        "NO_CHANGE",
        [],
        {"State": "deleted"},
        {"State": "deleted"},
    )


def test_the_recreate_spec_builds_an_equivalent_endpoint(endpoints):
    ec2, found = endpoints
    spec = run(found["idle"])["RecreateSpec"]
    recreated = ec2.create_vpc_endpoint(**spec)["VpcEndpoint"]
    original = {k: spec[k] for k in ("VpcEndpointType", "VpcId", "ServiceName", "SubnetIds", "PrivateDnsEnabled")}
    assert {k: recreated[k] for k in original} == original
    assert recreated["VpcEndpointId"] != found["idle"]


def test_without_approval_the_run_fails_with_the_blast_radius_and_changes_nothing(endpoints):
    ec2, found = endpoints
    message = refused(found["idle"], approve=False)
    assert "com.amazonaws.us-east-1.secretsmanager" in message and "Private DNS is" in message
    assert '"ServiceName": "com.amazonaws.us-east-1.secretsmanager"' in message, "the recreate spec"
    assert message.endswith("then re-run with ApproveDeletion=true. Nothing was changed.")
    assert state_of(ec2, found["idle"]) == "available"


@pytest.mark.parametrize("approve", [False, True])
def test_dry_run_returns_the_plan_whatever_the_approval_and_changes_nothing(endpoints, approve):
    ec2, found = endpoints
    result = run(found["idle"], approve=approve, dry_run=True)
    assert result["Status"] == "DRY_RUN"
    assert result["RecreateSpec"]["ServiceName"] == "com.amazonaws.us-east-1.secretsmanager"
    assert result["Message"].endswith("A run that deletes needs ApproveDeletion=true.") is not approve
    assert state_of(ec2, found["idle"]) == "available"


def test_a_busy_endpoint_is_refused_and_kept(endpoints):
    ec2, found = endpoints
    assert re.search(r"processed 4,096 bytes .* it is not idle", refused(found["busy"]))
    assert state_of(ec2, found["busy"]) == "available"
    assert run(found["busy"], MaxIdleBytes="4096")["Status"] == "CHANGED", "at most MaxIdleBytes is idle"


def test_an_endpoint_younger_than_idle_days_is_refused(endpoints):
    ec2, found = endpoints
    assert "traffic history is too short to call it idle" in refused(found["idle"], IdleDays=91)
    assert state_of(ec2, found["idle"]) == "available"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"ExemptionTag": "idle-exempt"}, "carries the exemption tag idle-exempt"),
        ({"ExemptionTag": "idle-exempt=yes"}, "carries the exemption tag idle-exempt=yes"),
        ({"ExcludedServiceNames": "com.amazonaws.*.s3,*.secretsmanager"}, "ExcludedServiceNames excludes"),
    ],
)
def test_an_endpoint_the_rule_spares_is_refused_whatever_role_runs_it(endpoints, extra, reason):
    ec2, found = endpoints
    ec2.create_tags(Resources=[found["idle"]], Tags=[{"Key": "idle-exempt", "Value": "yes"}])
    for dry_run in (True, False):
        assert reason in refused(found["idle"], dry_run=dry_run, **extra)
    assert state_of(ec2, found["idle"]) == "available"
    other_value = {"ExemptionTag": "idle-exempt=no"}
    assert run(found["idle"], dry_run=True, **other_value)["Status"] == "DRY_RUN", "another value is not exempt"


def test_a_missing_endpoint_is_already_deleted(aws):
    result = run(ENDPOINT)
    assert (result["Status"], result["After"]) == ("NO_CHANGE", {"State": "deleted"})


def test_a_gateway_endpoint_is_refused(endpoints):
    ec2, _ = endpoints
    vpc = ec2.describe_vpcs()["Vpcs"][-1]["VpcId"]
    gateway = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway")
    assert "of type Gateway; only Interface endpoints are deleted" in refused(gateway["VpcEndpoint"]["VpcEndpointId"])


# ---- what moto cannot show: Stubber, with every request and answer checked against botocore's shapes ----


@pytest.fixture
def stubbed(stub_client):
    return stub_client(script, "ec2_client", "ec2"), stub_client(script, "cloudwatch_client", "cloudwatch")


def expect_describe(stub, **changes):
    stub.add_response(
        "describe_vpc_endpoints", {"VpcEndpoints": [described(**changes)]}, {"VpcEndpointIds": [ENDPOINT]}
    )


def expect_bytes(stub, values=(), status="Complete"):
    stub.add_response(
        "get_metric_data", {"MetricDataResults": [{"Id": "bytes", "Values": list(values), "StatusCode": status}]}
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        pytest.param({"RequesterManaged": True}, "is requester-managed", id="requester-managed"),
        pytest.param({"state": "pendingAcceptance"}, "is pendingacceptance, not available", id="pending"),
        pytest.param({"ServiceRegion": "eu-west-1"}, "serves eu-west-1 from us-east-1: PrivateLink", id="cross-region"),
        pytest.param({"CreationTimestamp": None}, "created at an unknown time", id="undated"),
    ],
)
def test_endpoints_the_rule_does_not_judge_are_refused_without_a_metric_call(stubbed, changes, reason):
    ec2, _ = stubbed
    found = described()
    found.update({k: v for k, v in changes.items() if k != "state"})
    found["State"] = changes.get("state", "available")
    found = {k: v for k, v in found.items() if v is not None}
    ec2.add_response("describe_vpc_endpoints", {"VpcEndpoints": [found]}, {"VpcEndpointIds": [ENDPOINT]})
    with pytest.raises(script.RemediationError, match=reason):
        run_script(ENDPOINT)


def test_a_malformed_max_idle_bytes_is_refused_before_any_call(stubbed):
    with pytest.raises(script.RemediationError, match="MaxIdleBytes must be an integer from 0 to 1000000000000000"):
        run_script(ENDPOINT, MaxIdleBytes=4096)  # an SSM String arrives as a str: anything else is a wrong caller


@pytest.mark.parametrize("status", ["Forbidden", "InternalError"])
def test_an_unknown_traffic_figure_is_never_taken_as_idle(stubbed, status):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    expect_bytes(cloudwatch, status=status)
    with pytest.raises(script.RemediationError, match=f"CloudWatch answered {status} .* not deleted"):
        run_script(ENDPOINT)


def test_traffic_across_pages_is_summed(stubbed):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    cloudwatch.add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": "bytes", "Values": [6.0], "StatusCode": "PartialData"}], "NextToken": "n"},
    )
    expect_bytes(cloudwatch, [5.0])
    with pytest.raises(script.RemediationError, match="processed 11 bytes"):
        run_script(ENDPOINT, MaxIdleBytes="10")


def test_the_query_names_every_dimension_privatelink_publishes_over_the_idle_days_window(stubbed):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    dimensions = [
        {"Name": "Endpoint Type", "Value": "Interface"},
        {"Name": "Service Name", "Value": SSM},
        {"Name": "VPC Endpoint Id", "Value": ENDPOINT},
        {"Name": "VPC Id", "Value": VPC},
    ]
    metric = {"Namespace": "AWS/PrivateLinkEndpoints", "MetricName": "BytesProcessed", "Dimensions": dimensions}
    query = {"Id": "bytes", "MetricStat": {"Metric": metric, "Period": 86_400, "Stat": "Sum"}}
    cloudwatch.add_response(
        "get_metric_data",
        {"MetricDataResults": [{"Id": "bytes", "Values": [], "StatusCode": "Complete"}]},
        {"MetricDataQueries": [query], "StartTime": ANY, "EndTime": ANY},
    )
    windows = []
    cloudwatch.client.meta.events.register(
        "provide-client-params.cloudwatch.GetMetricData", lambda params, **_: windows.append(params)
    )
    assert run_script(ENDPOINT, dry_run=True, IdleDays=45)["Status"] == "DRY_RUN"
    assert windows[0]["EndTime"] - windows[0]["StartTime"] == datetime.timedelta(days=45)


def test_an_endpoint_changed_between_read_and_delete_is_left_alone(stubbed):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    expect_bytes(cloudwatch)
    expect_describe(ec2, SubnetIds=["subnet-0000000000000000a"])
    with pytest.raises(script.RemediationError, match="changed while the remediation ran; nothing was deleted"):
        run_script(ENDPOINT)


def test_an_unsuccessful_item_fails_the_run(stubbed):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    expect_bytes(cloudwatch)
    expect_describe(ec2)
    unsuccessful = {"Error": {"Code": "OperationNotPermitted", "Message": "denied by policy"}, "ResourceId": ENDPOINT}
    ec2.add_response("delete_vpc_endpoints", {"Unsuccessful": [unsuccessful]}, {"VpcEndpointIds": [ENDPOINT]})
    with pytest.raises(script.RemediationError, match=r"did not delete .*: OperationNotPermitted: denied by policy"):
        run_script(ENDPOINT)


@pytest.mark.parametrize(("after", "verified"), [("deleting", "deleting"), ("deleted", "deleted"), (None, "deleted")])
def test_the_deletion_is_verified_as_deleting_or_gone(stubbed, after, verified):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    expect_bytes(cloudwatch)
    expect_describe(ec2)
    ec2.add_response("delete_vpc_endpoints", {"Unsuccessful": []}, {"VpcEndpointIds": [ENDPOINT]})
    if after is None:
        ec2.add_client_error("describe_vpc_endpoints", "InvalidVpcEndpointId.NotFound", http_status_code=400)
    else:
        expect_describe(ec2, state=after)
    assert run_script(ENDPOINT)["After"] == {"State": verified}


def test_an_endpoint_still_available_after_the_delete_fails_verification(stubbed):
    ec2, cloudwatch = stubbed
    expect_describe(ec2)
    expect_bytes(cloudwatch)
    expect_describe(ec2)
    ec2.add_response("delete_vpc_endpoints", {"Unsuccessful": []}, {"VpcEndpointIds": [ENDPOINT]})
    expect_describe(ec2)
    with pytest.raises(script.RemediationError, match="was asked to delete but is available"):
        run_script(ENDPOINT)
