"""`rdkpack new-rule`: a rule folder in the project's shape, so the next rule starts right.

It writes the rule module (Gherkin docstring skeleton, parameters, a pure `judge`, the thin rdklib
class, `lambda_handler`), its unittest file with one test per scenario, `parameters.json` and the
rule kit. The skeleton passes the project's convention tests as written; what else a new rule needs
(an inventory builder for a new resource type, a pack entry in rdk-config.json, its page in mkdocs.yml) is named by
the tests that fail until it is there.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from string import Template

from rdkpack.errors import ConfigError
from rdkpack.project.kit import CANONICAL, KIT_NAME

RULE_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,63}")
RESOURCE_TYPE = re.compile(r"AWS::[A-Za-z0-9]+::[A-Za-z0-9]+")
FUNCTION_NAME_MAX = 64

RULE_MODULE = Template('''"""
#####################################
##           Gherkin               ##
#####################################
Rule Name:
  $name

Description:
  What the rule checks on each $resource_type (write it before the rule ships).

Rationale:
  Why a resource that fails the check is a risk or a cost.

Indicative Severity:
  Medium

Trigger:
  Configuration change on $resource_type

Reports on:
  $resource_type

Rule Parameters:
  ExemptionTag
    (Optional) 'key' or 'key=value'. Resources carrying it are NOT_APPLICABLE. The tag's value may end the
    waiver on a date: 'expires=YYYY-MM-DD' among its words (after the value, for 'key=value'); after that date
    the normal verdict applies, noting that the waiver expired.
  ExecutionRoleName, AssumeRoleMode, ExecutionRoleRegion
    (Optional) Passed through to rdklib. Any other parameter name is rejected.

Scenarios:
  Scenario 1:
    Given: A parameter name the rule does not know (a typo)
     Then: Return InvalidParametersError listing the accepted names
  Scenario 2:
    Given: The resource carries the ExemptionTag
     Then: Return NOT_APPLICABLE naming the tag
  Scenario 3:
    Given: Any other resource
     Then: Return COMPLIANT
"""

from dataclasses import dataclass

from rdklib import ComplianceType, ConfigRule, Evaluation
from rule_kit import (
    ExemptionTag,
    Verdict,
    exemption_of,
    fit_annotation,
    handle_event,
    parse_exemption_tag,
    reject_unknown_parameters,
    source_event_types,
)

APPLICABLE_RESOURCES = source_event_types(__file__)
# IAM the execution role needs beyond PutEvaluations: none while the rule reads only the item.
IAM_PERMISSIONS = ()
RULE_PARAMETERS = ("ExemptionTag",)


@dataclass(frozen=True)
class Params:
    exemption: ExemptionTag | None


def parse_parameters(raw: dict) -> Params:
    reject_unknown_parameters(raw, RULE_PARAMETERS)
    return Params(exemption=parse_exemption_tag(raw))


def judge(configuration_item: dict, params: Params) -> Verdict:
    """Pure: the verdict for one configuration item."""
    exemption = exemption_of(params.exemption, configuration_item.get("tags"))
    if exemption and exemption.in_force:
        # Scenario 2
        return Verdict(ComplianceType.NOT_APPLICABLE, exemption.reason("resource"))
    # Scenario 3
    return Verdict(ComplianceType.COMPLIANT, "The resource passes the check.").noted(exemption)


class $name(ConfigRule):
    def evaluate_parameters(self, rule_parameters):
        # Scenario 1
        return parse_parameters(rule_parameters)

    def evaluate_change(self, event, client_factory, configuration_item, valid_rule_parameters):
        verdict = judge(configuration_item, valid_rule_parameters)
        return [Evaluation(verdict.compliance, annotation=fit_annotation(verdict.annotation))]

    def evaluate_periodic(self, event, client_factory, valid_rule_parameters):
        # Change-triggered only: a scheduled notification comes from a misconfigured trigger; report nothing.
        return []


def lambda_handler(event, context):
    return handle_event($name(), APPLICABLE_RESOURCES, event, context)
''')

RULE_TEST = Template("""import os
import unittest

import $name as RULE_MODULE
from rdklib import ComplianceType, Evaluation, InvalidParametersError

# Hermetic: never pick up a real profile, credentials or endpoint.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
for _name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
    os.environ.pop(_name, None)

RULE = RULE_MODULE.$name()


def configuration_item(tags=None):
    return {
        "resourceType": "$resource_type",
        "resourceId": "resource-1",
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "configuration": {},
        "tags": tags or {},
    }


def evaluate(item, **parameters):
    return RULE.evaluate_change({}, None, item, RULE.evaluate_parameters(parameters))


class ${name}Test(unittest.TestCase):
    def test_scenario1_unknown_parameter_is_rejected_listing_the_accepted_names(self):
        with self.assertRaisesRegex(InvalidParametersError, "Unknown parameter.*Typo.*ExemptionTag"):
            RULE.evaluate_parameters({"Typo": "1"})

    def test_scenario2_exempt_resource_is_not_applicable(self):
        result = evaluate(configuration_item({"exempt": "yes"}), ExemptionTag="exempt=yes")
        expected = Evaluation(ComplianceType.NOT_APPLICABLE, annotation="Exempt: the resource carries tag exempt=yes.")
        self.assertEqual(result, [expected])

    def test_scenario3_other_resource_is_compliant(self):
        expected = Evaluation(ComplianceType.COMPLIANT, annotation="The resource passes the check.")
        self.assertEqual(evaluate(configuration_item()), [expected])


if __name__ == "__main__":
    unittest.main()
""")


def parameters_json(name: str, resource_type: str) -> str:
    body = {
        "Version": "1.0",
        "Parameters": {
            "RuleName": name,
            "Description": f"{name}: what it checks on {resource_type} (write it before the rule ships).",
            "SourceRuntime": "python3.12-lib",
            "EvaluationMode": "DETECTIVE",
            "InputParameters": "{}",
            "OptionalParameters": json.dumps({"ExemptionTag": ""}),
            "SourceEvents": resource_type,
            "RuleSets": [],
        },
        "Tags": "[]",
    }
    return json.dumps(body, indent=2) + "\n"


def check_request(root: Path, name: str, resource_type: str) -> Path:
    if not RULE_NAME.fullmatch(name):
        raise ConfigError("new-rule", "NAME", f"{name!r} is not a rule name", expected="UPPER_SNAKE, e.g. S3_CHECK")
    if len(f"RDK-Rule-Function-{name.replace('_', '')}") > FUNCTION_NAME_MAX:
        raise ConfigError(
            "new-rule", "NAME", f"{name!r} makes a Lambda name over 64 characters", expected="a shorter name"
        )
    if not RESOURCE_TYPE.fullmatch(resource_type):
        raise ConfigError(
            "new-rule", "--resource-type", f"{resource_type!r} is not a resource type", expected="e.g. AWS::S3::Bucket"
        )
    folder = root / "rules" / name
    if folder.exists():
        raise ConfigError(str(folder), "(folder)", "already exists", expected="a new rule name")
    return folder


def new_rule(root: Path, name: str, resource_type: str) -> list[Path]:
    """Write rules/<NAME>/ and return the files written."""
    folder = check_request(root, name, resource_type)
    values = {"name": name, "resource_type": resource_type}
    files = {
        folder / f"{name}.py": RULE_MODULE.substitute(values),
        folder / f"{name}_test.py": RULE_TEST.substitute(values),
        folder / "parameters.json": parameters_json(name, resource_type),
        folder / KIT_NAME: CANONICAL.read_text(encoding="utf-8"),
    }
    folder.mkdir(parents=True)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return list(files)
