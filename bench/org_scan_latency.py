"""`scan --org` against request latency: the same faked organization at --concurrency 1 and higher.

moto answers at CPU speed, which hides what a real scan waits on: every request's round trip. Here moto
runs as a server in its own process (AWS's work is not done under the scanner's GIL either), and each
request first waits LATENCY seconds (as a real API round trip would), then moto answers. Measured: wall
time per concurrency, requests per account and region, and the model floor (requests x latency /
concurrency) beside it; the rows must be the same at every concurrency.

Run with `.venv/bin/python bench/org_scan_latency.py` (writes bench/org_scan_latency.json).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

import boto3  # noqa: E402
import requests  # noqa: E402
from scans import ITEM_ONLY, PACK, seed_buckets_and_endpoints  # noqa: E402

from rdkpack.account import org  # noqa: E402
from rdkpack.project.config import load_project  # noqa: E402

LATENCY = 0.060  # seconds: a real API round trip
ACCOUNTS, REGIONS, PER_REGION = 24, ("us-east-1", "eu-west-1"), 6
CONCURRENCIES = (1, 4, 16, 32)
RUNS = 1  # each figure is the median of this many scans


class Latency:
    """Every request waits LATENCY before moto answers it; counts the requests."""

    def __init__(self):
        self.requests = 0
        self.lock = threading.Lock()

    def wait(self, **_):
        with self.lock:
            self.requests += 1
        time.sleep(LATENCY)

    def attach(self, session):
        session.events.register_first("before-send", self.wait)
        return session


@contextlib.contextmanager
def moto_server():
    """moto_server on a free 127.0.0.1 port, in its own process; every client of this process talks to it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with contextlib.suppress(requests.ConnectionError):
                requests.post(f"{url}/moto-api/reset", timeout=5)
                break
            time.sleep(0.05)
        else:
            raise RuntimeError(f"moto_server did not answer on {url}")
        os.environ["AWS_ENDPOINT_URL"] = url
        yield url
    finally:
        os.environ.pop("AWS_ENDPOINT_URL", None)
        server.terminate()
        server.wait(timeout=10)


def seeded(account_ids) -> None:
    base = boto3.Session(region_name=REGIONS[0])
    for account in account_ids:
        credentials = base.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/scan", RoleSessionName="seed"
        )["Credentials"]
        for region in REGIONS:
            member = org.assumed_session(credentials, region)
            seed_buckets_and_endpoints(member, PER_REGION // 2, PER_REGION // 2, prefix=f"{account}-{region}")


def scan(account_ids, concurrency: int, latency: Latency) -> tuple[float, list]:
    """One scan from a new scanning session (its clients, and so their latency, are its own)."""
    base = boto3.Session(region_name=REGIONS[0])
    project = load_project(ROOT)
    plan = org.RoleScan(project, PACK, "scan", REGIONS, ITEM_ONLY, "api")
    original = org.assumed_session
    org.assumed_session = lambda credentials, region: latency.attach(original(credentials, region))
    try:
        started = time.perf_counter()
        report = org.scan_with_role(plan, latency.attach(base), account_ids, concurrency=concurrency)
        seconds = time.perf_counter() - started
    finally:
        org.assumed_session = original
    assert not report.failures, report.failures
    return seconds, [(r.account, r.region, r.rule, r.resource_id, r.compliance) for r in report.before]


def org_scan_latency() -> dict:
    account_ids = [f"{200000000000 + n:012d}" for n in range(ACCOUNTS)]
    runs = {}
    with moto_server():
        seeded(account_ids)
        reference = None
        for concurrency in CONCURRENCIES:
            timings = []
            for _ in range(RUNS):
                latency = Latency()
                seconds, rows = scan(account_ids, concurrency, latency)
                reference = reference or rows
                assert rows == reference, f"concurrency {concurrency} gave other rows"
                timings.append(seconds)
            floor = latency.requests * LATENCY / concurrency
            runs[concurrency] = {
                "seconds": round(statistics.median(timings), 2),
                "seconds_min_max": [round(min(timings), 2), round(max(timings), 2)],
                "requests": latency.requests,
                "model_floor_seconds": round(floor, 2),
                "over_floor": round(seconds / floor, 2),
            }
    pairs = ACCOUNTS * len(REGIONS)
    per_pair = runs[1]["requests"] / pairs
    default = org.DEFAULT_CONCURRENCY
    return {
        "latency_seconds": LATENCY,
        "accounts": ACCOUNTS,
        "regions": len(REGIONS),
        "resources_per_region": PER_REGION,
        "rows": len(reference),
        "requests_per_account_region": round(per_pair, 1),
        "runs": runs,
        "speedup_default_over_1": round(runs[1]["seconds"] / runs[default]["seconds"], 1),
        "model_300x4_seconds_at_default": round(300 * 4 * per_pair * LATENCY / default, 1),
        "model_300x4_seconds_at_1": round(300 * 4 * per_pair * LATENCY, 1),
    }


def main() -> int:
    results = org_scan_latency()
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (ROOT / "bench" / "org_scan_latency.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
