import json
import os
import unittest
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3
import VPC_ENDPOINT_IDLE_CHECK as RULE_MODULE
from botocore.stub import Stubber
from moto import mock_aws
from moto.ec2.models import ec2_backends
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.VPC_ENDPOINT_IDLE_CHECK()
RESOURCE_TYPE = "AWS::EC2::VPCEndpoint"
ACCOUNT, REGION = "123456789012", "us-east-1"
NOW = datetime(2026, 11, 22, 10, 0, 30, tzinfo=UTC)
OLD = NOW - timedelta(days=90)
ENDPOINT, VPC, SSM = "vpce-0123456789abcdef0", "vpc-0123456789abcdef0", f"com.amazonaws.{REGION}.ssm"


# Every VpcEndpointType in botocore's EC2 model: a type AWS adds shows up here first.
ENDPOINT_TYPES = boto3.client("ec2", region_name=REGION).meta.service_model.shape_for("VpcEndpointType").enum


def configuration_item(endpoint_id=ENDPOINT, tags=None, **overrides):
    configuration = {
        "vpcEndpointId": endpoint_id,
        "vpcEndpointType": "Interface",
        "vpcId": VPC,
        "serviceName": SSM,
        "state": "available",
        "requesterManaged": False,
        "subnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
        "creationTimestamp": OLD.isoformat().replace("+00:00", "Z"),
        **overrides,
    }
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": RESOURCE_TYPE,
        "resourceId": endpoint_id,
        "awsRegion": REGION,
        "configuration": configuration,
        "tags": tags or {},
    }


def described(endpoint_id, state="available", endpoint_type="Interface", created=OLD, **extra):
    """An endpoint as DescribeVpcEndpoints answers it."""
    return {
        "VpcEndpointId": endpoint_id,
        "VpcEndpointType": endpoint_type,
        "VpcId": VPC,
        "ServiceName": SSM,
        "State": state,
        "SubnetIds": ["subnet-0000000000000000a"],
        "RequesterManaged": False,
        "CreationTimestamp": created,
        "Tags": [],
        **extra,
    }


def query(index, endpoint_id, service=SSM):
    dimensions = [
        {"Name": "Endpoint Type", "Value": "Interface"},
        {"Name": "Service Name", "Value": service},
        {"Name": "VPC Endpoint Id", "Value": endpoint_id},
        {"Name": "VPC Id", "Value": VPC},
    ]
    metric = {"Namespace": "AWS/PrivateLinkEndpoints", "MetricName": "BytesProcessed", "Dimensions": dimensions}
    return {"Id": f"e{index}", "MetricStat": {"Metric": metric, "Period": 86_400, "Stat": "Sum"}}


def window(days=30):
    end = NOW.replace(second=0)
    return {"StartTime": end - timedelta(days=days), "EndTime": end}


def result(index, values=(), status="Complete"):
    return {"Id": f"e{index}", "Label": "BytesProcessed", "Values": list(values), "StatusCode": status}


class FakeClientFactory:
    """Hands out stubbed clients and records which services were asked for."""

    def __init__(self, **clients):
        self.clients = clients
        self.built = []

    def build_client(self, service, *args, **kwargs):
        self.built.append(service)
        if service not in self.clients:
            raise AssertionError(f"unexpected client {service}")
        return self.clients[service]


def stubbed(service):
    client = boto3.client(service, region_name=REGION)
    stub = Stubber(client)
    stub.activate()
    return client, stub


class ParameterTest(unittest.TestCase):
    def assert_invalid(self, params, *fragments):
        with self.assertRaises(InvalidParametersError) as caught:
            RULE.evaluate_parameters(params)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_scenario1_idle_days_must_be_1_to_455(self):
        self.assert_invalid(
            {"IdleDays": "456"}, "IdleDays must be an integer from 1 to 455", "hourly data points 455 days", "'456'."
        )
        for value in ("0", "-1", "thirty", "7.5", "٣٠"):
            with self.subTest(value=value):
                self.assert_invalid({"IdleDays": value}, "IdleDays", repr(value))
        self.assertEqual(RULE.evaluate_parameters({"IdleDays": "455"}).idle_days, 455)
        self.assertEqual(RULE.evaluate_parameters({}).idle_days, 30)

    def test_scenario2_max_idle_bytes_and_hourly_cost_must_be_non_negative_numbers(self):
        for value in ("-1", "1e6", "1,000", "lots", "1000000000000001"):
            with self.subTest(value=value):
                self.assert_invalid({"MaxIdleBytes": value}, "MaxIdleBytes", "from 0 to", repr(value))
        # the remediation re-measures against the same threshold, up to 10**15 bytes
        self.assertEqual(RULE.evaluate_parameters({"MaxIdleBytes": "5000000000"}).max_bytes, 5 * 10**9)
        self.assertEqual(RULE.evaluate_parameters({"MaxIdleBytes": str(10**15)}).max_bytes, 10**15)
        for value in ("-0.01", "$0.01", "1e-2"):
            with self.subTest(value=value):
                self.assert_invalid({"HourlyCostPerAz": value}, "HourlyCostPerAz", repr(value))
        params = RULE.evaluate_parameters({"MaxIdleBytes": "1048576", "HourlyCostPerAz": "0.011"})
        self.assertEqual((params.max_bytes, params.hourly_cost), (1_048_576, 0.011))
        self.assertEqual(RULE.evaluate_parameters({}).max_bytes, 0)

    def test_scenario3_unknown_parameter_or_bad_exemption_tag_is_rejected(self):
        self.assert_invalid({"IdleDay": "30"}, "IdleDay", "IdleDays, MaxIdleBytes, ExcludedServiceNames")
        self.assert_invalid({"ExemptionTag": "=keep"}, "ExemptionTag")


class ChangeTest(unittest.TestCase):
    """evaluate_change: NOT_APPLICABLE reasons with no API call, and one GetMetricData call otherwise."""

    def setUp(self):
        self.client, self.stub = stubbed("cloudwatch")
        self.factory = FakeClientFactory(cloudwatch=self.client)
        self.clock = mock.patch.object(RULE_MODULE, "utc_now", return_value=NOW)
        self.clock.start()

    def tearDown(self):
        self.clock.stop()
        self.stub.assert_no_pending_responses()
        self.stub.deactivate()

    def evaluate(self, item, params=None):
        return RULE.evaluate_change({}, self.factory, item, RULE.evaluate_parameters(params or {}))

    def assert_evaluation(self, item, compliance, annotation, params=None):
        self.assertEqual(self.evaluate(item, params), [Evaluation(compliance, annotation=annotation)])

    def assert_not_applicable_without_calls(self, item, annotation, params=None):
        self.assert_evaluation(item, ComplianceType.NOT_APPLICABLE, annotation, params)
        self.assertEqual(self.factory.built, [])

    def expect_bytes(self, *values, days=30):
        answer = {"MetricDataResults": [result(0, values)]}
        self.stub.add_response("get_metric_data", answer, {"MetricDataQueries": [query(0, ENDPOINT)], **window(days)})

    def test_scenario4_exempt_endpoint_is_not_applicable_without_calls(self):
        self.assert_not_applicable_without_calls(
            configuration_item(tags={"idle-exempt": "dr"}),
            "Exempt: the endpoint carries tag idle-exempt.",
            {"ExemptionTag": "idle-exempt"},
        )

    def test_scenario5_managed_gone_or_unavailable_endpoint_is_not_applicable_without_calls(self):
        self.assert_not_applicable_without_calls(
            configuration_item(requesterManaged="true"),
            "Requester-managed endpoint: the AWS service that created it owns it.",
        )
        for state, shown in (("deleted", "deleted"), ({"value": "Deleting"}, "deleting"), ("pending", "pending")):
            with self.subTest(state=state):
                self.assert_not_applicable_without_calls(
                    configuration_item(state=state), f"The endpoint is {shown}, not available."
                )

    def test_scenario6_other_endpoint_types_are_not_applicable_without_calls(self):
        other_types = [t for t in ENDPOINT_TYPES if t != "Interface"]  # any type AWS adds is not judged either
        known = {"Gateway", "GatewayLoadBalancer", "Resource", "ServiceNetwork", "Tunnel"}
        self.assertLessEqual(known, set(other_types))
        for endpoint_type in other_types:
            with self.subTest(endpoint_type=endpoint_type):
                self.assert_not_applicable_without_calls(
                    configuration_item(vpcEndpointType=endpoint_type),
                    f"Endpoint type {endpoint_type} is not checked: the rule judges Interface endpoints.",
                )

    def test_scenario6_a_tunnel_endpoint_is_not_applicable_without_calls(self):
        # Tunnel endpoints have subnets and network interfaces like interface endpoints, but are not judged.
        self.assert_not_applicable_without_calls(
            configuration_item(vpcEndpointType="Tunnel"),
            "Endpoint type Tunnel is not checked: the rule judges Interface endpoints.",
            {"MaxIdleBytes": str(10**15)},
        )

    def test_scenario7_excluded_service_is_not_applicable_without_calls(self):
        self.assert_not_applicable_without_calls(
            configuration_item(serviceName="com.amazonaws.eu-west-1.kms"),
            "Service com.amazonaws.eu-west-1.kms is in ExcludedServiceNames.",
            {"ExcludedServiceNames": "com.amazonaws.*.logs, com.amazonaws.*.kms"},
        )

    def test_scenario8_cross_region_endpoint_is_not_applicable_without_calls(self):
        self.assert_not_applicable_without_calls(
            configuration_item(serviceRegion="eu-west-1"),
            "Cross-Region endpoint (us-east-1 to eu-west-1): PrivateLink publishes no metrics.",
        )
        self.expect_bytes(5)  # the endpoint's own Region as serviceRegion is not cross-Region
        result_same_region = self.evaluate(configuration_item(serviceRegion=REGION))
        self.assertEqual(result_same_region[0].complianceType, ComplianceType.COMPLIANT)

    def test_scenario9_young_or_undated_endpoint_is_not_applicable_without_calls(self):
        young = (NOW - timedelta(days=29, hours=23)).isoformat()
        self.assert_not_applicable_without_calls(
            configuration_item(creationTimestamp=young), "The endpoint is 29 day(s) old, younger than IdleDays (30)."
        )
        for created in (None, "yesterday", {"not": "a time"}):
            with self.subTest(created=created):
                self.assert_not_applicable_without_calls(
                    configuration_item(creationTimestamp=created),
                    "The endpoint's creation time is unknown, so its IdleDays window is too.",
                )

    def test_scenario9_item_creation_time_falls_back_to_resource_creation_time(self):
        item = configuration_item(creationTimestamp=None)
        item["resourceCreationTime"] = int(OLD.timestamp() * 1000)  # epoch milliseconds, as some items carry
        self.expect_bytes()
        self.assertEqual(self.evaluate(item)[0].complianceType, ComplianceType.NON_COMPLIANT)

    def test_scenario10_item_without_metric_names_is_not_applicable_without_calls(self):
        for field, value in (("vpcId", None), ("vpcId", "vpc-XYZ"), ("serviceName", ""), ("serviceName", 7)):
            with self.subTest(field=field, value=value):
                self.assert_not_applicable_without_calls(
                    configuration_item(**{field: value}),
                    "The item names no endpoint id, VPC id and service: its metric is unknown.",
                )
        item = configuration_item(endpoint_id="not-an-endpoint")
        self.assert_not_applicable_without_calls(
            item, "The item names no endpoint id, VPC id and service: its metric is unknown."
        )

    def test_scenario11_no_data_points_is_idle_and_non_compliant(self):
        self.expect_bytes()
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            "The endpoint processed 0 bytes in the last 30 day(s) (MaxIdleBytes 0): idle. Its 2 AZ(s) bill "
            "about $14.60 a month (2 x $0.01/AZ-hour x 730 h).",
        )

    def test_scenario11_traffic_at_most_the_threshold_is_idle_over_the_idle_days_window(self):
        self.expect_bytes(400, 0, 600, days=90)
        params = {"IdleDays": "90", "MaxIdleBytes": "1000", "HourlyCostPerAz": "0.013"}
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            "The endpoint processed 1,000 bytes in the last 90 day(s) (MaxIdleBytes 1,000): idle. Its 2 AZ(s) "
            "bill about $18.98 a month (2 x $0.013/AZ-hour x 730 h).",
            params,
        )

    def test_scenario12_traffic_above_the_threshold_is_compliant(self):
        self.expect_bytes(1_500_000, 2.5)
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.COMPLIANT,
            "The endpoint processed 1,500,002 bytes in the last 30 day(s).",
        )

    def test_scenario13_an_unjudged_query_status_is_not_applicable_never_idle(self):
        for status in ("Forbidden", "InternalError"):
            with self.subTest(status=status):
                answer = {"MetricDataResults": [result(0, (), status)]}
                self.stub.add_response(
                    "get_metric_data", answer, {"MetricDataQueries": [query(0, ENDPOINT)], **window()}
                )
                self.assert_evaluation(
                    configuration_item(),
                    ComplianceType.NOT_APPLICABLE,
                    f"CloudWatch answered {status} for its BytesProcessed: not judged.",
                )

    def test_scenario16_exemption_through_today_is_not_applicable_naming_it_without_calls(self):
        self.assert_not_applicable_without_calls(
            configuration_item(tags={"idle-exempt": "DR standby expires=2026-11-22"}),
            "Exempt until 2026-11-22: the endpoint carries tag idle-exempt (DR standby expires=2026-11-22).",
            {"ExemptionTag": "idle-exempt"},
        )

    def test_scenario17_exemption_that_ended_yesterday_gives_the_measured_verdict_saying_when(self):
        self.expect_bytes()
        self.assert_evaluation(
            configuration_item(tags={"team": "platform expires=2026-11-21"}),
            ComplianceType.NON_COMPLIANT,
            "The endpoint processed 0 bytes in the last 30 day(s) (MaxIdleBytes 0): idle. Its 2 AZ(s) bill "
            "about $14.60 a month (2 x $0.01/AZ-hour x 730 h). Waiver (tag team=platform) expired on 2026-11-21.",
            {"ExemptionTag": "team=platform"},
        )

    def test_scenario17_an_expired_exemption_is_noted_after_another_not_applicable_reason(self):
        self.assert_not_applicable_without_calls(
            configuration_item(tags={"idle-exempt": "expires=2026-01-31"}, state="pendingAcceptance"),
            "The endpoint is pendingacceptance, not available. Waiver (tag idle-exempt) expired on 2026-01-31.",
            {"ExemptionTag": "idle-exempt"},
        )

    def test_scenario18_an_expiry_that_is_not_a_date_does_not_exempt(self):
        for raw in ("2027-02-30", "27-1-1"):
            with self.subTest(raw=raw):
                self.expect_bytes(5.0)
                self.assert_evaluation(
                    configuration_item(tags={"idle-exempt": f"expires={raw}"}),
                    ComplianceType.COMPLIANT,
                    f"The endpoint processed 5 bytes in the last 30 day(s). Exemption tag idle-exempt has expiry "
                    f"'{raw}' that is not a date (YYYY-MM-DD): not exempt.",
                    {"ExemptionTag": "idle-exempt"},
                )


class SweepTest(unittest.TestCase):
    """evaluate_periodic and evaluate_items against Stubber, which checks every request and answer's shape."""

    def setUp(self):
        self.ec2, self.ec2_stub = stubbed("ec2")
        self.cloudwatch, self.cloudwatch_stub = stubbed("cloudwatch")
        self.factory = FakeClientFactory(ec2=self.ec2, cloudwatch=self.cloudwatch)
        self.clock = mock.patch.object(RULE_MODULE, "utc_now", return_value=NOW)
        self.clock.start()

    def tearDown(self):
        self.clock.stop()
        for stub in (self.ec2_stub, self.cloudwatch_stub):
            stub.assert_no_pending_responses()
            stub.deactivate()

    def test_scenario14_the_sweep_evaluates_every_listed_endpoint_with_batched_queries(self):
        ids, old = [f"vpce-{i:017x}" for i in range(230)], NOW - timedelta(days=500)
        first = [described(i, created=old) for i in ids[:200]] + [described("vpce-dead00000000000aa", "deleted")]
        second = [described(i, created=old) for i in ids[200:]] + [
            described("vpce-0000000000000f00d", "available", "Gateway")
        ]
        self.ec2_stub.add_response(
            "describe_vpc_endpoints", {"VpcEndpoints": first, "NextToken": "t1"}, {"MaxResults": 1000}
        )
        self.ec2_stub.add_response(
            "describe_vpc_endpoints", {"VpcEndpoints": second}, {"MaxResults": 1000, "NextToken": "t1"}
        )
        per_call = RULE_MODULE.queries_per_call(455)
        self.assertEqual(per_call, 221)  # 100,800 // 456 daily points: 221 queries fit one call
        for start in (0, per_call):
            chunk = ids[start : start + per_call]
            answer = {"MetricDataResults": [result(n, [7.0] if i.endswith("1") else []) for n, i in enumerate(chunk)]}
            queries = [query(n, i) for n, i in enumerate(chunk)]
            self.cloudwatch_stub.add_response("get_metric_data", answer, {"MetricDataQueries": queries, **window(455)})
        results = RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters({"IdleDays": "455"}))
        by_id = {e.complianceResourceId: e for e in results}
        self.assertEqual(len(results), 232)
        self.assertTrue(all(e.complianceResourceType == RESOURCE_TYPE for e in results))
        self.assertEqual(by_id["vpce-dead00000000000aa"].complianceType, ComplianceType.NOT_APPLICABLE)
        self.assertEqual(by_id["vpce-dead00000000000aa"].annotation, "The endpoint is deleted, not available.")
        self.assertEqual(by_id["vpce-0000000000000f00d"].complianceType, ComplianceType.NOT_APPLICABLE)
        busy = {i for i in ids if i.endswith("1")}
        for endpoint_id in ids:
            expected = ComplianceType.COMPLIANT if endpoint_id in busy else ComplianceType.NON_COMPLIANT
            self.assertEqual(by_id[endpoint_id].complianceType, expected, endpoint_id)

    def test_scenario14_results_paged_by_cloudwatch_are_summed_per_query(self):
        self.ec2_stub.add_response(
            "describe_vpc_endpoints",
            {"VpcEndpoints": [described(ENDPOINT, Tags=[{"Key": "k", "Value": "v"}])]},
            {"MaxResults": 1000},
        )
        request = {"MetricDataQueries": [query(0, ENDPOINT)], **window()}
        self.cloudwatch_stub.add_response(
            "get_metric_data", {"MetricDataResults": [result(0, [1.0], "PartialData")], "NextToken": "n"}, request
        )
        self.cloudwatch_stub.add_response(
            "get_metric_data", {"MetricDataResults": [result(0, [2.0])]}, {**request, "NextToken": "n"}
        )
        results = RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters({"MaxIdleBytes": "2"}))
        self.assertEqual(
            results,
            [Evaluation("COMPLIANT", ENDPOINT, RESOURCE_TYPE, "The endpoint processed 3 bytes in the last 30 day(s).")],
        )

    def test_scenario14_a_listed_tunnel_endpoint_is_not_applicable_without_a_metric_call(self):
        tunnel = described(ENDPOINT, endpoint_type="Tunnel", SubnetIds=["subnet-0000000000000000a"])
        self.ec2_stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [tunnel]}, {"MaxResults": 1000})
        results = RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters({}))
        annotation = "Endpoint type Tunnel is not checked: the rule judges Interface endpoints."
        self.assertEqual(results, [Evaluation("NOT_APPLICABLE", ENDPOINT, RESOURCE_TYPE, annotation)])
        self.assertEqual(self.factory.built, ["ec2"])

    def test_scenario14_tags_from_the_listing_exempt_without_a_metric_call(self):
        tagged = described(ENDPOINT, Tags=[{"Key": "idle-exempt", "Value": ""}])
        self.ec2_stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [tagged]}, {"MaxResults": 1000})
        results = RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters({"ExemptionTag": "idle-exempt"}))
        self.assertEqual([e.complianceType for e in results], [ComplianceType.NOT_APPLICABLE])
        self.assertEqual(self.factory.built, ["ec2"])

    def test_scenario16_the_sweep_judges_dated_and_expired_exemptions_as_the_change_path_does(self):
        waived = described(ENDPOINT, Tags=[{"Key": "idle-exempt", "Value": "expires=2026-11-22"}])
        lapsed = described("vpce-000000000000000a1", Tags=[{"Key": "idle-exempt", "Value": "expires=2026-11-21"}])
        self.ec2_stub.add_response("describe_vpc_endpoints", {"VpcEndpoints": [waived, lapsed]}, {"MaxResults": 1000})
        answer = {"MetricDataResults": [result(0, [9.0])]}
        request = {"MetricDataQueries": [query(0, "vpce-000000000000000a1")], **window()}
        self.cloudwatch_stub.add_response("get_metric_data", answer, request)
        results = RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters({"ExemptionTag": "idle-exempt"}))
        self.assertEqual(
            results,
            [
                Evaluation(
                    "NOT_APPLICABLE",
                    ENDPOINT,
                    RESOURCE_TYPE,
                    "Exempt until 2026-11-22: the endpoint carries tag idle-exempt (expires=2026-11-22).",
                ),
                Evaluation(
                    "COMPLIANT",
                    "vpce-000000000000000a1",
                    RESOURCE_TYPE,
                    "The endpoint processed 9 bytes in the last 30 day(s). Waiver (tag idle-exempt) expired on "
                    "2026-11-21.",
                ),
            ],
        )

    def test_scenario15_many_items_are_judged_with_one_batched_call_like_the_change_path(self):
        items = [
            configuration_item("vpce-000000000000000a1"),
            configuration_item("vpce-000000000000000a2"),
            configuration_item("vpce-000000000000000a3", vpcEndpointType="Gateway"),
        ]
        answer = {"MetricDataResults": [result(0, [9.0]), result(1)]}
        queries = [query(0, "vpce-000000000000000a1"), query(1, "vpce-000000000000000a2")]
        self.cloudwatch_stub.add_response("get_metric_data", answer, {"MetricDataQueries": queries, **window()})
        results = RULE.evaluate_items(self.factory, items, RULE.evaluate_parameters({}))
        self.assertEqual(
            [(e.complianceResourceId, e.complianceResourceType, e.complianceType) for e in results],
            [
                ("vpce-000000000000000a1", RESOURCE_TYPE, "COMPLIANT"),
                ("vpce-000000000000000a2", RESOURCE_TYPE, "NON_COMPLIANT"),
                ("vpce-000000000000000a3", RESOURCE_TYPE, "NOT_APPLICABLE"),
            ],
        )
        self.assertEqual(self.factory.built, ["cloudwatch"])


class LambdaHandlerTest(unittest.TestCase):
    """The real handler under moto: endpoints backdated in moto's backend (its API cannot), traffic in CloudWatch."""

    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.sent = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.config-service.PutEvaluations", lambda params, **_: self.sent.append(params)
        )
        ec2 = boto3.client("ec2")
        self.vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=self.vpc, CidrBlock="10.0.0.0/24", AvailabilityZone="us-east-1a")
        self.endpoints = {}
        for service in ("ssm", "kms"):
            created = ec2.create_vpc_endpoint(
                VpcId=self.vpc,
                ServiceName=f"com.amazonaws.{REGION}.{service}",
                VpcEndpointType="Interface",
                SubnetIds=[subnet["Subnet"]["SubnetId"]],
            )["VpcEndpoint"]
            self.endpoints[service] = created["VpcEndpointId"]
            moto_endpoint = ec2_backends[ACCOUNT][REGION].vpc_end_points[created["VpcEndpointId"]]
            moto_endpoint.creation_timestamp = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=60)
        dimensions = query(0, self.endpoints["kms"], f"com.amazonaws.{REGION}.kms")["MetricStat"]["Metric"]
        dimensions["Dimensions"][3]["Value"] = self.vpc
        boto3.client("cloudwatch").put_metric_data(
            Namespace=dimensions["Namespace"],
            MetricData=[
                {
                    "MetricName": "BytesProcessed",
                    "Dimensions": dimensions["Dimensions"],
                    "Value": 4096.0,
                    "Timestamp": datetime.now(UTC) - timedelta(days=days),
                }
                for days in (2, 45)
            ],
        )

    def tearDown(self):
        boto3.DEFAULT_SESSION = None
        self.aws.stop()

    def event(self, invoking):
        return {
            "configRuleName": "VPC_ENDPOINT_IDLE_CHECK",
            "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config-role",
            "eventLeftScope": False,
            "invokingEvent": json.dumps(invoking),
            "ruleParameters": json.dumps({"IdleDays": "30"}),
            "accountId": ACCOUNT,
            "resultToken": "TESTMODE",
        }

    def test_the_scheduled_sweep_reports_the_idle_and_the_busy_endpoint(self):
        scheduled = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
        RULE_MODULE.lambda_handler(self.event(scheduled), None)
        sent = {e["ComplianceResourceId"]: e for call in self.sent for e in call["Evaluations"]}
        self.assertEqual(sent[self.endpoints["ssm"]]["ComplianceType"], "NON_COMPLIANT")
        self.assertEqual(sent[self.endpoints["kms"]]["ComplianceType"], "COMPLIANT")
        # Only the data point inside the 30-day window counts.
        self.assertEqual(
            sent[self.endpoints["kms"]]["Annotation"], "The endpoint processed 4,096 bytes in the last 30 day(s)."
        )

    def test_a_change_notification_is_judged_from_its_own_metric(self):
        item = configuration_item(self.endpoints["ssm"], vpcId=self.vpc)
        invoking = {
            "messageType": "ConfigurationItemChangeNotification",
            "configurationItem": item,
            "notificationCreationTime": "2026-11-22T10:00:00.000Z",
        }
        RULE_MODULE.lambda_handler(self.event(invoking), None)
        evaluation = self.sent[0]["Evaluations"][0]
        self.assertEqual(
            (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]), (self.endpoints["ssm"], "NON_COMPLIANT")
        )


if __name__ == "__main__":
    unittest.main()
