"""rdkpack.check.cloudformation: CloudFormation (YAML short forms, JSON), SAM (source and transform output) and CDK
output read into TemplateResources, with the lines they are written on and what only a deploy decides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rdkpack.check.cloudformation import is_template, load_template, merge_sam_globals, read_template
from rdkpack.check.model import TemplateError, TemplateResource, Unknown, Waiver, template_arn

FIXTURES = Path(__file__).parents[1] / "fixtures" / "check" / "cloudformation"
FUNCTION, BUCKET, ENDPOINT, SIGNING = (
    "AWS::Lambda::Function",
    "AWS::S3::Bucket",
    "AWS::EC2::VPCEndpoint",
    "AWS::Lambda::CodeSigningConfig",
)
LAYER = "arn:aws:lambda:eu-west-1:111122223333:layer"
POWERTOOLS = "arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
SHARED = Unknown(
    f"Fn::Sub {LAYER}:shared:${{SharedLayerVersion}}", (f"{LAYER}:shared:3", f"{LAYER}:shared:4")
)  # a parameter with AllowedValues ["3", "4"]
SIGNER = "arn:aws:signer:eu-west-1:111122223333:/signing-profiles/OrdersSigner/Xq1ZzP4b7c"


def read(name: str) -> dict[str, TemplateResource]:
    return {resource.logical_id: resource for resource in read_template(FIXTURES / name, name)}


def function(file, logical_id, line, properties, property_lines, **extra) -> TemplateResource:
    defaults = {
        "FunctionName": logical_id,
        "PackageType": "Zip",
        "Layers": [],
        "CodeSigningConfigArn": None,
        "Tags": {},
    }
    return TemplateResource(file, logical_id, FUNCTION, {**defaults, **properties}, line, property_lines, **extra)


# --- CloudFormation YAML with short forms ---------------------------------------------------------------------------


def test_yaml_template_reads_only_the_types_the_rules_judge_and_skips_a_resource_whose_condition_is_false():
    # LegacyEndpoint's condition compares a parameter whose only AllowedValue is "disabled" with "enabled".
    assert list(read("stack.yaml")) == [
        "Signing",
        "OrdersFunction",
        "ReportsFunction",
        "ApiEndpoint",
        "S3GatewayEndpoint",
    ]


def test_yaml_function_resolves_short_forms_and_keeps_deploy_time_values_unknown():
    assert read("stack.yaml")["OrdersFunction"] == function(
        "stack.yaml",
        "OrdersFunction",
        49,
        {
            "FunctionName": Unknown("Fn::Sub orders-${Stage}", ("orders-dev", "orders-prod")),
            "Layers": [
                POWERTOOLS,  # a parameter with a Default (and no AllowedValues) is judged with its Default
                SHARED,
                f"{LAYER}:audit:2",  # !Join of literals
                Unknown("Fn::ImportValue network-TracingLayerArn"),
                f"{LAYER}:b:9",  # !Select over !Split of a literal
            ],
            "CodeSigningConfigArn": template_arn("stack.yaml", "Signing"),  # !GetAtt Signing.CodeSigningConfigArn
            "Tags": {"team": "orders", "stage": Unknown("Ref parameter Stage", ("dev", "prod")), "cost-center": "4711"},
        },
        {"FunctionName": 52, "Layers": 59, "CodeSigningConfigArn": 65, "Tags": 66},
    )


def test_yaml_image_function_with_conditional_code_signing_has_both_branches_as_choices():
    assert read("stack.yaml")["ReportsFunction"] == function(
        "stack.yaml",
        "ReportsFunction",
        74,
        {
            "PackageType": "Image",
            "CodeSigningConfigArn": Unknown("Fn::If IsProd", (template_arn("stack.yaml", "Signing"), None)),
        },
        {"PackageType": 77, "CodeSigningConfigArn": 81},
    )


def test_yaml_code_signing_config_gets_the_arn_its_references_resolve_to():
    assert read("stack.yaml")["Signing"] == TemplateResource(
        "stack.yaml",
        "Signing",
        SIGNING,
        {
            "CodeSigningConfigArn": template_arn("stack.yaml", "Signing"),
            "AllowedPublishers": {"SigningProfileVersionArns": [SIGNER]},
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
        },
        27,
        {"AllowedPublishers": 31, "CodeSigningPolicies": 34},
    )


def test_yaml_endpoint_subnets_by_ref_resolve_to_one_stable_id_each_and_the_type_defaults_to_gateway():
    resources = read("stack.yaml")
    assert resources["ApiEndpoint"] == TemplateResource(
        "stack.yaml",
        "ApiEndpoint",
        ENDPOINT,
        {
            "VpcEndpointId": "ApiEndpoint",
            "VpcEndpointType": "Interface",
            "ServiceName": Unknown(  # a pseudo parameter takes two example values of its kind
                "Fn::Sub com.amazonaws.${AWS::Region}.execute-api",
                ("com.amazonaws.us-east-1.execute-api", "com.amazonaws.eu-west-1.execute-api"),
            ),
            "SubnetIds": ["subnet-PrivateSubnetA", "subnet-PrivateSubnetB", "subnet-PrivateSubnetC"],
            "Tags": {},
        },
        102,
        {"VpcEndpointType": 105, "ServiceName": 106, "SubnetIds": 109},
    )
    assert resources["S3GatewayEndpoint"] == TemplateResource(
        "stack.yaml",
        "S3GatewayEndpoint",
        ENDPOINT,
        {
            "VpcEndpointId": "S3GatewayEndpoint",
            "VpcEndpointType": "Gateway",
            "ServiceName": "com.amazonaws.eu-west-1.s3",
            "SubnetIds": [],
            "Tags": {},
        },
        114,
        {"ServiceName": 117},
    )


# --- CloudFormation JSON --------------------------------------------------------------------------------------------


def test_json_template_resolves_long_forms_with_lines():
    resources = read("stack.json")
    billing_signing = template_arn("stack.json", "BillingSigning")
    assert resources["BillingFunction"] == function(
        "stack.json",
        "BillingFunction",
        31,
        {
            "FunctionName": "billing-api",
            "Layers": [
                "arn:aws:lambda:us-east-1:111122223333:layer:billing-common:12",  # LayerArn's Default
                Unknown(
                    "Fn::Join with Ref AWS::Region",
                    (
                        "arn:aws:lambda:us-east-1:111122223333:layer:fx-rates:4",
                        "arn:aws:lambda:eu-west-1:111122223333:layer:fx-rates:4",
                    ),
                ),
            ],
            "CodeSigningConfigArn": billing_signing,  # {"Ref": "BillingSigning"}
            "Tags": {"team": "billing"},
        },
        {"FunctionName": 34, "Layers": 39, "CodeSigningConfigArn": 43, "Tags": 44},
    )
    assert resources["BillingSigning"] == TemplateResource(
        "stack.json",
        "BillingSigning",
        SIGNING,
        {
            "CodeSigningConfigArn": billing_signing,
            "AllowedPublishers": {
                "SigningProfileVersionArns": [
                    "arn:aws:signer:us-east-1:111122223333:/signing-profiles/Billing/8Hk2LmQ0pA"  # Fn::FindInMap
                ]
            },
            "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},  # AWS's default
        },
        21,
        {"AllowedPublishers": 24},
    )
    assert resources["SecretsEndpoint"] == TemplateResource(
        "stack.json",
        "SecretsEndpoint",
        ENDPOINT,
        {
            "VpcEndpointId": "SecretsEndpoint",
            "VpcEndpointType": "Interface",
            "ServiceName": "com.amazonaws.us-east-1.secretsmanager",
            "SubnetIds": Unknown("Ref parameter PrivateSubnetIds"),  # a List<AWS::EC2::Subnet::Id> parameter
            "Tags": {"Name": "billing-secrets"},
        },
        58,
        {"VpcEndpointType": 61, "ServiceName": 62, "SubnetIds": 64, "Tags": 65},
    )


def test_json_that_yaml_rejects_is_read_as_json(tmp_path):
    path = tmp_path / "escaped.json"  # an escaped slash is valid JSON, not valid YAML
    path.write_text(
        '{"Resources": {\n "Fn": {"Type": "AWS::Lambda::Function", "Properties": {"Description": "a\\/b"}}}}'
    )
    assert read_template(path, "escaped.json") == [function("escaped.json", "Fn", 2, {}, {})]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        pytest.param(
            '{"Resources": {\n "A": {"Type": "X"},\n "A": {"Type": "Y"}}, "D": "\\/"}', "3: Duplicate", id="dup"
        ),
        pytest.param('{"Resources": {\n "A": {"Type": "X"}\n "B": 1}}', "3: not valid JSON: Expecting ','", id="comma"),
    ],
)
def test_invalid_json_is_a_template_error_naming_the_line(tmp_path, text, error):
    path = tmp_path / "t.json"
    path.write_text(text)
    with pytest.raises(TemplateError, match=f"^t\\.json:{error}"):
        read_template(path, "t.json")


# --- S3 lifecycle rules ---------------------------------------------------------------------------------------------


def test_every_cloudformation_lifecycle_rule_form_reads_in_the_s3_api_shape():
    resources = read("lifecycle.yaml")
    assert resources["LogsBucket"] == TemplateResource(
        "lifecycle.yaml",
        "LogsBucket",
        BUCKET,
        {
            "BucketName": Unknown(
                "Fn::Sub acme-logs-${AWS::AccountId}", ("acme-logs-123456789012", "acme-logs-210987654321")
            ),
            "LifecycleRules": [
                {
                    "ID": "expire-app-logs",
                    "Status": "Enabled",
                    "Filter": {"Prefix": "logs/*"},  # the rule-level Prefix, as AWS applies it
                    "Expiration": {"Days": 90},
                    "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
                },
                {
                    "ID": "archive-tagged",
                    "Status": "Enabled",
                    "Filter": {"Tag": {"Key": "archive", "Value": "true"}},
                    "Transitions": [
                        {"Days": 30, "StorageClass": "STANDARD_IA"},
                        {"Days": 180, "StorageClass": "GLACIER"},  # "180" in the template
                    ],
                },
                {
                    "ID": "big-exports",
                    "Status": "Enabled",
                    "Filter": {
                        "And": {
                            "Prefix": "exports/",
                            "ObjectSizeGreaterThan": 1048576,  # "1048576" in the template
                            "ObjectSizeLessThan": 5368709120,
                        }
                    },
                    "Expiration": {"Date": "2035-01-01T00:00:00.000Z"},
                    "Transitions": [{"Date": "2030-01-01T00:00:00.000Z", "StorageClass": "DEEP_ARCHIVE"}],
                },
                {
                    "ID": "tagged-reports",
                    "Status": "Disabled",
                    "Filter": {
                        "And": {
                            "Prefix": "reports/",
                            "Tags": [{"Key": "class", "Value": "report"}, {"Key": "keep", "Value": "2"}],
                        }
                    },
                    "NoncurrentVersionExpiration": {
                        "NoncurrentDays": 365,  # RetentionDays' Default
                        "NewerNoncurrentVersions": 3,
                    },
                    "NoncurrentVersionTransitions": [
                        {"NoncurrentDays": 7, "NewerNoncurrentVersions": 1, "StorageClass": "GLACIER_IR"}
                    ],
                },
                {
                    "ID": "housekeeping",
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},  # the whole bucket
                    "Expiration": {"ExpiredObjectDeleteMarker": True},
                    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
                },
            ],
            "Tags": {"data-class": "logs"},
        },
        10,
        {"BucketName": 14, "LifecycleRules": 19, "Tags": 64},
    )
    assert resources["PlainBucket"] == TemplateResource(
        "lifecycle.yaml", "PlainBucket", BUCKET, {"BucketName": "PlainBucket", "LifecycleRules": None, "Tags": {}}, 68
    )


# --- SAM ------------------------------------------------------------------------------------------------------------


def test_sam_globals_append_layers_and_merge_tags_with_the_function_winning():
    resources = read("sam/template.yaml")
    assert resources["CreateOrderFunction"] == function(
        "sam/template.yaml",
        "CreateOrderFunction",
        27,
        {
            "Layers": [f"{LAYER}:guardrails-base:5", SHARED, POWERTOOLS],
            "CodeSigningConfigArn": template_arn("sam/template.yaml", "OrdersSigning"),
            "Tags": {"lambda:createdBy": "SAM", "team": "orders", "cost-center": "9001", "service": "create-order"},
        },
        {"Layers": 32, "CodeSigningConfigArn": 35, "Tags": 36},
    )
    # Properties that only Globals sets point at the Globals lines.
    assert resources["ListOrdersFunction"] == function(
        "sam/template.yaml",
        "ListOrdersFunction",
        43,
        {
            "FunctionName": "list-orders",
            "Layers": [f"{LAYER}:guardrails-base:5"],
            "Tags": {"lambda:createdBy": "SAM", "team": "orders", "cost-center": "4711"},
        },
        {"FunctionName": 46, "Layers": 16, "Tags": 18},
    )


def test_sam_globals_merge_maps_key_by_key_and_the_function_runtime_wins():
    template = load_template(FIXTURES / "sam/template.yaml", "sam/template.yaml")
    function_globals = template["Globals"]["Function"]
    create = merge_sam_globals(function_globals, template["Resources"]["CreateOrderFunction"]["Properties"])
    listing = merge_sam_globals(function_globals, template["Resources"]["ListOrdersFunction"]["Properties"])
    assert (create["Runtime"], listing["Runtime"]) == ("python3.12", "python3.13")
    assert create["Environment"] == {
        "Variables": {"LOG_LEVEL": "INFO", "POWERTOOLS_SERVICE_NAME": "orders", "TABLE_NAME": "orders"}
    }
    assert merge_sam_globals({"Layers": ["a"]}, {"Layers": {"Fn::Split": [",", "b,c"]}}) == {
        "Layers": {"Fn::Split": [",", "b,c"]}  # an intrinsic is a plain value to SAM: the function's wins
    }


def test_sam_transform_output_reads_as_its_source_does():
    source, transformed = read("sam/template.yaml"), read("sam/transformed.json")
    assert list(transformed) == ["CreateOrderFunction", "ListOrdersFunction", "OrdersSigning"]
    own_arn = template_arn("sam/transformed.json", "OrdersSigning")
    assert transformed["CreateOrderFunction"] == function(
        "sam/transformed.json",
        "CreateOrderFunction",
        15,
        {**source["CreateOrderFunction"].properties, "CodeSigningConfigArn": own_arn},
        {"CodeSigningConfigArn": 21, "Layers": 32, "Tags": 47},
    )
    assert transformed["ListOrdersFunction"] == function(
        "sam/transformed.json",
        "ListOrdersFunction",
        111,
        source["ListOrdersFunction"].properties,
        {"FunctionName": 123, "Layers": 125, "Tags": 136},
    )


# --- CDK output -----------------------------------------------------------------------------------------------------


def test_cdk_output_names_the_construct_path_of_each_resource():
    file = "cdk.out/OrdersStack.template.json"
    resources = read(file)
    assert list(resources) == [
        "OrdersFunction1A2B3C4D",
        "ThumbnailerFunction9C8D7E6F",
        "ArchiveBucketF1A2B3C4",
        "VpcLambdaEndpoint0C1D2E3F",
    ]
    assert resources["OrdersFunction1A2B3C4D"] == function(
        file,
        "OrdersFunction1A2B3C4D",
        37,
        {
            "Layers": [f"{LAYER}:guardrails-base:5", Unknown("Ref SharedLayer5E6F7A8B")],  # a layer the stack creates
            "Tags": {"cost-center": "4711", "team": "orders"},
        },
        {"Layers": 47, "Tags": 60},
        construct_path="OrdersStack/OrdersFunction/Resource",
    )
    assert resources["ThumbnailerFunction9C8D7E6F"] == function(
        file,
        "ThumbnailerFunction9C8D7E6F",
        98,
        {"PackageType": "Image"},
        {"PackageType": 106},
        construct_path="OrdersStack/Thumbnailer/Resource",
    )
    assert resources["ArchiveBucketF1A2B3C4"] == TemplateResource(
        file,
        "ArchiveBucketF1A2B3C4",
        BUCKET,
        {
            "BucketName": "ArchiveBucketF1A2B3C4",
            "LifecycleRules": [{"Status": "Enabled", "Filter": {"Prefix": "archive/"}, "Expiration": {"Days": 365}}],
            "Tags": {},
        },
        118,
        {"LifecycleRules": 122},
        construct_path="OrdersStack/ArchiveBucket/Resource",
    )
    assert resources["VpcLambdaEndpoint0C1D2E3F"] == TemplateResource(
        file,
        "VpcLambdaEndpoint0C1D2E3F",
        ENDPOINT,
        {
            "VpcEndpointId": "VpcLambdaEndpoint0C1D2E3F",
            "VpcEndpointType": "Interface",
            "ServiceName": "com.amazonaws.eu-west-1.lambda",
            "SubnetIds": ["subnet-VpcPrivateSubnet1Subnet536B997A", "subnet-VpcPrivateSubnet2Subnet3788AAA1"],
            "Tags": {},
        },
        161,
        {"ServiceName": 173, "SubnetIds": 174, "VpcEndpointType": 182},
        construct_path="OrdersStack/Vpc/LambdaEndpoint/Resource",
    )


# --- waivers --------------------------------------------------------------------------------------------------------


def test_waivers_keep_what_is_written_and_leave_missing_fields_none():
    resources = read("waivers.yaml")
    assert resources["LegacyIngestFunction"] == function(
        "waivers.yaml",
        "LegacyIngestFunction",
        5,
        {"FunctionName": "legacy-ingest"},
        {"FunctionName": 19},
        waivers=[
            Waiver(
                "LAMBDA_LAYER_CHECK",
                "Ingest moves to the shared layer with the Q3 migration (PLAT-1234)",
                "2031-09-30",  # a YAML date
                "Metadata of LegacyIngestFunction",
            ),
            Waiver("LAMBDA_CODE_SIGNING_CHECK", None, "2031-01-15", "Metadata of LegacyIngestFunction"),
            Waiver(
                "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",
                "Granted for the 2024 audit only",
                "2024-06-30",  # expired: the judge says so
                "Metadata of LegacyIngestFunction",
            ),
        ],
    )
    assert resources["OpenEndedWaiver"].waivers == [
        Waiver("LAMBDA_LAYER_CHECK", None, None, "Metadata of OpenEndedWaiver")  # comment: "" counts as none
    ]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        pytest.param("skip: LAMBDA_LAYER_CHECK", "t.yaml:5: Metadata rdk-guardrails of Fn: expected skip", id="skip"),
        pytest.param("skip:\n          - comment: no rule", "t.yaml:7: a waiver of Fn names no rule (id)", id="no-id"),
    ],
)
def test_malformed_waiver_is_a_template_error_naming_the_line(tmp_path, metadata, error):
    path = tmp_path / "t.yaml"
    path.write_text(
        f"Resources:\n  Fn:\n    Type: {FUNCTION}\n    Metadata:\n      rdk-guardrails:\n        {metadata}\n"
    )
    with pytest.raises(TemplateError, match=f"^{re.escape(error)}"):
        read_template(path, "t.yaml")


# --- intrinsic functions --------------------------------------------------------------------------------------------

PARAMETERS = """Parameters:
  Env: {Type: String, AllowedValues: [dev, prod]}
  Version: {Type: String, Default: "7"}
  Days: {Type: Number, AllowedValues: [30, 90]}
Mappings:
  Layers: {Shared: {Arn: arn:aws:lambda:eu-west-1:111122223333:layer:shared:3}}
Conditions:
  IsProd: !Equals [!Ref Env, prod]
  Always: !Not [!Equals [a, b]]
"""


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        pytest.param("[!Sub 'arn:${!Literal}']", ["arn:${Literal}"], id="sub-escaped-literal"),
        pytest.param(
            "[!Sub ['arn:${P}:${Env}', {P: aws}]]",
            [Unknown("Fn::Sub arn:${P}:${Env}", ("arn:aws:dev", "arn:aws:prod"))],
            id="sub-variable-map-and-choices",
        ),
        pytest.param("[!Sub 'v${Version}']", ["v7"], id="sub-parameter-with-default"),  # its Default
        pytest.param(
            "[!Sub '${AWS::Region}']",
            [Unknown("Fn::Sub ${AWS::Region}", ("us-east-1", "eu-west-1"))],
            id="sub-pseudo-parameter",
        ),
        pytest.param(
            "[!Ref AWS::AccountId]",
            [Unknown("Ref AWS::AccountId", ("123456789012", "210987654321"))],
            id="ref-pseudo-parameter",
        ),
        pytest.param("[!Sub '${AWS::URLSuffix}']", ["amazonaws.com"], id="sub-pseudo-parameter-of-one-value"),
        pytest.param(
            "[!Sub '${AWS::Partition}']",
            [Unknown("Fn::Sub ${AWS::Partition}", ("aws", "aws-cn"))],
            id="sub-pseudo-parameter-partition",
        ),
        pytest.param("[!Ref AWS::StackName]", [Unknown("Ref AWS::StackName")], id="ref-other-pseudo-parameter"),
        pytest.param("[!Ref Env]", [Unknown("Ref parameter Env", ("dev", "prod"))], id="ref-allowed-values"),
        pytest.param("[!GetAtt Other.Arn]", [Unknown("Fn::GetAtt Other.Arn")], id="getatt-other-resource"),
        pytest.param("[a, !Ref AWS::NoValue, b]", ["a", "b"], id="novalue-drops-the-item"),
        pytest.param(
            "[z, !If [IsProd, a, !Ref AWS::NoValue]]",
            Unknown("Fn::If IsProd", (["z", "a"], ["z"])),
            id="if-novalue-item",
        ),
        pytest.param("[!If [IsProd, a, !Ref Version]]", [Unknown("Fn::If IsProd", ("a", "7"))], id="if-default-branch"),
        pytest.param("[!If [IsProd, a, !ImportValue x]]", [Unknown("Fn::If IsProd")], id="if-unknown-branch"),
        pytest.param("[!If [Always, a, b]]", ["a"], id="if-decided-condition"),
        pytest.param("!If [IsProd, [a], [a, b]]", Unknown("Fn::If IsProd", (["a"], ["a", "b"])), id="if-whole-list"),
        pytest.param("!Split [',', !ImportValue shared-layers]", Unknown("Fn::Split"), id="list-wholly-unknown"),
        pytest.param("[!FindInMap [Layers, Shared, Arn]]", [f"{LAYER}:shared:3"], id="find-in-map"),
        pytest.param(
            "[!Join ['', [x-, !Ref Env]]]", [Unknown("Fn::Join with Ref parameter Env", ("x-dev", "x-prod"))], id="join"
        ),
        pytest.param("[!Base64 abc]", ["YWJj"], id="base64"),
        pytest.param("[!Select [0, !GetAZs '']]", [Unknown("Fn::Select from Fn::GetAZs")], id="select-unknown"),
        pytest.param("[!Cidr [10.0.0.0/16, 2, 8]]", [Unknown("Fn::Cidr")], id="cidr"),
    ],
)
def test_intrinsic_functions_resolve_within_the_template(tmp_path, layers, expected):
    path = tmp_path / "t.yaml"
    body = f"Resources:\n  Fn:\n    Type: {FUNCTION}\n    Properties:\n      Layers: {layers}\n  Other:\n    Type: X\n"
    path.write_text(PARAMETERS + body)
    (resource,) = read_template(path, "t.yaml")
    assert resource.properties["Layers"] == expected


@pytest.mark.parametrize(
    ("layer", "expected"),
    [
        pytest.param(
            "!Sub ['arn:${AWS::Partition}:lambda:${AWS::Region}:${Account}:layer:${Name}:3', {Name: base}]",
            Unknown(
                "Fn::Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${Account}:layer:${Name}:3",
                template="arn:*:lambda:*:*:layer:base:3",  # Account is no parameter: an unknown Ref
            ),
            id="sub-several-unknowns-and-a-known-variable",
        ),
        pytest.param(
            "!Sub ['arn:aws:lambda:${AWS::Region}:111122223333:layer:${L}', {L: !Sub '${AWS::StackName}-base:2'}]",
            Unknown(  # the template keeps what is known of the inner Sub
                "Fn::Sub arn:aws:lambda:${AWS::Region}:111122223333:layer:${L}",
                template="arn:aws:lambda:*:111122223333:layer:*-base:2",
            ),
            id="sub-nested-sub",
        ),
        pytest.param(
            "!Join [':', [arn, aws, lambda, !Ref AWS::Region, !ImportValue shared-account, layer, base, 3]]",
            Unknown("Fn::Join with Ref AWS::Region", template="arn:aws:lambda:*:*:layer:base:3"),  # 3: a YAML number
            id="join-unknown-parts-and-a-number",
        ),
        pytest.param(
            "!Sub 'logs/${AWS::Region}/*?[a]'",
            Unknown("Fn::Sub logs/${AWS::Region}/*?[a]", ("logs/us-east-1/*?[a]", "logs/eu-west-1/*?[a]")),
            id="sub-literal-glob-characters-in-choices",  # choices are values: nothing to escape
        ),
        pytest.param(
            "!Sub 'logs/${AWS::StackName}/*?[a]'",
            Unknown("Fn::Sub logs/${AWS::StackName}/*?[a]", template="logs/*/[*][?][[]a]"),  # a glob: literals escaped
            id="sub-literal-glob-characters",
        ),
        pytest.param(
            "!Join ['', [!Ref Env, '-', !Ref AWS::Region]]",
            Unknown(
                "Fn::Join with Ref parameter Env",
                ("dev-us-east-1", "dev-eu-west-1", "prod-us-east-1", "prod-eu-west-1"),
            ),
            id="join-choices-and-pseudo-choices",
        ),
        pytest.param(
            "!Join ['', [!Ref Env, '-', !Ref AWS::StackName]]",
            Unknown("Fn::Join with Ref parameter Env", template="*-*"),  # a part with choices is a '*' too
            id="join-choices-and-open-unknown",
        ),
        pytest.param(
            "!Join [',', !Split [',', !ImportValue shared-layers]]",
            Unknown("Fn::Join Fn::Split"),  # the list itself is unknown: no text to keep
            id="join-of-an-unknown-list-has-no-template",
        ),
    ],
)
def test_sub_and_join_keep_the_known_text_around_unknown_parts_as_a_template(tmp_path, layer, expected):
    path = tmp_path / "t.yaml"
    path.write_text(PARAMETERS + f"Resources:\n  Fn:\n    Type: {FUNCTION}\n    Properties:\n      Layers: [{layer}]\n")
    (resource,) = read_template(path, "t.yaml")
    assert resource.properties["Layers"] == [expected]


@pytest.mark.parametrize(
    ("resource", "name", "expected"),
    [
        pytest.param(
            f"Type: {FUNCTION}\n    Properties:\n      Layers: !If [IsProd, [a], !Ref AWS::NoValue]",
            "Layers",
            Unknown("Fn::If IsProd", (["a"], [])),
            id="layers-left-out-in-one-branch",
        ),
        pytest.param(
            f"Type: {FUNCTION}\n    Properties:\n      Tags: !If [IsProd, [{{Key: a, Value: b}}], !Ref AWS::NoValue]",
            "Tags",
            Unknown("Fn::If IsProd", ({"a": "b"}, {})),
            id="tags-per-branch",
        ),
        pytest.param(
            f"Type: {FUNCTION}\n    Properties:\n      Tags: [{{Key: !Ref Env, Value: x}}]",
            "Tags",
            Unknown("Tags: Ref parameter Env"),
            id="tag-key-unknown",
        ),
        pytest.param(
            "Type: AWS::Serverless::Function\n    Properties:\n      Tags: !If [IsProd, {a: b}, !Ref AWS::NoValue]",
            "Tags",
            Unknown("Fn::If IsProd", ({"lambda:createdBy": "SAM", "a": "b"}, {"lambda:createdBy": "SAM"})),
            id="sam-tags-per-branch",
        ),
        pytest.param(
            f"Type: {BUCKET}\n    Properties:\n      LifecycleConfiguration: !If\n        - IsProd\n"
            "        - Rules: [{Status: Enabled, Prefix: tmp/, ExpirationInDays: 1}]\n        - !Ref AWS::NoValue",
            "LifecycleRules",
            Unknown(
                "Fn::If IsProd",
                ([{"Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}], None),
            ),
            id="lifecycle-per-branch",
        ),
        pytest.param(
            f"Type: {BUCKET}\n    Properties:\n      LifecycleConfiguration:\n        Rules:\n"
            "          - {Status: Enabled, ExpirationInDays: !Ref Days}\n"
            "          - {Status: Enabled,\n"
            "             Transitions: !If [IsProd, [{StorageClass: GLACIER, TransitionInDays: '30'}],\n"
            "                               !Ref AWS::NoValue]}",
            "LifecycleRules",
            [
                {
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "Expiration": {"Days": Unknown("Ref parameter Days", (30, 90))},
                },
                Unknown(  # a rule with a property left out in one branch: the rule per branch
                    "Fn::If IsProd",
                    (
                        {
                            "Status": "Enabled",
                            "Filter": {"Prefix": ""},
                            "Transitions": [{"Days": 30, "StorageClass": "GLACIER"}],
                        },
                        {"Status": "Enabled", "Filter": {"Prefix": ""}},
                    ),
                ),
            ],
            id="lifecycle-fields-per-choice",
        ),
        pytest.param(
            f"Type: {ENDPOINT}\n    Properties:\n      VpcEndpointType: !If [IsProd, Interface, !Ref AWS::NoValue]",
            "VpcEndpointType",
            Unknown("Fn::If IsProd", ("Interface", "Gateway")),
            id="endpoint-type-default-in-one-branch",
        ),
    ],
)
def test_choices_take_the_normalized_shape(tmp_path, resource, name, expected):
    path = tmp_path / "t.yaml"
    path.write_text(PARAMETERS + f"Resources:\n  Res:\n    {resource}\n")
    (found,) = read_template(path, "t.yaml")
    assert found.properties[name] == expected


# --- what is not a template -----------------------------------------------------------------------------------------


def test_broken_yaml_is_a_template_error_naming_file_and_line():
    with pytest.raises(TemplateError) as error:
        read_template(FIXTURES / "broken.yaml", "broken.yaml")
    assert str(error.value) == (
        "broken.yaml:8: not valid YAML: did not find expected ',' or ']' (while parsing a flow sequence at line 7)"
    )


def test_duplicate_key_is_a_template_error_naming_the_second_line(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(f"Resources:\n  Fn:\n    Type: {FUNCTION}\n  Fn:\n    Type: {FUNCTION}\n")
    with pytest.raises(TemplateError, match=r"^t\.yaml:4: Duplicate found 'Fn'"):
        read_template(path, "t.yaml")


def test_file_that_is_not_utf8_is_a_template_error_naming_the_file(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_bytes("Resources: {}\nDescription: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(TemplateError, match=r"^t\.yaml: byte \d+ \(line 2\)"):
        read_template(path, "t.yaml")


@pytest.mark.parametrize("name", ["not_a_template.yaml", "cdk.out/manifest.json"])
def test_yaml_or_json_that_is_not_a_template_is_a_template_error(name):
    assert not is_template(load_template(FIXTURES / name, name))
    with pytest.raises(TemplateError, match=f"^{re.escape(name)}:1: not a CloudFormation template"):
        read_template(FIXTURES / name, name)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param({"Resources": {"A": {"Type": "AWS::SNS::Topic"}}}, True, id="typed-resource"),
        pytest.param({"Resources": {}}, False, id="no-resources"),
        pytest.param({"Resources": {"A": {"Properties": {}}}}, False, id="no-type"),
        pytest.param({"resources": {"A": {"Type": "x"}}}, False, id="lowercase"),
        pytest.param([{"Resources": {}}], False, id="list"),
    ],
)
def test_is_template(data, expected):
    assert is_template(data) is expected
