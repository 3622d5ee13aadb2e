"""Run an Automation document as Systems Manager would: parameters checked and converted before any step, the
document's `assumeRole` assumed, each step's inputs interpolated, the step run with its controls, its outputs read
through their selectors, and the execution reported in GetAutomationExecution's shape.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError

from rdkpack.automation import interpolate, parameters
from rdkpack.automation.hosts import ScriptJob, ScriptResult, host_for
from rdkpack.automation.runbook import Output, Runbook, Step
from rdkpack.automation.selector import select
from rdkpack.errors import AutomationRefused

MAX_STEP_EXECUTIONS = 100  # a document whose steps loop is stopped, not run forever
GLOBALS = ("global:ACCOUNT_ID", "global:REGION", "global:AWS_PARTITION", "global:DATE", "global:DATE_TIME")
REPORTED_OUTPUT_TYPES = {"String": str, "Integer": int, "Boolean": bool, "StringList": list, "StringMap": dict}


def partition_of(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


@dataclass
class Runner:
    """session: the caller's boto3 session; host: where scripts run; endpoint_url: where scripts reach AWS (a
    local endpoint in tests and the demo; unset, AWS itself); as_caller: run the steps with the caller's own
    credentials instead of assuming the document's assumeRole (which SSM assumes; the project's remediation role
    trusts only ssm.amazonaws.com)."""

    session: object
    region: str
    host: object = None
    endpoint_url: str | None = None
    project_root: Path | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    notes: list[str] = field(default_factory=list)
    as_caller: bool = False

    def host_of(self, step: Step):
        """The given host, or a fresh process of the interpreter the step names (noted when it is not there)."""
        if self.host is not None:
            return self.host
        host = host_for(step.python, self.project_root)
        if host.note and host.note not in self.notes:
            self.notes.append(host.note)
        return host

    def client(self, service: str, credentials: dict | None = None):
        extra = {"endpoint_url": self.endpoint_url} if self.endpoint_url else {}
        if credentials:
            extra.update(
                aws_access_key_id=credentials["AccessKeyId"],
                aws_secret_access_key=credentials["SecretAccessKey"],
                aws_session_token=credentials["SessionToken"],
            )
        return self.session.client(service, region_name=self.region, **extra)

    def parameter_store(self, name: str) -> tuple[str, str]:
        try:
            found = self.client("ssm").get_parameter(Name=name)["Parameter"]
        except ClientError as error:
            raise AutomationRefused(f"{{{{ssm:{name}}}}}: {error.response['Error'].get('Message', error)}") from error
        return found["Type"], found["Value"]

    def start(self, runbook: Runbook, given: Mapping[str, object]) -> dict:
        """The finished execution (GetAutomationExecution's AutomationExecution); AutomationRefused, before any
        step, where StartAutomationExecution would refuse the parameters."""
        typed, reported = parameters.resolve(runbook.name, runbook.parameters, given, self.parameter_store)
        check_references(runbook, set(typed))
        execution = {
            "AutomationExecutionId": str(uuid.uuid4()),
            "DocumentName": runbook.name,
            "DocumentVersion": "1",
            "ExecutionStartTime": self.clock(),
            "AutomationExecutionStatus": "InProgress",
            "Parameters": reported,
            "Outputs": {},
            "StepExecutions": [],
            "Mode": "Auto",
        }
        role = interpolate.interpolate(runbook.assume_role, typed) if runbook.assume_role else ""
        if role and self.as_caller:
            note = f"the steps ran with the caller's credentials, not {role} (as_caller): SSM would assume the role"
            self.notes += [note] if note not in self.notes else []
            role = ""
        try:
            credentials, account = self.assume(role, execution["AutomationExecutionId"])
        except (ClientError, BotoCoreError) as error:
            self.finish(execution, "Failed", f"The defined assume role {role} is unable to be assumed: {error}")
            return execution
        known = dict(typed)
        known.update(self.variables(account, execution["AutomationExecutionId"]))
        self.run_steps(runbook, execution, known, credentials)
        return execution

    def assume(self, role: str, execution_id: str) -> tuple[dict | None, str]:
        sts = self.client("sts")
        if not role:
            return None, sts.get_caller_identity()["Account"]
        answer = sts.assume_role(RoleArn=role, RoleSessionName=f"rdkpack-automation-{execution_id[:8]}")
        return answer["Credentials"], role.split(":")[4]

    def variables(self, account: str, execution_id: str) -> dict:
        now = self.clock()
        return {
            "global:ACCOUNT_ID": account,
            "global:REGION": self.region,
            "global:AWS_PARTITION": partition_of(self.region),
            "global:DATE": now.strftime("%Y-%m-%d"),
            "global:DATE_TIME": now.strftime("%Y-%m-%d_%H.%M.%S"),
            "automation:EXECUTION_ID": execution_id,
        }

    def aws_env(self, credentials: dict | None) -> dict:
        if credentials is None:
            frozen = self.session.get_credentials().get_frozen_credentials()
            credentials = {"AccessKeyId": frozen.access_key, "SecretAccessKey": frozen.secret_key}
            if frozen.token:
                credentials["SessionToken"] = frozen.token
        env = {
            "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
        }
        if credentials.get("SessionToken"):
            env["AWS_SESSION_TOKEN"] = credentials["SessionToken"]
        if self.endpoint_url:
            env["AWS_ENDPOINT_URL"] = self.endpoint_url
        return env

    def run_steps(self, runbook: Runbook, execution: dict, known: dict, credentials: dict | None) -> None:
        env = self.aws_env(credentials)
        step: Step | None = runbook.steps[0]
        # The first critical step that failed or timed out decides the execution's status (Failed or TimedOut).
        failed_critical: tuple[str, str] | None = None
        while step is not None:
            if len(execution["StepExecutions"]) >= MAX_STEP_EXECUTIONS:
                message = f"stopped after {MAX_STEP_EXECUTIONS} step executions: nextStep or onFailure loops"
                return self.finish(execution, "Failed", message, (runbook, known))
            record = self.run_step(step, known, env)
            execution["StepExecutions"].append(record)
            if record["StepStatus"] == "Success":
                step = following(runbook, step)
                continue
            if step.on_failure == "Abort":
                return self.finish(execution, record["StepStatus"], record["FailureMessage"], (runbook, known))
            if step.is_critical and failed_critical is None:
                failed_critical = (record["StepStatus"], record["FailureMessage"])
            jump = step.on_failure.removeprefix("step:")
            step = runbook.step(jump) if step.on_failure.startswith("step:") else following(runbook, step)
        status, message = failed_critical or ("Success", "")
        return self.finish(execution, status, message, (runbook, known))

    def finish(self, execution: dict, status: str, message: str, outputs_from: tuple | None = None) -> None:
        """The execution's end: status, end time, failure message, and the document's outputs that exist."""
        execution["AutomationExecutionStatus"] = status
        execution["ExecutionEndTime"] = self.clock()
        if message:
            execution["FailureMessage"] = message
        runbook, known = outputs_from or (None, {})
        for name in runbook.outputs if runbook else ():
            if name in known:
                step, output = name.split(".", 1)
                kind = next(item.type for item in runbook.step(step).outputs if item.name == output)
                execution["Outputs"][name] = reported_output(kind, known[name])

    def run_step(self, step: Step, known: dict, env: dict) -> dict:
        payload = interpolate.interpolate(step.payload, known)
        context = {key: known[key] for key in (*GLOBALS, "automation:EXECUTION_ID")}
        record = {
            "StepName": step.name,
            "Action": "aws:executeScript",
            "TimeoutSeconds": step.timeout_seconds,
            "OnFailure": step.on_failure,
            "MaxAttempts": step.max_attempts,
            "ExecutionStartTime": self.clock(),
            "Inputs": {
                "Runtime": json.dumps(step.runtime),
                "Handler": json.dumps(step.handler),
                "InputPayload": json.dumps(payload),
            },
            "StepExecutionId": str(uuid.uuid4()),
            "IsEnd": step.is_end,
            "IsCritical": step.is_critical,
        }
        result = ScriptResult("Failed")
        for _ in range(step.max_attempts):
            job = ScriptJob(step.script, step.handler, payload, context, step.timeout_seconds, env)
            result = self.host_of(step).run(job)
            if result.status == "Success":
                break
        record["ExecutionEndTime"] = self.clock()
        outputs = {"Payload": [json.dumps(result.payload)]} if result.status == "Success" else {}
        if result.log:
            outputs["ExecutionLog"] = [result.log]
        status, message = result.status, result.error
        if status == "Success":
            for output in step.outputs:
                try:
                    value = read_output(output, result.payload)
                except ValueError as error:
                    status, message = "Failed", f"Output {step.name}.{output.name}: {error}"
                    break
                known[f"{step.name}.{output.name}"] = value
                outputs[output.name] = reported_output(output.type, value)
        record["StepStatus"] = status
        record["Outputs"] = outputs
        if message:
            record["FailureMessage"] = message
        if step.next_step:
            record["NextStep"] = step.next_step  # StepExecution.NextStep is the step's name (a string)
        return record


def read_output(output: Output, payload) -> object:
    """The output's value through its selector, of the declared type; ValueError when it is missing or not."""
    value = select(output.selector, {"Payload": payload})
    wanted = REPORTED_OUTPUT_TYPES.get(output.type, list)
    if (isinstance(value, bool) and output.type == "Integer") or not isinstance(value, wanted):
        raise ValueError(f"{output.selector} gave {type(value).__name__}, the document declares {output.type}")
    if output.type == "MapList" and not all(isinstance(item, dict) for item in value):
        raise ValueError(f"{output.selector} is not a list of maps (MapList)")
    return value


def reported_output(kind: str, value) -> list[str]:
    """As GetAutomationExecution reports an output: a list of strings."""
    if kind == "StringList":
        return [str(item) for item in value]
    if kind in ("StringMap", "MapList"):
        return [json.dumps(value)]
    return [interpolate.as_text(value)]


def following(runbook: Runbook, step: Step) -> Step | None:
    if step.is_end:
        return None
    if step.next_step:
        return runbook.step(step.next_step)
    index = runbook.steps.index(step)
    return runbook.steps[index + 1] if index + 1 < len(runbook.steps) else None


def check_references(runbook: Runbook, names: set[str]) -> None:
    """Every `{{ }}` in the document names a parameter, a variable or an output of a step (refused otherwise)."""
    known = names | set(GLOBALS) | {"automation:EXECUTION_ID"}
    known |= {f"{step.name}.{output.name}" for step in runbook.steps for output in step.outputs}
    for step in runbook.steps:
        unknown = sorted(interpolate.references(step.payload) - known)
        if unknown:
            raise AutomationRefused(f"{runbook.name}: step {step.name}: {{{{ {unknown[0]} }}}} names nothing it knows")
    unknown = sorted(interpolate.references(runbook.assume_role) - names)
    if unknown:
        raise AutomationRefused(f"{runbook.name}: assumeRole: {{{{ {unknown[0]} }}}} is not a parameter")
    missing = [name for name in runbook.outputs if name not in known]
    if missing:
        raise AutomationRefused(f"{runbook.name}: outputs: {missing[0]} is no step's output")


def document_outputs(execution: dict, runbook: Runbook | None = None) -> dict:
    """The execution's outputs as values: {'Step.Output': value}. With the runbook each is read as its declared type
    (a StringMap as a dict, a one-item StringList as a list, a String as text); without it, a value that is JSON is
    decoded."""
    types = (
        {f"{step.name}.{output.name}": output.type for step in runbook.steps for output in step.outputs}
        if runbook
        else {}
    )
    decoded = {}
    for name, values in execution.get("Outputs", {}).items():
        kind = types.get(name)
        if kind == "StringList":
            decoded[name] = list(values)
        elif kind == "String":
            decoded[name] = values[0]
        elif kind is not None or len(values) == 1:
            try:
                decoded[name] = json.loads(values[0])
            except ValueError:
                decoded[name] = values[0]
        else:
            decoded[name] = values
    return decoded
