"""Throttling, 5xx and AccessDenied on every API a rule or remediation calls.

Faults are injected below botocore's retry loop (tests/faults.py), so these tests prove the clients
really retry (standard mode) and then produce the right result, and that a remediation that cannot
finish leaves the resource as it was.
"""

from __future__ import annotations

import json
from urllib.parse import unquote

import boto3
import pytest
from botocore.validate import validate_parameters
from moto.awslambda.models import lambda_backends
from moto.core.botocore_stubber import BotocoreStubber

from tests.support import faults
from tests.support.calls import called_operations, declared_services
from tests.support.endpoint_account import idle_and_busy_endpoints
from tests.support.project import ROOT, RULE_NAMES, load_module, load_remediation_script, load_rule

ACCOUNT, REGION = "123456789012", "us-east-1"
CSC = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0123456789abcdef0"
PROTOCOLS = {
    "lambda": "rest-json",
    "config": "json",
    "tagging": "json",
    "s3": "rest-xml",
    "ec2": "ec2",
    "ssm": "json",
    "cloudwatch": "json",  # its model lists rpc-v2-cbor first; botocore 1.44 resolves it to JSON
}


@pytest.fixture
def session(aws, monkeypatch):
    """The default boto3 session (rules and scripts build their clients from it), retry sleeps recorded."""
    boto3.setup_default_session()
    faults.no_backoff(monkeypatch)
    # before-send runs every handler: moto must not also act on (or reject) a request answered here.
    original = BotocoreStubber.__call__
    monkeypatch.setattr(
        BotocoreStubber,
        "__call__",
        lambda self, event_name, request, **kw: (
            None if getattr(request, "fault_answered", False) else original(self, event_name, request, **kw)
        ),
    )
    yield boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = None


def inject(session, service, operation, kind=faults.THROTTLE, *, count=2, then=None):
    plan = faults.FaultPlan(operation, kind, count, then)
    return faults.install(session.events, plan, PROTOCOLS[service])


# ---- rules ----

SIGNING_POLICY = {
    "CodeSigningConfig": {
        "CodeSigningConfigId": "csc-0123456789abcdef0",
        "CodeSigningConfigArn": CSC,
        "AllowedPublishers": {"SigningProfileVersionArns": [f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/p"]},
        "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        "LastModified": "2026-11-01T00:00:00.000+0000",
    }
}


def lambda_functions(session):
    role = session.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client = session.client("lambda")
    common = {"Role": role, "Runtime": "python3.12", "Handler": "h.h", "Code": {"ZipFile": b"PK"}}
    client.create_function(FunctionName="signed", CodeSigningConfigArn=CSC, **common)
    client.create_function(FunctionName="unsigned", **common)


def sweep_event(parameters):
    invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    return {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps({**parameters, "AssumeRoleMode": "false"}),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config",
        "accountId": ACCOUNT,
        "configRuleName": "LAMBDA_CODE_SIGNING_CHECK",
    }


SWEEP_PARAMETERS = {"RequireEnforce": "true", "ExemptionTag": "legacy"}
SIGNED_FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:signed"
RULE_OPERATIONS = [
    ("lambda", "ListFunctions", None),
    ("lambda", "ListCodeSigningConfigs", {"CodeSigningConfigs": [SIGNING_POLICY["CodeSigningConfig"]]}),
    (
        "lambda",
        "ListFunctionsByCodeSigningConfig",
        {"FunctionArns": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:signed"]},
    ),
    ("tagging", "GetResources", {"ResourceTagMappingList": []}),
    ("config", "PutEvaluations", None),
]
CHANGE_OPERATIONS = [
    ("lambda", "GetFunctionCodeSigningConfig", None),
    ("lambda", "GetCodeSigningConfig", SIGNING_POLICY),
    ("config", "PutEvaluations", None),
]
IDLE_OPERATIONS = [
    ("ec2", "DescribeVpcEndpoints", None),
    ("cloudwatch", "GetMetricData", None),
    ("config", "PutEvaluations", None),
]
# Rules whose code calls AWS beyond rdklib's own calls: the operations their fault tests cover.
RULE_FAULTS = {
    "LAMBDA_CODE_SIGNING_CHECK": RULE_OPERATIONS + CHANGE_OPERATIONS,
    "VPC_ENDPOINT_IDLE_CHECK": IDLE_OPERATIONS,
}


@pytest.mark.parametrize(("service", "operation", "answer"), RULE_OPERATIONS + CHANGE_OPERATIONS)
def test_every_canned_rule_answer_has_botocore_s_output_shape(service, operation, answer):
    if answer is not None:
        name = "resourcegroupstaggingapi" if service == "tagging" else service
        shape = boto3.client(name, region_name=REGION).meta.service_model.operation_model(operation).output_shape
        validate_parameters(answer, shape)


def change_event(name, parameters):
    item = {
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
        "resourceType": "AWS::Lambda::Function",
        "resourceId": name,
        "resourceName": name,
        "configuration": {"functionName": name, "packageType": "Zip"},
        "tags": {},
    }
    invoking = {
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": item,
        "notificationCreationTime": "2026-11-22T10:00:00.000Z",
    }
    return {**sweep_event(parameters), "invokingEvent": json.dumps(invoking)}


@pytest.mark.parametrize("kind", [faults.THROTTLE, faults.SERVER_ERROR])
@pytest.mark.parametrize(("service", "operation", "answer"), CHANGE_OPERATIONS)
def test_code_signing_change_path_retries_every_api_it_calls(session, service, operation, answer, kind):
    lambda_functions(session)
    for other_service, other, other_answer in CHANGE_OPERATIONS:
        if other_answer is not None and other != operation:
            inject(session, other_service, other, count=0, then=other_answer)
    plan = inject(session, service, operation, kind, then=answer)
    rule = load_rule("LAMBDA_CODE_SIGNING_CHECK", "faults_csc_change")
    results = rule.lambda_handler(change_event("signed", {"RequireEnforce": "true"}), None)
    assert [r["ComplianceType"] for r in results] == ["COMPLIANT"]
    assert plan.attempts[operation] >= 3


@pytest.mark.parametrize("kind", [faults.THROTTLE, faults.SERVER_ERROR])
@pytest.mark.parametrize(("service", "operation", "answer"), RULE_OPERATIONS)
def test_code_signing_sweep_retries_every_api_it_calls(session, service, operation, answer, kind):
    lambda_functions(session)
    for other_service, other, other_answer in RULE_OPERATIONS:
        if other_answer is not None and other != operation:
            inject(session, other_service, other, count=0, then=other_answer)
    plan = inject(session, service, operation, kind, then=answer)
    rule = load_module(ROOT / "rules" / "LAMBDA_CODE_SIGNING_CHECK" / "LAMBDA_CODE_SIGNING_CHECK.py", "faults_csc")
    results = rule.lambda_handler(sweep_event(SWEEP_PARAMETERS), None)
    assert sorted((r["ComplianceResourceId"], r["ComplianceType"]) for r in results) == [
        ("signed", "COMPLIANT"),
        ("unsigned", "NON_COMPLIANT"),
    ]
    assert plan.attempts[operation] >= 3


@pytest.mark.parametrize("kind", [faults.THROTTLE, faults.SERVER_ERROR])
@pytest.mark.parametrize(("service", "operation", "answer"), IDLE_OPERATIONS)
def test_idle_endpoint_sweep_retries_every_api_it_calls(session, service, operation, answer, kind):
    endpoints = idle_and_busy_endpoints(session)
    plan = inject(session, service, operation, kind)
    rule = load_rule("VPC_ENDPOINT_IDLE_CHECK", "faults_idle_sweep")
    event = {**sweep_event({"IdleDays": "30"}), "configRuleName": "VPC_ENDPOINT_IDLE_CHECK"}
    results = rule.lambda_handler(event, None)
    assert sorted((r["ComplianceResourceId"], r["ComplianceType"]) for r in results) == sorted(
        [(endpoints["idle"], "NON_COMPLIANT"), (endpoints["busy"], "COMPLIANT")]
    )
    assert plan.attempts[operation] >= 3


def test_idle_endpoint_rule_names_get_metric_data_when_it_is_denied(session):
    idle_and_busy_endpoints(session)
    inject(session, "cloudwatch", "GetMetricData", faults.ACCESS_DENIED, count=1)
    rule = load_rule("VPC_ENDPOINT_IDLE_CHECK", "faults_idle_denied")
    response = rule.lambda_handler(sweep_event({}), None)
    assert response["customerErrorCode"] == "AccessDeniedException"
    assert "GetMetricData" in response["internalErrorDetails"]


def test_oversized_refetch_retries_get_resource_config_history(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="logs-bucket")
    rules = [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": "*"}, "Expiration": {"Days": 1}}]
    s3.put_bucket_lifecycle_configuration(Bucket="logs-bucket", LifecycleConfiguration={"Rules": rules})
    plan = inject(session, "config", "GetResourceConfigHistory", faults.SERVER_ERROR)
    invoking = {
        "messageType": "OversizedConfigurationItemChangeNotification",
        "configurationItemSummary": {"resourceType": "AWS::S3::Bucket", "resourceId": "logs-bucket"},
        "notificationCreationTime": "2026-11-22T10:00:00.000Z",
        "recordVersion": "1.3",
    }
    event = {**sweep_event({}), "invokingEvent": json.dumps(invoking), "ruleParameters": '{"AssumeRoleMode": "false"}'}
    rule = load_module(
        ROOT / "rules" / "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK" / "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK.py", "faults_s3"
    )
    assert [r["ComplianceType"] for r in rule.lambda_handler(event, None)] == ["NON_COMPLIANT"]
    assert plan.attempts["GetResourceConfigHistory"] == 3


def test_access_denied_in_a_rule_is_a_customer_error_naming_the_action(session):
    lambda_functions(session)
    inject(session, "lambda", "ListCodeSigningConfigs", faults.ACCESS_DENIED, count=1)
    rule = load_module(ROOT / "rules" / "LAMBDA_CODE_SIGNING_CHECK" / "LAMBDA_CODE_SIGNING_CHECK.py", "faults_denied")
    response = rule.lambda_handler(sweep_event({}), None)
    assert response["customerErrorCode"] == "AccessDeniedException"
    assert "ListCodeSigningConfigs" in response["internalErrorDetails"]


# ---- remediations ----


def put_code_signing_config(request):
    """Answers PutFunctionCodeSigningConfig (moto lacks it) and records the ARN where moto reads it."""
    name = unquote(request.url.split("/functions/")[1].split("/")[0])
    arn = json.loads(request.body)["CodeSigningConfigArn"]
    lambda_backends[ACCOUNT][REGION].get_function(name).code_signing_config_arn = arn
    return {"CodeSigningConfigArn": arn, "FunctionName": name}


def shared_value(session, name: str, value: str) -> dict:
    """The value in Parameter Store, as the shared-values template sets it; the events that name it."""
    session.client("ssm").put_parameter(Name=f"/rdk-guardrails/{name}", Value=value, Type="String")
    return {f"{name}ParameterName": f"/rdk-guardrails/{name}"}


def layer_setup(session):
    lambda_functions(session)
    layer = session.client("lambda").publish_layer_version(LayerName="base", Content={"ZipFile": b"PK"})
    events = {"FunctionName": "unsigned", **shared_value(session, "LayerVersionArn", layer["LayerVersionArn"])}
    events["DryRun"] = False
    return events, lambda: [
        x["Arn"] for x in session.client("lambda").get_function_configuration(FunctionName="unsigned").get("Layers", [])
    ]


def signing_setup(session):
    lambda_functions(session)
    events = {"FunctionName": "unsigned", **shared_value(session, "CodeSigningConfigArn", CSC), "DryRun": False}
    return (
        events,
        lambda: (
            session.client("lambda")
            .get_function_code_signing_config(FunctionName="unsigned")
            .get("CodeSigningConfigArn")
        ),
    )


def lifecycle_setup(session):
    s3 = session.client("s3")
    s3.create_bucket(Bucket="logs-bucket")
    rules = [{"ID": "logs", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 1}}]
    s3.put_bucket_lifecycle_configuration(Bucket="logs-bucket", LifecycleConfiguration={"Rules": rules})
    events = {"BucketName": "logs-bucket", "IncludeExpiringRules": True, "DryRun": False}
    return events, lambda: s3.get_bucket_lifecycle_configuration(Bucket="logs-bucket")["Rules"]


def endpoint_setup(session):
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{z}")["Subnet"]["SubnetId"]
        for i, z in enumerate("ab")
    ]
    endpoint = ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.ssm", VpcEndpointType="Interface", SubnetIds=subnets
    )
    endpoint_id = endpoint["VpcEndpoint"]["VpcEndpointId"]
    events = {"VpcEndpointId": endpoint_id, "MaxAzCount": 1, "KeepAvailabilityZones": "", "DryRun": False}
    return events, lambda: sorted(
        ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint_id])["VpcEndpoints"][0]["SubnetIds"]
    )


def idle_endpoint_setup(session):
    endpoint = idle_and_busy_endpoints(session)["idle"]
    events = {"VpcEndpointId": endpoint, "IdleDays": 30, "MaxIdleBytes": "0", "ApproveDeletion": True, "DryRun": False}
    ec2 = session.client("ec2")
    return events, lambda: ec2.describe_vpc_endpoints(VpcEndpointIds=[endpoint])["VpcEndpoints"][0]["State"]


REMEDIATIONS = {
    "AddRequiredLambdaLayer": (
        layer_setup,
        "lambda",
        ["GetFunctionConfiguration", "GetParameter"],
        "UpdateFunctionConfiguration",
    ),
    "AttachLambdaCodeSigningConfig": (
        signing_setup,
        "lambda",
        ["GetFunctionConfiguration", "GetFunctionCodeSigningConfig", "GetParameter"],
        "PutFunctionCodeSigningConfig",
    ),
    "FixS3LifecycleAsteriskPrefix": (
        lifecycle_setup,
        "s3",
        ["GetBucketLifecycleConfiguration", "ListObjectsV2"],
        "PutBucketLifecycleConfiguration",
    ),
    "ReduceVpcEndpointAzCount": (
        endpoint_setup,
        "ec2",
        ["DescribeVpcEndpoints", "DescribeSubnets"],
        "ModifyVpcEndpoint",
    ),
    "DeleteIdleVpcEndpoint": (
        idle_endpoint_setup,
        "ec2",
        ["DescribeVpcEndpoints", "GetMetricData"],
        "DeleteVpcEndpoints",
    ),
}
CASES = [(doc, op) for doc, (_, _, reads, write) in REMEDIATIONS.items() for op in [*reads, write]]
# Operations of another service than the document's own (the shared values it reads).
OPERATION_SERVICES = {"GetParameter": "ssm", "GetMetricData": "cloudwatch"}


class CallablePlan(faults.FaultPlan):
    """A FaultPlan that answers PutFunctionCodeSigningConfig itself once its faults are spent (moto lacks it)."""

    def answer(self, request, operation_name):
        response = super().answer(request, operation_name)
        if response is None and operation_name == self.operation == "PutFunctionCodeSigningConfig":
            body = json.dumps(put_code_signing_config(request)).encode()
            return faults.AWSResponse(request.url, 200, {"content-type": "application/json"}, faults._Raw(body))
        return response


def prepare(session, document, operation, kind, count):
    """The resource, the remediation's events, a state reader, and the fault plan on `operation`."""
    setup, service, _, write = REMEDIATIONS[document]
    events, state = setup(session)
    protocol = PROTOCOLS[OPERATION_SERVICES.get(operation, service)]
    plan = faults.install(session.events, CallablePlan(operation, kind, count), protocol)
    if document == "AttachLambdaCodeSigningConfig" and operation != write:
        faults.install(session.events, CallablePlan(write, kind, 0), PROTOCOLS[service])
    return events, state, plan


@pytest.mark.parametrize("kind", [faults.THROTTLE, faults.SERVER_ERROR])
@pytest.mark.parametrize(("document", "operation"), CASES)
def test_remediation_retries_every_api_and_then_succeeds(session, document, operation, kind):
    events, _, plan = prepare(session, document, operation, kind, 2)
    result = load_remediation_script(document).handler(events, None)
    assert result["Status"] == "CHANGED"
    assert plan.attempts[operation] >= 3
    again = load_remediation_script(document).handler(events, None)
    assert again["Status"] == "NO_CHANGE", "a second run must be a no-op"


@pytest.mark.parametrize("kind", [faults.ACCESS_DENIED, faults.SERVER_ERROR])
@pytest.mark.parametrize("document", list(REMEDIATIONS))
def test_failed_write_leaves_the_resource_as_it_was_and_names_the_action(session, document, kind):
    write = REMEDIATIONS[document][3]
    events, state, _ = prepare(session, document, write, kind, 100)
    before = state()
    with pytest.raises(Exception, match=write):
        load_remediation_script(document).handler(events, None)
    assert state() == before


# ---- one output contract for every remediation ----

CONTRACT_KEYS = {"Status", "Message", "Changes", "Before", "After"}


@pytest.mark.parametrize("document", list(REMEDIATIONS))
def test_every_remediation_reports_status_message_changes_before_and_after_the_same_way(session, document):
    """Plan, apply, then a no-op: one way to say "no change" (Status NO_CHANGE, no Changes, Before == After)."""
    events, _, _ = prepare(session, document, "NoSuchOperation", faults.THROTTLE, 0)
    script = load_remediation_script(document)
    planned = script.handler({**events, "DryRun": True}, None)
    applied = script.handler(events, None)
    again = script.handler(events, None)
    for result, status in ((planned, "DRY_RUN"), (applied, "CHANGED"), (again, "NO_CHANGE")):
        assert set(result) >= CONTRACT_KEYS, document
        assert result["Status"] == status
        assert isinstance(result["Message"], str) and result["Message"]
        assert (result["Changes"] == []) is (status == "NO_CHANGE")
        assert (result["Before"] == result["After"]) is (status == "NO_CHANGE")
    assert planned["Changes"] == applied["Changes"], "the plan lists exactly what the run changes"
    assert planned["After"] == applied["After"]


@pytest.mark.parametrize("rule", RULE_NAMES)
def test_every_operation_a_rule_calls_has_fault_cases(rule):
    module = load_rule(rule, f"fault_coverage_{rule}")
    called = called_operations(ROOT / "rules" / rule / f"{rule}.py", declared_services(module))
    covered = {operation for _, operation, _ in RULE_FAULTS.get(rule, [])}
    missing = sorted(called - covered)
    assert not missing, f"{rule} calls {missing} with no fault case: add them to RULE_FAULTS in {__name__}"


@pytest.mark.parametrize("document", sorted(p.parent.name for p in ROOT.glob("remediations/*/script.py")))
def test_every_operation_a_remediation_calls_has_fault_cases(document):
    assert document in REMEDIATIONS, f"remediation {document} has no fault cases: add it to REMEDIATIONS in {__name__}"
    script = load_remediation_script(document)
    called = called_operations(ROOT / "remediations" / document / "script.py", declared_services(script))
    _, _, reads, write = REMEDIATIONS[document]
    missing = sorted(called - {*reads, write})
    assert not missing, f"{document} calls {missing} with no fault case: add them to REMEDIATIONS in {__name__}"


def test_the_call_finder_sees_methods_and_paginators(tmp_path):
    source = tmp_path / "code.py"
    source.write_text("c.get_function_configuration(F='x')\nc.get_paginator('list_functions')\nc.unrelated()\n")
    assert called_operations(source, {"lambda"}) == {"GetFunctionConfiguration", "ListFunctions"}
