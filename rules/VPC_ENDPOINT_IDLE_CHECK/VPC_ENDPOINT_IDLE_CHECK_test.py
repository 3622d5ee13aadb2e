import os
import unittest

import VPC_ENDPOINT_IDLE_CHECK as RULE_MODULE
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.VPC_ENDPOINT_IDLE_CHECK()


def configuration_item(tags=None):
    return {
        "resourceType": "AWS::EC2::VPCEndpoint",
        "resourceId": "resource-1",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "configuration": {},
        "tags": tags or {},
    }


def evaluate(item, **parameters):
    return RULE.evaluate_change({}, None, item, RULE.evaluate_parameters(parameters))


class VPC_ENDPOINT_IDLE_CHECKTest(unittest.TestCase):
    def test_scenario1_unknown_parameter_is_rejected_listing_the_accepted_names(self):
        with self.assertRaisesRegex(InvalidParametersError, "Unknown parameter.*Typo.*ExemptionTag"):
            RULE.evaluate_parameters({"Typo": "1"})

    def test_scenario2_exempt_resource_is_not_applicable(self):
        result = evaluate(configuration_item({"exempt": "yes"}), ExemptionTag="exempt=yes")
        expected = Evaluation(
            ComplianceType.NOT_APPLICABLE, annotation="The resource carries the exemption tag exempt=yes."
        )
        self.assertEqual(result, [expected])

    def test_scenario3_other_resource_is_compliant(self):
        expected = Evaluation(ComplianceType.COMPLIANT, annotation="The resource passes the check.")
        self.assertEqual(evaluate(configuration_item()), [expected])


if __name__ == "__main__":
    unittest.main()
