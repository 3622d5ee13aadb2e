"""rdkpack.automation: small Automation documents run as Systems Manager runs them.

Parameters are converted and checked before any step (a refused run leaves the marker file a step would write
unwritten), the document's assumeRole is assumed through (moto's) STS, each step runs in a fresh Python process
with its controls, and every execution is held to GetAutomationExecution's output shape in botocore's model.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import boto3
import botocore.session
import pytest
from botocore.validate import validate_parameters

from rdkpack.automation import parameters
from rdkpack.automation import runner as runner_module
from rdkpack.automation.hosts import SubprocessHost, host_for
from rdkpack.automation.runbook import read_runbook
from rdkpack.automation.runner import Runner, document_outputs
from rdkpack.errors import AutomationRefused
from rdkpack.project.documents import compile_pattern
from tests.support.project import ROOT

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/Remediation"
REGION = "us-east-1"
CLOCK = datetime(2025, 3, 4, 5, 6, 7, tzinfo=UTC)
HOST = SubprocessHost(sys.executable)
EXECUTION_SHAPE = (
    botocore.session.get_session()
    .get_service_model("ssm")
    .operation_model("GetAutomationExecution")
    .output_shape.members["AutomationExecution"]
)
ROLE_PARAMETER = {"AutomationAssumeRole": {"type": "String"}}
CONTEXT_KEYS = [
    "global:ACCOUNT_ID",
    "global:REGION",
    "global:AWS_PARTITION",
    "global:DATE",
    "global:DATE_TIME",
    "automation:EXECUTION_ID",
]


def script(text: str) -> str:
    return textwrap.dedent(text).lstrip()


ECHO = script(
    """
    def handler(events, context):
        return events
    """
)
FAIL = script(
    """
    def handler(events, context):
        raise RuntimeError("no such bucket")
    """
)


def marking(marker: Path) -> str:
    """A script that leaves marker behind: proof that a step ran."""
    return script(
        f"""
        from pathlib import Path

        def handler(events, context):
            Path({str(marker)!r}).write_text("ran")
            return events
        """
    )


def step(name: str, text: str = ECHO, payload: dict | None = None, **controls) -> dict:
    inputs = {"Runtime": "python3.11", "Handler": "handler", "Script": text, "InputPayload": payload or {}}
    return {"name": name, "action": "aws:executeScript", "inputs": inputs, **controls}


def document(*steps: dict, parameters=None, assume_role="{{ AutomationAssumeRole }}", outputs=None) -> dict:
    doc = {"schemaVersion": "0.3", "assumeRole": assume_role, "parameters": parameters or {}, "mainSteps": list(steps)}
    if outputs is not None:
        doc["outputs"] = outputs
    return doc


def start(doc: dict, given: dict | None = None, *, engine=None, session=None, host=HOST, **runner) -> dict:
    """The execution as the runner (engine, or one made of the options) reports it, held to botocore's
    AutomationExecution shape."""
    engine = engine or Runner(session or boto3.Session(), REGION, host=host, clock=lambda: CLOCK, **runner)
    execution = engine.start(read_runbook("Doc", doc), given or {})
    validate_parameters(execution, EXECUTION_SHAPE)
    return execution


def run(doc: dict, given: dict | None = None, **options) -> dict:
    """start(), its generated IDs (each checked to be a fresh UUID) replaced by EXECUTION and STEP."""
    execution = start(doc, given, **options)
    ids = [execution["AutomationExecutionId"]] + [item["StepExecutionId"] for item in execution["StepExecutions"]]
    assert all(str(uuid.UUID(value)) == value for value in ids) and len(set(ids)) == len(ids)
    execution["AutomationExecutionId"] = "EXECUTION"
    for item in execution["StepExecutions"]:
        item["StepExecutionId"] = "STEP"
    return execution


def expected_execution(status: str, steps: list, parameters: dict, outputs=None, failure: str = "") -> dict:
    expected = {
        "AutomationExecutionId": "EXECUTION",
        "DocumentName": "Doc",
        "DocumentVersion": "1",
        "ExecutionStartTime": CLOCK,
        "ExecutionEndTime": CLOCK,
        "AutomationExecutionStatus": status,
        "Parameters": parameters,
        "Outputs": outputs or {},
        "StepExecutions": steps,
        "Mode": "Auto",
    }
    if failure:
        expected["FailureMessage"] = failure
    return expected


def expected_step(raw: dict, status: str = "Success", outputs=None, failure: str = "", payload=None) -> dict:
    """The StepExecution GetAutomationExecution reports for the document step raw (payload: the interpolated
    InputPayload where it differs from the document's)."""
    record = {
        "StepName": raw["name"],
        "Action": "aws:executeScript",
        "TimeoutSeconds": raw.get("timeoutSeconds", 600),
        "OnFailure": raw.get("onFailure", "Abort"),
        "MaxAttempts": raw.get("maxAttempts", 1),
        "ExecutionStartTime": CLOCK,
        "ExecutionEndTime": CLOCK,
        "Inputs": {
            "Runtime": json.dumps(raw["inputs"]["Runtime"]),
            "Handler": json.dumps(raw["inputs"]["Handler"]),
            "InputPayload": json.dumps(raw["inputs"]["InputPayload"] if payload is None else payload),
        },
        "StepExecutionId": "STEP",
        "IsEnd": raw.get("isEnd", False),
        "IsCritical": raw.get("isCritical", raw.get("onFailure", "Abort") != "Continue"),
        "StepStatus": status,
        "Outputs": outputs or {},
    }
    if failure:
        record["FailureMessage"] = failure
    if "nextStep" in raw:
        record["NextStep"] = raw["nextStep"]
    return record


def returned(value) -> dict:
    """A successful step's Outputs when the document declares none: the handler's return value as Payload."""
    return {"Payload": [json.dumps(value)]}


def pop_log(execution: dict, index: int = 0) -> str:
    return execution["StepExecutions"][index]["Outputs"].pop("ExecutionLog")[0]


# --- payloads and parameter types -------------------------------------------------------------------------------

TYPED_PARAMETERS = {
    "Name": {"type": "String"},
    "Days": {"type": "Integer", "default": 30},
    "Approve": {"type": "Boolean", "default": False},
    "Zones": {"type": "StringList", "default": ["use1-az1"]},
    "Tags": {"type": "StringMap", "default": {}},
    "Rules": {"type": "MapList", "default": []},
}
TYPED_GIVEN = {
    "Name": ["{{ Days }}"],  # a value that looks like a reference is text, never interpolated again
    "Days": ["7"],
    "Approve": ["true"],
    "Zones": ["use1-az1", "use1-az2"],
    "Tags": ['{"team": "net"}'],
    "Rules": ['{"id": 1}', '{"id": 2, "on": true}'],
}
TYPED_PAYLOAD = {
    "Days": "{{ Days }}",
    "Approve": "{{Approve}}",
    "Zones": " {{ Zones }} ",
    "Tags": "{{ Tags }}",
    "Rules": "{{ Rules }}",
    "Name": "{{ Name }}",
    "Text": "days={{ Days }} approve={{ Approve }} zones={{ Zones }} tags={{ Tags }} name={{ Name }}",
    "Nested": {"list": ["{{ Days }}", "x{{ Days }}"], "where": "{{ global:AWS_PARTITION }}/{{ global:REGION }}"},
    "Account": "{{ global:ACCOUNT_ID }}",
}
TYPED_RECEIVED = {
    "Days": 7,
    "Approve": True,
    "Zones": ["use1-az1", "use1-az2"],
    "Tags": {"team": "net"},
    "Rules": [{"id": 1}, {"id": 2, "on": True}],
    "Name": "{{ Days }}",
    "Text": 'days=7 approve=true zones=["use1-az1", "use1-az2"] tags={"team": "net"} name={{ Days }}',
    "Nested": {"list": [7, "x7"], "where": "aws/us-east-1"},
    "Account": ACCOUNT,
}


def test_whole_value_reference_keeps_its_type_and_embedded_reference_becomes_text(aws):
    raw = step("Echo", ECHO, TYPED_PAYLOAD)
    execution = run(document(raw, parameters=TYPED_PARAMETERS, assume_role=""), TYPED_GIVEN)
    assert execution == expected_execution(
        "Success",
        [expected_step(raw, outputs=returned(TYPED_RECEIVED), payload=TYPED_RECEIVED)],
        TYPED_GIVEN,
    )


def test_the_script_receives_exactly_the_input_payload_the_step_reports(aws):
    text = script(
        """
        def handler(events, context):
            return {"events": events, "context": context}
        """
    )
    raw = step("Echo", text, TYPED_PAYLOAD)
    given = {**TYPED_GIVEN, "AutomationAssumeRole": [ROLE]}
    execution = start(document(raw, parameters={**TYPED_PARAMETERS, **ROLE_PARAMETER}), given)
    record = execution["StepExecutions"][0]
    received = json.loads(record["Outputs"]["Payload"][0])
    assert record["Inputs"]["InputPayload"] == json.dumps(received["events"])
    assert received == {
        "events": TYPED_RECEIVED,
        "context": {
            "global:ACCOUNT_ID": ACCOUNT,
            "global:REGION": REGION,
            "global:AWS_PARTITION": "aws",
            "global:DATE": "2025-03-04",
            "global:DATE_TIME": "2025-03-04_05.06.07",
            "automation:EXECUTION_ID": execution["AutomationExecutionId"],
        },
    }


@pytest.mark.parametrize(
    ("kind", "sent", "received"),
    [
        ("String", ["007"], "007"),
        ("Integer", ["-7"], -7),
        ("Integer", ["0"], 0),
        ("Integer", ["2147483647"], 2147483647),
        ("Boolean", ["true"], True),
        ("Boolean", ["false"], False),
        ("StringList", ["a", "b,c", "30"], ["a", "b,c", "30"]),
        ("StringMap", ['{"k": "v", "n": {"x": [1, null]}}'], {"k": "v", "n": {"x": [1, None]}}),
        ("MapList", ['{"a": 1}', '{"b": [2], "c": false}'], [{"a": 1}, {"b": [2], "c": False}]),
    ],
)
def test_values_sent_as_strings_reach_the_script_as_the_declared_type(aws, kind, sent, received):
    raw = step("Echo", ECHO, {"P": "{{ P }}"})
    execution = run(document(raw, parameters={"P": {"type": kind}}, assume_role=""), {"P": sent})
    assert execution == expected_execution(
        "Success", [expected_step(raw, outputs=returned({"P": received}), payload={"P": received})], {"P": sent}
    )


def test_defaults_are_reported_as_the_strings_a_caller_would_send(aws):
    raw = step("Echo", ECHO, {"Days": "{{ Days }}", "Zones": "{{ Zones }}", "Approve": "{{ Approve }}"})
    doc = document(raw, parameters={name: TYPED_PARAMETERS[name] for name in ("Days", "Zones", "Approve")})
    execution = run({**doc, "assumeRole": ""})
    payload = {"Days": 30, "Zones": ["use1-az1"], "Approve": False}
    assert execution == expected_execution(
        "Success",
        [expected_step(raw, outputs=returned(payload), payload=payload)],
        {"Days": ["30"], "Zones": ["use1-az1"], "Approve": ["false"]},
    )


# --- refusals before any step ------------------------------------------------------------------------------------

REFUSAL_PARAMETERS = {
    "Endpoint": {"type": "String", "allowedPattern": "^vpce-[0-9a-f]{8,17}$"},
    "Days": {"type": "Integer", "default": 30},
    "Approve": {"type": "Boolean", "default": False},
    "Mode": {"type": "String", "default": "Report", "allowedValues": ["Report", "Delete"]},
    "Zones": {"type": "StringList", "default": ["use1-az1"], "minItems": 1, "maxItems": 2},
    "Tags": {"type": "StringMap", "default": {}},
    "Rules": {"type": "MapList", "default": []},
}
GOOD = {"Endpoint": ["vpce-12345678"]}
NOT_INTEGER = "is not an Integer (digits, optional '-', 32-bit)"
REFUSALS = {
    "unknown parameter": (
        {**GOOD, "Nope": ["x"]},
        "Nope: not a parameter of the document (it takes Endpoint, Days, Approve, Mode, Zones, Tags, Rules)",
    ),
    "missing required": ({"Days": ["3"]}, "Endpoint: required (the document gives it no default) and not given"),
    "Boolean yes": ({**GOOD, "Approve": ["yes"]}, "Approve: 'yes' is not a Boolean (true or false)"),
    "Integer 1.5": ({**GOOD, "Days": ["1.5"]}, f"Days: '1.5' {NOT_INTEGER}"),
    "Integer 1e3": ({**GOOD, "Days": ["1e3"]}, f"Days: '1e3' {NOT_INTEGER}"),
    "Integer too big": ({**GOOD, "Days": ["99999999999"]}, f"Days: '99999999999' {NOT_INTEGER}"),
    "Integer not a string": (
        {**GOOD, "Days": [30]},
        "Days: value 30 is not a string (every value is sent as a string)",
    ),
    "value over 512 characters": (
        {"Endpoint": ["vpce-" + "0" * 508]},
        "Endpoint: a value of 513 characters; each is 1 to 512 (leave it out for the default)",
    ),
    "empty string": (
        {**GOOD, "Mode": [""]},
        "Mode: a value of 0 characters; each is 1 to 512 (leave it out for the default)",
    ),
    "pattern with a trailing newline": (
        {"Endpoint": ["vpce-12345678\n"]},
        "Endpoint: 'vpce-12345678\\n' does not match allowedPattern ^vpce-[0-9a-f]{8,17}$",
    ),
    "pattern": ({"Endpoint": ["vpc-12345678"]}, "Endpoint: 'vpc-12345678' does not match allowedPattern "),
    "allowedValues": (
        {**GOOD, "Mode": ["Destroy"]},
        "Mode: 'Destroy' is not one of allowedValues ['Report', 'Delete']",
    ),
    "allowedValues case": ({**GOOD, "Mode": ["report"]}, "Mode: 'report' is not one of allowedValues "),
    "minItems": ({**GOOD, "Zones": []}, "Zones: 0 items; the document allows 1 to 2"),
    "maxItems": ({**GOOD, "Zones": ["a", "b", "c"]}, "Zones: 3 items; the document allows 1 to 2"),
    "over 50 values": ({**GOOD, "Zones": ["a"] * 51}, "Zones: 51 values; at most 50 a parameter"),
    "String takes one value": (
        {"Endpoint": ["vpce-12345678", "vpce-87654321"]},
        "Endpoint: type String takes one value",
    ),
    "StringMap not a map": (
        {**GOOD, "Tags": ["[1]"]},
        "Tags: '[1]' is not a JSON object (StringMap and MapList items are maps)",
    ),
    "MapList item not a map": (
        {**GOOD, "Rules": ['{"id": 1}', "x"]},
        "Rules: 'x' is not a JSON object (StringMap and MapList items are maps)",
    ),
    "Parameter Store without access": (
        {**GOOD, "Mode": ["{{ssm:/mode}}"]},
        "Mode: {{ssm:/mode}}: Parameter /mode not found.",
    ),
}


def refusal_document(marker: Path) -> dict:
    return document(
        step("Mark", marking(marker), {"Days": "{{ Days }}"}), parameters=REFUSAL_PARAMETERS, assume_role=""
    )


def test_the_refusal_document_runs_with_good_values(aws, tmp_path):
    marker = tmp_path / "ran"
    raw = refusal_document(marker)["mainSteps"][0]
    execution = run(refusal_document(marker), GOOD)
    assert execution == expected_execution(
        "Success",
        [expected_step(raw, outputs=returned({"Days": 30}), payload={"Days": 30})],
        {
            "Endpoint": ["vpce-12345678"],
            "Days": ["30"],
            "Approve": ["false"],
            "Mode": ["Report"],
            "Zones": ["use1-az1"],
            "Tags": ["{}"],
            "Rules": [],
        },
    )
    assert marker.read_text() == "ran"


@pytest.mark.parametrize(("given", "message"), REFUSALS.values(), ids=REFUSALS.keys())
def test_parameters_systems_manager_refuses_stop_the_run_before_any_step(aws, tmp_path, given, message):
    marker = tmp_path / "ran"
    with pytest.raises(AutomationRefused) as refusal:
        start(refusal_document(marker), given)
    assert str(refusal.value).startswith(f"Doc: parameter {message}")
    assert not marker.exists()


def test_a_trailing_newline_pythons_re_would_accept_is_refused_by_re2():
    pattern = REFUSAL_PARAMETERS["Endpoint"]["allowedPattern"]
    assert re.search(pattern, "vpce-12345678\n"), "Python's $ matches before a final newline"
    assert not compile_pattern(pattern).search("vpce-12345678\n")
    with pytest.raises(AutomationRefused, match="does not match allowedPattern"):
        parameters.resolve("Doc", REFUSAL_PARAMETERS, {"Endpoint": "vpce-12345678\n"})


def test_ssm_reference_defaults_are_read_from_parameter_store(aws):
    ssm = boto3.client("ssm", region_name=REGION)
    layer = f"arn:aws:lambda:{REGION}:{ACCOUNT}:layer:base:7"
    ssm.put_parameter(Name="/rdk/layer", Value=layer, Type="String")
    ssm.put_parameter(Name="/rdk/zones", Value="use1-az1,use1-az4", Type="StringList")
    specs = {
        "Layer": {"type": "String", "default": "{{ssm:/rdk/layer}}", "allowedPattern": "^arn:aws:lambda:.*:7$"},
        "Zones": {"type": "StringList", "default": "{{ ssm:/rdk/zones }}"},
    }
    raw = step("Echo", ECHO, {"Layer": "{{ Layer }}", "Zones": "{{ Zones }}"})
    execution = run(document(raw, parameters=specs, assume_role=""))
    payload = {"Layer": layer, "Zones": ["use1-az1", "use1-az4"]}
    assert execution == expected_execution(
        "Success",
        [expected_step(raw, outputs=returned(payload), payload=payload)],
        {"Layer": [layer], "Zones": ["use1-az1", "use1-az4"]},
    )


def test_ssm_reference_that_breaks_the_pattern_or_is_secret_is_refused(aws, tmp_path):
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/rdk/endpoint", Value="$(id)", Type="String")
    ssm.put_parameter(Name="/rdk/secret", Value="vpce-12345678", Type="SecureString")
    marker = tmp_path / "ran"
    with pytest.raises(AutomationRefused) as refusal:
        start(refusal_document(marker), {"Endpoint": ["{{ssm:/rdk/endpoint}}"]})
    assert str(refusal.value) == "Doc: parameter Endpoint: '$(id)' does not match allowedPattern ^vpce-[0-9a-f]{8,17}$"
    with pytest.raises(AutomationRefused) as refusal:
        start(refusal_document(marker), {"Endpoint": ["{{ssm:/rdk/secret}}"]})
    assert str(refusal.value) == (
        "Doc: parameter Endpoint: {{ssm:/rdk/secret}} is a SecureString; "
        "Automation parameters take String or StringList"
    )
    assert not marker.exists()


# --- the assumed role and the script's environment ----------------------------------------------------------------

ENVIRONMENT = script(
    """
    import os

    import boto3

    def handler(events, context):
        names = ("AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE",
                 "AWS_ENDPOINT_URL")
        found = {name: os.environ.get(name) for name in names}
        if events.get("Ask"):
            found["Caller"] = boto3.client("sts").get_caller_identity()["Arn"]
        return found
    """
)


def test_the_script_acts_as_the_assumed_role_in_the_region_at_the_endpoint(moto_server_url, monkeypatch, tmp_path):
    (tmp_path / "config").write_text("[profile caller]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_PROFILE", "caller")  # the caller's profile: the script must not get it
    raw = step("Env", ENVIRONMENT, {"Ask": True})
    given = {"AutomationAssumeRole": [ROLE]}
    execution = run(document(raw, parameters=ROLE_PARAMETER), given, endpoint_url=moto_server_url)
    env = json.loads(execution["StepExecutions"][0]["Outputs"]["Payload"][0])
    assert execution == expected_execution("Success", [expected_step(raw, outputs=returned(env))], given)
    session = env["Caller"].rsplit("/", 1)[1]
    assert re.fullmatch(r"rdkpack-automation-[0-9a-f]{8}", session)
    assert env["AWS_ACCESS_KEY_ID"].startswith("ASIA") and env["AWS_SESSION_TOKEN"]
    assert env == {
        "AWS_ACCESS_KEY_ID": env["AWS_ACCESS_KEY_ID"],
        "AWS_SESSION_TOKEN": env["AWS_SESSION_TOKEN"],
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PROFILE": None,
        "AWS_ENDPOINT_URL": moto_server_url,
        "Caller": f"arn:aws:sts::{ACCOUNT}:assumed-role/Remediation/{session}",
    }


def test_without_assume_role_the_script_gets_the_callers_credentials(aws):
    caller = boto3.Session().get_credentials().get_frozen_credentials()
    execution = run(document(step("Env", ENVIRONMENT), assume_role=""))
    assert json.loads(execution["StepExecutions"][0]["Outputs"]["Payload"][0]) == {
        "AWS_ACCESS_KEY_ID": caller.access_key,
        "AWS_SESSION_TOKEN": caller.token,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_PROFILE": None,
        "AWS_ENDPOINT_URL": None,
    }


def test_an_assume_role_sts_refuses_fails_the_execution_before_any_step(aws, tmp_path):
    def deny(**_):
        error = {"Error": {"Code": "AccessDenied", "Message": f"not authorized to perform sts:AssumeRole on {ROLE}"}}
        return SimpleNamespace(status_code=403, headers={}), error

    session = boto3.Session()
    session.events.register("before-call.sts.AssumeRole", deny)
    marker = tmp_path / "ran"
    doc = document(step("Mark", marking(marker)), parameters=ROLE_PARAMETER)
    execution = run(doc, {"AutomationAssumeRole": [ROLE]}, session=session)
    assert execution == expected_execution(
        "Failed",
        [],
        {"AutomationAssumeRole": [ROLE]},
        failure=f"The defined assume role {ROLE} is unable to be assumed: An error occurred (AccessDenied) when "
        f"calling the AssumeRole operation: not authorized to perform sts:AssumeRole on {ROLE}",
    )
    assert not marker.exists()


def test_steps_run_on_the_python_the_document_names(aws):
    text = script(
        """
        import sys

        def handler(events, context):
            return {"version": list(sys.version_info[:2]), "python": sys.executable}
        """
    )
    assert host_for((3, 11), ROOT).note == "", "no Python 3.11 with boto3: run `make venv`"
    raw = step("Version", text, outputs=[{"Name": "Version", "Selector": "$.Payload.version", "Type": "StringList"}])
    runner = Runner(boto3.Session(), REGION, project_root=ROOT, clock=lambda: CLOCK)  # no host: the step's own
    execution = run(document(raw, assume_role=""), engine=runner)
    assert runner.notes == []
    answer = json.loads(execution["StepExecutions"][0]["Outputs"]["Payload"][0])
    assert answer["version"] == [3, 11] and answer["python"] != sys.executable
    assert execution == expected_execution(
        "Success", [expected_step(raw, outputs={**returned(answer), "Version": ["3", "11"]})], {}
    )


# --- step controls ---------------------------------------------------------------------------------------------

SLEEPER = script(
    """
    import os
    import subprocess
    import sys
    import time

    def handler(events, context):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
        with open(events["Pids"], "w") as pids:
            pids.write(f"{os.getpid()} {child.pid}")
        time.sleep(30)
    """
)


def running(pid: int) -> bool:
    """pid is a live process (not gone, not a zombie)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def wait_until_ended(pids: list[int], seconds: float = 5) -> list[int]:
    deadline = time.monotonic() + seconds
    while any(running(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if running(pid)]


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="reads process states from /proc")
def test_a_step_past_timeout_seconds_times_out_and_its_processes_are_killed(aws, tmp_path):
    pids_file = tmp_path / "pids"
    raw = step("Slow", SLEEPER, {"Pids": str(pids_file)}, timeoutSeconds=1)
    began = time.monotonic()
    execution = run(document(raw, assume_role=""))
    assert time.monotonic() - began < 10
    message = "Step timed out after 1 seconds"
    assert execution == expected_execution(
        "TimedOut", [expected_step(raw, "TimedOut", failure=message)], {}, failure=message
    )
    pids = [int(pid) for pid in pids_file.read_text().split()]
    assert len(pids) == 2 and wait_until_ended(pids) == []


def test_a_critical_step_that_times_out_with_continue_makes_the_execution_timed_out(aws, tmp_path):
    slow = step(
        "Slow", SLEEPER, {"Pids": str(tmp_path / "pids")}, timeoutSeconds=1, onFailure="Continue", isCritical=True
    )
    after = step("After")
    execution = run(document(slow, after, assume_role=""))
    message = "Step timed out after 1 seconds"
    assert execution == expected_execution(
        "TimedOut",
        [expected_step(slow, "TimedOut", failure=message), expected_step(after, outputs=returned({}))],
        {},
        failure=message,
    )


COUNTING = script(
    """
    from pathlib import Path

    def handler(events, context):
        counter = Path(events["Counter"])
        attempt = int(counter.read_text()) + 1 if counter.exists() else 1
        counter.write_text(str(attempt))
        if attempt < events["SucceedOn"]:
            raise RuntimeError(f"attempt {attempt} failed")
        return {"attempt": attempt}
    """
)
COUNTING_PARAMETERS = {"Counter": {"type": "String"}, "SucceedOn": {"type": "Integer"}}
COUNTING_PAYLOAD = {"Counter": "{{ Counter }}", "SucceedOn": "{{ SucceedOn }}"}


def test_max_attempts_retries_a_failing_step_until_it_succeeds(aws, tmp_path):
    counter = tmp_path / "count"
    raw = step("Flaky", COUNTING, COUNTING_PAYLOAD, maxAttempts=3)
    given = {"Counter": [str(counter)], "SucceedOn": ["3"]}
    execution = run(document(raw, parameters=COUNTING_PARAMETERS, assume_role=""), given)
    payload = {"Counter": str(counter), "SucceedOn": 3}
    assert execution == expected_execution(
        "Success", [expected_step(raw, outputs=returned({"attempt": 3}), payload=payload)], given
    )
    assert counter.read_text() == "3"


def test_max_attempts_gives_up_after_the_last_attempt(aws, tmp_path):
    counter = tmp_path / "count"
    raw = step("Flaky", COUNTING, COUNTING_PAYLOAD, maxAttempts=2)
    given = {"Counter": [str(counter)], "SucceedOn": ["3"]}
    execution = run(document(raw, parameters=COUNTING_PARAMETERS, assume_role=""), given)
    assert pop_log(execution).endswith("RuntimeError: attempt 2 failed\n")
    payload = {"Counter": str(counter), "SucceedOn": 3}
    message = "RuntimeError: attempt 2 failed"
    assert execution == expected_execution(
        "Failed", [expected_step(raw, "Failed", failure=message, payload=payload)], given, failure=message
    )
    assert counter.read_text() == "2"


def test_on_failure_continue_on_a_step_that_is_not_critical_ends_in_success(aws):
    failing = step("Check", FAIL, onFailure="Continue", isCritical=False)
    after = step("After")
    execution = run(document(failing, after, assume_role=""))
    assert "RuntimeError: no such bucket" in pop_log(execution)
    assert execution == expected_execution(
        "Success",
        [
            expected_step(failing, "Failed", failure="RuntimeError: no such bucket"),
            expected_step(after, outputs=returned({})),
        ],
        {},
    )


def test_on_failure_continue_on_a_critical_step_runs_the_next_step_and_fails(aws):
    failing = step("Check", FAIL, onFailure="Continue", isCritical=True)
    after = step("After")
    execution = run(document(failing, after, assume_role=""))
    pop_log(execution)
    assert execution == expected_execution(
        "Failed",
        [
            expected_step(failing, "Failed", failure="RuntimeError: no such bucket"),
            expected_step(after, outputs=returned({})),
        ],
        {},
        failure="RuntimeError: no such bucket",
    )


def test_on_failure_step_jumps_to_the_named_step(aws):
    main = step("Main", FAIL, onFailure="step:Cleanup")
    skipped = step("Skipped")
    cleanup = step("Cleanup", isEnd=True)
    execution = run(document(main, skipped, cleanup, assume_role=""))
    pop_log(execution)
    assert execution == expected_execution(
        "Failed",
        [
            expected_step(main, "Failed", failure="RuntimeError: no such bucket"),
            expected_step(cleanup, outputs=returned({})),
        ],
        {},
        failure="RuntimeError: no such bucket",
    )


def test_is_end_stops_the_execution_after_its_step(aws):
    first = step("First", isEnd=True)
    execution = run(document(first, step("Second"), assume_role=""))
    assert execution == expected_execution("Success", [expected_step(first, outputs=returned({}))], {})


def test_next_step_skips_to_the_named_step(aws):
    first = step("First", nextStep="Third")
    third = step("Third")
    execution = run(document(first, step("Second"), third, assume_role=""))
    assert execution == expected_execution(
        "Success", [expected_step(first, outputs=returned({})), expected_step(third, outputs=returned({}))], {}
    )


# --- outputs and script failures ---------------------------------------------------------------------------------

READ_OUTPUTS = [
    {"Name": "Name", "Selector": "$.Payload.name", "Type": "String"},
    {"Name": "Count", "Selector": "$.Payload.count", "Type": "Integer"},
    {"Name": "Ok", "Selector": "$.Payload.ok", "Type": "Boolean"},
    {"Name": "Zones", "Selector": "$.Payload.zones", "Type": "StringList"},
    {"Name": "Second", "Selector": "$.Payload.zones[1]", "Type": "String"},
    {"Name": "Tags", "Selector": "$.Payload.tags", "Type": "StringMap"},
    {"Name": "Rules", "Selector": "$.Payload.rules", "Type": "MapList"},
]
READ_VALUE = {
    "name": "logs",
    "count": 3,
    "ok": True,
    "zones": ["use1-az1", "use1-az4"],
    "tags": {"team": "net"},
    "rules": [{"id": 1}],
}


def test_outputs_are_read_through_their_selectors_and_feed_later_steps(aws):
    read = step("Read", script(f"def handler(events, context):\n    return {READ_VALUE!r}\n"), outputs=READ_OUTPUTS)
    use = step("Use", ECHO, {"Count": "{{ Read.Count }}", "Text": "{{ Read.Second }}:{{ Read.Ok }}"})
    doc = document(read, use, assume_role="", outputs=["Read.Count", "Read.Ok", "Read.Tags"])
    execution = run(doc)
    read_outputs = {
        **returned(READ_VALUE),
        "Name": ["logs"],
        "Count": ["3"],
        "Ok": ["true"],
        "Zones": ["use1-az1", "use1-az4"],
        "Second": ["use1-az4"],
        "Tags": ['{"team": "net"}'],
        "Rules": ['[{"id": 1}]'],
    }
    used = {"Count": 3, "Text": "use1-az4:true"}
    assert execution == expected_execution(
        "Success",
        [expected_step(read, outputs=read_outputs), expected_step(use, outputs=returned(used), payload=used)],
        {},
        outputs={"Read.Count": ["3"], "Read.Ok": ["true"], "Read.Tags": ['{"team": "net"}']},
    )
    assert document_outputs(execution) == {"Read.Count": 3, "Read.Ok": True, "Read.Tags": {"team": "net"}}


@pytest.mark.parametrize(
    ("value", "output", "message"),
    [
        (
            {"count": "3"},
            ("Count", "$.Payload.count", "Integer"),
            "$.Payload.count gave str, the document declares Integer",
        ),
        (
            {"count": True},
            ("Count", "$.Payload.count", "Integer"),
            "$.Payload.count gave bool, the document declares Integer",
        ),
        ({"ok": 1}, ("Ok", "$.Payload.ok", "Boolean"), "$.Payload.ok gave int, the document declares Boolean"),
        (
            {"tags": ["a"]},
            ("Tags", "$.Payload.tags", "StringMap"),
            "$.Payload.tags gave list, the document declares StringMap",
        ),
        ({"rules": [1]}, ("Rules", "$.Payload.rules", "MapList"), "$.Payload.rules is not a list of maps (MapList)"),
    ],
    ids=["Integer-str", "Integer-bool", "Boolean-int", "StringMap-list", "MapList-items"],
)
def test_an_output_of_another_type_than_declared_fails_the_step_naming_it(aws, value, output, message):
    name, selector, kind = output
    raw = step(
        "Read",
        script(f"def handler(events, context):\n    return {value!r}\n"),
        outputs=[{"Name": name, "Selector": selector, "Type": kind}],
    )
    execution = run(document(raw, assume_role=""))
    failure = f"Output Read.{name}: {message}"
    assert execution == expected_execution(
        "Failed", [expected_step(raw, "Failed", outputs=returned(value), failure=failure)], {}, failure=failure
    )


def test_a_handler_returning_what_json_cannot_carry_fails_the_step(aws):
    text = script(
        """
        import datetime

        def handler(events, context):
            return {"when": datetime.datetime(2025, 1, 1)}
        """
    )
    raw = step("When", text)
    execution = run(document(raw, assume_role=""))
    failure = "the handler's return value is not JSON: Object of type datetime is not JSON serializable"
    assert execution == expected_execution(
        "Failed", [expected_step(raw, "Failed", failure=failure)], {}, failure=failure
    )


def test_a_script_that_raises_fails_with_the_error_and_its_traceback_in_the_log(aws):
    text = script(
        """
        def handler(events, context):
            print("checking bucket logs")
            raise ValueError("bucket logs is not mine")
        """
    )
    raw = step("Check", text)
    execution = run(document(raw, assume_role=""))
    log = pop_log(execution)
    assert log.startswith("checking bucket logs\nTraceback (most recent call last):\n")
    assert 'File "<aws:executeScript>", line 3, in handler' in log
    assert log.endswith("ValueError: bucket logs is not mine\n")
    failure = "ValueError: bucket logs is not mine"
    assert execution == expected_execution(
        "Failed", [expected_step(raw, "Failed", failure=failure)], {}, failure=failure
    )


@pytest.mark.parametrize(
    ("text", "failure"),
    [
        ("def main(events, context):\n    return {}\n", "Handler 'handler' is not a function of the script"),
        ("import sys\ndef handler(events, context):\n    sys.exit(3)\n", "SystemExit: 3"),
        (
            "def handler(events, context):\n    return {}\n)\n",
            "SyntaxError: unmatched ')' (<aws:executeScript>, line 3)",
        ),
    ],
    ids=["no handler", "exit", "syntax error"],
)
def test_scripts_that_cannot_answer_fail_the_step(aws, text, failure):
    raw = step("Broken", text)
    execution = run(document(raw, assume_role=""))
    execution["StepExecutions"][0]["Outputs"].pop("ExecutionLog", None)
    assert execution == expected_execution(
        "Failed", [expected_step(raw, "Failed", failure=failure)], {}, failure=failure
    )


# --- documents the runner (or CreateDocument) refuses ------------------------------------------------------------

RUNBOOK_REFUSALS = {
    "runCommand": (
        {**step("Run"), "action": "aws:runCommand"},
        "Doc: step Run: action 'aws:runCommand': the local runner runs only aws:executeScript",
    ),
    "PowerShell": (
        {**step("Run"), "inputs": {**step("Run")["inputs"], "Runtime": "PowerShell 7.4"}},
        "Doc: step Run: Runtime 'PowerShell 7.4': the local runner runs python3.x scripts",
    ),
    "attachment": (
        {**step("Run"), "inputs": {"Runtime": "python3.11", "Handler": "script.handler", "Attachment": "a.zip"}},
        "Doc: step Run: the script must be inline (inputs.Script); attachments are not run locally",
    ),
    "timeoutSeconds 601": (
        step("Run", timeoutSeconds=601),
        "Doc: step Run: timeoutSeconds 601: aws:executeScript takes 1 to 600",
    ),
    "timeoutSeconds 0": (
        step("Run", timeoutSeconds=0),
        "Doc: step Run: timeoutSeconds 0: aws:executeScript takes 1 to 600",
    ),
    "maxAttempts 0": (step("Run", maxAttempts=0), "Doc: step Run: maxAttempts 0: at least 1"),
    "onFailure Retry": (
        step("Run", onFailure="Retry"),
        "Doc: step Run: onFailure 'Retry': Abort, Continue or step:<name>",
    ),
    "nextStep missing": (
        step("Run", nextStep="Missing"),
        "Doc: step Run: goes to Missing, which is not a step of the document",
    ),
    "onFailure missing step": (
        step("Run", onFailure="step:Missing"),
        "Doc: step Run: goes to Missing, which is not a step of the document",
    ),
}


@pytest.mark.parametrize(("raw", "message"), RUNBOOK_REFUSALS.values(), ids=RUNBOOK_REFUSALS.keys())
def test_documents_the_runner_cannot_run_are_refused_by_name(raw, message):
    with pytest.raises(AutomationRefused) as refusal:
        read_runbook("Doc", document(raw, assume_role=""))
    assert str(refusal.value) == message


def test_a_document_of_another_schema_or_without_steps_is_refused():
    with pytest.raises(AutomationRefused, match=r"^Doc: schemaVersion: Automation documents are schemaVersion 0\.3$"):
        read_runbook("Doc", {**document(step("Run")), "schemaVersion": "2.2"})
    with pytest.raises(AutomationRefused, match=r"^Doc: mainSteps: a list of at least one step$"):
        read_runbook("Doc", document())


def test_a_failed_step_with_continue_is_not_critical_by_default_so_the_execution_succeeds(aws):
    failing = step("Fail", script("def handler(events, context):\n    raise ValueError('no')\n"), onFailure="Continue")
    after = step("After")
    execution = run(document(failing, after, assume_role=""))
    assert execution["AutomationExecutionStatus"] == "Success"
    assert [s["StepStatus"] for s in execution["StepExecutions"]] == ["Failed", "Success"]
    assert [s["IsCritical"] for s in execution["StepExecutions"]] == [False, True]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"mainSteps": 5}, "Doc: mainSteps: a list of at least one step"),
        ({"mainSteps": ["Run"]}, "Doc: mainSteps: each step is a map with a name, got 'Run'"),
        (
            {"mainSteps": [step("Run"), step("Run")]},
            "Doc: step Run: two steps have this name (CreateDocument refuses it)",
        ),
        ({"mainSteps": [{**step("Run"), "inputs": []}]}, "Doc: step Run: inputs must be a map"),
        ({"mainSteps": [{**step("Run"), "outputs": 5}]}, "Doc: step Run: outputs must be a list"),
        (
            {"mainSteps": [{**step("Run"), "timeoutSeconds": True}]},
            "Doc: step Run: timeoutSeconds True: aws:executeScript takes 1 to 600",
        ),
        (
            {"mainSteps": [{**step("Run"), "isCritical": "false"}]},
            "Doc: step Run: isCritical and isEnd are true or false",
        ),
        (
            {"parameters": {"P": {"type": "String", "maxChars": "2"}}},
            "Doc: parameter P: maxChars must be a whole number, got '2'",
        ),
        (
            {"parameters": {"P": {"type": "StringList", "minItems": "2"}}},
            "Doc: parameter P: minItems must be a whole number, got '2'",
        ),
    ],
)
def test_a_malformed_document_is_refused_by_name_not_with_a_traceback(change, message):
    with pytest.raises(AutomationRefused) as refusal:
        read_runbook("Doc", {**document(step("Run"), assume_role=""), **change})
    assert str(refusal.value) == message


def test_steps_that_loop_are_stopped(aws, monkeypatch):
    monkeypatch.setattr(runner_module, "MAX_STEP_EXECUTIONS", 6)
    first = step("First", nextStep="Second")
    second = step("Second", nextStep="First")
    execution = run(document(first, second, assume_role=""))
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert [s["StepName"] for s in execution["StepExecutions"]] == ["First", "Second"] * 3
    assert execution["FailureMessage"] == "stopped after 6 step executions: nextStep or onFailure loops"


def test_a_reference_to_nothing_is_refused_before_any_step(aws, tmp_path):
    marker = tmp_path / "ran"
    doc = document(step("Mark", marking(marker), {"X": "{{ Missing }}"}), assume_role="")
    with pytest.raises(AutomationRefused) as refusal:
        start(doc)
    assert str(refusal.value) == "Doc: step Mark: {{ Missing }} names nothing it knows"
    assert not marker.exists()


SPEC_REFUSALS = {
    "unknown type": (
        {"type": "Float"},
        "type 'Float' is not one of String, StringList, Integer, Boolean, MapList, StringMap",
    ),
    "default breaks its pattern": (
        {"type": "String", "default": "abc", "allowedPattern": "^[0-9]+$"},
        "the default breaks the document's own rule: Doc: parameter P: 'abc' does not match allowedPattern ^[0-9]+$",
    ),
    "default breaks its type": (
        {"type": "Integer", "default": "thirty"},
        "the default breaks the document's own rule: Doc: parameter P: 'thirty' " + NOT_INTEGER,
    ),
    "lookahead": (
        {"type": "String", "allowedPattern": "^(?=x)x$"},
        "allowedPattern is not an RE2 expression: invalid perl operator: (?=",
    ),
    "repetition over 1000": (
        {"type": "String", "allowedPattern": "^[a-z]{0,1024}$"},
        "allowedPattern is not an RE2 expression: invalid repetition size: {0,1024}",
    ),
}


@pytest.mark.parametrize(("spec", "message"), SPEC_REFUSALS.values(), ids=SPEC_REFUSALS.keys())
def test_parameter_specs_create_document_refuses(spec, message):
    with pytest.raises(AutomationRefused) as refusal:
        parameters.check_specs("Doc", {"P": spec})
    assert str(refusal.value) == f"Doc: parameter P: {message}"
    with pytest.raises(AutomationRefused) as refusal:
        read_runbook("Doc", document(step("Run"), parameters={"P": spec}))
    assert str(refusal.value) == f"Doc: parameter P: {message}"


def test_python_re_takes_the_patterns_re2_refuses():
    """Why the check compiles with RE2: Python's re takes both patterns CreateDocument would refuse."""
    for spec, _ in (SPEC_REFUSALS["lookahead"], SPEC_REFUSALS["repetition over 1000"]):
        assert re.compile(spec["allowedPattern"])


def test_a_parameter_store_default_is_not_checked_until_it_is_read():
    parameters.check_specs("Doc", {"P": {"type": "String", "default": "{{ssm:/x}}", "allowedPattern": "^[0-9]+$"}})
