"""Terraform plans (`terraform show -json`, format 1.2) read as TemplateResources: addresses of modules, count and
for_each, values known only after apply, references followed through the configuration, lines, and errors.

Fixtures in tests/fixtures/check/terraform/: functions.plan.json (one line, as terraform writes it: a for_each
function with an own layer known after apply, an updated function, a child module with a code-signing config and a
function referring to it, an Image function by count in a module inside it), storage-network.plan.json
(pretty-printed: a legacy bucket with inline lifecycle_rule, a new bucket with an aws_s3_bucket_lifecycle_configuration,
interface endpoints by count whose third subnet is created in the same plan, gateway endpoints by for_each in a nested
module, a data source), truncated.plan.json and wrapper-output.plan.json (what setup-terraform's wrapper captures).
"""

from __future__ import annotations

import json

import pytest

from rdkpack.check.model import (
    CODE_SIGNING_CONFIG,
    LAMBDA_FUNCTION,
    S3_BUCKET,
    VPC_ENDPOINT,
    TemplateError,
    TemplateResource,
    Unknown,
    template_arn,
)
from rdkpack.check.terraform import is_plan, plan_resources, read_plan
from tests.support.project import ROOT

PLANS = ROOT / "tests" / "fixtures" / "check" / "terraform"
FUNCTIONS = "infra/functions.plan.json"
STORAGE = "infra/storage-network.plan.json"
AFTER_APPLY = Unknown("known after apply")
POWERTOOLS = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
DEFAULT_TAGS = {"env": "prod", "managed-by": "terraform"}
SUBNETS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]


def read(name: str, shown: str) -> dict[str, TemplateResource]:
    return {resource.logical_id: resource for resource in read_plan(PLANS / name, shown)}


@pytest.fixture(scope="module")
def functions() -> dict[str, TemplateResource]:
    return read("functions.plan.json", FUNCTIONS)


@pytest.fixture(scope="module")
def storage() -> dict[str, TemplateResource]:
    return read("storage-network.plan.json", STORAGE)


def function(address: str, name: str, layers, tags: dict, *, signing=None, package="Zip") -> TemplateResource:
    """A function of the one-line plan (line 1)."""
    properties = {"FunctionName": name, "PackageType": package, "Layers": layers, "CodeSigningConfigArn": signing}
    return TemplateResource(FUNCTIONS, address, LAMBDA_FUNCTION, properties | {"Tags": tags}, 1)


def endpoint(address: str, service: str, subnets, tags: dict, *, line: int, kind="Interface", endpoint_id=None):
    """An endpoint of the pretty-printed plan; a new one's ID is its address."""
    properties = {
        "VpcEndpointId": endpoint_id or address,
        "VpcEndpointType": kind,
        "ServiceName": f"com.amazonaws.eu-west-1.{service}",
        "SubnetIds": subnets,
        "Tags": tags,
    }
    return TemplateResource(STORAGE, address, VPC_ENDPOINT, properties, line)


def write_plan(tmp_path, resources: list, changes: list | None = None, configuration: dict | None = None):
    """A small plan of root-module resources: [(address, type, values)]."""
    planned = [
        {"address": address, "mode": "managed", "type": kind, "name": address.split(".")[1].split("[")[0], "values": v}
        for address, kind, v in resources
    ]
    plan = {
        "format_version": "1.2",
        "terraform_version": "1.9.8",
        "planned_values": {"root_module": {"resources": planned}},
        "resource_changes": changes or [],
        "configuration": configuration or {"root_module": {}},
    }
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan, indent=2))
    return path


def resource_config(kind: str, name: str, expressions: dict) -> dict:
    """A root-module resource of the plan's configuration section."""
    return {"address": f"{kind}.{name}", "mode": "managed", "type": kind, "name": name, "expressions": expressions}


# Recognizing a plan


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"format_version": "1.2", "planned_values": {"root_module": {}}}, True, id="plan"),
        pytest.param({"format_version": "1.0", "terraform_version": "1.9.8", "values": {}}, False, id="state"),
        pytest.param({"AWSTemplateFormatVersion": "2010-09-09", "Resources": {}}, False, id="cloudformation"),
        pytest.param({"format_version": "1.2", "planned_values": None}, False, id="planned-values-null"),
        pytest.param([{"format_version": "1.2"}], False, id="list"),
    ],
)
def test_is_plan_needs_format_version_and_planned_values(data, expected):
    assert is_plan(data) is expected


# functions.plan.json: one line


def test_single_line_plan_reads_root_for_each_and_nested_modules_in_plan_order_all_on_line_1(functions):
    assert [(resource.logical_id, resource.type, resource.line) for resource in functions.values()] == [
        ('aws_lambda_function.api["billing"]', LAMBDA_FUNCTION, 1),
        ('aws_lambda_function.api["orders"]', LAMBDA_FUNCTION, 1),
        ("aws_lambda_function.legacy", LAMBDA_FUNCTION, 1),
        ("module.app.aws_lambda_code_signing_config.signing", CODE_SIGNING_CONFIG, 1),
        ("module.app.aws_lambda_function.worker", LAMBDA_FUNCTION, 1),
        ("module.app.module.audit.aws_lambda_function.audit[0]", LAMBDA_FUNCTION, 1),
    ]  # the layer version and the signing profile are not judged


def test_lambda_for_each_layer_known_after_apply_is_unknown_in_its_place(functions):
    assert functions['aws_lambda_function.api["orders"]'] == function(
        'aws_lambda_function.api["orders"]',
        "api-orders",
        [AFTER_APPLY, POWERTOOLS],
        DEFAULT_TAGS | {"team": "payments"},
    )


def test_lambda_tags_are_tags_all_with_the_provider_default_tags(functions):
    tags = DEFAULT_TAGS | {"rdk-exempt": "LAMBDA_CODE_SIGNING_CHECK", "team": "payments"}
    assert functions['aws_lambda_function.api["billing"]'] == function(
        'aws_lambda_function.api["billing"]', "api-billing", [POWERTOOLS], tags
    )


def test_lambda_update_with_empty_code_signing_config_arn_has_none(functions):
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:legacy-utils:3"
    assert functions["aws_lambda_function.legacy"] == function(
        "aws_lambda_function.legacy", "legacy-report", [layer], DEFAULT_TAGS | {"team": "finance"}
    )


def test_lambda_in_child_module_gets_the_code_signing_config_its_expression_refers_to(functions):
    config = "module.app.aws_lambda_code_signing_config.signing"
    arn = template_arn(FUNCTIONS, config)
    layer = "arn:aws:lambda:eu-west-1:123456789012:layer:shared-utils:12"
    assert functions["module.app.aws_lambda_function.worker"] == function(
        "module.app.aws_lambda_function.worker", "app-worker", [layer], DEFAULT_TAGS, signing=arn
    )
    assert functions[config] == TemplateResource(
        FUNCTIONS,
        config,
        CODE_SIGNING_CONFIG,
        {
            "CodeSigningConfigArn": arn,
            "AllowedPublishers": {"SigningProfileVersionArns": [AFTER_APPLY]},  # the signing profile is new too
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        },
        1,
    )


def test_image_lambda_by_count_in_a_module_inside_a_module_has_no_layers(functions):
    address = "module.app.module.audit.aws_lambda_function.audit[0]"
    assert functions[address] == function(
        address, "app-audit", [], DEFAULT_TAGS | {"team": "security"}, package="Image"
    )


# storage-network.plan.json: pretty-printed


def test_pretty_plan_lines_are_those_of_each_address_in_planned_values(storage):
    assert {address: resource.line for address, resource in storage.items()} == {
        "aws_s3_bucket.data": 8,
        "aws_s3_bucket.logs": 33,
        "aws_s3_bucket_lifecycle_configuration.data": 215,
        "module.network.aws_vpc_endpoint.interface[0]": 557,
        "module.network.aws_vpc_endpoint.interface[1]": 640,
        'module.network.module.gateways.aws_vpc_endpoint.gateway["dynamodb"]': 691,
        'module.network.module.gateways.aws_vpc_endpoint.gateway["s3"]': 722,
    }  # the subnet and data.aws_s3_bucket.shared (a data source) are not judged


def test_legacy_bucket_lifecycle_rule_blocks_in_the_s3_api_shape(storage):
    rules = [
        {
            "ID": "expire-logs",
            "Status": "Enabled",
            "Filter": {"Prefix": "logs/*"},
            "Expiration": {"Days": 90},
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        },
        {
            "ID": "scratch",
            "Status": "Disabled",
            "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "class", "Value": "scratch"}]}},
            "Expiration": {"Days": 1},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 3, "StorageClass": "GLACIER"}],
        },
    ]
    tags = DEFAULT_TAGS | {"data-class": "logs", "team": "platform"}
    assert storage["aws_s3_bucket.logs"] == TemplateResource(
        STORAGE,
        "aws_s3_bucket.logs",
        S3_BUCKET,
        {"BucketName": "acme-logs-prod", "LifecycleRules": rules, "Tags": tags},
        33,
    )


def test_lifecycle_configuration_filter_forms_deprecated_prefix_and_bucket_through_its_reference(storage):
    rules = [
        {
            "ID": "archive",
            "Status": "Enabled",
            "Filter": {
                "And": {
                    "Prefix": "archive/",
                    "Tags": [{"Key": "tier", "Value": "cold"}],
                    "ObjectSizeGreaterThan": 131072,
                }
            },
            "Transitions": [{"Days": 30, "StorageClass": "GLACIER_IR"}, {"Days": 180, "StorageClass": "DEEP_ARCHIVE"}],
        },
        {
            "ID": "uploads",
            "Status": "Enabled",
            "Prefix": "uploads/*",
            "Expiration": {"Days": 14},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
        },
        {
            "ID": "scratch",
            "Status": "Disabled",
            "Filter": {"Tag": {"Key": "temp", "Value": "true"}},
            "Expiration": {"Days": 1},
        },
        {
            "ID": "versions",
            "Status": "Enabled",
            "Filter": {"Prefix": ""},
            "Expiration": {"ExpiredObjectDeleteMarker": True},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 90, "NewerNoncurrentVersions": 3},
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}],
        },
        {
            "ID": "large-objects",
            "Status": "Enabled",
            "Filter": {"ObjectSizeGreaterThan": 1048576},
            "Expiration": {"Date": "2026-01-01T00:00:00Z"},
        },
        {"ID": "staging", "Status": "Enabled", "Filter": {"Prefix": AFTER_APPLY}, "Expiration": {"Days": 7}},
    ]
    # `bucket = aws_s3_bucket.data.id` is known only after apply: the name and tags come from that bucket.
    assert storage["aws_s3_bucket_lifecycle_configuration.data"] == TemplateResource(
        STORAGE,
        "aws_s3_bucket_lifecycle_configuration.data",
        S3_BUCKET,
        {"BucketName": "acme-data-prod", "LifecycleRules": rules, "Tags": DEFAULT_TAGS | {"team": "analytics"}},
        215,
    )


def test_new_bucket_without_lifecycle_rule_has_none_though_the_provider_computes_it(storage):
    assert storage["aws_s3_bucket.data"] == TemplateResource(
        STORAGE,
        "aws_s3_bucket.data",
        S3_BUCKET,
        {"BucketName": "acme-data-prod", "LifecycleRules": None, "Tags": DEFAULT_TAGS | {"team": "analytics"}},
        8,
    )


def test_vpc_endpoints_by_count_with_a_third_subnet_known_after_apply(storage):
    first, second = "module.network.aws_vpc_endpoint.interface[0]", "module.network.aws_vpc_endpoint.interface[1]"
    subnets = [*SUBNETS, AFTER_APPLY]
    assert [storage[first], storage[second]] == [
        endpoint(
            first,
            "ssm",
            subnets,
            DEFAULT_TAGS | {"Name": "ssm-endpoint"},
            line=557,
            endpoint_id="vpce-0a1b2c3d4e5f60718",
        ),
        endpoint(second, "ssmmessages", subnets, DEFAULT_TAGS | {"Name": "ssmmessages-endpoint"}, line=640),
    ]  # interface[0] exists (the update adds the subnet); interface[1] is new, so its ID is its address


def test_gateway_endpoints_by_for_each_in_a_nested_module_with_subnets_known_after_apply(storage):
    """The configuration leaves vpc_endpoint_type to the provider's default, Gateway; subnet_ids is computed."""
    addresses = [f'module.network.module.gateways.aws_vpc_endpoint.gateway["{key}"]' for key in ("dynamodb", "s3")]
    assert [storage[address] for address in addresses] == [
        endpoint(addresses[0], "dynamodb", AFTER_APPLY, DEFAULT_TAGS, line=691, kind="Gateway"),
        endpoint(addresses[1], "s3", AFTER_APPLY, DEFAULT_TAGS, line=722, kind="Gateway"),
    ]


def test_plan_with_sorted_keys_lines_still_point_into_planned_values(tmp_path):
    """`jq -S` puts configuration (module-relative addresses such as aws_s3_bucket.data) before planned_values."""
    text = json.dumps(json.loads((PLANS / "storage-network.plan.json").read_text()), indent=2, sort_keys=True)
    (tmp_path / "sorted.json").write_text(text)
    start = text.index('"planned_values"')
    lines = {resource.logical_id: resource.line for resource in read_plan(tmp_path / "sorted.json", "sorted.json")}
    expected = {
        address: text.count("\n", 0, text.index(f'"address": {json.dumps(address)}', start)) + 1 for address in lines
    }
    assert text.index('"address": "aws_s3_bucket.data"') < start
    assert lines == expected


# Small plans: defaults, references by index and by name


def test_defaults_when_the_plan_leaves_them_null(tmp_path):
    path = write_plan(
        tmp_path,
        [
            (
                "aws_lambda_function.old",
                "aws_lambda_function",
                {"function_name": "old", "code_signing_config_arn": None},
            ),
            ("aws_lambda_code_signing_config.shared", "aws_lambda_code_signing_config", {"arn": "arn:aws:lambda:x"}),
            ("aws_vpc_endpoint.s3", "aws_vpc_endpoint", {"service_name": "com.amazonaws.us-east-1.s3", "id": "vpce-1"}),
            ("aws_s3_bucket.plain", "aws_s3_bucket", {"bucket": "plain", "lifecycle_rule": [], "tags": None}),
        ],
    )
    assert read_plan(path, "plan.json") == [
        TemplateResource(
            "plan.json",
            "aws_lambda_function.old",
            LAMBDA_FUNCTION,
            {"FunctionName": "old", "PackageType": "Zip", "Layers": [], "CodeSigningConfigArn": None, "Tags": {}},
            8,
        ),
        TemplateResource(
            "plan.json",
            "aws_lambda_code_signing_config.shared",
            CODE_SIGNING_CONFIG,
            {
                "CodeSigningConfigArn": "arn:aws:lambda:x",
                "AllowedPublishers": {"SigningProfileVersionArns": []},
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},
            },
            18,
        ),
        TemplateResource(
            "plan.json",
            "aws_vpc_endpoint.s3",
            VPC_ENDPOINT,
            {
                "VpcEndpointId": "vpce-1",
                "VpcEndpointType": "Gateway",
                "ServiceName": "com.amazonaws.us-east-1.s3",
                "SubnetIds": [],
                "Tags": {},
            },
            27,
        ),
        TemplateResource(
            "plan.json",
            "aws_s3_bucket.plain",
            S3_BUCKET,
            {"BucketName": "plain", "LifecycleRules": None, "Tags": {}},
            37,
        ),
    ]


def test_reference_by_count_index_inside_a_for_each_module_instance(tmp_path):
    module = 'module.svc["a"]'
    plan = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": module,
                        "resources": [
                            {
                                "address": f"{module}.aws_lambda_code_signing_config.signing[0]",
                                "mode": "managed",
                                "type": "aws_lambda_code_signing_config",
                                "name": "signing",
                                "index": 0,
                                "values": {"policies": [{"untrusted_artifact_on_deployment": "Warn"}]},
                            },
                            {
                                "address": f"{module}.aws_lambda_function.fn",
                                "mode": "managed",
                                "type": "aws_lambda_function",
                                "name": "fn",
                                "values": {"function_name": "svc-a", "package_type": "Zip", "layers": []},
                            },
                        ],
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": f"{module}.aws_lambda_function.fn",
                "change": {"after_unknown": {"code_signing_config_arn": True}},
            }
        ],
        "configuration": {
            "root_module": {
                "module_calls": {
                    "svc": {
                        "module": {
                            "resources": [
                                {
                                    "address": "aws_lambda_function.fn",
                                    "mode": "managed",
                                    "type": "aws_lambda_function",
                                    "name": "fn",
                                    "expressions": {
                                        "code_signing_config_arn": {
                                            "references": [
                                                "aws_lambda_code_signing_config.signing[0].arn",
                                                "aws_lambda_code_signing_config.signing[0]",
                                                "aws_lambda_code_signing_config.signing",
                                            ]
                                        }
                                    },
                                }
                            ]
                        }
                    }
                }
            }
        },
    }
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    resources = read_plan(tmp_path / "plan.json", "plan.json")
    arn = template_arn("plan.json", f"{module}.aws_lambda_code_signing_config.signing[0]")
    assert [resource.properties["CodeSigningConfigArn"] for resource in resources] == [arn, arn]


def test_unresolvable_code_signing_reference_stays_unknown(tmp_path):
    changes = [{"address": "aws_lambda_function.fn", "change": {"after_unknown": {"code_signing_config_arn": True}}}]
    references = {"code_signing_config_arn": {"references": ["module.signing.arn", "module.signing"]}}
    config = {"root_module": {"resources": [resource_config("aws_lambda_function", "fn", references)]}}
    path = write_plan(
        tmp_path, [("aws_lambda_function.fn", "aws_lambda_function", {"function_name": "fn"})], changes, config
    )
    assert read_plan(path, "plan.json")[0].properties["CodeSigningConfigArn"] == AFTER_APPLY


def test_lifecycle_configuration_finds_its_bucket_by_name_and_the_bucket_leaves_the_rules_to_it(tmp_path):
    """An existing bucket's computed lifecycle_rule holds the rules AWS has now: the lifecycle resource is judged."""
    rules_now = [{"id": "old", "enabled": True, "prefix": "a/", "tags": {}, "expiration": [{"days": 5}]}]
    rule = {"id": "new", "status": "Enabled", "filter": [{"prefix": "b/*"}], "expiration": [{"days": 9}]}
    bucket = resource_config("aws_s3_bucket", "b", {"bucket": {"constant_value": "b1"}})
    lifecycle = resource_config("aws_s3_bucket_lifecycle_configuration", "b", {"bucket": {"references": ["var.name"]}})
    config = {"root_module": {"resources": [bucket, lifecycle]}}
    path = write_plan(
        tmp_path,
        [
            ("aws_s3_bucket.b", "aws_s3_bucket", {"bucket": "b1", "lifecycle_rule": rules_now, "tags": {"o": "x"}}),
            (
                "aws_s3_bucket_lifecycle_configuration.b",
                "aws_s3_bucket_lifecycle_configuration",
                {"bucket": "b1", "rule": [rule]},
            ),
        ],
        configuration=config,
    )
    assert [resource.properties for resource in read_plan(path, "plan.json")] == [
        {"BucketName": "b1", "LifecycleRules": None, "Tags": {"o": "x"}},
        {
            "BucketName": "b1",
            "LifecycleRules": [
                {"ID": "new", "Status": "Enabled", "Filter": {"Prefix": "b/*"}, "Expiration": {"Days": 9}}
            ],
            "Tags": {"o": "x"},
        },
    ]


def test_legacy_lifecycle_rule_written_but_known_after_apply_is_unknown(tmp_path):
    changes = [{"address": "aws_s3_bucket.b", "change": {"after_unknown": {"lifecycle_rule": True}}}]
    written = {"lifecycle_rule": [{"prefix": {"references": ["var.p"]}}]}
    config = {"root_module": {"resources": [resource_config("aws_s3_bucket", "b", written)]}}
    path = write_plan(tmp_path, [("aws_s3_bucket.b", "aws_s3_bucket", {"bucket": "b1"})], changes, config)
    assert read_plan(path, "plan.json")[0].properties["LifecycleRules"] == AFTER_APPLY


# Files that are not readable plans


def test_truncated_plan_names_the_file_and_the_line():
    with pytest.raises(TemplateError) as raised:
        read_plan(PLANS / "truncated.plan.json", "infra/truncated.plan.json")
    assert str(raised.value) == "infra/truncated.plan.json:41: not valid JSON: Expecting value (column 20)"


def test_output_captured_with_setup_terraform_wrapper_says_so():
    with pytest.raises(TemplateError) as raised:
        read_plan(PLANS / "wrapper-output.plan.json", "plan.json")
    assert str(raised.value) == (
        "plan.json:1: not valid JSON: Expecting value (column 2); `terraform show -json` writes one JSON object: was "
        "other output captured with it? (setup-terraform's wrapper adds its own lines: use terraform_wrapper: false)"
    )


def test_state_json_is_not_a_plan(tmp_path):
    (tmp_path / "state.json").write_text('{"format_version": "1.0", "terraform_version": "1.9.8", "values": {}}')
    with pytest.raises(TemplateError) as raised:
        read_plan(tmp_path / "state.json", "state.json")
    assert str(raised.value) == (
        "state.json:1: not a Terraform plan (`terraform show -json` writes format_version and planned_values)"
    )


def test_plan_saved_as_utf16_by_windows_powershell_names_the_encoding(tmp_path):
    (tmp_path / "plan.json").write_bytes('{"format_version": "1.2"}'.encode("utf-16"))
    with pytest.raises(TemplateError) as raised:
        read_plan(tmp_path / "plan.json", "plan.json")
    assert str(raised.value).startswith("plan.json: is UTF-16 (some Windows editors save that); rdkpack reads UTF-8")


def test_planned_resource_without_address_names_the_line_of_planned_values(tmp_path):
    resources = '{"root_module": {"resources": [{"type": "aws_s3_bucket"}]}}'
    text = f'{{\n  "format_version": "1.2",\n  "planned_values": {resources}\n}}'
    (tmp_path / "plan.json").write_text(text)
    with pytest.raises(TemplateError) as raised:
        read_plan(tmp_path / "plan.json", "plan.json")
    assert str(raised.value) == (
        "plan.json:3: a resource in planned_values module 'root_module' has no address, type or values object"
    )


def test_plan_resources_of_text_already_parsed_are_those_read_plan_reads(storage):
    text = (PLANS / "storage-network.plan.json").read_text()
    assert plan_resources(json.loads(text), text, STORAGE) == list(storage.values())
