"""Run a committed remediation document as Systems Manager runs it, inside the test process (moto's mock sees it).

`run_document(name, **parameters)` sends each parameter as the strings AWS Config or the console send ("true",
"30"), adds an AutomationAssumeRole (moto's STS answers credentials of the role's account), runs the committed
document's steps with `InProcessHost`, asserts the execution succeeded and returns its step's StringMap output.
`refusal(...)` asserts the execution failed and returns the script's message; `execute(...)` returns the whole
GetAutomationExecution-shaped execution.

The script builds its clients on a new boto3 default session, so botocore event handlers of the test's session do
not reach it: what moto lacks is answered at moto's own level (`put_code_signing_config_in_moto`).
"""

from __future__ import annotations

import functools
import json
from urllib.parse import unquote

import boto3
from moto.awslambda.models import lambda_backends
from moto.awslambda.responses import LambdaResponse

from rdkpack.automation.hosts import InProcessHost
from rdkpack.automation.runbook import Runbook, load_runbook
from rdkpack.automation.runner import Runner, document_outputs
from tests.support.project import ROOT

ACCOUNT, REGION = "123456789012", "us-east-1"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Remediation"
REFUSALS = ("RemediationRefused: ", "RemediationError: ")  # refused before any write; failed

__all__ = ["ROLE", "execute", "put_code_signing_config_in_moto", "refusal", "run_document", "sent"]


@functools.cache
def runbook(name: str) -> Runbook:
    return load_runbook(ROOT, name)


class KeptClients:
    """A boto3 session that makes each client once: the runner asks for an STS client every execution, and making
    one costs more than the call to moto. (The script still gets a new default session each run, as on SSM.)"""

    def __init__(self, session):
        self.session = session
        self.clients: dict = {}

    def client(self, service: str, **options):
        key = (service, tuple(sorted(options.items())))
        if key not in self.clients:
            self.clients[key] = self.session.client(service, **options)
        return self.clients[key]

    def get_credentials(self):
        return self.session.get_credentials()


@functools.cache
def runner(region: str) -> Runner:
    """One runner a region; its session only calls STS, and moto answers any credentials."""
    return Runner(KeptClients(boto3.Session(region_name=region)), region, host=InProcessHost())


def sent(value) -> list[str]:
    """A parameter as StartAutomationExecution takes it: a list of strings (a bool as true/false)."""
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, list | tuple):
        return [item if isinstance(item, str) else json.dumps(item) for item in value]
    return [str(value)]


def execute(name: str, *, region: str = REGION, **parameters) -> dict:
    """The finished execution of document `name`. A parameter given as None or "" is left out (the document's
    default applies, as when the console field is left empty); AutomationAssumeRole defaults to ROLE."""
    given = {key: sent(value) for key, value in parameters.items() if value is not None and value != ""}
    given.setdefault("AutomationAssumeRole", [ROLE])
    return runner(region).start(runbook(name), given)


def step_log(execution: dict) -> str:
    return "\n".join(log for step in execution["StepExecutions"] for log in step["Outputs"].get("ExecutionLog", ()))


def run_document(name: str, **parameters) -> dict:
    """The step's StringMap output of a successful execution (the test fails, saying why, otherwise)."""
    execution = execute(name, **parameters)
    status = execution["AutomationExecutionStatus"]
    assert status == "Success", f"{name}: {status}: {execution.get('FailureMessage')}\n{step_log(execution)}"
    outputs = document_outputs(execution)
    assert len(outputs) == 1, outputs
    return next(iter(outputs.values()))


def refusal(name: str, **parameters) -> str:
    """The script's message of a failed execution, without the exception's class name (RemediationRefused before
    any write, RemediationError after)."""
    execution = execute(name, **parameters)
    assert execution["AutomationExecutionStatus"] == "Failed", document_outputs(execution)
    assert execution["Outputs"] == {}, "a failed step has no output"
    message = execution["FailureMessage"]
    prefix = next((prefix for prefix in REFUSALS if message.startswith(prefix)), None)
    assert prefix, message
    return message.removeprefix(prefix)


def put_code_signing_config_in_moto(monkeypatch) -> None:
    """PutFunctionCodeSigningConfig, which moto lacks, answered by moto itself (so a script's own clients reach it):
    the ARN goes on moto's function, where its GetFunctionCodeSigningConfig reads it. Like Lambda, only a config
    of the caller's account and the request's region is taken."""

    def put_function_code_signing_config(self):
        name = unquote(self.path.rsplit("/", 2)[-2])
        arn = self.json_body["CodeSigningConfigArn"]
        if arn.split(":")[3:5] != [self.region, self.current_account]:
            message = f"{arn} is not a code-signing config of account {self.current_account} in {self.region}"
            body = {"Type": "User", "Message": message}
            headers = {"status": 400, "x-amzn-errortype": "InvalidParameterValueException"}  # moto reads "status"
            return 400, headers, json.dumps(body)
        lambda_backends[self.current_account][self.region].get_function(name).code_signing_config_arn = arn
        return 200, {}, json.dumps({"CodeSigningConfigArn": arn, "FunctionName": name})

    monkeypatch.setattr(
        LambdaResponse, "put_function_code_signing_config", put_function_code_signing_config, raising=False
    )
