import json
import os
import unittest
from unittest import mock

import boto3
import LAMBDA_CODE_SIGNING_CHECK as RULE_MODULE
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from botocore.validate import validate_parameters
from moto import mock_aws
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.LAMBDA_CODE_SIGNING_CHECK()
REAL_RATE_CAP = RULE_MODULE.RateCap
RESOURCE_TYPE = "AWS::Lambda::Function"
ACCOUNT = "123456789012"
CSC = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"
CSC_OTHER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:code-signing-config:csc-fedcba98765432100"
CSC_FOREIGN = "arn:aws:lambda:us-east-1:999999999999:code-signing-config:csc-0123456789abcdef0"
PROFILE = f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/p/abcdef0123"
PROFILE_OTHER = f"arn:aws:signer:us-east-1:{ACCOUNT}:/signing-profiles/other/0123456789"
LAYER = f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:base:3"


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
        "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
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

    def test_scenario18_a_foreign_signed_layer_is_non_compliant_on_the_change_path(self):
        item = configuration_item()
        item["configuration"]["layers"] = [{"arn": LAYER, "signingProfileVersionArn": PROFILE_OTHER}]
        expect_attached(self.stub, "fn", CSC)
        expect_policy(self.stub, CSC, "Warn")
        self.assert_evaluation(
            item,
            ComplianceType.NON_COMPLIANT,
            f"Layer {LAYER} is signed by {PROFILE_OTHER}; the code-signing config allows publishers: {PROFILE}.",
        )

    def test_scenario19_layers_signed_by_an_allowed_publisher_are_compliant(self):
        item = configuration_item()
        item["configuration"]["layers"] = [{"arn": LAYER, "signingProfileVersionArn": PROFILE}, {"arn": LAYER}]
        item["configuration"]["layers"][1]["signingProfileVersionArn"] = PROFILE
        expect_attached(self.stub, "fn", CSC)
        expect_policy(self.stub, CSC, "Warn")
        self.assert_evaluation(item, ComplianceType.COMPLIANT, f"Code-signing config {CSC} is attached.")

    def test_scenario22_exemption_until_a_future_date_is_not_applicable_naming_it_without_api_calls(self):
        self.assert_evaluation(
            configuration_item(tags={"team": "platform expires=2999-12-31 v2 migration"}),
            ComplianceType.NOT_APPLICABLE,
            "Exempt until 2999-12-31: the function carries tag team=platform "
            "(platform expires=2999-12-31 v2 migration).",
            {"ExemptionTag": "team=platform"},
        )
        self.assertEqual(self.factory.built, [])

    def test_scenario23_expired_exemption_gives_the_normal_verdict_saying_when_it_expired(self):
        expect_attached(self.stub, "fn", "")
        self.assert_evaluation(
            configuration_item(tags={"signing-exempt": "expires=2001-01-31 v2 migration"}),
            ComplianceType.NON_COMPLIANT,
            "No code-signing configuration is attached to the function. "
            "Waiver (tag signing-exempt) expired on 2001-01-31.",
            {"ExemptionTag": "signing-exempt"},
        )

    def test_scenario24_an_expiry_that_is_not_a_date_does_not_exempt(self):
        for raw in ("2027-02-30", "27-1-1"):
            with self.subTest(raw=raw):
                expect_attached(self.stub, "fn", CSC)
                self.assert_evaluation(
                    configuration_item(tags={"signing-exempt": f"expires={raw}"}),
                    ComplianceType.COMPLIANT,
                    f"Code-signing config {CSC} is attached. Exemption tag signing-exempt has expiry '{raw}' "
                    "that is not a date (YYYY-MM-DD): not exempt.",
                    {"ExemptionTag": "signing-exempt"},
                )

    def test_deleted_config_is_non_compliant_when_enforce_is_required(self):
        expect_attached(self.stub, "fn", CSC)
        self.stub.add_client_error("get_code_signing_config", "ResourceNotFoundException", http_status_code=404)
        self.assert_evaluation(
            configuration_item(),
            ComplianceType.NON_COMPLIANT,
            f"Code-signing config {CSC} no longer exists.",
            {"RequireEnforce": "true"},
        )


def config_listing(config_arn, policy="Enforce", publishers=(PROFILE,)):
    return {
        "CodeSigningConfigId": config_arn.rsplit(":", 1)[1],
        "CodeSigningConfigArn": config_arn,
        "AllowedPublishers": {"SigningProfileVersionArns": list(publishers)},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": policy},
        "LastModified": "2026-11-01T00:00:00.000+0000",
    }


def function_arn(name):
    return f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:{name}"


class PeriodicTest(unittest.TestCase):
    """The sweep against Stubber, which checks every request and canned answer against botocore's shapes."""

    def setUp(self):
        self.lambda_client, self.lambda_stub = stubbed("lambda")
        self.tagging_client, self.tagging_stub = stubbed("resourcegroupstaggingapi")
        self.factory = FakeClientFactory(
            **{"lambda": self.lambda_client, "resourcegroupstaggingapi": self.tagging_client}
        )
        self.uncapped = mock.patch.object(RULE_MODULE, "LAMBDA_CALLS_PER_SECOND", 1e9)
        self.uncapped.start()

    def tearDown(self):
        self.uncapped.stop()
        for stub in (self.lambda_stub, self.tagging_stub):
            stub.assert_no_pending_responses()
            stub.deactivate()

    def expect_configs(self, attached: dict, configs=None):
        """ListCodeSigningConfigs, then ListFunctionsByCodeSigningConfig per config: {config ARN: [names]}."""
        listing = configs or [config_listing(arn) for arn in attached]
        self.lambda_stub.add_response(
            "list_code_signing_configs", {"CodeSigningConfigs": listing}, {"MaxItems": 10_000}
        )
        for config in listing:
            arn = config["CodeSigningConfigArn"]
            self.lambda_stub.add_response(
                "list_functions_by_code_signing_config",
                {"FunctionArns": [function_arn(name) for name in attached.get(arn, [])]},
                {"CodeSigningConfigArn": arn, "MaxItems": 10_000},
            )

    def sweep(self, params):
        return RULE.evaluate_periodic({}, self.factory, RULE.evaluate_parameters(params))

    def test_scenario13_configs_and_their_functions_come_from_the_lists_with_no_per_function_call(self):
        configs = [config_listing(CSC, "Enforce"), config_listing(CSC_OTHER, "Warn")]
        self.expect_configs({CSC: ["f0", "f2"], CSC_OTHER: ["f1"]}, configs)
        self.lambda_stub.add_response("list_functions", {"Functions": [listed(f"f{i}") for i in range(4)]}, {})
        results = self.sweep({"RequireEnforce": "true"})
        self.assertEqual(
            [e.complianceType for e in results], ["COMPLIANT", "NON_COMPLIANT", "COMPLIANT", "NON_COMPLIANT"]
        )
        self.assertIn("UntrustedArtifactOnDeployment Warn", results[1].annotation)
        self.assertEqual(results[3].annotation, "No code-signing configuration is attached to the function.")

    def test_scenario14_sweep_paginates_and_sets_resource_id_and_type(self):
        self.expect_configs({CSC: ["a"]})
        self.lambda_stub.add_response(
            "list_functions", {"Functions": [listed("a"), listed("img", "Image")], "NextMarker": "m1"}, {}
        )
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("b")]}, {"Marker": "m1"})
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

    def expect_tagged(self, tagged: dict):
        """One GetResources on the key `signing`: {function name: that tag's value}."""
        mappings = [
            {
                "ResourceARN": function_arn(name),
                "Tags": [{"Key": "env", "Value": "prod"}, {"Key": "signing", "Value": v}],
            }
            for name, v in tagged.items()
        ]
        self.tagging_stub.add_response(
            "get_resources",
            {"ResourceTagMappingList": mappings},
            {"ResourceTypeFilters": ["lambda:function"], "TagFilters": [{"Key": "signing"}]},
        )

    def test_scenario15_exempt_functions_come_from_one_tag_query(self):
        self.expect_tagged({"legacy": "exempt", "other": "no"})
        self.expect_configs({CSC: ["new", "other"]})
        functions = [listed("legacy"), listed("new"), listed("other")]
        self.lambda_stub.add_response("list_functions", {"Functions": functions}, {})
        results = self.sweep({"ExemptionTag": "signing=exempt"})
        self.assertEqual(
            [(e.complianceResourceId, e.complianceType) for e in results],
            [("legacy", "NOT_APPLICABLE"), ("new", "COMPLIANT"), ("other", "COMPLIANT")],
        )

    def test_scenario22_the_sweep_judges_dated_and_expired_exemptions_as_the_change_path_does(self):
        self.expect_tagged({"waived": "exempt expires=2999-12-31", "lapsed": "exempt expires=2001-01-31"})
        self.expect_configs({CSC: ["lapsed"]})
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("waived"), listed("lapsed")]}, {})
        self.assertEqual(
            self.sweep({"ExemptionTag": "signing=exempt"}),
            [
                Evaluation(
                    "NOT_APPLICABLE",
                    "waived",
                    RESOURCE_TYPE,
                    "Exempt until 2999-12-31: the function carries tag signing=exempt (exempt expires=2999-12-31).",
                ),
                Evaluation(
                    "COMPLIANT",
                    "lapsed",
                    RESOURCE_TYPE,
                    f"Code-signing config {CSC} is attached. Waiver (tag signing=exempt) expired on 2001-01-31.",
                ),
            ],
        )

    def test_scenario16_only_listed_functions_are_evaluated(self):
        self.expect_configs({CSC: ["gone", "kept"]})
        self.lambda_stub.add_response("list_functions", {"Functions": [listed("kept")]}, {})
        results = self.sweep({})
        self.assertEqual([(e.complianceResourceId, e.complianceType) for e in results], [("kept", "COMPLIANT")])

    def test_scenario18_unsigned_or_foreign_signed_layers_are_non_compliant_on_the_sweep(self):
        self.expect_configs({CSC: ["unsigned", "foreign", "signed"]})
        functions = [
            {**listed("unsigned"), "Layers": [{"Arn": LAYER, "CodeSize": 1}]},
            {**listed("foreign"), "Layers": [{"Arn": LAYER, "CodeSize": 1, "SigningProfileVersionArn": PROFILE_OTHER}]},
            {**listed("signed"), "Layers": [{"Arn": LAYER, "CodeSize": 1, "SigningProfileVersionArn": PROFILE}]},
        ]
        self.lambda_stub.add_response("list_functions", {"Functions": functions}, {})
        results = {e.complianceResourceId: e for e in self.sweep({})}
        self.assertEqual(
            results["unsigned"].annotation,
            f"Layer {LAYER} is unsigned; the code-signing config allows publishers: {PROFILE}.",
        )
        self.assertEqual(
            results["foreign"].annotation,
            f"Layer {LAYER} is signed by {PROFILE_OTHER}; the code-signing config allows publishers: {PROFILE}.",
        )
        self.assertEqual(
            [results[n].complianceType for n in ("unsigned", "foreign", "signed")],
            ["NON_COMPLIANT", "NON_COMPLIANT", "COMPLIANT"],
        )

    def test_scenario21_many_recorded_items_are_judged_from_the_lists_like_the_change_path(self):
        self.expect_configs({CSC: ["signed", "layered"]}, [config_listing(CSC, "Warn")])
        items = [configuration_item("signed"), configuration_item("unsigned"), configuration_item("image", "Image")]
        layered = configuration_item("layered")
        layered["configuration"]["layers"] = [{"arn": LAYER, "signingProfileVersionArn": PROFILE_OTHER}]
        params = RULE.evaluate_parameters({})
        results = RULE.evaluate_items(self.factory, [*items, layered], params)
        self.assertEqual(
            [(e.complianceResourceId, e.complianceType) for e in results],
            [
                ("signed", "COMPLIANT"),
                ("unsigned", "NON_COMPLIANT"),
                ("image", "NOT_APPLICABLE"),
                ("layered", "NON_COMPLIANT"),
            ],
        )
        self.assertIn(f"signed by {PROFILE_OTHER}", results[3].annotation)

    def test_scenario20_the_sweep_calls_lambda_at_most_at_the_cap(self):
        client = boto3.client("lambda", region_name="us-east-1")
        pages = [{"Functions": [listed(f"f{i}")], "NextMarker": f"m{i + 1}"} for i in range(7)]
        answers = {
            "ListCodeSigningConfigs": [{"CodeSigningConfigs": [config_listing(CSC)]}],
            "ListFunctionsByCodeSigningConfig": [{"FunctionArns": [function_arn("f0")]}],
            "ListFunctions": [*pages, {"Functions": [listed("f7")]}],
        }
        answer_over_http(client, answers)
        clock = FakeClock()
        with (
            mock.patch.object(RULE_MODULE, "LAMBDA_CALLS_PER_SECOND", 5),
            mock.patch.object(RULE_MODULE, "RateCap", clock.rate_cap),
        ):
            results = RULE.evaluate_periodic({}, FakeClientFactory(**{"lambda": client}), RULE.evaluate_parameters({}))
        self.assertEqual(len(results), 8)
        self.assertEqual(len(clock.calls), 10)
        for first, sixth in zip(clock.calls, clock.calls[5:], strict=False):
            self.assertGreaterEqual(round(sixth - first, 9), 1.0)
        self.assertAlmostEqual(clock.now, 9 / 5)


class RawBody:
    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **_):
        yield self.body


def answer_over_http(client, answers: dict):
    """Answer operations at the HTTP layer (moto lacks them), each canned answer checked against botocore's shape."""
    for operation, queue in answers.items():
        shape = client.meta.service_model.operation_model(operation).output_shape
        for answer in queue:
            validate_parameters(answer, shape)

        def respond(request, queue=queue, **_):
            body = json.dumps(queue.pop(0)).encode()
            return AWSResponse(request.url, 200, {"content-type": "application/json"}, RawBody(body))

        client.meta.events.register(f"before-send.lambda.{operation}", respond)


class FakeClock:
    """A clock that moves only when the rate cap sleeps; records when each call went out."""

    def __init__(self):
        self.now = 0.0
        self.calls = []

    def sleep(self, seconds):
        self.now += seconds

    def rate_cap(self, per_second):
        cap = REAL_RATE_CAP(per_second, clock=lambda: self.now, sleep=self.sleep)
        original = cap.wait

        def wait(**kwargs):
            original(**kwargs)
            self.calls.append(self.now)

        cap.wait = wait
        return cap


def answer_before_call(session, client, answers: dict):
    """Answer operations on every client of the session, each answer checked against botocore's output shape."""
    for operation, answer in answers.items():
        validate_parameters(answer, client.meta.service_model.operation_model(operation).output_shape)

        def respond(answer=answer, **_):
            return AWSResponse("https://lambda.local", 200, {}, RawBody(b"")), answer

        session.events.register(f"before-call.lambda.{operation}", respond)


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
        # moto lacks the list APIs: answer them before the request, checked against botocore's shapes.
        answer_before_call(
            boto3.DEFAULT_SESSION,
            client,
            {
                "ListCodeSigningConfigs": {"CodeSigningConfigs": [config_listing(CSC)]},
                "ListFunctionsByCodeSigningConfig": {"FunctionArns": [function_arn("signed")]},
            },
        )

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
        self.assertEqual(names.count("ListCodeSigningConfigs"), 1)
        self.assertEqual(names.count("ListFunctionsByCodeSigningConfig"), 1)
        self.assertNotIn("GetFunctionCodeSigningConfig", names)
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
