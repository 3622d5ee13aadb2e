"""Interface endpoints for the idle rule: a few in moto, or thousands answered by a fake that enforces AWS's limits.

moto's DescribeVpcEndpoints ignores MaxResults (one page, whatever the size), and its GetMetricData takes
any number of queries and never pages by data points, so a call count measured on moto would prove
nothing. `EndpointAccount` answers both at botocore's before-call, the way EC2 and CloudWatch would:
DescribeVpcEndpoints pages of at most 1,000 (MaxResults honoured below that), GetMetricData refusing more
than 500 queries and paging (NextToken) past MaxDatapoints (default 100,800) data points. Every answer
is checked against botocore's output shape before it is returned, and every call is counted.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from unittest import mock

import boto3
from botocore.validate import validate_parameters

from rdkpack.account.demo_account import backdate, put_traffic
from tests.support.lambda_account import ConfigSink, scheduled_event

ACCOUNT, REGION = "123456789012", "us-east-1"
VPC = "vpc-0123456789abcdef0"
DESCRIBE_PAGE, QUERIES_PER_CALL, MAX_DATAPOINTS = 1_000, 500, 100_800
OPERATIONS = {"ec2": ("DescribeVpcEndpoints",), "cloudwatch": ("GetMetricData",)}


def endpoint_id(index: int) -> str:
    return f"vpce-{index:017x}"


class EndpointAccount:
    """`count` interface endpoints created 500 days ago (older than any window); i is idle when i % idle_every == 0."""

    def __init__(self, count: int, idle_every: int = 3):
        self.calls: Counter = Counter()
        self.queries_per_call: list[int] = []
        self.idle_every = idle_every
        created = datetime.now(UTC) - timedelta(days=500)
        self.endpoints = [
            {
                "VpcEndpointId": endpoint_id(i),
                "VpcEndpointType": "Interface",
                "VpcId": VPC,
                "ServiceName": f"com.amazonaws.{REGION}.ssm",
                "State": "available",
                "SubnetIds": ["subnet-0000000000000000a", "subnet-0000000000000000b"],
                "RequesterManaged": False,
                "CreationTimestamp": created,
                "Tags": [],
            }
            for i in range(count)
        ]

    def idle(self, index: int) -> bool:
        return index % self.idle_every == 0

    def attach(self, client):
        service = client.meta.service_model.service_name
        for operation in OPERATIONS[service]:
            client.meta.events.register(f"before-parameter-build.{service}.{operation}", self.keep_params)
            client.meta.events.register_first(f"before-call.{service}.{operation}", self.respond)
        return client

    @staticmethod
    def keep_params(params, context, **_):
        context["endpoint_account_params"] = dict(params)

    def respond(self, model, context, **_):
        operation, params = model.name, context["endpoint_account_params"]
        self.calls[operation] += 1
        answer = self.describe(params) if operation == "DescribeVpcEndpoints" else self.metric_data(params)
        validate_parameters(answer, model.output_shape)
        return SimpleNamespace(status_code=200, headers={}), answer

    def describe(self, params: dict) -> dict:
        start = int(params.get("NextToken", 0))
        size = min(params.get("MaxResults", DESCRIBE_PAGE), DESCRIBE_PAGE)
        answer = {"VpcEndpoints": self.endpoints[start : start + size]}
        if start + size < len(self.endpoints):
            answer["NextToken"] = str(start + size)
        return answer

    def metric_data(self, params: dict) -> dict:
        queries = params["MetricDataQueries"]
        assert len(queries) <= QUERIES_PER_CALL, f"GetMetricData takes at most 500 queries, got {len(queries)}"
        self.queries_per_call.append(len(queries))
        # Daily sums: one data point per period of the window for every query (the budget CloudWatch counts).
        periods = math.ceil((params["EndTime"] - params["StartTime"]).total_seconds() / 86_400)
        fit = max(1, params.get("MaxDatapoints", MAX_DATAPOINTS) // max(periods, 1))
        start = int(params.get("NextToken", 0))
        results = []
        for query in queries[start : start + fit]:
            index = int(query["MetricStat"]["Metric"]["Dimensions"][2]["Value"][5:], 16)
            values = [] if self.idle(index) else [1_024.0]
            results.append({"Id": query["Id"], "Label": "BytesProcessed", "Values": values, "StatusCode": "Complete"})
        answer = {"MetricDataResults": results, "Messages": []}
        if start + fit < len(queries):
            answer["NextToken"] = str(start + fit)
        return answer


def run_idle_sweep(module, parameters: dict, account: EndpointAccount):
    """The idle rule's periodic handler over the fake account: (sink, seconds)."""
    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)
    sink = ConfigSink(account.calls)
    clients = {
        "ec2": account.attach(session.client("ec2")),
        "cloudwatch": account.attach(session.client("cloudwatch")),
        "config": sink.attach(session.client("config")),
    }

    class Factory:
        def __init__(self, *args, **kwargs):
            pass

        def build_client(self, service, *args, **kwargs):
            return clients[service]

    with mock.patch("rdklib.evaluator.ClientFactory", Factory):
        started = time.perf_counter()
        module.lambda_handler(scheduled_event(parameters), None)
    return sink, time.perf_counter() - started


def sweep_floor(endpoints: int, measured: int, idle_days: int = 30) -> dict:
    """The fewest calls a sweep can make: pages of 1,000, as many queries a call as fit, 100 evaluations a call."""
    per_call = min(QUERIES_PER_CALL, MAX_DATAPOINTS // (idle_days + 1))
    return {
        "DescribeVpcEndpoints": max(1, math.ceil(endpoints / DESCRIBE_PAGE)),
        "GetMetricData": math.ceil(measured / per_call),
        "PutEvaluations": math.ceil(endpoints / 100),
    }


def idle_and_busy_endpoints(session, age_days: int = 90) -> dict:
    """Two one-AZ interface endpoints in moto, created age_days ago: 'idle' (no traffic), 'busy' (traffic)."""
    ec2 = session.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24", AvailabilityZone=f"{REGION}a")["Subnet"]
    found = {}
    for name, service, traffic in (("idle", "secretsmanager", ()), ("busy", "ecr.api", ((4_096, 2),))):
        endpoint = ec2.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=[subnet["SubnetId"]],
        )["VpcEndpoint"]
        backdate(endpoint["VpcEndpointId"], timedelta(days=age_days))
        put_traffic(session, endpoint, traffic)
        found[name] = endpoint["VpcEndpointId"]
    return found
