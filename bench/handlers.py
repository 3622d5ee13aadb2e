"""End-to-end handler throughput: a real change event in, PutEvaluations out, answered at botocore's
before-send (no network, no moto), for this project's LAMBDA_LAYER_CHECK and the public rule of
awslabs/aws-config-rules PR #376 (bench/baseline/pr376), measured the same way in fresh interpreters.

Both run with the Lambda's own role (AssumeRoleMode false / ASSUME_ROLE_MODE False, the public rule's
default): what differs is what each builds per event. The pure `judge` figure (evaluations_per_second
in run.py) excludes all of this.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVENTS = 2_000
PROBE = r"""
import importlib.util, json, os, sys, time
os.environ.update(AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", AWS_DEFAULT_REGION="us-east-1",
                  AWS_REGION="us-east-1", AWS_CONFIG_FILE=os.devnull, AWS_SHARED_CREDENTIALS_FILE=os.devnull)
import boto3
from botocore.awsrequest import AWSResponse

class Body:
    def stream(self, **_):
        yield b'{"FailedEvaluations": []}'

sent = []
def answer(request, **_):
    sent.append(len(json.loads(request.body)["Evaluations"]))
    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.1"}, Body())

boto3.setup_default_session()
boto3.DEFAULT_SESSION.events.register_first("before-send.config-service.PutEvaluations", answer)
path, name, parameters, events = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, os.path.dirname(path))
spec = importlib.util.spec_from_file_location(name, path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)

def event(i):
    item = {"resourceType": "AWS::Lambda::Function", "resourceId": f"fn{i}", "configurationItemStatus": "OK",
            "configurationItemCaptureTime": "2026-11-22T10:00:00.000Z",
            "ARN": f"arn:aws:lambda:us-east-1:123456789012:function:fn{i}",
            "configuration": {"functionName": f"fn{i}", "packageType": "Zip",
                              "layers": [{"arn": f"arn:aws:lambda:us-east-1:123456789012:layer:base:{1 + i % 9}"}]}}
    invoking = {"messageType": "ConfigurationItemChangeNotification", "configurationItem": item,
                "notificationCreationTime": "2026-11-22T10:00:00.000Z"}
    return {"invokingEvent": json.dumps(invoking), "ruleParameters": json.dumps(parameters), "resultToken": "token",
            "eventLeftScope": False, "executionRoleArn": "arn:aws:iam::123456789012:role/config-role",
            "configRuleArn": "arn:aws:config:us-east-1:123456789012:config-rule/r", "configRuleName": "r",
            "accountId": "123456789012"}

prepared = [event(i) for i in range(events)]
module.lambda_handler(prepared[0], None)  # a warm container: the first (cold) event is not timed
sent.clear()
started = time.perf_counter()
for each in prepared[1:]:
    module.lambda_handler(each, None)
seconds = time.perf_counter() - started
assert len(sent) == events - 1, (len(sent), events)
print(json.dumps({"events_per_second": round((events - 1) / seconds), "put_evaluations": len(sent)}))
"""
LAYER = "arn:aws:lambda:us-east-1:123456789012:layer:base"


def measure(path: Path, name: str, parameters: dict) -> dict:
    command = [sys.executable, "-c", PROBE, str(path), name, json.dumps(parameters), str(EVENTS)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout)


def handler_throughput() -> dict:
    ours = measure(
        ROOT / "rules" / "LAMBDA_LAYER_CHECK" / "LAMBDA_LAYER_CHECK.py",
        "LAMBDA_LAYER_CHECK",
        {"LayerArn": LAYER, "MinLayerVersion": "3", "AssumeRoleMode": "false"},
    )
    public = measure(
        ROOT / "bench" / "baseline" / "pr376" / "LAMBDA_LAYER_CHECK.py",
        "pr376_LAMBDA_LAYER_CHECK",
        {"LayerArn": LAYER, "MinLayerVersion": "3"},
    )
    return {
        "what": "warm-container change events/s through lambda_handler, PutEvaluations answered at before-send",
        "events": EVENTS,
        "this_project": ours,
        "awslabs_pr376": public,
        "ratio": round(ours["events_per_second"] / public["events_per_second"], 2),
        "target_ratio": ">= 2",
    }


if __name__ == "__main__":
    print(json.dumps(handler_throughput(), indent=2))
