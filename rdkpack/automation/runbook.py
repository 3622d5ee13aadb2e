"""An Automation document (schemaVersion 0.3) read into the parts the runner uses; what it cannot run is refused.

The runner runs `aws:executeScript` steps in Python, with the step controls Systems Manager documents
(`timeoutSeconds`, `maxAttempts`, `onFailure`, `isCritical`, `isEnd`, `nextStep`) and outputs through a `Selector`.
Any other action, a PowerShell runtime or an attached script is refused before the run starts, by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from rdkpack.automation import parameters
from rdkpack.errors import AutomationRefused
from rdkpack.project import documents

EXECUTE_SCRIPT = "aws:executeScript"
SCRIPT_TIMEOUT_MAX = 600  # aws:executeScript runs at most 600 s
PYTHON_RUNTIME = re.compile(r"python3\.(\d+)")
ON_FAILURE = re.compile(r"Abort|Continue|step:[A-Za-z0-9_.-]+")
OUTPUT_TYPES = ("String", "Integer", "Boolean", "StringList", "StringMap", "MapList")


@dataclass(frozen=True)
class Output:
    name: str
    selector: str
    type: str


@dataclass(frozen=True)
class Step:
    name: str
    runtime: str
    handler: str
    script: str
    payload: dict
    timeout_seconds: int = SCRIPT_TIMEOUT_MAX
    max_attempts: int = 1
    on_failure: str = "Abort"
    is_critical: bool = True
    is_end: bool = False
    next_step: str | None = None
    outputs: tuple[Output, ...] = ()

    @property
    def python(self) -> tuple[int, int]:
        match = PYTHON_RUNTIME.fullmatch(self.runtime)
        return (3, int(match.group(1))) if match else (0, 0)


@dataclass(frozen=True)
class Runbook:
    name: str
    parameters: dict[str, dict]
    assume_role: str = ""
    steps: tuple[Step, ...] = ()
    outputs: tuple[str, ...] = field(default=())

    def step(self, name: str) -> Step:
        return next(step for step in self.steps if step.name == name)


def refuse(document: str, where: str, message: str) -> AutomationRefused:
    return AutomationRefused(f"{document}: {where}: {message}")


def whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def read_step(document: str, raw: dict) -> Step:
    if not isinstance(raw, dict) or not isinstance(raw.get("name"), str) or not raw["name"]:
        raise refuse(document, "mainSteps", f"each step is a map with a name, got {str(raw)[:80]!r}")
    name = raw["name"]
    where = f"step {name}"
    if raw.get("action") != EXECUTE_SCRIPT:
        raise refuse(document, where, f"action {raw.get('action')!r}: the local runner runs only {EXECUTE_SCRIPT}")
    inputs = raw.get("inputs", {})
    if not isinstance(inputs, dict):
        raise refuse(document, where, "inputs must be a map")
    if "Attachment" in inputs or not isinstance(inputs.get("Script"), str):
        raise refuse(document, where, "the script must be inline (inputs.Script); attachments are not run locally")
    runtime = str(inputs.get("Runtime", ""))
    if not PYTHON_RUNTIME.fullmatch(runtime):
        raise refuse(document, where, f"Runtime {runtime!r}: the local runner runs python3.x scripts")
    timeout = raw.get("timeoutSeconds", SCRIPT_TIMEOUT_MAX)
    if not whole_number(timeout) or not 1 <= timeout <= SCRIPT_TIMEOUT_MAX:
        raise refuse(document, where, f"timeoutSeconds {timeout!r}: {EXECUTE_SCRIPT} takes 1 to {SCRIPT_TIMEOUT_MAX}")
    attempts = raw.get("maxAttempts", 1)
    if not whole_number(attempts) or attempts < 1:
        raise refuse(document, where, f"maxAttempts {attempts!r}: at least 1")
    on_failure = str(raw.get("onFailure", "Abort"))
    if not ON_FAILURE.fullmatch(on_failure):
        raise refuse(document, where, f"onFailure {on_failure!r}: Abort, Continue or step:<name>")
    payload = inputs.get("InputPayload", {})
    if not isinstance(payload, dict):
        raise refuse(document, where, "InputPayload must be a map")
    # isCritical defaults to false where onFailure is Continue (Systems Manager's common step properties).
    is_critical, is_end = raw.get("isCritical", on_failure != "Continue"), raw.get("isEnd", False)
    if not isinstance(is_critical, bool) or not isinstance(is_end, bool):
        raise refuse(document, where, "isCritical and isEnd are true or false")
    next_step = raw.get("nextStep")
    if next_step is not None and not isinstance(next_step, str):
        raise refuse(document, where, "nextStep names a step")
    outputs = raw.get("outputs") or []
    if not isinstance(outputs, list):
        raise refuse(document, where, "outputs must be a list")
    return Step(
        name=name,
        runtime=runtime,
        handler=str(inputs.get("Handler", "")),
        script=inputs["Script"],
        payload=payload,
        timeout_seconds=timeout,
        max_attempts=attempts,
        on_failure=on_failure,
        is_critical=is_critical,
        is_end=is_end,
        next_step=next_step,
        outputs=tuple(read_output(document, where, item) for item in outputs),
    )


def read_output(document: str, where: str, raw: dict) -> Output:
    named = isinstance(raw, dict) and isinstance(raw.get("Name"), str) and isinstance(raw.get("Selector"), str)
    if not named or raw.get("Type") not in OUTPUT_TYPES or not raw["Name"] or not raw["Selector"]:
        raise refuse(document, where, f"output {raw!r}: each has Name, Selector and a Type of {OUTPUT_TYPES}")
    return Output(str(raw["Name"]), str(raw["Selector"]), raw["Type"])


def read_runbook(name: str, document: dict) -> Runbook:
    """The runbook, or AutomationRefused naming what Systems Manager or this runner would not take."""
    if not isinstance(document, dict) or str(document.get("schemaVersion")) != "0.3":
        raise refuse(name, "schemaVersion", "Automation documents are schemaVersion 0.3")
    specs = document.get("parameters") or {}
    if not isinstance(specs, dict) or not all(isinstance(spec, dict) for spec in specs.values()):
        raise refuse(name, "parameters", "a map of parameter names to their definitions")
    parameters.check_specs(name, specs)
    raw_steps = document.get("mainSteps") or []
    if not isinstance(raw_steps, list) or not raw_steps:
        raise refuse(name, "mainSteps", "a list of at least one step")
    steps = tuple(read_step(name, raw) for raw in raw_steps)
    names = [step.name for step in steps]
    repeated = sorted({step for step in names if names.count(step) > 1})
    if repeated:
        raise refuse(name, f"step {repeated[0]}", "two steps have this name (CreateDocument refuses it)")
    for step in steps:
        targets = [step.next_step] if step.next_step else []
        if step.on_failure.startswith("step:"):
            targets.append(step.on_failure.removeprefix("step:"))
        missing = [target for target in targets if target not in names]
        if missing:
            raise refuse(name, f"step {step.name}", f"goes to {missing[0]}, which is not a step of the document")
    return Runbook(
        name=name,
        parameters=specs,
        assume_role=str(document.get("assumeRole") or ""),
        steps=steps,
        outputs=tuple(document.get("outputs") or ()),
    )


def load_runbook(root: Path, name: str) -> Runbook:
    """remediations/<name>/<name>.yaml of the project, as committed."""
    folder = root / "remediations" / name
    if not documents.document_path(folder).is_file():
        known = ", ".join(path.name for path in documents.remediation_dirs(root))
        raise AutomationRefused(f"{name}: no such document in {root / 'remediations'} (the project has {known})")
    return read_runbook(name, documents.load_document(folder))
