"""Every rule's lambda_handler with every kind of event AWS Config sends, and with events it never sends.

The handler builds its own clients, so rdklib's ClientFactory is replaced by one that hands out
stubbed clients: each case states exactly which calls it expects, PutEvaluations included.
"""

from __future__ import annotations

import json
from typing import ClassVar

import boto3
import pytest
from botocore.stub import ANY, Stubber

from tests.support.project import ROOT, RULE_NAMES, load_module

CAPTURE = "2026-11-22T10:00:00.000Z"
LIFECYCLE = {"rules": [{"id": "all", "status": "Enabled", "prefix": "*", "filter": None}]}

# rule -> (resource type, resource id, configuration, supplementary configuration, parameters, verdict of the item)
SAMPLES = {
    "LAMBDA_LAYER_CHECK": (
        "AWS::Lambda::Function",
        "orders",
        {"functionName": "orders", "packageType": "Zip", "layers": []},
        {},
        {"LayerArn": "arn:aws:lambda:*:123456789012:layer:base"},
        "NON_COMPLIANT",
    ),
    "LAMBDA_CODE_SIGNING_CHECK": (
        "AWS::Lambda::Function",
        "images",
        {"functionName": "images", "packageType": "Image"},
        {},
        {},
        "NOT_APPLICABLE",
    ),
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": (
        "AWS::S3::Bucket",
        "logs-bucket",
        {"name": "logs-bucket"},
        {"BucketLifecycleConfiguration": LIFECYCLE},
        {},
        "NON_COMPLIANT",
    ),
    "VPC_ENDPOINT_AZ_COUNT_CHECK": (
        "AWS::EC2::VPCEndpoint",
        "vpce-0123456789abcdef0",
        {
            "vpcEndpointType": "Interface",
            "serviceName": "com.amazonaws.us-east-1.ssm",
            "subnetIds": ["a", "b"],
            "state": "available",
        },
        {},
        {"MaxAzCount": "1"},
        "NON_COMPLIANT",
    ),
    # A gateway endpoint: judged without a metric call, so each case states only Config's calls.
    "VPC_ENDPOINT_IDLE_CHECK": (
        "AWS::EC2::VPCEndpoint",
        "vpce-0123456789abcdef0",
        {
            "vpcEndpointId": "vpce-0123456789abcdef0",
            "vpcEndpointType": "Gateway",
            "vpcId": "vpc-0123456789abcdef0",
            "serviceName": "com.amazonaws.us-east-1.s3",
            "state": "available",
            "creationTimestamp": "2026-01-01T00:00:00.000Z",
        },
        {},
        {"IdleDays": "30"},
        "NOT_APPLICABLE",
    ),
}


class StubbedFactory:
    """Stands in for rdklib's ClientFactory (same constructor), with one stubbed client per service."""

    clients: ClassVar[dict] = {}

    def __init__(self, *args, **kwargs):
        pass

    def build_client(self, service, *args, **kwargs):
        return self.clients[service]


@pytest.fixture
def stubs(monkeypatch):
    clients = {s: boto3.client(s, region_name="us-east-1") for s in ("config", "lambda", "ec2", "cloudwatch")}
    stubbers = {s: Stubber(c) for s, c in clients.items()}
    for stub in stubbers.values():
        stub.activate()
    monkeypatch.setattr(StubbedFactory, "clients", clients)
    monkeypatch.setattr("rdklib.evaluator.ClientFactory", StubbedFactory)
    yield stubbers
    for stub in stubbers.values():
        stub.assert_no_pending_responses()


def item(rule, status="OK", resource_type=None):
    kind, resource_id, configuration, supplementary, _, _ = SAMPLES[rule]
    return {
        "configurationItemStatus": status,
        "configurationItemCaptureTime": CAPTURE,
        "resourceType": resource_type or kind,
        "resourceId": resource_id,
        "resourceName": resource_id,
        "configuration": configuration,
        "supplementaryConfiguration": supplementary,
        "tags": {},
    }


def event(rule, invoking, left_scope=False, **overrides):
    body = {
        "invokingEvent": invoking if isinstance(invoking, str) else json.dumps(invoking),
        "ruleParameters": json.dumps(SAMPLES[rule][4]),
        "resultToken": "TESTMODE",
        "eventLeftScope": left_scope,
        "executionRoleArn": "arn:aws:iam::123456789012:role/config",
        "configRuleName": rule,
        "accountId": "123456789012",
    }
    body.update(overrides)
    return body


def change(rule, **item_args):
    return {
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": item(rule, **item_args),
        "notificationCreationTime": CAPTURE,
    }


def without_capture_time(rule):
    item_body = {k: v for k, v in item(rule).items() if k != "configurationItemCaptureTime"}
    return {"configurationItem": item_body}


def expect_put(stubs, evaluations):
    stubs["config"].add_response(
        "put_evaluations", {}, {"Evaluations": evaluations, "ResultToken": "TESTMODE", "TestMode": True}
    )


def evaluation(rule, compliance, annotated=True, resource_type=None):
    kind, resource_id = SAMPLES[rule][:2]
    found = {
        "ComplianceResourceId": resource_id,
        "ComplianceResourceType": resource_type or kind,
        "ComplianceType": compliance,
        "OrderingTimestamp": CAPTURE,
    }
    return {**found, "Annotation": ANY} if annotated else found


def handler(rule):
    return load_module(ROOT / "rules" / rule / f"{rule}.py", f"plumbing_{rule}").lambda_handler


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_change_notification_is_evaluated(rule, stubs):
    expect_put(stubs, [evaluation(rule, SAMPLES[rule][5])])
    handler(rule)(event(rule, change(rule)), None)


@pytest.mark.parametrize("rule", RULE_NAMES)
@pytest.mark.parametrize(
    "capture_time",
    [
        pytest.param(1795860000, id="epoch-seconds"),
        pytest.param(1795860000000, id="epoch-milliseconds"),
        pytest.param(1795860000.0, id="epoch-float"),
        pytest.param(None, id="null-falls-back-to-notification-time"),
    ],
)
def test_change_notification_with_a_numeric_or_null_capture_time_is_evaluated(rule, capture_time, stubs):
    invoking = change(rule)
    invoking["configurationItem"]["configurationItemCaptureTime"] = capture_time
    expected_time = "2026-11-28T10:00:00.000Z" if capture_time else CAPTURE
    expect_put(stubs, [{**evaluation(rule, SAMPLES[rule][5]), "OrderingTimestamp": expected_time}])
    assert handler(rule)(event(rule, invoking), None)[0]["OrderingTimestamp"] == expected_time


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_oversized_notification_is_refetched_with_json_string_values(rule, stubs):
    kind, resource_id, configuration, supplementary, _, verdict = SAMPLES[rule]
    history = {
        "configurationItems": [
            {
                "configurationItemCaptureTime": CAPTURE,
                "configurationItemStatus": "OK",
                "resourceType": kind,
                "resourceId": resource_id,
                "configuration": json.dumps(configuration),
                "supplementaryConfiguration": {k: json.dumps(v) for k, v in supplementary.items()},
                "relationships": [],
                "tags": {},
            }
        ]
    }
    stubs["config"].add_response(
        "get_resource_config_history", history, {"resourceType": kind, "resourceId": resource_id, "limit": 1}
    )
    expect_put(stubs, [evaluation(rule, verdict)])
    invoking = {
        "messageType": "OversizedConfigurationItemChangeNotification",
        "configurationItemSummary": {"resourceType": kind, "resourceId": resource_id},
        "notificationCreationTime": CAPTURE,
        "recordVersion": "1.3",
    }
    handler(rule)(event(rule, invoking), None)


@pytest.mark.parametrize("rule", RULE_NAMES)
@pytest.mark.parametrize(
    "case",
    [
        pytest.param({"status": "ResourceDeleted"}, id="resource-deleted"),
        pytest.param({"resource_type": "AWS::IAM::Role"}, id="wrong-resource-type"),
    ],
)
def test_deleted_or_foreign_resources_are_not_applicable(rule, case, stubs):
    expect_put(stubs, [evaluation(rule, "NOT_APPLICABLE", annotated=False, resource_type=case.get("resource_type"))])
    handler(rule)(event(rule, change(rule, **case)), None)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_event_that_left_scope_is_not_applicable(rule, stubs):
    expect_put(stubs, [evaluation(rule, "NOT_APPLICABLE", annotated=False)])
    handler(rule)(event(rule, change(rule), left_scope=True), None)


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_scheduled_notification_reports_what_the_rule_sweeps(rule, stubs):
    if rule == "LAMBDA_CODE_SIGNING_CHECK":
        stubs["lambda"].add_response("list_code_signing_configs", {"CodeSigningConfigs": []}, {"MaxItems": 10_000})
        stubs["lambda"].add_response("list_functions", {"Functions": []}, {})
    if rule == "VPC_ENDPOINT_IDLE_CHECK":
        stubs["ec2"].add_response("describe_vpc_endpoints", {"VpcEndpoints": []}, {"MaxResults": 1000})
    expect_put(stubs, [])
    scheduled = {"messageType": "ScheduledNotification", "notificationCreationTime": CAPTURE}
    assert handler(rule)(event(rule, scheduled), None) == []


MALFORMED = [
    pytest.param(lambda rule: "not an event", "The event is not a JSON object.", id="not-an-object"),
    pytest.param(lambda rule: event(rule, "{not json"), "must be JSON strings", id="invoking-not-json"),
    pytest.param(lambda rule: event(rule, "[1, 2]"), "must be JSON objects", id="invoking-not-object"),
    pytest.param(
        lambda rule: event(rule, change(rule), ruleParameters="[]"), "must be JSON objects", id="parameters-not-object"
    ),
    pytest.param(
        lambda rule: {k: v for k, v in event(rule, change(rule)).items() if k != "resultToken"},
        "lacks resultToken",
        id="no-result-token",
    ),
    pytest.param(
        lambda rule: event(rule, {"messageType": "Surprise"}),
        "Unexpected messageType 'Surprise'",
        id="unknown-message-type",
    ),
    pytest.param(
        lambda rule: event(rule, {"messageType": "ConfigurationItemChangeNotification"}),
        "configurationItem must be an object",
        id="no-item",
    ),
    pytest.param(
        lambda rule: event(rule, {**change(rule), "notificationCreationTime": None} | without_capture_time(rule)),
        "needs a configurationItemCaptureTime (ISO-8601 text or epoch number)",
        id="no-time-at-all",
    ),
    pytest.param(
        lambda rule: event(
            rule, {"messageType": "OversizedConfigurationItemChangeNotification", "configurationItemSummary": {}}
        ),
        "configurationItemSummary must be an object with resourceType, resourceId",
        id="oversized-without-summary",
    ),
]


@pytest.mark.parametrize("rule", RULE_NAMES)
@pytest.mark.parametrize(("make_event", "fragment"), MALFORMED)
def test_malformed_events_get_a_clear_error_and_no_call(rule, make_event, fragment, stubs):
    response = handler(rule)(make_event(rule), None)
    assert fragment in response["internalErrorMessage"]


def test_every_rule_has_a_plumbing_sample():
    missing = sorted(set(RULE_NAMES) - set(SAMPLES))
    assert not missing, f"no event-plumbing sample for {missing}: add them to SAMPLES in {__name__}"
