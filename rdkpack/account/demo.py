"""The whole loop on the embedded account: seed, evaluate, remediate (plan, then apply), evaluate again."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field
from pathlib import Path

from rdkpack.account import demo_account
from rdkpack.account.inventory import collect
from rdkpack.account.scan import Result, counts, evaluate_with_handler, tagged_types
from rdkpack.project.config import Pack, Project
from rdkpack.project.loader import load_module

DEMO_PACK = "rdk-guardrails-sandbox"


@dataclass(frozen=True)
class RemediationRun:
    rule: str
    document: str
    resource_id: str
    plan: str
    status: str
    message: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


# The JSON shape of `demo --json` (before and after remediation): not a scan report, so a marker of its own.
DEMO_FORMAT = "rdkpack-demo-report/1"


@dataclass
class DemoReport:
    pack: str
    scale: int
    resources: int = 0
    before: list[Result] = field(default_factory=list)
    remediations: list[RemediationRun] = field(default_factory=list)
    after: list[Result] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "format": DEMO_FORMAT,
            "pack": self.pack,
            "scale": self.scale,
            "resources": self.resources,
            "seconds": round(self.seconds, 2),
            "summary": {"before": counts(self.before), "after": counts(self.after) if self.after else None},
            "before": [r.as_dict() for r in self.before],
            "remediations": [r.as_dict() for r in self.remediations],
            "after": [r.as_dict() for r in self.after],
        }


@functools.cache
def remediation_script(root: Path, document: str):
    path = root / "remediations" / document / "script.py"
    return load_module(path, f"remediation_{document}", needs=("handler", "RemediationError"))


def evaluate_pack(project: Project, pack: Pack, session) -> list[Result]:
    kinds = sorted({kind for rule in pack.rules for kind in project.rules[rule.name].resource_types})
    items, _ = collect(session, kinds, source="api", tagged_types=frozenset(tagged_types(project, pack.rules)))
    return [
        result
        for rule in pack.rules
        for result in evaluate_with_handler(project.root, rule.name, rule.parameters, items)
    ]


def remediation_events(project: Project, pack_rule, resource_id: str, dry_run: bool) -> dict:
    remediation = pack_rule.remediation
    document = project.documents[remediation.document]
    events = {name: spec["default"] for name, spec in document.parameters.items() if "default" in spec}
    events.update(remediation.parameters)
    events[remediation.resource_id_parameter] = resource_id
    events["DryRun"] = dry_run
    return events


def summary(output: dict) -> str:
    return output.get("Message") or output.get("Status", "")


def remediate(project: Project, pack: Pack, result: Result) -> RemediationRun | None:
    pack_rule = next(rule for rule in pack.rules if rule.name == result.rule)
    if not pack_rule.remediation.attach:
        return None
    document = pack_rule.remediation.document
    script = remediation_script(project.root, document)
    try:
        plan = script.handler(remediation_events(project, pack_rule, result.resource_id, True), None)
        applied = script.handler(remediation_events(project, pack_rule, result.resource_id, False), None)
    except script.RemediationError as error:
        return RemediationRun(result.rule, document, result.resource_id, "refused", "FAILED", str(error))
    return RemediationRun(result.rule, document, result.resource_id, summary(plan), applied["Status"], summary(applied))


def run_demo(project: Project, scale: int = 1, remediation: bool = True) -> DemoReport:
    started = time.perf_counter()
    pack = project.packs[DEMO_PACK]
    report = DemoReport(pack=pack.name, scale=scale)
    with demo_account.embedded_aws() as session:
        report.resources = demo_account.seed(session, scale).total()
        demo_account.put_shared_values(session, project.shared_values)
        report.before = evaluate_pack(project, pack, session)
        if remediation:
            runs = (remediate(project, pack, r) for r in report.before if r.compliance == "NON_COMPLIANT")
            report.remediations = [run for run in runs if run]
            report.after = evaluate_pack(project, pack, session)
    report.seconds = time.perf_counter() - started
    return report
