"""A seeded organization for the organization-scan tests (moto_server over HTTP): two member accounts in two
regions, and a third whose role cannot be assumed."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest

from rdkpack.project.config import load_project
from tests.support.project import ROOT

PROJECT = load_project(ROOT)
PACK = "rdk-guardrails-sandbox"  # MaxAzCount 1: every endpoint AZ over one is priced
ACCOUNTS = ("555555555555", "666666666666")
DENIED = "777777777777"
REGIONS = ("us-east-1", "eu-west-1")
ROLE = "RdkGuardrailsScanRole"
ITEM_ONLY = ("LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK")
AZ_MONTH = 0.01 * 730


def assumed(base, account: str, region: str):
    credentials = base.client("sts").assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed")[
        "Credentials"
    ]
    return boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=region,
    )


def seed(session, account: str, region: str, extra_azs: int) -> None:
    """Per account and region: an endpoint in 1 + extra_azs AZs, a `*` bucket and a clean one, a function."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for n, az in enumerate("abc"[: 1 + extra_azs])
    ]
    ec2.create_vpc_endpoint(
        VpcId=vpc, ServiceName=f"com.amazonaws.{region}.ssm", VpcEndpointType="Interface", SubnetIds=subnets
    )
    s3 = session.client("s3")
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    for name, prefix in ((f"star-{account}-{region}", "*"), (f"clean-{account}-{region}", "logs/")):
        s3.create_bucket(Bucket=name, **location)
        rule = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": prefix}, "Expiration": {"Days": 30}}
        s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": [rule]})
    role = session.client("iam").create_role(RoleName=f"fn-{region}", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    session.client("lambda").create_function(
        FunctionName="orders", Role=role, Runtime="python3.12", Handler="h.h", Code={"ZipFile": b"PK"}
    )


def member_session() -> boto3.Session:
    return boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")


@pytest.fixture(scope="module")
def seeded_organization(module_moto_server_url):
    """Two member accounts in two regions (the second account's endpoints span one AZ more), seeded once:
    every test here only reads them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_ENDPOINT_URL", module_moto_server_url)
        base = member_session()
        for extra, account in enumerate(ACCOUNTS, start=1):
            for region in REGIONS:
                seed(assumed(base, account, region), account, region, extra)
    return module_moto_server_url


@pytest.fixture
def organization(seeded_organization, monkeypatch):
    """A session in the seeded organization in which the third account's role cannot be assumed."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", seeded_organization)
    base = member_session()

    def deny_assume_role(params, **_):
        if DENIED in params["body"].get("RoleArn", ""):
            error = {"Error": {"Code": "AccessDenied", "Message": "not authorized"}, "ResponseMetadata": {}}
            return SimpleNamespace(status_code=403, headers={}), error
        return None

    base.events.register("before-call.sts.AssumeRole", deny_assume_role)
    return base
