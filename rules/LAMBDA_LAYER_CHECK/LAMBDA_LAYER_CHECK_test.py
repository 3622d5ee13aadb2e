import json
import os
import unittest
from datetime import date

import boto3
import LAMBDA_LAYER_CHECK as RULE_MODULE
from moto import mock_aws
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.LAMBDA_LAYER_CHECK()
RESOURCE_TYPE = "AWS::Lambda::Function"
BASE = "arn:aws:lambda:us-east-1:123456789012:layer:company-base"
PARAMS = {"LayerArn": BASE, "MinLayerVersion": "3"}


def configuration_item(layers=None, package_type="Zip", tags=None, name="fn"):
    configuration = {"functionName": name, "runtime": "python3.12"}
    if package_type is not None:
        configuration["packageType"] = package_type
    if layers is not None:
        configuration["layers"] = [{"arn": arn, "codeSize": 10} for arn in layers]
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": RESOURCE_TYPE,
        "resourceId": name,
        "resourceName": name,
        "awsAccountId": "123456789012",
        "configuration": configuration,
        "tags": tags or {},
    }


def evaluate(item, params=None):
    valid = RULE.evaluate_parameters(PARAMS if params is None else params)
    return RULE.evaluate_change({}, None, item, valid)


class ParameterTest(unittest.TestCase):
    def assert_invalid(self, params, *fragments):
        with self.assertRaises(InvalidParametersError) as caught:
            RULE.evaluate_parameters(params)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_scenario1_missing_or_blank_layer_arn_is_rejected(self):
        for params in ({}, {"LayerArn": "  "}, {"LayerArn": " , "}):
            with self.subTest(params=params):
                self.assert_invalid(params, "LayerArn is required")

    def test_scenario2_versioned_layer_arn_is_rejected_pointing_at_min_layer_version(self):
        self.assert_invalid({"LayerArn": BASE + ":4"}, "versioned ARN", "MinLayerVersion")

    def test_scenario3_malformed_layer_arn_is_rejected_naming_value(self):
        for value in (
            "company-base",
            "arn:aws:lambda:us-east-1:123456789012:function:company-base",
            "arn:aws:s3:us-east-1:123456789012:layer:company-base",
            "arn:aws:lambda:us-east-1:12345:layer:company-base",
            "arn:awz:lambda:us-east-1:123456789012:layer:company-base",
            "arn:aws:lambda:us-east-*:123456789012:layer:company-base",
        ):
            with self.subTest(value=value):
                self.assert_invalid({"LayerArn": value}, "LayerArn", repr(value))

    def test_scenario4_min_layer_version_must_be_integer_at_least_one(self):
        for value in ("0", "-1", "abc", "1.5", "3x"):
            with self.subTest(value=value):
                self.assert_invalid({"LayerArn": BASE, "MinLayerVersion": value}, "MinLayerVersion", repr(value))

    def test_scenario4_min_layer_version_defaults_to_one(self):
        self.assertEqual(RULE.evaluate_parameters({"LayerArn": BASE}).min_version, 1)
        self.assertEqual(RULE.evaluate_parameters({"LayerArn": BASE, "MinLayerVersion": ""}).min_version, 1)

    def test_scenario5_exemption_tag_with_empty_key_is_rejected(self):
        self.assert_invalid({"LayerArn": BASE, "ExemptionTag": "=yes"}, "ExemptionTag")

    def test_scenario6_unknown_parameter_is_rejected_listing_accepted_names(self):
        self.assert_invalid(
            {"LayerArn": BASE, "MinLayerVerison": "2"},
            "MinLayerVerison",
            "LayerArn, MinLayerVersion, ExemptionTag",
        )

    def test_rdklib_role_parameters_pass_through(self):
        params = RULE.evaluate_parameters(
            {
                "LayerArn": BASE,
                "ExecutionRoleName": "r",
                "AssumeRoleMode": "False",
                "ExecutionRoleRegion": "eu-west-1",
            }
        )
        self.assertEqual(params.min_version, 1)
        self.assert_invalid({"LayerArn": BASE, "AssumeRoleMode": "no"}, "AssumeRoleMode")


class ComplianceTest(unittest.TestCase):
    def assert_evaluation(self, item, compliance, annotation, params=None):
        self.assertEqual(evaluate(item, params), [Evaluation(compliance, annotation=annotation)])

    def test_scenario7_exempt_function_is_not_applicable(self):
        params = dict(PARAMS, ExemptionTag="layer-exempt=true")
        self.assert_evaluation(
            configuration_item(tags={"layer-exempt": "true"}),
            ComplianceType.NOT_APPLICABLE,
            "Exempt: the function carries tag layer-exempt=true.",
            params,
        )

    def test_scenario7_exemption_tag_with_other_value_does_not_exempt(self):
        params = dict(PARAMS, ExemptionTag="layer-exempt=true")
        result = evaluate(configuration_item(tags={"layer-exempt": "false"}), params)
        self.assertEqual(result[0].complianceType, ComplianceType.NON_COMPLIANT)

    def test_scenario7_key_only_exemption_tag_matches_any_value(self):
        params = dict(PARAMS, ExemptionTag="layer-exempt")
        result = evaluate(configuration_item(tags={"layer-exempt": ""}), params)
        self.assertEqual(result[0].complianceType, ComplianceType.NOT_APPLICABLE)

    def test_scenario8_image_package_type_returns_not_applicable(self):
        self.assert_evaluation(
            configuration_item(package_type="Image"),
            ComplianceType.NOT_APPLICABLE,
            "Image package type: container-image functions cannot use layers.",
        )

    def test_scenario9_no_layers_returns_non_compliant(self):
        expected = f"The function has no layers; expected {BASE} at version >= 3."
        for package_type, layers in (("Zip", []), (None, None), ("Zip", None)):
            with self.subTest(package_type=package_type, layers=layers):
                self.assert_evaluation(
                    configuration_item(layers=layers, package_type=package_type),
                    ComplianceType.NON_COMPLIANT,
                    expected,
                )

    def test_scenario9_null_package_type_is_treated_as_zip(self):
        item = configuration_item(layers=[])
        item["configuration"]["packageType"] = None
        self.assertEqual(evaluate(item)[0].complianceType, ComplianceType.NON_COMPLIANT)

    def test_scenario10_no_matching_layer_returns_non_compliant(self):
        self.assert_evaluation(
            configuration_item(layers=["arn:aws:lambda:us-east-1:123456789012:layer:other:9"]),
            ComplianceType.NON_COMPLIANT,
            f"None of the function's 1 layer(s) is approved; expected {BASE} at version >= 3.",
        )

    def test_scenario11_matching_layer_below_minimum_returns_non_compliant(self):
        self.assert_evaluation(
            configuration_item(layers=[BASE + ":2"]),
            ComplianceType.NON_COMPLIANT,
            f"Layer {BASE} is at version 2; the minimum is 3.",
        )

    def test_scenario12_matching_layer_at_or_above_minimum_returns_compliant(self):
        self.assert_evaluation(
            configuration_item(layers=["arn:aws:lambda:us-east-1:123456789012:layer:other:1", BASE + ":3"]),
            ComplianceType.COMPLIANT,
            f"Layer {BASE} is at version 3 (minimum 3).",
        )

    def test_scenario12_versions_compare_as_integers(self):
        params = {"LayerArn": BASE, "MinLayerVersion": "9"}
        self.assert_evaluation(
            configuration_item(layers=[BASE + ":10"]),
            ComplianceType.COMPLIANT,
            f"Layer {BASE} is at version 10 (minimum 9).",
            params,
        )

    def test_scenario13_wildcard_segments_match_every_partition_region_and_account(self):
        params = {"LayerArn": "arn:*:lambda:*:*:layer:company-base", "MinLayerVersion": "1"}
        for partition, region in (
            ("aws", "eu-west-1"),
            ("aws-cn", "cn-north-1"),
            ("aws-us-gov", "us-gov-west-1"),
            ("aws-iso", "us-iso-east-1"),
            ("aws-iso-b", "us-isob-east-1"),
            ("aws-iso-e", "eu-isoe-west-1"),
            ("aws-iso-f", "us-isof-south-1"),
            ("aws-eusc", "eusc-de-east-1"),
        ):
            with self.subTest(partition=partition):
                arn = f"arn:{partition}:lambda:{region}:210987654321:layer:company-base:1"
                self.assertEqual(evaluate(configuration_item(layers=[arn]), params)[0].complianceType, "COMPLIANT")

    def test_scenario13_wildcard_does_not_match_a_different_account_when_account_is_fixed(self):
        params = {"LayerArn": "arn:aws:lambda:*:123456789012:layer:company-base"}
        arn = "arn:aws:lambda:eu-west-1:999999999999:layer:company-base:5"
        self.assertEqual(evaluate(configuration_item(layers=[arn]), params)[0].complianceType, "NON_COMPLIANT")

    def test_scenario14_exemption_until_a_future_date_is_not_applicable_naming_it(self):
        value = "expires=2999-12-31 migration to v2"
        self.assert_evaluation(
            configuration_item(tags={"layer-exempt": value}),
            ComplianceType.NOT_APPLICABLE,
            f"Exempt until 2999-12-31: the function carries tag layer-exempt ({value}).",
            dict(PARAMS, ExemptionTag="layer-exempt"),
        )

    def test_scenario14_a_dated_exemption_holds_through_its_last_day_utc(self):
        params = RULE.evaluate_parameters(dict(PARAMS, ExemptionTag="team=platform"))
        tags = {"team": "platform expires=2027-01-31"}
        for today, compliance in (
            (date(2027, 1, 31), ComplianceType.NOT_APPLICABLE),
            (date(2027, 2, 1), ComplianceType.NON_COMPLIANT),
        ):
            with self.subTest(today=today):
                self.assertEqual(RULE_MODULE.judge({"layers": []}, tags, params, today).compliance, compliance)

    def test_scenario15_expired_exemption_gives_the_normal_verdict_saying_when_it_expired(self):
        self.assert_evaluation(
            configuration_item(layers=[BASE + ":2"], tags={"team": "platform expires=2001-01-31"}),
            ComplianceType.NON_COMPLIANT,
            f"Layer {BASE} is at version 2; the minimum is 3. Waiver (tag team=platform) expired on 2001-01-31.",
            dict(PARAMS, ExemptionTag="team=platform"),
        )

    def test_scenario16_an_expiry_that_is_not_a_date_does_not_exempt(self):
        for raw in ("2027-02-30", "27-1-1"):
            with self.subTest(raw=raw):
                self.assert_evaluation(
                    configuration_item(layers=[], tags={"layer-exempt": f"expires={raw}"}),
                    ComplianceType.NON_COMPLIANT,
                    f"The function has no layers; expected {BASE} at version >= 3. Exemption tag layer-exempt "
                    f"has expiry '{raw}' that is not a date (YYYY-MM-DD): not exempt.",
                    dict(PARAMS, ExemptionTag="layer-exempt"),
                )

    def test_every_partition_is_accepted_in_layer_arn(self):
        for partition in (
            "aws",
            "aws-cn",
            "aws-us-gov",
            "aws-iso",
            "aws-iso-b",
            "aws-iso-e",
            "aws-iso-f",
            "aws-eusc",
        ):
            with self.subTest(partition=partition):
                RULE.evaluate_parameters({"LayerArn": f"arn:{partition}:lambda:*:123456789012:layer:base"})

    def test_annotation_never_exceeds_256_characters(self):
        many = ",".join(f"arn:aws:lambda:*:123456789012:layer:{'x' * 100}{i}" for i in range(5))
        result = evaluate(configuration_item(layers=[]), {"LayerArn": many})
        self.assertLessEqual(len(result[0].annotation), 256)
        self.assertTrue(result[0].annotation.startswith("The function has no layers; expected arn:aws:lambda:"))


def config_event(item, params, message_type="ConfigurationItemChangeNotification"):
    invoking = {
        "configurationItem": item,
        "messageType": message_type,
        "notificationCreationTime": "2026-11-22",
    }
    return {
        "configRuleName": "LAMBDA_LAYER_CHECK",
        "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
        "eventLeftScope": False,
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(params),
        "accountId": "123456789012",
        "resultToken": "TESTMODE",
    }


class LambdaHandlerTest(unittest.TestCase):
    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.sent = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.config-service.PutEvaluations",
            lambda params, **_: self.sent.append(params),
        )

    def tearDown(self):
        boto3.DEFAULT_SESSION = None
        self.aws.stop()

    def test_handler_sends_non_compliant_evaluation_to_put_evaluations(self):
        client = boto3.client("lambda")
        layer = client.publish_layer_version(LayerName="company-base", Content={"ZipFile": b"PK"})
        item = configuration_item(layers=[layer["LayerVersionArn"]], name="orders")
        params = {"LayerArn": layer["LayerArn"], "MinLayerVersion": "2", "AssumeRoleMode": "false"}

        RULE_MODULE.lambda_handler(config_event(item, params), None)

        self.assertEqual(len(self.sent), 1)
        self.assertTrue(self.sent[0]["TestMode"])
        self.assertEqual(
            self.sent[0]["Evaluations"],
            [
                {
                    "ComplianceResourceId": "orders",
                    "ComplianceResourceType": RESOURCE_TYPE,
                    "ComplianceType": "NON_COMPLIANT",
                    "OrderingTimestamp": "2026-11-22T10:00:00.000Z",
                    "Annotation": f"Layer {layer['LayerArn']} is at version 1; the minimum is 2.",
                }
            ],
        )

    def test_handler_assumes_execution_role_by_default(self):
        item = configuration_item(layers=[BASE + ":7"])
        RULE_MODULE.lambda_handler(config_event(item, PARAMS), None)
        self.assertEqual(self.sent[0]["Evaluations"][0]["ComplianceType"], "COMPLIANT")

    def test_handler_reports_invalid_parameters_as_customer_error(self):
        response = RULE_MODULE.lambda_handler(config_event(configuration_item(), {"LayerArn": BASE + ":1"}), None)
        self.assertEqual(response["customerErrorCode"], "InvalidParameterValueException")
        self.assertIn("LayerArn", response["customerErrorMessage"])
        self.assertEqual(self.sent, [])


if __name__ == "__main__":
    unittest.main()
