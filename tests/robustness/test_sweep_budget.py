"""The code-signing sweep at 5,000 functions: calls against the floor, the rate cap, every function once."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from tests.support.lambda_account import PAGE, LambdaAccount, run_sweep
from tests.support.project import load_rule

FUNCTIONS, CONFIGS = 5_000, 5
CALL_BUDGET = 300  # issue 13: 5,000 functions and 5 configs, PutEvaluations included


@pytest.fixture(scope="module")
def sweep():
    module = load_rule("LAMBDA_CODE_SIGNING_CHECK", "sweep_budget")
    account = LambdaAccount(FUNCTIONS, CONFIGS)
    sink, clock, _ = run_sweep(module, {"RequireEnforce": "true"}, account)
    return module, account, sink, clock


def floor(account: LambdaAccount) -> int:
    lists = math.ceil(FUNCTIONS / PAGE) + math.ceil(CONFIGS / PAGE)
    users = sum(max(1, math.ceil(len(arns) / PAGE)) for arns in account.users.values())
    return lists + users + math.ceil(FUNCTIONS / 100)


def test_the_sweep_makes_the_floor_of_calls_and_no_per_function_call(sweep):
    _, account, _, _ = sweep
    assert set(account.calls) == {
        "ListFunctions",
        "ListCodeSigningConfigs",
        "ListFunctionsByCodeSigningConfig",
        "PutEvaluations",
    }
    assert sum(account.calls.values()) == floor(account) <= CALL_BUDGET


def test_every_function_is_evaluated_once_with_the_right_verdict(sweep):
    sink = sweep[2]
    assert sorted(e["ComplianceResourceId"] for e in sink.evaluations) == sorted(f"fn{i}" for i in range(FUNCTIONS))
    unsigned = sum(1 for i in range(FUNCTIONS) if i % (CONFIGS + 1) == CONFIGS)
    assert Counter(e["ComplianceType"] for e in sink.evaluations) == {
        "NON_COMPLIANT": unsigned,
        "COMPLIANT": FUNCTIONS - unsigned,
    }


def test_lambda_calls_stay_under_the_documented_cap_and_fit_the_timeout(sweep):
    module, account, _, clock = sweep
    lambda_calls = sum(n for operation, n in account.calls.items() if operation != "PutEvaluations")
    assert len(clock.sent) == lambda_calls, "the cap sees every Lambda call"
    assert clock.busiest_second() <= module.LAMBDA_CALLS_PER_SECOND
    assert clock.now == pytest.approx((lambda_calls - 1) / module.LAMBDA_CALLS_PER_SECOND)
