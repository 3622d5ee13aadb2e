"""Benchmarks: speed, API calls against their floor, import time, deploy size, pack size, demo time.

Run with `make bench` (or `.venv/bin/python bench/run.py`). Prints a table and writes
bench/results.json. Not a test: figures depend on the machine; the floors are what to compare with.
"""

from __future__ import annotations

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
from moto import mock_aws  # noqa: E402

from rdkpack.account.demo import run_demo  # noqa: E402
from rdkpack.account.scan import rule_module  # noqa: E402
from rdkpack.packs.build import build_pack, render  # noqa: E402
from rdkpack.project.config import load_project  # noqa: E402

RULES = (
    "LAMBDA_LAYER_CHECK",
    "LAMBDA_CODE_SIGNING_CHECK",
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK",
    "VPC_ENDPOINT_AZ_COUNT_CHECK",
)
ITEMS = 10_000
SWEEP_FUNCTIONS = 5_000
DISTINCT_CONFIGS = 5
CSC = "arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-{:017x}"
PARAMETERS = {
    "LAMBDA_LAYER_CHECK": {"LayerArn": "arn:aws:lambda:*:123456789012:layer:base", "MinLayerVersion": "3"},
    "LAMBDA_CODE_SIGNING_CHECK": {"RequireEnforce": "true"},
    "S3_LIFECYCLE_ASTERISK_PREFIX_CHECK": {},
    "VPC_ENDPOINT_AZ_COUNT_CHECK": {"MaxAzCount": "1"},
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
        "vpcEndpointType": "Interface",
        "serviceName": "com.amazonaws.us-east-1.ssm",
        "subnetIds": [f"s{n}" for n in range(rng.randint(1, 3))],
        "state": "available",
    }
    return {
        "resourceType": "AWS::EC2::VPCEndpoint",
        "resourceId": f"vpce-{index}",
        "configuration": configuration,
        "tags": {},
    }


class SweepLambda:
    """A Lambda client for the sweep: ListFunctions pages of 50, every call counted."""

    def __init__(self, calls: Counter, functions: int):
        self.calls, self.functions = calls, functions

    def get_paginator(self, name):
        assert name == "list_functions"
        return self

    def paginate(self):
        for start in range(0, self.functions, 50):
            self.calls["ListFunctions"] += 1
            yield {
                "Functions": [
                    {"FunctionName": f"fn{i}", "FunctionArn": f"arn:fn{i}", "PackageType": "Zip"}
                    for i in range(start, min(start + 50, self.functions))
                ]
            }

    def get_function_code_signing_config(self, FunctionName):
        self.calls["GetFunctionCodeSigningConfig"] += 1
        return {
            "CodeSigningConfigArn": CSC.format(int(FunctionName[2:]) % DISTINCT_CONFIGS),
            "FunctionName": FunctionName,
        }

    def get_code_signing_config(self, CodeSigningConfigArn):
        self.calls["GetCodeSigningConfig"] += 1
        return {"CodeSigningConfig": {"CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"}}}


class SweepConfig:
    def __init__(self, calls: Counter):
        self.calls = calls

    def put_evaluations(self, Evaluations, ResultToken, TestMode):
        self.calls["PutEvaluations"] += 1
        assert len(Evaluations) <= 100

    def __getattr__(self, name):
        raise AssertionError(f"the sweep called config {name}")


def evaluations_per_second() -> dict:
    figures = {}
    for rule_name in RULES:
        module = rule_module(ROOT, rule_name)
        rule = getattr(module, rule_name)()
        parameters = rule.evaluate_parameters(PARAMETERS[rule_name])
        rng = random.Random(7)
        items = [item(rule_name, rng, i) for i in range(ITEMS)]
        factory = mock.Mock()
        factory.build_client.return_value = SweepLambda(Counter(), 0)
        started = time.perf_counter()
        for each in items:
            rule.evaluate_change({}, factory, each, parameters)
        figures[rule_name] = round(ITEMS / (time.perf_counter() - started))
    return figures


def calls_per_change_evaluation() -> dict:
    """Calls one change notification costs through the real handler (moto), PutEvaluations excluded."""
    figures = {}
    with mock_aws():
        boto3.setup_default_session()
        calls = Counter()
        boto3.DEFAULT_SESSION.events.register("before-call.*.*", lambda model, **_: calls.update([model.name]))
        role = boto3.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        boto3.client("lambda").create_function(
            FunctionName="fn1",
            Role=role,
            Runtime="python3.12",
            Handler="h.h",
            Code={"ZipFile": b"PK"},
            CodeSigningConfigArn=CSC.format(1),
        )
        rng = random.Random(3)
        for rule_name in RULES:
            calls.clear()
            parameters = {**PARAMETERS[rule_name], "AssumeRoleMode": "false"}
            if rule_name == "LAMBDA_CODE_SIGNING_CHECK":
                parameters["RequireEnforce"] = "false"  # moto has no GetCodeSigningConfig
            for _ in range(50):
                configuration_item = {
                    **item(rule_name, rng, 1),
                    "configurationItemStatus": "OK",
                    "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
                }
                configuration_item["configuration"]["packageType"] = "Zip"
                invoking = {
                    "messageType": "ConfigurationItemChangeNotification",
                    "configurationItem": configuration_item,
                    "notificationCreationTime": "t",
                }
                event = {
                    "invokingEvent": json.dumps(invoking),
                    "ruleParameters": json.dumps(parameters),
                    "resultToken": "TESTMODE",
                    "eventLeftScope": False,
                    "executionRoleArn": "arn:aws:iam::123456789012:role/r",
                }
                rule_module(ROOT, rule_name).lambda_handler(event, None)
            extra = sum(count for name, count in calls.items() if name != "PutEvaluations")
            figures[rule_name] = {
                "calls_per_evaluation": extra / 50,
                "floor": 1 if rule_name == "LAMBDA_CODE_SIGNING_CHECK" else 0,
            }
        boto3.DEFAULT_SESSION = None
    return figures


def periodic_sweep_calls() -> dict:
    calls = Counter()

    class Factory:
        def __init__(self, *args, **kwargs):
            pass

        def build_client(self, service, *args, **kwargs):
            return SweepLambda(calls, SWEEP_FUNCTIONS) if service == "lambda" else SweepConfig(calls)

    invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    event = {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(PARAMETERS["LAMBDA_CODE_SIGNING_CHECK"]),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": "arn:aws:iam::123456789012:role/r",
    }
    with mock.patch("rdklib.evaluator.ClientFactory", Factory):
        started = time.perf_counter()
        rule_module(ROOT, "LAMBDA_CODE_SIGNING_CHECK").lambda_handler(event, None)
        seconds = time.perf_counter() - started
    n = SWEEP_FUNCTIONS
    floor = {
        "ListFunctions": math.ceil(n / 50),
        "GetFunctionCodeSigningConfig": n,
        "GetCodeSigningConfig": DISTINCT_CONFIGS,
        "PutEvaluations": math.ceil(n / 100),
    }
    return {
        "functions": n,
        "calls": dict(calls),
        "floor": floor,
        "total": sum(calls.values()),
        "floor_total": sum(floor.values()),
        "seconds": round(seconds, 2),
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


def demo_seconds() -> dict:
    project = load_project(ROOT)
    return {f"scale {scale}": round(run_demo(project, scale=scale).seconds, 1) for scale in (1, 10)}


def main() -> int:
    results = {
        "evaluations_per_second": evaluations_per_second(),
        "api_calls_per_change_evaluation": calls_per_change_evaluation(),
        "periodic_code_signing_sweep": periodic_sweep_calls(),
        "import_ms_after_rdklib": import_milliseconds(),
        "deploy_zip_kb": deploy_zip_kilobytes(),
        "pack_bytes": pack_bytes(),
        "demo_seconds": demo_seconds(),
    }
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'rule':40} {'evals/s':>9} {'calls/eval':>10} {'floor':>5} {'import ms':>9} {'zip KB':>7}")
    for rule_name in RULES:
        calls = results["api_calls_per_change_evaluation"][rule_name]
        speed, imported = results["evaluations_per_second"][rule_name], results["import_ms_after_rdklib"][rule_name]
        size = results["deploy_zip_kb"][rule_name]
        print(
            f"{rule_name:40} {speed:>9} {calls['calls_per_evaluation']:>10} {calls['floor']:>5} {imported:>9} {size:>7}"
        )
    sweep = results["periodic_code_signing_sweep"]
    print(f"code-signing sweep over {sweep['functions']} functions: {sweep['calls']}")
    print(f"  = {sweep['total']} calls (floor {sweep['floor_total']}) in {sweep['seconds']} s")
    for name, size in results["pack_bytes"].items():
        print(f"pack {name}: {size} bytes of 51,200")
    print(f"demo: {results['demo_seconds']}")
    print("written: bench/results.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
