import json
import os
import unittest
from datetime import date

import boto3
import VPC_ENDPOINT_AZ_COUNT_CHECK as RULE_MODULE
from moto import mock_aws
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.VPC_ENDPOINT_AZ_COUNT_CHECK()
RESOURCE_TYPE = "AWS::EC2::VPCEndpoint"
SSM = "com.amazonaws.us-east-1.ssm"
# Every VpcEndpointType in botocore's EC2 model: a type AWS adds shows up here first.
ENDPOINT_TYPES = boto3.client("ec2", region_name="us-east-1").meta.service_model.shape_for("VpcEndpointType").enum


def configuration_item(subnets=3, endpoint_type="Interface", service=SSM, state="available", tags=None, **extra):
    configuration = {
        "vpcEndpointId": "vpce-0123456789abcdef0",
        "vpcEndpointType": endpoint_type,
        "serviceName": service,
        "subnetIds": [f"subnet-{i:017x}" for i in range(subnets)],
        "requesterManaged": False,
        "state": state,
        **extra,
    }
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": RESOURCE_TYPE,
        "resourceId": "vpce-0123456789abcdef0",
        "configuration": configuration,
        "tags": tags or {},
    }


def evaluate(item, params):
    return RULE.evaluate_change({}, None, item, RULE.evaluate_parameters(params))


class ParameterTest(unittest.TestCase):
    def assert_invalid(self, params, *fragments):
        with self.assertRaises(InvalidParametersError) as caught:
            RULE.evaluate_parameters(params)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_scenario1_a_bound_is_required(self):
        self.assert_invalid({}, "MaxAzCount", "MinAzCount")
        self.assert_invalid({"MaxAzCount": " "}, "MaxAzCount", "MinAzCount")

    def test_scenario2_bounds_must_be_positive_integers_in_order(self):
        for params, name in (
            ({"MaxAzCount": "0"}, "MaxAzCount"),
            ({"MinAzCount": "two"}, "MinAzCount"),
            ({"MaxAzCount": "1.5"}, "MaxAzCount"),
            ({"MinAzCount": "3", "MaxAzCount": "2"}, "MinAzCount (3) must not exceed MaxAzCount (2)"),
        ):
            with self.subTest(params=params):
                self.assert_invalid(params, name)

    def test_scenario3_endpoint_types_must_have_subnets(self):
        self.assert_invalid({"MaxAzCount": "1", "EndpointTypes": "Interface,Gateway"}, "EndpointTypes", "Gateway")
        self.assert_invalid({"MaxAzCount": "1", "EndpointTypes": "interface"}, "accepted types are Interface")
        params = RULE.evaluate_parameters({"MaxAzCount": "1", "EndpointTypes": "Interface, GatewayLoadBalancer"})
        self.assertEqual(params.endpoint_types, ("Interface", "GatewayLoadBalancer"))
        params = RULE.evaluate_parameters({"MaxAzCount": "1", "EndpointTypes": "Resource,ServiceNetwork,Tunnel"})
        self.assertEqual(params.endpoint_types, ("Resource", "ServiceNetwork", "Tunnel"))

    def test_scenario3_every_endpoint_type_aws_knows_but_gateway_may_be_checked(self):
        # A type botocore adds fails here until TYPES_WITH_SUBNETS and the docstring say whether it has subnets.
        self.assertEqual(sorted(RULE_MODULE.TYPES_WITH_SUBNETS), sorted(t for t in ENDPOINT_TYPES if t != "Gateway"))
        self.assertIn("Tunnel", RULE_MODULE.TYPES_WITH_SUBNETS)

    def test_scenario4_hourly_cost_must_be_a_non_negative_number(self):
        for value in ("-0.01", "abc", "1e-2", "$0.01"):
            with self.subTest(value=value):
                self.assert_invalid({"MaxAzCount": "1", "HourlyCostPerAz": value}, "HourlyCostPerAz", repr(value))
        self.assertEqual(RULE.evaluate_parameters({"MaxAzCount": "1", "HourlyCostPerAz": "0.011"}).hourly_cost, 0.011)

    def test_scenario5_unknown_parameter_or_bad_exemption_tag_is_rejected(self):
        self.assert_invalid({"MaxAZCount": "1"}, "MaxAZCount", "MaxAzCount, MinAzCount, EndpointTypes")
        self.assert_invalid({"MaxAzCount": "1", "ExemptionTag": "=v"}, "ExemptionTag")


class ComplianceTest(unittest.TestCase):
    def assert_evaluation(self, item, params, compliance, annotation):
        self.assertEqual(evaluate(item, params), [Evaluation(compliance, annotation=annotation)])

    def test_scenario6_exempt_endpoint_is_not_applicable(self):
        self.assert_evaluation(
            configuration_item(tags={"az-exempt": "yes"}),
            {"MaxAzCount": "1", "ExemptionTag": "az-exempt=yes"},
            ComplianceType.NOT_APPLICABLE,
            "Exempt: the endpoint carries tag az-exempt=yes.",
        )

    def test_scenario7_requester_managed_endpoint_is_not_applicable(self):
        for managed in (True, "true"):
            with self.subTest(managed=managed):
                self.assert_evaluation(
                    configuration_item(requesterManaged=managed),
                    {"MaxAzCount": "1"},
                    ComplianceType.NOT_APPLICABLE,
                    "Requester-managed endpoint: an AWS service manages its subnets.",
                )

    def test_scenario8_deleted_or_deleting_endpoint_is_not_applicable(self):
        for state, shown in (("deleting", "deleting"), ({"value": "Deleted"}, "deleted"), ("deleted", "deleted")):
            with self.subTest(state=state):
                self.assert_evaluation(
                    configuration_item(state=state),
                    {"MaxAzCount": "1"},
                    ComplianceType.NOT_APPLICABLE,
                    f"The endpoint is {shown}.",
                )

    def test_scenario8_state_as_value_object_is_read(self):
        result = evaluate(configuration_item(state={"value": "available"}), {"MaxAzCount": "1"})
        self.assertEqual(result[0].complianceType, ComplianceType.NON_COMPLIANT)

    def test_scenario9_unchecked_type_is_not_applicable(self):
        self.assert_evaluation(
            configuration_item(subnets=0, endpoint_type="Gateway", service="com.amazonaws.us-east-1.s3"),
            {"MinAzCount": "2"},
            ComplianceType.NOT_APPLICABLE,
            "Endpoint type Gateway is not checked (EndpointTypes: Interface).",
        )

    def test_scenario9_tunnel_endpoint_is_not_applicable_by_default(self):
        self.assert_evaluation(
            configuration_item(subnets=3, endpoint_type="Tunnel", service=None),  # it reaches a resource configuration
            {"MaxAzCount": "1"},
            ComplianceType.NOT_APPLICABLE,
            "Endpoint type Tunnel is not checked (EndpointTypes: Interface).",
        )

    def test_scenario9_every_type_but_interface_is_not_applicable_by_default(self):
        for endpoint_type in (t for t in ENDPOINT_TYPES if t != "Interface"):
            with self.subTest(endpoint_type=endpoint_type):
                self.assert_evaluation(
                    configuration_item(subnets=3, endpoint_type=endpoint_type),
                    {"MaxAzCount": "1"},
                    ComplianceType.NOT_APPLICABLE,
                    f"Endpoint type {endpoint_type} is not checked (EndpointTypes: Interface).",
                )

    def test_scenario10_excluded_service_is_not_applicable(self):
        self.assert_evaluation(
            configuration_item(service="com.amazonaws.eu-west-1.logs"),
            {"MaxAzCount": "1", "ExcludedServiceNames": "com.amazonaws.*.s3, com.amazonaws.*.logs"},
            ComplianceType.NOT_APPLICABLE,
            "Service com.amazonaws.eu-west-1.logs is in ExcludedServiceNames.",
        )

    def test_scenario10_exclusion_is_a_whole_name_match(self):
        params = {"MaxAzCount": "1", "ExcludedServiceNames": "com.amazonaws.*.s3"}
        result = evaluate(configuration_item(service="com.amazonaws.us-east-1.s3-outposts"), params)
        self.assertEqual(result[0].complianceType, ComplianceType.NON_COMPLIANT)

    def test_scenario11_more_azs_than_maximum_is_non_compliant_with_cost(self):
        self.assert_evaluation(
            configuration_item(subnets=3),
            {"MaxAzCount": "1"},
            ComplianceType.NON_COMPLIANT,
            "The endpoint spans 3 AZs; the maximum is 1. The 2 extra AZ(s) cost about $14.60 a month "
            "(2 x $0.01/AZ-hour x 730 h).",
        )

    def test_scenario11_cost_uses_hourly_cost_per_az(self):
        result = evaluate(configuration_item(subnets=2), {"MaxAzCount": "1", "HourlyCostPerAz": "0.013"})
        self.assertIn("cost about $9.49 a month (1 x $0.013/AZ-hour x 730 h)", result[0].annotation)

    def test_scenario12_fewer_azs_than_minimum_is_non_compliant(self):
        self.assert_evaluation(
            configuration_item(subnets=1),
            {"MinAzCount": "2"},
            ComplianceType.NON_COMPLIANT,
            "The endpoint spans 1 AZ(s); the minimum is 2.",
        )

    def test_scenario13_count_within_bounds_is_compliant(self):
        self.assert_evaluation(
            configuration_item(subnets=2),
            {"MinAzCount": "2", "MaxAzCount": "3"},
            ComplianceType.COMPLIANT,
            "The endpoint spans 2 AZ(s) (min 2, max 3).",
        )
        self.assert_evaluation(
            configuration_item(subnets=1),
            {"MaxAzCount": "1"},
            ComplianceType.COMPLIANT,
            "The endpoint spans 1 AZ(s) (max 1).",
        )

    def test_scenario14_exemption_until_a_future_date_is_not_applicable_naming_it(self):
        self.assert_evaluation(
            configuration_item(tags={"az-exempt": "expires=2999-12-31 until the v2 migration"}),
            {"MaxAzCount": "1", "ExemptionTag": "az-exempt"},
            ComplianceType.NOT_APPLICABLE,
            "Exempt until 2999-12-31: the endpoint carries tag az-exempt (expires=2999-12-31 until the v2 migration).",
        )

    def test_scenario14_a_dated_exemption_holds_through_its_last_day_utc(self):
        params = RULE.evaluate_parameters({"MaxAzCount": "1", "ExemptionTag": "team=platform"})
        item = configuration_item(tags={"team": "platform expires=2027-01-31"})
        for today, compliance in (
            (date(2027, 1, 31), ComplianceType.NOT_APPLICABLE),
            (date(2027, 2, 1), ComplianceType.NON_COMPLIANT),
        ):
            with self.subTest(today=today):
                self.assertEqual(
                    RULE_MODULE.judge(item["configuration"], item["tags"], params, today).compliance, compliance
                )

    def test_scenario15_expired_exemption_gives_the_normal_verdict_saying_when_it_expired(self):
        self.assert_evaluation(
            configuration_item(subnets=1, tags={"team": "platform expires=2001-01-31"}),
            {"MinAzCount": "2", "ExemptionTag": "team=platform"},
            ComplianceType.NON_COMPLIANT,
            "The endpoint spans 1 AZ(s); the minimum is 2. Waiver (tag team=platform) expired on 2001-01-31.",
        )

    def test_scenario16_an_expiry_that_is_not_a_date_does_not_exempt(self):
        for raw in ("2027-02-30", "27-1-1"):
            with self.subTest(raw=raw):
                self.assert_evaluation(
                    configuration_item(subnets=1, tags={"team": f"platform expires={raw}"}),
                    {"MaxAzCount": "1", "ExemptionTag": "team=platform"},
                    ComplianceType.COMPLIANT,
                    f"The endpoint spans 1 AZ(s) (max 1). Exemption tag team=platform has expiry '{raw}' that is "
                    "not a date (YYYY-MM-DD): not exempt.",
                )

    def test_missing_subnet_list_counts_as_zero_azs(self):
        item = configuration_item()
        item["configuration"]["subnetIds"] = None
        self.assertEqual(
            evaluate(item, {"MinAzCount": "1"})[0].annotation, "The endpoint spans 0 AZ(s); the minimum is 1."
        )


class LambdaHandlerTest(unittest.TestCase):
    """The real handler under moto with an item built from a moto endpoint."""

    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.sent = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.config-service.PutEvaluations", lambda params, **_: self.sent.append(params)
        )

    def tearDown(self):
        boto3.DEFAULT_SESSION = None
        self.aws.stop()

    def test_handler_reports_excess_azs(self):
        ec2 = boto3.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{az}")["Subnet"][
                "SubnetId"
            ]
            for i, az in enumerate("ab")
        ]
        endpoint = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=SSM, VpcEndpointType="Interface", SubnetIds=subnets)
        endpoint_id = endpoint["VpcEndpoint"]["VpcEndpointId"]
        item = configuration_item(subnets=0)
        item["resourceId"] = endpoint_id
        item["configuration"].update(vpcEndpointId=endpoint_id, subnetIds=subnets)
        event = {
            "configRuleName": "VPC_ENDPOINT_AZ_COUNT_CHECK",
            "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "eventLeftScope": False,
            "invokingEvent": json.dumps(
                {
                    "messageType": "ConfigurationItemChangeNotification",
                    "configurationItem": item,
                    "notificationCreationTime": "t",
                }
            ),
            "ruleParameters": json.dumps({"MaxAzCount": "1"}),
            "accountId": "123456789012",
            "resultToken": "TESTMODE",
        }
        RULE_MODULE.lambda_handler(event, None)
        evaluation = self.sent[0]["Evaluations"][0]
        self.assertEqual(
            (evaluation["ComplianceResourceId"], evaluation["ComplianceType"]), (endpoint_id, "NON_COMPLIANT")
        )
        self.assertIn("spans 2 AZs; the maximum is 1", evaluation["Annotation"])


if __name__ == "__main__":
    unittest.main()
