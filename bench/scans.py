"""Scan benchmarks: the whole pack against the item-only rules, start-up, and an organization-wide scan.

Lambda is answered by tests/support/lambda_account (pages of 50, shapes checked: moto lacks the
code-signing lists); S3, EC2, STS and the rest by moto in-process. The code-signing sweep's rate cap
runs on a paced clock, so its deliberate waits are reported apart from the work.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from unittest import mock

import boto3
from moto import mock_aws

from rdkpack.account import org, scan
from rdkpack.account.scan import rule_module
from rdkpack.project.config import load_project
from tests.support.lambda_account import LambdaAccount, PacedClock

ROOT = Path(__file__).resolve().parent.parent
PACK = "rdk-guardrails-sandbox"
ITEM_ONLY = ("LAMBDA_LAYER_CHECK", "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK", "VPC_ENDPOINT_AZ_COUNT_CHECK")


def seed_buckets_and_endpoints(session, buckets: int, endpoints: int, prefix: str = "b") -> None:
    s3 = session.client("s3")
    rule = {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": "logs/*"}, "Expiration": {"Days": 30}}
    region = session.region_name
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    for i in range(buckets):
        s3.create_bucket(Bucket=f"{prefix}-{i}", **location)
        if i % 2:
            s3.put_bucket_lifecycle_configuration(Bucket=f"{prefix}-{i}", LifecycleConfiguration={"Rules": [rule]})
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{n}.0/24", AvailabilityZone=f"{region}{az}")["Subnet"]["SubnetId"]
        for n, az in enumerate("abc")
    ]
    for i in range(endpoints):
        ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{region}.ssm",
            VpcEndpointType="Interface",
            SubnetIds=subnets[: 1 + i % 3],
        )


def timed_scan(project, account: LambdaAccount, module, only) -> dict:
    """One scan as `rdkpack scan` makes it: a fresh session (so fresh clients), every request counted."""
    session = boto3.Session(aws_access_key_id="b", aws_secret_access_key="b", region_name="us-east-1")
    session.events.register_first("before-send.lambda", account.respond)
    calls = Counter()
    session.events.register("before-send", lambda event_name, **_: calls.update([event_name]))
    clock = PacedClock()
    with mock.patch.object(module, "RateCap", clock.cap(module.RateCap)):
        started = time.perf_counter()
        report = scan.scan_account(project, PACK, session, only=list(only) if only else None, source="api")
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "requests": sum(calls.values()),
        "evaluations": len(report.before),
        "seconds_paced_at_the_code_signing_cap": round(clock.now, 1),
    }


def whole_pack_scan(functions: int = 5_000) -> dict:
    """The sandbox pack over `functions` functions with buckets and endpoints at functions/10, side by side
    with the three rules that need no API beyond the inventory (second of two rounds: the first pays imports)."""
    project = load_project(ROOT)
    module = rule_module(ROOT, "LAMBDA_CODE_SIGNING_CHECK")
    with mock_aws():
        seeding = boto3.Session(aws_access_key_id="b", aws_secret_access_key="b", region_name="us-east-1")
        seed_buckets_and_endpoints(seeding, functions // 10, functions // 10)
        account = LambdaAccount(functions, 5)
        for _ in range(2):
            three = timed_scan(project, account, module, ITEM_ONLY)
            whole = timed_scan(project, account, module, None)
    return {
        "functions": functions,
        "buckets_and_endpoints_each": functions // 10,
        "three_item_only_rules": three,
        "whole_pack": whole,
        "whole_over_three": round(whole["seconds"] / three["seconds"], 2),
        "target_whole_over_three": "< 2 (work; the code-signing cap's waits are reported apart)",
    }


def probe_once(probe: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.split()


def scan_help_startup(runs: int = 5) -> dict:
    """`rdkpack scan --help` in a fresh interpreter: median wall time and peak memory."""
    probe = (
        "import resource,subprocess,sys,time;t=time.perf_counter();"
        "subprocess.run([sys.executable,'-m','rdkpack.cli','scan','--help'],check=True,capture_output=True);"
        "print(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    samples = [probe_once(probe) for _ in range(runs)]
    return {
        "seconds": round(statistics.median(float(s[0]) for s in samples), 3),
        "peak_rss_mb": round(statistics.median(int(s[1]) for s in samples) / 1024, 1),
    }


def organization_scan(accounts: int = 50, regions=("us-east-1", "eu-west-1"), per_region: int = 100) -> dict:
    """A role scan of accounts x regions x per_region resources (the three item-only rules; moto in-process)."""
    project = load_project(ROOT)
    account_ids = [f"{100000000000 + n:012d}" for n in range(accounts)]
    with mock_aws():
        base = boto3.Session(aws_access_key_id="b", aws_secret_access_key="b", region_name=regions[0])
        started = time.perf_counter()
        for account in account_ids:
            credentials = base.client("sts").assume_role(
                RoleArn=f"arn:aws:iam::{account}:role/scan", RoleSessionName="seed"
            )["Credentials"]
            for region in regions:
                member = boto3.Session(
                    aws_access_key_id=credentials["AccessKeyId"],
                    aws_secret_access_key=credentials["SecretAccessKey"],
                    aws_session_token=credentials["SessionToken"],
                    region_name=region,
                )
                seed_buckets_and_endpoints(member, per_region // 2, per_region // 2, prefix=f"{account}-{region}")
        seeded = time.perf_counter() - started
        calls = Counter()
        boto3.DEFAULT_SESSION = None
        with mock.patch("boto3.Session", counting_session(calls)):
            started = time.perf_counter()
            plan = org.RoleScan(project, PACK, "scan", tuple(regions), ITEM_ONLY, "api")
            # moto in-process answers at CPU speed under one GIL: this figure measures the scan's CPU, at the 4
            # accounts at once it was first measured with; concurrency pays off against real request latency.
            report = org.scan_with_role(plan, base, account_ids, concurrency=4)
            seconds = time.perf_counter() - started
    resources = accounts * len(regions) * per_region
    return {
        "accounts": accounts,
        "regions": len(regions),
        "resources": resources,
        "evaluations": len(report.before),
        "failures": len(report.failures),
        "seconds": round(seconds, 1),
        "requests": sum(calls.values()),
        "requests_per_resource": round(sum(calls.values()) / resources, 3),
        "seed_seconds": round(seeded, 1),
    }


def counting_session(calls: Counter):
    """boto3.Session, with every request its clients send counted (the scan makes one session per account)."""
    real = boto3.session.Session

    def make(*args, **kwargs):
        session = real(*args, **kwargs)
        session.events.register("before-send", lambda event_name, **_: calls.update([event_name]))
        return session

    return make
