"""`rdkpack rollout --org --dry-run` for a faked organization: time and API calls at 300 accounts x 4 regions.

The organization lives in moto; StackSets and organization packs are answered by tests/support/org_fake.py,
which counts every call the admin session makes. Measured: the plan of a first rollout (everything to
create), and the plan once rolled out (nothing to change), each at 50 and 300 accounts and at 2 and 4
regions, so the table shows what the calls grow with. Each figure is the median of `runs` plans.

Run alone with `.venv/bin/python bench/rollout.py` (writes bench/rollout.json), or as part of `make bench`.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

from moto import mock_aws  # noqa: E402

from rdkpack.rollout import run  # noqa: E402
from tests.support.org_rollout import Organization, no_sleep  # noqa: E402

FOUR_REGIONS = ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")
TWO_REGIONS = FOUR_REGIONS[:2]


def timed_plans(organization: Organization, runs: int) -> dict:
    seconds, calls = [], []
    for _ in range(runs):
        organization.fake.calls.clear()
        started = time.perf_counter()
        plan = run.plan(organization.session, organization.project())
        seconds.append(time.perf_counter() - started)
        calls.append(sum(organization.fake.calls.values()))
    by_service: dict[str, int] = {}
    for (service, _), count in organization.fake.calls.items():
        by_service[service] = by_service.get(service, 0) + count
    return {
        "seconds_median": round(statistics.median(seconds), 2),
        "seconds_min": round(min(seconds), 2),
        "seconds_max": round(max(seconds), 2),
        "api_calls": calls[-1],
        "api_calls_by_service": dict(sorted(by_service.items())),
        "writes_planned": plan.writes(),
        "writes_sent": sum(organization.fake.writes().values()),
    }


def measure(accounts: int, regions: tuple[str, ...], runs: int) -> dict:
    """Plans before and after a rollout of an organization with `accounts` member accounts (+ the management one)."""
    with mock_aws(), tempfile.TemporaryDirectory() as folder:
        production = accounts - 1 - 10  # minus the admin account and 10 dev accounts
        organization = Organization(Path(folder) / "project", production=production, dev=10, regions=regions)
        first = timed_plans(organization, runs)
        run.apply(run.plan(organization.session, organization.project()), say=lambda _: None, sleep=no_sleep)
        again = timed_plans(organization, runs)
    return {
        "accounts": accounts + 1,
        "regions": len(regions),
        "first_rollout_plan": first,
        "nothing_changed_plan": again,
    }


def rollout_dry_run(runs: int = 5) -> dict:
    cases = [(50, TWO_REGIONS), (50, FOUR_REGIONS), (300, TWO_REGIONS), (300, FOUR_REGIONS)]
    return {f"{accounts}x{len(regions)}": measure(accounts, regions, runs) for accounts, regions in cases}


def main() -> int:
    results = rollout_dry_run()
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (ROOT / "bench" / "rollout.json").write_text(json.dumps(results, indent=2) + "\n")
    print(f"{'accounts x regions':>18} {'plan s (median)':>16} {'API calls':>10} {'calls once rolled out':>22}")
    for name, case in results.items():
        if name == "machine":
            continue
        first, again = case["first_rollout_plan"], case["nothing_changed_plan"]
        print(
            f"{case['accounts']:>9} x {case['regions']:<6} {first['seconds_median']:>16} {first['api_calls']:>10} "
            f"{again['api_calls']:>22}  ({again['seconds_median']} s; {again['writes_planned']} writes planned)"
        )
    print("written: bench/rollout.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
