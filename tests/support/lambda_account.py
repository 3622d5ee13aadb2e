"""A Lambda account at scale, answered at botocore's before-send (moto lacks the code-signing list APIs).

Pages hold at most PAGE items whatever MaxItems asks, as Lambda's list APIs do, with markers; every
answer is checked against botocore's output shape before it is sent, and every HTTP attempt is counted.
"""

from __future__ import annotations

import functools
import json
import time
from collections import Counter
from unittest import mock
from urllib.parse import parse_qs, unquote, urlsplit

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.validate import validate_parameters

from tests.support.faults import _Raw

PAGE = 50
ACCOUNT = "123456789012"
REGION = "us-east-1"
PROFILE = f"arn:aws:signer:{REGION}:{ACCOUNT}:/signing-profiles/company/0a1b2c3d4e"
LAYER = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:base:3"
LIST_OPERATIONS = ("ListFunctions", "ListCodeSigningConfigs", "ListFunctionsByCodeSigningConfig")


@functools.cache
def output_shapes() -> dict:
    model = botocore.session.get_session().get_service_model("lambda")
    return {operation: model.operation_model(operation).output_shape for operation in LIST_OPERATIONS}


def config_arn(index: int) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:code-signing-config:csc-{index:017x}"


class LambdaAccount:
    """`functions` Zip functions; function i uses config i % (configs + 1), the last share none."""

    def __init__(self, functions: int, configs: int):
        self.calls: Counter = Counter()
        self.configs = [
            {
                "CodeSigningConfigId": config_arn(c).rsplit(":", 1)[1],
                "CodeSigningConfigArn": config_arn(c),
                "AllowedPublishers": {"SigningProfileVersionArns": [PROFILE]},
                "CodeSigningPolicies": {"UntrustedArtifactOnDeployment": "Enforce"},
                "LastModified": "2026-11-01T00:00:00.000+0000",
            }
            for c in range(configs)
        ]
        self.functions = [
            {
                "FunctionName": f"fn{i}",
                "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:fn{i}",
                "PackageType": "Zip",
                "Layers": [{"Arn": LAYER, "SigningProfileVersionArn": PROFILE}],
            }
            for i in range(functions)
        ]
        self.users = {config["CodeSigningConfigArn"]: [] for config in self.configs}
        for i, function in enumerate(self.functions):
            if i % (configs + 1) < configs:
                self.users[config_arn(i % (configs + 1))].append(function["FunctionArn"])

    def attach(self, client):
        client.meta.events.register_first("before-send.lambda", self.respond)
        return client

    def respond(self, request, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]
        self.calls[operation] += 1
        url = urlsplit(request.url)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        if operation == "ListFunctions":
            items, key = self.functions, "Functions"
        elif operation == "ListCodeSigningConfigs":
            items, key = self.configs, "CodeSigningConfigs"
        elif operation == "ListFunctionsByCodeSigningConfig":
            items, key = self.users[unquote(url.path.split("/code-signing-configs/")[1].split("/")[0])], "FunctionArns"
        else:
            raise AssertionError(f"the fake Lambda account does not answer {operation}")
        return self.page(request, operation, items, key, query)

    def page(self, request, operation, items, key, query):
        start = int(query.get("Marker", 0))
        size = min(int(query.get("MaxItems", PAGE)), PAGE)
        answer = {key: items[start : start + size]}
        if start + size < len(items):
            answer["NextMarker"] = str(start + size)
        validate_parameters(answer, output_shapes()[operation])
        body = json.dumps(answer).encode()
        return AWSResponse(request.url, 200, {"content-type": "application/json"}, _Raw(body))


class ConfigSink:
    """Config's PutEvaluations answered at before-send: batches of at most 100, every call counted."""

    def __init__(self, calls: Counter):
        self.calls = calls
        self.evaluations = []

    def attach(self, client):
        client.meta.events.register_first("before-send.config-service", self.respond)
        return client

    def respond(self, request, event_name, **_):
        operation = event_name.rsplit(".", 1)[-1]
        assert operation == "PutEvaluations", f"the sweep called config {operation}"
        batch = json.loads(request.body)["Evaluations"]
        assert len(batch) <= 100, "PutEvaluations takes at most 100 evaluations"
        self.calls[operation] += 1
        self.evaluations += batch
        body = json.dumps({"FailedEvaluations": []}).encode()
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.1"}, _Raw(body))


class PacedClock:
    """The rate cap's clock and sleep: time moves only when the cap sleeps; records when each call went out."""

    def __init__(self):
        self.now = 0.0
        self.sent: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def cap(self, real_cap):
        def make(per_second):
            cap = real_cap(per_second, clock=lambda: self.now, sleep=self.sleep)
            wait = cap.wait

            def paced(**kwargs):
                wait(**kwargs)
                self.sent.append(self.now)

            cap.wait = paced
            return cap

        return make

    def busiest_second(self) -> int:
        """Most calls sent in any one-second window."""
        edge = 1 - 1e-9  # the cap spaces calls 1/rate apart; float sums land a hair short of whole seconds
        return max((sum(1 for t in self.sent if start <= t < start + edge) for start in self.sent), default=0)


def scheduled_event(parameters: dict) -> dict:
    invoking = {"messageType": "ScheduledNotification", "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    return {
        "invokingEvent": json.dumps(invoking),
        "ruleParameters": json.dumps(parameters),
        "resultToken": "TESTMODE",
        "eventLeftScope": False,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/config-role",
    }


def run_sweep(module, parameters: dict, account: LambdaAccount):
    """The code-signing rule's periodic handler over the fake account: (sink, clock, seconds of compute)."""
    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)
    sink, clock = ConfigSink(account.calls), PacedClock()
    clients = {"lambda": account.attach(session.client("lambda")), "config": sink.attach(session.client("config"))}

    class Factory:
        def __init__(self, *args, **kwargs):
            pass

        def build_client(self, service, *args, **kwargs):
            return clients[service]

    with (
        mock.patch("rdklib.evaluator.ClientFactory", Factory),
        mock.patch.object(module, "RateCap", clock.cap(module.RateCap)),
    ):
        started = time.perf_counter()
        module.lambda_handler(scheduled_event(parameters), None)
    return sink, clock, time.perf_counter() - started
