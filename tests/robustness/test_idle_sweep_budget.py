"""The idle-endpoint sweep at 5,000 endpoints: calls against the floor, every endpoint once, CloudWatch's limits."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.endpoint_account import EndpointAccount, run_idle_sweep, sweep_floor
from tests.support.project import load_rule

ENDPOINTS = 5_000
# Issue 16: ceil(N/1,000) DescribeVpcEndpoints + ceil(N/500) GetMetricData + ceil(N/100) PutEvaluations = 65
# at the default 30 days; the 455-day window needs more GetMetricData calls (221 queries fit 100,800 points).
CALL_BUDGET = {30: 70, 455: 85}


@pytest.fixture(scope="module", params=[30, 455], ids=lambda days: f"IdleDays={days}")
def sweep(request):
    module = load_rule("VPC_ENDPOINT_IDLE_CHECK", f"idle_sweep_budget_{request.param}")
    account = EndpointAccount(ENDPOINTS)
    sink, _ = run_idle_sweep(module, {"IdleDays": str(request.param)}, account)
    return request.param, module, account, sink


def test_the_sweep_makes_exactly_the_floor_of_calls_within_the_budget(sweep):
    idle_days, module, account, _ = sweep
    floor = sweep_floor(ENDPOINTS, ENDPOINTS, idle_days)
    assert dict(account.calls) == floor
    assert sum(account.calls.values()) <= CALL_BUDGET[idle_days]
    assert max(account.queries_per_call) == module.queries_per_call(idle_days)


def test_the_floor_is_the_issue_s_arithmetic_at_the_default_window():
    assert sweep_floor(5_000, 5_000) == {"DescribeVpcEndpoints": 5, "GetMetricData": 10, "PutEvaluations": 50}
    assert sweep_floor(5_000, 5_000, 455)["GetMetricData"] == 23  # 100,800 // 456 = 221 queries a call


def test_every_endpoint_is_evaluated_once_with_the_verdict_its_traffic_gives(sweep):
    _, _, account, sink = sweep
    assert sorted(e["ComplianceResourceId"] for e in sink.evaluations) == sorted(
        e["VpcEndpointId"] for e in account.endpoints
    )
    idle = sum(1 for i in range(ENDPOINTS) if account.idle(i))
    assert Counter(e["ComplianceType"] for e in sink.evaluations) == {
        "NON_COMPLIANT": idle,
        "COMPLIANT": ENDPOINTS - idle,
    }


def test_the_fake_pages_a_call_past_cloudwatch_s_data_point_limit():
    """Packing 500 queries of 456 daily points each (227,520 > 100,800) would cost extra, paged calls."""
    account = EndpointAccount(500)
    queries = [
        {"Id": f"e{i}", "MetricStat": {"Metric": {"Dimensions": [{}, {}, {"Value": f"vpce-{i:017x}"}]}}}
        for i in range(500)
    ]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    answer = account.metric_data({"MetricDataQueries": queries, "StartTime": start, "EndTime": start + timedelta(456)})
    assert (len(answer["MetricDataResults"]), answer["NextToken"]) == (221, "221")
    with pytest.raises(AssertionError, match="at most 500 queries"):
        account.metric_data({"MetricDataQueries": queries * 2, "StartTime": start, "EndTime": start + timedelta(1)})
