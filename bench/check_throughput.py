"""`rdkpack check` throughput: templates per second over a folder of 1,000 generated templates.

The folder mixes what the rules judge, as teams write it: CloudFormation YAML (short-form intrinsics) with Lambda
functions and their layers, JSON with S3 buckets and lifecycle rules, interface endpoints on subnets the template
creates, and SAM templates with Globals. About a third use intrinsics the check resolves or leaves unknown (a Ref to
a parameter with or without AllowedValues, Fn::Sub, Fn::If on a condition, a Ref to a subnet). Measured: the whole
command, `rdkpack check FOLDER --output FILE.sarif` in a fresh process (start-up, imports, reading, judging and the
SARIF), median of `runs`; and the same command on one template, the fixed cost inside that figure.

Run alone with `.venv/bin/python bench/check_throughput.py` (writes bench/check_throughput.json), or as part of
`make bench`. `--profile` prints where an in-process check of the folder spends its time (cProfile).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TEMPLATES = 1_000
PACK = "rdk-guardrails-sandbox"
APPROVED = "arn:aws:lambda:us-east-1:123456789012:layer:company-base"
OTHER = "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
PREFIXES = ("logs/", "logs/*", "*", "", "tmp/", "archive/2024/", "/*")
KINDS = ("functions", "buckets", "endpoints", "sam")


def function_yaml(name: str, rng: random.Random, intrinsic: bool) -> str:
    layers = [f"{APPROVED}:{rng.randint(1, 9)}" for _ in range(rng.randint(0, 2))] + [OTHER] * rng.randint(0, 1)
    if intrinsic:
        layers.append("!Sub arn:aws:lambda:${AWS::Region}:123456789012:layer:company-base:${BaseVersion}")
    listed = "".join(f"\n        - {layer}" for layer in layers) if layers else " []"
    return f"""  {name}:
    Type: AWS::Lambda::Function
    Properties:
      FunctionName: !Sub "${{AWS::StackName}}-{name.lower()}"
      Runtime: python3.12
      Handler: app.handler
      Role: arn:aws:iam::111111111111:role/fn
      Code: {{S3Bucket: artifacts, S3Key: {name.lower()}.zip}}
      MemorySize: {rng.choice((128, 256, 512))}
      Layers:{listed}
      Tags:
        - {{Key: team, Value: {rng.choice(("apps", "data", "platform"))}}}
"""


def functions_template(rng: random.Random, intrinsic: bool) -> str:
    parameters = 'Parameters:\n  BaseVersion:\n    Type: String\n    AllowedValues: ["2", "3"]\n' if intrinsic else ""
    body = "".join(function_yaml(f"Fn{n}", rng, intrinsic and n == 0) for n in range(rng.randint(2, 5)))
    return f'AWSTemplateFormatVersion: "2010-09-09"\nDescription: functions\n{parameters}Resources:\n{body}'


def buckets_template(rng: random.Random, intrinsic: bool) -> str:
    resources = {}
    for n in range(rng.randint(1, 4)):
        rules = [
            {
                "Id": f"rule{r}",
                "Status": rng.choice(("Enabled", "Enabled", "Disabled")),
                "Prefix": {"Ref": "Prefix"} if intrinsic and r == 0 else rng.choice(PREFIXES),
                "ExpirationInDays": rng.randint(1, 400),
                **({"TagFilters": [{"Key": "retention", "Value": "short"}]} if rng.random() < 0.2 else {}),
            }
            for r in range(rng.randint(1, 6))
        ]
        resources[f"Bucket{n}"] = {
            "Type": "AWS::S3::Bucket",
            "Properties": {"LifecycleConfiguration": {"Rules": rules}, "Tags": [{"Key": "team", "Value": "data"}]},
        }
    template = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if intrinsic:
        template["Parameters"] = {"Prefix": {"Type": "String", "AllowedValues": ["logs/", "tmp/"]}}
    return json.dumps(template, indent=2)


def endpoints_template(rng: random.Random, intrinsic: bool) -> str:
    subnets = "".join(
        f"  Subnet{az}:\n    Type: AWS::EC2::Subnet\n    Properties: {{VpcId: vpc-1, CidrBlock: 10.0.{n}.0/24, "
        f"AvailabilityZone: us-east-1{az.lower()}}}\n"
        for n, az in enumerate("ABC")
    )
    endpoints = ""
    for n in range(rng.randint(1, 4)):
        count = rng.randint(1, 3)
        listed = ", ".join(f"!Ref Subnet{az}" if intrinsic else f"subnet-{az.lower()}" for az in "ABC"[:count])
        service = rng.choice(("ssm", "kms", "logs", "sts", "ecr.api"))
        endpoints += f"""  Endpoint{n}:
    Type: AWS::EC2::VPCEndpoint
    Properties:
      VpcEndpointType: {"!If [Production, Interface, Gateway]" if intrinsic and n == 0 else "Interface"}
      ServiceName: !Sub com.amazonaws.${{AWS::Region}}.{service}
      VpcId: vpc-1
      SubnetIds: [{listed}]
"""
    head = 'AWSTemplateFormatVersion: "2010-09-09"\nDescription: endpoints\n'
    if intrinsic:
        head += (
            "Parameters:\n  Stage:\n    Type: String\n    AllowedValues: [prod, dev]\n"
            "Conditions:\n  Production: !Equals [!Ref Stage, prod]\n"
        )
    return f"{head}Resources:\n{subnets}{endpoints}"


def sam_template(rng: random.Random, intrinsic: bool) -> str:
    layer = "!Ref SharedLayer" if intrinsic else f"{APPROVED}:{rng.randint(1, 5)}"
    functions = "".join(
        f"""  Fn{n}:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: src/fn{n}/
      Layers: [{OTHER}]
      Events:
        Api:
          Type: Api
          Properties: {{Path: /fn{n}, Method: get}}
"""
        for n in range(rng.randint(1, 4))
    )
    parameters = "Parameters:\n  SharedLayer:\n    Type: String\n" if intrinsic else ""
    return f"""AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
{parameters}Globals:
  Function:
    Runtime: python3.12
    Handler: app.handler
    Timeout: 10
    Layers: [{layer}]
Resources:
{functions}"""


WRITERS = {
    "functions": (functions_template, ".yaml"),
    "buckets": (buckets_template, ".json"),
    "endpoints": (endpoints_template, ".yaml"),
    "sam": (sam_template, ".yaml"),
}


def generate(folder: Path, count: int = TEMPLATES, seed: int = 7) -> dict:
    """`count` templates in folder/<kind>/ (a quarter of each kind, a third with intrinsics); what was written."""
    rng = random.Random(seed)
    written = {"templates": 0, "bytes": 0, "with_intrinsics": 0}
    for index in range(count):
        kind = KINDS[index % len(KINDS)]
        write, suffix = WRITERS[kind]
        intrinsic = index % 3 == 0
        text = write(rng, intrinsic)
        path = folder / kind / f"stack-{index:04d}{suffix}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written["templates"] += 1
        written["bytes"] += len(text.encode())
        written["with_intrinsics"] += intrinsic
    return written


def command(paths: list[Path], sarif: Path) -> list[str]:
    """The installed `rdkpack` entry point, as CI runs it."""
    entry = Path(sys.executable).with_name("rdkpack")
    base = (
        [str(entry)]
        if entry.exists()
        else [sys.executable, "-c", "import sys; from rdkpack.entry import main; sys.exit(main())"]
    )
    return [*base, "check", "--pack", PACK, *map(str, paths), "--output", str(sarif)]


def timed_check(paths: list[Path], sarif: Path) -> tuple[float, int]:
    """Seconds and exit code of one run; a run that wrote no SARIF failed (a traceback also exits 1)."""
    sarif.unlink(missing_ok=True)
    started = time.perf_counter()
    done = subprocess.run(command(paths, sarif), cwd=ROOT, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1) or not sarif.is_file() or "Traceback" in done.stderr:
        raise RuntimeError(f"rdkpack check exited {done.returncode} without a report: {done.stderr.strip()[-2000:]}")
    return seconds, done.returncode


def sarif_results(sarif: Path) -> int:
    return sum(len(run["results"]) for run in json.loads(sarif.read_text(encoding="utf-8"))["runs"])


def check_throughput(runs: int = 5, count: int = TEMPLATES) -> dict:
    with tempfile.TemporaryDirectory() as temporary:
        folder, sarif = Path(temporary) / "infra", Path(temporary) / "x.sarif"
        written = generate(folder, count)
        samples = [timed_check([folder], sarif) for _ in range(runs)]
        results = sarif_results(sarif)
        one = next(folder.rglob("*.yaml"))
        fixed = statistics.median(timed_check([one], sarif)[0] for _ in range(runs))
    seconds = statistics.median(s for s, _ in samples)
    return {
        **written,
        "pack": PACK,
        "runs": runs,
        "exit_code": samples[-1][1],
        "sarif_results": results,
        "seconds_median": round(seconds, 2),
        "seconds_min": round(min(s for s, _ in samples), 2),
        "seconds_max": round(max(s for s, _ in samples), 2),
        "templates_per_second": round(count / seconds, 1),
        "results_per_second": round(results / seconds),
        "one_template_seconds": round(fixed, 2),
        "templates_per_second_after_start_up": round(count / max(seconds - fixed, 1e-9), 1),
    }


def profile(count: int = TEMPLATES, top: int = 25) -> None:
    """cProfile of check() over the generated folder, in this process: the functions with the most time."""
    from rdkpack.check.run import check  # noqa: PLC0415  (only for --profile)
    from rdkpack.project.config import load_project  # noqa: PLC0415

    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / "infra"
        generate(folder, count)
        project = load_project(ROOT)
        profiler = cProfile.Profile()
        profiler.enable()
        check(project, PACK, [folder])
        profiler.disable()
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of one in-process check instead")
    args = parser.parse_args()
    if args.profile:
        profile()
        return 0
    results = check_throughput(args.runs)
    results["machine"] = {"cpus": os.cpu_count(), "python": sys.version.split()[0]}
    (ROOT / "bench" / "check_throughput.json").write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"rdkpack check over {results['templates']} templates ({results['bytes'] // 1024} KB, "
        f"{results['with_intrinsics']} with intrinsics) to SARIF: {results['seconds_median']} s median of "
        f"{results['runs']} (min {results['seconds_min']}, max {results['seconds_max']}) = "
        f"{results['templates_per_second']} templates/s, {results['sarif_results']} results; one template "
        f"{results['one_template_seconds']} s (start-up), {results['templates_per_second_after_start_up']} "
        "templates/s after it"
    )
    print("written: bench/check_throughput.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
