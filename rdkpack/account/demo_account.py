"""The embedded demo account: moto in-process, seeded with compliant and non-compliant resources.

moto has no PutFunctionCodeSigningConfig, so a small fake answers it and records the ARN on moto's own
function object, where moto's GetFunctionCodeSigningConfig reads it; GetCodeSigningConfig answers with
the demo's one config (allowed publisher: a demo signing profile). moto's layers carry no signature, so
the company-base layer's versions are answered as signed by that profile and other-tools as unsigned.
moto's API cannot create an endpoint in the past, so the idle and busy endpoints get their creation time
on moto's own endpoint object, which DescribeVpcEndpoints reads; their traffic is in moto's CloudWatch.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock
from urllib.parse import unquote

import boto3
from moto import mock_aws
from moto.awslambda.models import lambda_backends
from moto.ec2.models import ec2_backends

from rdkpack.account.local_endpoint import Route
from rdkpack.errors import ConfigError
from rdkpack.project.config import CONFIG_FILE

ACCOUNT = "123456789012"
REGION = "us-east-1"
SIGNING_CONFIG = f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-0a1b2c3d4e5f60718"
DEMO_ENV = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    # moto builds some 1,300 default AMIs for every EC2 backend it creates; nothing here reads an AMI.
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}


def attach_signing_config(name: str, arn: str) -> dict:
    """PutFunctionCodeSigningConfig, which moto lacks: the ARN goes on moto's function, where moto's
    GetFunctionCodeSigningConfig reads it; the answer is Lambda's."""
    lambda_backends[ACCOUNT][REGION].get_function(name).code_signing_config_arn = arn
    return {"CodeSigningConfigArn": arn, "FunctionName": name}


def _put_code_signing_config(params, **_):
    """before-call handler for in-process clients."""
    name = unquote(params["url_path"].split("/functions/")[1].split("/")[0])
    return SimpleNamespace(status_code=200, headers={}), attach_signing_config(
        name, json.loads(params["body"])["CodeSigningConfigArn"]
    )


# The same call from an automation step, which reaches the account over HTTP (rdkpack.account.local_endpoint).
ROUTES = (
    Route(
        "PUT",
        re.compile(r"/2020-06-30/functions/(?P<name>[^/]+)/code-signing-config"),
        lambda match, body: attach_signing_config(unquote(match["name"]), body["CodeSigningConfigArn"]),
    ),
)


SIGNING_PROFILE = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/demo/0a1b2c3d4e"


DEMO_CONFIG = {
    "CodeSigningConfigId": SIGNING_CONFIG.rsplit(":", 1)[1],
    "CodeSigningConfigArn": SIGNING_CONFIG,
    "AllowedPublishers": {"SigningProfileVersionArns": [SIGNING_PROFILE]},
    "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Warn"},
    "LastModified": "2026-11-01T00:00:00.000+0000",
}


def _answer(parsed: dict):
    return SimpleNamespace(status_code=200, headers={}), parsed


def _get_code_signing_config(params, **_):
    """before-call handler: moto has no code-signing configs; the demo's one allows one publisher and warns."""
    return _answer({"CodeSigningConfig": DEMO_CONFIG})


def _list_code_signing_configs(params, **_):
    return _answer({"CodeSigningConfigs": [DEMO_CONFIG]})


def _list_functions_by_code_signing_config(params, **_):
    """The functions moto holds with the demo's config attached (one page)."""
    arn = unquote(params["url_path"].split("/code-signing-configs/")[1].split("/")[0])
    functions = lambda_backends[ACCOUNT][REGION].list_functions()
    return _answer({"FunctionArns": [f.function_arn for f in functions if f.code_signing_config_arn == arn]})


SIGNED_LAYER = "company-base"  # the demo's signed layer; other-tools stays unsigned


def _sign_company_layers(parsed, **_):
    """after-call handler: moto's layers carry no signature; the demo's company-base versions are signed."""
    functions = parsed.get("Functions") or [parsed.get("Configuration") or parsed]
    for function in functions:
        for layer in function.get("Layers") or ():
            if layer.get("Arn", "").split(":")[6:7] == [SIGNED_LAYER]:
                layer["SigningProfileVersionArn"] = SIGNING_PROFILE


@contextlib.contextmanager
def embedded_aws():
    """moto in-process with demo credentials; the caller's AWS environment is untouched afterwards."""
    with mock.patch.dict(os.environ, DEMO_ENV), mock_aws():
        for name in [k for k in os.environ if k.startswith("AWS_") and k not in DEMO_ENV]:
            del os.environ[name]  # patch.dict restores them on exit
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register(
            "before-call.lambda.PutFunctionCodeSigningConfig", _put_code_signing_config
        )
        try:
            yield boto3.DEFAULT_SESSION
        finally:
            boto3.DEFAULT_SESSION = None


def remediation_role(session, role_arn: str) -> str:
    """The pack's automation role, made in the demo account (the pack names its own account's role): its ARN here."""
    name = role_arn.split(":role/", 1)[1]
    trust = {
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    }
    path, _, short = ("/" + name).rpartition("/")
    session.client("iam").create_role(RoleName=short, Path=path + "/", AssumeRolePolicyDocument=json.dumps(trust))
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


# The demo account's own values of the per-account shared values (rdk-config.json sharedValues).
ACCOUNT_VALUES = {"CodeSigningConfigArn": SIGNING_CONFIG}


def put_shared_values(session, shared_values: dict) -> None:
    """Set the shared values in the demo's account and region, as the shared-values StackSet would."""
    ssm = session.client("ssm")
    for value in shared_values.values():
        found = value.by_region.get(REGION) if value.varies == "region" else ACCOUNT_VALUES.get(value.name)
        if found is None:
            raise ConfigError(
                CONFIG_FILE,
                f"sharedValues/values/{value.name}",
                f"the demo account has no value for it in {REGION}",
                expected=f"a {REGION} value in byRegion, or one in ACCOUNT_VALUES of rdkpack/account/demo_account.py",
            )
        ssm.put_parameter(Name=value.parameter_name, Value=found, Type="String")


@dataclass
class Seeded:
    functions: list[str] = field(default_factory=list)
    buckets: list[str] = field(default_factory=list)
    endpoints: list[str] = field(default_factory=list)

    def total(self) -> int:
        return len(self.functions) + len(self.buckets) + len(self.endpoints)


def seed_lambda(session, seeded: Seeded, scale: int) -> None:
    client = session.client("lambda")
    role = session.client("iam").create_role(RoleName="demo-fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    base = [client.publish_layer_version(LayerName="company-base", Content={"ZipFile": b"PK"}) for _ in range(2)]
    tools = client.publish_layer_version(LayerName="other-tools", Content={"ZipFile": b"PK"})
    old, current = base[0]["LayerVersionArn"], base[1]["LayerVersionArn"]
    zipped = {"Role": role, "Runtime": "python3.12", "Handler": "app.handler", "Code": {"ZipFile": b"PK"}}
    for i in range(scale):
        specs = {
            f"orders-no-layer-{i}": {"Layers": [], "CodeSigningConfigArn": SIGNING_CONFIG},
            f"billing-old-layer-{i}": {"Layers": [old]},
            f"search-current-layer-{i}": {
                "Layers": [tools["LayerVersionArn"], current],
                "CodeSigningConfigArn": SIGNING_CONFIG,
            },
        }
        for name, spec in specs.items():
            client.create_function(FunctionName=name, **zipped, **spec)
            seeded.functions.append(name)
        image = {"ImageUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app:latest"}
        client.create_function(FunctionName=f"ml-image-{i}", Role=role, PackageType="Image", Code=image)
        seeded.functions.append(f"ml-image-{i}")


def lifecycle_rule(rule_id: str, days: int = 30, **selector) -> dict:
    return {"ID": rule_id, "Status": "Enabled", "Expiration": {"Days": days}, **selector}


def archive_rule(rule_id: str, **selector) -> dict:
    """A rule that only moves objects (and cleans up uploads) to a class read without a restore (Glacier Instant
    Retrieval): widening it deletes nothing and leaves every object readable."""
    return {
        "ID": rule_id,
        "Status": "Enabled",
        "Transitions": [{"Days": 90, "StorageClass": "GLACIER_IR"}],
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
        **selector,
    }


# `star` and `logs-star` expire objects: the automatic fix refuses them and reports what the rewrite
# would delete. `slash-star` only moves objects to a class read without a restore, so the automatic fix rewrites
# it (one that moved them to GLACIER or DEEP_ARCHIVE would need IncludeRestoreRequiredTransitions).
BUCKETS = {
    "star": [lifecycle_rule("expire-everything", Prefix="*")],
    "slash-star": [archive_rule("archive-root", Filter={"Prefix": "/*"})],
    "logs-star": [
        lifecycle_rule("expire-logs", Filter={"And": {"Prefix": "logs/*", "Tags": [{"Key": "tier", "Value": "cold"}]}}),
        lifecycle_rule("expire-tmp", 1, Filter={"Prefix": "tmp/"}),
    ],
    "star-dot-log": [lifecycle_rule("expire-log-files", Filter={"Prefix": "*.log"})],
    "clean": [
        lifecycle_rule("expire-logs", Filter={"Prefix": "logs/"}),
        lifecycle_rule("expire-cold", 90, Filter={"Tag": {"Key": "tier", "Value": "cold"}}),
        lifecycle_rule("expire-all", 365, Filter={}),
    ],
    "no-lifecycle": None,
}
# Objects in the buckets whose rules the fix would widen, so its plans show a real blast radius.
OBJECT_KEYS = ("logs/app-1.log", "logs/app-2.log", "logs/app-3.log", "data/orders.csv", "index.html")
BUCKETS_WITH_OBJECTS = ("star", "slash-star", "logs-star")


def seed_s3(session, seeded: Seeded, scale: int) -> None:
    client = session.client("s3")
    for i in range(scale):
        for kind, rules in BUCKETS.items():
            name = f"demo-{kind}-{i}"
            client.create_bucket(Bucket=name)
            if rules:
                client.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
            for key in OBJECT_KEYS if kind in BUCKETS_WITH_OBJECTS else ():
                client.put_object(Bucket=name, Key=key, Body=b"demo")
            seeded.buckets.append(name)


def seed_endpoints(session, seeded: Seeded, scale: int) -> None:
    ec2 = session.client("ec2")
    for i in range(scale):
        vpc = ec2.create_vpc(CidrBlock=f"10.{i % 250}.0.0/16")["Vpc"]["VpcId"]
        subnets = [
            ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{i % 250}.{n}.0/24", AvailabilityZone=f"{REGION}{az}")[
                "Subnet"
            ]["SubnetId"]
            for n, az in enumerate("abc")
        ]
        interface = {"VpcId": vpc, "VpcEndpointType": "Interface"}
        for service, count in (("ssm", 1), ("kms", 2), ("sts", 3), ("logs", 3)):
            endpoint = ec2.create_vpc_endpoint(
                ServiceName=f"com.amazonaws.{REGION}.{service}", SubnetIds=subnets[:count], **interface
            )
            seeded.endpoints.append(endpoint["VpcEndpoint"]["VpcEndpointId"])
        gateway = ec2.create_vpc_endpoint(
            VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.s3", VpcEndpointType="Gateway"
        )
        seeded.endpoints.append(gateway["VpcEndpoint"]["VpcEndpointId"])
        for service, traffic in ENDPOINT_TRAFFIC.items():
            endpoint = ec2.create_vpc_endpoint(
                ServiceName=f"com.amazonaws.{REGION}.{service}", SubnetIds=subnets[:1], **interface
            )["VpcEndpoint"]
            backdate(endpoint["VpcEndpointId"], ENDPOINT_AGE)
            put_traffic(session, endpoint, traffic)
            seeded.endpoints.append(endpoint["VpcEndpointId"])


# Endpoints old enough for the idle rule's 30-day window: service -> BytesProcessed (bytes, days ago).
# secretsmanager carried nothing (idle); ecr.api carried traffic in the window (busy).
ENDPOINT_TRAFFIC = {"secretsmanager": (), "ecr.api": ((52_428_800, 2), (1_048_576, 9))}
ENDPOINT_AGE = timedelta(days=90)


def backdate(endpoint_id: str, age: timedelta) -> None:
    """moto stamps an endpoint with the time of its creation (naive UTC) and has no API to change it."""
    created = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - age
    ec2_backends[ACCOUNT][REGION].vpc_end_points[endpoint_id].creation_timestamp = created


def put_traffic(session, endpoint: dict, traffic) -> None:
    """BytesProcessed data points with the dimensions PrivateLink publishes per endpoint."""
    dimensions = {
        "Endpoint Type": endpoint["VpcEndpointType"],
        "Service Name": endpoint["ServiceName"],
        "VPC Endpoint Id": endpoint["VpcEndpointId"],
        "VPC Id": endpoint["VpcId"],
    }
    data = [
        {
            "MetricName": "BytesProcessed",
            "Dimensions": [{"Name": name, "Value": value} for name, value in dimensions.items()],
            "Timestamp": datetime.now(UTC) - timedelta(days=days_ago),
            "Value": float(value),
            "Unit": "Bytes",
        }
        for value, days_ago in traffic
    ]
    if data:
        session.client("cloudwatch").put_metric_data(Namespace="AWS/PrivateLinkEndpoints", MetricData=data)


def seed(session, scale: int = 1) -> Seeded:
    # moto has no code-signing configs: the seeded functions' one is answered through the session.
    session.events.register("before-call.lambda.GetCodeSigningConfig", _get_code_signing_config)
    session.events.register("before-call.lambda.ListCodeSigningConfigs", _list_code_signing_configs)
    session.events.register(
        "before-call.lambda.ListFunctionsByCodeSigningConfig", _list_functions_by_code_signing_config
    )
    for operation in ("ListFunctions", "GetFunction", "GetFunctionConfiguration", "UpdateFunctionConfiguration"):
        session.events.register(f"after-call.lambda.{operation}", _sign_company_layers)
    seeded = Seeded()
    seed_lambda(session, seeded, scale)
    seed_s3(session, seeded, scale)
    seed_endpoints(session, seeded, scale)
    return seeded
