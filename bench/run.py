"""Benchmarks: speed, API calls against their floor, import time, deploy size, pack size, demo time, and
`rdkpack check` templates per second.

Run with `make bench` (or `.venv/bin/python bench/run.py`). Prints a table and writes
bench/results.json. Not a test: figures depend on the machine; the floors are what to compare with.
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
import zipfile
from collections import Counter
from io import BytesIO
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ["AWS_REGION"] = "us-east-1"

import boto3  # noqa: E402
import rdklib.evaluator  # noqa: E402
from moto import mock_aws  # noqa: E402

from rdkpack.account.demo import run_demo  # noqa: E402
from rdkpack.account.scan import rule_module  # noqa: E402
from rdkpack.packs.build import build_pack, render  # noqa: E402
from rdkpack.project.config import load_project  # noqa: E402
from tests.support.endpoint_account import EndpointAccount, run_idle_sweep, sweep_floor  # noqa: E402
from tests.support.lambda_account import PAGE, LambdaAccount, run_sweep  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from check_throughput import check_throughput  # noqa: E402
from handlers import handler_throughput  # noqa: E402
from org_scan_latency import org_scan_latency  # noqa: E402
from rollout import rollout_dry_run  # noqa: E402
from scans import organization_scan, scan_help_startup, whole_pack_scan  # noqa: E402

RULES = (
    "LAMBDA_LAYER_CHECK",
    "LAMBDA_CODE_SIGNING_CHECK",
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",
    "VPC_ENDPOINT_AZ_COUNT_CHECK",
    "VPC_ENDPOINT_IDLE_CHECK",
)
ITEMS = 10_000
SWEEP_ENDPOINTS = 5_000
SWEEP_FUNCTIONS = 5_000
DISTINCT_CONFIGS = 5
CSC = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-{:017x}"
PARAMETERS = {
    "LAMBDA_LAYER_CHECK": {"LayerArn": "arn:aws:lambda:*:123456789012:layer:base", "MinLayerVersion": "3"},
    "LAMBDA_CODE_SIGNING_CHECK": {"RequireEnforce": "true"},
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": {},
    "VPC_ENDPOINT_AZ_COUNT_CHECK": {"MaxAzCount": "1"},
    "VPC_ENDPOINT_IDLE_CHECK": {"IdleDays": "30"},
}


def item(rule: str, rng: random.Random, index: int) -> dict:
    if rule.startswith("LAMBDA"):
        layers = [
            {"arn": f"arn:aws:lambda:us-east-1:123456789012:layer:base:{rng.randint(1, 9)}"}
            for _ in range(rng.randint(0, 3))
        ]
        configuration = {
            "functionName": f"fn{index}",
            "packageType": rng.choice(["Zip", "Zip", "Image"]),
            "layers": layers,
        }
        return {
            "resourceType": "AWS::Lambda::Function",
            "resourceId": f"fn{index}",
            "configuration": configuration,
            "tags": {},
        }
    if rule.startswith("S3"):
        prefixes = ["logs/", "logs/*", "*", "", "tmp/"]
        rules = [
            {
                "id": f"r{n}",
                "status": "Enabled",
                "prefix": None,
                "filter": {"predicate": {"type": "LifecyclePrefixPredicate", "prefix": rng.choice(prefixes)}},
            }
            for n in range(rng.randint(1, 10))
        ]
        return {
            "resourceType": "AWS::S3::Bucket",
            "resourceId": f"b{index}",
            "configuration": {},
            "supplementaryConfiguration": {"BucketLifecycleConfiguration": rules and {"rules": rules}},
            "tags": {},
        }
    configuration = {
        "vpcEndpointId": f"vpce-{index:017x}",
        "vpcId": "vpc-0123456789abcdef0",
        "vpcEndpointType": "Interface",
        "serviceName": "com.amazonaws.us-east-1.ssm",
        "subnetIds": [f"s{n}" for n in range(rng.randint(1, 3))],
        "state": "available",
        "creationTimestamp": "2025-01-01T00:00:00.000Z",  # old enough for the idle rule's window
    }
    return {
        "resourceType": "AWS::EC2::VPCEndpoint",
        "resourceId": f"vpce-{index}",
        "configuration": configuration,
        "tags": {},
    }


class ChangeLambda:
    """The Lambda calls of a change evaluation, answered in memory (the figure is the rule's own speed)."""

    def get_function_code_signing_config(self, FunctionName):
        return {
            "CodeSigningConfigArn": CSC.format(int(FunctionName[2:]) % DISTINCT_CONFIGS),
            "FunctionName": FunctionName,
        }

    def get_code_signing_config(self, CodeSigningConfigArn):
        return {"CodeSigningConfig": {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}}}


class ChangeCloudWatch:
    """The idle rule's GetMetricData, answered in memory: one page, one daily sum per query."""

    def get_paginator(self, operation):
        return self

    def paginate(self, MetricDataQueries, **_):
        yield {
            "MetricDataResults": [{"Id": q["Id"], "Values": [1.0], "StatusCode": "Complete"} for q in MetricDataQueries]
        }


def answering_client(service, *args, **kwargs):
    return ChangeCloudWatch() if service == "cloudwatch" else ChangeLambda()


def evaluations_per_second() -> dict:
    figures = {}
    for rule_name in RULES:
        module = rule_module(ROOT, rule_name)
        rule = getattr(module, rule_name)()
        parameters = rule.evaluate_parameters(PARAMETERS[rule_name])
        rng = random.Random(7)
        items = [item(rule_name, rng, i) for i in range(ITEMS)]
        factory = mock.Mock()
        factory.build_client.side_effect = answering_client
        started = time.perf_counter()
        for each in items:
            rule.evaluate_change({}, factory, each, parameters)
        figures[rule_name] = round(ITEMS / (time.perf_counter() - started))
    return figures


def change_event(rule_name: str, rng: random.Random) -> dict:
    configuration_item = {
        **item(rule_name, rng, 1),
        "configurationItemStatus": "OK",
        "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
    }
    configuration_item["configuration"]["packageType"] = "Zip"
    if rule_name == "LAMBDA_CODE_SIGNING_CHECK":
        configuration_item["configuration"]["layers"] = []  # layers add GetCodeSigningConfig (publishers)
    invoking = {
        "messageType": "ConfigurationItemChangeNotification",
        "configurationItem": configuration_item,
        "notificationCreationTime": "t",
    }
    parameters = {**PARAMETERS[rule_name]}
    if rule_name == "LAMBDA_CODE_SIGNING_CHECK":
        parameters["RequireEnforce"] = "false"  # Enforce adds GetCodeSigningConfig (policy)
    return {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
    }


def count_call(calls: Counter, **_) -> None:
    calls.update([1])


class RdklibFactory(rdklib.evaluator.ClientFactory):
    """rdklib's own factory (a new AssumeRole and clients per event); a subclass, so the kit leaves it in place."""


def calls_per_change_evaluation(events: int = 50) -> dict:
    """Every call one change notification costs through the real handler (moto), AssumeRole and PutEvaluations
    included: the first event in a fresh container (cold) and the mean of the next ones (warm), with the kit's
    reused credentials and clients and with rdklib's factory."""
    figures = {}
    for factory in ("reused", "rdklib"):
        for rule_name in RULES:
            with mock_aws():
                boto3.setup_default_session()
                calls = Counter()
                boto3.DEFAULT_SESSION.events.register("before-send", functools.partial(count_call, calls))
                role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
                boto3.client("lambda").create_function(
                    FunctionName="fn1",
                    Role=role,
                    Runtime="python3.12",
                    Handler="h.h",
                    Code={"ZipFile": b"PK"},
                    CodeSigningConfigArn=CSC.format(1),
                )
                calls.clear()
                module = rule_module(ROOT, rule_name)
                kit = module.handle_event.__globals__  # the rule's own kit copy
                rng = random.Random(3)
                patches = [mock.patch.dict(kit, WARM_CLIENTS={}, WARM_CREDENTIALS={})]
                if factory == "rdklib":
                    patches.append(mock.patch("rdklib.evaluator.ClientFactory", RdklibFactory))
                with contextlib.ExitStack() as stack:
                    for patch in patches:
                        stack.enter_context(patch)
                    module.lambda_handler(change_event(rule_name, rng), None)
                    cold = sum(calls.values())
                    calls.clear()
                    for _ in range(events - 1):
                        module.lambda_handler(change_event(rule_name, rng), None)
                figures.setdefault(rule_name, {})[factory] = {
                    "cold": cold,
                    "warm": round(sum(calls.values()) / (events - 1), 2),
                }
                # PutEvaluations, plus GetFunctionCodeSigningConfig or GetMetricData for the rules that read.
                figures[rule_name]["floor"] = (
                    2 if rule_name in ("LAMBDA_CODE_SIGNING_CHECK", "VPC_ENDPOINT_IDLE_CHECK") else 1
                )
                boto3.DEFAULT_SESSION = None
    return figures


def periodic_sweep_calls() -> dict:
    """The code-signing sweep over a Lambda account answered at the HTTP layer (pages of 50, shapes checked)."""
    module = rule_module(ROOT, "LAMBDA_CODE_SIGNING_CHECK")
    account = LambdaAccount(SWEEP_FUNCTIONS, DISTINCT_CONFIGS)
    _, clock, seconds = run_sweep(module, PARAMETERS["LAMBDA_CODE_SIGNING_CHECK"], account)
    n = SWEEP_FUNCTIONS
    floor = {
        "ListFunctions": math.ceil(n / PAGE),
        "ListCodeSigningConfigs": math.ceil(DISTINCT_CONFIGS / PAGE),
        "ListFunctionsByCodeSigningConfig": sum(max(1, math.ceil(len(a) / PAGE)) for a in account.users.values()),
        "PutEvaluations": math.ceil(n / 100),
    }
    return {
        "functions": n,
        "configs": DISTINCT_CONFIGS,
        "calls": dict(account.calls),
        "floor": floor,
        "total": sum(account.calls.values()),
        "floor_total": sum(floor.values()),
        "budget": 300,
        "per_function_sweep_total_before": 5_155,
        "lambda_calls_per_second_cap": module.LAMBDA_CALLS_PER_SECOND,
        "busiest_second": clock.busiest_second(),
        "seconds_paced_at_the_cap": round(clock.now, 1),
        "seconds_of_compute": round(seconds, 2),
    }


def periodic_idle_sweep_calls() -> dict:
    """The idle-endpoint sweep over 5,000 endpoints answered by a fake enforcing EC2's and CloudWatch's page limits."""
    module = rule_module(ROOT, "VPC_ENDPOINT_IDLE_CHECK")
    account = EndpointAccount(SWEEP_ENDPOINTS)
    _, seconds = run_idle_sweep(module, PARAMETERS["VPC_ENDPOINT_IDLE_CHECK"], account)
    floor = sweep_floor(SWEEP_ENDPOINTS, SWEEP_ENDPOINTS)
    return {
        "endpoints": SWEEP_ENDPOINTS,
        "calls": dict(account.calls),
        "floor": floor,
        "total": sum(account.calls.values()),
        "floor_total": sum(floor.values()),
        "budget": 70,
        "largest_get_metric_data_call_queries": max(account.queries_per_call),
        "metrics_requested": sum(account.queries_per_call),
        "get_metric_data_usd_per_day": round(sum(account.queries_per_call) / 1000 * 0.01, 4),
        "seconds_of_compute": round(seconds, 2),
    }


def import_milliseconds() -> dict:
    figures = {}
    for rule_name in RULES:
        code = (
            "import sys,time;sys.path.insert(0,sys.argv[1]);import rdklib;t=time.perf_counter();"
            f"import {rule_name};print(time.perf_counter()-t)"
        )
        runs = [
            float(
                subprocess.run(
                    [sys.executable, "-c", code, str(ROOT / "rules" / rule_name)],
                    capture_output=True,
                    text=True,
                    check=True,
                ).stdout
            )
            for _ in range(5)
        ]
        figures[rule_name] = round(statistics.median(runs) * 1000, 2)
    return figures


def deploy_zip_kilobytes() -> dict:
    """The zip `rdk deploy` uploads: the whole rule folder (tests included)."""
    figures = {}
    for rule_name in RULES:
        buffer = BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted((ROOT / "rules" / rule_name).rglob("*")):
                if path.is_file() and "__pycache__" not in path.parts:
                    archive.write(path, path.relative_to(ROOT / "rules" / rule_name))
        figures[rule_name] = round(len(buffer.getvalue()) / 1024, 1)
    return figures


def pack_bytes() -> dict:
    project = load_project(ROOT)
    return {name: len(render(build_pack(project, pack)).encode()) for name, pack in project.packs.items()}


DEMO_RUNS = {1: 3, 10: 2}  # scale -> runs; the median is the figure in docs/benchmarks.md


def demo_seconds() -> dict:
    project = load_project(ROOT)
    return {
        f"scale {scale}": round(statistics.median(run_demo(project, scale=scale).seconds for _ in range(runs)), 1)
        for scale, runs in DEMO_RUNS.items()
    }


def main() -> int:
    results = {
        "evaluations_per_second": evaluations_per_second(),
        "api_calls_per_change_evaluation": calls_per_change_evaluation(),
        "periodic_code_signing_sweep": periodic_sweep_calls(),
        "periodic_idle_endpoint_sweep": periodic_idle_sweep_calls(),
        "import_ms_after_rdklib": import_milliseconds(),
        "deploy_zip_kb": deploy_zip_kilobytes(),
        "pack_bytes": pack_bytes(),
        "demo_seconds": demo_seconds(),
        "handler_throughput": handler_throughput(),
        "scan_whole_pack": whole_pack_scan(),
        "scan_help_startup": scan_help_startup(),
        "organization_scan": organization_scan(),
        "rollout_dry_run": rollout_dry_run(),
        "org_scan_latency": org_scan_latency(),
        "check_throughput": check_throughput(),
    }
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    header = f"{'rule':36} {'evals/s':>8} {'calls cold/warm':>15} {'rdklib':>9} {'floor':>5} {'import ms':>9}"
    print(f"{header} {'zip KB':>6}")
    for rule_name in RULES:
        calls = results["api_calls_per_change_evaluation"][rule_name]
        speed, imported = results["evaluations_per_second"][rule_name], results["import_ms_after_rdklib"][rule_name]
        size = results["deploy_zip_kb"][rule_name]
        reused = f"{calls['reused']['cold']}/{calls['reused']['warm']}"
        rdklib_factory = f"{calls['rdklib']['cold']}/{calls['rdklib']['warm']}"
        print(f"{rule_name:36} {speed:>8} {reused:>15} {rdklib_factory:>9} {calls['floor']:>5} {imported:>9} {size:>6}")
    sweep = results["periodic_code_signing_sweep"]
    print(f"code-signing sweep over {sweep['functions']} functions: {sweep['calls']}")
    print(
        f"  = {sweep['total']} calls (floor {sweep['floor_total']}, budget {sweep['budget']}, per-function sweep "
        f"{sweep['per_function_sweep_total_before']}); busiest second {sweep['busiest_second']} Lambda calls "
        f"(cap {sweep['lambda_calls_per_second_cap']}/s); {sweep['seconds_paced_at_the_cap']} s paced at the cap, "
        f"{sweep['seconds_of_compute']} s of compute"
    )
    idle = results["periodic_idle_endpoint_sweep"]
    print(
        f"idle-endpoint sweep over {idle['endpoints']} endpoints: {idle['calls']} = {idle['total']} calls "
        f"(floor {idle['floor_total']}, budget {idle['budget']}); {idle['metrics_requested']} metrics requested "
        f"(about ${idle['get_metric_data_usd_per_day']} a day); {idle['seconds_of_compute']} s of compute"
    )
    for name, size in results["pack_bytes"].items():
        print(f"pack {name}: {size} bytes of 51,200")
    print(f"demo: {results['demo_seconds']}")
    for key in (
        "handler_throughput",
        "scan_whole_pack",
        "scan_help_startup",
        "organization_scan",
        "rollout_dry_run",
        "org_scan_latency",
        "check_throughput",
    ):
        print(f"{key}: {json.dumps(results[key])}")
    print("written: bench/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
