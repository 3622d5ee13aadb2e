"""Property tests: arbitrary and malformed configuration items never make a rule raise.

Items mix the fields each rule reads (sometimes well-formed, sometimes of any JSON type) with noise:
missing keys, nulls, wrong types, unicode, long lists, JSON strings where objects belong. Every
result must be a list of valid evaluations with annotations of at most 256 characters; the endpoint
rules leave every endpoint type but Interface NOT_APPLICABLE (Tunnel included). The test
command runs the "ci" profile (300 examples of 10 items: 3,000 items per rule), "thorough" 1,000; quick local
runs use "dev" (100).
"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from botocore.exceptions import ClientError
from botocore.loaders import Loader
from botocore.model import ServiceModel
from hypothesis import given, settings
from hypothesis import strategies as st
from rdklib import Evaluation

from tests.support.project import ROOT, RULE_NAMES, load_module

# GENERATED counts in this process: `make test`'s workers take a whole file each (--dist loadfile).
GENERATED: Counter = Counter()
ITEMS_FLOOR = 3_000
BATCH = 10  # items per example: the ci profile's 300 examples give 3,000 items per rule
VERDICTS = {"COMPLIANT", "NON_COMPLIANT", "NOT_APPLICABLE"}
PARAMETERS = {
    "LAMBDA_LAYER_CHECK": {"LayerArn": "arn:*:lambda:*:123456789012:layer:base", "ExemptionTag": "skip"},
    "LAMBDA_CODE_SIGNING_CHECK": {
        "AllowedCodeSigningConfigArns": "arn:aws:lambda:*:*:code-signing-config:*",
        "RequireEnforce": "true",
    },
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": {"ExemptionTag": "skip=yes", "IncludeDisabledRules": "false"},
    "VPC_ENDPOINT_AZ_COUNT_CHECK": {"MaxAzCount": "2", "MinAzCount": "1", "ExcludedServiceNames": "*.s3"},
    "VPC_ENDPOINT_IDLE_CHECK": {"IdleDays": "30", "MaxIdleBytes": "10", "ExcludedServiceNames": "*.s3"},
}

leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
anything = st.recursive(
    leaf,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def maybe(strategy):
    """The well-formed value most of the time, anything else otherwise."""
    return st.one_of(strategy, strategy, anything)


def as_json_sometimes(strategy):
    return strategy | strategy.map(lambda value: json.dumps(value, default=str))


arns = st.sampled_from(
    [
        "arn:aws:lambda:us-east-1:123456789012:layer:base:3",
        "arn:aws-cn:lambda:cn-north-1:123456789012:layer:base:x",
        "arn:aws:lambda:us-east-1:123456789012:layer:base",
        "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0",
    ]
) | st.text(max_size=80)
tags = maybe(
    st.dictionaries(st.sampled_from(["skip", "env", "ü"]) | st.text(max_size=5), maybe(st.text(max_size=5)), max_size=3)
)
lambda_configuration = st.fixed_dictionaries(
    {},
    optional={
        "functionName": maybe(st.sampled_from(["orders", "x" * 64]) | st.text(max_size=70)),
        "packageType": maybe(st.sampled_from(["Zip", "Image", None])),
        "layers": maybe(st.lists(maybe(st.fixed_dictionaries({}, optional={"arn": maybe(arns)})), max_size=300)),
    },
)
predicate = st.deferred(
    lambda: st.fixed_dictionaries(
        {"type": maybe(st.sampled_from(["LifecyclePrefixPredicate", "LifecycleAndOperator", "LifecycleTagPredicate"]))},
        optional={
            "prefix": maybe(st.sampled_from(["*", "logs/*", "ok/", ""]) | st.text(max_size=20)),
            "operands": maybe(st.lists(predicate, max_size=3)),
        },
    )
)
lifecycle_rule = st.fixed_dictionaries(
    {},
    optional={
        "id": maybe(st.text(max_size=300)),
        "status": maybe(st.sampled_from(["Enabled", "Disabled"])),
        "prefix": maybe(st.sampled_from(["*", "/*", "a/"]) | st.none()),
        "filter": maybe(st.fixed_dictionaries({}, optional={"predicate": maybe(predicate)})),
    },
)
lifecycle = as_json_sometimes(
    maybe(st.fixed_dictionaries({}, optional={"rules": maybe(st.lists(maybe(lifecycle_rule), max_size=200))}))
)
# Every VpcEndpointType in botocore's EC2 model (Interface, Gateway, GatewayLoadBalancer, Resource, ServiceNetwork,
# Tunnel), so a type AWS adds is generated too.
ENDPOINT_TYPES = tuple(ServiceModel(Loader().load_service_model("ec2", "service-2")).shape_for("VpcEndpointType").enum)
endpoint_types = st.sampled_from(ENDPOINT_TYPES)
endpoint_configuration = st.fixed_dictionaries(
    {},
    optional={
        "vpcEndpointType": maybe(endpoint_types),
        "serviceName": maybe(st.sampled_from(["com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.ssm"])),
        "subnetIds": maybe(st.lists(maybe(st.text(max_size=20)), max_size=300)),
        "requesterManaged": maybe(st.booleans()),
        "state": maybe(st.sampled_from(["available", "deleting", {"value": "Deleted"}])),
    },
)
timestamps = st.sampled_from(["2020-01-01T00:00:00.000Z", "2026-11-01 10:00:00+00:00", "0001-01-01T00:00:00+14:00"])
idle_endpoint_configuration = st.fixed_dictionaries(
    {},
    optional={
        "vpcEndpointId": maybe(st.sampled_from(["vpce-0123456789abcdef0", "vpce-00000000"]) | st.text(max_size=30)),
        "vpcId": maybe(st.sampled_from(["vpc-0123456789abcdef0"]) | st.text(max_size=20)),
        "vpcEndpointType": maybe(endpoint_types),
        "serviceName": maybe(st.sampled_from(["com.amazonaws.us-east-1.s3", "com.amazonaws.us-east-1.ssm", " "])),
        "serviceRegion": maybe(st.sampled_from(["us-east-1", "eu-west-1", ""])),
        "subnetIds": maybe(st.lists(maybe(st.text(max_size=20)), max_size=300)),
        "requesterManaged": maybe(st.booleans()),
        "state": maybe(st.sampled_from(["available", "deleting", {"value": "Deleted"}, {"value": "available"}])),
        "creationTimestamp": maybe(timestamps | st.integers() | st.floats(allow_nan=False, allow_infinity=False)),
    },
)
CONFIGURATIONS = {
    "LAMBDA_LAYER_CHECK": lambda_configuration,
    "LAMBDA_CODE_SIGNING_CHECK": lambda_configuration,
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": st.just({"name": "bucket"}),
    "VPC_ENDPOINT_AZ_COUNT_CHECK": endpoint_configuration,
    "VPC_ENDPOINT_IDLE_CHECK": idle_endpoint_configuration,
}


def items(rule, configuration=None):
    optional = {
        "configuration": as_json_sometimes(maybe(CONFIGURATIONS[rule])) if configuration is None else configuration,
        "tags": tags,
        "resourceName": maybe(st.text(max_size=70)),
    }
    if rule == "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK":
        optional["supplementaryConfiguration"] = maybe(
            st.fixed_dictionaries({}, optional={"BucketLifecycleConfiguration": lifecycle})
        )
    if rule == "VPC_ENDPOINT_IDLE_CHECK":
        optional["awsRegion"] = maybe(st.sampled_from(["us-east-1", "eu-west-1"]))
        optional["resourceCreationTime"] = maybe(timestamps)
    return st.fixed_dictionaries({"resourceId": st.text(min_size=1, max_size=30)}, optional=optional)


class FakeLambda:
    """Answers the code-signing calls with a config, none, or 'function gone', depending on the name."""

    def get_function_code_signing_config(self, FunctionName):
        if len(FunctionName) % 3 == 0:
            raise ClientError({"Error": {"Code": "ResourceNotFoundException"}}, "GetFunctionCodeSigningConfig")
        arn = (
            ""
            if len(FunctionName) % 3 == 1
            else PARAMETERS["LAMBDA_CODE_SIGNING_CHECK"]["AllowedCodeSigningConfigArns"]
        )
        return {
            "CodeSigningConfigArn": arn.replace("*", "us-east-1", 1)
            .replace("*", "123456789012", 1)
            .replace("*", "csc-0123456789abcdef0"),
            "FunctionName": FunctionName,
        }

    def get_code_signing_config(self, CodeSigningConfigArn):
        return {"CodeSigningConfig": {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"}}}


class FakeCloudWatch:
    """Answers GetMetricData with values and statuses that vary by endpoint id, over two pages."""

    STATUSES = ("Complete", "PartialData", "Forbidden", "InternalError")

    def get_paginator(self, operation):
        assert operation == "get_metric_data"
        return self

    def paginate(self, MetricDataQueries, StartTime, EndTime):
        assert len(MetricDataQueries) <= 500 and StartTime < EndTime
        for page in range(2):
            results = []
            for query in MetricDataQueries:
                endpoint_id = query["MetricStat"]["Metric"]["Dimensions"][2]["Value"]
                status = self.STATUSES[(len(endpoint_id) + page) % len(self.STATUSES)]
                results.append(
                    {"Id": query["Id"], "Values": [float(len(endpoint_id) % 7)] * page, "StatusCode": status}
                )
            yield {"MetricDataResults": results}


class FakeFactory:
    def build_client(self, service, *args, **kwargs):
        assert service in ("lambda", "cloudwatch")
        return FakeLambda() if service == "lambda" else FakeCloudWatch()


def check(rule_name, module, generated):
    rule = getattr(module, rule_name)()
    parameters = rule.evaluate_parameters(PARAMETERS[rule_name])
    for item in generated:
        result = rule.evaluate_change({}, FakeFactory(), item, parameters)
        GENERATED[rule_name] += 1
        assert isinstance(result, list) and result
        for evaluation in result:
            assert isinstance(evaluation, Evaluation)
            assert evaluation.complianceType in VERDICTS
            assert isinstance(evaluation.annotation, str) and len(evaluation.annotation) <= 256


def property_test(rule_name):
    module = load_module(ROOT / "rules" / rule_name / f"{rule_name}.py", f"property_{rule_name}")

    @given(st.lists(items(rule_name), min_size=BATCH, max_size=BATCH))
    def test(generated):
        check(rule_name, module, generated)

    return test


test_layer_rule_never_raises = property_test("LAMBDA_LAYER_CHECK")
test_code_signing_rule_never_raises = property_test("LAMBDA_CODE_SIGNING_CHECK")
test_s3_rule_never_raises = property_test("S3_LIFECYCLE_ASTERISK_PREFIX_CHECK")
test_endpoint_rule_never_raises = property_test("VPC_ENDPOINT_AZ_COUNT_CHECK")
test_idle_endpoint_rule_never_raises = property_test("VPC_ENDPOINT_IDLE_CHECK")


def unjudged_type_test(rule_name):
    """Endpoints of every type but Interface (Tunnel included) are NOT_APPLICABLE, whatever else the item holds."""
    module = load_module(ROOT / "rules" / rule_name / f"{rule_name}.py", f"unjudged_{rule_name}")
    other_types = st.sampled_from([t for t in ENDPOINT_TYPES if t != "Interface"])
    typed = st.tuples(CONFIGURATIONS[rule_name], other_types).map(lambda pair: {**pair[0], "vpcEndpointType": pair[1]})

    # A fifth of the profile's examples: the property turns on one of five types, and each example holds BATCH
    # items, so even the ci profile's 60 examples judge every type hundreds of times (the full count cost 12 s).
    @settings(max_examples=max(20, settings().max_examples // 5))
    @given(st.lists(items(rule_name, as_json_sometimes(typed)), min_size=BATCH, max_size=BATCH))
    def test(generated):
        rule = getattr(module, rule_name)()
        parameters = rule.evaluate_parameters(PARAMETERS[rule_name])
        for item in generated:
            verdicts = [e.complianceType for e in rule.evaluate_change({}, FakeFactory(), item, parameters)]
            assert verdicts == ["NOT_APPLICABLE"], (item, verdicts)

    return test


test_endpoint_rule_judges_only_interface_endpoints = unjudged_type_test("VPC_ENDPOINT_AZ_COUNT_CHECK")
test_idle_endpoint_rule_judges_only_interface_endpoints = unjudged_type_test("VPC_ENDPOINT_IDLE_CHECK")


def test_zz_the_profile_generated_enough_items_per_rule():
    """Runs after the property tests (file order, one worker): in the ci profile, at least 3,000 items per rule."""
    if settings().max_examples * BATCH < ITEMS_FLOOR:
        pytest.skip(f"profile with {settings().max_examples} examples: the item floor applies to the ci profile")
    assert min(GENERATED[name] for name in PARAMETERS) >= ITEMS_FLOOR, GENERATED


def test_every_rule_has_property_parameters():
    """A new rule must join the property tests: this names it until PARAMETERS has its entry."""
    missing = sorted(set(RULE_NAMES) - set(PARAMETERS))
    assert not missing, f"no property-test parameters for {missing}: add them to PARAMETERS in {__name__}"
