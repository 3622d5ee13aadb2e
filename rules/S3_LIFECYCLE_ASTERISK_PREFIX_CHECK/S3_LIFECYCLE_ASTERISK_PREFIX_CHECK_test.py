import json
import os
import unittest
from datetime import date

import boto3
import S3_LIFECYCLE_ASTERISK_PREFIX_CHECK as RULE_MODULE
from moto import mock_aws
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.S3_LIFECYCLE_ASTERISK_PREFIX_CHECK()
RESOURCE_TYPE = "AWS::S3::Bucket"
HEADER = "S3 matches '*' in a lifecycle prefix literally, so"


def prefix_filter(prefix):
    return {"predicate": {"type": "LifecyclePrefixPredicate", "prefix": prefix}}


def and_filter(*operands):
    return {"predicate": {"type": "LifecycleAndOperator", "operands": list(operands)}}


TAG = {"type": "LifecycleTagPredicate", "tag": {"key": "k", "value": "v"}}
SIZE = {"type": "LifecycleObjectSizeGreaterThanPredicate", "objectSizeGreaterThan": 1024}


def rule(rule_id, prefix=None, lifecycle_filter=None, status="Enabled"):
    return {"id": rule_id, "status": status, "prefix": prefix, "filter": lifecycle_filter, "expirationInDays": 30}


def configuration_item(rules=None, lifecycle="object", tags=None, name="bucket-1"):
    supplementary = {"BucketVersioningConfiguration": {"status": "Off"}}
    if lifecycle == "object":
        supplementary["BucketLifecycleConfiguration"] = {"rules": rules or []}
    elif lifecycle == "string":
        supplementary["BucketLifecycleConfiguration"] = json.dumps({"rules": rules or []})
    elif lifecycle != "absent":
        supplementary["BucketLifecycleConfiguration"] = lifecycle
    return {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": RESOURCE_TYPE,
        "resourceId": name,
        "resourceName": name,
        "configuration": {"name": name},
        "supplementaryConfiguration": supplementary,
        "tags": tags or {},
    }


def evaluate(item, params=None):
    return RULE.evaluate_change({}, None, item, RULE.evaluate_parameters(params or {}))


class ParameterTest(unittest.TestCase):
    def assert_invalid(self, params, *fragments):
        with self.assertRaises(InvalidParametersError) as caught:
            RULE.evaluate_parameters(params)
        for fragment in fragments:
            self.assertIn(fragment, str(caught.exception))

    def test_scenario1_include_disabled_rules_must_be_boolean(self):
        self.assert_invalid({"IncludeDisabledRules": "sometimes"}, "IncludeDisabledRules", "'sometimes'")
        self.assertTrue(RULE.evaluate_parameters({}).include_disabled)
        self.assertFalse(RULE.evaluate_parameters({"IncludeDisabledRules": "False"}).include_disabled)

    def test_scenario2_exemption_tag_with_empty_key_is_rejected(self):
        self.assert_invalid({"ExemptionTag": "="}, "ExemptionTag")

    def test_scenario3_unknown_parameter_is_rejected_listing_accepted_names(self):
        self.assert_invalid({"IncludeDisabled": "true"}, "IncludeDisabled", "IncludeDisabledRules, ExemptionTag")


class ComplianceTest(unittest.TestCase):
    def assert_evaluation(self, item, compliance, annotation, params=None):
        self.assertEqual(evaluate(item, params), [Evaluation(compliance, annotation=annotation)])

    def test_scenario4_exempt_bucket_is_not_applicable(self):
        self.assert_evaluation(
            configuration_item([rule("all", "*")], tags={"lifecycle": "exempt"}),
            ComplianceType.NOT_APPLICABLE,
            "Exempt: the bucket carries tag lifecycle.",
            {"ExemptionTag": "lifecycle"},
        )

    def test_scenario5_absent_or_null_lifecycle_is_not_applicable(self):
        for lifecycle in ("absent", None, "null"):
            with self.subTest(lifecycle=lifecycle):
                item = configuration_item(lifecycle=lifecycle)
                if lifecycle is None:
                    item["supplementaryConfiguration"]["BucketLifecycleConfiguration"] = None
                self.assert_evaluation(
                    item, ComplianceType.NOT_APPLICABLE, "The bucket has no lifecycle configuration."
                )

    def test_scenario5_missing_supplementary_configuration_is_not_applicable(self):
        item = configuration_item()
        del item["supplementaryConfiguration"]
        self.assertEqual(evaluate(item)[0].complianceType, ComplianceType.NOT_APPLICABLE)

    def test_scenario6_unreadable_lifecycle_is_not_applicable_and_says_so(self):
        for lifecycle in ("{not json", "[1, 2]", 42):
            with self.subTest(lifecycle=lifecycle):
                self.assert_evaluation(
                    configuration_item(lifecycle=lifecycle),
                    ComplianceType.NOT_APPLICABLE,
                    "BucketLifecycleConfiguration in the configuration item could not be read.",
                )

    def test_scenario7_asterisk_in_legacy_prefix_is_non_compliant(self):
        self.assert_evaluation(
            configuration_item([rule("legacy", "*")]),
            ComplianceType.NON_COMPLIANT,
            f"{HEADER} 1 prefix(es) select no keys: legacy: '*'",
        )

    def test_scenario8_asterisk_in_prefix_predicate_is_non_compliant(self):
        self.assert_evaluation(
            configuration_item([rule("ok", None, prefix_filter("tmp/")), rule("logs", None, prefix_filter("logs/*"))]),
            ComplianceType.NON_COMPLIANT,
            f"{HEADER} 1 prefix(es) select no keys: logs: 'logs/*'",
        )

    def test_scenario9_asterisk_in_and_operator_prefix_is_non_compliant(self):
        self.assert_evaluation(
            configuration_item(
                [rule("and", None, and_filter({"type": "LifecyclePrefixPredicate", "prefix": "/*"}, TAG))]
            ),
            ComplianceType.NON_COMPLIANT,
            f"{HEADER} 1 prefix(es) select no keys: and: '/*'",
        )

    def test_scenario10_disabled_rule_counts_unless_excluded(self):
        item = configuration_item([rule("later", "*", status="Disabled")])
        self.assertEqual(evaluate(item)[0].complianceType, ComplianceType.NON_COMPLIANT)
        self.assert_evaluation(
            item,
            ComplianceType.COMPLIANT,
            "No lifecycle rule has '*' in a prefix.",
            {"IncludeDisabledRules": "false"},
        )

    def test_scenario11_clean_prefixes_tags_and_sizes_are_compliant(self):
        rules = [
            rule("whole", None, {"predicate": None}),
            rule("empty", "", None),
            rule("logs", None, prefix_filter("logs/")),
            rule("tag", None, {"predicate": TAG}),
            rule("size", None, {"predicate": SIZE}),
            rule("and", None, and_filter({"type": "LifecyclePrefixPredicate", "prefix": "a/"}, TAG, SIZE)),
        ]
        self.assert_evaluation(
            configuration_item(rules), ComplianceType.COMPLIANT, "No lifecycle rule has '*' in a prefix."
        )

    def test_scenario12_object_and_json_string_give_the_same_verdict(self):
        rules = [
            rule("legacy", "*"),
            rule("and", None, and_filter({"type": "LifecyclePrefixPredicate", "prefix": "x*"})),
        ]
        as_object = evaluate(configuration_item(rules, lifecycle="object"))
        as_string = evaluate(configuration_item(rules, lifecycle="string"))
        double = evaluate(configuration_item(lifecycle=json.dumps(json.dumps({"rules": rules}))))
        self.assertEqual(as_object, as_string)
        self.assertEqual(as_object, double)
        self.assertEqual(as_object[0].annotation, f"{HEADER} 2 prefix(es) select no keys: legacy: '*'; and: 'x*'")

    def test_scenario13_many_offences_are_summarised_within_256_characters(self):
        rules = [rule(f"expire-old-logs-{i:03}", f"logs/app-{i}/*") for i in range(40)]
        annotation = evaluate(configuration_item(rules))[0].annotation
        self.assertLessEqual(len(annotation), 256)
        self.assertTrue(
            annotation.startswith(f"{HEADER} 40 prefix(es) select no keys: expire-old-logs-000: 'logs/app-0/*';")
        )
        shown = annotation.count("expire-old-logs-")
        self.assertTrue(annotation.endswith(f" (+{40 - shown} more)"))

    def test_scenario14_exemption_until_a_future_date_is_not_applicable_naming_it(self):
        self.assert_evaluation(
            configuration_item([rule("all", "*")], tags={"lifecycle": "expires=2999-12-31 until the v2 layout"}),
            ComplianceType.NOT_APPLICABLE,
            "Exempt until 2999-12-31: the bucket carries tag lifecycle (expires=2999-12-31 until the v2 layout).",
            {"ExemptionTag": "lifecycle"},
        )

    def test_scenario14_a_dated_exemption_holds_through_its_last_day_utc(self):
        params = RULE.evaluate_parameters({"ExemptionTag": "team=data"})
        item = configuration_item([rule("all", "*")], tags={"team": "data expires=2027-01-31"})
        for today, compliance in (
            (date(2027, 1, 31), ComplianceType.NOT_APPLICABLE),
            (date(2027, 2, 1), ComplianceType.NON_COMPLIANT),
        ):
            with self.subTest(today=today):
                self.assertEqual(RULE_MODULE.judge(item, params, today).compliance, compliance)

    def test_scenario15_expired_exemption_gives_the_normal_verdict_saying_when_it_expired(self):
        self.assert_evaluation(
            configuration_item([rule("all", "*")], tags={"team": "data expires=2001-01-31"}),
            ComplianceType.NON_COMPLIANT,
            f"{HEADER} 1 prefix(es) select no keys: all: '*' Waiver (tag team=data) expired on 2001-01-31.",
            {"ExemptionTag": "team=data"},
        )

    def test_scenario15_the_expiry_note_and_the_count_of_the_rest_both_fit_in_256_characters(self):
        rules = [rule(f"expire-old-logs-{i:03}", f"logs/app-{i}/*") for i in range(40)]
        item = configuration_item(rules, tags={"team": "data expires=2001-01-31"})
        annotation = evaluate(item, {"ExemptionTag": "team=data"})[0].annotation
        self.assertLessEqual(len(annotation), 256)
        shown = annotation.count("expire-old-logs-")
        self.assertTrue(annotation.endswith(f" (+{40 - shown} more) Waiver (tag team=data) expired on 2001-01-31."))

    def test_scenario16_an_expiry_that_is_not_a_date_does_not_exempt(self):
        for raw in ("2027-02-30", "27-1-1"):
            with self.subTest(raw=raw):
                self.assert_evaluation(
                    configuration_item([rule("all", "logs/")], tags={"lifecycle": f"expires={raw}"}),
                    ComplianceType.COMPLIANT,
                    f"No lifecycle rule has '*' in a prefix. Exemption tag lifecycle has expiry '{raw}' that is not "
                    "a date (YYYY-MM-DD): not exempt.",
                    {"ExemptionTag": "lifecycle"},
                )

    def test_rule_without_id_is_named_by_position(self):
        item = configuration_item([{"status": "Enabled", "prefix": "*"}])
        self.assertIn("#1: '*'", evaluate(item)[0].annotation)


class LambdaHandlerTest(unittest.TestCase):
    """The real handler under moto: a change notification, and an oversized one that rdklib re-fetches."""

    def setUp(self):
        self.aws = mock_aws()
        self.aws.start()
        self.sent = []
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "provide-client-params.config-service.PutEvaluations", lambda params, **_: self.sent.append(params)
        )
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="logs-bucket")
        s3.put_bucket_lifecycle_configuration(
            Bucket="logs-bucket",
            LifecycleConfiguration={
                "Rules": [
                    {
                        "ID": "expire-logs",
                        "Status": "Enabled",
                        "Filter": {"Prefix": "logs/*"},
                        "Expiration": {"Days": 7},
                    }
                ]
            },
        )

    def tearDown(self):
        boto3.DEFAULT_SESSION = None
        self.aws.stop()

    def handle(self, invoking):
        event = {
            "configRuleName": "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",
            "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "eventLeftScope": False,
            "invokingEvent": json.dumps(invoking),
            "ruleParameters": json.dumps({"AssumeRoleMode": "false"}),
            "accountId": "123456789012",
            "resultToken": "TESTMODE",
        }
        RULE_MODULE.lambda_handler(event, None)
        return [
            (e["ComplianceResourceId"], e["ComplianceType"], e.get("Annotation")) for e in self.sent[0]["Evaluations"]
        ]

    def test_change_and_oversized_notifications_give_the_same_verdict(self):
        item = configuration_item([rule("expire-logs", None, prefix_filter("logs/*"))], name="logs-bucket")
        change = self.handle(
            {
                "messageType": "ConfigurationItemChangeNotification",
                "configurationItem": item,
                "notificationCreationTime": "t",
            }
        )
        self.sent.clear()
        oversized = self.handle(
            {
                "messageType": "OversizedConfigurationItemChangeNotification",
                "configurationItemSummary": {"resourceType": RESOURCE_TYPE, "resourceId": "logs-bucket"},
                "notificationCreationTime": "t",
                "recordVersion": "1.3",
            }
        )
        expected = ("logs-bucket", "NON_COMPLIANT", f"{HEADER} 1 prefix(es) select no keys: expire-logs: 'logs/*'")
        self.assertEqual(change, [expected])
        self.assertEqual(oversized, [expected])


if __name__ == "__main__":
    unittest.main()
