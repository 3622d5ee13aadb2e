import json
import os
import unittest

import boto3
import LAMBDA_CODE_SIGNING_CHECK as RULE_MODULE
from botocore.stub import Stubber
from moto import mock_aws
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.LAMBDA_CODE_SIGNING_CHECK()
RESOURCE_TYPE = "AWS::Lambda::Function"
ACCOUNT = "123456789012"
CSC = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"
CSC_OTHER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-fedcba98765432100"
CSC_FOREIGN = "arn:aws:lambda:us-east-1:999999999999:code-signing-config:csc-0123456789abcdef0"


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
    client = boto3.client(service, region_name="us-east-1")
    stub = Stubber(client)
    stub.activate()
    return client, stub


def expect_attached(stub, name, config_arn):
    stub.add_response(
        "get_function_code_signing_config",
        {"CodeSigningConfigArn": config_arn, "FunctionName": name},
        {"FunctionName": name},
    )


def expect_policy(stub, config_arn, policy):
    config = {
        "CodeSigningConfigId": config_arn.rsplit(":", 1)[1],
        "CodeSigningConfigArn": config_arn,
        "AllowedPublishers": {"SigningProfileVersionArns": [f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/p"]},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy},
        "LastModified": "2026-11-01T00:00:00.000+0000",
    }
    stub.add_response("get_code_signing_config", {"CodeSigningConfig": config}, {"CodeSigningConfigArn": config_arn})


def configuration_item(name="fn", package_type="Zip", tags=None):
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": RESOURCE_TYPE,
        "resourceId": name,
        "resourceName": name,
        "configuration": {"functionName": name, "packageType": package_type},
        "tags": tags or {},
    }


def listed(name, package_type="Zip"):
    return {
        "FunctionName": name,
        "FunctionArn": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}",
        "PackageType": package_type,
    }


class ParameterTest(unittest.TestCase):
    def assert_invalid(self, params, *fragments):
        with self.assertRaises(InvalidParametersError) as caught:
            RULE.evaluate_parameters(params)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_scenario1_malformed_allowed_config_arn_is_rejected(self):
        for value in ("csc-0123456789abcdef0", CSC.replace("lambda", "signer"), CSC + "x", f"{CSC},arn:aws:lambda"):
            with self.subTest(value=value):
                self.assert_invalid({"AllowedCodeSigningConfigArns": value}, "AllowedCodeSigningConfigArns")

    def test_scenario1_wildcards_are_accepted_per_segment(self):
        params = RULE.evaluate_parameters(
            {"AllowedCodeSigningConfigArns": f"arn:*:lambda:*:{ACCOUNT}:code-signing-config:*, {CSC}"}
        )
        self.assertEqual(len(params.allowed), 2)

    def test_scenario2_require_enforce_must_be_boolean(self):
        self.assert_invalid({"RequireEnforce": "yes"}, "RequireEnforce", "'yes'")
        self.assertTrue(RULE.evaluate_parameters({"RequireEnforce": "TRUE"}).require_enforce)
        self.assertFalse(RULE.evaluate_parameters({}).require_enforce)

    def test_scenario3_exemption_tag_with_empty_key_is_rejected(self):
        self.assert_invalid({"ExemptionTag": " =x"}, "ExemptionTag")

    def test_scenario4_unknown_parameter_is_rejected_listing_accepted_names(self):
        self.assert_invalid(
            {"RequireEnforced": "true"}, "RequireEnforced", "AllowedCodeSigningConfigArns, RequireEnforce"
        )


class ChangeTest(unittest.TestCase):
    def setUp(self):
        self.client, self.stub = stubbed("lambda")
        self.factory = FakeClientFactory(**{"lambda": self.client})

    def tearDown(self):
        self.stub.assert_no_pending_responses()
        self.stub.deactivate()

    def evaluate(self, item, params=None):
        return RULE.evaluate_change({}, self.factory, item, RULE.evaluate_parameters(params or {}))

    def assert_evaluation(self, item, compliance, annotation, params=None):
        self.assertEqual(self.evaluate(item, params), [Evaluation(compliance, annotation=annotation)])

    def test_scenario5_exempt_function_is_not_applicable_without_api_calls(self):
        self.assert_evaluation(
            configuration_item(tags={"signing": "exempt"}),
            ComplianceType.NOT_APPLICABLE,
            "Exempt: the function carries tag signing=exempt.",
            {"ExemptionTag": "signing=exempt"},
        )
        self.assertEqual(self.factory.built, [])

    def test_scenario6_image_function_is_not_applicable_without_api_calls(self):
        self.assert_evaluation(
            configuration_item(package_type="Image"),
            ComplianceType.NOT_APPLICABLE,
            "Image package type: container-image functions cannot use code signing.",
        )
        self.assertEqual(self.factory.built, [])

    def test_scenario7_function_deleted_before_the_call_is_not_applicable(self):
        self.stub.add_client_error(
            "get_function_code_signing_config", "ResourceNotFoundException", http_status_code=404
        )
        self.assert_evaluation(configuration_item(), ComplianceType.NOT_APPLICABLE, "The function no longer exists.")

    def test_scenario8_no_config_attached_is_non_compliant(self):
        expect_attached(self.stub, "fn", "")
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            "No code-signing configuration is attached to the function.",
        )

    def test_scenario9_config_outside_allow_list_is_non_compliant(self):
        expect_attached(self.stub, "fn", CSC_FOREIGN)
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            f"Code-signing config {CSC_FOREIGN} is not in AllowedCodeSigningConfigArns.",
            {"AllowedCodeSigningConfigArns": f"arn:aws:lambda:*:{ACCOUNT}:code-signing-config:*"},
        )

    def test_scenario10_allowed_config_is_compliant_without_reading_the_policy(self):
        expect_attached(self.stub, "fn", CSC)
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.COMPLIANT,
            f"Code-signing config {CSC} is attached.",
            {"AllowedCodeSigningConfigArns": f"arn:*:lambda:*:*:code-signing-config:{CSC.rsplit(':', 1)[1]}"},
        )

    def test_scenario11_warn_policy_is_non_compliant_when_enforce_is_required(self):
        expect_attached(self.stub, "fn", CSC)
        expect_policy(self.stub, CSC, "Warn")
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            f"Code-signing config {CSC} has UntrustedArtifactOnDeployment Warn; Enforce is required.",
            {"RequireEnforce": "true"},
        )

    def test_scenario12_enforce_policy_is_compliant(self):
        expect_attached(self.stub, "fn", CSC)
        expect_policy(self.stub, CSC, "Enforce")
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.COMPLIANT,
            f"Code-signing config {CSC} enforces signatures.",
            {"RequireEnforce": "true"},
        )

    def test_scenario17_item_without_a_function_name_is_not_applicable_without_api_calls(self):
        for name in (None, "", 42, "has spaces", "x" * 65):
            with self.subTest(name=name):
                item = configuration_item()
                item["configuration"]["functionName"] = name
                item["resourceName"] = name
                self.assert_evaluation(
                    item, ComplianceType.NOT_APPLICABLE, "The configuration item names no Lambda function."
                )
        self.assertEqual(self.factory.built, [])

    def test_deleted_config_is_non_compliant_when_enforce_is_required(self):
        expect_attached(self.stub, "fn", CSC)
        self.stub.add_client_error("get_code_signing_config", "ResourceNotFoundException", http_status_code=404)
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            f"Code-signing config {CSC} no longer exists.",
            {"RequireEnforce": "true"},
        )


class PeriodicTest(unittest.TestCase):
    def setUp(self):
        self.lambda_client, self.lambda_stub = stubbed("lambda")
        self.tagging_client, self.tagging_stub = stubbed("resourcegroupstaggingapi")
        self.factory = FakeClientFactory(
            **{"lambda": self.lambda_client, "resourcegroupstaggingapi": self.tagging_client}
        )

    def tearDown(self):
        for stub in (self.lambda_stub, self.tagging_stub):
            stub.assert_no_pending_responses()
            stub.deactivate()

    def sweep(self, params):
        return RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters(params))

    def test_scenario13_policy_is_read_once_per_distinct_config(self):
        self.lambda_stub.add_response("list_functions", {"Functions": [listed(f"f{i}") for i in range(4)]}, {})
        for i, arn in enumerate((CSC, CSC_OTHER, CSC, CSC)):
            expect_attached(self.lambda_stub, f"f{i}", arn)
            if i < 2:
                expect_policy(self.lambda_stub, arn, "Enforce" if arn == CSC else "Warn")
        results = self.sweep({"RequireEnforce": "true"})
        self.assertEqual([e.complianceType for e in results], ["COMPLIANT", "NON_COMPLIANT", "COMPLIANT", "COMPLIANT"])

    def test_scenario14_sweep_paginates_and_sets_resource_id_and_type(self):
        self.lambda_stub.add_response(
            "list_functions", {"Functions": [listed("a"), listed("img", "Image")], "NextMarker": "m1"}, {}
        )
        expect_attached(self.lambda_stub, "a", CSC)
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("b")]}, {"Marker": "m1"})
        expect_attached(self.lambda_stub, "b", "")
        self.assertEqual(
            self.sweep({}),
            [
                Evaluation("COMPLIANT", "a", RESOURCE_TYPE, f"Code-signing config {CSC} is attached."),
                Evaluation(
                    "NOT_APPLICABLE",
                    "img",
                    RESOURCE_TYPE,
                    "Image package type: container-image functions cannot use code signing.",
                ),
                Evaluation(
                    "NON_COMPLIANT", "b", RESOURCE_TYPE, "No code-signing configuration is attached to the function."
                ),
            ],
        )
        self.assertNotIn("resourcegroupstaggingapi", self.factory.built)

    def test_scenario15_exempt_functions_come_from_one_tag_query(self):
        self.tagging_stub.add_response(
            "get_resources",
            {"ResourceTagMappingList": [{"ResourceARN": listed("legacy")["FunctionArn"]}]},
            {"ResourceTypeFilters": ["lambda:function"], "TagFilters": [{"Key": "signing", "Values": ["exempt"]}]},
        )
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("legacy"), listed("new")]}, {})
        expect_attached(self.lambda_stub, "new", CSC)
        results = self.sweep({"ExemptionTag": "signing=exempt"})
        self.assertEqual(
            [(e.complianceResourceId, e.complianceType) for e in results],
            [("legacy", "NOT_APPLICABLE"), ("new", "COMPLIANT")],
        )

    def test_scenario16_function_deleted_during_the_sweep_is_not_applicable(self):
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("gone"), listed("kept")]}, {})
        self.lambda_stub.add_client_error(
            "get_function_code_signing_config", "ResourceNotFoundException", http_status_code=404
        )
        expect_attached(self.lambda_stub, "kept", "")
        results = self.sweep({})
        self.assertEqual(
            [(e.complianceResourceId, e.complianceType) for e in results],
            [("gone", "NOT_APPLICABLE"), ("kept", "NON_COMPLIANT")],
        )


def config_event(invoking, params):
    return {
        "configRuleName": "LAMBDA_CODE_SIGNING_CHECK",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config-role",
        "eventLeftScope": False,
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(params),
        "accountId": ACCOUNT,
        "resultToken": "TESTMODE",
    }


class LambdaHandlerTest(unittest.TestCase):
    """The real handler against moto, which stores CodeSigningConfigArn given to CreateFunction."""

    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.calls = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.*.*", lambda model, params, **_: self.calls.append((model.name, params))
        )
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda")
        common = {"Role": role, "Runtime": "python3.12", "Handler": "h.h", "Code": {"ZipFile": b"PK"}}
        client.create_function(FunctionName="signed", CodeSigningConfigArn=CSC, **common)
        client.create_function(FunctionName="unsigned", **common)

    def tearDown(self):
        boto3.DEFAULT_SESSION = None
        self.aws.stop()

    def sent(self):
        return [e for name, params in self.calls if name == "PutEvaluations" for e in params["Evaluations"]]

    def test_scheduled_sweep_reports_every_function(self):
        invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
        RULE_MODULE.lambda_handler(config_event(invoking, {"AssumeRoleMode": "false"}), None)
        self.assertEqual(
            sorted((e["ComplianceResourceId"], e["ComplianceType"]) for e in self.sent()),
            [("signed", "COMPLIANT"), ("unsigned", "NON_COMPLIANT")],
        )
        names = [name for name, _ in self.calls]
        self.assertEqual(names.count("GetFunctionCodeSigningConfig"), 2)
        self.assertNotIn("GetFunction", names)
        self.assertNotIn("GetComplianceDetailsByConfigRule", names)

    def test_change_notification_reads_the_attached_config(self):
        invoking = {
            "messageType": "ConfigurationItemChangeNotification",
            "configurationItem": configuration_item("signed"),
            "notificationCreationTime": "2026-11-22T10:00:00.000Z",
        }
        RULE_MODULE.lambda_handler(config_event(invoking, {"AssumeRoleMode": "false"}), None)
        self.assertEqual(
            self.sent(),
            [
                {
                    "ComplianceResourceId": "signed",
                    "ComplianceResourceType": RESOURCE_TYPE,
                    "ComplianceType": "COMPLIANT",
                    "OrderingTimestamp": "2026-11-22T10:00:00.000Z",
                    "Annotation": f"Code-signing config {CSC} is attached.",
                }
            ],
        )


if __name__ == "__main__":
    unittest.main()
