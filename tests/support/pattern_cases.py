"""Strings each SSM parameter pattern must accept and reject (a regex registry, as in AWS's runbooks)."""

PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
REGIONS = (
    "us-east-1",
    "cn-north-1",
    "us-gov-west-1",
    "us-iso-east-1",
    "us-isob-east-1",
    "eu-isoe-west-1",
    "us-isof-south-1",
    "eusc-de-east-1",
)

# A name under sharedValues.parameterPath, read with ssm:GetParameter: absolute, no spaces or references.
SSM_PARAMETER_NAME_CASES = (
    ["", "/rdk-guardrails/ApprovedLayerVersionArn", "/a/b.c-d_e/F1"],
    ["rdk-guardrails/x", "/rdk guardrails/x", "/x/", "//x", "/x/{{ssm:y}}", "/x/$(id)"],
)

PATTERN_CASES = {
    # DeleteIdleVpcEndpoint: a String of digits, 0 to 10^15 with leading zeros as the rule accepts them.
    "MaxIdleBytes": (
        ["0", "4096", str(10**15), "0" * 14 + str(10**15), "007", "0" * 30, "9" * 15],
        [str(10**15 + 1), str(10**16), "0" * 15 + str(10**15), "0" * 31, "-1", "+1", "1.0", "1e3", "1_000", " 1"],
    ),
    "AutomationAssumeRole": (
        [f"arn:{p}:iam::123456789012:role/Remediation" for p in PARTITIONS]
        + ["arn:aws:iam::123456789012:role/service-role/rdk/Remediation-Role_1+=,.@"],
        [
            "arn:aws:iam::123456789012:user/Remediation",
            "arn:aws:iam::12345:role/r",
            "arn:other:iam::123456789012:role/r",
        ],
    ),
    "FunctionName": (
        ["orders", "orders-api_v2"]
        + [f"arn:{p}:lambda:{r}:123456789012:function:orders" for p, r in zip(PARTITIONS, REGIONS, strict=True)],
        ["a" * 65, "orders:prod", "arn:aws:lambda:us-east-1:123456789012:layer:orders"],
    ),
    "LayerVersionArn": (
        [f"arn:{p}:lambda:{r}:123456789012:layer:company-base:7" for p, r in zip(PARTITIONS, REGIONS, strict=True)],
        [
            "arn:aws:lambda:us-east-1:123456789012:layer:company-base",
            "arn:aws:lambda:us-east-1:123456789012:function:company-base:7",
            "arn:aws:lambda:*:123456789012:layer:company-base:7",
        ],
    ),
    "CodeSigningConfigArn": (
        [
            f"arn:{p}:lambda:{r}:123456789012:code-signing-config:csc-0123456789abcdef0"
            for p, r in zip(PARTITIONS, REGIONS, strict=True)
        ],
        [
            "arn:aws:lambda:us-east-1:123456789012:code-signing-config:*",
            "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123",
            "arn:aws:signer:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0",
        ],
    ),
    "LayerVersionArnParameterName": SSM_PARAMETER_NAME_CASES,
    "CodeSigningConfigArnParameterName": SSM_PARAMETER_NAME_CASES,
    "BucketName": (
        ["logs-bucket", "a.b-c", "abc", "x" * 63],
        ["ab", "x" * 64, "Logs", "-logs", "logs-", "logs_bucket", "arn:aws:s3:::logs"],
    ),
    "VpcEndpointId": (
        ["vpce-0123456789abcdef0", "vpce-01234567"],
        ["vpce-", "vpce-XYZ12345", "vpc-0123456789abcdef0", "vpce-0123456789abcdef01"],
    ),
    "KeepAvailabilityZones": (
        ["", "us-east-1a", "use1-az4", "us-east-1a,use1-az4", "cn-north-1b", "us-gov-west-1a", "eusc-de-east-1a"],
        ["us-east-1a,", ",use1-az4", "us east 1a", "US-EAST-1A"],
    ),
    "ExemptionTag": (
        ["", "idle-exempt", "idle-exempt=yes", "team:owner=platform/net@corp", "a_b.c+d-e"],
        ["x{{ssm:y}}", "$(id)", "a,b", "k=v;rm", "x" * 301],
    ),
    "ExcludedServiceNames": (
        ["", "com.amazonaws.*.s3", "com.amazonaws.us-east-1.s3,*.secretsmanager", "com.amazonaws.vpce.*.vpce-svc-?"],
        ["{{ssm:x}}", "$(id)", "a;b", "a|b", "x" * 1025],
    ),
}
