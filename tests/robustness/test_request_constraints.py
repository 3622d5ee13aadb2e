"""Requests are held to the constraints AWS enforces and botocore does not check, before they reach moto or a stub.

tests/conftest.py installs the check on every client (tests/support/request_constraints.py); these tests send
requests that break each kind of constraint through real boto3 clients and see them stopped, naming the member.
"""

from __future__ import annotations

import re

import boto3
import botocore.session
import pytest
from botocore.exceptions import ParamValidationError
from botocore.stub import Stubber

from tests.support import request_constraints
from tests.support.request_constraints import RequestConstraintError, java_regex, violations

LIMIT = 51_200
ROLE = "arn:aws:iam::123456789012:role/automation"
# Every service the rules, remediation scripts, rdkpack and the tests' fixtures call.
PROJECT_SERVICES = (
    "cloudformation",
    "cloudwatch",
    "config",
    "ec2",
    "iam",
    "lambda",
    "organizations",
    "resourcegroupstaggingapi",
    "s3",
    "securityhub",
    "ssm",
    "sts",
)


def template_of(size: int, filler: str = " ") -> str:
    """A valid template of exactly `size` UTF-8 bytes: `filler` in its Metadata, then spaces after the JSON."""
    head, tail = '{"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}, "Metadata": {"Note": "', '"}}'
    count, spaces = divmod(size - len((head + tail).encode()), len(filler.encode()))
    if filler == " ":
        count, spaces = 0, count
    return head + filler * count + tail + " " * spaces


def reaching_moto(client) -> list[str]:
    """Operation names of the requests this client actually sends (before-send comes after every check)."""
    names: list[str] = []
    client.meta.events.register_first("before-send", lambda event_name, **_: names.append(event_name.split(".")[-1]))
    return names


def test_a_template_body_over_51200_bytes_is_stopped_before_moto(aws):
    client = boto3.client("cloudformation", region_name="us-east-1")
    sent = reaching_moto(client)
    with pytest.raises(RequestConstraintError) as caught:
        client.create_stack(StackName="too-big", TemplateBody=template_of(LIMIT + 1))
    assert isinstance(caught.value, ParamValidationError)  # code under test reports it like botocore's own
    message = str(caught.value)
    assert "CreateStack.TemplateBody" in message and "51,201 bytes" in message and "51,200" in message
    assert sent == []
    assert boto3.client("cloudformation", region_name="us-east-1").list_stacks()["StackSummaries"] == []


def test_a_template_body_of_exactly_51200_bytes_reaches_moto(aws):
    client = boto3.client("cloudformation", region_name="us-east-1")
    sent = reaching_moto(client)
    client.create_stack(StackName="just-fits", TemplateBody=template_of(LIMIT))
    assert sent == ["CreateStack"]
    assert client.describe_stacks(StackName="just-fits")["Stacks"][0]["StackName"] == "just-fits"


@pytest.mark.parametrize("operation", ["CreateStackSet", "UpdateStackSet", "ValidateTemplate", "CreateChangeSet"])
def test_the_template_body_limit_counts_utf8_bytes_on_every_cloudformation_operation(operation):
    model = botocore.session.get_session().get_service_model("cloudformation").operation_model(operation)
    fits, over = template_of(LIMIT, "é"), template_of(LIMIT + 2, "é")  # é is two bytes: fewer characters than bytes
    assert len(over) < LIMIT
    assert [v for v in violations(model, {"TemplateBody": fits}) if "TemplateBody" in v] == []
    (found,) = [v for v in violations(model, {"TemplateBody": over}) if "TemplateBody" in v]
    assert found.startswith(f"{operation}.TemplateBody: 51,202 bytes") and "51,200" in found


@pytest.fixture
def config_stub():
    client = boto3.client("config", region_name="us-east-1")
    with Stubber(client) as stub:
        yield client, stub


def remediation(**overrides):
    configuration = {
        "ConfigRuleName": "LAMBDA_LAYER_CHECK",
        "TargetType": "SSM_DOCUMENT",
        "TargetId": "AddRequiredLambdaLayer",
        "Parameters": {
            "AutomationAssumeRole": {"StaticValue": {"Values": [ROLE]}},
            "FunctionName": {"ResourceValue": {"Value": "RESOURCE_ID"}},
        },
        "Automatic": True,
        "MaximumAutomaticAttempts": 5,
        "RetryAttemptSeconds": 60,
    }
    return {**configuration, **overrides}


def test_a_valid_request_passes_the_check(config_stub):
    client, stub = config_stub
    stub.add_response("put_remediation_configurations", {"FailedBatches": []})
    assert client.put_remediation_configurations(RemediationConfigurations=[remediation()])["FailedBatches"] == []
    stub.assert_no_pending_responses()


def test_an_enum_violation_names_the_member(config_stub):
    client, stub = config_stub
    stub.add_response("put_remediation_configurations", {"FailedBatches": []})
    with pytest.raises(
        RequestConstraintError, match=r"RemediationConfigurations\[0\]\.TargetType: 'NOPE'.*SSM_DOCUMENT"
    ):
        client.put_remediation_configurations(RemediationConfigurations=[remediation(TargetType="NOPE")])


def test_a_numeric_range_violation_names_the_member(config_stub):
    client, stub = config_stub
    stub.add_response("put_remediation_configurations", {"FailedBatches": []})  # a Stubber checks its queue first
    with pytest.raises(RequestConstraintError, match=r"\[0\]\.MaximumAutomaticAttempts: 26, above the model's max 25"):
        client.put_remediation_configurations(RemediationConfigurations=[remediation(MaximumAutomaticAttempts=26)])


def test_every_violation_of_a_request_is_named(config_stub):
    client, stub = config_stub
    stub.add_response("put_remediation_configurations", {"FailedBatches": []})
    with pytest.raises(RequestConstraintError) as caught:
        client.put_remediation_configurations(
            RemediationConfigurations=[remediation(RetryAttemptSeconds=0), remediation(TargetType="NOPE")]
        )
    message = str(caught.value)
    assert "RemediationConfigurations[0].RetryAttemptSeconds: 0" in message
    assert "RemediationConfigurations[1].TargetType: 'NOPE'" in message


def test_a_max_length_violation_names_the_member(aws):
    client = boto3.client("config", region_name="us-east-1")
    rule = {"ConfigRuleName": "R" * 129, "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}}
    with pytest.raises(RequestConstraintError, match=r"ConfigRule\.ConfigRuleName: 129 characters .*max 128"):
        client.put_config_rule(ConfigRule=rule)
    client.put_config_rule(ConfigRule={**rule, "ConfigRuleName": "R" * 128})  # the longest name AWS takes


def test_a_list_size_violation_names_the_member(aws):
    client = boto3.client("config", region_name="us-east-1")
    evaluation = {
        "ComplianceResourceType": "AWS::Lambda::Function",
        "ComplianceResourceId": "fn",
        "ComplianceType": "COMPLIANT",
        "OrderingTimestamp": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(RequestConstraintError, match=r"PutEvaluations\.Evaluations: 101 items, more than .*max 100"):
        client.put_evaluations(Evaluations=[evaluation] * 101, ResultToken="TESTMODE", TestMode=True)
    client.put_evaluations(Evaluations=[evaluation] * 100, ResultToken="TESTMODE", TestMode=True)


def test_insufficient_data_is_refused_in_an_evaluation_though_the_enum_lists_it(aws):
    client = boto3.client("config", region_name="us-east-1")
    evaluation = {
        "ComplianceResourceType": "AWS::Lambda::Function",
        "ComplianceResourceId": "fn",
        "ComplianceType": "INSUFFICIENT_DATA",
        "OrderingTimestamp": "2024-01-01T00:00:00Z",
    }
    with pytest.raises(RequestConstraintError, match=r"Evaluations\[0\]\.ComplianceType: 'INSUFFICIENT_DATA'"):
        client.put_evaluations(Evaluations=[evaluation], ResultToken="TESTMODE", TestMode=True)


def test_a_pattern_violation_names_the_member(aws):
    client = boto3.client("config", region_name="us-east-1")
    with pytest.raises(RequestConstraintError, match=r"ConformancePackName: '1-pack' does not match .*pattern"):
        client.put_conformance_pack(ConformancePackName="1-pack", TemplateBody=template_of(100))
    with pytest.raises(RequestConstraintError, match=r"GetFunction\.FunctionName: 'no spaces please'"):
        boto3.client("lambda", region_name="us-east-1").get_function(FunctionName="no spaces please")


def test_an_organization_pack_name_over_128_characters_names_the_member():
    client = boto3.client("config", region_name="us-east-1")
    with Stubber(client) as stub, pytest.raises(RequestConstraintError) as caught:
        stub.add_response("put_organization_conformance_pack", {})
        client.put_organization_conformance_pack(OrganizationConformancePackName="p" * 129, TemplateBody="{}")
    assert "PutOrganizationConformancePack.OrganizationConformancePackName: 129 characters" in str(caught.value)
    assert "max 128" in str(caught.value)


def test_ssm_document_content_over_64_kb_is_refused():
    model = botocore.session.get_session().get_service_model("ssm").operation_model("CreateDocument")
    params = {"Name": "Doc", "DocumentType": "Automation", "DocumentFormat": "YAML"}
    assert violations(model, {**params, "Content": "x" * 65_536}) == []
    (found,) = violations(model, {**params, "Content": "x" * 65_537})
    assert found.startswith("CreateDocument.Content: 65,537 bytes") and "64 KB" in found


def test_clients_of_any_session_are_checked():
    bad = {"ConfigRuleNames": ["R" * 129]}
    for client in (
        boto3.session.Session().client("config", region_name="us-east-1"),
        botocore.session.get_session().create_client("config", region_name="us-east-1"),
    ):
        with Stubber(client) as stub, pytest.raises(RequestConstraintError, match="ConfigRuleNames"):
            stub.add_response("describe_config_rules", {"ConfigRules": []})
            client.describe_config_rules(**bad)


def test_clients_moto_builds_for_itself_are_exempt():
    namespace = {"__name__": "moto.somewhere.models", "boto3": boto3}
    exec("client = boto3.client('config', region_name='us-east-1')", namespace)  # a client made in a moto module
    with Stubber(namespace["client"]) as stub:
        stub.add_response("describe_config_rules", {"ConfigRules": []})
        namespace["client"].describe_config_rules(ConfigRuleNames=["R" * 129])


JAVA_CASES = [
    ("[a-zA-Z][-a-zA-Z0-9]*", "my-pack", True),
    ("[a-zA-Z][-a-zA-Z0-9]*", "1pack", False),
    # UTF-16 surrogate pairs in Java's patterns are one supplementary code point
    ("[\\u0009\\u000A\\u000D\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF]+", "héllo 😀\n", True),
    ("[\\u0009\\u000A\\u000D\\u0020-\\uD7FF\\uE000-\\uFFFD\\uD800\\uDC00-\\uDBFF\\uDFFF]+", "a\x01", False),
    ("[\\w-_]*", "a-b_c", True),  # Java: '-' after a class escape is literal
    ("\\w+", "é", False),  # Java's \w is ASCII-only
    ("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "Ünïcode tag 1", True),
    ("^[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*$", "a!b", False),
    ("\\P{C}+", "a\x00", False),
    ("\\p{Alnum}+", "é", False),  # POSIX classes are ASCII-only
    ("(?!(?i)AWS_)[a-zA-Z_][a-zA-Z0-9_]*", "aws_x", False),  # an inline flag inside a group
    ("^(?i)(true|false)$", "TRUE", True),
    ("\\A[a-zA-Z0-9_]+\\z", "abc", True),
    ("^[-_a-zA-Z0-9]*${2,64}$", "abc", True),  # a repeated anchor
    ("[a-z\\Q.*\\E]+", "a.*", True),
    ("\\x{0022}", '"', True),
    ("^(\\p{LD}|\\p{Punct}| )+$", "a1 !", True),  # Java's letter-or-digit
]


@pytest.mark.parametrize(("pattern", "value", "matches"), JAVA_CASES)
def test_java_patterns_mean_in_python_what_they_mean_in_java(pattern, value, matches):
    translated, flags = java_regex(pattern)
    assert bool(re.compile(translated, flags).fullmatch(value)) is matches


def test_every_pattern_of_the_project_services_is_checked_or_listed_as_skipped():
    loader = botocore.session.get_session().get_component("data_loader")
    shapes = [
        (service, name, shape["pattern"])
        for service in PROJECT_SERVICES
        for name, shape in loader.load_service_model(service, "service-2")["shapes"].items()
        if "pattern" in shape
    ]
    assert len(shapes) > 400
    for service, name, pattern in shapes:
        request_constraints.compile_pattern(service, name, pattern)
    skipped = {(service, name) for service, name, _ in request_constraints.SKIPPED_PATTERNS} & {
        (service, name) for service, name, _ in shapes
    }
    assert skipped == set(), f"patterns not checked: {sorted(skipped)}"
