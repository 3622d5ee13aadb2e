"""`rdkpack scan --org --regions all --concurrency N --output r.jsonl` against request latency.

moto answers at CPU speed, which hides what a real scan waits on: every request's round trip. Here moto
runs as a server in its own process (AWS's work is not done under the scanner's GIL either) holding an
organization whose every member has buckets, endpoints and a function in each of its enabled regions, and
each request first waits LATENCY seconds (a real API round trip), then moto answers. DescribeRegions is
answered in front of moto (after the same wait): each member has REGIONS enabled and two opt-in regions not.

The command runs as a user runs it (`rdkpack.cli.main`), at several concurrencies. Measured per run: wall
time, requests, the scanner's CPU; the rows (the .jsonl lines, in any order) must be the same at every
concurrency. The model: a pair (account x region) makes R requests and uses C seconds of CPU; N pairs at once
take max(R x latency / N, C) a pair, so the floor is pairs x R x latency / N and the CPU bound pairs x C.

Run with `.venv/bin/python bench/org_scan_latency.py` (writes bench/org_scan_latency.json): 24 accounts x 2
regions at concurrency 1, 4, 16 and 32, and 300 accounts x 4 regions at the default, each the median of RUNS;
`--full` adds one run of 300 x 4 at concurrency 1 (about 10 minutes).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1")
os.environ.setdefault("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")

import boto3  # noqa: E402
import requests  # noqa: E402
from scans import PACK, seed_buckets_and_endpoints  # noqa: E402

from rdkpack import cli  # noqa: E402
from rdkpack.account import org  # noqa: E402

LATENCY = 0.060  # seconds: a real API round trip
ROLE = "scan"
PER_REGION = 6  # 3 buckets, 3 endpoints; and one function
SHAPES = {
    "24x2": (24, ("us-east-1", "eu-west-1")),
    "300x4": (300, ("us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2")),
}
NOT_ENABLED = ("af-south-1", "me-south-1")  # opt-in regions no member enabled
RUNS = 3  # each figure is the median of this many scans


class Latency:
    """Every request waits LATENCY before moto answers it; counts the requests."""

    def __init__(self):
        self.requests = 0
        self.lock = threading.Lock()

    def wait(self, **_):
        with self.lock:
            self.requests += 1
        time.sleep(LATENCY)


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


def organization(accounts: int, regions) -> list[str]:
    """An organization of `accounts` accounts, each seeded in every region; their IDs. moto's management account
    (123456789012, not rdk-config.json's, so --org scans it) is one of them: moto maps assumed-role keys to their
    account only when its own account is the default."""
    management = boto3.Session(region_name="us-east-1")
    client = management.client("organizations")
    client.create_organization(FeatureSet="ALL")
    members = [management.client("sts").get_caller_identity()["Account"]]
    members += [
        client.create_account(AccountName=f"member-{n}", Email=f"member-{n}@example.com")["CreateAccountStatus"][
            "AccountId"
        ]
        for n in range(accounts - 1)
    ]
    for account in members:
        credentials = management.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{ROLE}", RoleSessionName="seed"
        )["Credentials"]
        for region in regions:
            member = org.assumed_session(credentials, region)
            seed_buckets_and_endpoints(member, PER_REGION // 2, PER_REGION // 2, prefix=f"{account}-{region}")
            role = member.client("iam").create_role(RoleName=f"fn-{region}", AssumeRolePolicyDocument="{}")
            member.client("lambda").create_function(
                FunctionName="orders",
                Role=role["Role"]["Arn"],
                Runtime="python3.12",
                Handler="h.h",
                Code={"ZipFile": b"PK"},
            )
    return members


def regions_answer(regions):
    """DescribeRegions as a member with `regions` enabled and NOT_ENABLED not, after a round trip."""
    listed = [{"RegionName": r, "OptInStatus": "opt-in-not-required"} for r in regions]
    listed += [{"RegionName": r, "OptInStatus": "not-opted-in"} for r in NOT_ENABLED]

    def answer(**_):
        time.sleep(LATENCY)
        return SimpleNamespace(status_code=200, headers={}), {"Regions": listed, "ResponseMetadata": {}}

    return answer


@contextlib.contextmanager
def with_latency(latency: Latency, regions):
    """The scanning session and every member session wait LATENCY per request (moto is on loopback)."""
    member_session, scanning_session = org.assumed_session, cli.boto3.Session

    def member(credentials, region):
        made = member_session(credentials, region)
        made.events.register_first("before-call.ec2.DescribeRegions", regions_answer(regions))
        made.events.register_first("before-send", latency.wait)
        return made

    def scanning(**options):
        made = scanning_session(**options)
        made.events.register_first("before-send", latency.wait)
        return made

    org.assumed_session, cli.boto3.Session = member, scanning
    try:
        yield
    finally:
        org.assumed_session, cli.boto3.Session = member_session, scanning_session


def scan(concurrency: int, regions, folder: Path) -> dict:
    """One `rdkpack scan --org --regions all` as a user runs it; its wall time, CPU, requests and rows."""
    output = folder / f"scan-{concurrency}.jsonl"
    argv = ["--project", str(ROOT), "scan", "--org", "--role-name", ROLE, "--regions", "all", "--pack", PACK]
    argv += ["--source", "api", "--concurrency", str(concurrency), "--output", str(output)]
    latency = Latency()
    quiet = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    with with_latency(latency, regions), quiet[0], quiet[1]:
        cpu, started = time.process_time(), time.perf_counter()
        code = cli.main(argv)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    lines = [json.loads(line) for line in output.read_text().splitlines()[1:]]
    failed = [line for line in lines if line["kind"] == "failure"]
    assert code in (0, 1) and not failed, (code, failed[:3])
    pairs = sum(line["kind"] == "done" for line in lines)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "requests": latency.requests,
        "pairs": pairs,
        "rows": sorted(json.dumps(line, sort_keys=True) for line in lines),
    }


def measured(concurrency: int, regions, folder: Path, runs: int, reference: list | None) -> tuple[dict, list]:
    found = [scan(concurrency, regions, folder) for _ in range(runs)]
    for one in found:
        reference = reference or one["rows"]
        assert one["rows"] == reference, f"concurrency {concurrency} gave other rows"
    first = found[0]
    pairs, requests_ = first["pairs"], first["requests"]
    seconds = statistics.median(one["seconds"] for one in found)
    cpu_per_pair = statistics.median(one["cpu_seconds"] for one in found) / pairs
    floor = requests_ * LATENCY / concurrency
    predicted = max(floor, pairs * cpu_per_pair) if concurrency > 1 else floor + pairs * cpu_per_pair
    return {
        "seconds": round(seconds, 2),
        "seconds_min_max": [round(min(o["seconds"] for o in found), 2), round(max(o["seconds"] for o in found), 2)],
        "runs": runs,
        "pairs": pairs,
        "requests": requests_,
        "requests_per_pair": round(requests_ / pairs, 1),
        "cpu_ms_per_pair": round(cpu_per_pair * 1000, 1),
        "model_floor_seconds": round(floor, 2),
        "model_predicted_seconds": round(predicted, 2),
        "over_floor": round(seconds / floor, 2),
    }, reference


def org_scan_latency(full: bool = False) -> dict:
    results = {"latency_seconds": LATENCY, "default_concurrency": org.DEFAULT_CONCURRENCY}
    plans = {"24x2": (1, 4, 16, 32), "300x4": (org.DEFAULT_CONCURRENCY, 1) if full else (org.DEFAULT_CONCURRENCY,)}
    for shape, (accounts, regions) in SHAPES.items():
        with moto_server(), tempfile.TemporaryDirectory() as folder:
            organization(accounts, regions)
            reference, runs = None, {}
            for concurrency in plans[shape]:
                times = 1 if (shape == "300x4" and concurrency == 1) else RUNS
                runs[str(concurrency)], reference = measured(concurrency, regions, Path(folder), times, reference)
        results[shape] = {"accounts": accounts, "regions": len(regions), "rows": len(reference), "runs": runs}
    return results


def speedups(results: dict) -> None:
    for shape in SHAPES:
        runs = results[shape]["runs"]
        if "1" in runs:
            default = runs[str(org.DEFAULT_CONCURRENCY)]["seconds"]
            results[shape]["speedup_default_over_1"] = round(runs["1"]["seconds"] / default, 1)


def main() -> int:
    full = "--full" in sys.argv[1:]
    path = ROOT / "bench" / "org_scan_latency.json"
    results = org_scan_latency(full)
    if not full and path.exists():  # keep the last --full run's concurrency-1 figure for 300 x 4
        kept = json.loads(path.read_text()).get("300x4", {}).get("runs", {}).get("1")
        if kept:
            results["300x4"]["runs"]["1"] = {**kept, "from_an_earlier_full_run": True}
    speedups(results)
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
